"""Commands that train nothing start without PyTorch (issue 12): each in a fresh process."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import json, sys
from lernwerk.cli import main
code = main(sys.argv[1:])
heavy = ("torch", "pandas", "sklearn")
print(json.dumps({"code": code, "loaded": [m for m in heavy if m in sys.modules]}))
"""


def _heavy_modules_after(args: list[str], workspace: Path) -> dict:
    """Run the CLI in a new interpreter; the modules of `heavy` it loaded and its exit code."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "-w", str(workspace), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["runs", "list"],
        ["runs", "list", "--json"],
        ["models", "list"],
        ["datasets", "list"],
        ["datasets", "list", "--json"],
    ],
)
def test_commands_that_train_nothing_do_not_import_torch(args: list[str], tmp_path: Path) -> None:
    result = _heavy_modules_after(args, tmp_path / "ws")
    assert result == {"code": 0, "loaded": []}


def test_import_lernwerk_is_cheap_and_the_names_still_work() -> None:
    probe = (
        "import sys, lernwerk\n"
        "assert 'torch' not in sys.modules\n"
        "assert lernwerk.Workspace.__name__ == 'Workspace'\n"
        "from lernwerk.api import datasets\n"
        "assert type(datasets).__name__ == 'DatasetsNamespace', datasets\n"
        "assert lernwerk.datasets is datasets and lernwerk.SpecError.__name__ == 'SpecError'\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.stdout.strip() == "ok", done.stderr


def test_the_data_package_is_cheap_and_its_names_still_work() -> None:
    probe = (
        "import sys\n"
        "import lernwerk.data as data\n"
        "from lernwerk.data import BUILTINS, list_builtins, parse_dataset_ref\n"
        "assert len(list_builtins()) == len(BUILTINS) and parse_dataset_ref('xor')[0] == 'xor'\n"
        "assert 'torch' not in sys.modules, 'the registry loaded torch'\n"
        "from lernwerk.data import Dataset, Splits, Standardizer, load_dataset_ref, make_splits\n"
        "from lernwerk.data.builtin import GENERATORS\n"
        "assert {b.generator for b in BUILTINS.values()} <= set(GENERATORS)\n"
        "assert data.builtin.load_builtin is data.load_builtin and data.Task is not None\n"
        "assert type(load_dataset_ref('xor:samples=40')).__name__ == 'Dataset'\n"
        "assert set(data.__all__) <= set(dir(data))\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.stdout.strip() == "ok", done.stderr


def test_train_says_what_it_starts_before_pytorch_loads(tmp_path: Path) -> None:
    """`train` shows its first line at once: before `import torch` (seconds on a busy machine).

    `-X importtime` writes one stderr line per import as it happens; with stdout on the same
    pipe, the order of the lines is the order of events."""
    args = ["-w", str(tmp_path / "ws"), "train", "-d", "xor:samples=40", "-m", "mlp"]
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", PROBE, *args, "--epochs", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
    )
    lines = done.stdout.splitlines()
    result = next(line for line in reversed(lines) if line.startswith('{"code"'))
    assert json.loads(result)["code"] == 0, done.stdout[-2000:]
    ours = [i for i, line in enumerate(lines) if not line.startswith("import time:")]
    torch_loaded = next(i for i, line in enumerate(lines) if re.search(r"\|\s+torch$", line))
    assert lines[ours[0]] == "training mlp on xor:samples=40 …"
    assert ours[0] < torch_loaded
