"""A run as HTML for notebooks: key facts, final metrics and loss curves as inline SVG."""

from __future__ import annotations

import html
from typing import Any

_COLOURS = {"train_loss": "#1f77b4", "val_loss": "#ff7f0e"}


def _polyline(values: list[float], lo: float, hi: float, width: int, height: int) -> str:
    n = len(values)
    span = (hi - lo) or 1.0
    points = [
        f"{(i / max(n - 1, 1)) * width:.1f},{height - (v - lo) / span * height:.1f}"
        for i, v in enumerate(values)
    ]
    return " ".join(points)


def curves_svg(
    history: list[dict[str, Any]], keys: tuple[str, ...] = ("train_loss", "val_loss")
) -> str:
    """Loss curves per epoch as a small SVG (empty string without history)."""
    series = {k: [h[k] for h in history if k in h] for k in keys}
    series = {k: v for k, v in series.items() if v}
    if not series:
        return ""
    values = [v for vs in series.values() for v in vs]
    lo, hi = min(values), max(values)
    width, height = 320, 140
    lines = [
        f'<polyline fill="none" stroke="{_COLOURS.get(k, "#2ca02c")}" stroke-width="2" '
        f'points="{_polyline(v, lo, hi, width, height)}"><title>{k}</title></polyline>'
        for k, v in series.items()
    ]
    legend = " ".join(
        f'<span style="color:{_COLOURS.get(k, "#2ca02c")}">■ {k}</span>' for k in series
    )
    return (
        f'<svg width="{width}" height="{height}" style="border:1px solid #ddd;padding:4px">'
        + "".join(lines)
        + f"</svg><div>{legend} (epochs 1–{len(history)}, {lo:.4g}–{hi:.4g})</div>"
    )


def run_html(row: dict[str, Any], history: list[dict[str, Any]], metrics: dict[str, Any]) -> str:
    """The HTML a notebook shows for a `Run`."""
    facts = "".join(
        f"<tr><th style='text-align:left'>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in row.items()
    )
    return f"<div><table>{facts}</table>{curves_svg(history)}</div>"
