"""What a person does on the page, as Playwright steps: draw faces, read bars, read strings."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

import lernwerk.serving

STATIC = Path(lernwerk.serving.__file__).parent / "static"
GRID = 28  # the drawing canvas's cells per side for the datasets drawn here


@cache
def strings(lang: str) -> dict[str, str]:
    """The page's string table of a language (`static/i18n/<lang>.json`)."""
    return json.loads((STATIC / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))


def face(mood: str, rng: np.random.Generator) -> list[list[tuple[float, float]]]:
    """The strokes of a face in grid cells (x right, y down): two eyes and a mouth that
    curves up ("smile") or down ("sad"); place, width and depth vary a little."""
    cx = 14 + rng.uniform(-1.5, 1.5)
    cy = 14 + rng.uniform(-1.5, 1.5)
    half = rng.uniform(5, 7)  # half the mouth's width
    depth = rng.uniform(3, 5)
    eye_dx, eye_y = rng.uniform(3.5, 4.5), cy - rng.uniform(4, 5)
    eyes = [[(cx + side * eye_dx, eye_y), (cx + side * eye_dx, eye_y + 1.5)] for side in (-1, 1)]
    sign = 1 if mood == "smile" else -1  # a smile's middle hangs lower than its corners
    mouth = []
    for u in np.linspace(-1, 1, 13):
        bend = depth * (1 - u**2)
        mouth.append((cx + u * half, cy + 4 - sign * depth / 2 + sign * bend))
    return [*eyes, mouth]


def draw(page: Any, canvas: Any, strokes: list[list[tuple[float, float]]]) -> None:
    """Draw strokes (grid cells) on a canvas with the mouse: down, move, up."""
    box = canvas.bounding_box()
    assert box is not None, "the drawing canvas is not visible"

    def at(point: tuple[float, float]) -> tuple[float, float]:
        x, y = point
        return box["x"] + x / GRID * box["width"], box["y"] + y / GRID * box["height"]

    for stroke in strokes:
        page.mouse.move(*at(stroke[0]))
        page.mouse.down()
        for point in stroke[1:]:
            page.mouse.move(*at(point), steps=2)
        page.mouse.up()


def probabilities(page: Any) -> dict[str, float]:
    """The probability bars shown: class -> `data-p`."""
    bars = page.get_by_test_id("prob-bar")
    return {
        bars.nth(i).get_attribute("data-class"): float(bars.nth(i).get_attribute("data-p"))
        for i in range(bars.count())
    }


def shown_percentages(page: Any) -> list[float]:
    """The percentages written next to the bars ("97.3 %" or "97,3 %"), as numbers."""
    texts = page.get_by_test_id("prob-value").all_inner_texts()
    return [float(re.sub(r"[^\d.,]", "", text).replace(",", ".")) for text in texts]


CURVE_LOG = """() => {
  // Record (points plotted, run status) at every change, so that a test can tell
  // afterwards whether points appeared while the run was still running.
  window.curveLog = [];
  const record = () => {
    const panel = document.querySelector('[data-testid=live-panel]');
    const curves = panel?.querySelector('[data-testid=curves]');
    if (!curves) return;
    const row = { points: +(curves.dataset.points || 0), status: panel.dataset.status || "",
                  run: panel.querySelector('[data-testid=live-run-id]')?.textContent || "" };
    const last = window.curveLog[window.curveLog.length - 1];
    if (!last || last.points !== row.points || last.status !== row.status || last.run !== row.run) {
      window.curveLog.push(row);
    }
  };
  new MutationObserver(record).observe(document.body, {
    subtree: true, childList: true, characterData: true, attributes: true,
    attributeFilter: ["data-points", "data-status"],
  });
}"""
