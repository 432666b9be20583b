// The classes of an image dataset with their counts: add, rename, delete.
// The server validates names; its message appears next to the input that caused it.

import { api, enc } from "../api.js";
import { confirmButton, errorSlot, h } from "../dom.js";
import { int } from "../fmt.js";
import { t } from "../i18n.js";

function classRow(cls, count, base, reload) {
  const error = errorSlot("class-error");
  const name = h("span", { class: "name", testid: "class-name" }, cls);
  const li = h("li", { testid: "class-row", dataset: { class: cls } });

  function view() {
    li.replaceChildren(name, h("span", { class: "count", testid: "class-count" }, t("dataset.count", { n: int(count) })),
      h("button", { type: "button", class: "small", testid: "class-rename", onclick: edit }, t("dataset.rename")),
      confirmButton(t("common.delete"), async () => {
        error.clear();
        try {
          await api.del(`${base}/classes/${enc(cls)}`);
          await reload();
        } catch (err) {
          error.show(err);
        }
      }, { class: "danger small", testid: "class-delete" }),
      error);
  }

  function edit() {
    const input = h("input", { type: "text", value: cls, testid: "class-rename-input", "aria-label": t("dataset.newName") });
    const save = async (ev) => {
      ev?.preventDefault();
      error.clear();
      const next = input.value.trim();
      if (!next || next === cls) { view(); return; }
      try {
        await api.patch(`${base}/classes/${enc(cls)}`, { name: next });
        await reload();
      } catch (err) {
        input.classList.add("invalid");
        error.show(err);
      }
    };
    input.addEventListener("keydown", (ev) => { if (ev.key === "Escape") view(); });
    li.replaceChildren(h("form", { class: "row", onsubmit: save }, input,
      h("button", { type: "submit", class: "small primary", testid: "class-rename-save" }, t("common.save")),
      h("button", { type: "button", class: "small", onclick: view }, t("common.cancel"))), error);
    input.focus();
    input.select();
  }

  view();
  return li;
}

export function createClassList(info, base, reload) {
  const list = h("ul", { class: "class-list", testid: "class-list" });
  const error = errorSlot("class-add-error");
  const input = h("input", { type: "text", id: "class-add-input", testid: "class-add-input", autocomplete: "off",
    placeholder: t("dataset.newClassPlaceholder") });
  const add = h("button", { type: "submit", class: "primary", testid: "class-add" }, t("dataset.addClass"));
  const form = h("form", {
    class: "row", style: { marginTop: "10px" },
    onsubmit: async (ev) => {
      ev.preventDefault();
      error.clear();
      input.classList.remove("invalid");
      const name = input.value.trim();
      if (!name) { input.focus(); return; }
      add.disabled = true;
      try {
        await api.post(`${base}/classes`, { name });
        input.value = "";
        await reload();
      } catch (err) {
        input.classList.add("invalid");
        error.show(err);
      } finally {
        add.disabled = false;
      }
    },
  }, h("label", { for: input.id, class: "muted" }, t("dataset.newClass")), input, add);

  const el = h("section", { class: "panel", testid: "classes" }, h("h2", {}, t("dataset.classes")), list, form, error);

  function update(next) {
    const counts = next.class_counts || {};
    list.replaceChildren(...next.classes.map((cls) => classRow(cls, counts[cls] ?? 0, base, reload)));
  }
  update(info);
  return { el, update, error };
}
