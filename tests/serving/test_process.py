"""`lernwerk serve` as a process: behind a generated token on another host; killed during
a training and started again on the same workspace."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from tests.serving.helpers import ProcessServer, ThreadServer, make_image_dataset, pattern, wait_for


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ProcessServer, str]]:
    """`lernwerk serve --host 0.0.0.0` without a token, and the token it printed."""
    server = ProcessServer(tmp_path_factory.mktemp("remote") / "ws", "--host", "0.0.0.0")
    try:
        server.wait_ready()
        printed = "\n".join(server.lines)
        match = re.search(r"access token \(generated\): (\S+)", printed)
        assert match, printed
        assert f"?token={match.group(1)}" in printed  # the address to open, token included
        yield server, match.group(1)
    finally:
        server.stop()


def test_another_host_needs_the_printed_token(remote: tuple[ProcessServer, str]) -> None:
    server, token = remote
    for path in ("/api/health", "/", "/docs", "/openapi.json", "/api/datasets"):
        r = httpx.get(server.url + path)
        assert r.status_code == 401, path
        assert r.json()["error"] == "Unauthorized"
    wrong = httpx.get(server.url + "/api/health", headers={"Authorization": "Bearer wrong"})
    assert wrong.status_code == 401
    ok = httpx.get(server.url + "/api/health", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200 and ok.json()["status"] == "ok"
    with httpx.Client(base_url=server.url) as browser:  # the page, opened with ?token=…
        page = browser.get("/", params={"token": token})
        assert page.status_code == 200 and "<html" in page.text.lower()
        assert browser.get("/api/datasets").status_code == 200  # a cookie carries it on
        assert browser.get("/docs").status_code == 200


def pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    stat = Path(f"/proc/{pid}/stat")  # a zombie is gone too (its parent was killed)
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"


def test_killed_during_training_then_started_again(remote: tuple[ProcessServer, str]) -> None:
    server, token = remote
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.url, headers=auth, timeout=60) as c:
        make_image_dataset(c, "kept", per_class=3)
        body = {"dataset": "xor", "model": "mlp", "train": {"epochs": 5000}}
        job = c.post("/api/runs", json=body).json()
        run_id = job["run_id"] or wait_for(
            lambda: c.get(f"/api/jobs/{job['job_id']}").json()["run_id"], 60
        )
        record = wait_for(lambda: (r := c.get(f"/api/runs/{run_id}").json())["epoch"] >= 1 and r)
        assert record["status"] == "running"
        rng = np.random.default_rng(0)
        for _ in range(5):  # samples added while it trains
            r = c.post(
                "/api/datasets/kept/samples", json={"label": "left", "pixels": pattern(0, rng)}
            )
            assert r.status_code == 201
        workspace = Path(c.get("/api/health").json()["workspace"])
    server.kill()  # SIGKILL: no chance to clean up
    wait_for(lambda: pid_gone(record["pid"]), timeout=15)  # its worker follows it

    with ThreadServer(workspace) as again, httpx.Client(base_url=again.url, timeout=60) as c:
        run = c.get(f"/api/runs/{run_id}").json()
        assert run["status"] == "interrupted" and run["epoch"] >= 1
        assert c.get("/api/datasets/kept").json()["num_samples"] == 6 + 5
        stream = c.get(f"/api/runs/{run_id}/events").text
        kinds = [line for line in stream.splitlines() if line.startswith("event:")]
        assert kinds[-1] == "event: run_interrupted"


def test_killed_during_an_import_leaves_its_upload_only_in_the_workspace_until_it_opens(
    tmp_path: Path,
) -> None:
    import io
    import threading
    import zipfile

    from tests.serving.helpers import png_bytes

    rng = np.random.default_rng(0)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as z:
        for i in range(3000):  # seconds to decode: time to kill the server meanwhile
            z.writestr(f"{('a', 'b')[i % 2]}/{i}.png", png_bytes(rng.random((40, 40)), "L"))
    workspace = tmp_path / "ws"
    server = ProcessServer(workspace)
    try:
        server.wait_ready()

        def upload() -> None:
            try:
                httpx.post(
                    server.url + "/api/datasets/import",
                    data={"name": "big", "options": '{"image_size": 96, "channels": 3}'},
                    files={"file": ("big.zip", archive.getvalue(), "application/zip")},
                    timeout=120,
                )
            except httpx.HTTPError:
                pass  # the server is killed under it

        threading.Thread(target=upload, daemon=True).start()
        staged = wait_for(lambda: list((workspace / "tmp").glob("upload-*/big.zip")), 60)
        wait_for(lambda: staged[0].stat().st_size == len(archive.getvalue()), 30)
        server.kill()  # SIGKILL while it decodes: no chance to clean up
    finally:
        server.stop()
    assert list((workspace / "tmp").glob("upload-*"))  # left there, not in /tmp
    assert not (workspace / "datasets" / "big").exists()
    with ThreadServer(workspace) as again, httpx.Client(base_url=again.url, timeout=60) as c:
        assert c.get("/api/datasets/big").status_code == 404
        assert not list((workspace / "tmp").glob("upload-*"))  # cleaned when it opened
