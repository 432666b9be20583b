"""A run's progress as Server-Sent Events, read from the store's events table.

The worker writes events to the store; this generator polls it (a short read every
`poll_s`) and relays what is new: `id:` the event id, `event:` its type in snake case
(`epoch_ended`), `data:` its payload as JSON with NaN and infinity as null.

The stream ends after a terminal event, held back until the run's record is final (status,
weights and metrics saved), so that a client that reads the run then sees it. A run that
ended without a terminal event stored (it never started, or its process died before
`reconcile` noticed) gets one made from its status: a client always sees an end and
does not reconnect for ever.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from sse_starlette import ServerSentEvent
from starlette.concurrency import run_in_threadpool

from lernwerk.serving.responses import dumps

if TYPE_CHECKING:
    from lernwerk.store import WorkspaceStore

TERMINAL = ("run_finished", "run_stopped", "run_failed", "run_interrupted")
_ACTIVE = ("created", "running")
_BATCH = 500  # events read at once
_LIVENESS_S = 5.0  # how often a running run's process is looked at
_FINISH_WAIT_S = 120.0  # the longest a terminal event waits for the run's final record


def snake(name: str) -> str:
    """'EpochEnded' -> 'epoch_ended'."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


async def run_events(
    store: WorkspaceStore,
    run_id: str,
    after: int,
    is_active: Callable[[], bool],
    poll_s: float = 0.2,
) -> AsyncIterator[ServerSentEvent]:
    """Yield the run's events after id `after` until a terminal one.

    Args:
        is_active: Whether this server still has a job for the run (queued or starting:
            the run may not have written anything yet).
    """
    last, checked = after, asyncio.get_running_loop().time()
    while True:
        events = await run_in_threadpool(store.events, run_id, last, _BATCH)
        for event in events:
            kind = snake(event.type)
            last = event.id
            if kind in TERMINAL:  # sent once the run's record is final (status, metrics)
                await _until_recorded(store, run_id, poll_s)
            yield ServerSentEvent(data=dumps(event.payload), event=kind, id=str(event.id))
            if kind in TERMINAL:
                return
        if len(events) == _BATCH:
            continue  # more are waiting
        record = await run_in_threadpool(store.get_run, run_id)
        if record.status not in _ACTIVE and not is_active():
            # everything the run wrote was written before its status changed
            events = await run_in_threadpool(store.events, run_id, last, _BATCH)
            if events:
                continue
            kind = f"run_{record.status}"
            data = dumps({"status": record.status, "error": record.error, "from_status": True})
            yield ServerSentEvent(data=data, event=kind, id=str(last))
            return
        now = asyncio.get_running_loop().time()
        if record.status in ("running", "created") and now - checked > _LIVENESS_S:
            checked = now  # a run whose process died unnoticed (e.g. a killed CLI) ends here
            if not store.is_alive(record):
                await run_in_threadpool(store.reconcile)
        await asyncio.sleep(poll_s)


async def _until_recorded(store: WorkspaceStore, run_id: str, poll_s: float) -> None:
    """Wait while the run's process saves its weights and final metrics after its last
    event (bounded: a process that dies meanwhile must not hold the stream)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _FINISH_WAIT_S
    while loop.time() < deadline:
        record = await run_in_threadpool(store.get_run, run_id)
        if record.status != "running" or not store.is_alive(record):
            return
        await asyncio.sleep(poll_s / 2)
