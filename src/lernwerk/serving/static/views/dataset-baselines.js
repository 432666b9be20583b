// "Compare with classical methods": logistic regression, gradient boosting and XGBoost on
// the dataset's own split (POST /api/datasets/{name}/baselines), shown as the lecture's
// table beside the networks already trained on the same split. They are stored as runs.

import { api, enc } from "../api.js";
import { errorSlot, h, mount } from "../dom.js";
import { metricLabel, num, pct } from "../fmt.js";
import { t } from "../i18n.js";

const SCORES = ["test_accuracy", "test_r2", "test_mae"];

/** "pixels 16×16" -> "Pixel 16×16": the kind of feature in the page's language. */
export function featureLabel(features) {
  if (!features) return "–";
  const [first, ...rest] = String(features).split(" ");
  const key = `baselines.features.${first}`;
  const label = t(key);
  return [label === key ? first : label, ...rest].join(" ");
}

function table(rows) {
  const scores = SCORES.filter((k) => rows.some((r) => typeof r[k] === "number"));
  return h("div", { class: "table-wrap" }, h("table", { testid: "baselines-table" },
    h("thead", {}, h("tr", {}, h("th", {}, t("baselines.model")), h("th", {}, t("baselines.featuresHead")),
      scores.map((k) => h("th", { class: "num" }, metricLabel(k))), h("th", { class: "num" }, t("baselines.seconds")))),
    h("tbody", {}, rows.map((r) => h("tr", { testid: "baseline-row", dataset: { runId: r.id, features: r.features } },
      h("td", {}, h("a", { href: `#/runs/${enc(r.id)}` }, r.model)),
      h("td", {}, r.features === "network" ? t("baselines.network") : featureLabel(r.features)),
      scores.map((k) => h("td", { class: "num" }, typeof r[k] !== "number" ? "–" : k === "test_accuracy" ? pct(r[k]) : num(r[k], 4))),
      h("td", { class: "num" }, t("baselines.secondsValue", { s: num(r.seconds, 3) })))))));
}

/** The button for the dataset's header and the panel it fills. */
export function baselinesAction(name) {
  const error = errorSlot("baselines-error");
  const body = h("div", { testid: "baselines-result" });
  const panel = h("section", { class: "panel", testid: "baselines", hidden: true },
    h("h2", {}, t("baselines.title")), error, body);
  const button = h("button", { type: "button", testid: "dataset-baselines", onclick: async () => {
    error.clear();
    panel.hidden = false;
    button.disabled = true;
    mount(body, h("p", { class: "loading", testid: "baselines-running" }, t("baselines.running")));
    try {
      const res = await api.post(`/datasets/${enc(name)}/baselines`, {});
      mount(body,
        h("p", { class: "muted" }, t("baselines.split", res.splits)),
        table(res.table),
        res.notes.map((note) => h("p", { class: "muted", testid: "baselines-note" }, note)),
        h("p", { class: "muted" }, t("baselines.stored"), " ", h("a", { href: "#/runs", testid: "baselines-runs" }, t("baselines.allRuns"))));
    } catch (err) {
      mount(body);
      error.show(err);
    } finally {
      button.disabled = false;
    }
  } }, t("dataset.baselines"));
  return { button, panel };
}
