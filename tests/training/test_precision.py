"""The number format of training: float32 by default, bfloat16 autocast when asked; a
float32 model afterwards either way."""

from __future__ import annotations

import numpy as np
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


def test_the_optimizer_state_follows_its_weights_into_and_out_of_channels_last() -> None:
    cnn = build_network(load_preset("lenet"), (1, 8, 8), 10)
    opt = torch.optim.Adam(cnn.parameters(), lr=0.01, fused=True)
    cnn(torch.randn(4, 1, 8, 8)).sum().backward()
    opt.step()  # Adam's moments are made in the weights' layout of now: NCHW
    conv = [m for m in cnn.modules() if isinstance(m, torch.nn.Conv2d)][-1]  # 16 -> 32
    moments = [v for v in opt.state[conv.weight].values() if v.shape == conv.weight.shape]
    assert moments and all(v.is_contiguous() for v in moments)
    with precision.channels_last(cnn, opt):
        state = opt.state[conv.weight]
        assert all(v.stride() == conv.weight.stride() for k, v in state.items() if k != "step")
        assert not conv.weight.is_contiguous()  # 16 channels in: NHWC is not NCHW
    assert all(v.is_contiguous() for v in opt.state[conv.weight].values())


def test_rows_keeps_the_channels_last_layout() -> None:
    x = torch.randn(10, 3, 5, 6).contiguous(memory_format=torch.channels_last)
    idx = torch.tensor([7, 0, 3])
    picked = precision.rows(x, idx)
    assert torch.equal(picked, x[idx])
    assert picked.is_contiguous(memory_format=torch.channels_last)
    plain = torch.randn(10, 4)
    assert torch.equal(precision.rows(plain, idx), plain[idx])


def test_a_cnn_resumes_where_it_stopped(tmp_path) -> None:
    # the checkpoint holds Adam's moments in NCHW; training runs in NHWC: a moment paired
    # with the wrong weight element would change every epoch after the resume
    ws = lernwerk.Workspace(tmp_path / "ws")
    # a fixed thread count: left to auto, each run takes the cores idle at its start, and
    # another count sums the convolutions' gradients in another order
    settings = {"seed": 3, "batch_size": 64, "early_stopping": 0, "threads": 2}
    whole = ws.fit("digits", "lenet", epochs=4, **settings)
    part = ws.fit("digits", "lenet", epochs=2, **settings)
    resumed = ws.resume(part.id, epochs=4)
    assert resumed.status == "finished" and resumed.record.epoch == 4
    cols = ["train_loss", "val_loss", "val_accuracy"]
    np.testing.assert_allclose(
        whole.history[cols].to_numpy(), resumed.history[cols].to_numpy(), rtol=1e-4
    )


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
