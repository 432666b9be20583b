"""Defaults that depend on the data: batch size, epochs, learning rate, device.

The rules, stated so people can reason about them:
- batch size: the power of two nearest to N/100, between 16 and 512 (small sets get
  many small steps, large sets few large ones that keep the CPU's cores busy);
- epochs: enough for about 2 000 optimizer steps, between 10 and 200 (at least 3 instead
  of 10 above 100 000 training samples: there 2 000 steps are 2-4 epochs, and 10 took
  2.5x the time for +0.0003 test accuracy on the 500 000-row benchmark);
- epochs of a network that starts from trained weights (a pretrained backbone, another
  run): enough for about 300 steps, between 5 and 15. Fine-tuning converges in few steps
  and then only overfits: on the `photos` set (112 training patches), efficientnet-lite0
  reached 0.99 test accuracy after 15 epochs (105 steps), where the from-scratch rule
  would have run 200;
- learning rate: the optimizer's usual default (adam 1e-3, sgd 1e-2, ...), scaled up
  with the square root of the batch size over 32 for adaptive optimizers, at most 4x;
- class-balanced sampling: on for classification when the largest class of the training
  split has at least 1.5x the samples of the smallest;
- sequence classification (the recipe of Ismail Fawaz et al. 2019, whose published
  accuracies bench/ucr.py compares with; docs/sequences.md):
  - hold-out: none below 1 000 series outside the test split (the network trains on all
    of them, as the paper does); from 1 000 on, 20 % for validation. A validation split
    of a small set costs a fifth of its few series and gives a loss too noisy to pick an
    epoch by (10 of GunPoint's 50 stopped ResNet at 94 % instead of 99 %);
  - epochs and batch by network: fcn1d 2 000 epochs at batch 16, resnet1d, inception1d
    and inceptiontime 1 500 at batch 64 (other networks: fcn1d's), the batch at most a
    tenth of the training series (GunPoint's 50: batch 5), and a learning rate of 1e-3
    for adam (the optimizer's usual default for the others), not scaled by the batch;
  - schedule: `plateau` on the monitored loss: the rate halves after 50 epochs without
    a lower loss, down to 1e-4; the monitored loss is the training loss without a
    hold-out, else the validation loss;
  - the run ends with the weights of its epoch of lowest monitored loss; early stopping
    only with a hold-out, after 100 epochs without a lower validation loss (two cuts of
    the rate that did not help);
  - a time budget of 480 s of training (the run stops after the epoch that reaches it,
    and says so): 2 000 epochs take far longer on a CPU, and the plateau schedule (unlike
    a cosine over all epochs) leaves a run that the budget cuts short at a sensible rate.
  The resolved config's `rules` names the rule that chose each setting;
- other sequences (regression, forecasting, anomaly): a cosine schedule down to 1 % of
  the peak rate, and, when the validation split has at least 50 samples, early stopping
  on the validation loss with a patience of a quarter of the epochs (at least 10),
  keeping the best epoch's weights. Other kinds: a constant rate;
- early stopping for tables and images: on the validation loss with a patience of 3
  epochs, keeping the best epoch's weights, when the validation split has at least
  5 000 samples. A loss averaged over that many samples is precise enough to tell a
  plateau, and the 2 000-step rule gives such sets long epochs that run on past it: the
  50 000-row benchmark stopped after 8 of 17 epochs at the same test accuracy, in 0.6 s
  instead of 1.0 s (bench/RESULTS.md, log). Smaller validation splits: off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from lernwerk.config import TrainConfig
from lernwerk.errors import SpecError
from lernwerk.training.optim import DEFAULT_LR
from lernwerk.training.sampling import is_skewed
from lernwerk.training.tasks_registry import TASKS

TARGET_STEPS = 2000
MIN_EPOCHS, MAX_EPOCHS = 10, 200
LARGE_SET_SAMPLES, LARGE_SET_MIN_EPOCHS = 100_000, 3  # the epoch floor above this many
SEQUENCE_MIN_PATIENCE = 10
SEQUENCE_MIN_VAL = 50  # validation samples below which early stopping is off by default
SEQUENCE_LR_FLOOR = 0.01  # the cosine schedule's last rate, as a fraction of the peak
LARGE_VAL_SAMPLES, LARGE_VAL_PATIENCE = 5_000, 3  # early stopping on a large validation split
PRETRAINED_STEPS, PRETRAINED_MIN_EPOCHS, PRETRAINED_MAX_EPOCHS = 300, 5, 15
DEFAULT_VAL_SPLIT = 0.2
# sequence classification (Ismail Fawaz et al. 2019; docs/sequences.md)
SEQUENCE_HOLDOUT_MIN = 1_000  # series outside the test split below which none is held out
SEQUENCE_LR = 1e-3  # adam's; not scaled by the batch size
SEQUENCE_PLATEAU_FLOOR = 1e-4  # the plateau schedule's lowest rate
SEQUENCE_HOLDOUT_PATIENCE = 100  # early stopping with a hold-out: two plateaus of 50
SEQUENCE_TIME_BUDGET_S = 480.0  # seconds of training: the largest shipped set under 10 min


@dataclass(frozen=True)
class SequenceRecipe:
    """Epochs and largest batch of a sequence classifier, after its paper."""

    epochs: int
    batch_size: int
    source: str


_FCN = SequenceRecipe(2000, 16, "FCN, Ismail Fawaz et al. 2019")
_RESNET = SequenceRecipe(1500, 64, "ResNet, Ismail Fawaz et al. 2019")
_INCEPTION = SequenceRecipe(1500, 64, "InceptionTime, Ismail Fawaz et al. 2020")
SEQUENCE_RECIPES = {
    "fcn1d": _FCN,
    "resnet1d": _RESNET,
    "inception1d": _INCEPTION,
    "inceptiontime": _INCEPTION,
}


def sequence_recipe(model: str) -> SequenceRecipe:
    """The recipe of a sequence classifier by preset name; fcn1d's for any other."""
    return SEQUENCE_RECIPES.get(model, _FCN)


def uses_sequence_recipe(kind: str | None, task: str) -> bool:
    return kind == "sequences" and task == "classification"


def default_val_split(kind: str | None, task: str, n_pool: int) -> tuple[float, str]:
    """The validation fraction and its rule; `n_pool`: samples outside the test split."""
    if not uses_sequence_recipe(kind, task):
        return DEFAULT_VAL_SPLIT, "default: 20 % for validation"
    if n_pool < SEQUENCE_HOLDOUT_MIN:
        return 0.0, (
            f"sequence classification: {n_pool} series (< {SEQUENCE_HOLDOUT_MIN}) outside "
            "the test split, none held out; trains on all"
        )
    return DEFAULT_VAL_SPLIT, (
        f"sequence classification: {n_pool} series (>= {SEQUENCE_HOLDOUT_MIN}), 20 % for validation"
    )


def default_batch_size(n_train: int) -> int:
    return int(min(512, max(16, 2 ** round(math.log2(max(n_train, 1) / 100)))))


def default_epochs(n_train: int, batch_size: int, *, pretrained: bool = False) -> int:
    steps_per_epoch = max(1, math.ceil(n_train / batch_size))
    if pretrained:
        steps = math.ceil(PRETRAINED_STEPS / steps_per_epoch)
        return int(min(PRETRAINED_MAX_EPOCHS, max(PRETRAINED_MIN_EPOCHS, steps)))
    floor = LARGE_SET_MIN_EPOCHS if n_train > LARGE_SET_SAMPLES else MIN_EPOCHS
    return int(min(MAX_EPOCHS, max(floor, math.ceil(TARGET_STEPS / steps_per_epoch))))


def default_lr(optimizer: str, batch_size: int) -> float:
    lr = DEFAULT_LR[optimizer]
    if optimizer in ("adam", "adamw", "rmsprop"):
        lr *= min(4.0, max(1.0, math.sqrt(batch_size / 32)))
    return lr


def default_schedule(kind: str | None) -> str:
    return "cosine" if kind == "sequences" else "constant"


def default_early_stopping(kind: str | None, n_val: int, epochs: int) -> int:
    """Patience in epochs; 0: no early stopping."""
    if kind == "sequences":
        return max(SEQUENCE_MIN_PATIENCE, epochs // 4) if n_val >= SEQUENCE_MIN_VAL else 0
    return LARGE_VAL_PATIENCE if n_val >= LARGE_VAL_SAMPLES else 0


def default_balanced_sampling(y_train: torch.Tensor | None, num_classes: int) -> bool:
    if y_train is None or num_classes < 2 or y_train.dim() != 1 or y_train.is_floating_point():
        return False
    return is_skewed(y_train, num_classes)


def resolve_train_config(
    config: TrainConfig,
    *,
    n_train: int,
    loss: str,
    kind: str | None = None,
    n_val: int = 0,
    y_train: torch.Tensor | None = None,
    num_classes: int = 0,
    pretrained: bool = False,
    task: str = "",
    model: str = "",
) -> TrainConfig:
    """Fill in what the user left out; the result is what the run stores, its `rules`
    naming the rule behind each setting filled in.

    Args:
        config: What the user gave.
        n_train: Samples the network trains on.
        loss: The task's resolved loss.
        kind: The dataset's kind; sequences get their own schedule and early stopping.
        n_val: Samples the network validates on (early stopping needs enough).
        y_train: Class indices of the training samples (for balanced sampling).
        num_classes: Classes of a classification task; 0 otherwise.
        pretrained: The network starts from trained weights (fewer epochs).
        task: The task's name; sequence classification follows its paper's recipe.
        model: The network's preset name (picks that recipe).
    """
    if uses_sequence_recipe(kind, task) and not pretrained:
        return _resolve_sequence_classification(
            config, n_train, loss, n_val, y_train, num_classes, model
        )
    rules = dict(config.rules)
    # a batch larger than the training split is the whole split: store (and scale the
    # learning rate by) what runs
    batch_size = config.batch_size or default_batch_size(n_train)
    if n_train > 0:
        batch_size = min(batch_size, n_train)
    epochs = config.epochs or default_epochs(n_train, batch_size, pretrained=pretrained)
    lr = config.lr or default_lr(config.optimizer, batch_size)
    update: dict[str, object] = {"batch_size": batch_size, "epochs": epochs, "lr": lr, "loss": loss}
    if config.batch_size is None:
        rules["batch_size"] = "N/100 rounded to a power of two, 16 to 512"
    if config.epochs is None:
        rules["epochs"] = (
            "about 300 steps, 5 to 15 epochs (from trained weights)"
            if pretrained
            else "about 2 000 steps, 10 to 200 epochs"
        )
    if config.lr is None:
        rules["lr"] = f"{config.optimizer}'s default, scaled by sqrt(batch / 32), at most 4x"
    schedule = config.schedule or default_schedule(kind)
    update["schedule"] = schedule
    if config.schedule is None:
        rules["schedule"] = f"{kind or 'this kind'}: {schedule}"
    if config.schedule is None and schedule == "cosine" and config.lr_min == 0:
        update["lr_min"] = lr * SEQUENCE_LR_FLOOR
    if config.early_stopping is None:
        update["early_stopping"] = default_early_stopping(kind, n_val, epochs)
        rules["early_stopping"] = f"{n_val} validation samples, {kind or 'this kind'}"
    if config.balanced_sampling is None:
        update["balanced_sampling"] = default_balanced_sampling(y_train, num_classes)
    update["keep_best"] = bool(config.keep_best)
    update["time_budget_s"] = config.time_budget_s or 0.0
    update["rules"] = rules
    return config.model_copy(update=update)


def _resolve_sequence_classification(
    config: TrainConfig,
    n_train: int,
    loss: str,
    n_val: int,
    y_train: torch.Tensor | None,
    num_classes: int,
    model: str,
) -> TrainConfig:
    """The recipe of Ismail Fawaz et al. 2019 for what the user left out (module docstring)."""
    recipe = sequence_recipe(model)
    rules = dict(config.rules)
    source = f"sequence classification, {model or 'network'}: {recipe.source}"
    batch_size = config.batch_size or max(1, min(recipe.batch_size, n_train // 10))
    if config.batch_size is None:
        rules["batch_size"] = f"{source}: {recipe.batch_size}, at most a tenth of {n_train}"
    if n_train > 0:
        batch_size = min(batch_size, n_train)
    epochs = config.epochs or recipe.epochs
    if config.epochs is None:
        rules["epochs"] = f"{source}: {recipe.epochs}"
    lr = config.lr or (SEQUENCE_LR if config.optimizer == "adam" else DEFAULT_LR[config.optimizer])
    if config.lr is None:
        rules["lr"] = f"sequence classification: {config.optimizer}'s {lr:g}, not scaled"
    update: dict[str, object] = {"batch_size": batch_size, "epochs": epochs, "lr": lr, "loss": loss}
    monitor = config.monitor
    if n_val == 0 and monitor == "val_loss":
        monitor = "train_loss"
        rules["monitor"] = "sequence classification without a hold-out: the training loss"
    update["monitor"] = monitor
    if config.schedule is None:
        update["schedule"] = "plateau"
        rules["schedule"] = (
            f"sequence classification: halve the rate after {config.plateau_patience} epochs "
            f"without a lower {monitor}, down to {SEQUENCE_PLATEAU_FLOOR:g}"
        )
        if config.lr_min == 0:
            update["lr_min"] = min(SEQUENCE_PLATEAU_FLOOR, lr)
    if config.keep_best is None:
        update["keep_best"] = True
        rules["keep_best"] = f"sequence classification: the epoch of lowest {monitor}"
    if config.early_stopping is None:
        patience = SEQUENCE_HOLDOUT_PATIENCE if n_val else 0
        update["early_stopping"] = patience
        rules["early_stopping"] = (
            f"sequence classification with a hold-out: {patience} epochs"
            if n_val
            else "sequence classification without a hold-out: off"
        )
    if config.time_budget_s is None:
        update["time_budget_s"] = SEQUENCE_TIME_BUDGET_S
        rules["time_budget_s"] = (
            f"sequence classification: {SEQUENCE_TIME_BUDGET_S:.0f} s of training"
        )
    if config.balanced_sampling is None:
        update["balanced_sampling"] = default_balanced_sampling(y_train, num_classes)
    update["rules"] = rules
    return config.model_copy(update=update)


def resolve_device(name: str) -> torch.device:
    """cpu, cuda or auto (cuda when available, else cpu).

    Raises:
        SpecError: cuda asked for and none is available.
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise SpecError(
            "device cuda: no CUDA device is available here; use the device cpu or auto",
            where="device",
        )
    return torch.device(name)


def default_model(
    kind: str | None, input_shape: list[int] | tuple[int, ...], task: str = ""
) -> str:
    """The preset a dataset starts with, by one rule on its kind and input shape, unless
    the registered task named `task` prefers its own (`Task.default_model`: anomaly
    detection on sequences takes `autoencoder1d`).

    Images: `smiley-cnn` (three 3×3 convolutions, two poolings) when the smaller side is at
    least 28 pixels, else `lenet`; tables: `mlp`; sequences: `fcn1d`.
    """
    preferred = TASKS[task].default_model(kind) if task in TASKS else None
    if preferred:
        return preferred
    if kind == "images":
        side = min(input_shape[-2:]) if len(input_shape) >= 2 else 0
        return "smiley-cnn" if side >= 28 else "lenet"
    if kind == "sequences":
        return "fcn1d"
    return "mlp"
