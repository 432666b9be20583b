// One layer of the network designer: its type, its parameters, its place in the list,
// and what the server's summary says about it (output shape, parameters, FLOPs, misfit).

import { errorSlot, h, newId } from "../dom.js";
import { compact, int, shape } from "../fmt.js";
import { t } from "../i18n.js";
import { help } from "../components/help.js";

/** A layer as {type, ...params}, from any of the three ways a spec may write it. */
export function normaliseLayer(raw) {
  if (typeof raw === "string") return { type: raw };
  if (raw && typeof raw === "object") {
    if ("type" in raw) return { ...raw, layers: raw.layers?.map(normaliseLayer) };
    const [[type, params]] = Object.entries(raw);
    const out = { type, ...(params || {}) };
    if (Array.isArray(out.layers)) out.layers = out.layers.map(normaliseLayer);
    return out;
  }
  return { type: String(raw) };
}

export function cleanLayer(layer) {
  const out = {};
  for (const [k, v] of Object.entries(layer)) if (v !== undefined) out[k] = v;
  return out;
}

/** Text typed into a parameter field -> the value the spec takes. */
function parseValue(text, type) {
  const raw = text.trim();
  if (raw === "") return undefined;
  if (type === "int" && /^-?\d+$/.test(raw)) return parseInt(raw, 10);
  if (type === "float" && !Number.isNaN(Number(raw))) return Number(raw);
  if (/^-?\d+(\.\d+)?([eE]-?\d+)?$/.test(raw)) return Number(raw);
  if (/^[([]?\s*-?\d+\s*(,\s*-?\d+\s*)+[)\]]?$/.test(raw)) return raw.replace(/[()[\]\s]/g, "").split(",").map(Number);
  if (raw === "true" || raw === "false") return raw === "true";
  if (raw === "null" || raw === "none" || raw === "None") return null;
  return raw;
}

function showValue(v) {
  if (v === undefined || v === null) return "";
  return Array.isArray(v) ? v.join(",") : String(v);
}

function paramControl(param, value, onValue) {
  const id = newId("p");
  const testid = `param-${param.name}`;
  const dflt = param.default === undefined || param.default === null ? "" : showValue(param.default);
  const numeric = /int|float/.test(param.type || "");
  let control;
  let extra = null;
  if (param.choices?.length && !numeric) {  // one word of a few
    control = h("select", { id, testid },
      param.required ? null : h("option", { value: "" }, t("designer.default", { value: dflt || "–" })),
      param.choices.map((c) => h("option", { value: String(c) }, String(c))));
    control.value = value === undefined || value === null ? (param.required ? String(param.choices[0]) : "") : String(value);
    control.addEventListener("change", () => {
      const match = param.choices.find((c) => String(c) === control.value);
      onValue(control.value === "" ? undefined : match);
    });
  } else if (param.type === "bool") {
    control = h("input", { type: "checkbox", id, testid, checked: Boolean(value ?? param.default) });
    control.addEventListener("change", () => onValue(control.checked === Boolean(param.default) ? undefined : control.checked));
  } else {  // numbers, pairs ("3,3") and numbers-or-words ("auto")
    const plain = param.type === "int" || param.type === "float";
    const listId = param.choices?.length ? newId("choices") : null;
    control = h("input", {
      type: plain ? "number" : "text", id, testid, value: showValue(value), step: param.type === "int" ? 1 : "any",
      placeholder: param.required && !dflt ? t("designer.required") : dflt, autocomplete: "off", list: listId,
      min: param.ge ?? param.gt ?? undefined, max: param.le ?? param.lt ?? undefined,
    });
    if (listId) extra = h("datalist", { id: listId }, param.choices.map((c) => h("option", { value: String(c) })));
    control.addEventListener("input", () => onValue(parseValue(control.value, param.type)));
  }
  const title = [param.description, param.required ? t("designer.required") : ""].filter(Boolean).join(" · ");
  return h("div", { class: "field" }, h("label", { for: id, title }, param.name), control, extra);
}

/**
 * @param {object} layer the layer object (edited in place)
 * @param {{index: number, count: number, registry: Map<string, object[]>,
 *          onChange: () => void, onMove: (delta: number) => void, onRemove: () => void,
 *          onRetype: (type: string) => void}} ctx
 */
export function layerCard(layer, ctx) {
  const out = h("span", { class: "out", testid: "layer-summary" }, "…");
  const sub = h("div", { class: "sub", testid: "layer-children" });
  const error = errorSlot("layer-error");
  const types = [...ctx.registry.keys()];
  const typeSelect = h("select", { testid: "layer-type", "aria-label": t("designer.layerType", { n: ctx.index + 1 }) },
    (types.includes(layer.type) ? types : [layer.type, ...types]).map((name) => h("option", { value: name }, name)));
  typeSelect.value = layer.type;
  typeSelect.addEventListener("change", () => ctx.onRetype(typeSelect.value));

  const params = h("div", { class: "layer-params" });
  for (const param of ctx.registry.get(layer.type) || []) {
    if (param.name === "layers") continue;
    params.append(paramControl(param, layer[param.name], (v) => {
      if (v === undefined) delete layer[param.name];
      else layer[param.name] = v;
      ctx.onChange();
    }));
  }
  if (Array.isArray(layer.layers)) {  // a block (e.g. Residual): its inner layers as JSON
    const area = h("textarea", { rows: Math.min(10, layer.layers.length + 2), testid: "layer-block",
      "aria-label": t("designer.blockLayers") }, JSON.stringify(layer.layers.map(cleanLayer)));
    const blockError = errorSlot();
    area.addEventListener("input", () => {
      try {
        const parsed = JSON.parse(area.value);
        if (!Array.isArray(parsed)) throw new Error(t("designer.blockNotList"));
        layer.layers = parsed.map(normaliseLayer);
        area.classList.remove("invalid");
        blockError.clear();
        ctx.onChange();
      } catch (err) {
        area.classList.add("invalid");
        blockError.show(t("designer.blockInvalid", { reason: err.message }));
      }
    });
    params.append(h("div", { class: "field", style: { flexBasis: "100%" } },
      h("label", {}, t("designer.blockLayers")), area, blockError));
  }

  const up = h("button", { type: "button", class: "icon small", testid: "layer-up", disabled: ctx.index === 0,
    "aria-label": t("designer.up"), title: t("designer.up"), onclick: () => ctx.onMove(-1) }, "↑");
  const down = h("button", { type: "button", class: "icon small", testid: "layer-down", disabled: ctx.index === ctx.count - 1,
    "aria-label": t("designer.down"), title: t("designer.down"), onclick: () => ctx.onMove(1) }, "↓");
  const remove = h("button", { type: "button", class: "icon small danger", testid: "layer-remove",
    "aria-label": t("designer.remove"), title: t("designer.remove"), onclick: () => ctx.onRemove() }, "✕");

  const explain = help(`layer.${layer.type}`, layer.type);
  const el = h("li", { class: "layer", testid: "layer", dataset: { index: String(ctx.index), type: layer.type } },
    h("div", { class: "layer-head" }, h("span", { class: "idx" }, String(ctx.index + 1)), typeSelect, explain.button, out, up, down, remove),
    explain.note, params, sub, error);

  return {
    el,
    /** Show the summary row (and nested rows) of this layer; null clears it. */
    setSummary(row, children = []) {
      el.classList.remove("misfit");
      error.clear();
      if (!row) { out.textContent = "–"; sub.replaceChildren(); return; }
      out.textContent = t("designer.rowSummary", {
        shape: shape(row.output_shape), params: int(row.params), flops: compact(row.flops),
      });
      sub.replaceChildren(...children.map((c) => h("div", {},
        `${c.index} ${c.type} → ${shape(c.output_shape)} · ${t("designer.params")} ${int(c.params)}`)));
    },
    setMisfit(message) {
      el.classList.add("misfit");
      out.textContent = "";
      error.show(message);
    },
  };
}
