"""`lernwerk bench` finds the suites of a source checkout (they are not installed) or says how."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import lernwerk
from lernwerk.cli import bench as cli_bench
from lernwerk.cli import main

CHECKOUT = Path(__file__).resolve().parents[2]


def _checkout(folder: Path) -> Path:
    (folder / "bench").mkdir(parents=True)
    (folder / "bench" / "__init__.py").write_text("SUITES = ()\n")
    (folder / "bench" / "run.py").write_text("")
    return folder


def test_the_suites_are_not_in_the_installed_package() -> None:
    assert not (Path(lernwerk.__file__).parent / "bench").exists()
    assert (CHECKOUT / "bench" / "run.py").is_file()


def test_the_checkout_is_found_from_the_source_the_current_folder_or_the_variable(
    tmp_path: Path,
) -> None:
    find = cli_bench.find_checkout
    source = _checkout(tmp_path / "repo")
    package = source / "src" / "lernwerk" / "__init__.py"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    site = tmp_path / "site-packages" / "lernwerk" / "__init__.py"
    # an editable install (or PYTHONPATH=src): the checkout around the package
    assert find(None, str(package), elsewhere) == (source, None)
    # an installed package, run from a checkout's folder
    assert find(None, str(site), source) == (source, None)
    # the variable wins, and names itself when it points at nothing
    other = _checkout(tmp_path / "other")
    assert find(str(other), str(package), source) == (other, None)
    root, problem = find(str(elsewhere), str(package), source)
    assert root is None and problem is not None and "LERNWERK_BENCH_PATH=" in problem
    assert find(None, str(site), elsewhere) == (None, None)


def test_without_a_checkout_it_says_how_to_get_the_suites(monkeypatch, capsys) -> None:
    monkeypatch.setattr(cli_bench, "find_checkout", lambda *_: (None, None))
    assert main(["bench", "--suite", "predict", "--quick"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("error: the benchmark suites are not part of")
    assert "python -m bench.run, or make bench" in err


def test_a_wrong_bench_path_is_named(monkeypatch, capsys, tmp_path: Path) -> None:
    monkeypatch.setenv("LERNWERK_BENCH_PATH", str(tmp_path))
    assert main(["bench", "--quick"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: LERNWERK_BENCH_PATH={tmp_path}: no bench/ package (bench/run.py) there"


def test_an_installed_lernwerk_outside_a_checkout_exits_2(tmp_path: Path) -> None:
    # lernwerk as a wheel installs it (no bench/ beside it), run from a folder that is no checkout
    site = tmp_path / "site"
    shutil.copytree(
        Path(lernwerk.__file__).parent, site / "lernwerk", ignore=shutil.ignore_patterns("*.pyc")
    )
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from lernwerk.cli import main; sys.exit(main())",
            "bench",
        ],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: the benchmark suites are not part of the installed")
    assert done.stderr.count("\n") == 1


@pytest.mark.parametrize("args", [["-m", "bench.run", "--help"], ["-m", "bench", "--help"]])
def test_python_m_bench_run_works_from_the_checkout(args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, *args], cwd=CHECKOUT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "--suite" in done.stdout and "bench/RESULTS.md" in done.stdout
