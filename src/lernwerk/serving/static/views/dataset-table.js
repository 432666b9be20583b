// A table dataset: its columns with their types, the target, and the first rows.

import { add, h } from "../dom.js";
import { num } from "../fmt.js";
import { t } from "../i18n.js";

/** Columns may come as names or as {name, type}; rows as lists or as {column: value}. */
function normalise(table) {
  const columns = (table?.columns || []).map((c) => (typeof c === "string" ? { name: c } : c));
  const rows = (table?.rows || []).map((r) => (Array.isArray(r) ? r : columns.map((c) => r[c.name])));
  for (const [i, col] of columns.entries()) {
    if (col.type) continue;
    const values = rows.map((r) => r[i]).filter((v) => v !== null && v !== undefined && v !== "");
    col.type = values.length && values.every((v) => typeof v === "number") ? "numeric" : "categorical";
  }
  return { columns, rows };
}

/** The target column: named by the server, else the one column that is no feature. */
export function targetOf(info, columns) {
  const named = info.table?.target ?? info.meta?.target ?? info.meta?.table_encoding?.target;
  if (named) return named;
  const features = new Set(info.feature_names || []);
  const rest = columns.map((c) => c.name).filter((n) => !features.has(n));
  if (features.size && rest.length === 1) return rest[0];
  return columns.length ? columns[columns.length - 1].name : null;
}

export function render(root, info) {
  const { columns, rows } = normalise(info.table);
  const target = targetOf(info, columns);
  const isTarget = (name) => name === target;
  const cell = (v) => (typeof v === "number" ? h("td", { class: "num" }, num(v)) : h("td", {}, v ?? "–"));

  add(root, 
    h("section", { class: "panel", testid: "table-columns" },
      h("h2", {}, t("table.columns")),
      target ? h("p", {}, t("table.target"), ": ", h("b", { testid: "table-target" }, target),
        " · ", t(`task.${info.task}`)) : null,
      h("div", { class: "table-wrap" }, h("table", {},
        h("thead", {}, h("tr", {}, h("th", {}, t("table.column")), h("th", {}, t("table.type")), h("th", {}, t("table.role")))),
        h("tbody", {}, columns.map((c) => h("tr", { class: isTarget(c.name) ? "target" : "" },
          h("td", {}, c.name), h("td", {}, t(`table.type.${c.type}`) === `table.type.${c.type}` ? c.type : t(`table.type.${c.type}`)),
          h("td", { class: isTarget(c.name) ? "target" : "" }, isTarget(c.name) ? t("table.targetRole") : t("table.feature")))))))),
    h("section", { class: "panel", testid: "table-rows" },
      h("h2", {}, t("table.firstRows", { n: rows.length })),
      rows.length ? h("div", { class: "table-wrap" }, h("table", {},
        h("thead", {}, h("tr", {}, columns.map((c) => h("th", { class: isTarget(c.name) ? "target" : "" }, c.name)))),
        h("tbody", {}, rows.map((r) => h("tr", {}, r.map((v, i) => {
          const td = cell(v);
          if (isTarget(columns[i]?.name)) td.classList.add("target");
          return td;
        }))))))
        : h("p", { class: "empty" }, t("table.noRows"))),
    info.feature_names?.length ? h("section", { class: "panel" },
      h("h2", {}, t("table.features", { n: info.feature_names.length })),
      h("p", { class: "muted" }, info.feature_names.join(", "))) : null);
}
