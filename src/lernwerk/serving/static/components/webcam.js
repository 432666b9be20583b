// Webcam capture: a live preview, a shot cropped to the centre square and scaled to
// the dataset's size, grey when the dataset has one channel. The shot is a PNG data URL.

import { errorSlot, h } from "../dom.js";
import { t } from "../i18n.js";

function cameraMessage(err) {
  if (!window.isSecureContext) return t("camera.insecure");
  switch (err?.name) {
    case "NotAllowedError":
    case "SecurityError":
      return t("camera.denied");
    case "NotFoundError":
    case "OverconstrainedError":
      return t("camera.none");
    case "NotReadableError":
      return t("camera.busy");
    default:
      return t("camera.failed", { reason: err?.message || String(err) });
  }
}

/** Draw the centre square of `source` (w×h) into a size×size canvas, grey if channels is 1. */
function squareShot(source, sw, sh, size, channels) {
  const side = Math.min(sw, sh);
  // Scale down in two steps so a 720p frame does not alias into a few bright dots.
  const mid = document.createElement("canvas");
  mid.width = mid.height = Math.min(side, size * 4);
  const mctx = mid.getContext("2d");
  mctx.imageSmoothingQuality = "high";
  mctx.drawImage(source, (sw - side) / 2, (sh - side) / 2, side, side, 0, 0, mid.width, mid.height);
  const out = document.createElement("canvas");
  out.width = out.height = size;
  const ctx = out.getContext("2d");
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(mid, 0, 0, size, size);
  if (channels === 1) {
    const img = ctx.getImageData(0, 0, size, size);
    const d = img.data;
    for (let i = 0; i < d.length; i += 4) {
      const g = Math.round(0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2]);
      d[i] = d[i + 1] = d[i + 2] = g;
    }
    ctx.putImageData(img, 0, 0);
  }
  return out;
}

/**
 * @param {{size: number, channels: number, onShot?: (dataUrl: string) => void}} opts
 * @returns {{el: HTMLElement, shot: () => string|null, stop: () => void}}
 */
export function createWebcam({ size = 28, channels = 1, onShot } = {}) {
  let stream = null;
  let lastShot = null;
  const video = h("video", { autoplay: true, playsInline: true, muted: true, testid: "webcam-video", hidden: true });
  const preview = h("canvas", { class: "small", width: size, height: size, testid: "webcam-shot", hidden: true,
    role: "img", "aria-label": t("camera.shotLabel") });
  const error = errorSlot("webcam-error");

  const startBtn = h("button", { type: "button", testid: "webcam-start", onclick: start }, t("camera.start"));
  const shootBtn = h("button", { type: "button", class: "primary", testid: "webcam-shoot", disabled: true, onclick: shoot },
    t("camera.shoot"));
  const stopBtn = h("button", { type: "button", testid: "webcam-stop", disabled: true, onclick: stop }, t("camera.stop"));

  async function start() {
    error.clear();
    if (!navigator.mediaDevices?.getUserMedia) {
      error.show(window.isSecureContext ? t("camera.unsupported") : t("camera.insecure"));
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "user" }, audio: false });
      video.srcObject = stream;
      video.hidden = false;
      await video.play().catch(() => {});
      shootBtn.disabled = false;
      stopBtn.disabled = false;
      startBtn.disabled = true;
    } catch (err) {
      error.show(cameraMessage(err));
    }
  }

  function shoot() {
    if (!stream || !video.videoWidth) {
      error.show(t("camera.notReady"));
      return;
    }
    const canvas = squareShot(video, video.videoWidth, video.videoHeight, size, channels);
    preview.getContext("2d").drawImage(canvas, 0, 0);
    preview.hidden = false;
    lastShot = canvas.toDataURL("image/png");
    onShot?.(lastShot);
  }

  function stop() {
    for (const track of stream?.getTracks() || []) track.stop();
    stream = null;
    video.srcObject = null;
    video.hidden = true;
    shootBtn.disabled = true;
    stopBtn.disabled = true;
    startBtn.disabled = false;
  }

  const el = h("div", { class: "webcam stack" },
    h("div", { class: "row" }, startBtn, shootBtn, stopBtn),
    error,
    h("div", { class: "row" }, video, preview));
  return { el, shot: () => lastShot, stop };
}

/** Read an image file into a data URL scaled to the dataset's size (centre square). */
export async function fileToDataUrl(file, size, channels) {
  const bitmap = await createImageBitmap(file);
  const canvas = squareShot(bitmap, bitmap.width, bitmap.height, size, channels);
  bitmap.close?.();
  return canvas.toDataURL("image/png");
}
