"""Workshop mode over HTTP: joining, each participant in a workspace of their own, the
trainer's room and push, the refusals; the fair queue of the job manager."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.serving.helpers import ThreadServer, wait_for

from lernwerk.serving.jobs import JobManager, JobRequest

TRAINER = "trainer-secret"


@pytest.fixture(scope="module")
def workshop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    root = tmp_path_factory.mktemp("workshop") / "ws"
    with ThreadServer(root, token=TRAINER, workshop=True, max_concurrent_trainings=2) as s:
        yield s


def _as(server: ThreadServer, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=server.url, headers=headers, timeout=60)


def _join(server: ThreadServer, name: str) -> httpx.Client:
    with _as(server, None) as guest:
        r = guest.post("/api/workshop/join", json={"name": name})
    assert r.status_code == 201, r.text
    assert r.json()["url"] == f"/?token={r.json()['token']}"
    return _as(server, r.json()["token"])


def _train(client: httpx.Client, dataset: str) -> str:
    body = {"dataset": dataset, "model": "mlp", "train": {"epochs": 1, "seed": 0}}
    job = client.post("/api/runs", json=body)
    assert job.status_code == 202, job.text
    job_id = job.json()["job_id"]
    run = wait_for(lambda: client.get(f"/api/jobs/{job_id}").json()["run_id"], 120)
    wait_for(lambda: client.get(f"/api/runs/{run}").json()["status"] == "finished", 180)
    return run


def test_participants_see_only_their_own_and_the_trainer_sees_all(workshop: ThreadServer) -> None:
    ada, bert = _join(workshop, "Ada"), _join(workshop, "Bert Müller")
    with ada, bert, _as(workshop, TRAINER) as trainer:
        assert ada.get("/api/workshop/me").json() == {
            "workshop": True,
            "participant": "Ada",
            "trainer": False,
        }
        assert trainer.get("/api/workshop/me").json()["trainer"] is True
        r = ada.post("/api/datasets", json={"name": "ada-xor", "source": "xor"})
        assert r.status_code == 201, r.text
        run = _train(ada, "ada-xor")
        # the built-ins are in everyone's workbench; Ada's data and runs only in hers
        names = {d["name"] for d in bert.get("/api/datasets").json()}
        assert "smileys" in names and "ada-xor" not in names
        assert bert.get("/api/datasets/ada-xor").status_code == 404
        assert bert.get(f"/api/runs/{run}").status_code == 404
        assert [r["id"] for r in bert.get("/api/runs").json()] == []
        assert bert.post(f"/api/runs/{run}/stop").status_code == 404
        root = Path(workshop.app.state.settings.workspace)
        assert (root / "participants" / "Ada").is_dir()
        assert not (root / "participants" / "Bert Müller" / "runs" / run).exists()
        # the trainer's room: both, with Ada's dataset and run
        room = trainer.get("/api/workshop/room").json()
        people = {p["name"]: p for p in room["participants"]}
        assert set(people) == {"Ada", "Bert Müller"}
        assert people["Ada"]["datasets"] == ["ada-xor"] and len(people["Ada"]["runs"]) == 1
        assert people["Bert Müller"]["runs"] == []
        # a participant may not see the room nor push
        assert ada.get("/api/workshop/room").status_code == 403
        assert ada.post("/api/workshop/push", json={"model": "x"}).status_code == 403


def test_the_trainer_pushes_a_dataset_and_a_network_to_everyone(workshop: ThreadServer) -> None:
    cara = _join(workshop, "Cara")
    with cara, _as(workshop, TRAINER) as trainer:
        assert trainer.post("/api/datasets", json={"name": "class-moons", "source": "moons"})
        spec = {
            "name": "tiny",
            "layers": [{"type": "Dense", "units": 4}, {"type": "Dense", "units": "auto"}],
        }
        assert trainer.post("/api/models", json={"name": "tiny", "spec": spec}).status_code == 201
        r = trainer.post("/api/workshop/push", json={"dataset": "class-moons", "model": "tiny"})
        assert r.status_code == 200, r.text
        assert "Cara" in r.json()["pushed"]
        assert cara.get("/api/datasets/class-moons").status_code == 200
        assert "tiny" in {m["name"] for m in cara.get("/api/models").json()}
        again = trainer.post("/api/workshop/push", json={"dataset": "class-moons"}).json()
        assert {"name": "Cara", "dataset": "class-moons"} in again["skipped"]
        r = trainer.post("/api/workshop/push", json={})
        assert r.status_code == 422


def test_join_refusals_and_nothing_half_written(workshop: ThreadServer) -> None:
    root = Path(workshop.app.state.settings.workspace)
    before = json.loads((root / "workshop.json").read_text())["participants"]
    with _as(workshop, None) as guest:
        for name, status, says in [
            ("a/b", 422, "cannot hold '/'"),
            ("", 422, "enter a name"),
            ("x" * 40, 422, "1 to 32"),
            ("ada", 409, "taken"),  # Ada joined before: names compare without case
        ]:
            r = guest.post("/api/workshop/join", json={"name": name})
            assert r.status_code == status and says in r.json()["message"], r.text
        assert guest.get("/api/datasets").status_code == 401  # no token: nothing else
        page = guest.get("/", headers={"accept": "text/html"})
        assert page.status_code == 303 and page.headers["location"] == "/join.html"
        assert guest.get("/join.html").status_code == 200
    after = json.loads((root / "workshop.json").read_text())["participants"]
    assert after == before
    assert not (root / "participants" / "a").exists()


def test_the_queue_is_fair_between_participants(tmp_path: Path) -> None:
    manager = JobManager(tmp_path, max_concurrent=1, prestart=False)  # not started: no workers

    def job(owner: str) -> JobRequest:
        return JobRequest("xor", {}, {}, owner=owner)

    a1, a2, a3 = (manager.submit(job("ada")) for _ in range(3))
    b1 = manager.submit(job("bert"))
    c1 = manager.submit(job("cara"))
    # nobody runs yet: the oldest of each owner first, then the rest in turn
    order = [a1, b1, c1, a2, a3]
    assert [manager.queue_position(j) for j in order] == [1, 2, 3, 4, 5]
