// Line charts on uPlot (vendored). The chart is created once its box has a width and
// follows the box's size. data-points on the box counts the plotted points (for tests).

import uPlot from "../vendor/uplot/uPlot.esm.js";
import { h } from "../dom.js";
import { num } from "../fmt.js";

// tick steps of an axis that counts: 1, 2, 5, 10, 20, 50, … (uPlot's own include 0.5)
const WHOLE_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000];
const ticks = (u, splits) => splits.map((v) => num(v, 6));

export const COLORS = ["#2563eb", "#ea580c", "#16a34a", "#9333ea", "#dc2626", "#0891b2",
  "#ca8a04", "#db2777", "#4b5563", "#65a30d"];

/**
 * @param {{title?: string, xLabel?: string, yLabel?: string, height?: number, testid?: string,
 *          wholeX?: boolean,
 *          series: {label: string, color?: string, dash?: number[], points?: boolean}[]}} opts
 *   wholeX: the x axis counts (epochs): ticks on whole numbers only.
 *   Tick labels and legend values are written the way the page's language writes numbers.
 * @returns {{el: HTMLElement, setData: (data: (number|null)[][]) => void, destroy: () => void}}
 */
export function createChart({ title, xLabel = "", yLabel = "", height = 220, testid, wholeX = false, series }) {
  const box = h("div", { class: "plot" });
  const el = h("div", { class: "chart", testid, dataset: { points: "0" } },
    title ? h("h3", {}, title) : null, box);
  let plot = null;
  let data = [[], ...series.map(() => [])];

  const options = (width) => ({
    width,
    height,
    scales: { x: { time: false } },
    axes: [
      { label: xLabel, labelSize: 18, size: 36, values: ticks,
        ...(wholeX ? { incrs: WHOLE_STEPS } : {}) },
      { label: yLabel, labelSize: 18, size: 52, values: ticks },
    ],
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
    series: [
      { label: xLabel || "x", value: (u, v) => num(v, 3) },
      ...series.map((s, i) => ({
        label: s.label,
        stroke: s.color || COLORS[i % COLORS.length],
        width: 2,
        dash: s.dash,
        spanGaps: true,
        points: { show: s.points ?? false, size: 6 },
        value: (u, v) => num(v, 4),
      })),
    ],
  });

  function ensure() {
    const width = Math.floor(box.clientWidth);
    if (width < 50) return;
    if (!plot) plot = new uPlot(options(width), data, box);
    else if (Math.abs(plot.width - width) > 2) plot.setSize({ width, height });
  }

  const observer = new ResizeObserver(() => ensure());
  observer.observe(box);

  return {
    el,
    setData(next) {
      data = next;
      el.dataset.points = String(next.slice(1).reduce(
        (n, ys) => n + ys.filter((v) => v !== null && v !== undefined).length, 0));
      if (plot) plot.setData(data);
      else ensure();
    },
    destroy() {
      observer.disconnect();
      plot?.destroy();
      plot = null;
    },
  };
}

/**
 * Merge point lists into uPlot's aligned columns.
 * @param {Array<Array<[number, number|null]>>} lists one list of [x, y] per series
 * @returns {(number|null)[][]} [xs, ys0, ys1, …] with null where a series has no point
 */
export function align(lists) {
  const xs = [...new Set(lists.flatMap((l) => l.map((p) => p[0])))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const columns = lists.map(() => new Array(xs.length).fill(null));
  lists.forEach((list, s) => {
    for (const [x, y] of list) {
      columns[s][index.get(x)] = typeof y === "number" && Number.isFinite(y) ? y : null;
    }
  });
  return [xs, ...columns];
}
