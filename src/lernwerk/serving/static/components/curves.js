// Loss and score curves of one run, for training and validation.
// Batch events add training-loss points during an epoch (x = fractional epoch, the running
// mean so far); the epoch's event replaces them with its training and validation points.
// An ensemble's epochs also carry each member's metrics (member1_val_loss, …): each member
// gets a dashed line of its own colour beside the ensemble's (validation where the run has
// it, else training).

import { h } from "../dom.js";
import { t } from "../i18n.js";
import { metricLabel } from "../fmt.js";
import { COLORS, align, createChart } from "./chart.js";

const TRAIN = "#2563eb";
const VAL = "#ea580c";
const MEMBER_COLORS = COLORS.slice(2);  // not the ensemble's blue and orange
const MEMBER_KEY = /^member(\d+)_(train|val)_loss$/;

export function createCurves({ score = "accuracy", testid = "curves" } = {}) {
  const points = { trainLoss: new Map(), valLoss: new Map(), trainScore: new Map(), valScore: new Map() };
  const el = h("div", { class: "charts", testid });
  let currentScore = null;
  let members = 0;  // an ensemble's members with curves; 0: a single network
  let memberSplit = "val";  // the members' curves: validation where the run has it
  const memberLoss = [];  // per member: Map epoch -> loss
  const memberScore = [];
  let loss = null;
  let metric = null;
  let pending = false;

  function memberSeries() {
    return Array.from({ length: members }, (_, i) => ({
      label: t("curves.member", { n: i + 1, split: t(`curves.${memberSplit}`) }), color: MEMBER_COLORS[i % MEMBER_COLORS.length], dash: [6, 4],
    }));
  }

  function build(name) {
    currentScore = name;
    loss?.destroy();
    metric?.destroy();
    loss = createChart({
      title: t("curves.loss"), xLabel: t("curves.epoch"), wholeX: true, testid: "curve-loss",
      series: [{ label: t("curves.train"), color: TRAIN }, { label: t("curves.val"), color: VAL, points: true },
        ...memberSeries()],
    });
    metric = createChart({
      title: metricLabel(name), xLabel: t("curves.epoch"), wholeX: true, testid: "curve-metric",
      series: [{ label: t("curves.train"), color: TRAIN, points: true },
        { label: t("curves.val"), color: VAL, points: true }, ...memberSeries()],
    });
    el.dataset.members = String(members);
    el.replaceChildren(loss.el, metric.el);
  }
  build(score);

  function draw() {
    pending = false;
    const list = (m) => [...m.entries()];
    loss.setData(align([list(points.trainLoss), list(points.valLoss), ...memberLoss.map(list)]));
    metric.setData(align([list(points.trainScore), list(points.valScore), ...memberScore.map(list)]));
    el.dataset.points = String(
      Object.values(points).reduce((n, m) => n + m.size, 0));
  }

  /** How many members an ensemble's epoch reports (0 for a single network). */
  function membersOf(metrics) {
    let n = 0;
    for (const key of Object.keys(metrics)) {
      const m = MEMBER_KEY.exec(key);
      if (m) n = Math.max(n, Number(m[1]));
    }
    return n;
  }

  const splitOf = (metrics) =>
    (Object.keys(metrics).some((k) => /^member\d+_val_loss$/.test(k)) ? "val" : "train");

  function addMembers(epoch, metrics, name) {
    for (let i = 0; i < members; i += 1) {
      const l = metrics[`member${i + 1}_${memberSplit}_loss`];
      const s = metrics[`member${i + 1}_${memberSplit}_${name}`];
      if (typeof l === "number") memberLoss[i].set(epoch, l);
      if (typeof s === "number") memberScore[i].set(epoch, s);
    }
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
      const count = membersOf(metrics);
      if (count > members) {
        while (memberLoss.length < count) { memberLoss.push(new Map()); memberScore.push(new Map()); }
        members = count;
        memberSplit = splitOf(metrics);
        build(name);
      } else if (name !== currentScore) build(name);
      // the epoch's running-mean points gave way to its mean: kept, each epoch would draw
      // a falling tooth from its first batches' loss down to its mean
      for (const x of [...points.trainLoss.keys()]) if (x > epoch - 1 && x < epoch) points.trainLoss.delete(x);
      if (typeof metrics.train_loss === "number") points.trainLoss.set(epoch, metrics.train_loss);
      if (typeof metrics.val_loss === "number") points.valLoss.set(epoch, metrics.val_loss);
      const tr = metrics[`train_${name}`];
      const va = metrics[`val_${name}`];
      if (typeof tr === "number") points.trainScore.set(epoch, tr);
      if (typeof va === "number") points.valScore.set(epoch, va);
      addMembers(epoch, metrics, name);
      schedule();
    },
    /** Draw a stored history: [{epoch, train_loss, val_loss, train_accuracy, …}]. */
    setHistory(rows = []) {
      for (const m of [...Object.values(points), ...memberLoss, ...memberScore]) m.clear();
      for (const row of rows) this.addEpoch(row.epoch, row);
      schedule();
    },
    destroy() {
      loss?.destroy();
      metric?.destroy();
    },
  };
}
