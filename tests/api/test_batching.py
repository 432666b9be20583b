"""Group commit: concurrent changes applied together, each caller getting its own answer."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import pytest

from lernwerk.api.batching import GroupCommit
from lernwerk.errors import DataError


def test_queued_changes_are_applied_in_one_batch_with_their_own_results() -> None:
    group = GroupCommit()
    gate = threading.Lock()
    batches: list[list[int]] = []

    @contextmanager
    def lock():
        with gate:
            yield

    def apply(changes: list[int]) -> list[object]:
        time.sleep(0.05)  # a slow save: the others queue up meanwhile
        batches.append(changes)
        return [DataError(f"bad {c}") if c == 3 else c * 10 for c in changes]

    results: dict[int, object] = {}

    def call(c: int) -> None:
        try:
            results[c] = group.submit("ds", c, lock, apply)
        except DataError as exc:
            results[c] = exc

    threads = [threading.Thread(target=call, args=(c,)) for c in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(c for batch in batches for c in batch) == list(range(8))
    assert len(batches) < 8  # some were applied together
    assert isinstance(results[3], DataError) and str(results[3]) == "bad 3"
    assert {c: r for c, r in results.items() if c != 3} == {c: c * 10 for c in range(8) if c != 3}


def test_a_failing_save_fails_every_change_of_its_batch() -> None:
    group = GroupCommit()

    @contextmanager
    def lock():
        yield

    def apply(changes: list[int]) -> list[object]:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        group.submit("ds", 1, lock, apply)
