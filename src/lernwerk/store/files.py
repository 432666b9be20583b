"""Files in the workspace: atomic writes, JSON, and tensors as safetensors.

A reader never sees half a file: every write goes to a temporary file in the same
directory, is flushed to disk, and replaces the target in one `os.replace`. Tensors are
stored as safetensors only, so loading a file never executes code. Torch is imported
where it is used, so the store opens without it.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lernwerk.errors import DataError

if TYPE_CHECKING:
    import torch


def default_workspace_path() -> Path:
    """Return `$LERNWERK_HOME` if set, else `./lernwerk-workspace` under the current directory."""
    home = os.environ.get("LERNWERK_HOME")
    if home:
        return Path(home).expanduser().absolute()
    return Path.cwd() / "lernwerk-workspace"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that readers see the old file or the new one, never a mix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; not possible on every platform, hence best effort.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def json_default(obj: Any) -> Any:
    """Turn numpy and torch scalars and arrays into plain JSON values (a `json.dumps` hook)."""
    if hasattr(obj, "tolist"):  # numpy arrays and scalars, torch tensors
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def atomic_write_json(path: Path, obj: Any) -> None:
    """Write `obj` as indented, key-sorted JSON, atomically."""
    text = json.dumps(obj, indent=2, sort_keys=True, default=json_default)
    atomic_write_bytes(path, (text + "\n").encode("utf-8"))


def save_tensors(
    path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None
) -> None:
    """Save named tensors (moved to CPU, made contiguous) as a safetensors file, atomically."""
    from safetensors.torch import save

    prepared: dict[str, torch.Tensor] = {}
    seen: set[int] = set()
    for name, tensor in tensors.items():
        t = tensor.detach().cpu().contiguous()
        ptr = t.untyped_storage().data_ptr()
        if t.numel() and ptr in seen:
            t = t.clone()  # tied weights share storage; safetensors refuses shared tensors
        seen.add(ptr)
        prepared[name] = t
    atomic_write_bytes(Path(path), save(prepared, metadata=metadata))


def load_tensors(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Load a safetensors file into CPU tensors and its metadata.

    Raises:
        DataError: the file is missing or is not a readable safetensors file.
    """
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise DataError("tensor file not found", where=str(path))
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            metadata = dict(f.metadata() or {})
            tensors = {name: f.get_tensor(name) for name in f.keys()}
    except (OSError, SafetensorError, RuntimeError, ValueError) as exc:
        raise DataError(
            f"not a readable safetensors file ({exc}); "
            "it may be truncated or written by another program",
            where=str(path),
        ) from exc
    return tensors, metadata
