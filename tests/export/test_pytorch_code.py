"""The code behind a design: the generated PyTorch file is honest.

Every preset, written out as a plain `nn.Module` and given lernwerk's weights, computes
what lernwerk's network computes; the whole file, run on its own with only PyTorch,
scores the run's weights as lernwerk did and trains a new network to the run's accuracy.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest
import torch
from tests.models.test_presets import AUTOENCODER_INPUTS, MAP_INPUTS, PRESET_INPUTS

import lernwerk
from lernwerk.errors import SpecError
from lernwerk.export.pytorch_code import network_source, pytorch_file
from lernwerk.models import build_network, load_preset

PYTHON_OWN = {"__future__", "json", "math", "struct", "sys", "pathlib"}


def _load(source: str) -> types.ModuleType:
    module = types.ModuleType("generated")
    exec(compile(source, "generated.py", "exec"), module.__dict__)
    return module


def _randomise_statistics(network: torch.nn.Module) -> None:
    """Running means and variances away from 0 and 1, so that a normalisation written
    with the wrong settings (eps, momentum, affine) shows."""
    for m in network.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)


@pytest.mark.parametrize("name", sorted({**PRESET_INPUTS, **AUTOENCODER_INPUTS}))
def test_the_written_network_computes_what_lernwerk_computes(name: str) -> None:
    shape = {**PRESET_INPUTS, **AUTOENCODER_INPUTS}[name]
    outputs = 5 if name in PRESET_INPUTS else shape[0]
    torch.manual_seed(0)
    network = build_network(load_preset(name), shape, outputs)
    _randomise_statistics(network)
    generated = _load(network_source(network)).Net()
    generated.load_state_dict(network.state_dict())  # strict: every name matches
    network.eval(), generated.eval()
    x = torch.randn(3, *shape)
    with torch.no_grad():
        expected, got = network(x), generated(x)
    assert got.shape == expected.shape
    assert (got - expected).abs().max().item() <= 1e-5


def test_the_written_network_reads_as_a_learner_would_write_it() -> None:
    source = network_source(build_network(load_preset("smiley-cnn"), (1, 28, 28), 3))
    assert "nn.Conv2d(1, 32, 3)" in source and "nn.MaxPool2d(2)" in source
    assert "nn.Linear(64, 3)" in source  # the head: 3 classes
    assert "# 1: Conv2D -> 32×26×26" in source
    assert "x = self.layers[0](x)  # Conv2D: (N, 32, 26, 26)" in source
    assert "lernwerk" not in source.split('"""')[0]  # no import of lernwerk


def test_a_module_the_writer_does_not_know_is_named() -> None:
    network = build_network(load_preset("patchcore"), MAP_INPUTS["patchcore"], 3)
    with pytest.raises(SpecError, match="does not know the module"):
        network_source(network)


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory: pytest.TempPathFactory) -> lernwerk.Run:
    ws = lernwerk.Workspace(tmp_path_factory.mktemp("code") / "ws")
    return ws.fit("digits", "mlp", epochs=8, seed=3, schedule="cosine", name="code-export")


def _imports(source: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add((node.module or "").split(".")[0])
    return names


def _scores(stdout: str) -> dict[str, float]:
    return {s: float(v) for s, v in re.findall(r"^(val|test) accuracy (\S+)$", stdout, re.M)}


def test_the_file_scores_the_runs_weights_and_trains_to_its_accuracy(
    digits_run: lernwerk.Run, tmp_path: Path
) -> None:
    report = digits_run.export(tmp_path / "code", "pytorch")
    names = sorted(Path(f).name for f in report["files"])
    assert names == ["data.safetensors", "model.py", "model.safetensors"]
    source = (tmp_path / "code" / "model.py").read_text()
    assert _imports(source) <= PYTHON_OWN | {"torch"}
    assert "torch.optim.Adam(params, lr=LR" in source and "math.cos" in source  # the run's
    # -I: no PYTHONPATH, no user site; the file must find all it needs beside itself
    run = [sys.executable, "-I", "model.py"]
    scored = subprocess.run(run, cwd=tmp_path / "code", capture_output=True, text=True, timeout=300)
    assert scored.returncode == 0, scored.stderr
    got = _scores(scored.stdout)
    for split in ("val", "test"):
        assert got[split] == pytest.approx(digits_run.metrics[split]["accuracy"], abs=1e-4)
    trained = subprocess.run(
        [*run, "train"], cwd=tmp_path / "code", capture_output=True, text=True, timeout=600
    )
    assert trained.returncode == 0, trained.stderr
    assert "epoch 8/8" in trained.stdout
    # a new network, the same settings: the run's accuracy within noise (359 test digits)
    assert _scores(trained.stdout)["test"] == pytest.approx(
        digits_run.metrics["test"]["accuracy"], abs=0.05
    )


def test_an_anomaly_run_is_refused_by_name(tmp_path: Path) -> None:
    ws = lernwerk.Workspace(tmp_path / "ws")
    run = ws.fit(
        "solder:per_class=6", "autoencoder2d", task="anomaly", normal_class="good", epochs=1
    )
    with pytest.raises(SpecError, match="classification and regression runs; this run is anomaly"):
        run.export(tmp_path / "out", "pytorch")
    assert not (tmp_path / "out").exists()


def test_pytorch_file_refuses_an_optimizer_it_cannot_write() -> None:
    from lernwerk.training.tasks import ClassificationTask

    network = build_network(load_preset("mlp"), (2,), 2)
    task = ClassificationTask.create("cross_entropy", classes=["a", "b"], y_train=None)
    prep = {"kind": "table", "mean": [0.0, 0.0], "std": [1.0, 1.0]}
    train = {"optimizer": "lion", "schedule": "constant", "lr": 0.1, "epochs": 1, "batch_size": 8}
    with pytest.raises(SpecError, match="optimizer 'lion'"):
        pytorch_file(network, task, prep, train, title="t")
