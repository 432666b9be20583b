// Sweeps: the list (#/sweeps), and one sweep (#/sweeps/NAME): its trials as they finish,
// the best so far over time, parallel coordinates of the settings, each setting's
// importance, and "train the best one longer" as one action. Started from the CLI
// (`lernwerk sweep`, see docs/sweeps.md); the page follows while trials run.

import { api, enc } from "../api.js";
import { errorSlot, h, mount } from "../dom.js";
import { dateTime, duration, metricLabel, num } from "../fmt.js";
import { t } from "../i18n.js";
import { COLORS, createChart } from "../components/chart.js";

const POLL_MS = 2000;
const IDLE_POLL_MS = 15000;
const SVG = "http://www.w3.org/2000/svg";
// a trial's state, drawn as the run statuses are
const STATE_CLASS = { COMPLETE: "finished", PRUNED: "stopped", FAIL: "failed", RUNNING: "running",
  WAITING: "queued" };

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, v);
  el.append(...children.filter((c) => c !== null && c !== undefined));
  return el;
}

function stateBadge(state) {
  return h("span", { class: `status status-${STATE_CLASS[state] || "other"}`, dataset: { state } },
    t(`sweep.state.${state}`));
}

/** A setting's value: small rates in exponent form (1e-5 would round to 0). */
function paramValue(v) {
  if (typeof v !== "number") return String(v);
  return v !== 0 && Math.abs(v) < 1e-3 ? v.toExponential(1) : num(v, 4);
}

export async function render(root, params) {
  return params.name ? renderSweep(root, params.name) : renderList(root);
}

async function renderList(root) {
  const error = errorSlot("sweeps-error");
  const body = h("div", { testid: "sweeps-list" }, h("p", { class: "loading" }, t("common.loading")));
  mount(root, h("section", { class: "panel" }, h("h1", {}, t("sweep.listTitle")),
    h("p", { class: "muted" }, t("sweep.listHint")), error, body));
  try {
    const rows = await api.get("/sweeps");
    if (!rows.length) {
      mount(body, h("p", { testid: "sweeps-empty" }, t("sweep.none")));
      return;
    }
    mount(body, h("table", { class: "table" },
      h("thead", {}, h("tr", {}, ["name", "dataset", "model", "metric", "trials", "best"].map(
        (k) => h("th", { class: ["trials", "best"].includes(k) ? "num" : "" }, t(`sweep.col.${k}`))))),
      h("tbody", {}, rows.map((r) => h("tr", { testid: "sweep-row" },
        h("td", {}, h("a", { href: `#/sweeps/${enc(r.name)}` }, r.name)),
        h("td", {}, r.dataset), h("td", {}, r.model), h("td", {}, metricLabel(r.metric)),
        h("td", { class: "num" }, `${r.trials_done} / ${r.trials}`),
        h("td", { class: "num" }, r.best_value == null ? "" : num(r.best_value, 4)))))));
  } catch (err) {
    error.show(err);
    body.replaceChildren();
  }
}

async function renderSweep(root, name) {
  const error = errorSlot("sweep-error");
  const head = h("div", { testid: "sweep-head" });
  const bestBox = h("div", { class: "sweep-best", testid: "sweep-best" });
  const chart = createChart({ title: t("sweep.bestSoFar"), xLabel: t("sweep.trialsFinished"),
    yLabel: "", testid: "sweep-best-chart", wholeX: true,
    series: [{ label: t("sweep.trialValue"), color: COLORS[4], points: true },
      { label: t("sweep.bestValue"), color: COLORS[0] }] });
  const parallel = h("div", { class: "sweep-parallel", testid: "sweep-parallel" });
  const importance = h("div", { class: "sweep-importance", testid: "sweep-importance" });
  const table = h("div", { class: "table-wrap", testid: "sweep-trials" });
  mount(root, h("section", { class: "panel" },
    h("p", {}, h("a", { href: "#/sweeps" }, t("sweep.back"))),
    h("h1", {}, t("sweep.title", { name })), head, error, bestBox),
  h("section", { class: "panel sweep-charts" }, chart.el,
    h("div", {}, h("h3", {}, t("sweep.importance")), h("p", { class: "muted" }, t("sweep.importanceHint")),
      importance)),
  h("section", { class: "panel" }, h("h2", {}, t("sweep.parallel")),
    h("p", { class: "muted" }, t("sweep.parallelHint")), parallel),
  h("section", { class: "panel" }, h("h2", {}, t("sweep.trials")), table));

  let timer = 0;
  let alive = true;
  let last = "";
  async function load() {
    try {
      const s = await api.get(`/sweeps/${enc(name)}`);
      if (!alive) return;
      error.clear?.();
      const text = JSON.stringify(s);
      if (text !== last) {
        last = text;
        draw(s);
      }
      // follow running trials closely; a sweep short of its trials may be resumed: now and then
      const done = (s.counts.COMPLETE || 0) + (s.counts.PRUNED || 0);
      const wait = (s.counts.RUNNING || 0) > 0 ? POLL_MS : done < s.trials_wanted ? IDLE_POLL_MS : 0;
      if (wait && alive) timer = setTimeout(load, wait);
    } catch (err) {
      if (alive) error.show(err);
    }
  }

  function draw(s) {
    const done = (s.counts.COMPLETE || 0) + (s.counts.PRUNED || 0);
    mount(head, h("p", { testid: "sweep-summary" },
      t("sweep.summary", { model: s.model, dataset: s.dataset, metric: metricLabel(s.metric),
        direction: t(`sweep.${s.direction}`), done, wanted: s.trials_wanted })),
    h("p", { class: "muted", testid: "sweep-counts" },
      Object.entries(s.counts).map(([state, n]) => `${n} ${t(`sweep.state.${state}`)}`).join(" · ")));
    drawBest(s);
    drawChart(s);
    drawImportance(s);
    drawParallel(s);
    drawTable(s);
  }

  function drawBest(s) {
    if (!s.best) {
      mount(bestBox, h("p", { class: "muted" }, t("sweep.noBest")));
      return;
    }
    const b = s.best;
    const button = h("button", { type: "button", class: "primary", testid: "sweep-train-best",
      disabled: !s.train_best, onclick: async () => {
        button.disabled = true;
        try {
          const job = await api.post("/runs", s.train_best);
          location.hash = job.run_id ? `#/runs/${enc(job.run_id)}` : "#/runs";
        } catch (err) {
          error.show(err);
          button.disabled = false;
        }
      } }, t("sweep.trainBest", { epochs: s.train_best?.train?.epochs ?? "" }));
    mount(bestBox, h("p", { testid: "sweep-best-line" },
      h("strong", {}, t("sweep.best", { number: b.number, metric: metricLabel(s.metric),
        value: num(b.value, 4) })), " ",
      b.run_id ? h("a", { href: `#/runs/${enc(b.run_id)}` }, t("sweep.openRun")) : null),
    h("p", {}, Object.entries(b.params).map(([k, v]) => h("code", { class: "sweep-param" },
      `${k} = ${paramValue(v)}`))),
    h("p", {}, button));
  }

  function drawChart(s) {
    const finished = s.trials.filter((tr) => tr.state === "COMPLETE" && tr.value != null)
      .sort((a, b) => (a.finished || "").localeCompare(b.finished || ""));
    const better = s.direction === "maximize" ? Math.max : Math.min;
    let best = null;
    const xs = [], values = [], bests = [];
    finished.forEach((tr, i) => {
      best = best === null ? tr.value : better(best, tr.value);
      xs.push(i + 1);
      values.push(tr.value);
      bests.push(best);
    });
    chart.setData([xs, values, bests]);
  }

  function drawImportance(s) {
    const entries = Object.entries(s.importance);
    if (!entries.length) {
      mount(importance, h("p", { class: "muted" }, t("sweep.importanceLater")));
      return;
    }
    mount(importance, entries.map(([k, v]) => h("div", { class: "sweep-bar", testid: "sweep-importance-row" },
      h("span", { class: "sweep-bar-label" }, k),
      h("span", { class: "sweep-bar-track" }, h("span", { class: "sweep-bar-fill",
        style: { width: `${Math.max(1, Math.round(v * 100))}%` } })),
      h("span", { class: "num" }, num(v, 2)))));
  }

  function drawParallel(s) {
    const varied = s.space.filter((p) => p.kind !== "fixed");
    const trials = s.trials.filter((tr) => ["COMPLETE", "PRUNED"].includes(tr.state));
    if (!trials.length) {
      mount(parallel, h("p", { class: "muted" }, t("sweep.noTrials")));
      return;
    }
    const values = trials.filter((tr) => tr.value != null).map((tr) => tr.value);
    const axes = [...varied.map((p) => ({ name: p.name, p })),
      { name: metricLabel(s.metric), metric: true }];
    const width = Math.max(720, axes.length * 200), height = 300, top = 30, bottom = 40, pad = 70;
    const x = (i) => pad + (i * (width - 2 * pad)) / Math.max(1, axes.length - 1);
    const lo = Math.min(...values), hi = Math.max(...values);
    const y01 = (f) => top + (1 - f) * (height - top - bottom);
    function frac(axis, v) {
      if (axis.metric) return hi > lo ? (v - lo) / (hi - lo) : 0.5;
      const p = axis.p;
      if (p.kind === "choice") {
        const i = p.choices.findIndex((c) => c === v);
        return p.choices.length > 1 ? i / (p.choices.length - 1) : 0.5;
      }
      if (p.high === p.low) return 0.5;
      if (p.log) return (Math.log(v) - Math.log(p.low)) / (Math.log(p.high) - Math.log(p.low));
      return (v - p.low) / (p.high - p.low);
    }
    const plot = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img",
      "aria-label": t("sweep.parallel"), "data-testid": "sweep-parallel-svg",
      "data-lines": String(trials.length) });
    for (const [i, axis] of axes.entries()) {
      const ticks = axis.metric ? [lo, hi] : axis.p.kind === "choice" ? axis.p.choices : [axis.p.low, axis.p.high];
      plot.append(svg("line", { x1: x(i), x2: x(i), y1: y01(0), y2: y01(1), class: "pc-axis" }),
        svg("text", { x: x(i), y: height - 12, "text-anchor": "middle", class: "pc-label" }, axis.name));
      for (const tick of ticks) {
        plot.append(svg("text", { x: x(i) + 6, y: y01(frac(axis, tick)) + 4, class: "pc-tick" },
          paramValue(tick)));
      }
    }
    const ordered = [...trials].sort((a, b) => (a.value ?? -Infinity) - (b.value ?? -Infinity));
    for (const tr of ordered) {
      const pts = axes.map((axis, i) => {
        const v = axis.metric ? tr.value : tr.params[axis.name];
        return v == null ? null : `${x(i).toFixed(1)},${y01(frac(axis, v)).toFixed(1)}`;
      }).filter(Boolean);
      const isBest = s.best && s.best.number === tr.number;
      const shade = tr.value == null ? null : hi > lo ? (tr.value - lo) / (hi - lo) : 1;
      const good = s.direction === "maximize" ? shade : shade === null ? null : 1 - shade;
      plot.append(svg("polyline", { points: pts.join(" "),
        class: `pc-line${tr.state === "PRUNED" ? " pc-pruned" : ""}${isBest ? " pc-best" : ""}`,
        style: good === null ? null : `opacity:${(0.3 + 0.7 * good).toFixed(2)}` },
      svg("title", {}, `${t("sweep.trial", { number: tr.number })}: ${t(`sweep.state.${tr.state}`)}`)));
    }
    mount(parallel, plot);
  }

  function drawTable(s) {
    const names = s.space.filter((p) => p.kind !== "fixed").map((p) => p.name);
    mount(table, h("table", { class: "table" },
      h("thead", {}, h("tr", {}, h("th", { class: "num" }, t("sweep.col.trial")),
        h("th", {}, t("sweep.col.state")), h("th", { class: "num" }, metricLabel(s.metric)),
        h("th", { class: "num" }, t("sweep.col.epochs")), h("th", { class: "num" }, t("sweep.col.duration")),
        names.map((n) => h("th", {}, h("code", {}, n))), h("th", {}, t("sweep.col.run")))),
      h("tbody", {}, [...s.trials].reverse().map((tr) => h("tr", {
        testid: "sweep-trial", dataset: { state: tr.state, number: String(tr.number) },
        class: s.best && s.best.number === tr.number ? "sweep-best-row" : "" },
      h("td", { class: "num" }, String(tr.number)), h("td", {}, stateBadge(tr.state)),
      h("td", { class: "num" }, tr.value == null ? "" : num(tr.value, 4)),
      h("td", { class: "num" }, String(tr.epochs ?? "")),
      h("td", { class: "num", title: tr.finished ? dateTime(tr.finished) : "" },
        tr.seconds == null ? "" : duration(tr.seconds)),
      names.map((n) => h("td", {}, n in tr.params ? paramValue(tr.params[n]) : "")),
      h("td", {}, tr.run_id ? h("a", { href: `#/runs/${enc(tr.run_id)}` }, tr.run_id) : ""))))));
  }

  await load();
  return () => {
    alive = false;
    clearTimeout(timer);
    chart.destroy();
  };
}
