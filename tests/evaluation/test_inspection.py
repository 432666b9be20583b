"""`Run.inspect`: a folder with a corrupt file, a zip, a CSV of rows, a `.ts` and a CSV of
series, anomaly runs, the review rules, refusals that leave nothing behind, flat memory,
and the inspect path itself without PyTorch."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import lernwerk
from lernwerk import Workspace
from lernwerk.errors import Conflict, DataError, NotFound, SpecError
from lernwerk.evaluation.inspection import parse_rate
from lernwerk.evaluation.review import DEFAULT_REVIEW_BELOW

SRC = Path(lernwerk.__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return Workspace(tmp_path_factory.mktemp("inspect") / "ws")


@pytest.fixture(scope="module")
def image_run(workspace: Workspace) -> lernwerk.Run:
    return workspace.fit("smileys:per_class=10", "mlp", epochs=1, seed=0, name="faces")


@pytest.fixture(scope="module")
def table_run(workspace: Workspace) -> lernwerk.Run:
    return workspace.fit("blobs:samples=120", "mlp", epochs=1, seed=0)


@pytest.fixture(scope="module")
def series_run(workspace: Workspace) -> lernwerk.Run:
    return workspace.fit("process:per_class=6,length=200", "fcn1d", epochs=1, seed=0)


@pytest.fixture(scope="module")
def anomaly_run(workspace: Workspace) -> lernwerk.Run:
    return workspace.fit(
        "process:per_class=6,length=208", "autoencoder1d", task="anomaly", epochs=1, seed=0
    )


@pytest.fixture(scope="module")
def images(image_run: lernwerk.Run, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 PNGs of the run's dataset in a folder and a subfolder, a corrupt PNG, a note."""
    folder = tmp_path_factory.mktemp("images") / "batch"
    (folder / "line2").mkdir(parents=True)
    ds = image_run.workspace.load_dataset(image_run.record.dataset)
    for i in range(12):
        pixels = (ds.x[i].numpy()[0] * 255).round().astype(np.uint8)  # (H, W)
        Image.fromarray(pixels).save(folder / ("line2" if i % 2 else "") / f"part{i:02d}.png")
    (folder / "line2" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (folder / "notes.txt").write_text("shift B")
    (folder / ".hidden.png").write_bytes(b"skipped")
    return folder


def read_report(out: Path) -> list[dict[str, str]]:
    with open(out / "report.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_a_folder_with_a_corrupt_file_is_reported_whole(
    image_run: lernwerk.Run, images: Path, tmp_path: Path
) -> None:
    result = image_run.inspect(images, tmp_path / "out")
    rows = {r["item"]: r for r in read_report(tmp_path / "out")}
    # every visible file, recursively; the hidden one passed over
    assert len(rows) == 14 and result.total == 14 and ".hidden.png" not in rows
    assert rows["line2/broken.png"]["review"] == "yes"
    assert rows["line2/broken.png"]["why"].startswith("unreadable: not a PNG")
    assert rows["notes.txt"]["why"].startswith("unreadable: not an image")
    assert result.unreadable == 2 and result.readable == 12
    # the probabilities are the model's, as `predict` gives them for the same file
    expected = image_run.predict_files([images / "line2" / "part03.png"])[0]
    got = rows["line2/part03.png"]
    assert got["predicted"] == expected["predicted"]
    for c, p in expected["probabilities"].items():
        assert float(got[f"p_{c}"]) == pytest.approx(p, abs=1e-5)
    assert float(got["confidence"]) == pytest.approx(expected["confidence"], abs=1e-5)
    assert sum(result.per_class.values()) == 12
    # the default rule: the run's stored threshold
    threshold = image_run.predictor.meta["review"]["threshold"]
    for r in rows.values():
        if r["predicted"]:
            assert (r["review"] == "yes") == (float(r["confidence"]) < threshold)
    html = (tmp_path / "out" / "report.html").read_text()
    assert html.index("id=flagged") < html.index("id=unreadable") < html.index("id=rest")
    assert "data:image/png;base64," in html and "<script" not in html
    assert "line2/broken.png" in html and "catch 90 %" in html


def test_a_zip_is_read_entry_by_entry(
    image_run: lernwerk.Run, images: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "batch.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in sorted(images.rglob("*.png")):
            z.write(f, f.relative_to(images).as_posix())
        z.writestr("__MACOSX/._part00.png", b"resource fork")
    result = image_run.inspect(archive, tmp_path / "out", review_below=1.0)
    rows = {r["item"]: r for r in read_report(tmp_path / "out")}
    assert set(rows) == {f.relative_to(images).as_posix() for f in images.rglob("*.png")} - {
        ".hidden.png"
    }
    assert result.unreadable == 1 and rows["line2/broken.png"]["predicted"] == ""
    # below 1.0 flags every readable item
    assert result.flagged == 12
    folder_rows = {r["item"]: r for r in read_report_of(image_run, images, tmp_path / "f")}
    assert rows["part00.png"]["p_smile"] == folder_rows["part00.png"]["p_smile"]


def read_report_of(run: lernwerk.Run, source: Path, out: Path) -> list[dict[str, str]]:
    run.inspect(source, out)
    return read_report(out)


def test_a_csv_of_table_rows_with_a_bad_row(table_run: lernwerk.Run, tmp_path: Path) -> None:
    ds = table_run.workspace.load_dataset(table_run.record.dataset)
    x = ds.x[:5].numpy()
    path = tmp_path / "rows.csv"
    names = list(ds.feature_names)
    lines = [",".join(["note", *reversed(names)])]  # by name, in any order, extra columns
    for i, row in enumerate(x):
        lines.append(",".join(["a", *(f"{v:.6f}" for v in reversed(row))]))
        if i == 2:
            lines.append(",".join(["b", "oops", *["1"] * (len(names) - 1)]))
    path.write_text("\n".join(lines) + "\n")
    result = table_run.inspect(path, tmp_path / "out", review_rate=0.5)
    rows = read_report(tmp_path / "out")
    assert [r["item"] for r in rows] == [f"rows.csv:{n}" for n in range(2, 8)]
    bad = rows[3]
    assert bad["review"] == "yes" and f"column {names[-1]!r} holds 'oops'" in bad["why"]
    proba = table_run.predict(x)
    good = [r for r in rows if r["predicted"]]
    for r, p in zip(good, proba, strict=True):
        assert r["predicted"] == ds.classes[int(p.argmax())]
    assert result.flagged == math.ceil(0.5 * 5)
    least_sure = sorted(good, key=lambda r: float(r["confidence"]))[: result.flagged]
    assert {r["item"] for r in good if r["review"] == "yes"} == {r["item"] for r in least_sure}


def write_ts(path: Path, series: np.ndarray) -> None:
    """A UCR `.ts` file without labels, one univariate series per line."""
    head = "@problemName batch\n@timeStamps false\n@univariate true\n@classLabel false\n@data\n"
    body = "".join(",".join(f"{v:.5f}" for v in s[0]) + "\n" for s in series)
    path.write_text(head + body)


def test_a_ts_file_and_a_csv_of_series(series_run: lernwerk.Run, tmp_path: Path) -> None:
    ds = series_run.workspace.load_dataset(series_run.record.dataset)
    x = ds.x[:4].numpy()  # (4, 1, 200)
    write_ts(tmp_path / "batch.ts", x)
    (tmp_path / "short.ts").write_text(
        (tmp_path / "batch.ts").read_text() + ",".join(["1.0"] * 150) + "\n"
    )
    result = series_run.inspect(tmp_path / "short.ts", tmp_path / "out")
    rows = read_report(tmp_path / "out")
    assert result.total == 5 and result.unreadable == 1
    assert "has shape (1, 150)" in rows[-1]["why"]
    proba = series_run.predict(x)
    for r, p in zip(rows[:4], proba, strict=True):
        assert r["predicted"] == ds.classes[int(p.argmax())]
        assert float(r["confidence"]) == pytest.approx(float(p.max()), abs=1e-5)
    html = (tmp_path / "out" / "report.html").read_text()
    assert "<svg" in html and "<polyline" in html  # series plotted inline
    # the same series as CSV rows, one per row
    (tmp_path / "series.csv").write_text(
        "\n".join(",".join(f"{v:.5f}" for v in s[0]) for s in x) + "\n"
    )
    series_run.inspect(tmp_path / "series.csv", tmp_path / "out2")
    csv_rows = read_report(tmp_path / "out2")
    assert [r["predicted"] for r in csv_rows] == [r["predicted"] for r in rows[:4]]


def test_an_anomaly_run_flags_scores_above_its_threshold(
    anomaly_run: lernwerk.Run, tmp_path: Path
) -> None:
    ds = anomaly_run.workspace.load_dataset(anomaly_run.record.dataset)
    write_ts(tmp_path / "curves.ts", ds.x[:6].numpy())
    result = anomaly_run.inspect(tmp_path / "curves.ts", tmp_path / "out")
    rows = read_report(tmp_path / "out")
    threshold = anomaly_run.predictor.task.threshold
    assert "score" in rows[0] and "p_ok" not in rows[0]
    for r in rows:
        above = float(r["score"]) > threshold
        assert (r["review"] == "yes") == above
        assert r["predicted"] == ("anomaly" if above else anomaly_run.predictor.task.normal_class)
    assert result.flagged == sum(r["review"] == "yes" for r in rows)
    with pytest.raises(SpecError, match="review-below is for classifiers"):
        anomaly_run.inspect(tmp_path / "curves.ts", tmp_path / "o3", review_below=0.5)


def test_a_run_without_a_stored_threshold_falls_back_to_the_default(
    workspace: Workspace, images: Path, tmp_path: Path
) -> None:
    run = workspace.fit("smileys:per_class=6", "mlp", epochs=1, seed=1)
    meta_path = run.dir / "model.json"
    meta = json.loads(meta_path.read_text())
    meta.pop("review")  # as a run trained before lernwerk stored one
    meta_path.write_text(json.dumps(meta))
    run = workspace.run(run.id)
    result = run.inspect(images, tmp_path / "out")
    assert f"below {DEFAULT_REVIEW_BELOW:g} (the default" in result.rule
    for r in read_report(tmp_path / "out"):
        if r["predicted"]:
            assert (r["review"] == "yes") == (float(r["confidence"]) < DEFAULT_REVIEW_BELOW)


def test_refusals_leave_nothing_behind(
    image_run: lernwerk.Run, table_run: lernwerk.Run, images: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    with pytest.raises(NotFound, match="does not exist"):
        image_run.inspect(tmp_path / "nope", out)
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="a run on images takes a folder or zip"):
        image_run.inspect(tmp_path / "x.csv", out)
    with pytest.raises(SpecError, match="not both"):
        image_run.inspect(images, out, review_below=0.5, review_rate=0.1)
    with pytest.raises(SpecError, match="at most 1"):
        image_run.inspect(images, out, review_below=1.5)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.csv"]
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    with pytest.raises(Conflict, match="exists and is not empty; .* --force"):
        image_run.inspect(images, out)
    assert [p.name for p in out.iterdir()] == ["mine.txt"]
    image_run.inspect(images, out, force=True)
    assert sorted(p.name for p in out.iterdir()) == ["mine.txt", "report.csv", "report.html"]


def test_an_interrupted_batch_writes_nothing(
    image_run: lernwerk.Run, images: Path, tmp_path: Path
) -> None:
    def stop(done: int, total: int | None) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        image_run.inspect(images, tmp_path / "out", progress=stop, batch_size=4)
    assert list(tmp_path.iterdir()) == []  # no report, no scratch folder


def test_a_run_still_training_or_of_another_task_is_refused(
    workspace: Workspace, images: Path, tmp_path: Path
) -> None:
    run = workspace.fit("smileys:per_class=5", "mlp", epochs=1, seed=2)
    workspace.store.update_run(run.id, status="running")
    with pytest.raises(Conflict, match="still training"):
        workspace.run(run.id).inspect(images, tmp_path / "out")
    regression = workspace.fit("seasonal", "mlp", epochs=1, seed=0)
    with pytest.raises(SpecError, match="classification or anomaly-detection run"):
        regression.inspect(images, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("text", "share"), [("5%", 0.05), ("0.25", 0.25), (" 100 % ", 1.0)])
def test_review_rates(text: str, share: float) -> None:
    assert parse_rate(text) == pytest.approx(share)


@pytest.mark.parametrize("text", ["0%", "abc", "120%", "-5%", "nan"])
def test_bad_review_rates(text: str) -> None:
    with pytest.raises(SpecError, match="review-rate"):
        parse_rate(text)


TORCH_FREE = """
import sys

class NoTorch:  # importing torch now fails, as where it is not installed
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("torch is blocked in this test")

sys.meta_path.insert(0, NoTorch())
import numpy as np
from pathlib import Path
from lernwerk.evaluation.inspection import InspectModel, inspect_batch

def predict(x):  # (N, 1, 8, 8) in [0, 1] -> (N, 2): brighter images are 'light'
    m = x.reshape(len(x), -1).mean(axis=1)
    return np.stack([1 - m, m], axis=1)

model = InspectModel(predict=predict, kind="images", scores=False,
                     input_shape=(1, 8, 8), classes=["dark", "light"])
result = inspect_batch(model, Path(sys.argv[1]), Path(sys.argv[2]))
print(result.summary_line())
assert "torch" not in sys.modules and "sklearn" not in sys.modules
"""


def test_the_inspect_path_needs_no_pytorch(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    Image.fromarray(np.full((8, 8), 230, np.uint8)).save(folder / "a.png")
    Image.fromarray(np.full((8, 8), 20, np.uint8)).save(folder / "b.png")
    done = subprocess.run(
        [sys.executable, "-c", TORCH_FREE, str(folder), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    rows = read_report(tmp_path / "out")
    assert [r["predicted"] for r in rows] == ["light", "dark"]
    assert "light 1" in done.stdout


MEMORY = """
import resource, sys
from pathlib import Path
from lernwerk import Workspace
run = Workspace(sys.argv[1]).run(sys.argv[2])
run.inspect(Path(sys.argv[3]) / "small", Path(sys.argv[4]) / "a")  # warm: model, threads
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
run.inspect(Path(sys.argv[3]) / "big", Path(sys.argv[4]) / "b")
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((after - before) / 1024)
"""


def test_memory_stays_flat_over_thousands_of_images(workspace: Workspace, tmp_path: Path) -> None:
    """2000 images of 64×64×3 as float32 are 98 MB: holding them would show."""
    run = workspace.fit("solder:per_class=5", "mlp", epochs=1, seed=0)
    rng = np.random.default_rng(0)
    tiles = rng.integers(0, 256, size=(16, 64, 64, 3), dtype=np.uint8)
    for name, count in (("small", 40), ("big", 2000)):
        (tmp_path / name).mkdir()
        for i in range(count):
            Image.fromarray(tiles[i % 16]).save(tmp_path / name / f"{i:05d}.png", compress_level=1)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            MEMORY,
            str(workspace.path),
            run.id,
            str(tmp_path),
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    growth_mb = float(done.stdout.strip().splitlines()[-1])
    print(f"peak RSS growth: {growth_mb:.1f} MB")
    assert growth_mb < 40, f"peak memory grew by {growth_mb:.0f} MB over 2000 images"
    assert len(read_report(tmp_path / "out" / "b")) == 2000


def test_a_conv_net_inspects_in_channels_last_with_the_same_answers(
    workspace: Workspace,
) -> None:
    run = workspace.fit("smileys:per_class=5", "smiley-cnn", epochs=1, seed=0)
    single = run.predictor
    batched = single.for_batches()
    assert batched.channels_last and not single.channels_last  # the single-sample one stays
    assert batched.network.layers[0][0].weight.is_contiguous(memory_format=torch.channels_last)
    x = workspace.load_dataset(run.record.dataset).x[:40].numpy()  # (40, 1, 28, 28)
    np.testing.assert_allclose(batched.predict(x), single.predict(x), atol=1e-5)
    assert batched.for_batches() is batched


@pytest.mark.parametrize("which", ["table", "anomaly"])
def test_the_onnx_export_gives_the_same_report(
    which: str, table_run: lernwerk.Run, anomaly_run: lernwerk.Run, tmp_path: Path
) -> None:
    from lernwerk.evaluation.inspection import InspectModel, inspect_batch, resolve_rule

    run = table_run if which == "table" else anomaly_run
    ds = run.workspace.load_dataset(run.record.dataset)
    if which == "table":
        source = tmp_path / "rows.csv"
        names = list(ds.feature_names)
        lines = [",".join(names)] + [
            ",".join(f"{v:.6f}" for v in row) for row in ds.x[:20].tolist()
        ]
        source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:
        source = tmp_path / "curves.ts"
        write_ts(source, ds.x[:8].numpy())
    run.export(tmp_path / "onnx", "onnx")
    onnx = InspectModel.from_onnx(tmp_path / "onnx", run=run.id)
    torch_model = run.inspect_model()
    assert (onnx.classes, onnx.scores, onnx.threshold) == (
        torch_model.classes,
        torch_model.scores,
        torch_model.threshold,
    )
    assert onnx.review == torch_model.review
    results = [
        inspect_batch(m, source, tmp_path / name, rule=resolve_rule(m))
        for m, name in ((torch_model, "pt"), (onnx, "r-onnx"))
    ]
    assert results[0].rule == results[1].rule and results[0].flagged == results[1].flagged
    keep = ("item", "predicted", "review")
    assert [[r[k] for k in keep] for r in read_report(tmp_path / "pt")] == [
        [r[k] for k in keep] for r in read_report(tmp_path / "r-onnx")
    ]
    with pytest.raises(SpecError, match="is of run"):
        InspectModel.from_onnx(tmp_path / "onnx", run="zz")
