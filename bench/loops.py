"""Hand-written peers: the same networks in a plain PyTorch loop and in Keras.

The plain loop is what an engineer would write in an afternoon: per-channel
standardisation, a shuffled permutation per epoch, batches by indexing, Adam,
cross-entropy. Its switches are the speed levers issue 5 asks to measure:
fused Adam, channels_last, bf16 autocast and torch.compile.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from bench.common import import_keras, torch_threads


@dataclass(frozen=True)
class Levers:
    """Speed levers of the plain loop; all off is the plain loop itself."""

    fused_adam: bool = False  # torch.optim.Adam(fused=True): one kernel for all parameters
    channels_last: bool = False  # NHWC memory layout for conv weights and inputs
    bf16: bool = False  # torch.autocast("cpu", dtype=torch.bfloat16) around forward and loss
    compile: bool = False  # torch.compile(model) (its compile time is in the seconds)
    one_thread: bool = False  # 1 intra-op thread, whatever the engine chose

    def label(self) -> str:
        on = [
            name
            for name, flag in (
                ("fused Adam", self.fused_adam),
                ("channels_last", self.channels_last),
                ("bf16 autocast", self.bf16),
                ("torch.compile", self.compile),
                ("1 thread", self.one_thread),
            )
            if flag
        ]
        return " + ".join(on) or "none"


# -- networks, by hand -----------------------------------------------------------------------


def lenet(input_shape: tuple[int, int, int], classes: int) -> nn.Module:
    """The `lenet` preset by hand: conv 16 and 32 (5×5, same), pools, dense 120-84."""
    c, h, w = input_shape
    flat = 32 * (h // 2 // 2) * (w // 2 // 2)
    return nn.Sequential(
        nn.Conv2d(c, 16, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(flat, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, classes),
    )


def smiley_cnn(input_shape: tuple[int, int, int], classes: int) -> nn.Module:
    """The `smiley-cnn` preset by hand: conv 32-64-64 (3×3, valid), two pools, dense 64."""
    c, h, w = input_shape
    side_h, side_w = ((h - 2) // 2 - 2) // 2 - 2, ((w - 2) // 2 - 2) // 2 - 2
    return nn.Sequential(
        nn.Conv2d(c, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(64, 64, 3),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(64 * side_h * side_w, 64),
        nn.ReLU(),
        nn.Linear(64, classes),
    )


NETWORKS = {"lenet": lenet, "smiley-cnn": smiley_cnn}


def keras_network(keras: Any, name: str, input_shape: tuple[int, int, int], classes: int) -> Any:
    """The same preset in Keras (channels last: input (H, W, C))."""
    c, h, w = input_shape
    layers = keras.layers
    if name == "lenet":
        body = [
            layers.Conv2D(16, 5, padding="same", activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(32, 5, padding="same", activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(120, activation="relu"),
            layers.Dense(84, activation="relu"),
        ]
    elif name == "smiley-cnn":
        body = [
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 3, activation="relu"),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
        ]
    else:
        raise ValueError(f"no Keras version of {name!r}; expected one of {', '.join(NETWORKS)}")
    return keras.Sequential(
        [keras.Input((h, w, c)), *body, layers.Dense(classes, activation="softmax")]
    )


# -- the data every peer sees ----------------------------------------------------------------


@dataclass
class ImageData:
    """An image dataset's split as raw tensors in [0, 1]."""

    ref: str
    input_shape: tuple[int, int, int]
    classes: int
    x_train: torch.Tensor  # (N, C, H, W)
    y_train: torch.Tensor  # (N,) int64
    x_test: torch.Tensor
    y_test: torch.Tensor
    sizes: dict[str, int]


def load_images(ref: str, split: tuple[float, float, int] = (0.2, 0.2, 0)) -> ImageData:
    """A built-in image dataset and lernwerk's default split of it."""
    from lernwerk.data import load_dataset_ref

    ds = load_dataset_ref(ref)
    splits = ds.split(*split)
    x, y = ds.x.float(), ds.y.long()
    return ImageData(
        ref=ref,
        input_shape=tuple(ds.input_shape),
        classes=len(ds.classes),
        x_train=x[splits.train].contiguous(),
        y_train=y[splits.train],
        x_test=x[splits.test].contiguous(),
        y_test=y[splits.test],
        sizes=splits.sizes(),
    )


def _standardise(x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    return (x - mean.view(1, -1, 1, 1)) / std.view(1, -1, 1, 1)


# -- the loops -------------------------------------------------------------------------------


def plain_torch(
    network: str,
    data: ImageData,
    *,
    batch_size: int,
    epochs: int,
    lr: float,
    threads: int | None,
    seed: int = 1,
    levers: Levers = Levers(),
) -> tuple[float, float, dict[str, Any]]:
    """Train `network` by hand on `data`; return test accuracy, seconds, extra.

    The seconds cover standardisation, model construction and training (as lernwerk's
    `Workspace.fit` does), not the test evaluation.
    """
    threads = 1 if levers.one_thread else threads
    with torch_threads(threads):
        gc.collect()
        started = time.perf_counter()
        std, mean = torch.std_mean(data.x_train, dim=(0, 2, 3), correction=0)
        std = torch.where(std < 1e-8, torch.ones_like(std), std)
        x = _standardise(data.x_train, mean, std)  # (N, C, H, W)
        y = data.y_train
        torch.manual_seed(seed)
        model = NETWORKS[network](data.input_shape, data.classes)
        if levers.channels_last:
            model = model.to(memory_format=torch.channels_last)
            x = x.contiguous(memory_format=torch.channels_last)
        opt = torch.optim.Adam(model.parameters(), lr=lr, fused=True if levers.fused_adam else None)
        step_model = torch.compile(model) if levers.compile else model
        loss_fn = nn.CrossEntropyLoss()
        gen = torch.Generator().manual_seed(seed)
        n = len(x)
        steps = -(-n // batch_size)
        if steps > 1 and n % batch_size == 1:
            steps -= 1  # as lernwerk: a last batch of one sample is dropped
        model.train()
        for _ in range(epochs):
            perm = torch.randperm(n, generator=gen)
            for i in range(steps):
                idx = perm[i * batch_size : (i + 1) * batch_size]
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=levers.bf16):
                    loss = loss_fn(step_model(x[idx]), y[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        seconds = time.perf_counter() - started
        model.eval()
        with torch.inference_mode():
            xt = _standardise(data.x_test, mean, std)
            if levers.channels_last:
                xt = xt.contiguous(memory_format=torch.channels_last)
            pred = torch.cat([model(xt[i : i + 1024]).argmax(1) for i in range(0, len(xt), 1024)])
        accuracy = float((pred == data.y_test).float().mean())
    return (
        accuracy,
        seconds,
        {
            "threads": threads or torch.get_num_threads(),
            "batch_size": batch_size,
            "epochs": epochs,
            "lr": lr,
            "levers": levers.label(),
            "train_images": n * epochs,
        },
    )


def keras_fit(
    network: str,
    data: ImageData,
    *,
    batch_size: int,
    epochs: int,
    lr: float,
    seed: int = 1,
    max_seconds: float | None = None,
) -> tuple[float, float, dict[str, Any]]:
    """The same network and settings in Keras (TensorFlow's default threads)."""
    from bench.common import keras_budget_callback

    keras = import_keras()
    gc.collect()
    started = time.perf_counter()
    x = data.x_train.permute(0, 2, 3, 1).numpy()  # (N, H, W, C)
    mean, std = x.mean(axis=(0, 1, 2)), x.std(axis=(0, 1, 2))
    std = np.where(std < 1e-8, 1.0, std)
    x = ((x - mean) / std).astype(np.float32)
    keras.utils.set_random_seed(seed)
    model = keras_network(keras, network, data.input_shape, data.classes)
    model.compile(optimizer=keras.optimizers.Adam(lr), loss="sparse_categorical_crossentropy")
    budget = keras_budget_callback(keras, epochs, max_seconds)
    model.fit(
        x, data.y_train.numpy(), batch_size=batch_size, epochs=epochs, verbose=0, callbacks=[budget]
    )
    seconds = time.perf_counter() - started
    xt = ((data.x_test.permute(0, 2, 3, 1).numpy() - mean) / std).astype(np.float32)
    pred = model.predict(xt, batch_size=1024, verbose=0).argmax(1)
    done = len(budget.epoch_seconds)
    extra: dict[str, Any] = {"batch_size": batch_size, "epochs": done, "lr": lr}
    if done < epochs:
        extra["projected_from_epochs"] = done
        extra["measured_seconds"] = round(seconds, 2)
    return float((pred == data.y_test.numpy()).mean()), budget.projected(seconds), extra
