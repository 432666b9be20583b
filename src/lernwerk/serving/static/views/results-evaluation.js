// A run's evaluation on one split: the confusion matrix (click a cell to see its
// samples), precision/recall/F1 per class, and the misclassified samples with their
// predicted probabilities.

import { api, enc, request, sampleUrl } from "../api.js";
import { errorSlot, h, mount } from "../dom.js";
import { int, metricLabel, num, pct } from "../fmt.js";
import { t } from "../i18n.js";
import { confusionHeatmap } from "../components/heatmap.js";
import { COLORS } from "../components/chart.js";
import { roleLines, seriesChart } from "../components/seriesplot.js";
import { helpHeading } from "../components/help.js";

const MAX_TILES = 48;
const MAX_CHARTS = 6;

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
  // every class up to six (a four-class set shows all four), else the six likeliest
  const top = Object.entries(sample.probabilities).sort((a, b) => b[1] - a[1]).slice(0, 6);
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

/** Regression: the samples the model is furthest off, as the server sorts them; for
 * several values per sample (a forecast) the mean absolute error of each. */
function largestErrors(samples) {
  const several = Array.isArray(samples[0]?.label);
  const mae = (s) => {
    const a = [s.label].flat();
    const b = [s.predicted].flat();
    return a.reduce((sum, v, i) => sum + Math.abs(v - b[i]), 0) / (a.length || 1);
  };
  const head = several
    ? [h("th", { class: "num" }, t("metric.mae"))]
    : [h("th", { class: "num" }, t("results.trueValue")), h("th", { class: "num" }, t("results.predictedValue"))];
  const cells = (s) => (several ? [h("td", { class: "num" }, num(mae(s), 3))]
    : [h("td", { class: "num" }, num(s.label, 3)), h("td", { class: "num" }, num(s.predicted, 3))]);
  return h("div", {}, h("h3", {}, t("results.largestErrors")),
    h("div", { class: "table-wrap" }, h("table", { testid: "largest-errors" },
      h("thead", {}, h("tr", {}, h("th", {}, t("results.sampleId")), head)),
      h("tbody", {}, samples.slice(0, several ? 10 : 20).map((s) => h("tr", {}, h("td", {}, String(s.id)), cells(s)))))));
}

const channelLabel = (label, c) => t("series.channelOf", { label, c });

/** A misclassified series over the typical shape of its true and its predicted class. */
function misclassifiedChart(sample, typical) {
  const lines = [
    ...roleLines(sample.series, t("results.thisSeries"), { color: COLORS[0], channelLabel }),
    ...roleLines(typical[sample.label], t("results.typicalOf", { cls: sample.label }), { color: COLORS[2], dash: [6, 4], channelLabel }),
    ...(sample.predicted !== sample.label
      ? roleLines(typical[sample.predicted], t("results.typicalOf", { cls: sample.predicted }), { color: COLORS[1], dash: [2, 3], channelLabel })
      : []),
  ];
  return seriesChart({ testid: "eval-series", xLabel: t("series.step"), lines,
    title: t("results.seriesTitle", { id: sample.id, truth: sample.label, predicted: sample.predicted, p: pct(sample.confidence, 0) }) });
}

/** An input with its reconstruction; the title says the score against the threshold. */
function reconstructionChart(sample, threshold) {
  const lines = [
    ...roleLines(sample.series, t("results.input"), { color: COLORS[0], channelLabel }),
    ...roleLines(sample.reconstruction, t("results.reconstruction"), { color: COLORS[1], dash: [6, 4], channelLabel }),
  ];
  const verdict = sample.flagged ? t("results.flagged") : t("results.notFlagged");
  return seriesChart({ testid: "eval-reconstruction", xLabel: t("series.step"), lines,
    title: t("results.reconstructionTitle", { id: sample.id, label: sample.label, score: num(sample.score, 4),
      threshold: threshold === null || threshold === undefined ? "–" : num(threshold, 4), verdict }) });
}

/** The window a forecast saw, then the truth and the forecast after it. */
export function forecastChart({ past, truth, forecast, title, testid = "eval-forecast" }) {
  const start = past.length;
  const lines = [{ label: t("results.past"), values: past, color: COLORS[0] }];
  if (truth) lines.push({ label: t("results.truthLine"), values: [past[past.length - 1], ...truth], start: start - 1, color: COLORS[2] });
  lines.push({ label: t("results.forecast"), values: [past[past.length - 1], ...forecast], start: start - 1, color: COLORS[1], dash: [6, 4] });
  return seriesChart({ testid, title, xLabel: t("series.step"), lines });
}

const asList = (v) => (Array.isArray(v) ? v : [v]);

function anomalyParts(res, samples, charts) {
  const m = res.metrics || {};
  const normal = res.normal_class || "ok";
  const flagClasses = [t("results.normalIs", { cls: normal }), t("results.anomaly")];
  const flags = [t("results.notFlagged"), t("results.flagged")];
  const flagColumns = [t("results.flagNo"), t("results.flagYes")];  // short: the axis says what
  const picked = h("div", { testid: "cm-samples" });
  const heat = confusionHeatmap(m.confusion_matrix || [[0, 0], [0, 0]], flagClasses, (i, j) => {
    const match = samples.filter((s) => Number(s.anomaly) === i && Number(s.flagged) === j);
    mount(picked, h("h3", {}, t("results.cellTitle", { truth: flagClasses[i], predicted: flags[j], count: m.confusion_matrix[i][j] })),
      match.length ? h("div", { class: "table-wrap" }, h("table", {}, h("tbody", {}, match.slice(0, 50).map((s) =>
        h("tr", {}, h("td", {}, String(s.id)), h("td", {}, s.label), h("td", { class: "num" }, num(s.score, 4)))))))
        : h("p", { class: "empty" }, t("results.cellEmpty")));
  }, { columns: flagColumns, axis: t("results.trueVsFlagged") });
  const shown = samples.filter((s) => s.series).slice(0, MAX_CHARTS);
  const grid = h("div", { class: "charts", testid: "reconstructions" });
  for (const s of shown) {
    const chart = reconstructionChart(s, res.threshold);
    charts.push(chart);
    grid.append(chart.el);
  }
  return [
    h("p", { class: "muted", testid: "threshold-rule" }, t("results.thresholdRule", {
      threshold: res.threshold === null || res.threshold === undefined ? "–" : num(res.threshold, 4), rule: m.threshold_rule || "–" })),
    h("div", { class: "grid2" }, h("div", {}, h("h3", {}, t("results.flags")), heat), picked),
    h("h3", {}, t("results.reconstructions")), shown.length ? grid : h("p", { class: "empty" }, t("series.none")),
  ];
}

/** A photo with its anomaly map (rows of values) drawn over it: hot where a patch lies far
 * from every normal patch; the colour scale ends at twice the threshold. */
function mapTile(sample, dataset, threshold) {
  const map = sample.map;
  const rows = map.length;
  const cols = map[0].length;
  const canvas = h("canvas", { width: cols, height: rows, class: "anomaly-map",
    style: { position: "absolute", inset: 0, width: "100%", height: "100%", opacity: 0.6, imageRendering: "auto" } });
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(cols, rows);
  const top = threshold > 0 ? 2 * threshold : Math.max(...map.flat(), 1e-9);
  map.flat().forEach((value, i) => {
    const v = Math.min(Math.max(value / top, 0), 1);
    img.data.set([255 * Math.min(3 * v, 1), 255 * Math.min(Math.max(3 * v - 1, 0), 1),
      255 * Math.min(Math.max(3 * v - 2, 0), 1), 255 * (0.2 + 0.8 * v)], 4 * i);
  });
  ctx.putImageData(img, 0, 0);
  return h("figure", { class: "stack", testid: "flagged-sample", dataset: { id: String(sample.id) },
    style: { margin: 0, width: "118px" } },
  h("div", { class: "tile wide", style: { position: "relative" } },
    h("img", { src: sampleUrl(dataset, sample.id, 4), loading: "lazy", alt: t("results.mapAlt", { id: sample.id, label: sample.label }) }),
    canvas),
  h("figcaption", { class: "probs-small" },
    h("div", {}, t("results.truth"), ": ", h("b", {}, sample.label)),
    h("div", { class: "muted" }, t("results.scoreIs", { score: num(sample.score, 3) }))));
}

/** The threshold slider of an image anomaly detector: how many test parts it flags and
 * how many defects it misses, live as it moves (every score came with the view); the
 * flagged images with their anomaly maps; the threshold can be saved with the run. */
function thresholdParts(res, record, reload, note) {
  const scores = res.scores || [];
  const values = scores.map((s) => s.score);
  const lo = Math.min(...values, res.threshold ?? Infinity);
  const hi = Math.max(...values, res.threshold ?? -Infinity);
  const step = (hi - lo) / 500 || 1e-6;
  const start = res.threshold ?? hi;
  const slider = h("input", { type: "range", id: "threshold-slider", testid: "threshold-slider",
    min: String(lo), max: String(hi + step), step: String(step), value: String(start) });
  const valueText = h("output", { testid: "threshold-value", for: "threshold-slider" });
  const counts = h("p", { testid: "threshold-counts", "aria-live": "polite" });
  const gallery = h("div", { class: "gallery", testid: "flagged-gallery" });
  const saved = h("p", { class: "muted", testid: "threshold-saved" }, note || "");
  const error = errorSlot("threshold-error");
  const withMaps = (res.samples || []).filter((s) => s.map);
  const defects = scores.filter((s) => s.anomaly).length;

  function update() {
    const th = Number(slider.value);
    const flagged = scores.filter((s) => s.score > th);
    const missed = scores.filter((s) => s.anomaly && !(s.score > th)).length;
    valueText.textContent = num(th, 4);
    counts.textContent = t("results.thresholdCounts", { flagged: flagged.length, n: scores.length, missed, defects });
    const shown = withMaps.filter((s) => s.score > th);
    gallery.replaceChildren(...(shown.length ? shown.map((s) => mapTile(s, record.dataset, th))
      : [h("p", { class: "empty" }, t("results.noneFlagged"))]));
  }
  const save = h("button", { type: "button", testid: "threshold-save", onclick: async () => {
    error.clear();
    save.disabled = true;
    try {
      const answer = await request("PUT", `/runs/${enc(record.id)}/threshold`, { json: { threshold: Number(slider.value) } });
      reload(t("results.thresholdSaved", { threshold: num(answer.threshold, 4) }));
    } catch (err) {
      error.show(err);
    } finally {
      save.disabled = false;
    }
  } }, t("results.thresholdSave"));
  slider.addEventListener("input", update);
  update();
  return [
    h("h3", {}, t("results.thresholdTitle")),
    h("div", { class: "row" }, h("label", { for: slider.id }, t("results.threshold")), slider, valueText, save),
    counts, error, saved,
    h("h3", {}, t("results.flaggedImages")), gallery,
  ];
}

function forecastParts(samples, charts) {
  const shown = samples.filter((s) => s.past).slice(0, MAX_CHARTS);
  const grid = h("div", { class: "charts", testid: "forecasts" });
  for (const s of shown) {
    const chart = forecastChart({ past: s.past, truth: asList(s.label), forecast: asList(s.predicted),
      title: t("results.forecastTitle", { id: s.id }) });
    charts.push(chart);
    grid.append(chart.el);
  }
  return [h("h3", {}, t("results.forecasts")), grid];
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
    (record.config?.baseline ? ["test", "val"] : ["test", "val", "train"]).map((s) => h("option", { value: s }, t(`split.${s}`))));
  const body = h("div", {});
  section.append(h("div", { class: "spread" }, h("h2", {}, t("results.evaluation")),
    h("div", { class: "row" }, h("label", { for: split.id }, t("results.split")), split)), error, body);
  const kindPromise = datasetKind(record.dataset);
  let charts = [];

  async function load(note) {
    error.clear();
    charts.forEach((c) => c.destroy());
    charts = [];
    body.replaceChildren(h("p", { class: "loading" }, t("common.loading")));
    let res;
    try {
      res = await api.get(`/runs/${enc(record.id)}/evaluation?split=${split.value}`);
    } catch (err) {
      body.replaceChildren();
      error.show(err);
      return;
    }
    const kind = await kindPromise;
    const isImages = kind === "images";
    const metrics = res.metrics || {};
    const classes = res.classes || Object.keys(metrics.per_class || {});
    const samples = normaliseSamples(res.samples, classes);
    const scalars = Object.entries(metrics).filter(([, v]) => typeof v === "number");
    const parts = [h("div", { class: "metrics", testid: "eval-metrics" }, scalars.map(([k, v]) =>
      h("div", { class: "metric" }, h("div", { class: "v" }, k === "accuracy" ? pct(v) : k === "num_samples" ? int(v) : num(v, 3)), h("div", { class: "k" }, metricLabel(k)))))];

    if (res.task === "anomaly") {
      const slider = res.scores ? thresholdParts(res, record, load, note) : [];
      body.replaceChildren(...parts, ...slider, ...anomalyParts(res, res.samples || [], charts));
      return;
    }
    const typical = res.typical || null;
    const sampleViews = (list) => {
      const plotted = typical ? list.filter((s) => s.series).slice(0, MAX_CHARTS) : [];
      if (!plotted.length) return h("div", { class: "gallery" }, list.slice(0, MAX_TILES).map((s) => sampleTile(s, record.dataset, isImages)));
      return h("div", { class: "charts", testid: "misclassified-series" }, plotted.map((s) => {
        const chart = misclassifiedChart(s, typical);
        charts.push(chart);
        return chart.el;
      }));
    };
    if (metrics.confusion_matrix?.length) {
      const picked = h("div", { testid: "cm-samples" });
      const heat = confusionHeatmap(metrics.confusion_matrix, classes, (i, j) => {
        const match = samples.filter((s) => s.label === classes[i] && s.predicted === classes[j]);
        const count = metrics.confusion_matrix[i][j];
        mount(picked,
          h("h3", {}, t("results.cellTitle", { truth: classes[i], predicted: classes[j], count })),
          match.length ? sampleViews(match)
            : h("p", { class: "empty" }, count ? t("results.cellNotListed") : t("results.cellEmpty")),
          match.length && match.length < count ? h("p", { class: "muted" }, t("results.cellPartial", { shown: match.length, count })) : null);
      });
      // many classes need the whole width for the matrix; a few leave room for the table beside it
      parts.push(h("div", { class: classes.length > 6 ? "stack" : "grid2" },
        h("div", {}, ...helpHeading("h3", t("results.confusion"), "chart.confusion"), heat, picked),
        h("div", {}, h("h3", {}, t("results.perClass")), perClassTable(metrics.per_class || {}, classes))));
    }
    const wrong = samples.filter((s) => s.label !== s.predicted);
    if (res.baseline) {  // its estimator is not stored: no sample is predicted again
      parts.push(h("p", { class: "muted", testid: "eval-baseline" }, t("baselines.noSamples")));
    } else if (classes.length) {
      parts.push(h("h3", {}, t("results.misclassified", { n: wrong.length })),
        wrong.length ? h("div", { testid: "misclassified" }, sampleViews(wrong))
          : h("p", { class: "empty" }, t("results.noneWrong")));
      if (typical && wrong.length) parts.push(h("p", { class: "muted" }, t("results.typicalHint")));
    }
    if (res.task === "forecasting") parts.push(...forecastParts(res.samples || [], charts));
    if (!classes.length && samples.length) parts.push(largestErrors(samples));
    body.replaceChildren(...parts);
  }

  split.addEventListener("change", () => load());
  load();
}
