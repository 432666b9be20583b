"""Write an export folder all or nothing: into a temporary folder beside it, moved at the end.

`write_export` writes the chosen formats (`safetensors`: the bundle's weights + model.json;
`onnx`: model.onnx + model.json, checked for parity; `all`: both, one model.json serving
both; `pytorch`: model.py, the network and the training loop as plain PyTorch code, with
the weights and the run's data split beside it) and returns the report. A failure leaves nothing in the output folder, nor the
folder itself when it did not exist before.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from lernwerk.errors import Conflict, SpecError
from lernwerk.export.bundle import META_FILE, WEIGHTS_FILE, Predictor, export_safetensors
from lernwerk.export.onnx_export import write_onnx_export
from lernwerk.export.onnx_runner import ONNX_FILE
from lernwerk.store import save_tensors

FORMATS = ("safetensors", "onnx", "all", "pytorch")
CODE_FILE, DATA_FILE = "model.py", "data.safetensors"
OUR_FILES = (WEIGHTS_FILE, META_FILE, ONNX_FILE, CODE_FILE, DATA_FILE)


def check_format(format: str) -> None:
    """Raise `SpecError` unless `format` is one of FORMATS."""
    if format not in FORMATS:
        raise SpecError(
            f"format must be one of {', '.join(FORMATS)}; received: {format!r}", where="format"
        )


def check_out_dir(out_dir: Path, *, force: bool) -> None:
    """Refuse a folder that holds files (unless `force`) or a path that is a file."""
    if out_dir.exists() and not out_dir.is_dir():
        raise SpecError(f"{out_dir} is a file, not a folder", where="out")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not force:
        raise Conflict(
            f"{out_dir} exists and is not empty; choose another folder or pass --force "
            "to replace the model files in it",
            where="out",
        )


def write_export(
    source: Path,
    out_dir: Path,
    format: str,
    *,
    run_id: str,
    force: bool = False,
    predictor: Callable[[], Predictor] | None = None,
    parity_x: Callable[[], torch.Tensor] | None = None,
    code: Callable[[], tuple[str, dict[str, torch.Tensor]]] | None = None,
) -> dict[str, Any]:
    """Export the bundle in `source` to `out_dir` as `format`; returns the report
    `{run_id, format, out_dir, files, parity}` (parity None for safetensors alone).

    `predictor` and `parity_x` (raw held-out inputs) are asked for only when ONNX is
    written; `code` (the source of model.py and the split's tensors) only for `pytorch`.
    """
    check_format(format)
    out_dir = Path(out_dir)
    check_out_dir(out_dir, force=force)
    created = [p for p in (out_dir, *out_dir.parents) if not p.exists()]
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.export-", dir=out_dir.parent))
    try:
        parity = None
        if format in ("safetensors", "all"):
            export_safetensors(source, tmp)
        if format in ("onnx", "all"):
            assert predictor is not None and parity_x is not None
            parity = write_onnx_export(predictor(), tmp, parity_x(), run_id=run_id)
        if format == "pytorch":
            assert code is not None
            source_code, data = code()
            shutil.copyfile(source / WEIGHTS_FILE, tmp / WEIGHTS_FILE)
            (tmp / CODE_FILE).write_text(source_code, encoding="utf-8")
            save_tensors(tmp / DATA_FILE, data)
        names = sorted(p.name for p in tmp.iterdir())
        _readable(tmp, names)
        _move_into(tmp, out_dir, names)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        for path in created[1:]:  # the parents this call made, innermost first
            _rmdir_if_empty(path)
        raise
    return {
        "run_id": run_id,
        "format": format,
        "out_dir": str(out_dir),
        "files": [str(out_dir / n) for n in names],
        "parity": parity,
    }


def _move_into(tmp: Path, out_dir: Path, names: list[str]) -> None:
    """Make `out_dir` hold the files in `tmp`: a rename when it does not exist (or is
    empty), else file by file, removing files of an earlier export not written now."""
    if out_dir.is_dir() and not any(out_dir.iterdir()):
        out_dir.rmdir()
    if not out_dir.exists():
        tmp.rename(out_dir)
        return
    for name in OUR_FILES:
        if name not in names:
            (out_dir / name).unlink(missing_ok=True)
    for name in names:
        (tmp / name).replace(out_dir / name)
    tmp.rmdir()


def _readable(tmp: Path, names: list[str]) -> None:
    """rwxr-xr-x for the folder, rw-r--r-- for the files (the temporary folder and the
    atomic writes start private; os.umask cannot be read without setting it, which
    would race with a server's other threads)."""
    tmp.chmod(0o755)
    for name in names:
        (tmp / name).chmod(0o644)


def _rmdir_if_empty(path: Path) -> None:
    try:
        path.rmdir()
    except OSError:
        pass
