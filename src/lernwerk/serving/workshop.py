"""Workshop mode: one server, a workspace per participant, the trainer's view over all.

`lernwerk serve --workshop` keeps the server's own workspace for the trainer (who holds the
server token) and gives each participant who joins a workspace of their own under
`participants/<name>/` in it, with a token that opens that workspace and nothing else. The
registry (`workshop.json`) keeps the participants and the SHA-256 of their tokens, so the
tokens survive a restart without being stored in clear.

Trainings of everyone share the server's job manager, whose queue is fair between owners
(see `JobManager`): nobody has two trainings running while another participant waits.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
import time
from typing import Any

from lernwerk.api import Workspace
from lernwerk.errors import Conflict, NotFound, SpecError
from lernwerk.store import atomic_write_json

REGISTRY = "workshop.json"
PARTICIPANTS = "participants"
NAME = re.compile(r"[A-Za-z0-9ÄÖÜäöüßÀ-ÿ][A-Za-z0-9ÄÖÜäöüßÀ-ÿ _.-]{0,31}")
LEADERBOARD_DATASET = "smileys"  # the shared task: best test accuracy on the built-in smileys
MAX_PARTICIPANTS = 200


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_name(name: str) -> str:
    """A participant's name, trimmed; raises `SpecError` naming what is wrong."""
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        raise SpecError("enter a name to join the workshop", where="name")
    if "/" in name or "\\" in name:
        raise SpecError(f"a name cannot hold '/' or '\\'; received {name!r}", where="name")
    if not NAME.fullmatch(name) or name.endswith("."):
        raise SpecError(
            "a name is 1 to 32 letters, digits, spaces, '.', '_' or '-', starting with a "
            f"letter or digit; received {name!r}",
            where="name",
        )
    return name


class Workshop:
    """The participants of a workshop and their workspaces, under the trainer's workspace."""

    def __init__(self, trainer: Workspace) -> None:
        self.trainer = trainer
        self.root = trainer.path / PARTICIPANTS
        self._registry = trainer.path / REGISTRY
        self._lock = threading.Lock()
        self._spaces: dict[str, Workspace] = {}
        self._people: dict[str, dict[str, Any]] = {}
        if self._registry.is_file():
            self._people = json.loads(self._registry.read_text(encoding="utf-8"))["participants"]
        self._by_token = {p["token_sha256"]: name for name, p in self._people.items()}

    # -- joining ----------------------------------------------------------------------------

    def join(self, name: str) -> dict[str, str]:
        """Make a participant with a workspace of their own; returns `{name, token}`.

        Raises:
            SpecError: an empty name, one with '/' or other characters a name cannot have.
            Conflict: the name is taken (names compare without case), or the room is full.
        """
        name = check_name(name)
        with self._lock:
            if any(n.casefold() == name.casefold() for n in self._people):
                raise Conflict(f"the name {name!r} is taken; choose another", where="name")
            if len(self._people) >= MAX_PARTICIPANTS:
                raise Conflict(f"the workshop is full ({MAX_PARTICIPANTS} participants)")
            token = secrets.token_urlsafe(18)
            space = Workspace(self.root / name)  # creates the folder and its store
            self._people[name] = {"token_sha256": _sha(token), "joined_at": time.time()}
            self._by_token[_sha(token)] = name
            self._spaces[name] = space
            atomic_write_json(self._registry, {"participants": self._people})
        return {"name": name, "token": token}

    def participant(self, token: str | None) -> str | None:
        """The participant a token belongs to, or None."""
        return self._by_token.get(_sha(token)) if token else None

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._people, key=lambda n: self._people[n]["joined_at"])

    def workspace(self, name: str) -> Workspace:
        """A participant's workspace (opened once, then kept)."""
        with self._lock:
            if name not in self._people:
                raise NotFound(f"no participant {name!r}", where="name")
            space = self._spaces.get(name)
            if space is None:
                space = self._spaces[name] = Workspace(self.root / name)
            return space

    # -- the trainer's view -----------------------------------------------------------------

    def room(self, jobs: Any) -> dict[str, Any]:
        """Every participant with their datasets, runs and trainings, and the leaderboard
        (each participant's best test accuracy on `LEADERBOARD_DATASET`)."""
        people, board = [], []
        for name in self.names():
            ws = self.workspace(name)
            runs = [r.row() for r in ws.runs()]
            stored = [d["name"] for d in ws.list_datasets() if d["source"] == "workspace"]
            owned = [j for j in jobs.jobs() if j.request.owner == name and not j.ended]
            people.append(
                {
                    "name": name,
                    "joined_at": self._people[name]["joined_at"],
                    "datasets": stored,
                    "runs": runs,
                    "running": sum(j.status == "running" for j in owned),
                    "queued": sum(j.status == "queued" for j in owned),
                }
            )
            best = _best_on(runs, LEADERBOARD_DATASET)
            if best is not None:
                board.append({"name": name, **best})
        board.sort(key=lambda b: -b["test_accuracy"])
        return {"participants": people, "leaderboard": board, "task": LEADERBOARD_DATASET}

    def push(self, dataset: str | None = None, model: str | None = None) -> dict[str, Any]:
        """Copy a dataset and/or a saved model of the trainer's workspace to everyone;
        a participant who has one of that name keeps theirs (listed in `skipped`)."""
        if not dataset and not model:
            raise SpecError("name a dataset or a model to push", where="body")
        ds = self.trainer.load_dataset(dataset) if dataset else None
        spec = self.trainer.resolve_model(model) if model else None
        pushed, skipped = [], []
        for name in self.names():
            ws = self.workspace(name)
            if ds is not None:
                if ws.store.has_dataset(dataset):
                    skipped.append({"name": name, "dataset": dataset})
                else:
                    ws.save_dataset(ds, dataset)
            if spec is not None:
                ws.save_model(model, spec.to_dict())
            pushed.append(name)
        return {"dataset": dataset, "model": model, "pushed": pushed, "skipped": skipped}


def _best_on(runs: list[dict[str, Any]], dataset: str) -> dict[str, Any] | None:
    scored = [
        r
        for r in runs
        if r.get("dataset") == dataset and isinstance(r.get("test_accuracy"), (int, float))
    ]
    if not scored:
        return None
    best = max(scored, key=lambda r: r["test_accuracy"])
    return {
        "run_id": best["id"],
        "model": best.get("model"),
        "test_accuracy": best["test_accuracy"],
    }
