// Results of a run: settings, final metrics per split, curves, and the evaluation
// (confusion matrix, per-class scores, misclassified samples). A run still training
// shows its live panel and turns into its results when it ends.

import { api, enc, withToken } from "../api.js";
import { add, confirmButton, errorSlot, h } from "../dom.js";
import { dateTime, duration, metricLabel, num, statusBadge } from "../fmt.js";
import { t } from "../i18n.js";
import { createCurves } from "../components/curves.js";
import { createLivePanel } from "../components/live.js";
import { trainAgainButton } from "../components/runactions.js";
import { featureLabel } from "./dataset-baselines.js";
import { renderEvaluation } from "./results-evaluation.js";
import { exportPanel } from "./results-export.js";
import { createDataBar } from "../components/dataedit.js";
import { generatedPanel } from "./results-generated.js";
import { helpHeading } from "../components/help.js";
import { runChecksPanel } from "../components/checks.js";

const LIVE = ["queued", "created", "running"];
const SCALARS = ["accuracy", "f1_macro", "precision_macro", "recall_macro", "log_loss", "roc_auc", "loss", "mse", "mae", "r2"];

function settingsLine(record) {
  const tr = record.config?.train || {};
  const baseline = record.config?.baseline;
  if (baseline) {
    return [t("baselines.settingsLine", { estimator: baseline.estimator, features: featureLabel(baseline.features), library: baseline.library }),
      `${t("train.valSplit")} ${num(tr.val_split)}`, baseline.feature_note].filter(Boolean).join(" · ");
  }
  const parts = [
    `${t("train.optimizer")} ${tr.optimizer ?? "–"}`, `${t("train.lr")} ${num(tr.lr, 6)}`,
    `${t("train.batchSize")} ${tr.batch_size ?? "–"}`, `${t("train.epochs")} ${record.epoch ?? 0}/${tr.epochs ?? "–"}`,
    `${t("train.valSplit")} ${num(tr.val_split)}`,
  ];
  if (tr.early_stopping) parts.push(`${t("train.earlyStopping")} ${tr.early_stopping}`);
  const aug = Object.entries(tr.augment || {}).filter(([, v]) => v);
  if (aug.length) parts.push(`${t("train.augmentation")}: ${aug.map(([k]) => t(`augment.${k}`)).join(", ")}`);
  const tf = record.config?.transfer || {};  // where the weights started, what stayed frozen
  if (tf.init) parts.push(tf.init === "imagenet" ? t("transfer.fromPretrained") : t("transfer.fromRun", { run: tf.init_run_name || tf.init }));
  if (tf.frozen_layers?.length) {
    const layers = tf.frozen_layers.join(", ");
    parts.push(tf.unfreeze_after ? t("transfer.frozenFor", { layers, epochs: tf.unfreeze_after }) : t("transfer.frozen", { layers }));
  }
  return parts.join(" · ");
}

/** Final metrics: one row per metric, one column per split. */
export function metricsTable(metrics, testid = "final-metrics") {
  const splits = ["train", "val", "test"].filter((s) => metrics?.[s] && typeof metrics[s] === "object");
  const keys = SCALARS.filter((k) => splits.some((s) => typeof metrics[s][k] === "number"));
  if (!keys.length) return h("p", { class: "empty", testid }, t("results.noMetrics"));
  return h("div", { class: "table-wrap" }, h("table", { testid },
    h("thead", {}, h("tr", {}, h("th", {}, t("results.metric")), splits.map((s) => h("th", { class: "num" }, t(`split.${s}`))))),
    h("tbody", {}, keys.map((k) => h("tr", {}, h("td", {}, metricLabel(k)),
      splits.map((s) => h("td", { class: "num", dataset: { split: s, metric: k } }, num(metrics[s][k]))))))));
}

function header(record) {
  const error = errorSlot("run-error");
  const id = record.id;
  const network = !record.config?.baseline;  // a baseline keeps only its metrics
  return h("section", { class: "panel" },
    h("div", { class: "spread" },
      h("h1", { testid: "run-name" }, record.name || id, " ", statusBadge(record.status, "run-status")),
      h("div", { class: "row" },
        network ? h("a", { class: "button primary", href: `#/runs/${enc(id)}/try`, testid: "run-try" }, t("run.try")) : null,
        network ? h("a", { class: "button", href: `#/runs/${enc(id)}/inspect`, testid: "run-inspect" }, t("inspect.title")) : null,
        network ? trainAgainButton(id, error) : null,
        network ? h("a", { class: "button", href: `#/train?from=${enc(id)}`, testid: "run-edit" }, t("run.edit")) : null,
        network ? h("a", { class: "button", href: withToken(`/api/runs/${enc(id)}/weights`), download: `${id}.zip`, testid: "run-weights" },
          t("run.weights")) : null,
        confirmButton(t("common.delete"), async () => {
          error.clear();
          try {
            await api.del(`/runs/${enc(id)}`);
            location.hash = "#/runs";
          } catch (err) {
            error.show(err);
          }
        }, { testid: "run-delete" }))),
    h("p", { class: "muted" },
      `${t("run.dataset")} `, h("a", { href: `#/datasets/${enc(record.dataset)}` }, record.dataset),
      ` · ${t("run.model")} ${record.model} · ${dateTime(record.created_at || record.created)} · ${duration(record.seconds)}`,
      record.device ? ` · ${record.device}` : ""),
    h("p", { class: "muted", testid: "run-settings" }, settingsLine(record)),
    network ? null : h("p", { class: "muted", testid: "run-baseline" }, t("baselines.runNote")),
    record.status === "failed" && record.error ? h("p", { class: "error" }, record.error) : null,
    error);
}

export async function render(root, { id }) {
  let live = null;
  let curves = null;
  let generated = null;  // the sample grids of a generative run (hidden for others)
  const cleanup = () => { live?.destroy(); curves?.destroy(); generated?.destroy(); };

  async function draw() {
    cleanup();
    live = null;
    curves = null;
    root.replaceChildren(h("p", { class: "loading" }, t("common.loading")));
    let record;
    try {
      record = await api.get(`/runs/${enc(id)}`);
    } catch (err) {
      const error = errorSlot("view-error");
      root.replaceChildren(h("section", { class: "panel" }, h("h1", {}, id), error));
      error.show(err);
      return;
    }
    root.replaceChildren(header(record));
    if (LIVE.includes(record.status)) {
      live = createLivePanel({ runId: id, onEnd: () => setTimeout(draw, 600) });
      add(root, live.el);
      generated = generatedPanel(id, { live: true });
      add(root, generated.el);
      return;
    }
    const final = h("section", { class: "panel" }, h("h2", {}, t("results.final")), metricsTable(record.metrics));
    if (record.config?.baseline) {  // fitted, not trained epoch by epoch: no curves
      add(root, final);
    } else {
      curves = createCurves({});
      add(root, h("div", { class: "grid-side" }, final,
        h("section", { class: "panel" }, ...helpHeading("h2", t("results.curves"), "chart.loss"), curves.el)));
      curves.setHistory(record.history || []);
    }
    if (record.config?.checks?.length) add(root, runChecksPanel(record.config.checks));
    generated = generatedPanel(id);
    add(root, generated.el);
    const evaluation = h("section", { class: "panel", testid: "evaluation" });
    // the data this run trained on: changed since (retrain), the last edit (undo)
    const dataBar = createDataBar(record, { onUndo: () => shown.reload() });
    add(root, dataBar.el, evaluation);
    const shown = renderEvaluation(evaluation, record, { onEdit: () => dataBar.refresh() });
    if (record.input) add(root, exportPanel(record));  // a trained model to export
  }

  await draw();
  return cleanup;
}
