// The run page's generated samples (task generate): the grid of the same latent points
// after each epoch, with a slider over the epochs (it follows the newest while the run
// trains), and once trained the latent map and an interpolation between two points.
// Hidden for a run that draws no samples.

import { api, enc, withToken } from "../api.js";
import { h } from "../dom.js";
import { t } from "../i18n.js";

const POLL_MS = 2500;

/** The panel for run `runId`; `live`: it polls for new epochs until `destroy()`. */
export function generatedPanel(runId, { live = false } = {}) {
  const picture = (name) => withToken(`/api/runs/${enc(runId)}/generated/${enc(name)}.png`);
  const epochName = (e) => `epoch-${String(e).padStart(4, "0")}`;
  const img = h("img", { class: "pixelated", testid: "generated-grid", alt: t("generate.gridAlt") });
  const label = h("span", { class: "muted", testid: "generated-epoch" });
  const slider = h("input", { type: "range", min: 1, max: 1, value: 1, testid: "generated-slider",
    "aria-label": t("generate.epoch") });
  const after = h("div", { class: "row wrap" });
  const el = h("section", { class: "panel", testid: "generated-panel", hidden: true },
    h("h2", {}, t("generate.title")),
    h("p", { class: "muted" }, t("generate.intro")),
    h("figure", {}, img, h("figcaption", {}, label)), slider, after);
  let epochs = [];
  let following = true;  // the slider sits on the newest epoch until the user moves it
  let timer = 0;
  let destroyed = false;

  function show(e) {
    img.src = picture(epochName(e));
    img.dataset.epoch = String(e);
    label.textContent = t("generate.afterEpoch", { epoch: e });
  }

  slider.addEventListener("input", () => {
    const e = epochs[Number(slider.value) - 1];
    following = Number(slider.value) === epochs.length;
    if (e) show(e);
  });

  async function refresh() {
    let answer;
    try {
      answer = await api.get(`/runs/${enc(runId)}/generated`);
    } catch {
      return;  // a passing hiccup: the next poll tries again
    }
    if (destroyed) return;
    const grew = answer.epochs.length !== epochs.length;
    epochs = answer.epochs;
    el.hidden = epochs.length === 0;
    if (grew && epochs.length) {
      slider.max = String(epochs.length);
      if (following) {
        slider.value = String(epochs.length);
        show(epochs[epochs.length - 1]);
      }
    }
    const figures = [];
    if (answer.latent_map) {
      figures.push(h("figure", {}, h("img", { class: "pixelated", src: picture("latent-map"), testid: "generated-latent-map",
        alt: t("generate.latentMap") }), h("figcaption", {}, t("generate.latentMap"))));
    }
    if (answer.interpolation) {
      figures.push(h("figure", {}, h("img", { class: "pixelated", src: picture("interpolation"), testid: "generated-interpolation",
        alt: t("generate.interpolation") }), h("figcaption", {}, t("generate.interpolation"))));
    }
    if (figures.length && !after.children.length) after.replaceChildren(...figures);
  }

  async function poll() {
    await refresh();
    if (live && !destroyed) timer = setTimeout(poll, POLL_MS);
  }
  poll();
  return { el, destroy() { destroyed = true; clearTimeout(timer); } };
}
