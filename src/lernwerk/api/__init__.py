"""The public Python API, the one entry that both the CLI and the web server use.

import lernwerk as lw
run = lw.fit("xor", "mlp", epochs=50)
run.history            # a pandas DataFrame, one row per epoch
run.evaluate("test")   # accuracy, per-class precision/recall/F1, confusion matrix ...
run.predict(x)         # probabilities per class

The names load on first use (PEP 562): a command that lists runs need not load PyTorch.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lernwerk.api.datasets import DatasetsNamespace
    from lernwerk.api.run import Run
    from lernwerk.api.workspace import Workspace
    from lernwerk.config import ModelSpec
    from lernwerk.data import Dataset
    from lernwerk.models import ModelSummary

# -- module-level conveniences --------------------------------------------------------------


def _workspace(workspace: Workspace | str | Path | None) -> Workspace:
    from lernwerk.api.workspace import Workspace

    return workspace if isinstance(workspace, Workspace) else Workspace(workspace)


def fit(
    dataset: Any,
    *args: Any,
    model: str | dict[str, Any] | ModelSpec | None = None,
    workspace: Workspace | str | Path | None = None,
    **train: Any,
) -> Run:
    """Train a model on a dataset in a workspace (default: ./lernwerk-workspace).

    `lw.fit("digits", "lenet", epochs=30)` trains on a dataset by reference; `lw.fit(X, y)`
    on samples held as a NumPy array or a pandas DataFrame, with their labels `y`, as
    scikit-learn users write it (then the model is the third argument or `model=`, by
    default the one the train page would pick for such data). The samples are stored in
    the workspace as a dataset named `arrays-<hash of its content>` (the same data, the
    same dataset; `lw.datasets.list()` shows it), so the run can be evaluated, compared
    and exported like any other; `lernwerk.data.arrays` says which shapes mean what.

    Raises:
        SpecError, DataError, NotFound: bad input, before anything is written (for
            arrays: shapes that fit no kind, or X and y of different lengths).
        RunFailed: training started and failed; the run is stored as `failed`.
    """
    from lernwerk.data.arrays import is_array_like
    from lernwerk.errors import SpecError

    if is_array_like(dataset):
        from lernwerk.api.arrays import fit_arrays

        if len(args) > 2:
            raise SpecError("expected lw.fit(X, y) or lw.fit(X, y, model)", where="model")
        y, positional = (list(args) + [None, None])[:2]
        if positional is not None and model is not None:
            raise SpecError("give the model once: lw.fit(X, y, model) or model=…", where="model")
        model = positional if positional is not None else model
        return fit_arrays(_workspace(workspace), dataset, y, model, **train)
    if len(args) > 1 or (args and model is not None):
        raise SpecError(
            "expected lw.fit(dataset, model), or lw.fit(X, y, model) for arrays", where="model"
        )
    return _workspace(workspace).fit(dataset, args[0] if args else model, **train)


def load_run(ref: str, workspace: Workspace | str | Path | None = None) -> Run:
    """A stored run by id, unique id prefix or name."""
    return _workspace(workspace).run(ref)


def model_summary(
    model: str | dict[str, Any] | ModelSpec,
    *,
    dataset: str | Dataset | None = None,
    input_shape: tuple[int, ...] | None = None,
    outputs: int | None = None,
    workspace: Workspace | str | Path | None = None,
) -> ModelSummary:
    """Summarise a model for a dataset's input (and classes) or for a given input shape.

    A model name may be a preset or, with a workspace, a model saved there.

    Raises:
        SpecError: the model does not fit the input; the message names the layer.
    """
    if dataset is None and workspace is None:  # no workspace needed (nor created)
        from lernwerk.models import build_network, resolve_model, summarize

        return summarize(build_network(resolve_model(model), input_shape, outputs))
    return _workspace(workspace).model_summary(
        model, dataset=dataset, input_shape=input_shape, outputs=outputs
    )


def __getattr__(name: str) -> Any:
    """`Run` and `Workspace` load with their modules (and PyTorch) on first use."""
    if name == "Run":
        from lernwerk.api.run import Run

        return Run
    if name == "Workspace":
        from lernwerk.api.workspace import Workspace

        return Workspace
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _Api(types.ModuleType):
    """This module, with `datasets` the notebook namespace built on first use.

    Importing the submodule `lernwerk.api.datasets` sets the package's attribute `datasets`
    to that module; the setter keeps the public name meaning the namespace.
    """

    _namespace: DatasetsNamespace | None = None

    @property
    def datasets(self) -> DatasetsNamespace:
        if _Api._namespace is None:
            from lernwerk.api.datasets import DatasetsNamespace
            from lernwerk.api.workspace import Workspace

            _Api._namespace = DatasetsNamespace(Workspace)
        return _Api._namespace

    @datasets.setter
    def datasets(self, value: Any) -> None:
        if not isinstance(value, types.ModuleType):
            raise AttributeError("lernwerk.api.datasets is read-only")


sys.modules[__name__].__class__ = _Api

__all__ = ["Run", "Workspace", "datasets", "fit", "load_run", "model_summary"]
