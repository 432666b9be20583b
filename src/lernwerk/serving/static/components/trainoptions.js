// The train page's loss and learning-rate schedule: the losses that suit the task (the
// dataset's, or the one chosen), the schedules training has, and the settings a schedule
// takes (step: epochs and factor; plateau: patience, factor and floor; cosine: the final rate).

import { field, h } from "../dom.js";
import { t } from "../i18n.js";
import { withHelp } from "./help.js";

// the first of each list is the task's default (training/tasks.py: `losses[0]`)
const LOSSES = {
  classification: ["cross_entropy", "label_smoothing", "focal", "binary_cross_entropy"],
  regression: ["mse", "mae", "huber"],
  forecasting: ["mse", "mae", "huber"],
  anomaly: ["mse", "mae"],
};
const SCHEDULES = ["constant", "step", "cosine", "onecycle", "plateau"];

function numberInput(testid, value, attrs = {}) {
  return h("input", { type: "number", testid, value: value ?? "", step: "any", ...attrs });
}

/**
 * @param {{train: object, datasets: object[], datasetSelect: HTMLSelectElement,
 *          taskSelect: HTMLSelectElement}} opts `train`: the settings of the run the form starts from
 * @returns {{el: HTMLElement, inputs: object, apply: (train: object) => void}}
 */
export function lossScheduleControls({ train, datasets, datasetSelect, taskSelect }) {
  const loss = h("select", { testid: "train-loss" });
  const lossHint = h("small", { class: "hint", testid: "train-loss-hint" });
  const schedule = h("select", { testid: "train-schedule" });
  const scheduleHint = h("small", { class: "hint", testid: "train-schedule-hint" });
  const stepSize = numberInput("train-step-size", train.step_size_epochs ?? 10, { min: 1, step: 1 });
  const gamma = numberInput("train-gamma", train.gamma ?? 0.1, { min: 0, max: 1, step: 0.05 });
  const lrMin = numberInput("train-lr-min", train.lr_min ?? 0, { min: 0 });
  const patience = numberInput("train-plateau-patience", train.plateau_patience ?? 50, { min: 1, step: 1 });
  const factor = numberInput("train-plateau-factor", train.plateau_factor ?? 0.5, { min: 0, max: 1, step: 0.05 });
  const stepField = field(t("train.stepSize"), stepSize);
  const gammaField = field(t("train.gamma"), gamma, t("train.gammaHint"));
  const lrMinField = field(t("train.lrMin"), lrMin);
  const patienceField = field(t("train.patienceEpochs"), patience);
  const factorField = field(t("train.plateauFactor"), factor, t("train.gammaHint"));
  let wantLoss = train.loss || "";

  function task() {
    const ds = datasets.find((d) => d.name === datasetSelect.value);
    return taskSelect.value || ds?.task || "classification";
  }
  function kind() {
    return datasets.find((d) => d.name === datasetSelect.value)?.kind;
  }

  function updateLoss() {
    const choices = LOSSES[task()] || [];
    const keep = loss.value || wantLoss;
    loss.replaceChildren(
      h("option", { value: "" }, t("train.lossAuto", { name: choices[0] ? t(`loss.${choices[0]}`) : "–" })),
      ...choices.map((k) => h("option", { value: k }, t(`loss.${k}`))));
    loss.value = choices.includes(keep) ? keep : "";
    if (loss.value) wantLoss = loss.value;
    lossHint.textContent = t(`loss.${loss.value || choices[0] || "mse"}.hint`);
  }
  function updateSchedule() {
    const auto = kind() === "sequences" ? (task() === "classification" ? "plateau" : "cosine") : "constant";
    const keep = schedule.value || train.schedule || "";
    schedule.replaceChildren(
      h("option", { value: "" }, t("train.scheduleAuto", { name: t(`schedule.${auto}`) })),
      ...SCHEDULES.map((k) => h("option", { value: k }, t(`schedule.${k}`))));
    schedule.value = SCHEDULES.includes(keep) ? keep : "";
    const chosen = schedule.value || auto;
    scheduleHint.textContent = t(`schedule.${chosen}.hint`);
    stepField.hidden = schedule.value !== "step";
    gammaField.hidden = stepField.hidden;
    patienceField.hidden = schedule.value !== "plateau";
    factorField.hidden = patienceField.hidden;
    lrMinField.hidden = !["cosine", "plateau"].includes(schedule.value);
    lrMinField.querySelector("label").textContent = t(schedule.value === "plateau" ? "train.lrFloor" : "train.lrMin");
  }
  loss.addEventListener("change", () => { wantLoss = loss.value; updateLoss(); });
  schedule.addEventListener("change", updateSchedule);
  taskSelect.addEventListener("change", updateLoss);
  datasetSelect.addEventListener("change", () => { updateLoss(); updateSchedule(); });
  updateLoss();
  updateSchedule();

  // one per row: the options' names are long for half the form's width
  const el = h("div", { testid: "train-loss-schedule" },
    withHelp(field(t("train.loss"), loss, lossHint), "train.loss"),
    withHelp(field(t("train.schedule"), schedule, scheduleHint), "train.schedule"),
    h("div", { class: "fields" }, stepField, gammaField, patienceField, factorField, lrMinField));
  return {
    el,
    inputs: { loss, schedule, step_size_epochs: stepSize, gamma, plateau_patience: patience, plateau_factor: factor, lr_min: lrMin },
    /** Put the chosen loss and schedule (and its settings) into a run's train settings. */
    apply(out) {
      const numberOf = (input) => (input.value.trim() === "" ? undefined : Number(input.value));
      if (loss.value) out.loss = loss.value;
      if (!schedule.value) return;
      out.schedule = schedule.value;
      if (!stepField.hidden) {
        if (numberOf(stepSize) !== undefined) out.step_size_epochs = numberOf(stepSize);
        if (numberOf(gamma) !== undefined) out.gamma = numberOf(gamma);
      }
      if (!patienceField.hidden) {
        if (numberOf(patience) !== undefined) out.plateau_patience = numberOf(patience);
        if (numberOf(factor) !== undefined) out.plateau_factor = numberOf(factor);
      }
      if (!lrMinField.hidden && numberOf(lrMin) !== undefined) out.lr_min = numberOf(lrMin);
    },
  };
}
