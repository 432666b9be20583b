"""Facts about the machine a benchmark ran on, so numbers can be compared honestly."""

from __future__ import annotations

import os
import platform
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

# Distributions whose versions a report names: what is measured, what measures, the peers.
# (distribution name, label); read from the installed metadata, nothing is imported.
LIBRARIES = (
    ("torch", "torch"),
    ("numpy", "numpy"),
    ("scikit-learn", "scikit-learn"),
    ("scipy", "scipy"),
    ("pandas", "pandas"),
    ("pydantic", "pydantic"),
    ("safetensors", "safetensors"),
    ("fastapi", "fastapi"),
    ("uvicorn", "uvicorn"),
    ("xgboost", "xgboost"),
    ("tensorflow-cpu", "tensorflow-cpu"),
    ("tensorflow", "tensorflow"),
    ("keras", "keras"),
    ("lernwerk", "lernwerk"),
)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _cpu_flags() -> set[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def _ram_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)  # kB -> GiB
    except (OSError, ValueError, IndexError):
        pass
    return None


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def version(distribution: str) -> str:
    """The installed version of a distribution, or 'not installed'."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def load_average() -> float | None:
    """The 1-minute load average: other work on the machine skews every timing."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def machine_facts() -> dict[str, Any]:
    """CPU model, cores, RAM, OS, and the versions of Python and every library measured."""
    import torch

    flags = _cpu_flags()
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable_cores(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "bf16_instructions": sorted(flags & {"avx512_bf16", "amx_bf16"}),
        "ram_gib": _ram_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "torch_threads": torch.get_num_threads(),
        "versions": {label: version(dist) for dist, label in LIBRARIES},
        "load_average_1min": load_average(),
    }


def describe(facts: dict[str, Any]) -> str:
    """One line on the machine, for a console or a report."""
    bf16 = ", ".join(facts.get("bf16_instructions") or []) or "none"
    return (
        f"{facts['cpu']}, {facts['usable_cores']} usable cores ({facts['cores']} logical), "
        f"{facts['ram_gib']} GiB RAM, {facts['os']}, torch CPU capability "
        f"{facts.get('cpu_capability')}, bf16 instructions: {bf16}"
    )


def describe_software(facts: dict[str, Any]) -> str:
    """One line with Python and every library's version (missing peers say so)."""
    versions = ", ".join(f"{k} {v}" for k, v in facts["versions"].items())
    return f"Python {facts['python']}, {versions}; torch threads {facts['torch_threads']}"


def matmul_peak(
    dtype: Any = None, *, n: int = 2048, seconds: float = 3.0, threads: int | None = None
) -> dict[str, Any]:
    """The achieved FLOP/s of an n×n @ n×n torch.matmul loop: this machine's practical peak.

    Runs on all usable cores (or `threads`) for about `seconds` after one warm-up product.
    Returns {"gflops", "dtype", "n", "seconds", "threads", "products", "load_1min_before"}.
    """
    import torch

    dtype = dtype or torch.float32
    old = torch.get_num_threads()
    threads = threads or usable_cores()
    torch.set_num_threads(threads)
    try:
        g = torch.Generator().manual_seed(0)
        a = torch.randn(n, n, generator=g).to(dtype)
        b = torch.randn(n, n, generator=g).to(dtype)
        load = load_average()
        torch.matmul(a, b)
        products, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds or products == 0:
            torch.matmul(a, b)
            products += 1
    finally:
        torch.set_num_threads(old)
    return {
        "gflops": round(2 * n**3 * products / elapsed / 1e9, 1),
        "dtype": str(dtype).replace("torch.", ""),
        "n": n,
        "seconds": round(elapsed, 2),
        "threads": threads,
        "products": products,
        "load_1min_before": load,
    }
