"""The playground core: the idle drop of the session pool, and frames during play."""

from __future__ import annotations

import time

import pytest

from lernwerk.training.playground import (
    PlaygroundSession,
    PlaygroundSettings,
    SessionPool,
    TooManySessions,
    builtin_data,
)


def _session(**kw: object) -> PlaygroundSession:
    settings = PlaygroundSettings(data="xor", samples=40, **kw)
    return PlaygroundSession(settings, builtin_data("xor", 40, 0.0, 0))


def test_an_idle_session_is_dropped_to_make_room() -> None:
    pool = SessionPool(cap=1, idle_s=0.2)
    first = pool.add(_session())
    with pytest.raises(TooManySessions):
        pool.add(_session())
    time.sleep(0.3)
    pool.add(_session())
    assert len(pool) == 1 and first.id not in pool._sessions
    pool.shutdown()


def test_frames_come_while_it_plays() -> None:
    session = _session(hidden=[8, 8, 8, 8, 8, 8])
    session.play()
    try:
        epochs = []
        deadline = time.monotonic() + 20
        while len(set(epochs)) < 3 and time.monotonic() < deadline:
            epochs.append(session.frame()["epoch"])
        assert len(set(epochs)) >= 3
    finally:
        session.close()
    assert not session.running
