"""How many cores a training step can use now, on a machine that others may share.

On a busy machine a second intra-op thread does not add a core: OpenMP's threads wait for
each other at every operator, and a thread that the scheduler has parked holds up the
rest. Measured in bench/RESULTS.md (2 cores, 1-min load 4-7 from other work): the Smiley
CNN on 64×64 solder joints trains 4.9x faster on 1 thread than on 2 (58.2 s -> 11.9 s
for 3 epochs, the same accuracy), and one prediction takes 0.63 ms instead of 20 ms.
So the trainer looks, once per run, at how many of its cores sat idle a moment ago.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

PROBE_SECONDS = 0.1  # /proc/stat counts in 10 ms ticks: 10 ticks per core


def _cpu_times(cpus: set[int]) -> tuple[int, int] | None:
    """(idle, total) clock ticks summed over `cpus`, from /proc/stat; None where unknown."""
    try:
        lines = Path("/proc/stat").read_text().splitlines()
    except OSError:
        return None
    idle = total = 0
    for line in lines:
        name, _, rest = line.partition(" ")
        if not name.startswith("cpu") or name == "cpu" or int(name[3:]) not in cpus:
            continue
        ticks = [int(v) for v in rest.split()]
        idle += ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
        total += sum(ticks[:8])  # user nice system idle iowait irq softirq steal
    return (idle, total) if total else None


def idle_cores(window_s: float = PROBE_SECONDS) -> float | None:
    """How many of this process's cores were idle over the last `window_s` seconds.

    None where the system does not say (not Linux).
    """
    try:
        cpus = set(os.sched_getaffinity(0))
    except AttributeError:
        return None
    before = _cpu_times(cpus)
    if before is None:
        return None
    time.sleep(window_s)
    after = _cpu_times(cpus)
    if after is None or after[1] <= before[1]:
        return None
    return len(cpus) * (after[0] - before[0]) / (after[1] - before[1])


def free_threads(available: int) -> int:
    """The threads worth using now: the idle cores, rounded, between 1 and `available`."""
    if available <= 1:
        return 1
    idle = idle_cores()
    if idle is None:
        return available
    return max(1, min(available, int(idle + 0.5)))
