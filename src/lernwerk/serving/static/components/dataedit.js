// Fixing what the model got wrong, where it is shown: a sample's actions on the results
// page (move to another class, delete, "label is right"), Try-it's "add this input to
// class …", and the bar that says the dataset changed since the run (retrain, undo).

import { api, enc } from "../api.js";
import { errorSlot, h, mount } from "../dom.js";
import { t } from "../i18n.js";
import { watchHash } from "./runactions.js";

/** What an edit or an undo did, in words: "moved 2 samples to sad". */
function editText(edit, classes) {
  if (!edit) return "";
  const n = edit.ids?.length ?? 0;
  if (edit.action === "relabel") return t("fix.did.relabel", { n, cls: classes[edit.label] ?? String(edit.label) });
  if (edit.action === "check") return t(edit.checked === false ? "fix.did.uncheck" : "fix.did.check", { n });
  return t(`fix.did.${edit.action}`, { n });
}

/**
 * The run's data state: "the dataset changed since this run" with one click to retrain on
 * the new data version, and the last edit with its undo. Shown only for a stored dataset.
 * `onUndo` is called after an undo (the view redraws what changed back).
 */
export function createDataBar(record, { onUndo } = {}) {
  const el = h("section", { class: "panel", testid: "data-bar", hidden: true });
  const error = errorSlot("data-bar-error");
  let classes = [];

  async function refresh() {
    if (record.dataset_version === null || record.dataset_version === undefined || record.config?.baseline) return;
    let run;
    let edits;
    let info;
    try {
      [run, edits, info] = await Promise.all([api.get(`/runs/${enc(record.id)}`),
        api.get(`/datasets/${enc(record.dataset)}/edits`), api.get(`/datasets/${enc(record.dataset)}`)]);
    } catch (err) {
      el.hidden = false;
      el.replaceChildren(error);
      error.show(err);
      return;
    }
    classes = info.classes || [];
    const retrain = h("button", { type: "button", class: "primary", testid: "retrain", onclick: async () => {
      retrain.disabled = true;
      error.clear();
      try {
        location.hash = watchHash(await api.post(`/runs/${enc(record.id)}/retrain`));
      } catch (err) {
        error.show(err);
        retrain.disabled = false;
      }
    } }, t("fix.retrain"));
    const undo = edits.undo ? h("button", { type: "button", testid: "data-undo", onclick: async () => {
      undo.disabled = true;
      error.clear();
      try {
        await api.post(`/datasets/${enc(record.dataset)}/undo`);
        await refresh();
        onUndo?.();
      } catch (err) {
        error.show(err);
        undo.disabled = false;
      }
    } }, t("fix.undo")) : null;
    el.hidden = false;
    mount(el,
      h("p", { testid: "data-version" }, t("fix.dataVersion", { version: run.data_version }),
        run.dataset_changed ? ` · ${t("fix.datasetNow", { version: edits.data_version })}` : ""),
      run.dataset_changed ? h("div", { class: "row", testid: "data-changed" },
        h("b", { style: { color: "var(--warn)" } }, t("fix.changed")), retrain) : null,
      edits.undo ? h("div", { class: "row" }, h("span", { class: "muted", testid: "data-last-edit" },
        t("fix.lastEdit", { what: editText(edits.undo, classes) })), undo) : null,
      error);
  }
  refresh();
  return { el, refresh };
}

/**
 * A results tile's actions on its sample: move it to another class, delete it, or mark
 * its label as right. `onEdit` runs after each change (the data bar refreshes).
 */
export function sampleActions(dataset, sample, classes, onEdit) {
  const state = h("div", { class: "probs-small", testid: "sample-state", dataset: { id: String(sample.id) } });
  const error = errorSlot("sample-error");
  state.update = (now, checked) => {
    state.style.color = now === null ? "var(--danger)" : "var(--ok)";
    if (now === null) state.textContent = t("fix.deleted");
    else if (now !== undefined && now !== sample.label) state.textContent = t("fix.nowIn", { cls: now });
    else state.textContent = checked ? t("fix.checked") : "";
  };
  // the sample may be shown twice (its cell and the misclassified list): both say it
  const show = (now, checked) => {
    for (const other of document.querySelectorAll(`[data-testid=sample-state][data-id="${sample.id}"]`)) other.update?.(now, checked);
  };
  const send = async (path, body, after) => {
    error.clear();
    try {
      await api.post(`/datasets/${enc(dataset)}/${path}`, body);
      after();
      onEdit?.();
    } catch (err) {
      error.show(err);
    }
  };
  const move = h("select", { testid: "sample-move", "aria-label": t("fix.moveTo"), class: "small", style: { width: "100%" } },
    h("option", { value: "" }, t("fix.moveTo")),
    classes.map((c) => h("option", { value: c }, c)));
  move.addEventListener("change", () => {
    const to = move.value;
    if (to) send("relabel", { ids: [sample.id], to }, () => { show(to, sample.checked); move.value = ""; });
  });
  const del = h("button", { type: "button", class: "small danger", testid: "sample-delete",
    onclick: () => send("delete-samples", { ids: [sample.id] }, () => show(null)) }, t("common.delete"));
  const check = h("button", { type: "button", class: "small", testid: "sample-check", title: t("fix.checkHint"),
    onclick: () => send("checked", { ids: [sample.id], checked: true }, () => show(sample.label, true)) }, t("fix.check"));
  state.update(sample.now, sample.checked);
  return h("div", { class: "stack", testid: "sample-actions", style: { gap: "3px" } }, state, move,
    h("div", { class: "row", style: { gap: "3px" } }, check, del), error);
}

/**
 * Try-it's "add this input to class …": after a prediction the input (the drawing, photo
 * or upload as it was sent) can go into the run's dataset under the class the user says is
 * right, with an undo. `offer(body, predicted)` arms it; `clear()` disarms it.
 */
export function createAddToClass(dataset, classes, { onEdit } = {}) {
  let body = null;
  let added = null;
  const select = h("select", { testid: "add-class-select", id: "add-class-select" }, classes.map((c) => h("option", { value: c }, c)));
  const note = h("p", { class: "note", role: "status", testid: "add-class-note" });
  const error = errorSlot("add-class-error");
  const button = h("button", { type: "button", class: "primary", testid: "add-to-class", disabled: true, onclick: async () => {
    error.clear();
    button.disabled = true;
    try {
      const answer = await api.post(`/datasets/${enc(dataset)}/samples`, { label: select.value, ...body });
      added = { ids: answer.ids, cls: select.value };
      note.textContent = t("fix.added", { id: answer.ids.join(", "), cls: select.value, dataset });
      undo.hidden = false;
      onEdit?.();
    } catch (err) {
      error.show(err);
      button.disabled = false;
    }
  } }, t("fix.addToClass"));
  const undo = h("button", { type: "button", testid: "add-undo", hidden: true, onclick: async () => {
    error.clear();
    try {
      await api.post(`/datasets/${enc(dataset)}/undo`);
      note.textContent = t("fix.addUndone", { id: added.ids.join(", "), cls: added.cls });
      undo.hidden = true;
      button.disabled = !body;
      onEdit?.();
    } catch (err) {
      error.show(err);
    }
  } }, t("fix.undo"));
  const el = h("section", { class: "panel", testid: "add-to-dataset" },
    h("h2", {}, t("fix.addTitle")),
    h("p", { class: "muted" }, t("fix.addIntro", { dataset })),
    h("div", { class: "row" }, h("label", { for: select.id }, t("fix.rightClass")), select, button, undo),
    note, error);
  return {
    el,
    offer(sent, predicted) {
      body = sent && (sent.pixels || sent.image) ? { pixels: sent.pixels, image: sent.image } : null;
      if (body && !body.pixels) delete body.pixels;
      if (body && !body.image) delete body.image;
      if (predicted && classes.includes(predicted)) select.value = predicted;
      button.disabled = !body;
      note.textContent = "";
      undo.hidden = true;
    },
    clear() {
      body = null;
      button.disabled = true;
    },
  };
}
