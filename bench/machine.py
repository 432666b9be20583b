"""Facts about the machine a benchmark ran on, so numbers can be compared honestly."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path
from typing import Any


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _ram_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)  # kB -> GiB
    except (OSError, ValueError, IndexError):
        pass
    return None


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _version(module: str) -> str:
    try:
        mod = __import__(module)
    except ImportError:
        return "not installed"
    return str(getattr(mod, "__version__", "unknown"))


def machine_facts() -> dict[str, Any]:
    """CPU model, cores, RAM, OS, and the versions of Python and the libraries measured."""
    import torch

    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": _usable_cores(),
        "ram_gib": _ram_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "numpy": _version("numpy"),
        "sklearn": _version("sklearn"),
        "xgboost": _version("xgboost"),
        "lernwerk": _version("lernwerk"),
        "load_average_1min": load_average(),
    }


def load_average() -> float | None:
    """The 1-minute load average: other work on the machine skews every timing."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def describe(facts: dict[str, Any]) -> str:
    """One line for a console or a report."""
    return (
        f"{facts['cpu']}, {facts['usable_cores']} usable cores ({facts['cores']} logical), "
        f"{facts['ram_gib']} GiB RAM, {facts['os']}; Python {facts['python']}, torch {facts['torch']} "
        f"({facts['torch_threads']} threads), numpy {facts['numpy']}, scikit-learn {facts['sklearn']}"
    )
