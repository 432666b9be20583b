"""Run benchmark suites, print their tables, write the markdown report and the raw JSON.

    python -m bench.run                  # every suite (many minutes), into bench/RESULTS.md
    python -m bench.run --suite digits   # one suite
    python -m bench.run --quick          # every suite on tiny sizes, under a minute each
    python -m bench.run --out /tmp/RESULTS.md

`make bench` runs them all; `lernwerk bench`, run from a checkout, does the same with the
report in `lernwerk-bench/RESULTS.md` by default. Raw numbers go to
`<out's folder>/results/<suite>-<date>.json`, a JSON list that each run appends to.
"""

from __future__ import annotations

import argparse
import importlib
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import SUITES, machine
from bench.common import Log
from bench.report import append_json, latest_records, write_report

DEFAULT_OUT = Path("lernwerk-bench") / "RESULTS.md"  # `lernwerk bench`'s, in the current folder
CHECKOUT_OUT = Path(__file__).resolve().parent / "RESULTS.md"  # this checkout's report


def suite_module(name: str) -> Any:
    if name not in SUITES:
        raise ValueError(f"unknown suite {name!r}; expected one of {', '.join(SUITES)} or all")
    return importlib.import_module(f"bench.{name}")


def expand(suites: str | Sequence[str]) -> list[str]:
    """'all' -> every suite; a name or names -> themselves, checked."""
    names = [suites] if isinstance(suites, str) else list(suites)
    if "all" in names:
        return list(SUITES)
    for n in names:
        suite_module(n)
    return names


def run(
    suites: str | Sequence[str] = "all",
    *,
    quick: bool = False,
    out: Path = DEFAULT_OUT,
    results_dir: Path | None = None,
    options: dict[str, dict[str, Any]] | None = None,
    command: str | None = None,
    log: Log = print,
) -> dict[str, dict[str, Any]]:
    """Run the suites one after another; write the report and JSON; return each record.

    Args:
        suites: "all", a suite name, or several.
        quick: tiny sizes, under a minute per suite (a smoke run, not a measurement).
        out: the markdown report; sections of suites not run are kept.
        results_dir: the raw JSON folder (default `results/` beside `out`).
        options: per suite, keyword arguments for its `run` (tests shrink sizes here).
        command: how the run was started, for the report.
    """
    names = expand(suites)
    out = Path(out)
    results_dir = Path(results_dir) if results_dir is not None else out.parent / "results"
    facts = machine.machine_facts()
    log(f"machine: {machine.describe(facts)}")
    log(f"software: {machine.describe_software(facts)}")
    records: dict[str, dict[str, Any]] = {}
    modules = {n: suite_module(n) for n in SUITES}
    for name in names:
        module = modules[name]
        now = datetime.now(UTC)
        suite_facts = {**facts, "load_average_1min": machine.load_average()}
        log(f"\n== {module.TITLE} (load {suite_facts['load_average_1min']}) ==")
        started = time.perf_counter()
        data = module.run(quick, log=log, **(options or {}).get(name, {}))
        record = {
            "suite": name,
            "quick": quick,
            "started_at": now.isoformat(timespec="seconds"),
            "total_seconds": round(time.perf_counter() - started, 1),
            "machine": suite_facts,
            "command": command or _command(name, quick),
            **data,
        }
        log("")
        log(module.console(record))
        json_path = append_json(results_dir / f"{name}-{now.date().isoformat()}.json", record)
        records[name] = record
        write_report(out, list(records.values()), modules)  # after each suite: nothing is lost
        log(f"\nwrote {out} and {json_path}")
    return records


def _command(suite: str, quick: bool) -> str:
    return f"lernwerk bench --suite {suite}" + (" --quick" if quick else "")


def parser(
    prog: str = "python -m bench.run", default_out: Path = CHECKOUT_OUT
) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    p.add_argument("--suite", choices=[*SUITES, "all"], default="all", help="default: all")
    p.add_argument("--quick", action="store_true", help="tiny sizes: under a minute per suite")
    p.add_argument(
        "--out", type=Path, default=default_out, help=f"the report (default {default_out})"
    )
    p.add_argument(
        "--results-dir",
        type=Path,
        default=None,
        help="raw JSON folder (default: results/ beside --out)",
    )
    p.add_argument(
        "--max-peer-seconds",
        type=float,
        default=300.0,
        help="a peer that would take longer is skipped or stopped, and says so (tabular, digits)",
    )
    p.add_argument(
        "--report-only",
        action="store_true",
        help="run nothing: rewrite the report from the newest JSON record of each suite",
    )
    return p


def options_for(max_peer_seconds: float) -> dict[str, dict[str, Any]]:
    return {
        "tabular": {"max_peer_seconds": max_peer_seconds},
        "digits": {"max_peer_seconds": max_peer_seconds},
    }


def main(
    argv: list[str] | None = None,
    *,
    prog: str = "python -m bench.run",
    default_out: Path = CHECKOUT_OUT,
) -> int:
    args = parser(prog, default_out).parse_args(argv)
    if args.report_only:
        results_dir = args.results_dir or args.out.parent / "results"
        records = latest_records(results_dir)
        if not records:
            raise SystemExit(f"no benchmark records in {results_dir}")
        write_report(args.out, records, {n: suite_module(n) for n in SUITES})
        print(f"rewrote {args.out} from {len(records)} record(s) in {results_dir}")
        return 0
    command = f"{prog} --suite {args.suite}" + (" --quick" if args.quick else "")
    run(
        args.suite,
        quick=args.quick,
        out=args.out,
        results_dir=args.results_dir,
        options=options_for(args.max_peer_seconds),
        command=command,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
