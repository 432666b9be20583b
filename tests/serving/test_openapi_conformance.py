"""`/openapi.json` says what the server does: schemathesis with all its checks finds nothing.

The run is bounded (a few examples per operation, a fixed seed) and has a server of its own
on a throwaway workspace with a small image dataset and a finished run, since its requests
create, change and delete what they find. Trainings it starts are tiny (what it finds to
train is that dataset) and none is left running.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from tests.serving.helpers import SIZE, ThreadServer, wait_for

from lernwerk.api import Workspace
from lernwerk.serving import Settings, create_app
from lernwerk.serving.errors import allowed_methods

pytest.importorskip("schemathesis", reason="schemathesis is in the dev extra")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = 4  # per operation and phase; with the coverage phase this reaches every operation
SEED = 7


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    root = tmp_path_factory.mktemp("openapi") / "ws"
    ws = Workspace(root)
    ws.create_empty_dataset("shapes", classes=["left", "right"], image_size=SIZE)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (8, 1, SIZE, SIZE)).astype("float32")  # (N, C, H, W)
    ws.add_samples("shapes", x, ["left", "right"] * 4)
    assert ws.fit("shapes", "perceptron", epochs=1, batch_size=4).status == "finished"
    with ThreadServer(root) as running:
        yield running


def test_schemathesis_finds_nothing(own_server: ThreadServer, tmp_path: Path) -> None:
    cmd = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(ROOT / "schemathesis.toml"),
        "run",
        f"{own_server.url}/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        "1",
        "--no-color",
    ]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src")])}
    started = time.monotonic()
    done = subprocess.run(
        cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    took = time.monotonic() - started
    report = done.stdout[-12000:] + done.stderr[-3000:]
    assert done.returncode == 0, f"schemathesis found something ({took:.0f} s):\n{report}"
    counts = re.search(r"(\d+) generated, (\d+) passed", done.stdout)
    assert counts and int(counts[1]) == int(counts[2]) >= 100, report  # it did run
    jobs = own_server.app.state.jobs
    wait_for(lambda: all(job.ended for job in jobs.jobs()), timeout=60)


def test_a_405_names_the_allowed_methods(client: httpx.Client) -> None:
    for method, path, allowed in [
        ("PUT", "/api/health", "GET"),
        ("TRACE", "/api/health", "GET"),
        ("PATCH", "/api/datasets", "GET, POST"),
        ("PUT", "/api/datasets/somewhere", "DELETE, GET"),
        ("POST", "/api/runs/abc/weights", "GET"),
        ("GET", "/api/datasets/x/samples/3", "DELETE"),
    ]:
        r = client.request(method, path)
        assert r.status_code == 405, (method, path, r.text)
        assert r.headers.get("allow") == allowed, (method, path, r.headers)
        body = r.json()
        assert body["error"] == "RequestError" and method in body["message"], body
    r = client.get("/api/no-such-thing")
    assert r.status_code == 404 and "allow" not in r.headers


def test_every_route_declares_its_answers(tmp_path: Path) -> None:
    app = create_app(Settings(workspace=tmp_path / "ws"))
    doc = app.openapi()
    schemas = doc["components"]["schemas"]
    assert "ErrorBody" in schemas
    operations = [
        (path, method, op) for path, ops in doc["paths"].items() for method, op in ops.items()
    ]
    assert len(operations) >= 25, "fewer operations than the API has: were routes lost?"
    for path, method, op in operations:
        where = f"{method.upper()} {path}"
        responses = op["responses"]
        ok = [code for code in responses if code.startswith("2")]
        assert len(ok) == 1, where
        if ok[0] != "204":
            content = responses[ok[0]].get("content", {})
            assert content, f"{where}: no response content declared"
            for media, spec in content.items():
                if media == "application/json":
                    schema = spec.get("schema", {})
                    assert schema.get("$ref") or schema.get("type") == "array", (
                        f"{where}: the answer has no model ({schema})"
                    )
                    if schema.get("type") == "array":
                        assert "$ref" in schema["items"], where
        assert "401" in responses, f"{where}: a token-guarded server answers 401"
        for code, spec in responses.items():
            if code.startswith(("4", "5")):
                ref = spec["content"]["application/json"]["schema"].get("$ref", "")
                assert ref.endswith("/ErrorBody"), (where, code)
        if "{" in path or op.get("requestBody") or op.get("parameters"):
            assert "422" in responses, f"{where}: a bad value is answered 422"
        if "{" in path:
            assert "404" in responses, f"{where}: what the path names may not exist"
        if method in ("post", "patch") and op.get("requestBody"):
            assert "413" in responses, f"{where}: a body over the limit is answered 413"
    # the Allow header and the document agree
    assert allowed_methods(app, "/api/datasets/a/classes/b") == ["DELETE", "PATCH"]


def test_what_schemathesis_found_in_the_server(client: httpx.Client) -> None:
    # a forecasting dataset's preview (its targets are horizons, not single values): was a 500
    r = client.get("/api/datasets/seasonal/preview.png", params={"per_class": 2})
    assert r.status_code == 200 and r.content.startswith(b"\x89PNG"), r.text
    # a seed beyond what the generator takes: was a 500
    r = client.get("/api/datasets/digits/preview.png", params={"seed": 2**70})
    assert r.status_code == 422 and r.json()["where"] == "seed", r.text
    # a request with no body where one is required: named as such
    r = client.post("/api/models/summary")
    assert r.status_code == 422 and r.json()["error"] == "RequestError", r.text


def test_an_event_id_beyond_sqlite_is_refused_before_the_stream(own_server: ThreadServer) -> None:
    with httpx.Client(base_url=own_server.url, timeout=30) as c:
        run_id = next(r["id"] for r in c.get("/api/runs").json() if r["id"])
        r = c.get(f"/api/runs/{run_id}/events", params={"after": 2**70})
        assert r.status_code == 422 and r.json()["where"] == "after", r.text  # was a broken stream
        headers = {"Last-Event-ID": str(2**70)}
        with c.stream("GET", f"/api/runs/{run_id}/events", headers=headers) as stream:
            assert stream.status_code == 200
            assert "".join(stream.iter_text())  # a whole stream: the run is finished, it ends
