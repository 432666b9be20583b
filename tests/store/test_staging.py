"""Nothing of a rejected or killed write stays on disk: staging in tmp/, cleaned on open."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from lernwerk.errors import NotFound, SpecError
from lernwerk.store import DatasetRecord, WorkspaceStore


def run_python(code: str, **kw) -> subprocess.CompletedProcess | subprocess.Popen:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        **kw,
    )


def record(name: str) -> DatasetRecord:
    return DatasetRecord(
        name=name,
        kind="table",
        task="classification",
        source={},
        content_hash="h",
        num_samples=0,
        classes=["a", "b"],
        input_shape=[2],
    )


def write(store: WorkspaceStore, name: str) -> None:
    """A two-sample table dataset, written whole."""
    store.write_dataset(
        record(name),
        np.zeros((2, 2), np.float32),
        np.arange(2),
        np.array([0, 1]),
        np.zeros(2, bool),
    )


def test_staging_is_removed_after_use(tmp_path: Path) -> None:
    store = WorkspaceStore(tmp_path / "ws")
    with store.staging("dataset") as folder:
        assert folder.parent == store.root / "tmp" and folder.is_dir()
    assert not folder.exists()
    assert sorted(p.name for p in (store.root / "tmp").iterdir()) == [".lock"]


def test_a_new_dataset_appears_in_one_move_with_its_record(tmp_path: Path) -> None:
    store = WorkspaceStore(tmp_path / "ws")
    write(store, "t1")
    [file] = (store.root / "datasets" / "t1").glob("samples-*.bin")
    assert file.stat().st_size == 2 * 2 * 4
    assert store.has_dataset("t1") and store.count_samples("t1") == 2
    assert sorted(p.name for p in (store.root / "tmp").iterdir()) == [".lock"]


def test_what_a_killed_process_left_in_tmp_is_removed_on_open_a_live_one_stays(
    tmp_path: Path,
) -> None:
    root = tmp_path / "ws"
    WorkspaceStore(root)
    killed = run_python(
        f"""
        import os, signal
        from lernwerk.store import WorkspaceStore
        with WorkspaceStore({str(root)!r}).staging("upload") as folder:
            (folder / "big.zip").write_bytes(b"0" * 100_000)
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert len(list((root / "tmp").glob("upload-*"))) == 2  # the folder and its lock
    live = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom lernwerk.store import WorkspaceStore\n"
            f"with WorkspaceStore({str(root)!r}).staging('live') as f:\n"
            "    print(f, flush=True)\n    time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        assert live.stdout is not None
        folder = Path(live.stdout.readline().strip())
        assert folder.is_dir()
        WorkspaceStore(root)  # another process opens the workspace
        assert not list((root / "tmp").glob("upload-*"))  # the killed one's: gone
        assert folder.is_dir()  # the live one's: still there
    finally:
        live.kill()
        live.wait()
    WorkspaceStore(root)
    assert sorted(p.name for p in (root / "tmp").iterdir()) == [".lock"]


def test_a_kill_between_moving_the_files_and_committing_the_record_leaves_nothing(
    tmp_path: Path,
) -> None:
    root = tmp_path / "ws"
    killed = run_python(
        f"""
        import os, signal
        import lernwerk.store.samples as s
        from lernwerk.api import Workspace
        def kill_after_the_rename(path):
            if path.name == "datasets":
                os.kill(os.getpid(), signal.SIGKILL)
        s._fsync_dir = kill_after_the_rename
        Workspace({str(root)!r}).create_dataset("half", "xor")
        """
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert (root / "datasets" / "half").is_dir()  # moved, but its record never committed
    store = WorkspaceStore(root)
    assert not store.has_dataset("half")
    assert not (root / "datasets" / "half").exists()
    assert sorted(p.name for p in (root / "tmp").iterdir()) == [".lock"]


def test_a_stored_dataset_folder_and_a_locked_edit_are_left_alone(tmp_path: Path) -> None:
    store = WorkspaceStore(tmp_path / "ws")
    write(store, "kept")
    with store.dataset_lock("kept"):
        WorkspaceStore(store.root)
    assert len(list((store.root / "datasets" / "kept").glob("samples-*.bin"))) == 1
    with pytest.raises(NotFound), store.dataset_lock("nope"):
        pass
    assert not (store.root / "datasets" / "nope").exists()


@pytest.mark.parametrize("name", ["con", "NUL", "Aux.txt", "com1", "LPT9.tar.gz", "prn"])
def test_windows_device_names_are_refused(tmp_path: Path, name: str) -> None:
    store = WorkspaceStore(tmp_path / "ws")
    with pytest.raises(SpecError, match="reserved device name on Windows"):
        store.check_name("datasets", name)
    for fine in ("console", "com10", "lpt", "nul1", "icon"):
        store.check_name("datasets", fine)
