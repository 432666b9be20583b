// A run's evaluation on one split: the confusion matrix (click a cell to see its
// samples), precision/recall/F1 per class, and the misclassified samples with their
// predicted probabilities.

import { api, enc, sampleUrl } from "../api.js";
import { errorSlot, h, mount } from "../dom.js";
import { int, metricLabel, num, pct } from "../fmt.js";
import { t } from "../i18n.js";
import { confusionHeatmap } from "../components/heatmap.js";

const MAX_TILES = 48;

/** Labels may come as names or as indices; probabilities as {class: p} or a list. */
function normaliseSamples(samples, classes) {
  const name = (v) => (typeof v === "number" ? classes[v] ?? String(v) : v);
  return (samples || []).map((s) => {
    const probs = Array.isArray(s.probabilities)
      ? Object.fromEntries(classes.map((c, i) => [c, s.probabilities[i]]))
      : s.probabilities || {};
    return { ...s, label: name(s.label), predicted: name(s.predicted), probabilities: probs };
  });
}

function sampleTile(sample, dataset, isImages) {
  const top = Object.entries(sample.probabilities).sort((a, b) => b[1] - a[1]).slice(0, 3);
  const wrong = sample.label !== sample.predicted;
  return h("figure", { class: "stack", testid: "eval-sample", dataset: { id: String(sample.id) },
    style: { margin: 0, width: "118px" } },
  isImages ? h("div", { class: "tile wide" }, h("img", { src: sampleUrl(dataset, sample.id, 4), loading: "lazy",
    alt: t("results.sampleAlt", { label: sample.label, predicted: sample.predicted }) })) : null,
  h("figcaption", { class: "probs-small" },
    h("div", {}, t("results.truth"), ": ", h("b", {}, sample.label)),
    h("div", { style: { color: wrong ? "var(--danger)" : "var(--ok)" } }, t("results.predicted"), ": ", h("b", {}, sample.predicted)),
    top.map(([c, p]) => h("div", { class: "muted" }, `${c} ${pct(p, 0)}`))));
}

function perClassTable(perClass, classes) {
  return h("div", { class: "table-wrap" }, h("table", { testid: "per-class" },
    h("thead", {}, h("tr", {}, h("th", {}, t("results.class")),
      ["precision", "recall", "f1", "support"].map((k) => h("th", { class: "num" }, t(`results.${k}`))))),
    h("tbody", {}, classes.filter((c) => perClass[c]).map((c) => h("tr", {}, h("td", {}, c),
      h("td", { class: "num" }, num(perClass[c].precision, 3)), h("td", { class: "num" }, num(perClass[c].recall, 3)),
      h("td", { class: "num" }, num(perClass[c].f1, 3)), h("td", { class: "num" }, int(perClass[c].support)))))));
}

/** Regression: the samples the model is furthest off, as the server sorts them. */
function largestErrors(samples) {
  const show = (v) => (Array.isArray(v) ? v.map((x) => num(x, 3)).join(", ") : num(v, 3));
  return h("div", {}, h("h3", {}, t("results.largestErrors")),
    h("div", { class: "table-wrap" }, h("table", { testid: "largest-errors" },
      h("thead", {}, h("tr", {}, h("th", {}, t("results.sampleId")), h("th", { class: "num" }, t("results.trueValue")),
        h("th", { class: "num" }, t("results.predictedValue")))),
      h("tbody", {}, samples.slice(0, 20).map((s) => h("tr", {}, h("td", {}, String(s.id)),
        h("td", { class: "num" }, show(s.label)), h("td", { class: "num" }, show(s.predicted))))))));
}

async function datasetKind(ref) {
  try {
    return (await api.get(`/datasets/${enc(ref)}`)).kind;
  } catch {
    return null;
  }
}

export function renderEvaluation(section, record) {
  const error = errorSlot("evaluation-error");
  const split = h("select", { testid: "eval-split", id: "eval-split" },
    ["test", "val", "train"].map((s) => h("option", { value: s }, t(`split.${s}`))));
  const body = h("div", {});
  section.append(h("div", { class: "spread" }, h("h2", {}, t("results.evaluation")),
    h("div", { class: "row" }, h("label", { for: split.id }, t("results.split")), split)), error, body);
  const kindPromise = datasetKind(record.dataset);

  async function load() {
    error.clear();
    body.replaceChildren(h("p", { class: "loading" }, t("common.loading")));
    let res;
    try {
      res = await api.get(`/runs/${enc(record.id)}/evaluation?split=${split.value}`);
    } catch (err) {
      body.replaceChildren();
      error.show(err);
      return;
    }
    const isImages = (await kindPromise) === "images";
    const metrics = res.metrics || {};
    const classes = res.classes || Object.keys(metrics.per_class || {});
    const samples = normaliseSamples(res.samples, classes);
    const scalars = Object.entries(metrics).filter(([, v]) => typeof v === "number");
    const parts = [h("div", { class: "metrics", testid: "eval-metrics" }, scalars.map(([k, v]) =>
      h("div", { class: "metric" }, h("div", { class: "v" }, k === "accuracy" ? pct(v) : k === "num_samples" ? int(v) : num(v, 3)), h("div", { class: "k" }, metricLabel(k)))))];

    if (metrics.confusion_matrix?.length) {
      const picked = h("div", { testid: "cm-samples" });
      const heat = confusionHeatmap(metrics.confusion_matrix, classes, (i, j) => {
        const match = samples.filter((s) => s.label === classes[i] && s.predicted === classes[j]);
        const count = metrics.confusion_matrix[i][j];
        mount(picked,
          h("h3", {}, t("results.cellTitle", { truth: classes[i], predicted: classes[j], count })),
          match.length ? h("div", { class: "gallery" }, match.slice(0, MAX_TILES).map((s) => sampleTile(s, record.dataset, isImages)))
            : h("p", { class: "empty" }, count ? t("results.cellNotListed") : t("results.cellEmpty")),
          match.length && match.length < count ? h("p", { class: "muted" }, t("results.cellPartial", { shown: match.length, count })) : null);
      });
      // many classes need the whole width for the matrix; a few leave room for the table beside it
      parts.push(h("div", { class: classes.length > 6 ? "stack" : "grid2" },
        h("div", {}, h("h3", {}, t("results.confusion")), heat, picked),
        h("div", {}, h("h3", {}, t("results.perClass")), perClassTable(metrics.per_class || {}, classes))));
    }
    const wrong = samples.filter((s) => s.label !== s.predicted);
    if (classes.length) {
      parts.push(h("h3", {}, t("results.misclassified", { n: wrong.length })),
        wrong.length ? h("div", { class: "gallery", testid: "misclassified" },
          wrong.slice(0, MAX_TILES).map((s) => sampleTile(s, record.dataset, isImages)))
          : h("p", { class: "empty" }, t("results.noneWrong")));
    }
    if (!classes.length && samples.length) parts.push(largestErrors(samples));
    body.replaceChildren(...parts);
  }

  split.addEventListener("change", load);
  load();
}
