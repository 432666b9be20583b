// A sequence dataset: a few series of every class, plotted one chart per class.

import { add, h } from "../dom.js";
import { t } from "../i18n.js";
import { createChart } from "../components/chart.js";

export function render(root, info) {
  const byClass = new Map();
  // classes get a chart each; numeric targets (regression, forecasts) share one
  const groupOf = (s) => (typeof s.label === "string" ? s.label : t("series.examples"));
  for (const s of info.series || []) {
    const group = groupOf(s);
    if (!byClass.has(group)) byClass.set(group, []);
    byClass.get(group).push(s.values || []);
  }
  const charts = [];
  const grid = h("div", { class: "charts", testid: "series-plots" });
  for (const [label, samples] of byClass) {
    const lines = [];  // one line per sample and channel
    const series = [];
    samples.forEach((channels, k) => {
      const list = Array.isArray(channels[0]) ? channels : [channels];  // (C, T) or (T,)
      list.forEach((values, c) => {
        lines.push(values);
        series.push({ label: list.length > 1 ? t("series.sampleChannel", { k: k + 1, c: c + 1 }) : t("series.sample", { k: k + 1 }),
          dash: c ? [4, 3] : undefined });
      });
    });
    const length = Math.max(0, ...lines.map((l) => l.length));
    const xs = Array.from({ length }, (_, i) => i);
    const chart = createChart({ title: String(label), xLabel: t("series.step"), series, testid: "series-plot" });
    chart.setData([xs, ...lines.map((l) => xs.map((i) => (typeof l[i] === "number" ? l[i] : null)))]);
    charts.push(chart);
    grid.append(chart.el);
  }
  add(root, h("section", { class: "panel" }, h("h2", {}, t("series.title")),
    byClass.size ? grid : h("p", { class: "empty" }, t("series.none"))));
  return () => charts.forEach((c) => c.destroy());
}
