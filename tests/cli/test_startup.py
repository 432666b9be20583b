"""Commands that train nothing start without PyTorch (issue 12): each in a fresh process."""

from __future__ import annotations

import json
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
    "args", [["--help"], ["runs", "list"], ["runs", "list", "--json"], ["models", "list"]]
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
