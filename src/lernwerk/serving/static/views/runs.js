// Every run in a sortable table; select several to compare; delete; download weights.
// The table refreshes itself while something is queued or running.

import { api, enc, withToken } from "../api.js";
import { add, confirmButton, errorSlot, h } from "../dom.js";
import { dateTime, duration, metricLabel, num, statusBadge } from "../fmt.js";
import { t } from "../i18n.js";
import { featureLabel } from "./dataset-baselines.js";
import { renderComparison } from "./runs-compare.js";

const POLL_MS = 3000;

/** The validation and test score of a row: ROC AUC for anomaly detection, accuracy for
 * classes, else the first there is. */
function scoreOf(row, split) {
  const keys = ["accuracy", "mae", "r2", "mse", "f1_macro"];
  for (const key of row.task === "anomaly" ? ["roc_auc", ...keys] : keys) {
    if (typeof row[`${split}_${key}`] === "number") return { key, value: row[`${split}_${key}`] };
  }
  return null;
}

const COLUMNS = [
  { key: "name", label: "runs.name", value: (r) => r.name || r.id || r.job_id || "" },
  { key: "status", label: "runs.status", value: (r) => r.status },
  { key: "dataset", label: "runs.dataset", value: (r) => r.dataset ?? "" },
  { key: "model", label: "runs.model", value: (r) => (typeof r.model === "string" ? r.model : r.model?.name ?? "") },
  { key: "settings", label: "runs.settings", value: (r) => `${r.optimizer ?? ""} ${r.lr ?? ""}` },
  { key: "val", label: "runs.val", num: true, value: (r) => scoreOf(r, "val")?.value ?? -Infinity },
  { key: "test", label: "runs.test", num: true, value: (r) => scoreOf(r, "test")?.value ?? -Infinity },
  { key: "seconds", label: "runs.duration", num: true, value: (r) => r.seconds ?? 0 },
  { key: "created", label: "runs.created", value: (r) => r.created ?? "" },
];

export async function render(root) {
  const error = errorSlot("runs-error");
  const tbody = h("tbody", {});
  const selected = new Set();
  let rows = [];
  let sort = { key: "created", dir: -1 };
  let timer = 0;
  let alive = true;
  let lastText = "";
  const compareBox = h("div", { testid: "compare" });
  const compareBtn = h("button", { type: "button", class: "primary", testid: "runs-compare", disabled: true,
    onclick: () => renderComparison(compareBox, rows.filter((r) => selected.has(r.id))) }, t("runs.compare"));
  const selectedNote = h("span", { class: "muted", testid: "runs-selected" });

  const headRow = h("tr", {}, h("th", {}, h("span", { class: "sr-only" }, t("runs.select"))),
    COLUMNS.map((c) => {
      const th = h("th", { class: c.num ? "num" : "", "aria-sort": "none", dataset: { key: c.key } },
        h("button", { type: "button", class: "sort", testid: `sort-${c.key}`, onclick: () => {
          sort = { key: c.key, dir: sort.key === c.key ? -sort.dir : c.num ? -1 : 1 };
          draw();
        } }, t(c.label)));
      return th;
    }),
    h("th", {}, t("runs.actions")));

  function updateSelection() {
    compareBtn.disabled = selected.size < 1;
    selectedNote.textContent = selected.size ? t("runs.selectedCount", { n: selected.size }) : "";
  }

  function rowEl(r) {
    const rowError = errorSlot("run-row-error");
    const check = r.id ? h("input", { type: "checkbox", testid: "run-select", checked: selected.has(r.id),
      "aria-label": t("runs.selectRun", { name: r.name || r.id }),
      onchange: () => {
        if (check.checked) selected.add(r.id); else selected.delete(r.id);
        tr.classList.toggle("selected", check.checked);
        updateSelection();
      } }) : null;
    const val = scoreOf(r, "val");
    const test = scoreOf(r, "test");
    const settings = r.features ? t("baselines.rowSettings", { features: featureLabel(r.features) }) : [r.optimizer, r.lr !== undefined && r.lr !== null ? t("runs.short.lr", { v: num(r.lr, 6) }) : null,
      r.batch_size ? t("runs.short.batch", { v: r.batch_size }) : null,
      r.epochs ? t("runs.short.epochs", { v: r.epochs }) : null].filter(Boolean).join(" · ");
    const tr = h("tr", { testid: "run-row", class: selected.has(r.id) ? "selected" : "", dataset: { runId: r.id || "", jobId: r.job_id || "" } },
      h("td", {}, check),
      h("td", {}, r.id ? h("a", { href: `#/runs/${enc(r.id)}`, testid: "run-link" }, r.name || r.id)
        : h("a", { href: `#/train?job=${enc(r.job_id)}` }, r.name || t("live.job", { id: r.job_id }))),
      h("td", {}, statusBadge(r.status, "run-status")),
      h("td", {}, r.dataset ?? "–", r.data_version ? h("div", { class: "muted probs-small", testid: "run-data-version",
        title: t("fix.dataVersionTitle") }, t("fix.dataShort", { version: r.data_version })) : null),
      h("td", {}, typeof r.model === "string" ? r.model : r.model?.name ?? "–"),
      h("td", { class: "muted wrap" }, settings || "–"),
      h("td", { class: "num", title: val ? metricLabel(`val_${val.key}`) : "" }, val ? num(val.value, 4) : "–"),
      h("td", { class: "num", title: test ? metricLabel(`test_${test.key}`) : "" }, test ? num(test.value, 4) : "–"),
      h("td", { class: "num" }, duration(r.seconds)),
      h("td", {}, dateTime(r.created)),
      // the two buttons stacked: side by side they pushed Delete past the right edge at 1280 px
      h("td", {}, r.id ? h("div", { class: "actions-stack" },
        r.features ? null : h("a", { class: "button small", href: withToken(`/api/runs/${enc(r.id)}/weights`), download: `${r.id}.zip`,
          testid: "run-download" }, t("runs.weights")),
        confirmButton(t("common.delete"), async () => {
          rowError.clear();
          try {
            await api.del(`/runs/${enc(r.id)}`);
            selected.delete(r.id);
            await refresh();
          } catch (err) {
            rowError.show(err);
          }
        }, { class: "danger small", testid: "run-delete" })) : null, rowError));
    return tr;
  }

  function draw() {
    const column = COLUMNS.find((c) => c.key === sort.key);
    const queued = rows.filter((r) => !r.id);  // jobs that have no run yet
    const others = rows.filter((r) => r.id).sort((a, b) => {
      const x = column.value(a);
      const y = column.value(b);
      return (typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y))) * sort.dir;
    });
    for (const th of headRow.querySelectorAll("th[data-key]")) {
      th.setAttribute("aria-sort", th.dataset.key === sort.key ? (sort.dir > 0 ? "ascending" : "descending") : "none");
    }
    const all = [...queued, ...others];
    tbody.replaceChildren(...(all.length ? all.map(rowEl)
      : [h("tr", {}, h("td", { colspan: COLUMNS.length + 2, class: "empty" }, t("runs.none")))]));
    updateSelection();
  }

  async function refresh() {
    clearTimeout(timer);
    try {
      rows = await api.get("/runs");
      error.clear();
      for (const id of [...selected]) if (!rows.some((r) => r.id === id)) selected.delete(id);
      const text = JSON.stringify(rows);
      if (text !== lastText) draw();  // keep focus and half-confirmed buttons when nothing changed
      lastText = text;
    } catch (err) {
      error.show(err);
    }
    if (alive && rows.some((r) => ["queued", "running", "created"].includes(r.status))) {
      timer = setTimeout(refresh, POLL_MS);
    }
  }

  add(root, h("h1", {}, t("runs.title")),
    h("section", { class: "panel" },
      h("div", { class: "spread" }, h("div", { class: "row" }, compareBtn, selectedNote),
        h("a", { class: "button primary", href: "#/train", testid: "runs-new" }, t("runs.new"))),
      error,
      h("div", { class: "table-wrap" }, h("table", { class: "runs", testid: "runs-table" }, h("thead", {}, headRow), tbody))),
    compareBox);
  await refresh();
  return () => { alive = false; clearTimeout(timer); };
}
