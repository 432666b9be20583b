// The network drawn as boxes: the input, then one box per layer with its output shape and
// parameter count, joined by arrows; blocks list the layers inside them. Follows every
// edit; a box dragged onto another moves its layer there (Alt+↑/↓ does it by keyboard).

import { h } from "../dom.js";
import { compact, shape } from "../fmt.js";
import { t } from "../i18n.js";

/**
 * `onMove(from, to)` moves a layer (0-based indices). `update({layers, rows, input, misfit})`
 * redraws: `layers` the spec's top-level layers, `rows` the server's summary rows (may be
 * empty while it is asked or when a layer does not fit), `input` the input shape, `misfit`
 * the 0-based index of the layer that does not fit, or null.
 */
export function netDiagram({ onMove }) {
  const list = h("ol", { class: "net-diagram", testid: "net-diagram", "aria-label": t("diagram.label") });
  let dragged = null;

  function box(layer, index, rows, misfit) {
    const key = String(index + 1);
    const row = rows.find((r) => String(r.index) === key);
    const inner = rows.filter((r) => String(r.index).startsWith(`${key}.`) && r.depth === 1);
    const el = h("li", {
      class: `net-box${index === misfit ? " misfit" : ""}${inner.length || layer.layers ? " block" : ""}`,
      testid: "net-box", dataset: { index: String(index), type: layer.type },
      draggable: true, tabIndex: 0,
      title: t("diagram.dragHint"),
    },
    h("div", { class: "net-type" }, h("span", { class: "net-index" }, key), " ", layer.type),
    row ? h("div", { class: "net-shape", testid: "net-shape" }, shape(row.output_shape)) : null,
    row ? h("div", { class: "net-params muted" }, t("diagram.params", { n: compact(row.params) })) : null,
    index === misfit ? h("div", { class: "net-misfit" }, t("diagram.misfit")) : null,
    inner.length ? h("ul", { class: "net-inner" }, inner.map((r) => h("li", {}, `${r.type} ${shape(r.output_shape)}`))) : null);
    el.addEventListener("dragstart", (ev) => {
      dragged = index;
      ev.dataTransfer.effectAllowed = "move";
      ev.dataTransfer.setData("text/plain", key);
      el.classList.add("dragging");
    });
    el.addEventListener("dragend", () => { dragged = null; el.classList.remove("dragging"); });
    el.addEventListener("dragover", (ev) => { if (dragged !== null) { ev.preventDefault(); el.classList.add("drop"); } });
    el.addEventListener("dragleave", () => el.classList.remove("drop"));
    el.addEventListener("drop", (ev) => {
      ev.preventDefault();
      el.classList.remove("drop");
      if (dragged !== null && dragged !== index) onMove(dragged, index);
      dragged = null;
    });
    el.addEventListener("keydown", (ev) => {
      if (!ev.altKey || (ev.key !== "ArrowUp" && ev.key !== "ArrowDown")) return;
      ev.preventDefault();
      const to = index + (ev.key === "ArrowUp" ? -1 : 1);
      if (to >= 0) onMove(index, to, { focus: true });
    });
    return el;
  }

  function update({ layers, rows = [], input = null, misfit = null }) {
    // a redraw keeps the keyboard focus on the same layer's box (the summary comes later)
    const focused = list.contains(document.activeElement) ? document.activeElement.dataset.index : undefined;
    const arrow = () => h("li", { class: "net-arrow", "aria-hidden": "true" }, "\u2193");
    const items = [h("li", { class: "net-box net-input", testid: "net-input" },
      h("div", { class: "net-type" }, t("diagram.input")),
      input ? h("div", { class: "net-shape" }, shape(input)) : null)];
    layers.forEach((layer, i) => items.push(arrow(), box(layer, i, rows, misfit)));
    list.replaceChildren(...items);
    if (focused !== undefined) focus(focused);
  }

  /** Put the keyboard focus on a layer's box (after Alt+arrow moved it). */
  function focus(index) {
    list.querySelector(`[data-testid="net-box"][data-index="${index}"]`)?.focus();
  }

  return { el: list, update, focus };
}
