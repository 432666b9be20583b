"""A real uvicorn on 127.0.0.1 serving a temporary workspace.

One server (in a thread of the test process) serves every test in this folder; tests
keep apart by the names of the datasets they make. Tests that kill a server start their
own in a subprocess (`helpers.ProcessServer`).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from tests.serving.helpers import ThreadServer


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    with ThreadServer(tmp_path_factory.mktemp("serving") / "ws") as running:
        yield running


@pytest.fixture(scope="session")
def client(server: ThreadServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as c:
        yield c
