"""The number format of training: bfloat16 autocast for convolutional networks on a CPU
that has bfloat16 instructions, float32 otherwise; always a float32 model afterwards."""

from __future__ import annotations

import pytest
import torch

import lernwerk
from lernwerk.config import ModelSpec
from lernwerk.models import build_network, load_preset
from lernwerk.training import precision


def test_the_default_follows_the_network_and_the_cpu(monkeypatch) -> None:
    cpu = torch.device("cpu")
    cnn = build_network(load_preset("lenet"), (1, 8, 8), 10)
    fcn = build_network(load_preset("fcn1d"), (1, 64), 2)
    mlp = build_network(load_preset("mlp"), (2,), 2)
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: True)
    assert precision.default_precision(cnn, cpu) == "bfloat16"
    assert precision.default_precision(fcn, cpu) == "bfloat16"
    assert precision.default_precision(mlp, cpu) == "float32"  # overhead-bound: no gain
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: False)
    assert precision.default_precision(cnn, cpu) == "float32"


def test_channels_last_only_for_conv2d_and_only_while_training() -> None:
    cnn = build_network(load_preset("lenet"), (1, 8, 8), 10)
    conv = next(m for m in cnn.modules() if isinstance(m, torch.nn.Conv2d))
    with precision.channels_last(cnn) as nhwc:
        assert nhwc and conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert conv.weight.is_contiguous()
    fcn = build_network(load_preset("fcn1d"), (1, 64), 2)
    with precision.channels_last(fcn) as nhwc:
        assert not nhwc


@pytest.mark.parametrize("precision_name", ["float32", "bfloat16"])
def test_a_run_stores_its_precision_and_a_float32_model(tmp_path, precision_name) -> None:
    ws = lernwerk.Workspace(tmp_path / "ws")
    run = ws.fit("digits", "lenet", epochs=2, seed=0, precision=precision_name)
    assert run.config["train"]["precision"] == precision_name
    assert run.status == "finished" and run.metrics["test"]["accuracy"] > 0.5
    weights = run.predictor.network.state_dict()
    assert all(w.dtype == torch.float32 and w.is_contiguous() for w in weights.values())
    again = ws.fit("digits", "lenet", epochs=2, seed=0, precision=precision_name)
    assert again.metrics["test"] == run.metrics["test"]  # still the same result twice


def test_the_resolved_default_is_stored(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: True)
    ws = lernwerk.Workspace(tmp_path / "ws")
    spec = ModelSpec.from_dict({"layers": [{"Dense": {"units": "auto"}}]})
    assert ws.fit("xor", spec, epochs=1).config["train"]["precision"] == "float32"
    assert ws.fit("digits", "lenet", epochs=1).config["train"]["precision"] == "bfloat16"
