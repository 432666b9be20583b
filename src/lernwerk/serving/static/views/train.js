// Train: dataset, network and settings; Start; the run's live panel beside the form.

import { api, enc } from "../api.js";
import { add, checkbox, errorSlot, field, h } from "../dom.js";
import { num } from "../fmt.js";
import { t } from "../i18n.js";
import { datasetSelect as makeDatasetSelect, rememberDataset, trainDefaults } from "../components/datasetselect.js";
import { createLivePanel } from "../components/live.js";
import { startRun, watchHash } from "../components/runactions.js";
import { transferControls } from "../components/transfer.js";
import { lossScheduleControls } from "../components/trainoptions.js";
import { augmentPreview } from "../components/augmentpreview.js";
import { help, withHelp } from "../components/help.js";
import { checksPanel } from "../components/checks.js";

const OPTIMIZERS = ["adam", "sgd", "adamw", "rmsprop", "adagrad"];
// Each switch and the magnitude it turns on (the CLI's --augment uses the same values).
const AUGMENT = [
  { key: "rotation_deg", value: 12, step: 1, max: 180 },
  { key: "shift", value: 0.08, step: 0.01, max: 0.5 },
  { key: "zoom", value: 0.1, step: 0.01, max: 0.5 },
  { key: "flip_horizontal" },
  { key: "flip_vertical" },
  { key: "brightness", value: 0.1, step: 0.01, max: 1 },
  { key: "contrast", value: 0.1, step: 0.01, max: 1 },
  { key: "noise_std", value: 0.02, step: 0.01, max: 0.5 },
];
const INLINE = "__inline__";
// "" = the dataset's own task; anomaly detection trains an autoencoder on one normal class
const TASKS = ["", "classification", "regression", "anomaly", "forecasting", "generate"];

function numberInput(testid, value, attrs = {}) {
  return h("input", { type: "number", testid, value: value ?? "", step: "any", ...attrs });
}

function augmentControls(current = {}) {
  return AUGMENT.map((a) => {
    const on = Boolean(current[a.key]);
    const box = checkbox(t(`augment.${a.key}`), { testid: `aug-${a.key}`, checked: on });
    const amount = a.value === undefined ? null
      : h("input", { type: "number", testid: `aug-${a.key}-value`, step: a.step, min: 0, max: a.max,
        value: on ? current[a.key] : a.value, "aria-label": t("augment.amount", { name: t(`augment.${a.key}`) }) });
    return { ...a, box, amount, el: h("div", { class: "item" }, box, amount) };
  });
}

export async function render(root, { query }) {
  const error = errorSlot("train-error");
  const runId = query.get("run");
  const jobId = query.get("job");
  const fromId = query.get("from") || runId;
  let datasets;
  let models;
  let source = null;  // the run whose settings fill the form
  let job = null;  // or the queued job, which knows its dataset and model
  try {
    [datasets, models, source, job] = await Promise.all([api.get("/datasets"), api.get("/models"),
      fromId ? api.get(`/runs/${enc(fromId)}`).catch(() => null) : null,
      jobId && !fromId ? api.get(`/jobs/${enc(jobId)}`).catch(() => null) : null]);
  } catch (err) {
    add(root, h("h1", {}, t("train.title")), error);
    error.show(err);
    return undefined;
  }
  const cfg = source?.config || (job ? { dataset: job.dataset, model: job.model } : {});
  const tr = cfg.train || {};

  const datasetSelect = makeDatasetSelect(datasets, "train-dataset");
  const wantDataset = query.get("dataset") || cfg.dataset || source?.dataset;
  if (wantDataset && datasets.some((d) => d.name === wantDataset)) datasetSelect.value = wantDataset;
  else if (wantDataset) {
    datasetSelect.prepend(h("option", { value: wantDataset }, wantDataset));
    datasetSelect.value = wantDataset;
  }

  const inlineSpec = cfg.model && typeof cfg.model === "object" ? cfg.model : null;
  const modelSelect = h("select", { testid: "train-model" },
    inlineSpec ? h("option", { value: INLINE }, t("train.modelOfRun", { name: inlineSpec.name || source?.id || "" })) : null,
    ["preset", "workspace"].map((s) => {
      const list = models.filter((m) => (m.source || "preset") === s);
      return list.length ? h("optgroup", { label: t(`designer.source.${s}`) },
        list.map((m) => h("option", { value: m.name, title: m.description || "" }, m.name))) : null;
    }));
  const hasModel = (name) => [...modelSelect.options].some((o) => o.value === name);
  // a run stores its network as a spec; name the preset or saved model it came from when there is one
  const named = typeof cfg.model === "string" ? cfg.model : source?.model;
  const wantModel = query.get("model") || (named && hasModel(named) ? named : inlineSpec ? INLINE : null);
  let modelChosen = Boolean(wantModel && hasModel(wantModel));
  if (modelChosen) modelSelect.value = wantModel;
  modelSelect.addEventListener("change", () => { modelChosen = true; });
  /** A preset that suits the dataset (the server's one rule), until the person picks one. */
  function suggestModel(name) {
    if (modelChosen) return;
    if (name && hasModel(name)) modelSelect.value = name;
    updateName();
  }
  const taskSelect = h("select", { testid: "train-task" },
    TASKS.map((k) => h("option", { value: k }, k ? t(`task.${k}`) : t("train.taskAuto"))));
  const wantTask = query.get("task") ?? tr.task;  // a lesson's demo link may name the task
  taskSelect.value = TASKS.includes(wantTask) ? wantTask || "" : "";
  const normalSelect = h("select", { testid: "train-normal-class" });
  const normalField = withHelp(field(t("train.normalClass"), normalSelect, t("train.normalHint")), "train.normalClass");
  /** Anomaly detection asks which class is normal; the dataset's classes to pick from. */
  async function updateTask() {
    const anomaly = taskSelect.value === "anomaly";
    normalField.hidden = !anomaly;
    if (anomaly) {
      const name = datasetSelect.value;
      const info = await api.get(`/datasets/${enc(name)}`).catch(() => null);
      if (name !== datasetSelect.value) return;  // the dataset changed meanwhile
      const classes = info?.classes || [];
      normalSelect.replaceChildren(...classes.map((c) => h("option", { value: c }, c)));
      const want = [tr.normal_class, "ok", classes[0]].find((c) => classes.includes(c));
      if (want) normalSelect.value = want;
    }
    updateDefaults();
  }
  taskSelect.addEventListener("change", updateTask);
  datasetSelect.addEventListener("change", () => updateTask());

  const optimizer = h("select", { testid: "train-optimizer" }, OPTIMIZERS.map((o) => h("option", { value: o }, t(`optimizer.${o}`))));
  optimizer.value = tr.optimizer || "adam";
  const lr = numberInput("train-lr", tr.lr, { min: 0, placeholder: t("train.default") });
  const batch = numberInput("train-batch-size", tr.batch_size, { min: 1, step: 1, placeholder: t("train.auto") });
  const epochs = numberInput("train-epochs", tr.epochs ?? 10, { min: 1, step: 1 });
  const valSplit = numberInput("train-val-split", tr.val_split ?? 0.2, { min: 0, max: 0.9, step: 0.05 });
  // early stopping: the data's default (auto), off, or on with a patience of N epochs
  const early = h("select", { testid: "train-early-stopping" },
    ["auto", "off", "on"].map((k) => h("option", { value: k }, t(`train.early.${k}`))));
  early.value = tr.early_stopping === undefined || tr.early_stopping === null ? "auto"
    : tr.early_stopping > 0 ? "on" : "off";
  const patience = numberInput("train-patience", tr.early_stopping || 5, { min: 1, step: 1,
    title: t("train.patience"), "aria-label": t("train.patience") });
  const patienceField = withHelp(field(t("train.patience"), patience), "train.patience");
  const showPatience = () => { patienceField.hidden = early.value !== "on"; };
  early.addEventListener("change", showPatience);
  showPatience();
  const runName = h("input", { type: "text", testid: "train-name", placeholder: t("common.optional") });
  const nameHint = h("small", { class: "hint", testid: "train-name-hint" });
  const runNames = new Set();  // the names runs have now: an automatic name gets a number
  api.get("/runs").then((rows) => {
    for (const r of rows) if (r.name) runNames.add(r.name);
    updateName();
  }).catch(() => {});
  /** The run's name when the field is left empty: network and data, numbered, in the page's language. */
  function autoName() {
    const model = modelSelect.value === INLINE ? inlineSpec?.name || "model" : modelSelect.value;
    const base = { model, dataset: datasetSelect.value };
    let name = t("train.autoName", base);
    for (let n = 2; runNames.has(name); n++) name = t("train.autoNameNth", { ...base, n });
    return name;
  }
  function updateName() {
    const name = autoName();
    runName.placeholder = name;
    nameHint.textContent = t("train.nameHint", { name });
  }
  modelSelect.addEventListener("change", updateName);

  // what the server uses for a learning rate or batch size left empty, for this data
  let defaultsSeq = 0;
  const valHint = h("small", { class: "hint", testid: "train-val-split-hint" }, t("train.valSplitHint"));
  async function updateDefaults() {
    const mine = ++defaultsSeq;
    const name = datasetSelect.value;
    let d = null;
    try {
      d = await trainDefaults(name, { optimizer: optimizer.value, valSplit: valSplit.value.trim(), task: taskSelect.value });
    } catch {
      d = null;  // a bad split or an unknown dataset: the server's message comes on Start
    }
    if (mine !== defaultsSeq) return;
    lr.placeholder = d ? t("train.defaultValue", { value: num(d.lr, 6) }) : t("train.default");
    batch.placeholder = d ? t("train.defaultValue", { value: num(d.batch_size) }) : t("train.auto");
    lr.dataset.default = d ? String(d.lr) : "";
    batch.dataset.default = d ? String(d.batch_size) : "";
    valHint.textContent = d?.fixed_test
      ? t("train.valSplitFixed", { test: num(d.n_test), rest: num(d.n_train + d.n_val) })
      : t("train.valSplitFree", { test: num(20) });
    valHint.dataset.fixedTest = String(Boolean(d?.fixed_test));
    suggestModel(d?.model);
  }
  optimizer.addEventListener("change", updateDefaults);
  valSplit.addEventListener("change", updateDefaults);
  // the data checks of the chosen dataset, with the split and task this run would use
  const checks = checksPanel("train-checks");
  const updateChecks = () => checks.update(datasetSelect.value,
    { val_split: valSplit.value.trim(), task: taskSelect.value });
  for (const input of [datasetSelect, valSplit, taskSelect]) input.addEventListener("change", updateChecks);
  updateChecks();
  updateTask();
  const augment = augmentControls(tr.augment || {});
  const augmentHelp = help("train.augmentation", t("train.augmentation"));
  const augmentBox = h("fieldset", { testid: "train-augment" }, h("legend", {}, t("train.augmentation"), augmentHelp.button), augmentHelp.note,
    h("div", { class: "aug" }, augment.map((a) => a.el)),
    h("small", { class: "hint", testid: "augment-hint" }));
  const transfer = transferControls({ datasets, datasetSelect, modelSelect, train: tr });
  const lossSchedule = lossScheduleControls({ train: tr, datasets, datasetSelect, taskSelect });
  const inputs = { dataset: datasetSelect, model: modelSelect, task: taskSelect, normal_class: normalSelect,
    optimizer, lr, batch_size: batch, epochs,
    val_split: valSplit, early_stopping: patience, name: runName, ...transfer.inputs, ...lossSchedule.inputs };
  /** The augmentation the form would send: each switch that is on, with its amount. */
  function currentAugment() {
    const aug = {};
    for (const a of augment) {
      if (!a.box.input.checked || a.box.input.disabled) continue;
      aug[a.key] = a.amount ? Number(a.amount.value) : true;
    }
    return aug;
  }
  const preview = augmentPreview({ datasetSelect, datasets, settings: currentAugment });
  augmentBox.append(preview.el);
  augmentBox.addEventListener("input", preview.update);
  augmentBox.addEventListener("change", preview.update);

  function updateAugment() {
    const kind = datasets.find((d) => d.name === datasetSelect.value)?.kind;
    const images = kind === "images" || kind === undefined;
    for (const a of augment) {
      a.box.input.disabled = !images;
      if (a.amount) a.amount.disabled = !images;
    }
    augmentBox.querySelector(".hint").textContent = images ? "" : t("train.augmentImagesOnly");
  }
  datasetSelect.addEventListener("change", updateAugment);
  updateAugment();
  datasetSelect.addEventListener("change", preview.update);
  preview.update();

  function body() {
    const train = { optimizer: optimizer.value };
    if (taskSelect.value) train.task = taskSelect.value;
    if (taskSelect.value === "anomaly" && normalSelect.value) train.normal_class = normalSelect.value;
    const numberOf = (input) => (input.value.trim() === "" ? undefined : Number(input.value));
    if (numberOf(lr) !== undefined) train.lr = numberOf(lr);
    if (numberOf(batch) !== undefined) train.batch_size = numberOf(batch);
    if (numberOf(epochs) !== undefined) train.epochs = numberOf(epochs);
    if (numberOf(valSplit) !== undefined) train.val_split = numberOf(valSplit);
    if (early.value === "on") train.early_stopping = numberOf(patience) ?? 5;
    else if (early.value === "off") train.early_stopping = 0;
    const aug = currentAugment();
    if (Object.keys(aug).length) train.augment = aug;
    lossSchedule.apply(train);
    const out = {
      dataset: datasetSelect.value,
      model: modelSelect.value === INLINE ? inlineSpec : modelSelect.value,
      train,
    };
    out.name = runName.value.trim() || autoName();
    return transfer.apply(out);
  }

  const start = h("button", { type: "submit", class: "primary", testid: "train-start" }, t("train.start"));
  // novalidate: the server checks every field and its message lands next to the field
  // (the browser's own bubble would say less, in the browser's language, and vanish)
  const form = h("form", {
    novalidate: true,
    onsubmit: async (ev) => {
      ev.preventDefault();
      error.clear();
      for (const input of Object.values(inputs)) input.classList.remove("invalid");
      start.disabled = true;
      try {
        await transfer.fetchSpec();
        const sent = body();
        const job = await startRun(sent);
        runNames.add(sent.name);
        rememberDataset(sent.dataset);
        updateName();
        history.replaceState(null, "", watchHash(job));  // the form keeps what was entered
        watch(job.run_id, job.run_id ? null : job.job_id);
        live.el.scrollIntoView({ block: "nearest", behavior: "smooth" });  // below the form on a tablet
      } catch (err) {
        const key = String(err.where || "").replace(/^train\./, "").split(".")[0];
        inputs[key]?.classList.add("invalid");
        error.show(err);
      } finally {
        start.disabled = false;
      }
    },
  },
  withHelp(field(t("train.dataset"), datasetSelect), "train.dataset"),
  withHelp(field(t("train.model"), modelSelect, h("a", { href: "#/designer" }, t("train.designOwn"))), "train.model"),
  h("div", { class: "fields" }, withHelp(field(t("train.task"), taskSelect), "train.task"), normalField),
  h("div", { class: "fields" },
    withHelp(field(t("train.optimizer"), optimizer), "train.optimizer"), withHelp(field(t("train.lr"), lr), "train.lr"),
    withHelp(field(t("train.batchSize"), batch), "train.batchSize"), withHelp(field(t("train.epochs"), epochs), "train.epochs"),
    withHelp(field(t("train.valSplit"), valSplit, valHint), "train.valSplit")),
  lossSchedule.el,
  h("div", { class: "fields" }, withHelp(field(t("train.earlyStopping"), early, t("train.early.hint")), "train.earlyStopping"), patienceField,
    withHelp(field(t("train.name"), runName, nameHint), "train.name")),
  transfer.el,
  augmentBox,
  h("div", { class: "row" }, start), error);

  let live = null;
  const side = h("div", {});
  /** Show the live panel of a run (or of a queued job) beside the form. */
  function watch(run, job) {
    live?.destroy();
    live = createLivePanel({
      runId: run, jobId: job,
      onRunId: (id) => {
        if (job) history.replaceState(null, "", `#/train?run=${enc(id)}`);
      },
    });
    side.replaceChildren(live.el);
  }
  if (runId || jobId) watch(runId, runId ? null : jobId);
  else {
    side.append(h("section", { class: "panel", testid: "live-placeholder" },
      h("h2", {}, t("live.title")), h("p", { class: "muted" }, t("train.placeholder"))));
  }

  add(root, h("h1", {}, t("train.title")), checks.el,
    h("div", { class: "grid-side" }, h("section", { class: "panel" }, form), side));
  return () => live?.destroy();
}
