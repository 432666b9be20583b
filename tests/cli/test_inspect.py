"""`lernwerk inspect` as a user runs it: the summary line, the files, one-line refusals."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lernwerk.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], ws: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--workspace", str(ws), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Path]:
    """A workspace with a digits MLP trained an epoch, and a folder of 6 images + 1 corrupt."""
    from lernwerk import Workspace

    root = tmp_path_factory.mktemp("cli-inspect")
    ws = Workspace(root / "ws")
    run = ws.fit("digits", "mlp", epochs=1, seed=0, name="digits-mlp")
    ds = ws.load_dataset(run.record.dataset)
    folder = root / "in"
    folder.mkdir()
    for i in range(6):
        Image.fromarray((ds.x[i].numpy()[0] * 255).astype(np.uint8)).save(folder / f"d{i}.png")
    (folder / "bad.png").write_bytes(b"nope")
    return root / "ws", run.id, folder


def test_inspect_prints_a_summary_and_writes_both_reports(
    capsys: pytest.CaptureFixture[str], trained: tuple[Path, str, Path], tmp_path: Path
) -> None:
    ws, run_id, folder = trained
    code, out, err = run_cli(
        capsys, ws, "inspect", run_id, str(folder), "--out", str(tmp_path / "r")
    )
    assert code == 0, err
    assert "inspected 7 items" in out and "1 unreadable" in out and "to review" in out
    assert "review rule: top probability below" in out
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["report.csv", "report.html"]
    code, out, _ = run_cli(
        capsys,
        ws,
        "inspect",
        "digits-mlp",
        str(folder),
        "--out",
        str(tmp_path / "j"),
        "--review-rate",
        "50%",
        "--json",
    )
    result = json.loads(out)
    assert code == 0 and result["total"] == 7 and result["flagged"] == 3  # ceil(0.5 * 6)
    assert result["rule"] == "the least confident 50 % of the batch"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--review-rate", "abc"], "review-rate: expected a share such as 5% or 0.05"),
        (["--review-below", "2"], "review-below: must lie above 0 and at most 1"),
        (["--review-below", "0.5", "--review-rate", "5%"], "not both"),
    ],
)
def test_bad_options_are_one_line(
    capsys: pytest.CaptureFixture[str],
    trained: tuple[Path, str, Path],
    tmp_path: Path,
    args: list[str],
    message: str,
) -> None:
    ws, run_id, folder = trained
    code, out, err = run_cli(
        capsys, ws, "inspect", run_id, str(folder), "--out", str(tmp_path / "r"), *args
    )
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "r").exists()


def test_a_full_output_folder_a_missing_input_and_a_running_run(
    capsys: pytest.CaptureFixture[str], trained: tuple[Path, str, Path], tmp_path: Path
) -> None:
    ws, run_id, folder = trained
    out_dir = tmp_path / "r"
    out_dir.mkdir()
    (out_dir / "keep.txt").write_text("x")
    code, _, err = run_cli(capsys, ws, "inspect", run_id, str(folder), "--out", str(out_dir))
    assert code == 2 and "exists and is not empty" in err and "--force" in err
    assert err.count("\n") == 1 and [p.name for p in out_dir.iterdir()] == ["keep.txt"]
    code, _, err = run_cli(
        capsys, ws, "inspect", run_id, str(tmp_path / "nope"), "--out", str(tmp_path / "o")
    )
    assert code == 2 and "does not exist" in err and not (tmp_path / "o").exists()

    from lernwerk import Workspace

    workspace = Workspace(ws)
    other = workspace.fit("digits", "mlp", epochs=1, seed=1)
    workspace.store.update_run(other.id, status="running")
    code, _, err = run_cli(
        capsys, ws, "inspect", other.id, str(folder), "--out", str(tmp_path / "o")
    )
    assert code == 2 and "still training" in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


# ------------------------------------------------------------------------------ --onnx

SRC = Path(__file__).resolve().parents[2] / "src"

TORCH_BLOCKED_CLI = """
import sys

class NoTorch:  # importing torch now fails, as where it is not installed
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("torch is blocked in this test")

sys.meta_path.insert(0, NoTorch())
from lernwerk.cli import main

code = main(sys.argv[1:])
assert "torch" not in sys.modules
sys.exit(code)
"""


def report_rows(folder: Path) -> list[dict[str, str]]:
    with (folder / "report.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def exported(trained: tuple[Path, str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The digits MLP exported as ONNX."""
    from lernwerk import Workspace

    ws, run_id, _ = trained
    out = tmp_path_factory.mktemp("onnx-export") / "onnx"
    Workspace(ws).run(run_id).export(out, "onnx")
    return out


def test_onnx_gives_the_same_report_as_pytorch_with_torch_blocked(
    capsys: pytest.CaptureFixture[str],
    trained: tuple[Path, str, Path],
    exported: Path,
    tmp_path: Path,
) -> None:
    ws, run_id, folder = trained
    code, out, err = run_cli(
        capsys, ws, "inspect", run_id, str(folder), "--out", str(tmp_path / "pt"), "--json"
    )
    assert code == 0, err
    expected = json.loads(out)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            TORCH_BLOCKED_CLI,
            "inspect",
            run_id[:6],
            str(folder),
            "--out",
            str(tmp_path / "onnx"),
            "--onnx",
            str(exported),
            "--json",
        ],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["total"] == 7 and result["unreadable"] == 1
    assert result["rule"] == expected["rule"] and "review threshold" in result["rule"]
    assert (result["flagged"], result["per_class"]) == (expected["flagged"], expected["per_class"])
    torch_rows, onnx_rows = report_rows(tmp_path / "pt"), report_rows(tmp_path / "onnx")
    assert list(torch_rows[0]) == list(onnx_rows[0])  # same columns: the same classes
    assert [(r["item"], r["predicted"], r["review"]) for r in torch_rows] == [
        (r["item"], r["predicted"], r["review"]) for r in onnx_rows
    ]
    probs = [k for k in torch_rows[0] if k.startswith("p_")]
    assert len(probs) == 10
    for a, b in zip(torch_rows, onnx_rows, strict=True):
        for k in probs:
            if a[k]:
                assert abs(float(a[k]) - float(b[k])) < 1e-3
    assert "ONNX" in (tmp_path / "onnx" / "report.html").read_text(encoding="utf-8")


def test_onnx_refusals_are_one_line_and_write_nothing(
    capsys: pytest.CaptureFixture[str],
    trained: tuple[Path, str, Path],
    exported: Path,
    tmp_path: Path,
) -> None:
    ws, run_id, folder = trained
    empty = tmp_path / "empty"
    empty.mkdir()
    half = tmp_path / "half"
    half.mkdir()
    shutil.copy(exported / "model.json", half / "model.json")  # no model.onnx
    broken = tmp_path / "broken"
    shutil.copytree(exported, broken)
    (broken / "model.onnx").write_bytes(b"not a model")
    table = tmp_path / "rows.csv"
    table.write_text("a,b\n1,2\n", encoding="utf-8")
    cases = [
        ([run_id, str(folder), "--onnx", str(empty)], "missing model.json"),
        ([run_id, str(folder), "--onnx", str(half)], "missing model.onnx"),
        (["0000", str(folder), "--onnx", str(exported)], f"is of run {run_id}"),
        ([run_id, str(folder), "--onnx", str(broken)], "onnxruntime cannot load model.onnx"),
        ([run_id, str(table), "--onnx", str(exported)], "rows.csv"),
    ]
    for i, (args, message) in enumerate(cases):
        out_dir = tmp_path / f"r{i}"
        code, out, err = run_cli(capsys, ws, "inspect", *args, "--out", str(out_dir))
        assert code == 2 and out == "", (args, err)
        assert err.startswith("error: ") and message in err and err.count("\n") == 1, err
        assert not out_dir.exists()
