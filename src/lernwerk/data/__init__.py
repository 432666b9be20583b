"""Datasets in memory: built-in sets, splits and input standardisation."""

from lernwerk.data.builtin import (
    BUILTINS,
    Builtin,
    list_builtins,
    load_builtin,
    load_dataset_ref,
    parse_dataset_ref,
)
from lernwerk.data.dataset import Dataset, Kind, Task
from lernwerk.data.preprocessing import Standardizer
from lernwerk.data.splits import Splits, make_splits

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
