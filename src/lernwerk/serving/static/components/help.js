// A "?" beside a setting, a layer type or a chart: one click (or Enter) opens two to five
// sentences on what it is and what changing it does; Escape or a second click closes them.

import { h } from "../dom.js";
import { t } from "../i18n.js";

let count = 0;

/** The "?" button and its note for the text `help.<key>`; `topic` names it for a screen reader. */
export function help(key, topic) {
  const id = `help-${++count}`;
  const note = h("div", { class: "help-note", role: "note", id, hidden: true, testid: "help-note", dataset: { key } },
    t(`help.${key}`));
  const button = h("button", {
    type: "button", class: "help", testid: "help", dataset: { key },
    "aria-expanded": "false", "aria-controls": id,
    "aria-label": t("help.button", { topic }), title: t("help.button", { topic }),
  }, "?");
  const toggle = (open) => {
    note.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
  };
  button.addEventListener("click", (ev) => { ev.preventDefault(); toggle(note.hidden); });
  button.addEventListener("keydown", (ev) => { if (ev.key === "Escape") toggle(false); });
  note.addEventListener("keydown", (ev) => { if (ev.key === "Escape") { toggle(false); button.focus(); } });
  return { button, note };
}

/** A field (from dom.js `field`) with a "?" after its label and the note under it. */
export function withHelp(fieldEl, key) {
  const label = fieldEl.querySelector("label");
  const { button, note } = help(key, label?.textContent || key);
  if (label) {  // the label and its "?" on one line
    const row = h("span", { class: "label-row" });
    label.replaceWith(row);
    row.append(label, button);
  }
  fieldEl.append(note);
  return fieldEl;
}

/** A heading (or line) with a "?" after its text, and the note: [heading, note]. */
export function helpHeading(tag, text, key, cls = undefined) {
  const { button, note } = help(key, text);
  return [h(tag, { class: cls }, text, " ", button), note];
}
