"""The task owns the training step: a task that keeps two optimizers (as a GAN steps its
generator and its critic) trains, checkpoints and resumes in the one loop."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from lernwerk.config import ModelSpec, TrainConfig
from lernwerk.models import build_network
from lernwerk.training.optim import make_optimizer
from lernwerk.training.tasks import ClassificationTask
from lernwerk.training.trainer import Trainer, TrainingData

SPEC = ModelSpec.from_dict(
    {
        "name": "two-parts",
        "layers": [
            {"Dense": {"units": 8, "activation": "tanh"}},
            {"Dense": {"units": "auto", "activation": "softmax"}},
        ],
    }
)


@dataclass
class TwoStepTask(ClassificationTask):
    """Steps the first layer and the rest with an optimizer each, one after the other."""

    steps_taken: int = 0

    def make_optimizers(self, model, config):
        params = list(model.parameters())  # weight, bias of each Dense
        return [make_optimizer(params[:2], config), make_optimizer(params[2:], config)]

    def train_step(self, model, x, targets, optimizers, *, autocast=None, grad_clip_norm=None):
        for optimizer in optimizers:
            outputs = model(x)
            loss = self.loss_fn(outputs, targets)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        self.steps_taken += 1
        return loss, outputs


def _data() -> TrainingData:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 2, generator=g)
    y = (x[:, 0] * x[:, 1] > 0).long()
    return TrainingData(x[:48], y[:48], x[48:], y[48:])


def _trainer(task: TwoStepTask, epochs: int, checkpoint: Path) -> Trainer:
    torch.manual_seed(0)
    model = build_network(SPEC, (2,), 2)
    config = TrainConfig.from_dict(
        {"epochs": epochs, "batch_size": 16, "lr": 0.05, "loss": "cross_entropy", "seed": 0}
    )
    return Trainer(
        model,
        task,
        config,
        run_id="t",
        device=torch.device("cpu"),
        checkpoint_path=checkpoint,
        checkpoint_interval_s=0.0,
    )


def _task() -> TwoStepTask:
    return TwoStepTask(loss="cross_entropy", num_outputs=2, classes=["a", "b"])


def test_a_task_with_two_optimizers_steps_both_in_the_one_loop(tmp_path: Path) -> None:
    task = _task()
    trainer = _trainer(task, 3, tmp_path / "c.safetensors")
    before = [p.detach().clone() for p in trainer.model.parameters()]
    state = trainer.fit(_data())
    assert state.epoch == 3 and task.steps_taken == 9  # 3 batches of 16, 3 epochs
    assert all(len(opt.state) for opt in trainer.optimizers)  # both stepped
    after = list(trainer.model.parameters())
    assert all(not torch.equal(b, a) for b, a in zip(before, after, strict=True))


def test_both_optimizers_survive_a_checkpoint(tmp_path: Path) -> None:
    whole = _trainer(_task(), 4, tmp_path / "whole.safetensors")
    whole.fit(_data())
    part = _trainer(_task(), 2, tmp_path / "part.safetensors")
    part.fit(_data())
    resumed = _trainer(_task(), 4, tmp_path / "resumed.safetensors")
    resumed.resume_from(tmp_path / "part.safetensors")
    second = resumed.optimizers[1].state_dict()["state"]
    assert second and all(
        torch.equal(v["exp_avg"], part.optimizers[1].state_dict()["state"][k]["exp_avg"])
        for k, v in second.items()
    )
    resumed.fit(_data())
    for a, b in zip(whole.model.parameters(), resumed.model.parameters(), strict=True):
        torch.testing.assert_close(a, b)
