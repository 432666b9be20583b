"""`lernwerk train --nproc N`: start N training processes as torchrun would, and wait.

On one machine the processes are started here, with torchrun's environment (RANK,
LOCAL_RANK, WORLD_SIZE, MASTER_ADDR=127.0.0.1, a free MASTER_PORT) and the same command
line without the launch options. They run in a session of their own, so a Ctrl-C reaches
this process only; it passes it on to rank 0, which decides to stop, and every rank stops
after the same step. Several machines (`--nnodes`) go through torchrun itself with a c10d
rendezvous at `--rdzv-endpoint`, which every machine is given.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from typing import Any

from lernwerk.errors import SpecError

LAUNCH_OPTIONS = ("--nproc", "--nnodes", "--rdzv-endpoint")
ENDPOINT = re.compile(r"^[A-Za-z0-9.\-_\[\]:]+:\d{1,5}$")
# how long the other ranks may take to end once rank 0 has ended
GRACE_S = 20.0


def check_launch(nproc: int | None, nnodes: int | None, rdzv_endpoint: str | None) -> bool:
    """Whether the options ask for a launch of several processes.

    Raises:
        SpecError: a count below 1, several machines without a rendezvous endpoint, an
            endpoint that is not host:port, or the options inside a launched process.
    """
    for flag, value in (("--nproc", nproc), ("--nnodes", nnodes)):
        if value is not None and value < 1:
            raise SpecError(
                f"{flag}: expected a number of processes of at least 1; received {value}",
                where=flag.lstrip("-"),
            )
    if rdzv_endpoint is not None and not ENDPOINT.match(rdzv_endpoint):
        raise SpecError(
            f"--rdzv-endpoint: expected host:port (e.g. 10.0.0.1:29400); received "
            f"{rdzv_endpoint!r}",
            where="rdzv-endpoint",
        )
    if (nnodes or 1) > 1 and rdzv_endpoint is None:
        raise SpecError(
            f"--nnodes {nnodes}: several machines meet at a rendezvous; give "
            "--rdzv-endpoint HOST:PORT (the same on every machine)",
            where="rdzv-endpoint",
        )
    launch = (nproc or 1) > 1 or (nnodes or 1) > 1 or rdzv_endpoint is not None
    if launch and "WORLD_SIZE" in os.environ:
        raise SpecError(
            "--nproc/--nnodes: this process was already started by torchrun "
            f"(WORLD_SIZE={os.environ['WORLD_SIZE']}); leave the launch options out",
            where="nproc",
        )
    return launch


def launched_rank() -> int | None:
    """This process's rank when torchrun (or --nproc) started it among several; else None."""
    if int(os.environ.get("WORLD_SIZE", "1") or 1) <= 1:
        return None
    return int(os.environ.get("RANK", "0"))


def strip_launch_options(argv: list[str]) -> list[str]:
    """`argv` without --nproc N, --nnodes N and --rdzv-endpoint E (either spelling)."""
    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in LAUNCH_OPTIONS:
            skip = True
            continue
        if arg.split("=", 1)[0] in LAUNCH_OPTIONS and "=" in arg:
            continue
        kept.append(arg)
    return kept


def torchrun_command(argv: list[str], nproc: int, nnodes: int, endpoint: str) -> list[str]:
    """The torchrun command line for several machines (run the same on each)."""
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nnodes",
        str(nnodes),
        "--nproc-per-node",
        str(nproc),
        "--rdzv-backend",
        "c10d",
        "--rdzv-endpoint",
        endpoint,
        "-m",
        "lernwerk",
        *strip_launch_options(argv),
    ]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rank_env(rank: int, nproc: int, port: int) -> dict[str, str]:
    """The environment of local rank `rank` of `nproc` on one machine (torchrun's names)."""
    env = dict(os.environ)
    env.update(
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(nproc),
        LOCAL_WORLD_SIZE=str(nproc),
        GROUP_RANK="0",
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
    )
    # the cores are shared: each rank takes its part (torchrun sets 1)
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    return env


def launch(argv: list[str], nproc: int, nnodes: int, endpoint: str | None) -> int:
    """Run the training command in `nproc` processes (on `nnodes` machines); rank 0's exit
    code, or 1 when another rank failed while rank 0 did not."""
    if nnodes > 1 or endpoint is not None:
        assert endpoint is not None
        env = dict(os.environ)
        env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
        return _wait_torchrun(torchrun_command(argv, nproc, nnodes, endpoint), env)
    command = [sys.executable, "-m", "lernwerk", *strip_launch_options(argv)]
    port = free_port()
    procs = [
        subprocess.Popen(command, env=rank_env(rank, nproc, port), start_new_session=True)
        for rank in range(nproc)
    ]
    return _wait_ranks(procs)


def _wait_ranks(procs: list[subprocess.Popen[Any]]) -> int:
    def forward(signum: int, frame: Any) -> None:
        if procs[0].poll() is None:
            procs[0].send_signal(signal.SIGINT)  # rank 0 decides; a second one aborts

    previous = signal.signal(signal.SIGINT, forward)
    try:
        while procs[0].poll() is None:
            if any(p.poll() not in (None, 0) for p in procs[1:]):
                break  # a rank failed: rank 0 learns it in its next collective
            time.sleep(0.05)
        code = _wait(procs[0], GRACE_S)
        others = [_wait(p, GRACE_S) for p in procs[1:]]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        signal.signal(signal.SIGINT, previous)
    if code == 0 and any(others):
        sys.stderr.write(f"error: rank {1 + [bool(c) for c in others].index(True)} failed\n")
        return 1
    return code


def _wait(proc: subprocess.Popen[Any], timeout: float) -> int:
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.terminate()
        try:
            return proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()


def _wait_torchrun(command: list[str], env: dict[str, str]) -> int:
    proc = subprocess.Popen(command, env=env)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # torchrun passes it on
    try:
        return proc.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
