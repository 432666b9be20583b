"""An ensemble trains as one run: each member on its own loss, its curves recorded, and the
run stops, resumes and predicts like any other."""

import numpy as np
import pandas as pd
import pytest
import torch

import lernwerk
from lernwerk.config import ModelSpec
from lernwerk.events import EpochEnded, Event
from lernwerk.models import build_network
from lernwerk.models.ensemble import member_outputs
from lernwerk.training.tasks_registry import make_task

SERIES = "italypowerdemand"  # 24 steps, 2 classes: an epoch takes a moment
TINY_ENSEMBLE = {
    "name": "tiny-ensemble",
    "layers": [
        {
            "Ensemble": {
                "members": 3,
                "layers": [
                    {"Conv1D": {"filters": 4, "kernel_size": 3, "padding": "same"}},
                    {"BatchNormalization": {}},
                    {"Activation": {"activation": "relu"}},
                    "GlobalAveragePooling1D",
                    {"Dense": {"units": "auto", "activation": "softmax"}},
                ],
            }
        }
    ],
}
MEMBER_KEYS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy")


class StopAfter(lernwerk.Listener):
    """Asks for a stop at the end of an epoch, as the page's Stop button does."""

    def __init__(self, signal: lernwerk.StopSignal, epoch: int) -> None:
        self.signal, self.epoch = signal, epoch
        self.events: list[Event] = []

    def on_event(self, event: Event) -> None:
        self.events.append(event)
        super().on_event(event)

    def on_epoch_end(self, event: EpochEnded) -> None:
        if event.epoch >= self.epoch:
            self.signal.set("stopped by the test")


def test_each_member_gets_the_gradient_of_its_own_loss() -> None:
    torch.manual_seed(0)
    spec = ModelSpec.from_dict(TINY_ENSEMBLE)
    network = build_network(spec, (1, 24), 2)
    task = make_task("classification", None, classes=["a", "b"])
    x, y = torch.randn(8, 1, 24), torch.tensor([0, 1] * 4)
    nothing = torch.optim.SGD(network.parameters(), lr=0.0)
    loss, outputs = task.train_step(network, x, task.targets(y), [nothing])
    block = network.layers[0]
    got = [[p.grad.clone() for p in m.parameters()] for m in block.members]
    # the loss reported is the averaged prediction's; the one optimised, the members' own
    assert float(loss) == pytest.approx(float(task.loss_fn(outputs.detach(), y)))
    for member, grads in zip(block.members, got, strict=True):
        member.zero_grad()
        task.loss_fn(member(x), y).backward()  # the member trained alone
        for p, g in zip(member.parameters(), grads, strict=True):
            torch.testing.assert_close(g, p.grad)
    shared = task.member_batch(network, y)
    assert shared.shape == (3, 2)


def test_an_ensemble_records_each_members_curves(workspace: lernwerk.Workspace) -> None:
    run = workspace.fit(SERIES, TINY_ENSEMBLE, epochs=3, seed=0, val_split=0.2)  # val curves too
    assert run.status == "finished"
    history = run.history
    for i in (1, 2, 3):
        for key in MEMBER_KEYS:
            assert history[f"member{i}_{key}"].notna().all(), (i, key)
    assert "member4_train_loss" not in history
    # each member's curve is its own, not a copy of another's or of the ensemble's
    curves = [tuple(history[f"member{i}_val_loss"]) for i in (1, 2, 3)]
    assert len(set(curves)) == 3 and tuple(history["val_loss"]) not in curves
    epochs = [e for e in workspace.store.events(run.id) if e.type == "EpochEnded"]
    assert "member2_val_accuracy" in epochs[-1].payload["metrics"]  # in the run's events
    # a single network's epochs hold no member keys
    single = workspace.fit(SERIES, "fcn1d", epochs=1, seed=0)
    assert not [k for k in single.history.columns if k.startswith("member")]


def test_the_members_validation_curves_are_their_own_predictions(
    workspace: lernwerk.Workspace,
) -> None:
    run = workspace.fit(SERIES, TINY_ENSEMBLE, epochs=2, seed=0, val_split=0.2)
    ds = workspace.load_dataset(SERIES)
    train = run.config["train"]
    x, y = ds.subset(ds.split(train["val_split"], train["test_split"], train["split_seed"]).val)
    predictor = run.predictor
    network = predictor.network.eval()
    with torch.inference_mode():
        members = member_outputs(network, predictor.standardizer.transform(x))  # (M, N, K)
    accuracy = (members.argmax(dim=2) == y).float().mean(dim=1)  # (M,)
    last = run.history.iloc[-1]
    for i, value in enumerate(accuracy.tolist(), start=1):
        assert last[f"member{i}_val_accuracy"] == pytest.approx(value)
    # the run predicts the members' mean probability
    expected = torch.softmax(members, dim=2).mean(dim=0).numpy()
    np.testing.assert_allclose(run.predict(x.numpy()), expected, atol=1e-6)


def test_an_ensemble_stops_and_resumes_as_one_run(workspace: lernwerk.Workspace) -> None:
    whole = workspace.fit(SERIES, TINY_ENSEMBLE, epochs=4, seed=1)
    signal = lernwerk.StopSignal()
    part = workspace.fit(
        SERIES,
        TINY_ENSEMBLE,
        epochs=4,
        seed=1,
        stop_signal=signal,
        listeners=[StopAfter(signal, 2)],
    )
    assert part.status == "stopped" and part.record.epoch == 2
    assert (part.dir / "model.safetensors").is_file() and "test" in part.metrics
    resumed = workspace.resume(part.id)
    assert resumed.id == part.id and resumed.status == "finished" and resumed.record.epoch == 4
    pd.testing.assert_frame_equal(whole.history, resumed.history, check_exact=True)
    x = workspace.load_dataset(SERIES).x[:5].numpy()
    np.testing.assert_array_equal(whole.predict(x), resumed.predict(x))


def test_inceptiontime_trains_one_epoch_as_one_run(workspace: lernwerk.Workspace) -> None:
    run = workspace.fit(SERIES, "inceptiontime", epochs=1, seed=0, batch_size=32)
    assert run.status == "finished"
    # a small series set holds no validation out by default: the members' training curves
    members = [k for k in run.history.columns if k.startswith("member")]
    assert [k for k in members if k.endswith("_train_loss")] == [
        f"member{i}_train_loss" for i in range(1, 6)
    ]
    assert not [k for k in members if "_val_" in k] and run.config["train"]["val_split"] == 0
    started = [e for e in workspace.store.events(run.id) if e.type == "RunStarted"][0]
    assert started.payload["num_parameters"] == 5 * sum(
        p.numel()
        for p in build_network(lernwerk.models.load_preset("inception1d"), (1, 24), 2).parameters()
    )
    probabilities = run.predict(workspace.load_dataset(SERIES).x[:4].numpy())
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("dataset", ["xor:samples=60", "smileys:per_class=5"])
def test_inceptiontime_on_a_table_or_images_is_refused_before_a_run_is_stored(
    workspace: lernwerk.Workspace, dataset: str
) -> None:
    with pytest.raises(lernwerk.SpecError, match="Conv1D\\): expects a sequence input"):
        workspace.fit(dataset, "inceptiontime", epochs=1)
    assert workspace.store.list_runs() == []
