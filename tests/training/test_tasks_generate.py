"""The generate task: a VAE and a DCGAN train, stop and resume as runs, draw a grid of the
same latent points after every epoch, and generate images; their samples look like faces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import lernwerk
from lernwerk.events import EpochEnded
from lernwerk.training.callbacks import Listener
from lernwerk.training.tasks_generate import fixed_latents

SMALL = "smileys:per_class=40"
FAST = {"seed": 0, "batch_size": 32, "threads": 2}


class StopAfter(Listener):
    """Asks for a stop at the end of epoch `epoch`, as the page's Stop button does."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def on_epoch_end(self, event: EpochEnded) -> None:
        assert self.trainer is not None
        if event.epoch == self.epoch:
            self.trainer.request_stop("stop requested")


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> lernwerk.Workspace:
    return lernwerk.Workspace(tmp_path_factory.mktemp("gen") / "ws")


@pytest.mark.parametrize(
    ("model", "names"),
    [("vae", ("train_loss", "train_kl")), ("dcgan", ("train_loss", "train_discriminator_loss"))],
)
def test_a_generative_run_trains_stops_and_resumes(
    ws: lernwerk.Workspace, model: str, names: tuple[str, str]
) -> None:
    run = ws.fit(SMALL, model, task="generate", epochs=3, listeners=[StopAfter(1)], **FAST)
    assert run.status == "stopped" and run.record.epoch == 1
    samples = run.generated_samples()
    assert samples["epochs"] == [1] and samples["latent_map"] and samples["interpolation"]
    run = ws.resume(run.id, epochs=3)
    assert run.status == "finished" and run.record.epoch == 3
    assert run.generated_samples()["epochs"] == [1, 2, 3]
    history = run.history
    assert all(np.isfinite(history[n]).all() for n in names)
    if model == "vae":  # the whole loss holds the KL; the test split reports both parts
        assert (history["train_loss"] > history["train_kl"]).all()
        test = run.metrics["test"]
        assert test["reconstruction"] == pytest.approx(test["loss"] - test["kl"])
    else:
        assert set(run.metrics["test"]) == {"generator_loss", "discriminator_loss"}
    images = run.generate(16)
    assert images.shape == (16, 1, 28, 28) and images.dtype == torch.float32
    assert float(images.min()) >= 0 and float(images.max()) <= 1
    assert torch.equal(run.generate(4, seed=7), run.generate(4, seed=7))
    png = run.generated_sample_png("epoch-0002")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_grid_draws_the_same_latent_points_every_epoch() -> None:
    assert torch.equal(fixed_latents(16, 8), fixed_latents(16, 8))
    assert not torch.equal(fixed_latents(16, 8), fixed_latents(16, 8, seed=1))


def test_generate_refuses_what_it_cannot_do(ws: lernwerk.Workspace) -> None:
    with pytest.raises(lernwerk.SpecError, match="'xor' is a table dataset, not images"):
        ws.fit("xor", "vae", task="generate", epochs=1)
    with pytest.raises(lernwerk.SpecError, match="use model vae or dcgan"):
        ws.fit(SMALL, "smiley-cnn", task="generate", epochs=1)
    classifier = ws.fit(SMALL, "smiley-cnn", epochs=1, **FAST)
    with pytest.raises(lernwerk.SpecError, match="does not generate images"):
        classifier.generate(4)
    assert classifier.generated_samples() == {
        "epochs": [],
        "latent_map": False,
        "interpolation": False,
    }
    with pytest.raises(lernwerk.NotFound, match="no generated picture"):
        classifier.generated_sample_png("epoch-0001")
    with pytest.raises(lernwerk.NotFound):
        classifier.generated_sample_png("../meta")


def _recognised(ws: lernwerk.Workspace, data: str, epochs: int, n: int) -> float:
    """The share of `n` generated faces a smiley-cnn trained on real ones classifies with
    probability ≥ 0.9."""
    judge = ws.fit(data, "smiley-cnn", epochs=epochs, seed=0)
    vae = ws.fit(data, "vae", task="generate", epochs=epochs, seed=0)
    images = vae.generate(n, seed=1).numpy()  # (n, 1, 28, 28)
    probs = judge.predictor.predict(torch.as_tensor(images))  # (n, 4)
    share = float((np.asarray(probs).max(axis=1) >= 0.9).mean())
    print(f"{share:.1%} of {n} generated faces recognised with p >= 0.9")
    return share


def test_a_small_vae_draws_faces_a_classifier_mostly_recognises(tmp_path: Path) -> None:
    share = _recognised(lernwerk.Workspace(tmp_path / "ws"), "smileys:per_class=300", 15, 100)
    assert share >= 0.5, share


@pytest.mark.slow
def test_a_vae_draws_faces_a_classifier_recognises(tmp_path: Path) -> None:
    """Issue 15's bar: ≥ 80 % of 200 generated faces classified with probability ≥ 0.9."""
    share = _recognised(lernwerk.Workspace(tmp_path / "ws"), "smileys:per_class=2000", 20, 200)
    assert share >= 0.8, share
