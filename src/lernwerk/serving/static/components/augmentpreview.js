// The train page's augmentation preview: a few samples of an image dataset, each beside
// copies augmented as training will augment them (the server draws them with training's
// own augmentation code: GET /api/datasets/{name}/preview.png?augment=…). It follows the
// settings as they change; "Draw again" shows other random copies.

import { enc, request, withToken } from "../api.js";
import { errorSlot, h } from "../dom.js";
import { t } from "../i18n.js";

const COPIES = 5;
const WAIT_MS = 250;  // settle time after a keystroke before the preview is drawn again

/**
 * @param {{datasetSelect: HTMLSelectElement, datasets: object[], settings: () => object}} opts
 *   settings(): the augmentation the form would send ({} when none is on)
 * @returns {{el: HTMLElement, update: () => void}}
 */
export function augmentPreview({ datasetSelect, datasets, settings }) {
  const img = h("img", { testid: "augment-preview-img", class: "augment-preview", alt: "", hidden: true });
  const hint = h("p", { class: "muted", testid: "augment-preview-hint" });
  const error = errorSlot("augment-preview-error");
  let seed = 0;
  let timer = null;
  let shown = "";
  const again = h("button", { type: "button", testid: "augment-preview-again", onclick: () => { seed += 1; draw(); } },
    t("augment.previewAgain"));
  const el = h("div", { class: "stack", testid: "augment-preview" },
    h("div", { class: "spread" }, h("strong", {}, t("augment.previewTitle")), again), hint, img, error);

  function path(aug) {
    return `/datasets/${enc(datasetSelect.value)}/preview.png?augment=${enc(JSON.stringify(aug))}`
      + `&per_class=${COPIES}&seed=${seed}`;
  }
  function draw() {
    const kind = datasets.find((d) => d.name === datasetSelect.value)?.kind;
    const aug = settings();
    const on = Object.keys(aug).length > 0;
    el.hidden = kind !== "images";
    again.disabled = !on;
    error.clear();
    if (kind !== "images" || !on) {
      img.hidden = true;
      shown = "";
      hint.textContent = kind === "images" ? t("augment.previewOff") : "";
      return;
    }
    const next = path(aug);
    if (next === shown) return;
    shown = next;
    hint.textContent = t("augment.previewHint", { copies: COPIES });
    img.alt = t("augment.previewAlt", { dataset: datasetSelect.value });
    img.dataset.augment = JSON.stringify(aug);
    img.dataset.seed = String(seed);
    img.onerror = async () => {
      if (shown !== next) return;
      img.hidden = true;
      try {
        await request("GET", next);  // the server's message, in the page's language
      } catch (err) {
        error.show(err);
      }
    };
    img.onload = () => { if (shown === next) img.hidden = false; };
    img.src = withToken(`/api${next}`);
  }
  return {
    el,
    /** Draw the preview again once the settings have stopped changing for a moment. */
    update() {
      clearTimeout(timer);
      timer = setTimeout(draw, WAIT_MS);
    },
  };
}
