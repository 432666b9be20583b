// The network designer: layers from a preset or from nothing, edited in place; the
// server's summary (shapes, parameters, FLOPs) follows every edit; save as a named model.

import { api, enc } from "../api.js";
import { add, errorSlot, field, h, mount, noteSlot } from "../dom.js";
import { compact, int, shape } from "../fmt.js";
import { t, tData } from "../i18n.js";
import { cleanLayer, layerCard, normaliseLayer } from "./designer-layer.js";
import { datasetSelect as makeDatasetSelect, lastDataset, rememberDataset, trainDefaults } from "../components/datasetselect.js";
import { codeView } from "../components/codeview.js";
import { netDiagram } from "../components/netdiagram.js";

const DEBOUNCE_MS = 350;
const REPLACE_WINDOW_MS = 6000;  // a second Save within this replaces a saved model
// What a newly added layer starts with, so that it fits at once (required values filled).
const NEW_LAYER = {
  Dense: { units: 64, activation: "relu" },
  Conv2D: { filters: 32, kernel_size: 3, padding: "same", activation: "relu" },
  Conv1D: { filters: 64, kernel_size: 3, padding: "same", activation: "relu" },
  Dropout: { rate: 0.25 },
  Activation: { activation: "relu" },
  LSTM: { units: 64 },
  GRU: { units: 64 },
  Residual: { layers: [{ type: "Conv2D", filters: 32, kernel_size: 3, padding: "same" }, { type: "BatchNormalization" }] },
};

/** Which top-level layer (0-based) a misfit names: `layer` or "layer 3" / "layer 5.2" in `where`. */
function misfitIndex(err) {
  const fromWhere = /^layer (\d+)/i.exec(String(err.where ?? ""));
  if (fromWhere) return Number(fromWhere[1]) - 1;
  if (err.layer === null || err.layer === undefined) return null;
  const top = parseInt(String(err.layer).split(".")[0], 10);
  return Number.isNaN(top) ? null : top - 1;  // the summary's indices start at 1
}

export async function render(root, { query }) {
  const error = errorSlot("designer-error");
  let datasets;
  let models;
  let layerTypes;
  try {
    [datasets, models, layerTypes] = await Promise.all([api.get("/datasets"), api.get("/models"), api.get("/layers")]);
  } catch (err) {
    add(root, h("h1", {}, t("designer.title")), error);
    error.show(err);
    return undefined;
  }
  const registry = new Map(layerTypes.map((l) => [l.type, l.params || []]));
  let layers = [];
  let cards = [];
  let timer = 0;
  let sequence = 0;

  const datasetSelect = makeDatasetSelect(datasets, "designer-dataset");
  // the dataset asked for, else the one last used, else one stored, else the built-in smileys
  const has = (name) => [...datasetSelect.options].some((o) => o.value === name);
  const firstStored = datasets.find((d) => d.source !== "builtin")?.name;
  const chosen = [query.get("dataset"), lastDataset(), firstStored, "smileys"].find((n) => n && has(n));
  if (chosen) datasetSelect.value = chosen;
  const presetSelect = h("select", { testid: "designer-preset" },
    h("option", { value: "" }, t("designer.empty")),
    ["preset", "workspace"].map((source) => {
      const list = models.filter((m) => (m.source || "preset") === source);
      return list.length ? h("optgroup", { label: t(`designer.source.${source}`) },
        list.map((m) => h("option", { value: m.name, title: m.description || "" }, m.name))) : null;
    }));
  const presetInfo = h("p", { class: "muted", testid: "designer-preset-info" });
  const list = h("ol", { class: "layers", testid: "layers" });
  const totals = h("div", { class: "totals", testid: "designer-totals" });
  const addType = h("select", { testid: "layer-add-type", "aria-label": t("designer.addType") },
    [...registry.keys()].map((name) => h("option", { value: name }, name)));
  const nameInput = h("input", { type: "text", testid: "model-name", autocomplete: "off", spellcheck: false });
  const saveError = errorSlot("model-save-error");
  const saveNote = noteSlot("model-save-note");
  const trainLink = h("a", { class: "button", testid: "designer-train", hidden: true }, t("designer.trainWith"));
  let inputShape = null;  // the last summary's, drawn above the first layer
  const diagram = netDiagram({
    onMove: (from, to, opts) => {
      if (to >= layers.length) return;
      const [moved] = layers.splice(from, 1);
      layers.splice(to, 0, moved);
      draw();
      if (opts?.focus) diagram.focus(to);
    },
  });

  function loadPreset(name) {
    const model = models.find((m) => m.name === name);
    layers = (model?.spec?.layers || []).map(normaliseLayer);
    const english = model?.description || model?.spec?.description || "";
    presetInfo.textContent = model?.source === "preset" ? tData(`preset.${model.name}`, english) : english;
    nameInput.value = model ? (model.source === "workspace" ? model.name : `my-${model.name}`) : "my-model";
    trainLink.hidden = true;
    draw();
  }

  function draw() {
    cards = layers.map((layer, index) => layerCard(layer, {
      index, count: layers.length, registry,
      onChange: schedule,
      onMove: (delta) => {
        const j = index + delta;
        if (j < 0 || j >= layers.length) return;
        [layers[index], layers[j]] = [layers[j], layers[index]];
        draw();
      },
      onRemove: () => { layers.splice(index, 1); draw(); },
      onRetype: (type) => {
        const allowed = new Set((registry.get(type) || []).map((p) => p.name));
        const kept = Object.fromEntries(Object.entries(layers[index]).filter(([k]) => k !== "type" && allowed.has(k)));
        layers[index] = { type, ...structuredClone(NEW_LAYER[type] || {}), ...kept };
        draw();
      },
    }));
    list.replaceChildren(...cards.map((c) => c.el));
    if (!layers.length) list.append(h("li", { class: "empty" }, t("designer.noLayers")));
    diagram.update({ layers, input: inputShape });
    schedule();
  }

  function spec() {
    return { name: nameInput.value.trim() || "custom", layers: layers.map(cleanLayer) };
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(summarise, DEBOUNCE_MS);
  }

  async function summarise() {
    const mine = ++sequence;
    error.clear();
    if (!layers.length) { totals.replaceChildren(); return; }
    try {
      const res = await api.post("/models/summary", { spec: spec(), dataset: datasetSelect.value });
      if (mine !== sequence) return;
      showRows(res, cards.length);
      inputShape = res.input_shape;
      diagram.update({ layers, rows: res.layers || [], input: inputShape });
      const flops = res.total_flops ?? res.flops_per_sample;
      mount(totals,
        h("span", {}, t("designer.totalParams"), " ", h("b", { testid: "total-params" }, int(res.total_params))),
        h("span", {}, t("designer.totalFlops"), " ", h("b", { testid: "total-flops" }, compact(flops))),
        res.output_shape ? h("span", {}, t("designer.output"), " ", h("b", {}, shape(res.output_shape))) : null);
    } catch (err) {
      if (mine !== sequence) return;
      totals.replaceChildren();
      const index = misfitIndex(err);
      cards.forEach((card) => card.setSummary(null));
      if (index !== null && cards[index]) cards[index].setMisfit(err.message);
      else error.show(err);
      diagram.update({ layers, input: inputShape, misfit: index });
      if (index) await showLayersBefore(index, mine);
    }
  }

  /** Each card's shape, parameters and FLOPs from a summary of its first `count` layers. */
  function showRows(res, count) {
    const rows = res.layers || res.rows || [];
    cards.slice(0, count).forEach((card, i) => {
      const key = String(i + 1);
      const row = rows.find((r) => String(r.index) === key);
      const children = rows.filter((r) => String(r.index).startsWith(`${key}.`));
      card.setSummary(row, children);
    });
  }

  /** The layers before a misfit keep their shapes: what fits helps to mend what does not. */
  async function showLayersBefore(index, mine) {
    try {
      const whole = spec();
      const res = await api.post("/models/summary",
        { spec: { ...whole, layers: whole.layers.slice(0, index) }, dataset: datasetSelect.value });
      if (mine === sequence) {
        showRows(res, index);
        diagram.update({ layers, rows: res.layers || [], input: res.input_shape, misfit: index });
      }
    } catch {
      // the layers before it do not fit on their own either: the misfit's message says enough
    }
  }

  let confirmReplace = null;  // {name, until}: what a first Save asked to replace, and till when

  async function save(ev) {
    ev.preventDefault();
    saveError.clear();
    const name = nameInput.value.trim();
    if (!name) { saveError.show(t("designer.nameFirst")); nameInput.focus(); return; }
    // a saved model of that name is replaced only on a second Save, within a few seconds
    const exists = models.some((m) => m.name === name && m.source === "workspace");
    if (exists && !(confirmReplace?.name === name && Date.now() < confirmReplace.until)) {
      confirmReplace = { name, until: Date.now() + REPLACE_WINDOW_MS };
      saveNote.show(t("designer.replaceAsk", { name }), REPLACE_WINDOW_MS);
      return;
    }
    confirmReplace = null;
    try {
      const saved = { ...spec(), name };
      await api.post("/models", { name, spec: saved });
      // known at once, before the list comes back: a Save right after this one asks first
      models = [...models.filter((m) => m.name !== name || m.source !== "workspace"),
        { name, source: "workspace", spec: saved }];
      saveNote.show(t("designer.saved", { name }), 0);
      trainLink.href = `#/train?dataset=${enc(datasetSelect.value)}&model=${enc(name)}`;
      trainLink.hidden = false;
      models = await api.get("/models").catch(() => models);
    } catch (err) {
      nameInput.classList.toggle("invalid", err.where === "name");
      saveError.show(err);
    }
  }

  presetSelect.addEventListener("change", () => loadPreset(presetSelect.value));
  datasetSelect.addEventListener("change", () => { rememberDataset(datasetSelect.value); schedule(); });
  const addBtn = h("button", {
    type: "button", testid: "layer-add",
    onclick: () => { layers.push({ type: addType.value, ...structuredClone(NEW_LAYER[addType.value] || {}) }); draw(); },
  }, t("designer.add"));

  add(root, 
    h("h1", {}, t("designer.title")),
    h("div", { class: "grid-side" },
      h("div", {},
        h("section", { class: "panel" },
          field(t("designer.dataset"), datasetSelect, t("designer.datasetHint")),
          field(t("designer.startFrom"), presetSelect), presetInfo),
        h("section", { class: "panel" }, h("h2", {}, t("designer.save")),
          h("form", { onsubmit: save },
            field(t("designer.modelName"), nameInput),
            h("div", { class: "row" }, h("button", { type: "submit", class: "primary", testid: "model-save" }, t("common.save")), trainLink),
            saveError, saveNote)),
        h("section", { class: "panel", testid: "diagram-panel" }, h("h2", {}, t("diagram.title")),
          h("p", { class: "muted" }, t("diagram.intro")), diagram.el)),
      h("section", { class: "panel" },
        h("div", { class: "spread" }, h("h2", {}, t("designer.layers")), totals),
        error, list,
        h("div", { class: "row" }, addType, addBtn),
        codeView(() => api.post("/models/code", { spec: spec(), dataset: datasetSelect.value }), "designer-code"))));

  // the model asked for, else the preset that suits the dataset (one rule, the server's)
  const suited = query.get("model") ? null
    : await trainDefaults(datasetSelect.value).then((d) => d.model).catch(() => null);
  const start = query.get("model") || suited || "";
  presetSelect.value = models.some((m) => m.name === start) ? start : "";
  loadPreset(presetSelect.value);
  return () => clearTimeout(timer);
}
