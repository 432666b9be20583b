"""Group commit: concurrent changes to one stored thing, applied in one load-and-save.

When thirty people draw into one dataset at once, each drawing would otherwise load the
whole dataset, append one sample and write it back, one after the other. Here a change
waits in a queue per key; whoever gets the (cross-process) lock next takes every change
queued so far, applies them in one go and saves once. Each caller still gets its own
result or its own error.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any


class _Ticket:
    def __init__(self, change: Any) -> None:
        self.change = change
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None


class GroupCommit:
    """Queue changes per key and apply the queued ones together under the key's lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, list[_Ticket]] = {}

    def submit(
        self,
        key: str,
        change: Any,
        lock: Callable[[], AbstractContextManager[Any]],
        apply: Callable[[list[Any]], list[Any]],
    ) -> Any:
        """Apply `change` (possibly with others queued for `key`) and return its result.

        Args:
            lock: Opens the key's exclusive lock (e.g. the dataset's file lock).
            apply: Applies a list of changes in order and saves once; returns one result
                per change, an exception instance for a change that failed on its own.
                If it raises, every change of the batch fails with that error.
        """
        ticket = _Ticket(change)
        with self._lock:
            self._pending.setdefault(key, []).append(ticket)
        with lock():
            batch = self._take(key)
            if batch:  # else an earlier holder of the lock applied ours already
                self._apply(batch, apply)
        ticket.done.wait()
        if ticket.error is not None:
            raise ticket.error
        return ticket.result

    def _take(self, key: str) -> list[_Ticket]:
        with self._lock:
            return self._pending.pop(key, [])

    @staticmethod
    def _apply(batch: list[_Ticket], apply: Callable[[list[Any]], list[Any]]) -> None:
        try:
            results = apply([t.change for t in batch])
        except BaseException as exc:
            for t in batch:
                t.error = exc
                t.done.set()
            raise
        for t, result in zip(batch, results, strict=True):
            if isinstance(result, BaseException):
                t.error = result
            else:
                t.result = result
            t.done.set()
