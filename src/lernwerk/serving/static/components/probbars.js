// The probability of every class as a bar, the top class highlighted.

import { h } from "../dom.js";
import { pct } from "../fmt.js";

/**
 * @param {Record<string, number>} probabilities class -> p in [0, 1]
 * @param {{order?: string[], testid?: string}} opts order: the classes in dataset order
 */
export function probabilityBars(probabilities, { order, testid = "prob-bars" } = {}) {
  const classes = order?.length ? order.filter((c) => c in probabilities) : Object.keys(probabilities);
  const top = classes.reduce((best, c) => (best === null || probabilities[c] > probabilities[best] ? c : best), null);
  return h("div", { class: "bars", testid, role: "list" },
    classes.map((cls) => {
      const p = Number(probabilities[cls]) || 0;
      return h("div", {
        class: `bar${cls === top ? " top" : ""}`, role: "listitem", testid: "prob-bar",
        dataset: { class: cls, p: String(p), top: String(cls === top) },
      },
      h("span", { class: "label", title: cls }, cls),
      h("span", { class: "track", "aria-hidden": "true" },
        h("span", { class: "fill", style: { width: `${Math.max(0, Math.min(100, p * 100)).toFixed(1)}%`, display: "block" } })),
      h("span", { class: "p", testid: "prob-value" }, pct(p)));
    }));
}
