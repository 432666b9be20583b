// The dataset picker of the designer and the train page, and the dataset last used.
// A stored set and the built-in of the same name are told apart: the stored one is
// listed with its samples ("yours"); the built-in one it was made from is left out, as
// its name would open the stored set anyway.

import { api, enc } from "../api.js";
import { h } from "../dom.js";
import { int } from "../fmt.js";
import { t } from "../i18n.js";

const LAST_KEY = "lernwerk.lastDataset";

/** Remember the dataset a person worked on last (the designer opens on it). */
export function rememberDataset(name) {
  try { if (name) localStorage.setItem(LAST_KEY, name); } catch { /* private mode */ }
}

export function lastDataset() {
  try { return localStorage.getItem(LAST_KEY) || ""; } catch { return ""; }
}

/** The option label of a dataset: kind, and for a stored one its samples. */
export function datasetLabel(d) {
  const kind = t(`kind.${d.kind}`);
  if (d.source === "builtin") return t("designer.optionBuiltin", { name: d.name, kind });
  return t("designer.optionStored", { name: d.name, kind, n: int(d.num_samples ?? 0) });
}

/** A <select> of the stored datasets, then the built-in ones not stored under their name. */
export function datasetSelect(datasets, testid) {
  const stored = datasets.filter((d) => d.source !== "builtin");
  const names = new Set(stored.map((d) => d.name));
  const builtin = datasets.filter((d) => d.source === "builtin" && !names.has(d.name));
  const group = (label, list) => (list.length
    ? h("optgroup", { label }, list.map((d) => h("option", { value: d.name, dataset: { source: d.source || "workspace" } }, datasetLabel(d))))
    : null);
  return h("select", { testid }, group(t("designer.stored"), stored), group(t("designer.builtin"), builtin));
}

/** What a run on the dataset uses for what is left out (preset, batch size, rate, epochs). */
export function trainDefaults(name, { optimizer = "adam", valSplit, task } = {}) {
  const q = new URLSearchParams({ optimizer });
  if (valSplit !== undefined && valSplit !== "" && Number.isFinite(Number(valSplit))) q.set("val_split", String(valSplit));
  if (task) q.set("task", task);
  return api.get(`/datasets/${enc(name)}/train-defaults?${q}`);
}
