"""`lernwerk bench`: the benchmark suites against the peers, on this machine."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from lernwerk.bench import SUITES
from lernwerk.cli.common import app, out

Suite = Enum("Suite", {name: name for name in (*SUITES, "all")}, type=str)  # type: ignore[misc]


@app.command()
def bench(
    suite: Suite = typer.Option("all", "--suite", help="Which suite to run."),
    quick: bool = typer.Option(
        False, "--quick", help="Tiny sizes: under a minute per suite, to see that it works."
    ),
    out_path: Path = typer.Option(
        Path("lernwerk-bench/RESULTS.md"),
        "--out",
        help="The markdown report; sections of suites not run are kept.",
    ),
    max_peer_seconds: float = typer.Option(
        300.0, "--max-peer-seconds", help="A peer that would take longer is skipped or stopped."
    ),
) -> None:
    """Benchmark lernwerk against plain PyTorch, scikit-learn, XGBoost and Keras here.

    Writes a markdown report and the raw JSON (in results/ beside the report).

    XGBoost and Keras come from the optional extra named bench; a missing peer says so.
    """
    from lernwerk.bench.run import options_for, run

    name = suite.value
    run(
        name,
        quick=quick,
        out=out_path,
        options=options_for(max_peer_seconds),
        command=f"lernwerk bench --suite {name}" + (" --quick" if quick else ""),
        log=lambda line: out.print(line, markup=False, highlight=False, soft_wrap=True),
    )
