// Transfer learning on the train page: where the weights start (nothing, the pretrained
// backbone, one of my runs) and which layers stay frozen, and for how many epochs.

import { api, enc } from "../api.js";
import { field, h } from "../dom.js";
import { t } from "../i18n.js";

export const BACKBONE = "efficientnet-lite0";  // the preset with ImageNet weights

/**
 * The "Start from" and "Freeze" controls.
 *
 * `datasetSelect` and `modelSelect` are the form's; `train` is a run's stored training
 * config to fill them from. Returns `{ el, inputs, apply(body), fetchSpec() }`: `apply`
 * writes `init`, `freeze` and `unfreeze_after` into a request body and, when a run is the
 * start, its network as the model.
 */
export function transferControls({ datasets, datasetSelect, modelSelect, train = {} }) {
  const init = h("select", { testid: "train-init" },
    h("option", { value: "" }, t("transfer.none")),
    h("option", { value: "pretrained", testid: "train-init-pretrained" }, t("transfer.pretrained")),
    h("option", { value: "run" }, t("transfer.run")));
  const runSelect = h("select", { testid: "train-init-run", "aria-label": t("transfer.whichRun") });
  const runHint = h("small", { class: "hint", testid: "train-init-hint" });
  const runField = field(t("transfer.whichRun"), runSelect);
  runField.append(runHint);
  const freeze = h("select", { testid: "train-freeze" },
    ["none", "features", "first"].map((k) => h("option", { value: k }, t(`transfer.freeze.${k}`))));
  const freezeN = h("input", { type: "number", testid: "train-freeze-n", min: 1, step: 1, value: 1,
    "aria-label": t("transfer.freezeN") });
  const freezeNField = field(t("transfer.freezeN"), freezeN);
  const unfreeze = h("input", { type: "number", testid: "train-unfreeze-after", min: 1, step: 1,
    placeholder: t("transfer.never") });
  const unfreezeField = field(t("transfer.unfreezeAfter"), unfreeze, t("transfer.unfreezeHint"));

  const shapes = new Map();  // dataset name -> a promise of its input shape (or null)
  const shapeOf = (name) => {
    if (!shapes.has(name)) {
      shapes.set(name, api.get(`/datasets/${enc(name)}`).then((d) => d.input_shape.join("x"))
        .catch(() => null));
    }
    return shapes.get(name);
  };
  const specs = new Map();  // run id -> its network (a spec), fetched when chosen
  let runsSeq = 0;

  /** The finished runs on data of the dataset's input shape, newest first. */
  async function updateRuns() {
    const mine = ++runsSeq;
    const name = datasetSelect.value;
    const [rows, shape] = await Promise.all([api.get("/runs").catch(() => []), shapeOf(name)]);
    const finished = rows.filter((r) => r.id && r.status === "finished");
    const theirs = await Promise.all(finished.map((r) => (shape ? shapeOf(r.dataset) : null)));
    const fits = finished.filter((r, i) => shape && theirs[i] === shape);
    if (mine !== runsSeq) return;
    const want = runSelect.value || (train.init && !["imagenet", BACKBONE].includes(train.init) ? train.init : "");
    runSelect.replaceChildren(...fits.map((r) => h("option", { value: r.id },
      t("transfer.runOption", { name: r.name || r.id, model: r.model, dataset: r.dataset }))));
    if (fits.some((r) => r.id === want)) runSelect.value = want;
    runHint.textContent = fits.length ? "" : t("transfer.noRuns", { shape: shape || "?" });
    await fetchSpec();
  }
  async function fetchSpec() {
    const id = runSelect.value;
    if (!id || specs.has(id)) return;
    const run = await api.get(`/runs/${enc(id)}`).catch(() => null);
    if (run?.config?.model) specs.set(id, run.config.model);
  }
  runSelect.addEventListener("change", fetchSpec);

  /** The pretrained backbone is offered for images when lernwerk has the preset. */
  function pretrainedAvailable() {
    const kind = datasets.find((d) => d.name === datasetSelect.value)?.kind;
    const preset = [...modelSelect.options].some((o) => o.value === BACKBONE);
    return preset && (kind === "images" || kind === undefined);
  }
  function update() {
    const pretrained = init.querySelector("[value=pretrained]");
    pretrained.hidden = pretrained.disabled = !pretrainedAvailable();
    if (init.value === "pretrained" && pretrained.disabled) init.value = "";
    if (init.value === "pretrained" && modelSelect.value !== BACKBONE) {
      modelSelect.value = BACKBONE;
      modelSelect.dispatchEvent(new Event("change"));  // as if chosen: the name, the defaults follow
    }
    runField.hidden = init.value !== "run";
    modelSelect.disabled = init.value === "run";  // the run's own network
    freezeNField.hidden = freeze.value !== "first";
    unfreezeField.hidden = freeze.value === "none";
    if (init.value === "run") updateRuns();
  }
  init.addEventListener("change", update);
  freeze.addEventListener("change", update);
  datasetSelect.addEventListener("change", () => { shapes.delete(datasetSelect.value); update(); });

  // a run's stored settings fill the controls
  if (train.init) init.value = ["imagenet", BACKBONE].includes(train.init) ? "pretrained" : "run";
  if (train.freeze === "features") freeze.value = "features";
  else if (Number.isInteger(train.freeze)) {
    freeze.value = "first";
    freezeN.value = String(train.freeze);
  }
  if (train.unfreeze_after) unfreeze.value = String(train.unfreeze_after);
  update();

  const el = h("fieldset", { testid: "train-transfer" }, h("legend", {}, t("transfer.title")),
    h("div", { class: "fields" }, field(t("transfer.startFrom"), init, t("transfer.hint")), runField),
    h("div", { class: "fields" }, field(t("transfer.freeze"), freeze), freezeNField, unfreezeField));

  function apply(body) {
    if (init.value === "pretrained") {
      body.train.init = BACKBONE;
      body.model = BACKBONE;
    } else if (init.value === "run" && runSelect.value) {
      body.train.init = runSelect.value;
      const spec = specs.get(runSelect.value);
      if (spec) body.model = spec;
    } else if (init.value === "run") {
      throw Object.assign(new Error(t("transfer.chooseRun")), { where: "init" });
    }
    if (freeze.value === "features") body.train.freeze = "features";
    else if (freeze.value === "first") body.train.freeze = freezeN.value.trim() === "" ? 0 : Number(freezeN.value);
    if (freeze.value !== "none" && unfreeze.value.trim() !== "") body.train.unfreeze_after = Number(unfreeze.value);
    return body;
  }
  return { el, inputs: { init, freeze, unfreeze_after: unfreeze }, apply, fetchSpec };
}
