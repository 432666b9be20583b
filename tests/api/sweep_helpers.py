"""Builders for the sweep tests: a tiny dataset and space, a throwaway PostgreSQL server."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# 300 rows, 6 features: an MLP gets to ~0.95 in a few epochs at lr 0.05, and stays near
# chance at lr 1e-6, which the median pruner stops
DATA = "tabular:rows=300,features=6,informative=3,redundant=1"
GOOD_LR, HOPELESS_LR = 0.05, 1e-6


def write_space(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def study_trials(storage: str, name: str) -> list[Any]:
    import optuna

    return optuna.load_study(study_name=name, storage=_engine(storage)).get_trials()


def enqueue(storage: str, name: str, params: list[dict[str, Any]]) -> None:
    """Queue trials with fixed settings (Optuna's enqueue_trial), so the test knows them."""
    import optuna

    study = optuna.load_study(study_name=name, storage=_engine(storage))
    for p in params:
        study.enqueue_trial(p)


def _engine(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def _pg_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a free port; run as `postgres` when we are root."""
    initdb, pg_ctl = _pg_binary("initdb"), _pg_binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.skip("PostgreSQL is not installed (initdb/pg_ctl not found; apt install postgresql)")
    as_user: list[str] = []
    workdir = Path(tempfile.mkdtemp(prefix="lernwerk-pg-"))
    if os.geteuid() == 0:  # the server refuses to run as root
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no unprivileged 'postgres' user")
        os.chown(workdir, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = workdir / "data", _free_port()
    subprocess.run(
        [*as_user, initdb, "-D", str(data), "-U", "lernwerk", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [*as_user, pg_ctl, "-D", str(data), "-o", options, "-l", str(workdir / "log"), "-w",
         "start"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    try:
        import psycopg

        with psycopg.connect(
            f"postgresql://lernwerk@127.0.0.1:{port}/postgres", autocommit=True
        ) as con:
            con.execute("CREATE DATABASE sweeps")
        yield f"postgresql://lernwerk@127.0.0.1:{port}/sweeps"
    finally:
        subprocess.run(
            [*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True
        )
        shutil.rmtree(workdir, ignore_errors=True)
