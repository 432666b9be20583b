"""`lernwerk export --format onnx|safetensors|all`: the report, exit 1 on a failed parity
check, exit 2 with one line on bad input, nothing written either way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import lernwerk
from lernwerk.cli import main
from lernwerk.export import onnx_export


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def ws_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    ws = tmp_path_factory.mktemp("cli-export") / "ws"
    run = lernwerk.Workspace(ws).fit("xor:samples=80", "mlp", epochs=1, seed=0, name="xo")
    lernwerk.Workspace(ws).fit(
        "xor:samples=60", "perceptron", epochs=1, seed=0, test_split=0.0, name="notest"
    )
    return ws, run.id


def test_onnx_export_prints_the_parity_figures(
    capsys: pytest.CaptureFixture[str], ws_run: tuple[Path, str], tmp_path: Path
) -> None:
    ws, run_id = ws_run
    out = tmp_path / "onnx"
    code, text, err = run_cli(
        capsys, "-w", str(ws), "export", "xo", "--format", "onnx", "--out", str(out)
    )
    assert code == 0, err
    assert "parity on 16 test samples: ONNX matches PyTorch, 100% same class" in " ".join(
        text.split()
    )
    code, text, _ = run_cli(
        capsys,
        "-w",
        str(ws),
        "export",
        run_id,
        "--format",
        "all",
        "--out",
        str(tmp_path / "all"),
        "--json",
    )
    report = json.loads(text)
    assert code == 0 and report["parity"]["passed"] and report["format"] == "all"
    assert sorted(Path(f).name for f in report["files"]) == [
        "model.json",
        "model.onnx",
        "model.safetensors",
    ]


def test_a_failed_parity_check_exits_1_and_writes_nothing(
    capsys: pytest.CaptureFixture[str],
    ws_run: tuple[Path, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Off(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.inner(x) * 0.999

    real = onnx_export.export_graph
    monkeypatch.setattr(
        onnx_export,
        "export_graph",
        lambda p, path, graph=None: real(p, path, Off(onnx_export.ExportGraph(p))),
    )
    ws, _ = ws_run
    out = tmp_path / "onnx"
    code, _, err = run_cli(
        capsys, "-w", str(ws), "export", "xo", "--format", "onnx", "--out", str(out)
    )
    assert code == 1
    assert err.count("\n") == 1 and err.startswith(
        "error: parity: export refused: ONNX and PyTorch"
    )
    assert f"nothing was written to {out}" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["notest", "--format", "onnx"], "has no test split to check the ONNX file against"),
        (["xo", "--format", "tflite"], "format must be one of safetensors, onnx, all"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
    ws_run: tuple[Path, str],
    tmp_path: Path,
    args: list[str],
    message: str,
) -> None:
    ws, _ = ws_run
    out = tmp_path / "out"
    code, _, err = run_cli(capsys, "-w", str(ws), "export", *args, "--out", str(out))
    assert code == 2 and err.count("\n") == 1 and message in err, err
    assert not out.exists()


def test_a_folder_with_files_needs_force(
    capsys: pytest.CaptureFixture[str], ws_run: tuple[Path, str], tmp_path: Path
) -> None:
    ws, _ = ws_run
    (tmp_path / "notes.txt").write_text("mine")
    args = ["-w", str(ws), "export", "xo", "--out", str(tmp_path)]
    code, _, err = run_cli(capsys, *args)
    assert code == 2 and "exists and is not empty" in err and "--force" in err
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    code, _, err = run_cli(capsys, *args, "--force")
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "model.json",
        "model.safetensors",
        "notes.txt",
    ]


def test_pytorch_export_writes_the_code_beside_the_weights_and_data(
    capsys: pytest.CaptureFixture[str], ws_run: tuple[Path, str], tmp_path: Path
) -> None:
    ws, _ = ws_run
    out = tmp_path / "code"
    code, text, err = run_cli(
        capsys, "-w", str(ws), "export", "xo", "--format", "pytorch", "--out", str(out)
    )
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == [
        "data.safetensors",
        "model.py",
        "model.safetensors",
    ]
    assert f"wrote {out / 'model.py'}" in text.replace("\n", "")  # a long path wraps
    assert "class Net(nn.Module):" in (out / "model.py").read_text()
    code, _, err = run_cli(
        capsys, "-w", str(ws), "export", "xo", "--format", "keras", "--out", str(tmp_path / "k")
    )
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "safetensors, onnx, all, pytorch" in err and not (tmp_path / "k").exists()
