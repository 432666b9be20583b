"""`lernwerk inspect` as a user runs it: the summary line, the files, one-line refusals."""

from __future__ import annotations

import json
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
