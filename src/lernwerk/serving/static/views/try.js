// Try a trained run: draw, shoot or upload one image; fill in a table row; or give one
// series. The answer: the probability of every class as bars, and the time it took.

import { api, enc } from "../api.js";
import { add, errorSlot, field, h, tabs } from "../dom.js";
import { num } from "../fmt.js";
import { t } from "../i18n.js";
import { createDrawPad } from "../components/drawpad.js";
import { createDropzone } from "../components/dropzone.js";
import { probabilityBars } from "../components/probbars.js";
import { COLORS } from "../components/chart.js";
import { roleLines, seriesChart } from "../components/seriesplot.js";
import { forecastChart } from "./results-evaluation.js";
import { createWebcam, fileToDataUrl } from "../components/webcam.js";
import { pixelsFor } from "./dataset-images.js";
import { targetOf } from "./dataset-table.js";
import { explainView } from "../components/explainview.js";
import { helpHeading } from "../components/help.js";

const channelLabel = (label, c) => t("series.channelOf", { label, c });

/** An anomaly model's answer: the verdict, the score against the threshold, and the
 * reconstruction drawn over the input. */
function anomalyResult(res, charts) {
  const verdict = res.is_anomaly ? t("try.anomalous") : t("try.normal", { cls: res.normal_class });
  const chart = seriesChart({ testid: "try-reconstruction", xLabel: t("series.step"), lines: [
    ...roleLines(res.series, t("results.input"), { color: COLORS[0], channelLabel }),
    ...roleLines(res.reconstruction, t("results.reconstruction"), { color: COLORS[1], dash: [6, 4], channelLabel }),
  ] });
  charts.push(chart);
  const threshold = res.threshold ?? null;
  const share = threshold ? Math.min(1, res.score / (2 * threshold)) : 0;
  return [
    h("p", { class: "predicted" }, t("try.verdict"), " ",
      h("b", { testid: "anomaly-verdict", dataset: { anomaly: String(res.is_anomaly) },
        style: { color: res.is_anomaly ? "var(--danger)" : "var(--ok)" } }, verdict)),
    h("p", { testid: "anomaly-score" }, t("try.scoreVsThreshold", { score: num(res.score, 4),
      threshold: threshold === null ? "–" : num(threshold, 4) })),
    threshold ? h("div", { class: "bars" }, h("div", { class: `bar${res.is_anomaly ? " top" : ""}` },
      h("span", { class: "label" }, t("try.score")),
      h("span", { class: "track", "aria-hidden": "true", style: { position: "relative" } },
        h("span", { class: "fill", style: { width: `${(share * 100).toFixed(1)}%`, display: "block",
          background: res.is_anomaly ? "var(--danger)" : "var(--ok)" } }),
        h("span", { title: t("try.threshold"), style: { position: "absolute", left: "50%", top: "-3px", bottom: "-3px", width: "2px", background: "#1f2933" } })),
      h("span", { class: "p" }, num(res.score, 4)))) : null,
    chart.el,
  ];
}

function forecastResult(res, charts) {
  const inputs = Array.isArray(res.series?.[0]) ? res.series : [res.series || []];
  const past = inputs[res.target_channel || 0] || [];
  const forecast = res.values ?? [res.value];
  const truth = Array.isArray(res.truth) ? res.truth : null;
  const chart = forecastChart({ past, truth, forecast, testid: "try-forecast" });
  charts.push(chart);
  return [h("p", { class: "predicted" }, t("try.forecastNext", { n: forecast.length }), " ",
    h("b", { testid: "predicted-value" }, forecast.map((v) => num(v)).join(", "))), chart.el];
}

const NOTHING_YET = { sequences: "try.nothingYetSeries", table: "try.nothingYetTable" };

/** What the answer box says before the first answer, for the inputs this run takes. */
function nothingYetKey(kind, channels) {
  if (kind === "images") return channels === 3 ? "try.nothingYetPhoto" : "try.nothingYetImage";
  return NOTHING_YET[kind] || "try.nothingYet";
}

function resultBox(kind, channels) {
  const nothingYet = () => h("p", { class: "muted", testid: "prediction-empty" }, t(nothingYetKey(kind, channels)));
  const el = h("div", { testid: "prediction", "aria-live": "polite" }, nothingYet());
  // replaceChildren writes null and undefined as text: a missing part is left out
  const show = (...parts) => el.replaceChildren(...parts.filter((part) => part !== null && part !== undefined));
  const error = errorSlot("predict-error");
  let classes = [];
  let sequence = 0;
  let charts = [];
  return {
    el: h("section", { class: "panel" }, h("h2", {}, t("try.result")), error, el),
    setClasses(list) { classes = list || []; },
    /** The input was cleared: its answer goes too (and one still on its way is dropped). */
    reset() {
      sequence += 1;
      charts.forEach((c) => c.destroy());
      charts = [];
      error.clear();
      show(nothingYet());
    },
    destroy() { charts.forEach((c) => c.destroy()); charts = []; },
    /** Send one prediction; a slower, older answer never overwrites a newer one. */
    async predict(run, send, explain = null) {
      const mine = ++sequence;
      error.clear();
      try {
        const res = await send();
        if (mine !== sequence) return;
        charts.forEach((c) => c.destroy());
        charts = [];
        const ms = h("p", { class: "muted" }, t("try.took"), " ", h("b", { testid: "predict-ms" }, `${num(res.ms, 1)} ms`));
        const truth = res.sample !== undefined && res.sample !== null
          ? h("p", { class: "muted", testid: "predict-truth" }, t("try.truthOf", { id: res.sample, split: t(`split.${res.split}`) }), " ",
            h("b", {}, Array.isArray(res.truth) ? res.truth.map((v) => num(v)).join(", ") : String(res.truth)))
          : null;
        if (res.score !== undefined) {
          show(...anomalyResult(res, charts), truth, ms);
        } else if (res.probabilities) {
          let plot = null;
          if (res.series) {
            plot = seriesChart({ testid: "try-series", height: 150, xLabel: t("series.step"),
              lines: roleLines(res.series, t("results.input"), { color: COLORS[0], channelLabel }) });
            charts.push(plot);
          }
          show(h("p", { class: "predicted" }, t("try.predicted"), " ", h("b", { testid: "predicted-class" }, res.predicted)),
            ...helpHeading("p", t("try.probabilities"), "chart.probabilities", "muted"),
            probabilityBars(res.probabilities, { order: classes }), truth, plot?.el, ms, explain ? explainView(explain) : null);
        } else if (res.target_channel !== undefined) {
          show(...forecastResult(res, charts), truth, ms);
        } else {
          const value = res.value ?? res.values;
          show(h("p", { class: "predicted" }, t("try.value"), " ",
            h("b", { testid: "predicted-value" }, Array.isArray(value) ? value.map((v) => num(v)).join(", ") : num(value))), truth, ms,
            explain ? explainView(explain) : null);
        }
      } catch (err) {
        if (mine !== sequence) return;
        // the last answer is for another input: it must not stand under this one's error
        charts.forEach((c) => c.destroy());
        charts = [];
        show(nothingYet());
        error.show(err);
      }
    },
  };
}

function imageInputs(panel, shape, predict, onClear) {
  const [channels, height, width] = shape;
  let webcam = null;
  const classify = (body) => predict(() => body);
  const t1 = tabs([
    // drawing white on black suits grayscale images only, not colour photos
    channels === 3 ? null : { id: "draw", label: t("dataset.tab.draw"), render: (p) => {
      const pad = createDrawPad({ height, width, onStroke: () => go(), onClear });
      const go = () => { if (!pad.isEmpty()) classify({ pixels: pixelsFor(pad.pixels(), channels) }); };
      p.append(h("p", { class: "muted" }, t("try.drawIntro")), pad.el,
        h("div", { class: "row", style: { marginTop: "8px" } },
          h("button", { type: "button", class: "primary", testid: "predict-draw", onclick: go }, t("try.classify"))));
    } },
    { id: "webcam", label: t("dataset.tab.webcam"), onHide: () => webcam?.stop(), render: (p) => {
      webcam = createWebcam({ size: height, channels, onShot: (image) => classify({ image }) });
      p.append(h("p", { class: "muted" }, t("try.webcamIntro")), webcam.el);
    } },
    { id: "upload", label: t("dataset.tab.upload"), render: (p) => {
      const drop = createDropzone({ accept: "image/*", multiple: false, testid: "predict-upload", onFiles: async (files) => {
        if (!files[0]) return;
        predict(async () => ({ image: await fileToDataUrl(files[0], height, channels) }));
      } });
      p.append(h("p", { class: "muted" }, t("try.uploadIntro")), drop.el);
    } },
  ].filter(Boolean), "try-tab");
  panel.append(t1.el);
  return () => webcam?.stop();
}

/** The feature columns the model takes: from the run's `input`, else from the dataset. */
function featureColumns(spec, info) {
  if (spec?.columns?.length) return spec.columns;
  const columns = (info?.table?.columns || []).map((c) => (typeof c === "string" ? { name: c } : c));
  const target = columns.length ? targetOf(info, columns) : null;
  const names = columns.length ? columns.map((c) => c.name).filter((n) => n !== target) : info?.feature_names || [];
  return names.map((name) => ({ name, kind: "numeric", categories: [] }));
}

function tableInputs(panel, spec, info, predict) {
  const columns = featureColumns(spec, info);
  const header = (info?.table?.columns || []).map((c) => (typeof c === "string" ? c : c.name));
  const first = info?.table?.rows?.[0];
  const example = (name) => (Array.isArray(first) ? first[header.indexOf(name)] : first?.[name]);
  const inputs = columns.map((col) => {
    const testid = `feature-${col.name}`;
    const value = example(col.name);
    let input;
    if (col.categories?.length) {
      input = h("select", { testid }, col.categories.map((c) => h("option", { value: String(c) }, String(c))));
      if (value !== undefined) input.value = String(value);
    } else {
      input = h("input", { type: "number", step: "any", testid, autocomplete: "off",
        value: typeof value === "number" ? +value.toPrecision(6) : value ?? "" });
    }
    return { col, input };
  });
  const form = h("form", {
    onsubmit: (ev) => {
      ev.preventDefault();
      const values = {};
      for (const { col, input } of inputs) {
        const raw = input.value.trim();
        values[col.name] = col.categories?.length || raw === "" || Number.isNaN(Number(raw)) ? raw : Number(raw);
      }
      predict(() => ({ values }));
    },
  }, h("p", { class: "muted" }, t("try.tableIntro")),
  h("div", { class: "fields" }, inputs.map(({ col, input }) => field(col.name, input))),
  h("button", { type: "submit", class: "primary", testid: "predict-table" }, t("try.classify")));
  panel.append(form);
}

function sequenceInputs(panel, predict, runId) {
  // a sample of the test split (the validation split when the run has no test split)
  const pick = h("select", { testid: "predict-pick" }, h("option", { value: "" }, t("common.loading")));
  pick.disabled = true;
  pick.addEventListener("change", () => {
    if (pick.value !== "") predict(() => ({ sample: Number(pick.value) }));
  });
  (async () => {
    let res = null;
    for (const split of ["test", "val"]) {
      res = await api.get(`/runs/${enc(runId)}/evaluation?split=${split}&limit=200`).catch(() => null);
      if (res?.samples?.length) break;
    }
    const samples = [...(res?.samples || [])].sort((a, b) => a.id - b.id);
    if (!samples.length) {
      pick.replaceChildren(h("option", { value: "" }, t("try.pickNone")));
      return;
    }
    const label = (s) => (typeof s.label === "string" ? s.label : "");
    pick.replaceChildren(h("option", { value: "" }, t("try.pickPrompt", { n: samples.length, split: t(`split.${res.split}`) })),
      ...samples.map((s) => h("option", { value: String(s.id) }, `#${s.id}${label(s) ? ` (${label(s)})` : ""}`)));
    pick.disabled = false;
  })();
  const area = h("textarea", { rows: 4, testid: "series-input", placeholder: "0.1, 0.4, 0.9, 0.7, …" });
  const pasted = h("button", { type: "button", class: "primary", testid: "predict-series", onclick: () => {
    const series = area.value.trim().split(/\n+/).map((line) => line.split(/[,;\s]+/).filter(Boolean).map(Number));
    predict(() => ({ series }));
  } }, t("try.predictButton"));
  const drop = createDropzone({ accept: ".csv,.txt", multiple: false, testid: "predict-series-file", onFiles: (files) => {
    if (!files[0]) return;
    const data = new FormData();
    data.append("file", files[0], files[0].name);
    predict(null, () => api.upload(`/runs/${enc(runId)}/predict`, data));
  } });
  panel.append(h("p", { class: "muted" }, t("try.seriesIntro")),
    field(t("try.pickSample"), pick),
    field(t("try.seriesValues"), area), h("div", { class: "row" }, pasted),
    h("h3", {}, t("try.seriesFile")), drop.el);
}

export async function render(root, { id }) {
  const error = errorSlot("view-error");
  let record;
  try {
    record = await api.get(`/runs/${enc(id)}`);
  } catch (err) {
    add(root, h("h1", {}, t("try.title")), error);
    error.show(err);
    return undefined;
  }
  const spec = record.input;  // what the trained model takes: kind, shape, classes, columns
  // the dataset gives an example row for tables, and everything when the run has no model yet
  const info = !spec || spec.kind === "table"
    ? await api.get(`/datasets/${enc(record.dataset)}`).catch(() => null) : null;
  const kind = spec?.kind ?? info?.kind;
  const imageShape = kind === "images" ? spec?.shape ?? info.input_shape : null;
  const result = resultBox(kind, imageShape?.[0]);
  result.setClasses(spec?.classes?.length ? spec.classes : info?.classes || []);
  /** makeBody builds the JSON body (may be async); send, when given, does the whole request. */
  const predict = (makeBody, send) => result.predict(record, send || (async () =>
    api.post(`/runs/${enc(id)}/predict`, await makeBody())),
  send ? null : async () => api.post(`/runs/${enc(id)}/explain`, await makeBody()));

  const inputPanel = h("section", { class: "panel" }, h("h2", {}, t("try.input")));
  let cleanup;
  if (kind === "images") cleanup = imageInputs(inputPanel, imageShape, predict, () => result.reset());
  else if (kind === "table") tableInputs(inputPanel, spec, info, predict);
  else if (kind === "sequences") sequenceInputs(inputPanel, predict, id);
  else inputPanel.append(h("p", { class: "error" }, t("try.unknownKind", { dataset: record.dataset })));

  add(root,
    h("div", { class: "spread" }, h("h1", {}, t("try.title"), ": ", record.name || id),
      h("a", { href: `#/runs/${enc(id)}` }, t("try.backToResults"))),
    record.status !== "finished" && record.status !== "stopped"
      ? h("p", { class: "muted" }, t("try.notFinished", { status: t(`status.${record.status}`) })) : null,
    h("div", { class: "grid2" }, inputPanel, result.el));
  return () => { cleanup?.(); result.destroy(); };
}
