// Loss and score curves of one run, for training and validation.
// Batch events add training-loss points during an epoch (x = fractional epoch, the running
// mean so far); the epoch's event replaces them with its training and validation points.

import { h } from "../dom.js";
import { t } from "../i18n.js";
import { metricLabel } from "../fmt.js";
import { align, createChart } from "./chart.js";

const TRAIN = "#2563eb";
const VAL = "#ea580c";

export function createCurves({ score = "accuracy", testid = "curves" } = {}) {
  const points = { trainLoss: new Map(), valLoss: new Map(), trainScore: new Map(), valScore: new Map() };
  const el = h("div", { class: "charts", testid });
  let currentScore = null;
  let loss = null;
  let metric = null;
  let pending = false;

  function build(name) {
    currentScore = name;
    loss?.destroy();
    metric?.destroy();
    loss = createChart({
      title: t("curves.loss"), xLabel: t("curves.epoch"), wholeX: true, testid: "curve-loss",
      series: [{ label: t("curves.train"), color: TRAIN }, { label: t("curves.val"), color: VAL, points: true }],
    });
    metric = createChart({
      title: metricLabel(name), xLabel: t("curves.epoch"), wholeX: true, testid: "curve-metric",
      series: [{ label: t("curves.train"), color: TRAIN, points: true },
        { label: t("curves.val"), color: VAL, points: true }],
    });
    el.replaceChildren(loss.el, metric.el);
  }
  build(score);

  function draw() {
    pending = false;
    const list = (m) => [...m.entries()];
    loss.setData(align([list(points.trainLoss), list(points.valLoss)]));
    metric.setData(align([list(points.trainScore), list(points.valScore)]));
    el.dataset.points = String(
      Object.values(points).reduce((n, m) => n + m.size, 0));
  }
  function schedule() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(draw);
  }

  /** The score a run reports next to its loss: "accuracy" for classes, "mae" for values. */
  function scoreOf(metrics) {
    const key = Object.keys(metrics).find((k) => k.startsWith("train_") && k !== "train_loss")
      || Object.keys(metrics).find((k) => k.startsWith("val_") && k !== "val_loss");
    return key ? key.replace(/^(train|val)_/, "") : currentScore;
  }

  return {
    el,
    addBatch({ epoch, step, steps_per_epoch: spe, loss: value }) {
      if (!spe || typeof value !== "number") return;
      points.trainLoss.set(epoch - 1 + step / spe, value);
      schedule();
    },
    addEpoch(epoch, metrics = {}) {
      const name = scoreOf(metrics);
      if (name !== currentScore) build(name);
      // the epoch's running-mean points gave way to its mean: kept, each epoch would draw
      // a falling tooth from its first batches' loss down to its mean
      for (const x of [...points.trainLoss.keys()]) if (x > epoch - 1 && x < epoch) points.trainLoss.delete(x);
      if (typeof metrics.train_loss === "number") points.trainLoss.set(epoch, metrics.train_loss);
      if (typeof metrics.val_loss === "number") points.valLoss.set(epoch, metrics.val_loss);
      const tr = metrics[`train_${name}`];
      const va = metrics[`val_${name}`];
      if (typeof tr === "number") points.trainScore.set(epoch, tr);
      if (typeof va === "number") points.valScore.set(epoch, va);
      schedule();
    },
    /** Draw a stored history: [{epoch, train_loss, val_loss, train_accuracy, …}]. */
    setHistory(rows = []) {
      for (const m of Object.values(points)) m.clear();
      for (const row of rows) this.addEpoch(row.epoch, row);
      schedule();
    },
    destroy() {
      loss?.destroy();
      metric?.destroy();
    },
  };
}
