"""The web face: a FastAPI app over `lernwerk.api`, and the page it serves.

`create_app` and `Settings` are imported on first use, so that a training worker, which
imports `lernwerk.serving.jobs`, does not load FastAPI.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Settings", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from lernwerk.serving.app import create_app

        return create_app
    if name == "Settings":
        from lernwerk.serving.settings import Settings

        return Settings
    raise AttributeError(name)
