"""The generate task: a network that learns to draw images like a dataset's (a variational
autoencoder, a DCGAN), in the same loop as every other task.

The network (`models.generative`) gives each sample's two losses; the task trains on the
first and tracks the second (VAE: loss = reconstruction + KL, and the KL; DCGAN: the
generator's and the discriminator's loss). A DCGAN steps its two networks with two
optimizers in one `train_step`. While it trains, `SampleGrids` draws the same fixed latent
points after every epoch into the run's folder (`samples/epoch-0001.png`, …), and at the
end a 2D latent map and an interpolation between two points.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
from torch.optim import Optimizer

from lernwerk.config import TrainConfig
from lernwerk.errors import SpecError
from lernwerk.evaluation.generated_pictures import image_grid_png
from lernwerk.events import EpochEnded, RunFailed, RunFinished, RunStopped
from lernwerk.models.generative import GAN_OUTPUT, VAE_OUTPUT, generative_module
from lernwerk.store.files import atomic_write_bytes
from lernwerk.training.callbacks import Listener
from lernwerk.training.optim import make_optimizer
from lernwerk.training.tasks import Task, _common, register_task
from lernwerk.training.tasks_views import Predicts, SplitSamples, value_answer

if TYPE_CHECKING:
    from lernwerk.data import Dataset
    from lernwerk.models.generative import GenerativeModule

SAMPLES_DIR = "samples"  # in the run's folder: a grid per epoch, the latent map, interpolation
GRID_SAMPLES = 16  # the fixed latent points drawn after every epoch
GRID_SEED = 0  # they are the same points every epoch (and every run of a latent size)
MAP_SIDE = 10  # the latent map's points a side
MAP_RANGE = 2.5  # ... spread over [-2.5, 2.5] in each of the first two latent dimensions
INTERPOLATION_STEPS = 10
# the two numbers a network's outputs hold, by its kind (`GenerativeModule.loss_names`)
LOSS_NAMES = {VAE_OUTPUT: ("loss", "kl"), GAN_OUTPUT: ("generator_loss", "discriminator_loss")}


def fixed_latents(n: int, latent_dims: int, seed: int = GRID_SEED) -> torch.Tensor:
    """(n, L) standard normal points, the same for the same seed."""
    return torch.randn(n, latent_dims, generator=torch.Generator().manual_seed(seed))


def latent_map(module: GenerativeModule, side: int = MAP_SIDE) -> torch.Tensor:
    """(side², C, H, W) images decoded over a grid of the first two latent dimensions
    (the others at 0), row by row."""
    steps = torch.linspace(-MAP_RANGE, MAP_RANGE, side)
    z = torch.zeros(side * side, module.latent_dims)
    z[:, 0] = steps.repeat(side)
    z[:, 1] = steps.flip(0).repeat_interleave(side)
    return draw(module, z)


def interpolation(
    module: GenerativeModule, a: torch.Tensor, b: torch.Tensor, steps: int = INTERPOLATION_STEPS
) -> torch.Tensor:
    """(steps, C, H, W) images along the straight line from latent point `a` to `b`."""
    t = torch.linspace(0, 1, steps)[:, None]
    return draw(module, (1 - t) * a[None] + t * b[None])


def draw(module: GenerativeModule, z: torch.Tensor) -> torch.Tensor:
    """Images (N, C, H, W) in [0, 1] from latent points (N, L), in eval mode, on the CPU."""
    was_training = module.training
    module.eval()
    try:
        device = next(module.parameters()).device
        with torch.inference_mode():
            return module.generate(z.to(device)).float().cpu()
    finally:
        module.train(was_training)


class SampleGrids(Listener):
    """Draws the fixed latent points into `samples/epoch-NNNN.png` after every epoch, and
    the latent map and an interpolation when the run ends."""

    def __init__(self, run_dir: Path) -> None:
        self.dir = Path(run_dir) / SAMPLES_DIR

    def _module(self) -> GenerativeModule | None:
        assert self.trainer is not None
        return generative_module(self.trainer.model)

    def on_epoch_end(self, event: EpochEnded) -> None:
        module = self._module()
        if module is None:
            return
        images = draw(module, fixed_latents(GRID_SAMPLES, module.latent_dims))
        self.dir.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(self.dir / f"epoch-{event.epoch:04d}.png", image_grid_png(images))

    def on_run_end(self, event: RunFinished | RunStopped | RunFailed) -> None:
        module = self._module()
        if module is None or isinstance(event, RunFailed):
            return
        z = fixed_latents(2, module.latent_dims)
        self.dir.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(
            self.dir / "latent-map.png", image_grid_png(latent_map(module), columns=MAP_SIDE)
        )
        atomic_write_bytes(
            self.dir / "interpolation.png",
            image_grid_png(interpolation(module, z[0], z[1]), columns=INTERPOLATION_STEPS),
        )


def sample_files(run_dir: Path) -> dict[str, Any]:
    """What a run's folder holds of generated samples: `{epochs: [1, 2, …], latent_map,
    interpolation}` (the last two: whether drawn)."""
    d = Path(run_dir) / SAMPLES_DIR
    epochs = sorted(
        int(p.stem.split("-")[1]) for p in d.glob("epoch-*.png") if p.stem[6:].isdigit()
    )
    return {
        "epochs": epochs,
        "latent_map": (d / "latent-map.png").is_file(),
        "interpolation": (d / "interpolation.png").is_file(),
    }


@register_task
@dataclass
class GenerateTask(Task):
    """Learn to draw images like a dataset's; the network holds its own losses."""

    name: ClassVar[str] = "generate"
    losses: ClassVar[tuple[str, ...]] = ("generative",)  # the network's own loss

    @classmethod
    def create(
        cls, loss: str | None, *, classes: list[str], y_train: torch.Tensor | None, **options: Any
    ) -> Task:
        return cls(loss=cls._resolve_loss(loss), num_outputs=2)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Task:
        return cls(**_common(d))

    @classmethod
    def check_data(cls, ds: Dataset) -> None:
        if ds.kind != "images":
            raise SpecError(
                f"task generate draws images; dataset '{ds.name}' is a {ds.kind} dataset, "
                "not images: train it on an image dataset (e.g. smileys)",
                where="task",
            )

    @classmethod
    def default_model(cls, kind: str | None) -> str | None:
        return "vae"

    @property
    def loss_names(self) -> tuple[str, str]:
        return LOSS_NAMES.get(self.output_activation, ("loss", "score"))

    @property
    def score_name(self) -> str:  # type: ignore[override]
        return self.loss_names[1]

    def check_output(self, output_shape: tuple[int, ...], input_shape: tuple[int, ...]) -> None:
        if self.output_activation not in LOSS_NAMES:
            raise SpecError(
                "task generate trains a generative network; use model vae or dcgan "
                "(a VAE or DCGAN layer)",
                where="model",
            )

    def make_optimizers(self, model: torch.nn.Module, config: TrainConfig) -> list[Optimizer]:
        module = generative_module(model)
        groups = module.parameter_groups() if module is not None else [list(model.parameters())]
        if len(groups) == 1:
            return [make_optimizer(groups[0], config)]
        assert config.lr is not None, "resolve the config first"
        # a GAN's two players: Adam with a short memory of momentum, as DCGAN trains them
        return [torch.optim.Adam(g, lr=config.lr, betas=(0.5, 0.999)) for g in groups]

    def train_step(
        self,
        model: torch.nn.Module,
        x: torch.Tensor,
        targets: torch.Tensor,
        optimizers: list[Optimizer],
        *,
        autocast: AbstractContextManager | None = None,
        grad_clip_norm: float | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        module = generative_module(model)
        if module is None or not module.steps_itself:
            return super().train_step(
                model, x, targets, optimizers, autocast=autocast, grad_clip_norm=grad_clip_norm
            )
        outputs = module.step(x, optimizers)  # (B, 2) both players' losses
        return outputs[:, 0].mean(), outputs

    def loss_fn(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return outputs[:, 0].float().mean()

    def batch_score(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return outputs[:, 1].float().sum()

    def predict(self, outputs: torch.Tensor, inputs: torch.Tensor | None = None) -> torch.Tensor:
        return outputs.float()  # (N, 2) each sample's two losses

    def metrics(
        self, y_true: np.ndarray, predictions: np.ndarray, inputs: np.ndarray | None = None
    ) -> dict[str, Any]:
        first, second = self.loss_names
        p = np.asarray(predictions, dtype=np.float64).reshape(-1, 2)
        out = {first: float(p[:, 0].mean()), second: float(p[:, 1].mean())} if len(p) else {}
        if len(p) and second == "kl":
            out["reconstruction"] = out[first] - out[second]
        return out

    def evaluation_view(
        self, predictor: Predicts, samples: SplitSamples, *, limit: int
    ) -> dict[str, Any]:
        out = predictor.predict(samples.x)
        return {"metrics": self.metrics(samples.y, out), "classes": [], "samples": []}

    def answer(self, row: np.ndarray) -> dict[str, Any]:
        return value_answer(row)

    def listeners(self, run_dir: Path) -> list[Listener]:
        return [SampleGrids(run_dir)]


MAX_GENERATED = 1024  # images one request may draw


def generate_images(
    network: torch.nn.Module, n: int, *, seed: int | None = None, run: str = "the run"
) -> torch.Tensor:
    """`n` images (N, C, H, W) in [0, 1] drawn from random latent points of a trained
    generative network.

    Raises:
        SpecError: the network does not generate, or `n` is not 1 to `MAX_GENERATED`.
    """
    module = generative_module(network)
    if module is None:
        raise SpecError(
            f"{run} does not generate images; train one with --task generate --model vae or dcgan",
            where="run",
        )
    if not 1 <= n <= MAX_GENERATED:
        raise SpecError(f"n must be 1 to {MAX_GENERATED}; got {n}", where="n")
    gen = torch.Generator().manual_seed(seed) if seed is not None else None
    return draw(module, torch.randn(n, module.latent_dims, generator=gen))


def sample_path(run_dir: Path, name: str) -> Path | None:
    """The stored picture `name` (`epoch-0003`, `latent-map`, `interpolation`), or None."""
    if name not in ("latent-map", "interpolation") and not (
        name.startswith("epoch-") and name[6:].isdigit()
    ):
        return None
    path = Path(run_dir) / SAMPLES_DIR / f"{name}.png"
    return path if path.is_file() else None
