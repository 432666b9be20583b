"""The API's docs at /docs render from the package alone: no request leaves the machine."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_the_api_docs_render_without_a_network(page: Any, shots: Any, server: Any) -> None:
    outside: list[str] = []
    page.on(
        "request",
        lambda r: None if r.url.startswith((server.url, "data:")) else outside.append(r.url),
    )
    page.goto("/docs")
    expect(page).to_have_title("lernwerk API")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("lernwerk")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    shots("docs")
    assert outside == []
