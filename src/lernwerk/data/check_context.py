"""What every data check shares: the finding, and the samples a check looks at.

`checks.check_dataset` runs the checks; `check_classes` and `check_samples` hold them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch

from lernwerk.data.dataset import Dataset
from lernwerk.data.splits import Splits

Severity = Literal["blocker", "warning", "hint"]
SEVERITIES: tuple[Severity, ...] = ("blocker", "warning", "hint")

SAMPLE_LIMIT = 20_000  # samples looked at; larger sets are sampled (seeded)
TABLE_SAMPLE_LIMIT = 100_000  # rows of a table looked at
_CHUNK = 1024


@dataclass(frozen=True)
class Finding:
    """One thing a check found: its code, severity, numbers and what it means.

    Args:
        code: Names the check; the page's text for it is under `check.<code>.*`.
        severity: "blocker" (training refuses), "warning" or "hint".
        numbers: The facts behind it, scalars or short strings (the page fills its text
            with them).
        message: What was found, in English, with the numbers.
        why: Why it matters, one sentence.
        action: What to do, or what lernwerk does about it.
    """

    code: str
    severity: Severity
    numbers: dict[str, Any]
    message: str
    why: str
    action: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "numbers": dict(self.numbers),
            "message": self.message,
            "why": self.why,
            "action": self.action,
        }

    def line(self) -> str:
        """The finding as one line: what, then what to do."""
        return f"{self.message}; {self.action}"


class CheckContext:
    """The dataset, its splits, and the (sampled) samples the checks look at."""

    def __init__(self, ds: Dataset, splits: Splits, task: str) -> None:
        self.ds, self.splits, self.task = ds, splits, task
        self.classify = task == "classification" and ds.task == "classification"
        n = len(ds)
        self.split_of = np.full(n, -1, dtype=np.int8)  # 0 train, 1 val, 2 test, -1 unused
        for code, idx in enumerate((splits.train, splits.val, splits.test)):
            self.split_of[idx.numpy()] = code
        limit = TABLE_SAMPLE_LIMIT if ds.kind == "table" else SAMPLE_LIMIT
        if n > limit:
            rng = np.random.default_rng(0)
            self.index = np.sort(rng.choice(n, size=limit, replace=False))
        else:
            self.index = np.arange(n)
        self._x: torch.Tensor | None = None

    @property
    def sampled(self) -> bool:
        return len(self.index) < len(self.ds)

    def x(self) -> torch.Tensor:
        """The looked-at samples, in memory."""
        if self._x is None:
            x = self.ds.x
            self._x = x[self.index] if self.sampled else x[:]
        return self._x

    def chunks(self) -> Any:
        """The looked-at samples, a chunk at a time (images read from disk stay small)."""
        on_disk = self.ds.on_disk
        x = self.ds.x if on_disk else self.x()  # in memory: gathered once, then sliced
        for start in range(0, len(self.index), _CHUNK):
            if on_disk and self.sampled:
                yield x[self.index[start : start + _CHUNK]]
            else:
                yield x[start : start + _CHUNK]


def _finding(
    code: str, severity: Severity, numbers: dict[str, Any], message: str, why: str, action: str
) -> Finding:
    return Finding(code, severity, numbers, message, why, action)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _are(n: int) -> str:
    return "is an exact copy" if n == 1 else "are exact copies"


def _names(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", … (+{len(names) - limit})" if len(names) > limit else "")
