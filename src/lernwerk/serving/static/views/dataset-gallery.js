// The samples of an image dataset, one collapsible gallery per class, each with delete.
// A deleted sample goes from view at once and from the dataset when its Undo toast has
// gone (a few seconds), or when the next one is deleted or the page is left.

import { api, enc, sampleUrl } from "../api.js";
import { errorSlot, h } from "../dom.js";
import { int } from "../fmt.js";
import { t } from "../i18n.js";

const PAGE = 60;
const UNDO_MS = 6000;  // how long a deleted sample can be brought back

export function createGallery(info, base, reload) {
  const sections = new Map();  // class -> {details, summary, grid, more, error, loaded}
  const list = h("div", {});
  const el = h("section", { class: "panel", testid: "gallery" }, h("h2", {}, t("dataset.gallery")), list);
  let dataset = info.name;
  let pending = null;  // {id, cls, box, del, timer}: the deletion the toast can still undo
  const toastText = h("span", {});
  const undoBtn = h("button", { type: "button", testid: "sample-undo", onclick: () => undo() }, t("dataset.undo"));
  const toast = h("div", { class: "toast undo-toast", role: "status", "aria-live": "polite", testid: "undo-toast", hidden: true },
    toastText, undoBtn);
  el.append(toast);

  function undo() {
    if (!pending) return;
    clearTimeout(pending.timer);
    pending.box.hidden = false;
    pending.del.disabled = false;
    pending = null;
    toast.hidden = true;
  }

  /** Delete the sample the toast offers to bring back, now. */
  async function commit() {
    if (!pending) return;
    const { id, cls, box, del, timer } = pending;
    clearTimeout(timer);
    pending = null;
    toast.hidden = true;
    try {
      await api.del(`${base}/samples/${enc(id)}`);
      box.remove();
      await reload(cls);
    } catch (err) {
      box.hidden = false;
      del.disabled = false;
      sections.get(cls)?.error.show(err);
    }
  }

  function tile(sample, cls) {
    const del = h("button", {
      type: "button", class: "del", testid: "sample-delete", dataset: { id: String(sample.id) },
      "aria-label": t("dataset.deleteSample", { id: sample.id }), title: t("dataset.deleteSample", { id: sample.id }),
      onclick: () => {
        commit();  // one toast at a time: an earlier deletion is done now
        del.disabled = true;
        box.hidden = true;
        pending = { id: sample.id, cls, box, del, timer: setTimeout(commit, UNDO_MS) };
        toastText.textContent = `${t("dataset.sampleDeleted", { id: sample.id })} `;
        toast.hidden = false;
        undoBtn.focus({ preventScroll: true });
      },
    }, "✕");
    const img = h("img", { src: sampleUrl(dataset, sample.id, 3), alt: t("dataset.sampleAlt", { id: sample.id, cls }), loading: "lazy" });
    const box = h("div", { class: "tile", testid: "sample-tile", dataset: { id: String(sample.id) } }, img, del,
      sample.test ? h("span", { class: "cap" }, t("split.test")) : null);
    if (pending?.id === sample.id) {  // the gallery reloaded while its deletion waits
      box.hidden = true;
      del.disabled = true;
      Object.assign(pending, { box, del });
    }
    return box;
  }

  async function load(cls, append = false) {
    const s = sections.get(cls);
    if (!s) return;
    s.error.clear();
    const offset = append ? s.loaded : 0;
    try {
      const res = await api.get(`${base}/samples?label=${enc(cls)}&offset=${offset}&limit=${PAGE}`);
      const tiles = (res.samples || []).map((sample) => tile(sample, cls));
      if (append) s.grid.append(...tiles);
      else s.grid.replaceChildren(...tiles);
      s.loaded = offset + tiles.length;
      if (!s.loaded) s.grid.replaceChildren(h("p", { class: "empty" }, t("dataset.noSamples")));
      s.more.hidden = s.loaded >= (res.total ?? 0);
    } catch (err) {
      s.error.show(err);
    }
  }

  function section(cls, count) {
    const summary = h("summary", {}, `${cls} (${int(count)})`);
    const grid = h("div", { class: "gallery", testid: "class-gallery" });
    const error = errorSlot("gallery-error");
    const more = h("button", { type: "button", class: "small", hidden: true, onclick: () => load(cls, true) }, t("dataset.more"));
    const details = h("details", { class: "class-gallery", dataset: { class: cls } }, summary, grid, more, error);
    const s = { details, summary, grid, more, error, loaded: 0 };
    details.addEventListener("toggle", () => { if (details.open) load(cls); });
    return s;
  }

  function update(next, changedClass) {
    dataset = next.name;
    const counts = next.class_counts || {};
    const nodes = [];
    for (const cls of next.classes) {
      let s = sections.get(cls);
      if (!s) {
        s = section(cls, counts[cls] ?? 0);
        sections.set(cls, s);
      }
      s.summary.textContent = `${cls} (${int(counts[cls] ?? 0)})`;
      if (changedClass === cls && !s.details.open && ![...sections.values()].some((x) => x.details.open)) {
        s.details.open = true;  // the first sample of a new dataset: show where it went (toggle loads it)
      } else if (s.details.open && (changedClass === undefined || changedClass === cls)) load(cls);
      nodes.push(s.details);
    }
    for (const cls of [...sections.keys()]) if (!next.classes.includes(cls)) sections.delete(cls);
    list.replaceChildren(...(nodes.length ? nodes : [h("p", { class: "empty" }, t("dataset.noClasses"))]));
  }

  update(info);
  // open the first class that has samples, so the page shows some at once
  const first = info.classes.find((c) => (info.class_counts?.[c] ?? 0) > 0);
  if (first) sections.get(first).details.open = true;
  /** Leaving the page: a deletion still in its toast is done. */
  const flush = () => { commit(); };
  return { el, update, flush };
}
