"""Tasks own their behaviour: outside `training/tasks*.py` no code asks a run's task for its
name, and a new task is one class plus `register_task`, trained through `Workspace.fit`.

Two things are called "task" in lernwerk. A *dataset's* `task` ("classification" or
"regression") is the kind of labels it holds, a property of the data: code under `data/`
(and anywhere given a dataset) may branch on it. A *run's* task (classification,
regression, forecasting, anomaly or a registered one) decides how the run trains,
evaluates and predicts: only the task classes may branch on it.
"""

from __future__ import annotations

import ast
import re
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import lernwerk
from lernwerk import Workspace
from lernwerk.config import TrainConfig
from lernwerk.errors import SpecError
from lernwerk.training.defaults import default_model
from lernwerk.training.tasks import TASKS, ClassificationTask, RegressionTask, Task, register_task
from lernwerk.training.tasks_registry import resolve_task
from lernwerk.training.tasks_sequence import ForecastingTask

SOURCE = Path(lernwerk.__file__).parent

# ------------------------------------------------------------------ no branches on the name

RUN_ONLY = {
    "anomaly",
    "forecasting",
    "generate",
}  # never a dataset's kind of labels: always a run's task
LABEL_KINDS = {"classification", "regression"}  # a dataset's labels, or a run's task
# expressions that hold a run's task name (a dataset's is `ds.task`, `rec.task`, ...)
RUN_TASK_TEXT = re.compile(
    r"\btask_name\b|\.task\.name\b|\b(cfg|config)\.task\b|\[['\"]train['\"]\]\[['\"]task['\"]\]"
)


def _constants(node: ast.AST) -> set[str]:
    """The string constants of an expression and of the tuples, lists and sets in it."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return set().union(*(_constants(e) for e in node.elts)) if node.elts else set()
    return set()


def run_task_branches(source: str) -> list[tuple[int, str]]:
    """(line, code) of each place that branches on a run's task name: a comparison with
    (or a choice of) "anomaly" or "forecasting", and a comparison of a run's task (an
    expression like `cfg.task`, `p.task.name`, `task_name`, or a name assigned from one)
    with "classification" or "regression"."""
    tree = ast.parse(source)
    holds_run_task: set[str] = set()  # names assigned from a run's task
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and RUN_TASK_TEXT.search(ast.unparse(node.value)):
            holds_run_task |= {t.id for t in node.targets if isinstance(t, ast.Name)}

    def is_run_task(expr: ast.AST) -> bool:
        if isinstance(expr, ast.Name) and expr.id in holds_run_task:
            return True
        return bool(RUN_TASK_TEXT.search(ast.unparse(expr)))

    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            names = set().union(*(_constants(o) for o in operands))
            if names & RUN_ONLY or (names & LABEL_KINDS and any(map(is_run_task, operands))):
                found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.IfExp) and (_constants(node.body) | _constants(node.orelse)) & (
            RUN_ONLY
        ):
            found.append((node.lineno, ast.unparse(node)))
        elif isinstance(node, ast.MatchValue) and _constants(node.value) & RUN_ONLY:
            found.append((node.lineno, ast.unparse(node.value)))
    return sorted(set(found))


def flagged_lines(snippet: str) -> list[int]:
    return [line for line, _ in run_task_branches(textwrap.dedent(snippet))]


def test_the_checker_finds_the_branches_that_were_there() -> None:
    # each snippet is code as it stood before the tasks owned their behaviour
    assert flagged_lines('return "autoencoder1d" if task == "anomaly" else "fcn1d"') == [1]
    old_resolve = """
        name = cfg.task or ("forecasting" if ds.meta.get("forecast") else ds.task)
        if name == "classification" and ds.task == "regression":
            raise SpecError("numeric targets")
        if name == "forecasting" and not ds.meta.get("forecast"):
            raise SpecError("no windows")
    """
    assert flagged_lines(old_resolve) == [2, 3, 5]
    old_plan = """
        if task_name == "classification" and ds.classes:
            check_every_class_has_samples(ds)
        classes = len(ds.classes) if task_name == "classification" else 0
    """
    assert flagged_lines(old_plan) == [2, 4]
    old_view = """
        task = predictor.task.name
        if task == "anomaly":
            pass
        if task in ("classification", "regression"):
            pass
        match p.task.name:
            case "forecasting":
                pass
    """
    assert flagged_lines(old_view) == [3, 5, 8]


def test_the_checker_lets_data_code_branch_on_a_datasets_labels() -> None:
    data_code = """
        if ds.task == "classification":
            pass
        if self.task not in ("classification", "regression"):
            pass
        dtype = np.int64 if task == "classification" else np.float32
        regression = rec.task == "regression"
        other = "regression" if task == "classification" else "classification"
    """
    assert run_task_branches(textwrap.dedent(data_code)) == []


def source_files() -> Iterator[Path]:
    for path in sorted(SOURCE.rglob("*.py")):
        rel = path.relative_to(SOURCE).as_posix()
        if not re.fullmatch(r"training/tasks\w*\.py", rel):
            yield path


def test_no_code_outside_the_tasks_branches_on_a_runs_task() -> None:
    files = list(source_files())
    rels = {p.relative_to(SOURCE).as_posix() for p in files}
    # the scan sees the code that runs, evaluates and shows a run, not the task classes
    assert {"api/run.py", "api/evaluation_view.py", "training/run.py"} <= rels
    assert {"training/defaults.py", "export/bundle.py", "serving/app.py"} <= rels
    assert not any(r.startswith("training/tasks") for r in rels) and len(files) > 50
    found = [
        f"{p.relative_to(SOURCE)}:{line}: {code}"
        for p in files
        for line, code in run_task_branches(p.read_text(encoding="utf-8"))
    ]
    assert found == [], "move these into the task classes:\n" + "\n".join(found)


# ------------------------------------------------------------------ a task in one new class


@dataclass
class MedianTask(Task):
    """Toy: one value per sample learnt with the absolute error (the conditional median)."""

    name: ClassVar[str] = "toy_median"
    score_name: ClassVar[str] = "mae"
    losses: ClassVar[tuple[str, ...]] = ("mae",)

    @classmethod
    def create(
        cls, loss: str | None, *, classes: list[str], y_train: torch.Tensor | None, **options: Any
    ) -> Task:
        return cls(loss=cls._resolve_loss(loss), num_outputs=1)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Task:
        return cls(
            loss=d["loss"], num_outputs=d["num_outputs"], output_activation=d["output_activation"]
        )

    @classmethod
    def check_data(cls, ds: lernwerk.Dataset) -> None:
        if ds.task != "regression":
            raise SpecError(f"toy_median needs numeric targets; '{ds.name}' has classes")

    def targets(self, y: torch.Tensor) -> torch.Tensor:
        return y.float().unsqueeze(1)  # (N, 1)

    def loss_fn(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return F.l1_loss(outputs, targets)

    def batch_score(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return (outputs - targets).abs().sum()

    def predict(self, outputs: torch.Tensor, inputs: torch.Tensor | None = None) -> torch.Tensor:
        return outputs.float()  # (N, 1)

    def metrics(
        self, y_true: np.ndarray, predictions: np.ndarray, inputs: np.ndarray | None = None
    ) -> dict[str, Any]:
        return {"median_error": float(np.median(np.abs(predictions[:, 0] - y_true)))}


@pytest.fixture
def toy_task() -> Iterator[type[Task]]:
    register_task(MedianTask)  # the one place a new task is made known
    yield MedianTask
    TASKS.pop(MedianTask.name)


def lines(name: str = "lines", n: int = 300) -> lernwerk.Dataset:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 3, generator=g)
    y = x @ torch.tensor([2.0, -1.0, 0.5]) + 0.05 * torch.randn(n, generator=g)
    return lernwerk.Dataset(
        name=name,
        kind="table",
        task="regression",
        x=x,
        y=y,
        classes=[],
        feature_names=["a", "b", "c"],
        source={},
    )


def test_a_registered_task_trains_evaluates_and_predicts_through_fit(
    toy_task: type[Task], tmp_path: Path
) -> None:
    ws = Workspace(tmp_path / "ws")
    ds = lines()
    run = ws.fit(ds, "mlp", task="toy_median", epochs=15, seed=0)
    assert run.status == "finished" and run.config["train"]["task"] == "toy_median"
    assert isinstance(run.predictor.task, MedianTask)  # the saved model names the toy task
    test = run.metrics["test"]
    assert set(test) == {"median_error"}
    y = ds.y.numpy()
    assert test["median_error"] < float(np.median(np.abs(y - np.median(y)))) / 3

    view = run.evaluation("test")  # the default view: values, the largest errors first
    assert view["task"] == "toy_median" and view["classes"] == []
    assert view["metrics"] == test
    errors = [abs(s["predicted"] - s["label"]) for s in view["samples"]]
    assert errors == sorted(errors, reverse=True) and len(errors) == view["num_samples"]

    answer = run.predict_sample(sample=int(ds.ids[0]))  # the default answer: a value
    assert set(answer) == {"value", "truth", "sample", "split"}
    assert answer["value"] == pytest.approx(float(run.predict(ds.x[:1].numpy())[0, 0]))


def test_a_registered_task_checks_its_data_and_names_stay_checked(
    toy_task: type[Task], tmp_path: Path
) -> None:
    ws = Workspace(tmp_path / "ws")
    with pytest.raises(SpecError, match="toy_median needs numeric targets; 'moons' has classes"):
        ws.fit("moons", "mlp", task="toy_median", epochs=1)
    known = "classification, regression, generate, forecasting, anomaly, toy_median"
    with pytest.raises(SpecError, match=f"unknown task 'toy_mean'; expected one of: {known}$"):
        ws.fit(lines(), "mlp", task="toy_mean", epochs=1)
    assert ws.runs() == []  # a rejected run leaves nothing
    # the config takes any name; the registry decides (a name unknown to it is refused above)
    assert TrainConfig.from_dict({"task": "toy_median"}).task == "toy_median"
    # a task that states no preset gets the general rule; one that claims no dataset is
    # never chosen for a run that names no task
    assert default_model("table", [3], "toy_median") == "mlp"
    assert resolve_task(None, lines()) is RegressionTask


def test_a_run_without_a_task_trains_the_one_that_claims_the_dataset_most(
    tmp_path: Path,
) -> None:
    ws = Workspace(tmp_path / "ws")
    assert resolve_task(None, ws.load_dataset("moons")) is ClassificationTask
    assert resolve_task(None, ws.load_dataset("seasonal")) is ForecastingTask
    assert resolve_task(None, lines()) is RegressionTask

    @dataclass
    class SmoothedClassification(ClassificationTask):
        name: ClassVar[str] = "toy_smoothed"

    register_task(SmoothedClassification)
    try:  # it inherits the claim of classification; ties go to the task registered first
        assert resolve_task(None, ws.load_dataset("moons")) is ClassificationTask
        assert resolve_task("toy_smoothed", ws.load_dataset("moons")) is SmoothedClassification
    finally:
        TASKS.pop(SmoothedClassification.name)
    with pytest.raises(SpecError, match="holds no forecast windows"):
        resolve_task("forecasting", ws.load_dataset("moons"))
