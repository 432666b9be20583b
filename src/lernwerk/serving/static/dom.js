// Small helpers to build DOM without a framework.

import { t } from "./i18n.js";

/**
 * h("button", {class: "primary", testid: "x", onclick: fn}, "text", child, ...)
 * Attributes: class, text, testid (data-testid), dataset {…}, on* handlers, and
 * anything else as a DOM property when it is one (value, checked, disabled), else an attribute.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "testid") el.dataset.testid = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "style" && typeof value === "object") Object.assign(el.style, value);
    else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key in el && !key.includes("-") && key !== "list" && key !== "form") {
      el[key] = value;
    } else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Append children, skipping null, undefined and false (Element.append would print "null"). */
export function add(el, ...children) {
  append(el, children);
  return el;
}

/** Replace an element's children (null, undefined and false are skipped). */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let uid = 0;
/** A unique id for label/input pairs. */
export function newId(prefix = "f") {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** A labelled form control: returns the wrapper; the control is wrapper.input. */
export function field(label, control, hint) {
  if (!control.id) control.id = newId();
  const wrap = h("div", { class: "field" },
    h("label", { for: control.id }, label), control,
    hint ? h("small", { class: "hint" }, hint) : null);
  wrap.input = control;
  return wrap;
}

/** A checkbox with its label after it. */
export function checkbox(label, attrs = {}) {
  const input = h("input", { type: "checkbox", ...attrs });
  const wrap = h("label", { class: "check" }, input, h("span", {}, label));
  wrap.input = input;
  return wrap;
}

/**
 * A place for one error message (role=alert), hidden while empty.
 * show(err) takes an Error or a string; clear() hides it.
 */
export function errorSlot(testid) {
  const el = h("p", { class: "error", role: "alert", hidden: true, testid });
  el.show = (err) => {
    el.textContent = typeof err === "string" ? err : err?.message || t("error.unknown");
    el.hidden = false;
  };
  el.clear = () => {
    el.textContent = "";
    el.hidden = true;
  };
  return el;
}

/** A short-lived success note next to an action. */
export function noteSlot(testid) {
  const el = h("p", { class: "note", role: "status", "aria-live": "polite", testid });
  let timer = 0;
  el.show = (text, ms = 4000) => {
    el.textContent = text;
    clearTimeout(timer);
    if (ms) timer = setTimeout(() => { el.textContent = ""; }, ms);
  };
  return el;
}

/**
 * A button that asks once more before it acts: the first click turns it into
 * "Really delete?", a second click within four seconds runs onConfirm.
 */
export function confirmButton(label, onConfirm, attrs = {}) {
  let armed = false;
  let timer = 0;
  const btn = h("button", { type: "button", class: "danger", ...attrs }, label);
  btn.addEventListener("click", async () => {
    if (!armed) {
      armed = true;
      btn.textContent = t("common.reallyDelete");
      btn.classList.add("armed");
      timer = setTimeout(() => {
        armed = false;
        btn.textContent = label;
        btn.classList.remove("armed");
      }, 4000);
      return;
    }
    clearTimeout(timer);
    armed = false;
    btn.textContent = label;
    btn.classList.remove("armed");
    btn.disabled = true;
    try {
      await onConfirm();
    } finally {
      btn.disabled = false;
    }
  });
  return btn;
}

/**
 * Tabs: [{id, label, render: (panel) => cleanup?}] — the first is shown;
 * panels render lazily on first show. Returns {el, select(id)}.
 */
export function tabs(items, testidPrefix = "tab") {
  const list = h("div", { class: "tabs", role: "tablist" });
  const panels = h("div", { class: "tab-panels" });
  const state = new Map();
  const select = (id) => {
    for (const item of items) {
      const s = state.get(item.id);
      const on = item.id === id;
      s.button.setAttribute("aria-selected", String(on));
      s.button.tabIndex = on ? 0 : -1;
      s.panel.hidden = !on;
      if (on && !s.rendered) {
        s.rendered = true;
        item.render(s.panel);
      }
      if (!on) item.onHide?.();
    }
  };
  for (const item of items) {
    const panelId = newId("panel");
    const button = h("button", {
      type: "button", role: "tab", class: "tab", "aria-controls": panelId,
      testid: `${testidPrefix}-${item.id}`, onclick: () => select(item.id),
    }, item.label);
    const panel = h("div", { id: panelId, role: "tabpanel", class: "tab-panel", hidden: true });
    list.append(button);
    panels.append(panel);
    state.set(item.id, { button, panel, rendered: false });
  }
  if (items.length) select(items[0].id);
  return { el: h("div", { class: "tabbed" }, list, panels), select };
}

/** A loading line to show while a request runs. */
export function loading() {
  return h("p", { class: "loading", role: "status" }, t("common.loading"));
}
