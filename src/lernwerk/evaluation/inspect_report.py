"""The reports of `lernwerk inspect`: report.csv (every item) and report.html (one page).

report.html is self-contained (inline CSS, thumbnails as small PNG data URIs, series as
inline SVG): the counts per class, the rule, the items flagged for review first (the least
sure first), the unreadable ones, then the rest. Very large batches list the first
thousands in the page; report.csv always holds every item.
"""

from __future__ import annotations

import csv
import heapq
import html
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from lernwerk import __version__

# Duck-typed here (`lernwerk.evaluation.inspection` builds on this module, not the reverse):
InspectModel = Any  # .scores, .classes, .normal_class, .review, .name
ReviewRule = Any  # .rate, .below, .describe()
Scan = Any  # .rows(), .kept(), .doubt, .per_class

HTML_FLAGGED = 1000  # flagged items listed in report.html (the least sure)
HTML_UNREADABLE = 500
HTML_REST = 200
REPORT_CSV, REPORT_HTML = "report.csv", "report.html"
ANOMALY_LABEL = "anomaly"  # what report.csv predicts for an item scored above the threshold


@dataclass
class InspectResult:
    """What `inspect_batch` found: counts, the rule, the files written."""

    total: int
    readable: int
    unreadable: int
    flagged: int
    per_class: dict[str, int]
    rule: str
    seconds: float
    files: list[Path]
    review: dict[str, Any] | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)  # when asked for (HTTP)

    def summary_line(self) -> str:
        rate = self.total / self.seconds if self.seconds > 0 else 0.0
        classes = ", ".join(f"{c} {n}" for c, n in self.per_class.items())
        return (
            f"inspected {self.total} items in {self.seconds:.1f} s ({rate:.0f}/s): "
            f"{classes or 'nothing readable'}; {self.flagged} to review, "
            f"{self.unreadable} unreadable"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "readable": self.readable,
            "unreadable": self.unreadable,
            "flagged": self.flagged,
            "per_class": self.per_class,
            "rule": self.rule,
            "seconds": self.seconds,
            "files": [str(f) for f in self.files],
            "review": self.review,
            "rows": self.rows,
        }


def write_reports(
    model: InspectModel,
    scan: Scan,
    flagged: np.ndarray,
    rule: ReviewRule,
    folder: Path,
    *,
    title: str,
    keep_rows: bool = False,
) -> InspectResult:
    """Write report.csv and report.html into `folder`; the counts (and rows if asked)."""
    kept = scan.kept()
    anomaly = model.scores
    header = ["item", "predicted"]
    header += ["score"] if anomaly else ["confidence", *(f"p_{c}" for c in model.classes)]
    header += ["review", "why"]
    shown_flagged: list[tuple[float, int, dict[str, Any]]] = []
    unreadable: list[dict[str, Any]] = []
    rest: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    counts = {"unreadable": 0, "flagged": 0}
    with open(folder / REPORT_CSV, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for index, (name, predicted, values, error) in enumerate(scan.rows()):
            row: dict[str, Any] = {"index": index, "item": name}
            if error:
                counts["unreadable"] += 1
                row.update(predicted=None, review=True, why=f"unreadable: {error}")
                cells = [""] * (len(header) - 4)
            else:
                numbers = [float(v) for v in values.split()]
                row["predicted"] = predicted
                if anomaly:
                    row["score"] = numbers[0]
                    cells = [values]
                else:
                    row["confidence"] = max(numbers)
                    row["probabilities"] = dict(zip(model.classes, numbers, strict=True))
                    cells = [f"{max(numbers):.6f}", *values.split()]
                row["review"] = bool(flagged[index])
                row["why"] = _why(rule, row, model) if row["review"] else ""
            writer.writerow(
                [name, row["predicted"] or "", *cells, "yes" if row["review"] else "no", row["why"]]
            )
            extra = kept.get(index)
            if extra is not None:
                if extra.pixels is not None:
                    row["thumbnail"] = extra.thumb
                if extra.series:
                    row["series"] = extra.series
            if keep_rows:
                rows.append(row)
            if error:
                if len(unreadable) < HTML_UNREADABLE:
                    unreadable.append(row)
            elif row["review"]:
                counts["flagged"] += 1
                doubt = float(scan.doubt[index])
                entry = (doubt, -index, row)
                if len(shown_flagged) < HTML_FLAGGED:
                    heapq.heappush(shown_flagged, entry)
                elif doubt > shown_flagged[0][0]:
                    heapq.heapreplace(shown_flagged, entry)
            elif len(rest) < HTML_REST:
                rest.append(row)
    total = len(scan.doubt)
    per_class = {c: scan.per_class[c] for c in (model.classes or [])} if not anomaly else {}
    if anomaly:
        per_class = {model.normal_class: scan.per_class[model.normal_class]}
        per_class[ANOMALY_LABEL] = scan.per_class[ANOMALY_LABEL]
    result = InspectResult(
        total=total,
        readable=total - counts["unreadable"],
        unreadable=counts["unreadable"],
        flagged=counts["flagged"],
        per_class=per_class,
        rule=rule.describe(),
        seconds=0.0,
        files=[],
        review=model.review,
        rows=rows,
    )
    listed = [r for _, _, r in sorted(shown_flagged, key=lambda e: (-e[0], -e[1]))]
    page = _page(model, result, rule, listed, unreadable, rest, title)
    (folder / REPORT_HTML).write_text(page, encoding="utf-8")
    return result


def _why(rule: ReviewRule, row: dict[str, Any], model: InspectModel) -> str:
    if rule.rate is not None:
        share = f"{rule.rate * 100:g} %"
        if model.scores:
            return f"among the highest {share} of anomaly scores"
        return f"among the least confident {share} (top probability {row['confidence']:.3f})"
    if model.scores:
        return f"anomaly score {row['score']:.4g} above the threshold {rule.below:.4g}"
    return f"top probability {row['confidence']:.3f} below {rule.below:g}"


# --------------------------------------------------------------------------------- the page

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d232b;background:#fbfbfa}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}
.muted{color:#5b6470}table{border-collapse:collapse}td,th{padding:3px 10px;text-align:left}
th{border-bottom:1px solid #ccd}td.n{text-align:right;font-variant-numeric:tabular-nums}
.grid{display:flex;flex-wrap:wrap;gap:10px}
.card{width:176px;border:1px solid #d5d9de;border-radius:6px;padding:8px;background:#fff}
.card.flag{border-color:#c2410c;box-shadow:inset 3px 0 0 #c2410c}
.card.bad{border-color:#7f1d1d;background:#fef2f2}
.card img{width:64px;height:64px;image-rendering:pixelated;object-fit:contain;display:block}
.name{font-size:12px;word-break:break-all}.pred{font-weight:600}.why{font-size:12px;color:#9a3412}
.list td{font-size:12px;border-bottom:1px solid #eee}
"""


def _page(
    model: InspectModel,
    result: InspectResult,
    rule: ReviewRule,
    flagged: list[dict[str, Any]],
    unreadable: list[dict[str, Any]],
    rest: list[dict[str, Any]],
    title: str,
) -> str:
    e = html.escape
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    counts = "".join(
        f"<tr><td>{e(c)}</td><td class=n>{n}</td></tr>" for c, n in result.per_class.items()
    )
    counts += f"<tr><th>to review</th><td class=n>{result.flagged}</td></tr>"
    counts += f"<tr><th>unreadable</th><td class=n>{result.unreadable}</td></tr>"
    counts += f"<tr><th>items</th><td class=n>{result.total}</td></tr>"
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>Inspection: {e(model.name or title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Inspection of {e(title)}</h1>",
        f"<p class=muted>Run {e(model.name)} · {e(when)} · lernwerk {e(__version__)}</p>",
        f"<table id=summary><tbody>{counts}</tbody></table>",
        f"<p id=rule><b>Review rule:</b> {e(rule.describe())}.</p>",
        _stored_threshold(model),
        f"<h2 id=flagged>Flagged for review ({result.flagged})</h2>",
        _cards(flagged, model, "flag") if flagged else "<p class=muted>Nothing flagged.</p>",
    ]
    if result.flagged > len(flagged):
        parts.append(
            f"<p class=muted>The {len(flagged)} least sure are shown; report.csv lists all "
            f"{result.flagged}.</p>"
        )
    if result.unreadable:
        parts.append(f"<h2 id=unreadable>Unreadable ({result.unreadable})</h2>")
        parts.append(_list(unreadable))
    others = result.readable - result.flagged
    parts.append(f"<h2 id=rest>The rest ({others})</h2>")
    parts.append(_cards(rest, model, "") if rest else "<p class=muted>None.</p>")
    if others > len(rest):
        parts.append(f"<p class=muted>The first {len(rest)} are shown; see report.csv.</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _stored_threshold(model: InspectModel) -> str:
    review = model.review or {}
    if model.scores:
        return ""
    if review.get("threshold") is None:
        why = review.get("reason") or "the run was trained before lernwerk stored one"
        return f"<p id=stored class=muted>This run has no stored review threshold ({why}).</p>"
    rate = f"{review.get('catch_rate', 0.9) * 100:g} %"
    text = (
        f"The run's review threshold {review['threshold']:g} was chosen on its validation "
        f"split to catch {rate} of the model's errors there"
    )
    val = review.get("val")
    if val:
        text += f" (it caught {val['errors_flagged']} of {val['errors']})"
    test = review.get("test")
    if test:
        text += (
            f". On the test split it would have flagged {test['errors_flagged']} of the "
            f"{test['errors']} errors, reviewing {test['flagged']} of {test['samples']} samples"
        )
    else:
        text += ". The run has no test split to check it on"
    return f"<p id=stored>{html.escape(text)}.</p>"


def _cards(rows: list[dict[str, Any]], model: InspectModel, kind: str) -> str:
    e = html.escape
    cards = []
    for r in rows:
        if "thumbnail" in r:
            visual = f"<img alt='' src='{r['thumbnail']}'>"
        elif "series" in r:
            visual = _svg(r["series"])
        else:
            visual = ""
        if model.scores:
            figure = f"score {r['score']:.4g}"
        else:
            figure = f"{r['confidence'] * 100:.1f} %"
        why = f"<div class=why>{e(r['why'])}</div>" if r.get("why") else ""
        cards.append(
            f"<div class='card {kind}'>{visual}<div class=name>{e(r['item'])}</div>"
            f"<div><span class=pred>{e(str(r['predicted']))}</span> {figure}</div>{why}</div>"
        )
    return f"<div class=grid>{''.join(cards)}</div>"


def _list(rows: list[dict[str, Any]]) -> str:
    e = html.escape
    body = "".join(f"<tr><td>{e(r['item'])}</td><td>{e(r['why'])}</td></tr>" for r in rows)
    return f"<table class=list><tbody>{body}</tbody></table>"


def _svg(series: list[list[float]], width: int = 160, height: int = 48) -> str:
    """A small line plot of a few channels, inline SVG."""
    values = [v for ch in series for v in ch]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    colours = ("#1d4ed8", "#c2410c", "#15803d", "#7e22ce")
    lines = []
    for k, ch in enumerate(series):
        step = width / max(1, len(ch) - 1)
        points = " ".join(
            f"{i * step:.1f},{height - 2 - (v - low) / span * (height - 4):.1f}"
            for i, v in enumerate(ch)
            if math.isfinite(v)
        )
        lines.append(
            f"<polyline fill=none stroke='{colours[k % 4]}' stroke-width=1.2 points='{points}'/>"
        )
    return (
        f"<svg width={width} height={height} viewBox='0 0 {width} {height}' "
        f"role=img aria-label='series'>{''.join(lines)}</svg>"
    )
