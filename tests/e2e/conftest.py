"""Browser tests: Playwright drives Debian's Chromium against a real `lernwerk serve`.

One server (`python -m lernwerk.cli serve` in a subprocess, on a free port of 127.0.0.1,
over a temporary workspace) and one headless Chromium serve every test here; each test
gets a fresh browser context and page, and keeps apart from the others by the names of
the datasets it makes. Every test saves a PNG per step under the artifacts folder
(`$LERNWERK_E2E_ARTIFACTS`, default `tests/e2e/artifacts/`), one folder per test, and a
`failure.png` when it fails.

Chromium is never downloaded (`playwright install` is not used): without a `chromium` on
the PATH the tests are skipped with the reason.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.serving.helpers import ProcessServer

ARTIFACTS = Path(os.environ.get("LERNWERK_E2E_ARTIFACTS") or Path(__file__).parent / "artifacts")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Chromium logs every refused request the page makes on purpose (a bad class name, a
# misfit layer); the page itself logs nothing (static/TESTIDS.md).
EXPECTED_CONSOLE = re.compile(
    r"Failed to load resource: the server responded with a status of 4\d\d"
)


@pytest.fixture(scope="package")
def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("browser tests need Debian's chromium on the PATH (apt-get install chromium)")
    return path


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProcessServer]:
    running = ProcessServer(tmp_path_factory.mktemp("e2e") / "ws")
    try:
        running.wait_ready(timeout=120)
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="package")
def client(server: ProcessServer) -> Iterator[httpx.Client]:
    """The JSON API, for set-up and for reading what the page should show."""
    with httpx.Client(base_url=server.url, timeout=60) as c:
        yield c


@pytest.fixture(scope="package")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


class Shots:
    """Numbered full-page screenshots of one test: `NN-step.png`."""

    def __init__(self, page: Any, folder: Path) -> None:
        self.page = page
        self.folder = folder
        self.count = 0
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)

    def __call__(self, step: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


class PageProblems:
    """Uncaught errors and console errors of a page, less the expected 4xx lines."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        self.console: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", self._on_console)

    def _on_console(self, message: Any) -> None:
        if message.type in ("error", "warning") and not EXPECTED_CONSOLE.search(message.text):
            self.console.append(f"{message.type}: {message.text}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def page(browser: Any, server: ProcessServer, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh English page on the server; the test fails on uncaught page errors."""
    context = browser.new_context(
        base_url=server.url, viewport={"width": 1280, "height": 900}, locale="en-US"
    )
    context.set_default_timeout(30_000)
    tab = context.new_page()
    problems = PageProblems(tab)
    yield tab
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        folder = ARTIFACTS / request.node.name
        folder.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(folder / "failure.png"), full_page=True)
    context.close()
    assert not problems.errors, f"uncaught errors on the page: {problems.errors}"
    assert not problems.console, f"the page logged: {problems.console}"


@pytest.fixture
def shots(page: Any, request: pytest.FixtureRequest) -> Shots:
    """`shots("step")` saves the page as the test's next PNG."""
    return Shots(page, ARTIFACTS / request.node.name)
