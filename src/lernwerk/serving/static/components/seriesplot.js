// Plots of single series: a sample over its class's typical shape, an input with its
// reconstruction, a forecast after its past. Built on the line chart (uPlot).

import { align, createChart } from "./chart.js";

/** The channels of a series given as C×T rows or as T values. */
export function channels(values) {
  if (!Array.isArray(values) || !values.length) return [];
  return Array.isArray(values[0]) ? values : [values];
}

/**
 * @param {{title?: string, testid?: string, height?: number, xLabel?: string,
 *          lines: {label: string, values: number[], start?: number, color?: string,
 *                  dash?: number[]}[]}} opts one entry per line; `start` shifts it along x
 * @returns {{el: HTMLElement, destroy: () => void}}
 */
export function seriesChart({ title, testid, height = 180, xLabel = "", lines }) {
  const chart = createChart({ title, xLabel, height, testid,
    series: lines.map((l) => ({ label: l.label, color: l.color, dash: l.dash })) });
  chart.setData(align(lines.map((l) => (l.values || []).map((v, i) => [i + (l.start || 0), v]))));
  return chart;
}

/** Lines for every channel of a series, one role (colour, dash) for all its channels. */
export function roleLines(values, label, { color, dash, channelLabel } = {}) {
  const list = channels(values);
  return list.map((v, c) => ({
    label: list.length > 1 && channelLabel ? channelLabel(label, c + 1) : label,
    values: v, color, dash,
  }));
}
