// Several runs side by side: their validation curves overlaid, and their settings and
// metrics in one table, one column per run.

import { api, enc } from "../api.js";
import { errorSlot, h } from "../dom.js";
import { duration, metricLabel, num } from "../fmt.js";
import { t } from "../i18n.js";
import { COLORS, align, createChart } from "../components/chart.js";

let charts = [];

const runLabel = (r) => (r.name && r.name !== r.id ? `${r.name} (${r.id})` : r.id);

function overlay(title, testid, records, key) {
  const chart = createChart({
    title, xLabel: t("curves.epoch"), wholeX: true, testid,
    series: records.map((r, i) => ({ label: runLabel(r), color: COLORS[i % COLORS.length], points: true })),
  });
  chart.setData(align(records.map((r) => (r.history || [])
    .filter((row) => typeof row[key] === "number").map((row) => [row.epoch, row[key]]))));
  charts.push(chart);
  return chart.el;
}

function sideBySide(records) {
  const settings = [
    ["runs.dataset", (r) => r.dataset],
    ["runs.model", (r) => r.model],
    ["train.optimizer", (r) => r.config?.train?.optimizer],
    ["train.lr", (r) => num(r.config?.train?.lr, 6)],
    ["train.batchSize", (r) => r.config?.train?.batch_size],
    ["train.epochs", (r) => `${r.epoch ?? 0}/${r.config?.train?.epochs ?? "–"}`],
    ["runs.duration", (r) => duration(r.seconds)],
  ];
  const metricKeys = [];
  for (const r of records) {
    for (const [split, values] of Object.entries(r.metrics || {})) {
      for (const [k, v] of Object.entries(values || {})) {
        const key = `${split}_${k}`;
        if (typeof v === "number" && k !== "num_samples" && !metricKeys.includes(key)) metricKeys.push(key);
      }
    }
  }
  metricKeys.sort();
  const best = (key) => {  // the best value of a metric across the runs, to mark it
    const values = records.map((r) => r.metrics?.[key.split("_")[0]]?.[key.slice(key.indexOf("_") + 1)]).filter((v) => typeof v === "number");
    if (!values.length) return null;
    const lowerIsBetter = /loss|mse|mae/.test(key);
    return lowerIsBetter ? Math.min(...values) : Math.max(...values);
  };
  return h("div", { class: "table-wrap" }, h("table", { testid: "compare-table" },
    h("thead", {}, h("tr", {}, h("th", {}), records.map((r, i) => h("th", {},
      h("span", { class: "swatch", style: { background: COLORS[i % COLORS.length] } }), runLabel(r))))),
    h("tbody", {},
      settings.map(([label, get]) => h("tr", {}, h("th", {}, t(label)), records.map((r) => h("td", {}, get(r) ?? "–")))),
      metricKeys.map((key) => {
        const top = best(key);
        const split = key.slice(0, key.indexOf("_"));
        const name = key.slice(key.indexOf("_") + 1);
        return h("tr", {}, h("th", {}, metricLabel(key)), records.map((r) => {
          const v = r.metrics?.[split]?.[name];
          return h("td", { class: "num", style: v === top && records.length > 1 ? { fontWeight: "700" } : {} },
            typeof v === "number" ? num(v) : "–");
        }));
      }))));
}

export async function renderComparison(box, rows) {
  for (const c of charts) c.destroy();
  charts = [];
  const error = errorSlot("compare-error");
  box.replaceChildren(h("section", { class: "panel" }, h("h2", {}, t("runs.comparison")), h("p", { class: "loading" }, t("common.loading"))));
  let records;
  try {
    records = await Promise.all(rows.map((r) => api.get(`/runs/${enc(r.id)}`)));
  } catch (err) {
    box.replaceChildren(h("section", { class: "panel" }, h("h2", {}, t("runs.comparison")), error));
    error.show(err);
    return;
  }
  const scoreKey = ["val_accuracy", "val_mae"].find((k) => records.some((r) => (r.history || []).some((row) => typeof row[k] === "number")))
    || "val_accuracy";
  box.replaceChildren(h("section", { class: "panel" },
    h("h2", {}, t("runs.comparison")),
    h("div", { class: "charts", testid: "compare-curves" },
      overlay(metricLabel("val_loss"), "compare-loss", records, "val_loss"),
      overlay(metricLabel(scoreKey), "compare-metric", records, scoreKey)),
    h("h3", {}, t("runs.sideBySide")),
    sideBySide(records)));
  box.scrollIntoView({ behavior: "smooth", block: "start" });
}
