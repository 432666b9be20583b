// "Why?": under a prediction, one click asks the server which parts of the input decided
// (integrated gradients; Grad-CAM and each convolution layer's feature maps for images)
// and draws them: heat maps for images, a strip under the series, bars for table features.

import { errorSlot, h } from "../dom.js";
import { num } from "../fmt.js";
import { t } from "../i18n.js";

const SIDE = 168;  // pixels a heat map is drawn at (small images are enlarged, blocky)
const MAPS_SHOWN = 16;  // feature maps per layer on the page

/** Values in [0, 1] -> black, red, yellow, white (as the CLI's PNGs). */
function heat(v) {
  const c = (x) => Math.round(255 * Math.min(1, Math.max(0, x)));
  return [c(3 * v), c(3 * v - 1), c(3 * v - 2)];
}

/** A 2-D array drawn into a canvas, scaled to its range (or to [0, 1] when `fixed`). */
function mapCanvas(rows, { side = SIDE, fixed = false, grey = false, testid } = {}) {
  const height = rows.length;
  const width = rows[0].length;
  let lo = 0;
  let hi = 1;
  if (!fixed) {
    lo = Math.min(...rows.map((r) => Math.min(...r)));
    hi = Math.max(...rows.map((r) => Math.max(...r)));
  }
  const span = hi - lo || 1;
  const small = h("canvas", { width, height });
  const ctx = small.getContext("2d");
  const img = ctx.createImageData(width, height);
  rows.forEach((row, y) => row.forEach((value, x) => {
    const v = (value - lo) / span;
    const [r, g, b] = grey ? [v * 255, v * 255, v * 255] : heat(v);
    img.data.set([r, g, b, 255], 4 * (y * width + x));
  }));
  ctx.putImageData(img, 0, 0);
  const scale = side / Math.max(width, height);
  const big = h("canvas", { width: Math.round(width * scale), height: Math.round(height * scale), testid, class: "explain-map" });
  const bctx = big.getContext("2d");
  bctx.imageSmoothingEnabled = false;
  bctx.drawImage(small, 0, 0, big.width, big.height);
  return big;
}

function figure(caption, content, testid) {
  return h("figure", { class: "explain-figure", testid }, content, h("figcaption", {}, caption));
}

function imageParts(e) {
  const parts = [figure(t("explain.saliency"), mapCanvas(e.saliency, { fixed: true, testid: "explain-saliency" }), "explain-ig")];
  if (e.gradcam) parts.push(figure(t("explain.gradcam"), mapCanvas(e.gradcam, { fixed: true, testid: "explain-gradcam" }), "explain-cam"));
  const maps = e.feature_maps.map((layer) => h("div", { class: "explain-layer", testid: "explain-feature-layer", dataset: { layer: layer.layer } },
    h("p", { class: "muted" }, t("explain.layerMaps", { layer: layer.layer, type: layer.type, shown: Math.min(MAPS_SHOWN, layer.maps.length), channels: layer.channels })),
    h("div", { class: "explain-grid" }, layer.maps.slice(0, MAPS_SHOWN).map((m) => mapCanvas(m, { side: 56, grey: true })))));
  return [h("div", { class: "row explain-row" }, parts),
    maps.length ? h("h3", {}, t("explain.featureMaps")) : null, ...maps];
}

function seriesPart(e) {
  const values = e.saliency;
  const canvas = h("canvas", { width: 600, height: 60, testid: "explain-series", class: "explain-strip" });
  const ctx = canvas.getContext("2d");
  const step = canvas.width / values.length;
  ctx.fillStyle = "#b42318";
  values.forEach((v, i) => ctx.fillRect(i * step, canvas.height * (1 - v), Math.max(step - 1, 1), canvas.height * v));
  return [figure(t("explain.overTime"), canvas, "explain-time")];
}

function tablePart(e) {
  const top = Math.max(...e.saliency.map(Math.abs)) || 1;
  const rows = e.names.map((name, i) => {
    const v = e.saliency[i];
    const width = `${(50 * Math.abs(v)) / top}%`;
    return h("div", { class: "explain-bar-row", testid: "explain-feature", dataset: { name, value: String(v) } },
      h("span", { class: "explain-name", title: name }, name),
      h("span", { class: "explain-track" },
        h("span", { class: `explain-bar ${v >= 0 ? "pos" : "neg"}`, style: v >= 0 ? { left: "50%", width } : { right: "50%", width } })),
      h("span", { class: "explain-value" }, num(v, 3)));
  });
  return [h("p", { class: "muted" }, t("explain.tableHint")), h("div", { class: "explain-bars" }, rows)];
}

/** The "Why?" button and what it shows; `load()` resolves to the server's explanation. */
export function explainView(load) {
  const error = errorSlot("explain-error");
  const body = h("div", { testid: "explain-result" });
  const button = h("button", { type: "button", class: "button", testid: "explain-button" }, t("explain.button"));
  button.addEventListener("click", async () => {
    error.clear();
    button.disabled = true;
    body.replaceChildren(h("p", { class: "loading" }, t("explain.busy")));
    try {
      const e = await load();
      const parts = e.kind === "images" ? imageParts(e) : e.kind === "sequences" ? seriesPart(e) : tablePart(e);
      body.replaceChildren(
        h("p", {}, e.target_name !== null ? t("explain.forClass", { name: e.target_name }) : t("explain.forValue"),
          " ", h("span", { class: "muted" }, t("explain.took", { ms: num(e.ms, 0) }))),
        ...parts);
    } catch (err) {
      body.replaceChildren();
      error.show(err);
    } finally {
      button.disabled = false;
    }
  });
  return h("div", { class: "explain", testid: "explain" }, button, error, body);
}
