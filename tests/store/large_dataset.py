"""Builds an image dataset of N samples of 3×64×64 in chunks, adds one sample, and trains
one epoch of a small CNN on it; prints one JSON line of what it measured.

Run as a script in a fresh process (its peak memory is then its own):
    python tests/store/large_dataset.py WORKSPACE N [--train]
"""

from __future__ import annotations

import json
import resource
import sys
import time

import numpy as np

import lernwerk

SMALL_CNN = {
    "name": "small-cnn",
    "layers": [
        {"type": "Conv2D", "filters": 8, "kernel_size": 3, "strides": 2, "activation": "relu"},
        {"type": "MaxPooling2D", "pool_size": 2},
        {"type": "Conv2D", "filters": 16, "kernel_size": 3, "activation": "relu"},
        {"type": "GlobalAveragePooling2D"},
        {"type": "Dense", "units": 4, "activation": "softmax"},
    ],
}
CLASSES = ["good", "bridge", "little", "missing"]


def build(ws: lernwerk.Workspace, n: int, chunk: int = 2000) -> None:
    """Noise whose brightness tells the class: written `chunk` samples at a time."""
    ws.create_empty_dataset("big", classes=CLASSES, image_size=64, channels=3)
    rng = np.random.default_rng(0)
    for start in range(0, n, chunk):
        size = min(chunk, n - start)
        labels = rng.integers(0, len(CLASSES), size)
        x = rng.random((size, 3, 64, 64), dtype=np.float32) * 0.6
        x += (labels * 0.12)[:, None, None, None].astype(np.float32)
        ws.add_samples("big", x, [CLASSES[k] for k in labels])


def main() -> None:
    root, n = sys.argv[1], int(sys.argv[2])
    ws = lernwerk.Workspace(root)
    started = time.perf_counter()
    build(ws, n)
    built_s = time.perf_counter() - started
    one = np.full((3, 64, 64), 0.5, dtype=np.float32)
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        ws.add_samples("big", one, ["good"])
        times.append(time.perf_counter() - t0)
    result = {
        "samples": ws.store.get_dataset("big").num_samples,
        "build_s": built_s,
        "add_one_ms": 1000 * float(np.median(times)),
    }
    if "--train" in sys.argv:
        t0 = time.perf_counter()
        run = ws.fit("big", SMALL_CNN, epochs=1, batch_size=256, seed=0)
        result.update(
            status=run.status,
            on_disk=ws.load_dataset("big").on_disk,
            train_s=time.perf_counter() - t0,
            test_accuracy=run.metrics["test"]["accuracy"],
        )
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


if __name__ == "__main__":
    main()
