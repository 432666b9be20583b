"""ONNX export over HTTP: the parity report, the files to download, and the refusals."""

from __future__ import annotations

import json

import httpx
import numpy as np
import onnxruntime as ort
import pytest
from tests.serving.helpers import ThreadServer

import lernwerk


@pytest.fixture(scope="module")
def xor_run(server: ThreadServer) -> lernwerk.Run:
    ws = lernwerk.Workspace(server.app.state.settings.workspace)
    return ws.fit("xor:samples=80", "mlp", epochs=1, seed=0, name="onnx-http")


def test_export_gives_the_parity_report_and_the_files(
    client: httpx.Client, xor_run: lernwerk.Run
) -> None:
    assert client.get(f"/api/runs/{xor_run.id}/export/model.onnx").status_code == 404
    r = client.post(f"/api/runs/{xor_run.id}/export")
    assert r.status_code == 200, r.text
    answer = r.json()
    parity = answer["parity"]
    assert parity["passed"] and parity["agreement"] == 1.0 and parity["samples"] == 16
    assert parity["max_abs_diff"] <= parity["tolerance"] == 1e-4
    urls = {f["name"]: f["url"] for f in answer["files"]}
    assert urls == {
        "model.onnx": f"/api/runs/{xor_run.id}/export/model.onnx",
        "model.json": f"/api/runs/{xor_run.id}/export/model.json",
    }
    meta = client.get(urls["model.json"])
    assert meta.status_code == 200 and json.loads(meta.content)["run_id"] == xor_run.id
    onnx_file = client.get(urls["model.onnx"])
    assert onnx_file.status_code == 200
    assert "attachment" in onnx_file.headers["content-disposition"]
    session = ort.InferenceSession(onnx_file.content, providers=["CPUExecutionProvider"])
    x = np.array([[3.0, 3.0], [-3.0, 3.0]], dtype=np.float32)
    np.testing.assert_allclose(session.run(None, {"input": x})[0], xor_run.predict(x), atol=1e-5)
    # a second call returns the kept export, untouched
    mtime = (xor_run.dir / "onnx-export" / "model.onnx").stat().st_mtime_ns
    again = client.post(f"/api/runs/{xor_run.id}/export").json()
    assert again["parity"] == parity
    assert (xor_run.dir / "onnx-export" / "model.onnx").stat().st_mtime_ns == mtime


def test_export_refusals(client: httpx.Client, server: ThreadServer, xor_run: lernwerk.Run) -> None:
    r = client.post("/api/runs/nosuchrun/export")
    assert r.status_code == 404 and r.json()["error"] == "NotFound"
    r = client.get(f"/api/runs/{xor_run.id}/export/model.safetensors")
    assert r.status_code == 404 and "no exported model.safetensors" in r.json()["message"]
    ws = lernwerk.Workspace(server.app.state.settings.workspace)
    no_test = ws.fit("xor:samples=60", "perceptron", epochs=1, seed=0, test_split=0.0)
    r = client.post(f"/api/runs/{no_test.id}/export")
    assert r.status_code == 422 and "no test split" in r.json()["message"]
    assert not (no_test.dir / "onnx-export").exists()
    assert sorted(p.name for p in no_test.dir.iterdir() if p.name.startswith(".")) == []


def test_the_code_behind_a_run_and_a_design(
    client: httpx.Client, server: ThreadServer, xor_run: lernwerk.Run
) -> None:
    r = client.get(f"/api/runs/{xor_run.id}/code")
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["filename"] == "model.py"
    assert "class Net(nn.Module):" in answer["code"] and "def load_weights(" in answer["code"]
    assert answer["code"] == xor_run.pytorch_code()
    design = {"spec": {"name": "mine", "layers": [{"type": "Dense", "units": 7}]}, "dataset": None}
    r = client.post("/api/models/code", json={**design, "input_shape": [3]})
    assert r.status_code == 200, r.text
    assert "nn.Linear(3, 7)" in r.json()["code"]
    # refusals: a layer that does not fit, an unknown run, a run whose task it does not write
    bad = {"spec": {"name": "m", "layers": [{"type": "Conv2D", "filters": 4}]}, "input_shape": [3]}
    r = client.post("/api/models/code", json=bad)
    assert r.status_code == 422 and r.json()["error"] == "SpecError"
    assert client.get("/api/runs/nosuchrun/code").status_code == 404
    ws = lernwerk.Workspace(server.app.state.settings.workspace)
    anomaly = ws.fit(
        "process:per_class=12,length=208", "autoencoder1d", task="anomaly", epochs=1, seed=0
    )
    r = client.get(f"/api/runs/{anomaly.id}/code")
    assert r.status_code == 422 and "this run is anomaly" in r.json()["message"]
