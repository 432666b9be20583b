"""Shared fixtures: a temporary workspace and a tiny regression dataset."""

from pathlib import Path

import pytest
import torch

import lernwerk


@pytest.fixture
def workspace(tmp_path: Path) -> lernwerk.Workspace:
    """An empty workspace in a temporary directory."""
    return lernwerk.Workspace(tmp_path / "ws")


@pytest.fixture
def regression_dataset() -> lernwerk.Dataset:
    """y = 1.5·a − 2·b + 0.5·c + 0.3 plus a little noise, 200 rows: learnt in a second."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(200, 3, generator=g)  # (N, F)
    y = x @ torch.tensor([1.5, -2.0, 0.5]) + 0.3 + 0.1 * torch.randn(200, generator=g)  # (N,)
    return lernwerk.Dataset(
        name="linear",
        kind="table",
        task="regression",
        x=x,
        y=y.float(),
        classes=[],
        feature_names=["a", "b", "c"],
        source={"generated_by": "tests"},
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Slow tests run only when asked for (`pytest -m slow`): the default run stays lean."""
    if "slow" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="slow: opt in with `pytest -m slow` (see tests/conftest.py)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
