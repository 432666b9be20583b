// The confusion matrix as a heat map: rows = true class, columns = predicted class.
// Colour follows each row's share, so small classes read as clearly as big ones.
// Every cell is a button; clicking one calls onPick(trueIndex, predictedIndex).

import { h } from "../dom.js";
import { t } from "../i18n.js";

function cellColour(share, diagonal) {
  // teal on the diagonal (right), red off it (wrong); white for zero
  const a = Math.min(1, share);
  const [r, g, b] = diagonal ? [15, 118, 110] : [180, 35, 24];
  return {
    background: `rgba(${r}, ${g}, ${b}, ${(0.08 + 0.85 * a).toFixed(3)})`,
    color: a > 0.45 ? "#fff" : "#1f2933",
  };
}

/**
 * @param {number[][]} matrix counts, rows = true, columns = predicted
 * @param {string[]} classes
 * @param {(i: number, j: number, button: HTMLElement) => void} onPick
 * @param {{columns?: string[], axis?: string}} opts columns: other column labels (flags)
 */
export function confusionHeatmap(matrix, classes, onPick, { columns = classes, axis = t("results.trueVsPredicted") } = {}) {
  const buttons = [];
  const head = h("tr", {}, h("th", { class: "axis" }, axis),
    columns.map((c) => h("th", { scope: "col", title: c }, c)));
  const rows = matrix.map((row, i) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    return h("tr", {},
      h("th", { scope: "row", title: classes[i] }, classes[i]),
      row.map((count, j) => {
        const colour = count ? cellColour(count / total, i === j) : { background: "#f8fafc", color: "#9aa5b1" };
        const btn = h("button", {
          type: "button", testid: "cm-cell", dataset: { row: String(i), col: String(j), count: String(count) },
          style: colour,
          "aria-label": t("results.cellLabel", { count, truth: classes[i], predicted: columns[j] }),
          title: t("results.cellLabel", { count, truth: classes[i], predicted: columns[j] }),
          onclick: () => {
            for (const b of buttons) b.classList.remove("picked");
            btn.classList.add("picked");
            onPick(i, j, btn);
          },
        }, String(count));
        buttons.push(btn);
        return h("td", {}, btn);
      }));
  });
  return h("div", { class: "table-wrap" },
    h("table", { class: "heatmap", testid: "confusion-matrix" }, h("thead", {}, head), h("tbody", {}, rows)),
    h("p", { class: "muted" }, t("results.cmHint")));
}
