// The playground: a tiny network on 2D points, trained on the server, seen while it learns.
// One session per tab (POST /api/playground); while playing the page pulls the newest frame
// (GET …/frame) as fast as frames come and draws the boundary, every neuron, the weights
// and the loss curves.

import { ApiError, api, enc, request, withToken } from "../api.js";
import { errorSlot, field, h, mount } from "../dom.js";
import { t } from "../i18n.js";
import { decodeGrid, drawCurves, drawGrid, drawPoints, drawWeights } from "../components/planemap.js";

const DATA = ["xor", "circles", "moons", "spiral", "blobs", "plane", "gauss"];
const FEATURES = ["x", "y", "x2", "y2", "xy", "sinx", "siny"];
const RATES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const REG_RATES = [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const LESSONS = ["perceptron", "hidden", "spiral", "learning-rate", "overfitting", "regularization"];
const MAX_LAYERS = 6;
const MAX_NEURONS = 8;
const COL = 100;   // network canvas: column width
const CELL = 34;   // neuron map size
const GAP = 44;    // neuron spacing
const BOARD = 300; // boundary size
const FRAME_MS = 50; // pull a frame at most every 50 ms

const DEFAULTS = {
  data: "xor", noise: 0, train_ratio: 0.5, samples: 400, seed: 0, hidden: [4, 2],
  activation: "tanh", learning_rate: 0.03, batch_size: 10, optimizer: "sgd",
  regularization: "none", regularization_rate: 0, features: ["x", "y"],
};

export async function render(root, { query }) {
  const stats = { frames: 0, since: performance.now() };
  window.__playground = stats;  // frames drawn, for tests and the bench
  let settings = { ...DEFAULTS, hidden: [...DEFAULTS.hidden], features: [...DEFAULTS.features] };
  let lessons = {};
  let session = null;    // {id, points}
  let frame = null;
  let playing = false;
  // what the person last asked for: a change sent while playing resumes only if nobody
  // pressed Pause meanwhile
  let wanted = false;
  let alive = true;
  let pulling = false;
  let tables = [];

  const error = errorSlot("pg-error");
  const status = h("p", { class: "pg-status", role: "status", "aria-live": "off", testid: "pg-status" });
  const epochOut = h("output", { testid: "pg-epoch" }, "0");
  const lossOut = h("span", { testid: "pg-loss" });
  const board = h("canvas", { width: BOARD, height: BOARD, class: "pg-board", testid: "pg-boundary",
    role: "img", "aria-label": t("playground.boundary") });
  const curves = h("canvas", { width: BOARD, height: 80, class: "pg-curves", testid: "pg-curves",
    role: "img", "aria-label": t("playground.curves") });
  const net = h("canvas", { class: "pg-net", testid: "pg-network", role: "img",
    "aria-label": t("playground.network") });
  const netHead = h("div", { class: "pg-nethead", testid: "pg-nethead" });
  const showTest = h("input", { type: "checkbox", testid: "pg-show-test", onchange: () => draw() });
  const playBtn = h("button", { type: "button", class: "primary", testid: "pg-play",
    onclick: () => (playing ? pause() : play()) }, t("playground.play"));
  const stepBtn = h("button", { type: "button", testid: "pg-step", onclick: () => act("step") },
    t("playground.step"));
  const resetBtn = h("button", { type: "button", testid: "pg-reset", onclick: () => act("reset") },
    t("playground.reset"));
  const saveName = h("input", { type: "text", value: "playground-net", testid: "pg-save-name",
    pattern: "[A-Za-z0-9._-]+" });
  const links = h("p", { class: "row", testid: "pg-links" });

  // --- controls ------------------------------------------------------------------------
  const dataSel = h("select", { testid: "pg-data", onchange: () => {
    if (dataSel.value === "csv") { csvInput.click(); return; }
    change({ data: dataSel.value, csv: undefined });
  } });
  const csvInput = h("input", { type: "file", accept: ".csv,text/csv", testid: "pg-csv", hidden: true,
    onchange: async () => {
      const file = csvInput.files?.[0];
      if (!file) return;
      change({ data: "csv", csv: await file.text() });
      csvInput.value = "";
    } });
  const csvBtn = h("button", { type: "button", testid: "pg-csv-button", onclick: () => csvInput.click() },
    t("playground.uploadCsv"));
  const slider = (key, min, max, stepSize, fmt, testid) => {
    const out = h("output", {});
    const input = h("input", { type: "range", min, max, step: stepSize, testid,
      oninput: () => { out.textContent = fmt(Number(input.value)); },
      onchange: () => change({ [key]: Number(input.value) }) });
    input.sync = () => { input.value = settings[key]; out.textContent = fmt(settings[key]); };
    return { input, out };
  };
  const noise = slider("noise", 0, 0.5, 0.05, (v) => v.toFixed(2), "pg-noise");
  const ratio = slider("train_ratio", 0.1, 0.9, 0.1, (v) => `${Math.round(v * 100)} %`, "pg-ratio");
  const batch = slider("batch_size", 1, 30, 1, (v) => String(v), "pg-batch");
  const select = (key, values, label, testid, num = false) => {
    const el = h("select", { testid, onchange: () => change({ [key]: num ? Number(el.value) : el.value }) },
      values.map((v) => h("option", { value: String(v) }, label(v))));
    el.sync = () => { el.value = String(settings[key]); };
    return el;
  };
  const activation = select("activation", ["relu", "tanh", "sigmoid", "linear"],
    (v) => t(`playground.act.${v}`), "pg-activation");
  const rate = select("learning_rate", RATES, String, "pg-lr", true);
  const optimizer = select("optimizer", ["sgd", "adam"], (v) => t(`playground.opt.${v}`), "pg-optimizer");
  const reg = select("regularization", ["none", "l1", "l2"], (v) => t(`playground.reg.${v}`), "pg-reg");
  const regRate = select("regularization_rate", REG_RATES, String, "pg-reg-rate", true);
  const featureBoxes = FEATURES.map((f) => {
    const input = h("input", { type: "checkbox", testid: `pg-feature-${f}`, onchange: () => {
      const chosen = FEATURES.filter((g) => (g === f ? input.checked : settings.features.includes(g)));
      if (!chosen.length) { input.checked = true; return; }
      change({ features: chosen });
    } });
    input.sync = () => { input.checked = settings.features.includes(f); };
    return h("label", { class: "check" }, input, h("span", {}, t(`playground.feature.${f}`)));
  });

  function syncControls() {
    const options = [...DATA.map((d) => [d, t(`playground.data.${d}`)]),
      ...tables.map((n) => [`table:${n}`, t("playground.table", { name: n })]),
      ["csv", t("playground.data.csv")]];
    mount(dataSel, options.map(([v, label]) => h("option", { value: v }, label)));
    dataSel.value = settings.data;
    for (const s of [noise, ratio, batch]) s.input.sync();
    for (const s of [activation, rate, optimizer, reg, regRate]) s.sync();
    for (const box of featureBoxes) box.querySelector("input").sync();
    drawNetHead();
  }

  function drawNetHead() {
    const layerBtns = h("div", { class: "row" },
      h("button", { type: "button", testid: "pg-add-layer", disabled: settings.hidden.length >= MAX_LAYERS,
        "aria-label": t("playground.addLayer"), onclick: () => change({ hidden: [...settings.hidden, 2] }) }, "+"),
      h("button", { type: "button", testid: "pg-remove-layer", disabled: settings.hidden.length === 0,
        "aria-label": t("playground.removeLayer"), onclick: () => change({ hidden: settings.hidden.slice(0, -1) }) }, "−"),
      h("span", { testid: "pg-layers" }, t("playground.layers", { n: settings.hidden.length })));
    const cols = [h("div", { class: "pg-col" }, t("playground.inputs"))];
    settings.hidden.forEach((n, i) => {
      const set = (k) => change({ hidden: settings.hidden.map((m, j) => (j === i ? k : m)) });
      cols.push(h("div", { class: "pg-col", testid: "pg-layer" },
        h("button", { type: "button", testid: "pg-add-neuron", disabled: n >= MAX_NEURONS,
          "aria-label": t("playground.addNeuron", { layer: i + 1 }), onclick: () => set(n + 1) }, "+"),
        h("button", { type: "button", testid: "pg-remove-neuron", disabled: n <= 1,
          "aria-label": t("playground.removeNeuron", { layer: i + 1 }), onclick: () => set(n - 1) }, "−"),
        h("div", {}, t("playground.neurons", { n }))));
    });
    cols.push(h("div", { class: "pg-col" }, t("playground.output")));
    mount(netHead, layerBtns, h("div", { class: "pg-cols" }, cols));
  }

  // --- the server --------------------------------------------------------------------------
  async function call(method, path, json) {
    try {
      return await request(method, path, json === undefined ? {} : { json });
    } catch (err) {
      if (err instanceof ApiError && err.status === 404 && session && path.includes(session.id)) {
        await open();  // dropped after a minute unused: a fresh session, same settings
        return request(method, path.replace(/playground\/[^/]+/, `playground/${session.id}`),
          json === undefined ? {} : { json });
      }
      throw err;
    }
  }

  function take(body) {
    session = { id: body.id, points: body.points };
    settings = { ...settings, ...body.settings };
    frame = body.frame;
    syncControls();
    draw();
  }

  async function open() {
    take(await api.post("/playground", settings));
  }

  // Changes and actions go to the server one after another, in the order made: a step
  // pressed while a change is on its way applies to the changed network.
  let queue = Promise.resolve();
  function serial(fn) {
    const next = queue.then(fn, fn);
    queue = next.catch(() => {});
    return next;
  }

  function change(patch) {
    settings = { ...settings, ...patch };
    return serial(() => applyChange());
  }

  async function applyChange() {
    error.clear();
    const was = playing;
    playing = false;
    try {
      if (!session) await open();  // still opening, or opening failed: open with these
      else take(await call("PUT", `/playground/${enc(session.id)}`, settings));
      if (was && wanted) {  // (not play(): that would queue behind this very change)
        await applyAct("play");
        setPlaying(true);
        pull();
      } else setPlaying(false);
    } catch (err) {
      error.show(err);
      setPlaying(false);
    }
  }

  function act(what) {
    return serial(() => applyAct(what));
  }

  async function applyAct(what) {
    if (!session) return;
    error.clear();
    try {
      frame = await call("POST", `/playground/${enc(session.id)}/${what}`);
      if (what === "step") setPlaying(false);
      draw();
    } catch (err) { error.show(err); }
  }

  async function play() {
    wanted = true;
    await act("play");
    setPlaying(true);
    pull();
  }

  async function pause() {
    wanted = false;
    setPlaying(false);
    await act("pause");
  }

  function setPlaying(on) {
    playing = on;
    playBtn.textContent = on ? t("playground.pause") : t("playground.play");
    playBtn.setAttribute("aria-pressed", on ? "true" : "false");
  }

  async function pull() {  // newest frame, drawn, again: as fast as they come
    if (pulling) return;
    pulling = true;
    try {
      while (alive && playing) {
        const began = performance.now();
        try {
          frame = await call("GET", `/playground/${enc(session.id)}/frame`);
        } catch (err) {
          error.show(err);
          setPlaying(false);
          break;
        }
        draw();
        // at most 20 frames a second: more shows nothing new and slows the training
        const wait = FRAME_MS - (performance.now() - began);
        await new Promise((r) => setTimeout(() => requestAnimationFrame(r), Math.max(0, wait)));
      }
    } finally { pulling = false; }
  }

  // --- drawing -----------------------------------------------------------------------------
  function draw() {
    if (!frame || !session) return;
    stats.frames += 1;
    const points = session.points;
    const classes = points.classes.length;
    const bctx = board.getContext("2d");
    drawGrid(bctx, decodeGrid(frame.boundary), frame.grid, 0, 0, BOARD, classes);
    drawPoints(bctx, points.train, points.box, BOARD, points, false);
    if (showTest.checked) drawPoints(bctx, points.test, points.box, BOARD, points, true);
    drawCurves(curves, frame.history);
    epochOut.textContent = String(frame.epoch);
    const fmt = (v) => (v === null || v === undefined ? "–" : v.toFixed(3));
    lossOut.textContent = t("playground.losses", { train: fmt(frame.train_loss), test: fmt(frame.test_loss) })
      + (frame.test_accuracy === null ? "" : ` · ${t("playground.accuracy", {
        train: fmt(frame.train_accuracy), test: fmt(frame.test_accuracy) })}`);
    board.dataset.epoch = String(frame.epoch);
    board.dataset.steps = String(frame.steps);
    board.dataset.testAccuracy = String(frame.test_accuracy ?? "");
    drawNetwork(classes);
  }

  function drawNetwork(classes) {
    const columns = [...frame.neurons, [frame.boundary]];
    const tallest = Math.max(...columns.map((c) => c.length));
    const width = COL * columns.length;
    const height = tallest * GAP + 8;
    if (net.width !== width || net.height !== height) { net.width = width; net.height = height; }
    const ctx = net.getContext("2d");
    ctx.clearRect(0, 0, width, height);
    const centres = columns.map((col, c) => col.map((_, k) => {
      const top = (height - col.length * GAP) / 2 + k * GAP + 5;
      return [c * COL + COL / 2, top + CELL / 2];
    }));
    drawWeights(ctx, frame.weights, centres);
    columns.forEach((col, c) => col.forEach((b64, k) => {
      const [cx, cy] = centres[c][k];
      const last = c === columns.length - 1;
      drawGrid(ctx, decodeGrid(b64), last ? frame.grid : frame.neuron_grid,
        cx - CELL / 2, cy - CELL / 2, CELL, last ? classes : 0);
      ctx.strokeStyle = "#9aa5b1";
      ctx.lineWidth = 1;
      ctx.strokeRect(cx - CELL / 2, cy - CELL / 2, CELL, CELL);
    }));
  }

  // --- actions beyond training ---------------------------------------------------------------
  const saveBtn = h("button", { type: "button", testid: "pg-save", onclick: async () => {
    error.clear();
    try {
      const saved = await call("POST", `/playground/${enc(session.id)}/save`, { name: saveName.value.trim() });
      mount(links, h("a", { class: "button", href: saved.links.designer, testid: "pg-open-designer" },
        t("playground.openDesigner")),
      saved.links.train ? h("a", { class: "button", href: saved.links.train, testid: "pg-train-run" },
        t("playground.trainRun")) : null);
    } catch (err) { error.show(err); }
  } }, t("playground.save"));

  const lessonBtns = LESSONS.map((id) => h("button", { type: "button", testid: `pg-lesson-${id}`,
    title: t(`playground.lesson.${id}.text`), onclick: () => {
      if (!lessons[id]) return;
      lessonNote.textContent = t(`playground.lesson.${id}.text`);
      change({ ...lessons[id], csv: undefined });
    } }, t(`playground.lesson.${id}.title`)));
  const lessonNote = h("p", { class: "muted", testid: "pg-lesson-note", "aria-live": "polite" });

  mount(root,
    h("h1", {}, t("playground.title")),
    h("p", { class: "muted" }, t("playground.intro")),
    h("section", { class: "panel" }, h("h2", {}, t("playground.lessons")),
      h("div", { class: "row pg-lessons" }, lessonBtns), lessonNote),
    error,
    h("div", { class: "pg-layout" },
      h("section", { class: "panel pg-controls" },
        h("div", { class: "row" }, playBtn, stepBtn, resetBtn),
        h("p", {}, t("playground.epoch"), " ", epochOut),
        field(t("playground.dataLabel"), dataSel), csvBtn, csvInput,
        field(t("playground.noise"), noise.input), noise.out,
        field(t("playground.ratio"), ratio.input), ratio.out,
        field(t("playground.batch"), batch.input), batch.out,
        field(t("playground.activation"), activation),
        field(t("playground.lr"), rate),
        field(t("playground.optimizer"), optimizer),
        field(t("playground.regularization"), reg),
        field(t("playground.regRate"), regRate),
        h("fieldset", {}, h("legend", {}, t("playground.features")), featureBoxes)),
      h("section", { class: "panel pg-network" }, h("h2", {}, t("playground.network")), netHead,
        h("div", { class: "pg-netscroll" }, net)),
      h("section", { class: "panel pg-output" }, h("h2", {}, t("playground.output")), board,
        h("label", { class: "check" }, showTest, h("span", {}, t("playground.showTest"))),
        h("p", {}, lossOut), curves,
        h("p", { class: "muted" }, t("playground.curvesLegend")),
        h("div", { class: "row" }, field(t("playground.saveName"), saveName), saveBtn), links)),
    status);

  syncControls();
  try {
    const [lessonList, datasets] = await Promise.all([api.get("/playground/lessons"),
      api.get("/datasets").catch(() => [])]);
    lessons = lessonList;
    tables = datasets.filter((d) => d.source === "workspace" && d.kind === "table").map((d) => d.name);
    const lesson = query?.get("lesson");
    if (lesson && lessons[lesson]) settings = { ...settings, ...lessons[lesson] };
    if (query?.get("data")) settings.data = query.get("data");
    await serial(open);
  } catch (err) {
    error.show(err);
    syncControls();
  }

  const onLeave = () => {
    if (session) fetch(withToken(`/api/playground/${enc(session.id)}`), { method: "DELETE", keepalive: true });
  };
  window.addEventListener("pagehide", onLeave);
  return () => {
    alive = false;
    playing = false;
    window.removeEventListener("pagehide", onLeave);
    if (session) api.del(`/playground/${enc(session.id)}`).catch(() => {});
  };
}
