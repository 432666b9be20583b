// The results page's evaluation plots, drawn as SVG: ROC and precision–recall curves of a
// two-class classifier with its decision threshold marked, and for regression the
// predicted against the true values and the residuals. data-points on each figure counts
// what it draws (for tests).

import { h } from "../dom.js";
import { num } from "../fmt.js";
import { t } from "../i18n.js";
import { COLORS } from "./chart.js";

const NS = "http://www.w3.org/2000/svg";
const W = 340;
const H = 280;
const PAD = { left: 52, right: 14, top: 12, bottom: 44 };

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  for (const c of children.flat()) if (c) el.append(c);
  return el;
}

/** About five round tick values from lo to hi. */
function ticks(lo, hi) {
  const span = hi - lo || 1;
  const raw = span / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toFixed(12)));
  return out;
}

/** Range [lo, hi] of values, widened a little so points do not sit on the frame. */
function extent(values) {
  const finite = values.filter(Number.isFinite);
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (!finite.length) [lo, hi] = [0, 1];
  if (lo === hi) [lo, hi] = [lo - 1, hi + 1];
  const pad = (hi - lo) * 0.04;
  return [lo - pad, hi + pad];
}

/**
 * A plot frame: axes with ticks and labels; returns the root and scale functions.
 * @param {{x: [number, number], y: [number, number], xLabel: string, yLabel: string}} o
 */
function frame({ x, y, xLabel, yLabel, label }) {
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const sx = (v) => PAD.left + ((v - x[0]) / (x[1] - x[0])) * iw;
  const sy = (v) => PAD.top + ih - ((v - y[0]) / (y[1] - y[0])) * ih;
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "evalplot", role: "img", "aria-label": label });
  const grid = svg("g", { class: "grid" });
  for (const v of ticks(x[0], x[1])) {
    grid.append(svg("line", { x1: sx(v), x2: sx(v), y1: PAD.top, y2: PAD.top + ih }),
      svg("text", { x: sx(v), y: PAD.top + ih + 14, "text-anchor": "middle" }, document.createTextNode(num(v, 3))));
  }
  for (const v of ticks(y[0], y[1])) {
    grid.append(svg("line", { x1: PAD.left, x2: PAD.left + iw, y1: sy(v), y2: sy(v) }),
      svg("text", { x: PAD.left - 6, y: sy(v) + 4, "text-anchor": "end" }, document.createTextNode(num(v, 3))));
  }
  root.append(grid,
    svg("rect", { x: PAD.left, y: PAD.top, width: iw, height: ih, class: "frame" }),
    svg("text", { x: PAD.left + iw / 2, y: H - 8, "text-anchor": "middle", class: "axis" }, document.createTextNode(xLabel)),
    svg("text", { x: 14, y: PAD.top + ih / 2, "text-anchor": "middle", class: "axis",
      transform: `rotate(-90 14 ${PAD.top + ih / 2})` }, document.createTextNode(yLabel)));
  return { root, sx, sy };
}

const pathOf = (xs, ys, sx, sy) => xs.map((v, i) => `${i ? "L" : "M"}${sx(v).toFixed(1)},${sy(ys[i]).toFixed(1)}`).join("");

function figure(testid, title, plot, legend, points, extra = {}) {
  return h("figure", { class: "evalplot-box", testid, dataset: { points: String(points), ...extra } },
    h("h3", {}, title), plot, legend ? h("figcaption", { class: "muted" }, legend) : null);
}

/** The threshold's point on a curve, labelled with the threshold. */
function marker(x, y, threshold) {
  return [svg("circle", { cx: x, cy: y, r: 5.5, class: "threshold-mark", fill: COLORS[1] }),
    svg("text", { x: x > W * 0.65 ? x - 8 : x + 8, y: y > H * 0.7 ? y - 8 : y + 16, class: "mark-label",
      "text-anchor": x > W * 0.65 ? "end" : "start" }, document.createTextNode(`${t("results.thresholdAt")} ${num(threshold, 2)}`))];
}

/** ROC curve: true against false positive rate, the chance diagonal, the operating point. */
export function rocPlot(curves, positive) {
  const { roc, operating_point: op, threshold } = curves;
  const f = frame({ x: [0, 1], y: [0, 1], xLabel: t("results.fpr"), yLabel: t("results.tpr"), label: t("results.rocTitle") });
  f.root.append(
    svg("line", { x1: f.sx(0), y1: f.sy(0), x2: f.sx(1), y2: f.sy(1), class: "chance" }),
    svg("path", { d: pathOf(roc.fpr, roc.tpr, f.sx, f.sy), class: "curve", stroke: COLORS[0] }),
    ...marker(f.sx(op.fpr), f.sy(op.tpr), threshold));
  return figure("roc-curve", `${t("results.rocTitle")} · AUC ${num(roc.auc, 3)}`, f.root,
    t("results.rocLegend", { positive, threshold: num(threshold, 2), tpr: num(op.tpr, 3), fpr: num(op.fpr, 3) }),
    roc.fpr.length, { auc: String(roc.auc) });
}

/** Precision–recall curve, the base rate (a classifier that guesses), the operating point. */
export function prPlot(curves, positive) {
  const { pr, operating_point: op, threshold } = curves;
  const f = frame({ x: [0, 1], y: [0, 1.02], xLabel: t("results.recall"), yLabel: t("results.precision"), label: t("results.prTitle") });
  f.root.append(
    svg("line", { x1: f.sx(0), y1: f.sy(pr.base_rate), x2: f.sx(1), y2: f.sy(pr.base_rate), class: "chance" }),
    svg("path", { d: pathOf(pr.recall, pr.precision, f.sx, f.sy), class: "curve", stroke: COLORS[0] }),
    ...marker(f.sx(op.recall), f.sy(op.precision), threshold));
  return figure("pr-curve", `${t("results.prTitle")} · AP ${num(pr.average_precision, 3)}`, f.root,
    t("results.prLegend", { positive, threshold: num(threshold, 2), precision: num(op.precision, 3), recall: num(op.recall, 3) }),
    pr.recall.length, { ap: String(pr.average_precision) });
}

function dots(xs, ys, sx, sy) {
  const g = svg("g", { class: "dots", fill: COLORS[0] });
  xs.forEach((v, i) => g.append(svg("circle", { cx: sx(v).toFixed(1), cy: sy(ys[i]).toFixed(1), r: 2.6 })));
  return g;
}

function shownNote(points) {
  return points.shown < points.num_samples ? t("results.pointsShown", { shown: points.shown, n: points.num_samples }) : "";
}

/** Predicted against true values, with the line where they agree. */
export function scatterPlot(points) {
  const [lo, hi] = extent([...points.true, ...points.predicted]);
  const f = frame({ x: [lo, hi], y: [lo, hi], xLabel: t("results.trueValue"), yLabel: t("results.predictedValue"), label: t("results.scatterTitle") });
  f.root.append(svg("line", { x1: f.sx(lo), y1: f.sy(lo), x2: f.sx(hi), y2: f.sy(hi), class: "chance" }),
    dots(points.true, points.predicted, f.sx, f.sy));
  return figure("pred-vs-true", t("results.scatterTitle"), f.root,
    [t("results.scatterLegend"), shownNote(points)].filter(Boolean).join(" "), points.shown);
}

/** Residuals (predicted − true) against the predicted value, with the zero line. */
export function residualPlot(points) {
  const x = extent(points.predicted);
  const r = Math.max(...points.residual.map(Math.abs), 1e-9) * 1.08;
  const f = frame({ x, y: [-r, r], xLabel: t("results.predictedValue"), yLabel: t("results.residual"), label: t("results.residualTitle") });
  f.root.append(svg("line", { x1: f.sx(x[0]), y1: f.sy(0), x2: f.sx(x[1]), y2: f.sy(0), class: "chance" }),
    dots(points.predicted, points.residual, f.sx, f.sy));
  return figure("residuals", t("results.residualTitle"), f.root,
    [t("results.residualLegend"), shownNote(points)].filter(Boolean).join(" "), points.shown);
}
