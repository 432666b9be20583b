"""Atomic writes, tensors as safetensors, the default workspace path, process start ticks."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lernwerk.errors import DataError
from lernwerk.store import (
    atomic_write_bytes,
    atomic_write_json,
    default_workspace_path,
    load_tensors,
    process_start_ticks,
    save_tensors,
)


def test_atomic_write_bytes_creates_parents_and_leaves_no_tmp(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "blob.bin"
    atomic_write_bytes(target, b"one")
    atomic_write_bytes(target, b"two")
    assert target.read_bytes() == b"two"
    assert os.listdir(target.parent) == ["blob.bin"]


def test_atomic_write_keeps_old_file_when_replace_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "blob.bin"
    atomic_write_bytes(target, b"old")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk went away")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk went away"):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["blob.bin"]


def test_atomic_write_json_sorted_and_indented(tmp_path: Path) -> None:
    target = tmp_path / "spec.json"
    atomic_write_json(target, {"b": 1, "a": [1, 2], "t": torch.tensor(0.5)})
    text = target.read_text()
    assert json.loads(text) == {"a": [1, 2], "b": 1, "t": 0.5}
    assert text.index('"a"') < text.index('"b"')
    assert '\n  "a"' in text


def test_tensors_round_trip(tmp_path: Path) -> None:
    weight = torch.randn(3, 4)
    tensors = {
        "w": weight,
        "wt": weight.t(),  # not contiguous, shares storage with "w"
        "i": torch.arange(5, dtype=torch.int64),
        "empty": torch.zeros(0),
    }
    save_tensors(tmp_path / "m.safetensors", tensors, metadata={"epoch": "3"})
    loaded, metadata = load_tensors(tmp_path / "m.safetensors")
    assert metadata == {"epoch": "3"}
    assert set(loaded) == set(tensors)
    for name, tensor in tensors.items():
        torch.testing.assert_close(loaded[name], tensor, rtol=0, atol=0)
    assert os.listdir(tmp_path) == ["m.safetensors"]


def test_load_tensors_on_garbage_raises_data_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.safetensors"
    path.write_bytes(b"this is not a safetensors file at all")
    with pytest.raises(DataError, match="not a readable safetensors file") as info:
        load_tensors(path)
    assert str(path) in str(info.value)
    assert info.value.where == str(path)


def test_load_tensors_on_missing_file_raises_data_error(tmp_path: Path) -> None:
    path = tmp_path / "missing.safetensors"
    with pytest.raises(DataError, match="not found") as info:
        load_tensors(path)
    assert str(path) in str(info.value)


def test_default_workspace_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LERNWERK_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    assert default_workspace_path() == tmp_path / "lernwerk-workspace"
    monkeypatch.setenv("LERNWERK_HOME", str(tmp_path / "home"))
    assert default_workspace_path() == tmp_path / "home"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_process_start_ticks_survives_odd_process_names() -> None:
    code = (
        "import sys\n"
        "open('/proc/self/comm', 'w').write('a b) c (d')\n"
        "print('ready', flush=True)\n"
        "sys.stdin.read()\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        assert "a b) c (d" in Path(f"/proc/{child.pid}/stat").read_text()
        ours, theirs = process_start_ticks(os.getpid()), process_start_ticks(child.pid)
        assert isinstance(ours, int) and isinstance(theirs, int)
        assert ours <= theirs  # started after us; a wrong split would read another field
    finally:
        child.kill()
        child.communicate()
    assert process_start_ticks(child.pid) is None
