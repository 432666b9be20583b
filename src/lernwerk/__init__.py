"""lernwerk: a deep-learning workbench that runs on one laptop, offline.

import lernwerk as lw
run = lw.fit("digits", "lenet", epochs=30, seed=1)
run.history, run.evaluate("test"), run.predict(x)
"""

__version__ = "0.1.0"

from lernwerk.api import Run, Workspace, datasets, fit, load_run, model_summary  # noqa: E402
from lernwerk.config import ModelSpec, RunConfig, TrainConfig  # noqa: E402
from lernwerk.data import Dataset  # noqa: E402
from lernwerk.errors import (  # noqa: E402
    Conflict,
    DataError,
    LernwerkError,
    NotFound,
    RunFailed,
    SpecError,
)
from lernwerk.training import Listener, StopSignal  # noqa: E402

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
