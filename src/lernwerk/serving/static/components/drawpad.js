// The drawing canvas: a big on-screen grid that maps onto the dataset's H×W pixels,
// as in the Smiley app. White strokes (1.0) on black (0.0), like MNIST. Mouse, pen and
// touch all arrive as pointer events. What you see is exactly what is sent.
// A small image (under 28 pixels a side, such as the 8×8 digits) is drawn on a finer grid
// and each pixel is the mean of its block, the way such data was made from scans; the
// stroke shows faintly over the averaged pixels.

import { h } from "../dom.js";
import { t } from "../i18n.js";

const DISPLAY = 336;  // canvas pixels per side; CSS scales it down on small screens
const BRUSHES = { small: 0.7, medium: 1.1, large: 1.7 };  // radius in cells of a 28-grid
const SMALL_BRUSHES = { small: 0.4, medium: 0.6, large: 0.9 };  // radius in pixels of a small image
const FINE = 28;  // a small image is drawn on a grid at least this fine, then averaged
const MAX_UNDO = 50;

/**
 * @param {{height?: number, width?: number, testid?: string, onStroke?: () => void,
 *          onClear?: () => void}} opts onClear: the Clear button emptied the canvas
 * @returns {{el: HTMLElement, pixels: () => number[][], isEmpty: () => boolean, clear: () => void}}
 */
export function createDrawPad({ height = 28, width = 28, testid = "draw-canvas", onStroke, onClear } = {}) {
  const k = Math.max(1, Math.ceil(FINE / Math.min(height, width)));  // fine cells per pixel
  const fh = height * k;
  const fw = width * k;
  const cells = new Float32Array(fh * fw);  // the fine grid the strokes are drawn on
  const undo = [];
  let brush = "medium";
  let last = null;  // the previous pointer position in cell units while drawing

  const canvas = h("canvas", {
    width: DISPLAY, height: Math.round(DISPLAY * height / width), testid,
    role: "img", "aria-label": t("draw.canvasLabel", { h: height, w: width }),
  });
  const ctx = canvas.getContext("2d");

  /** The H×W image: each pixel the mean of its k×k block of fine cells. */
  function averaged() {
    if (k === 1) return cells;
    const out = new Float32Array(height * width);
    for (let y = 0; y < fh; y++) {
      for (let x = 0; x < fw; x++) out[Math.floor(y / k) * width + Math.floor(x / k)] += cells[y * fw + x];
    }
    for (let i = 0; i < out.length; i++) out[i] /= k * k;
    return out;
  }

  function paint() {
    const cw = canvas.width / width;
    const ch = canvas.height / height;
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    const image = averaged();
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const v = image[y * width + x];
        if (v <= 0) continue;
        const g = Math.round(v * 255);
        ctx.fillStyle = `rgb(${g},${g},${g})`;
        ctx.fillRect(x * cw, y * ch, Math.ceil(cw), Math.ceil(ch));
      }
    }
    if (k > 1) {  // the stroke itself, faintly, over the pixels it makes
      ctx.fillStyle = "rgba(96,165,250,0.35)";
      const fx = canvas.width / fw;
      const fy = canvas.height / fh;
      for (let y = 0; y < fh; y++) {
        for (let x = 0; x < fw; x++) {
          if (cells[y * fw + x] > 0.5) ctx.fillRect(x * fx, y * fy, Math.ceil(fx), Math.ceil(fy));
        }
      }
    }
    if (cw >= 6) {  // a faint grid, as in Smiley, while the cells are big enough to see
      ctx.strokeStyle = "rgba(255,255,255,0.08)";
      ctx.lineWidth = 1;
      ctx.beginPath();
      for (let x = 1; x < width; x++) { ctx.moveTo(x * cw + 0.5, 0); ctx.lineTo(x * cw + 0.5, canvas.height); }
      for (let y = 1; y < height; y++) { ctx.moveTo(0, y * ch + 0.5); ctx.lineTo(canvas.width, y * ch + 0.5); }
      ctx.stroke();
    }
  }

  // An anti-aliased disc of radius r (fine cells) at (cx, cy); a cell keeps its brightest
  // value. The brush is sized to the image: on a small one a stroke is about a pixel wide.
  function dab(cx, cy) {
    const r = k > 1 ? SMALL_BRUSHES[brush] * k : BRUSHES[brush] * Math.max(height, width) / 28;
    const x0 = Math.max(0, Math.floor(cx - r - 1));
    const x1 = Math.min(fw - 1, Math.ceil(cx + r + 1));
    const y0 = Math.max(0, Math.floor(cy - r - 1));
    const y1 = Math.min(fh - 1, Math.ceil(cy + r + 1));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
        const v = Math.min(1, Math.max(0, r + 0.5 - d));
        const i = y * fw + x;
        if (v > cells[i]) cells[i] = v;
      }
    }
  }

  function toCells(ev) {
    const rect = canvas.getBoundingClientRect();
    return {
      x: ((ev.clientX - rect.left) / rect.width) * fw,
      y: ((ev.clientY - rect.top) / rect.height) * fh,
    };
  }

  function strokeTo(p) {
    if (last) {  // fill the gap between two pointer events with dabs a quarter cell apart
      const steps = Math.max(1, Math.ceil(Math.hypot(p.x - last.x, p.y - last.y) * 4));
      for (let s = 1; s <= steps; s++) {
        dab(last.x + (p.x - last.x) * s / steps, last.y + (p.y - last.y) * s / steps);
      }
    } else dab(p.x, p.y);
    last = p;
    paint();
  }

  function snapshot() {
    undo.push(cells.slice());
    if (undo.length > MAX_UNDO) undo.shift();
    undoBtn.disabled = false;
  }

  canvas.addEventListener("pointerdown", (ev) => {
    if (ev.button !== 0 && ev.pointerType === "mouse") return;
    ev.preventDefault();
    canvas.setPointerCapture?.(ev.pointerId);
    snapshot();
    last = null;
    strokeTo(toCells(ev));
  });
  canvas.addEventListener("pointermove", (ev) => {
    if (!last) return;
    ev.preventDefault();
    const events = ev.getCoalescedEvents ? ev.getCoalescedEvents() : [ev];
    for (const e of events.length ? events : [ev]) strokeTo(toCells(e));
  });
  const end = () => {
    if (!last) return;
    last = null;
    onStroke?.();
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  canvas.addEventListener("lostpointercapture", end);

  const brushSelect = h("select", { testid: "brush-size", onchange: () => { brush = brushSelect.value; } },
    ...Object.keys(BRUSHES).map((key) => h("option", { value: key }, t(`draw.brush.${key}`))));
  brushSelect.value = brush;
  brushSelect.id = `brush-${Math.random().toString(36).slice(2, 8)}`;

  const undoBtn = h("button", {
    type: "button", testid: "draw-undo", disabled: true,
    onclick: () => {
      const prev = undo.pop();
      if (prev) cells.set(prev);
      undoBtn.disabled = undo.length === 0;
      paint();
    },
  }, t("draw.undo"));

  function clear() {
    if (cells.some((v) => v > 0)) snapshot();
    cells.fill(0);
    paint();
    onClear?.();
  }

  const clearBtn = h("button", { type: "button", testid: "draw-clear", onclick: clear }, t("draw.clear"));

  const el = h("div", { class: "drawpad" },
    canvas,
    k > 1 ? h("small", { class: "hint", testid: "draw-fine" }, t("draw.smallIntro", { h: height, w: width })) : null,
    h("div", { class: "row" },
      h("label", { for: brushSelect.id }, t("draw.brush")), brushSelect, undoBtn, clearBtn));
  paint();

  return {
    el,
    canvas,
    /** H×W floats in [0, 1], rounded to 3 digits to keep the request small. */
    pixels: () => {
      const image = averaged();
      return Array.from({ length: height }, (_, y) =>
        Array.from(image.subarray(y * width, (y + 1) * width), (v) => Math.round(v * 1000) / 1000));
    },
    isEmpty: () => !cells.some((v) => v > 0),
    clear: () => { cells.fill(0); undo.length = 0; undoBtn.disabled = true; paint(); },
  };
}
