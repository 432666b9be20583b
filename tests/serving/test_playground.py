"""`/api/playground`: create, step, play, frames, bad input, the session cap, saving."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.serving.helpers import ThreadServer


@pytest.fixture(scope="module")
def pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    with ThreadServer(tmp_path_factory.mktemp("playground") / "ws") as server:
        with httpx.Client(base_url=server.url, timeout=60) as c:
            yield c


@pytest.fixture
def session(pg: httpx.Client) -> Iterator[dict]:
    r = pg.post("/api/playground", json={"data": "xor", "hidden": [4], "samples": 200})
    assert r.status_code == 201, r.text
    body = r.json()
    yield body
    pg.delete(f"/api/playground/{body['id']}")


def test_create_answers_points_and_a_first_frame(session: dict) -> None:
    points = session["points"]
    assert points["task"] == "classification" and points["classes"] == ["negative", "positive"]
    assert len(points["train"]) == 100 and len(points["test"]) == 100
    assert all(len(p) == 3 for p in points["train"])
    frame = session["frame"]
    assert frame["epoch"] == 0 and frame["running"] is False


def test_frame_shape(pg: httpx.Client, session: dict) -> None:
    frame = pg.get(f"/api/playground/{session['id']}/frame").json()
    assert len(base64.b64decode(frame["boundary"])) == frame["grid"] ** 2 == 2500
    # the inputs (x, y), then the hidden layer of 4: one small map each
    assert [len(layer) for layer in frame["neurons"]] == [2, 4]
    assert all(len(base64.b64decode(m)) == frame["neuron_grid"] ** 2 for m in frame["neurons"][1])
    assert [len(w) for w in frame["weights"]] == [4, 1]  # (out, in) per layer
    assert len(frame["weights"][0][0]) == 2
    assert frame["history"]["train"] and frame["history"]["test"]


def test_step_trains_an_epoch_and_the_boundary_changes(pg: httpx.Client, session: dict) -> None:
    sid = session["id"]
    before = pg.get(f"/api/playground/{sid}/frame").json()
    after = pg.post(f"/api/playground/{sid}/step", params={"epochs": 5}).json()
    assert after["epoch"] == 5 and after["steps"] == 5 * 10  # 100 points in batches of 10
    assert after["boundary"] != before["boundary"]
    assert len(after["history"]["train"]) == 6
    reset = pg.post(f"/api/playground/{sid}/reset").json()
    assert reset["epoch"] == 0 and reset["boundary"] == before["boundary"]


def test_play_trains_in_the_background_until_paused(pg: httpx.Client, session: dict) -> None:
    sid = session["id"]
    assert pg.post(f"/api/playground/{sid}/play").json()["running"] is True
    deadline = time.monotonic() + 30
    while pg.get(f"/api/playground/{sid}/frame").json()["epoch"] < 3:
        assert time.monotonic() < deadline, "no epoch trained in 30 s"
        time.sleep(0.05)
    paused = pg.post(f"/api/playground/{sid}/pause").json()
    assert paused["running"] is False
    time.sleep(0.3)
    assert pg.get(f"/api/playground/{sid}/frame").json()["epoch"] == paused["epoch"]


def test_lessons_perceptron_fails_xor_hidden_layer_solves_it(pg: httpx.Client) -> None:
    lessons = pg.get("/api/playground/lessons").json()
    assert {
        "perceptron",
        "hidden",
        "spiral",
        "learning-rate",
        "overfitting",
        "regularization",
    } <= set(lessons)
    accuracy = {}
    for lesson in ("perceptron", "hidden"):
        body = pg.post("/api/playground", json=lessons[lesson]).json()
        frame = pg.post(f"/api/playground/{body['id']}/step", params={"epochs": 60}).json()
        accuracy[lesson] = frame["test_accuracy"]
        pg.delete(f"/api/playground/{body['id']}")
    assert accuracy["perceptron"] < 0.7
    assert accuracy["hidden"] > 0.9


def test_regression_data(pg: httpx.Client) -> None:
    body = pg.post("/api/playground", json={"data": "gauss", "hidden": [6, 6]}).json()
    assert body["points"]["task"] == "regression" and body["frame"]["test_accuracy"] is None
    pg.delete(f"/api/playground/{body['id']}")


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"hidden": [4] * 7}, "hidden"),
        ({"hidden": [9]}, "hidden"),
        ({"regularization_rate": False}, "regularization_rate"),
        ({"seed": True}, "seed"),
        ({"hidden": [0]}, "hidden"),
        ({"learning_rate": 0}, "learning_rate"),
        ({"learning_rate": -1}, "learning_rate"),
        ({"activation": "swish"}, "activation"),
        ({"features": ["x", "z"]}, "features"),
        ({"data": "mnist"}, "data"),
        ({"data": "table:nothing"}, "nothing"),
        ({"data": "csv"}, "csv"),
        ({"shape": "round"}, "shape"),
    ],
)
def test_bad_settings_are_422_naming_the_field(
    pg: httpx.Client, settings: dict, named: str
) -> None:
    r = pg.post("/api/playground", json=settings)
    assert r.status_code in (404, 422), r.text
    assert r.status_code == (404 if named == "nothing" else 422)
    assert named in r.text
    assert "Traceback" not in r.text


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("a,b\n1,2\n", "three"),
        ("a,b,c,d\n" + "1,2,3,4\n" * 12, "4 columns"),
        ("a,b,c\n" + "1,x,0\n" * 12, "column 'b' is not numeric: line 2"),
        ("a,b,c\n" + "1,2,0\n" * 5, "at least 10"),
        ("a,b,c\n" + "1,2,k\n" * 12, "one value only"),
    ],
)
def test_bad_csv_says_what_is_wrong(pg: httpx.Client, text: str, says: str) -> None:
    r = pg.post("/api/playground", json={"data": "csv", "csv": text})
    assert r.status_code == 422, r.text
    assert says in r.json()["message"]


def test_csv_upload_classification_and_regression(pg: httpx.Client) -> None:
    rows = "".join(f"{i % 7},{i % 5},{'yes' if i % 2 else 'no'}\n" for i in range(40))
    body = pg.post("/api/playground", json={"data": "csv", "csv": "u,v,label\n" + rows}).json()
    assert body["points"]["classes"] == ["no", "yes"]
    assert body["points"]["feature_names"] == ["u", "v"]
    pg.delete(f"/api/playground/{body['id']}")
    rows = "".join(f"{i % 7},{i % 5},{i * 0.37}\n" for i in range(40))
    body = pg.post("/api/playground", json={"data": "csv", "csv": "u,v,t\n" + rows}).json()
    assert body["points"]["task"] == "regression"
    pg.delete(f"/api/playground/{body['id']}")


def test_stored_table_with_two_features(pg: httpx.Client, tmp_path: Path) -> None:
    csv = tmp_path / "two.csv"
    csv.write_text("a,b,label\n" + "".join(f"{i % 9},{i % 4},{i % 2}\n" for i in range(60)))
    with csv.open("rb") as f:
        r = pg.post(
            "/api/datasets/import",
            data={"name": "two", "options": '{"target": "label"}'},
            files={"file": ("two.csv", f, "text/csv")},
        )
    if r.status_code != 201:
        pytest.fail(r.text)
    body = pg.post("/api/playground", json={"data": "table:two"})
    assert body.status_code == 201, body.text
    assert body.json()["points"]["feature_names"] == ["a", "b"]
    pg.delete(f"/api/playground/{body.json()['id']}")


def test_at_most_four_sessions(pg: httpx.Client) -> None:
    ids = []
    try:
        for _ in range(4):
            r = pg.post("/api/playground", json={"data": "circles", "samples": 40})
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
        r = pg.post("/api/playground", json={"data": "circles", "samples": 40})
        assert r.status_code == 409
        assert "4 playgrounds are open" in r.json()["message"]
    finally:
        for sid in ids:
            pg.delete(f"/api/playground/{sid}")
    assert pg.get(f"/api/playground/{ids[0]}/frame").status_code == 404
    r = pg.post("/api/playground", json={"data": "circles", "samples": 40})
    assert r.status_code == 201
    pg.delete(f"/api/playground/{r.json()['id']}")


def test_save_as_workspace_model(pg: httpx.Client, session: dict) -> None:
    r = pg.post(f"/api/playground/{session['id']}/save", json={"name": "pg-net"})
    assert r.status_code == 201, r.text
    assert r.json()["links"] == {
        "designer": "#/designer?model=pg-net",
        "train": "#/train?dataset=xor&model=pg-net",
    }
    models = {m["name"]: m for m in pg.get("/api/models").json()}
    layers = models["pg-net"]["spec"]["layers"]
    assert layers[1] == {"type": "Dense", "units": 4, "activation": "tanh"}
    assert (
        pg.post(f"/api/playground/{session['id']}/save", json={"name": "../x"}).status_code == 422
    )
