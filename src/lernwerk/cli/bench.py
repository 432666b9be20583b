"""`lernwerk bench`: the benchmark suites against the peers, on this machine.

The suites are a tool of the source checkout (`bench/` beside `src/`), not part of the
installed package. The command finds them in this order: the checkout that
$LERNWERK_BENCH_PATH names, the checkout this lernwerk runs from (an editable install or
PYTHONPATH=src), the current folder; without one it says how to get them.
"""

from __future__ import annotations

import os
import sys
from importlib import import_module
from pathlib import Path
from types import ModuleType

import typer

import lernwerk
from lernwerk.cli.common import EXIT_USAGE, app, err, out

BENCH_PATH_VARIABLE = "LERNWERK_BENCH_PATH"
NOT_FOUND = (
    "the benchmark suites are not part of the installed package; run it from a lernwerk "
    "checkout: python -m bench.run, or make bench (or set LERNWERK_BENCH_PATH to a checkout)"
)


def is_checkout(folder: Path) -> bool:
    """Whether `folder` is a lernwerk source checkout with its `bench/` package."""
    return (folder / "bench" / "__init__.py").is_file() and (folder / "bench" / "run.py").is_file()


def find_checkout(
    variable: str | None, package_file: str | None, cwd: Path
) -> tuple[Path | None, str | None]:
    """(the checkout holding `bench/`, None) or (None, why not); None, None if none is found.

    Args:
        variable: $LERNWERK_BENCH_PATH, if set: the checkout to use, and only that one.
        package_file: lernwerk's `__init__.py`; in a checkout it lies in `<root>/src/lernwerk`.
        cwd: the current folder.
    """
    if variable:
        given = Path(variable).expanduser()
        if is_checkout(given):
            return given.resolve(), None
        return None, f"{BENCH_PATH_VARIABLE}={variable}: no bench/ package (bench/run.py) there"
    candidates = [cwd]
    if package_file:
        source = Path(package_file).resolve().parent.parent  # <root>/src
        if source.name == "src":
            candidates.insert(0, source.parent)
    for folder in candidates:
        if is_checkout(folder):
            return folder.resolve(), None
    return None, None


def load_bench() -> ModuleType:
    """The checkout's `bench` package (its folder put on sys.path); exit 2 if there is none."""
    root, problem = find_checkout(
        os.environ.get(BENCH_PATH_VARIABLE), getattr(lernwerk, "__file__", None), Path.cwd()
    )
    if root is None:
        err.print(f"error: {problem or NOT_FOUND}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_USAGE)
    loaded = sys.modules.get("bench")
    if loaded is not None and Path(loaded.__file__ or "").resolve().parent.parent != root:
        err.print(
            f"error: another module named bench is loaded ({loaded.__file__}); "
            f"expected {root / 'bench'}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_USAGE)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return import_module("bench")


@app.command()
def bench(
    ctx: typer.Context,
    suite: str = typer.Option(
        "all",
        "--suite",
        help="Which suite: tabular, digits, images, predict, ucr, or all.",
    ),
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

    Runs the suites of a lernwerk source checkout (bench/; from the checkout's folder, an
    editable install, or LERNWERK_BENCH_PATH). Writes a markdown report and the raw JSON
    (in results/ beside the report).

    XGBoost and Keras come from the optional extra named bench; a missing peer says so.
    """
    suites = load_bench().SUITES
    if suite not in (*suites, "all"):
        choices = ", ".join(repr(s) for s in (*suites, "all"))
        raise typer.BadParameter(
            f"{suite!r} is not one of {choices}.", ctx=ctx, param_hint="'--suite'"
        )
    run_module = import_module("bench.run")
    run_module.run(
        suite,
        quick=quick,
        out=out_path,
        options=run_module.options_for(max_peer_seconds),
        command=f"lernwerk bench --suite {suite}" + (" --quick" if quick else ""),
        log=lambda line: out.print(line, markup=False, highlight=False, soft_wrap=True),
    )
