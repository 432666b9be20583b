"""The data checks' warnings of a run, on stderr as `lernwerk train` starts it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lernwerk.cli.common import err
from lernwerk.training import Listener

if TYPE_CHECKING:
    from lernwerk.api import Workspace
    from lernwerk.events import RunStarted


class CheckNotes(Listener):
    """Prints each warning the data checks stored with the run, and how many hints."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def on_run_start(self, event: RunStarted) -> None:
        rec = self.ws.store.get_run(event.run_id)
        findings = rec.config.get("checks") or []
        warnings = [f for f in findings if f["severity"] == "warning"]
        for f in warnings:
            err.print(f"data check: {f['message']}; {f['action']}", highlight=False, soft_wrap=True)
        hints = len(findings) - len(warnings)
        if hints:
            err.print(
                f"data check: {hints} hint{'s' if hints > 1 else ''} more "
                f"(lernwerk datasets check {rec.dataset})",
                highlight=False,
                soft_wrap=True,
            )
