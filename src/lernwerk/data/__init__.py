"""Datasets in memory: built-in sets, splits and input standardisation.

The names load on first use (PEP 562), like the package root's: listing the built-ins
(`lernwerk.data.registry`) does not load PyTorch or a generator.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

# public name -> the module that defines it
_EXPORTS = {
    "BUILTINS": "lernwerk.data.registry",
    "Builtin": "lernwerk.data.registry",
    "list_builtins": "lernwerk.data.registry",
    "parse_dataset_ref": "lernwerk.data.registry",
    "load_builtin": "lernwerk.data.builtin",
    "load_dataset_ref": "lernwerk.data.builtin",
    "Dataset": "lernwerk.data.dataset",
    "Kind": "lernwerk.data.dataset",
    "Task": "lernwerk.data.dataset",
    "Standardizer": "lernwerk.data.preprocessing",
    "Splits": "lernwerk.data.splits",
    "make_splits": "lernwerk.data.splits",
}

if TYPE_CHECKING:
    from lernwerk.data.builtin import load_builtin, load_dataset_ref
    from lernwerk.data.dataset import Dataset, Kind, Task
    from lernwerk.data.preprocessing import Standardizer
    from lernwerk.data.registry import BUILTINS, Builtin, list_builtins, parse_dataset_ref
    from lernwerk.data.splits import Splits, make_splits


def __getattr__(name: str) -> Any:
    """A public name's module imported on first use; a submodule (`lernwerk.data.builtin`)
    as an attribute, as when this package imported it eagerly."""
    module = _EXPORTS.get(name)
    if module is not None:
        value = getattr(import_module(module), name)
    elif not name.startswith("__"):
        try:
            value = import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


__all__ = [
    "BUILTINS",
    "Builtin",
    "Dataset",
    "Kind",
    "Splits",
    "Standardizer",
    "Task",
    "list_builtins",
    "load_builtin",
    "load_dataset_ref",
    "make_splits",
    "parse_dataset_ref",
]
