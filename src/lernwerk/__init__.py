"""lernwerk: a deep-learning workbench that runs on one laptop, offline.

import lernwerk as lw
run = lw.fit("digits", "lenet", epochs=30, seed=1)   # or lw.fit(X, y) on arrays
run.history, run.evaluate("test"), run.predict(x)

The public names load on first use (PEP 562): `import lernwerk` stays cheap, so that a
command which trains nothing does not pay for PyTorch.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS = {
    "Run": "lernwerk.api",
    "Workspace": "lernwerk.api",
    "datasets": "lernwerk.api",
    "fit": "lernwerk.api",
    "load_run": "lernwerk.api",
    "model_summary": "lernwerk.api",
    "ModelSpec": "lernwerk.config",
    "RunConfig": "lernwerk.config",
    "TrainConfig": "lernwerk.config",
    "Dataset": "lernwerk.data",
    "Conflict": "lernwerk.errors",
    "DataError": "lernwerk.errors",
    "LernwerkError": "lernwerk.errors",
    "NotFound": "lernwerk.errors",
    "RunFailed": "lernwerk.errors",
    "SpecError": "lernwerk.errors",
    "Listener": "lernwerk.training",
    "StopSignal": "lernwerk.training",
}

if TYPE_CHECKING:
    from lernwerk.api import Run, Workspace, datasets, fit, load_run, model_summary
    from lernwerk.config import ModelSpec, RunConfig, TrainConfig
    from lernwerk.data import Dataset
    from lernwerk.errors import (
        Conflict,
        DataError,
        LernwerkError,
        NotFound,
        RunFailed,
        SpecError,
    )
    from lernwerk.training import Listener, StopSignal


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use and keep the name here."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'lernwerk' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


__all__ = [
    "Conflict",
    "DataError",
    "Dataset",
    "LernwerkError",
    "Listener",
    "ModelSpec",
    "NotFound",
    "Run",
    "RunConfig",
    "RunFailed",
    "SpecError",
    "StopSignal",
    "TrainConfig",
    "Workspace",
    "__version__",
    "datasets",
    "fit",
    "load_run",
    "model_summary",
]
