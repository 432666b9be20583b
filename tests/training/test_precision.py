"""The number format of training: float32 by default, bfloat16 autocast when asked; a
float32 model afterwards either way."""

from __future__ import annotations

import pytest
import torch

import lernwerk
from lernwerk.models import build_network, load_preset
from lernwerk.training import precision


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


def test_float32_is_the_default(tmp_path) -> None:
    run = lernwerk.Workspace(tmp_path / "ws").fit("digits", "lenet", epochs=1)
    assert run.config["train"]["precision"] == "float32"
    with pytest.raises(lernwerk.SpecError, match="precision"):
        lernwerk.Workspace(tmp_path / "ws").fit("digits", "lenet", precision="float16")
