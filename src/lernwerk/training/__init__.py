"""Training: the loop, tasks, optimizers, schedules, checkpoints and listeners."""

from lernwerk.training.callbacks import EarlyStopping, History, Listener, Throttle
from lernwerk.training.checkpoint import TrainerState
from lernwerk.training.defaults import resolve_device, resolve_train_config
from lernwerk.training.optim import OPTIMIZERS, SCHEDULES
from lernwerk.training.tasks import ClassificationTask, RegressionTask, Task
from lernwerk.training.tasks_registry import make_task, task_from_dict
from lernwerk.training.trainer import StopSignal, Trainer, TrainingData

__all__ = [
    "OPTIMIZERS",
    "SCHEDULES",
    "ClassificationTask",
    "EarlyStopping",
    "History",
    "Listener",
    "RegressionTask",
    "StopSignal",
    "Task",
    "Throttle",
    "Trainer",
    "TrainerState",
    "TrainingData",
    "make_task",
    "resolve_device",
    "resolve_train_config",
    "task_from_dict",
]
