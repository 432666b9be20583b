"""`lernwerk train --nproc 2` against one process on the CPU: test accuracy and wall time.

    python -m bench.distributed            # digits and solder, one process then two, 1 round
    python -m bench.distributed --rounds 2 --out bench/results/distributed-DATE.json

Each run is the CLI in a fresh process (`python -m lernwerk train ... --json`), so the wall
time includes starting Python and PyTorch (twice over for --nproc 2: the launcher, then the
ranks); "training s" is the run's own `seconds` (the loop, as stored). The peers take turns
so that a spell of load on a shared machine hits both. Not one of `bench.run`'s suites: it
writes its JSON and prints a table; bench/RESULTS.md's Log holds the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CASES = (  # label, dataset, model, epochs (the digits and images suites' settings)
    ("digits", "digits", "lenet", 30),
    ("solder", "solder:per_class=200", "smiley-cnn", 10),
)


def train(
    workspace: Path, dataset: str, model: str, epochs: int, nproc: int, seed: int = 1
) -> dict[str, Any]:
    """One CLI run; its test accuracy, wall and training seconds."""
    command = [sys.executable, "-m", "lernwerk", "-w", str(workspace), "train"]
    command += ["-d", dataset, "-m", model, "--epochs", str(epochs), "--seed", str(seed), "--json"]
    command += ["--nproc", str(nproc)] if nproc > 1 else []
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr[-2000:]}")
    result = json.loads(done.stdout)
    return {
        "nproc": nproc,
        "seed": seed,
        "test_accuracy": result["metrics"]["test"]["accuracy"],
        "wall_s": round(wall, 2),
        "training_s": result["seconds"],
        "batch_size": result["config"]["batch_size"],
        "load_average_1min": os.getloadavg()[0],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cases", default=",".join(c[0] for c in CASES), help="digits,solder")
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="lernwerk-bench-ddp-") as tmp:
        for label, dataset, model, epochs in CASES:
            if label not in args.cases.split(","):
                continue
            for round_ in range(args.rounds):
                for nproc in (1, 2):
                    row = train(Path(tmp) / "ws", dataset, model, epochs, nproc, args.seed)
                    row.update(case=label, dataset=dataset, model=model, epochs=epochs)
                    row["round"] = round_ + 1
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    if args.out is not None:  # appended to what an earlier run wrote
        earlier = json.loads(args.out.read_text()) if args.out.is_file() else []
        args.out.write_text(json.dumps(earlier + rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
