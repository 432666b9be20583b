// An image dataset: classes (add, rename, delete), adding samples by drawing, webcam
// or upload, and a gallery per class with delete.

import { api, enc } from "../api.js";
import { add, errorSlot, h, noteSlot, tabs } from "../dom.js";
import { int } from "../fmt.js";
import { t } from "../i18n.js";
import { createDrawPad } from "../components/drawpad.js";
import { createWebcam } from "../components/webcam.js";
import { createDropzone } from "../components/dropzone.js";
import { createClassList } from "./dataset-classes.js";
import { createGallery } from "./dataset-gallery.js";

/** H×W gray pixels, or H×W×3 when the dataset has three channels. */
export function pixelsFor(gray, channels) {
  return channels === 3 ? gray.map((row) => row.map((v) => [v, v, v])) : gray;
}

export function render(root, initial, { onChange }) {
  let info = initial;
  const [channels, height, width] = info.input_shape?.length === 3 ? info.input_shape : [1, 28, 28];
  const base = `/datasets/${enc(info.name)}`;
  const classButtonRows = [];  // rows of "add to <class>" buttons, rebuilt when classes change
  let webcam = null;

  async function reload(changedClass) {
    try {
      info = await api.get(base);
    } catch (err) {
      classes.error.show(err);
      return;
    }
    onChange(info);
    classes.update(info);
    for (const row of classButtonRows) row.rebuild(info.classes);
    gallery.update(info, changedClass);
  }

  /** A row of buttons, one per class; onPick(cls, button) does the adding. */
  function classButtons(testid, labelKey, onPick) {
    const el = h("div", { class: "class-buttons", role: "group", "aria-label": t("dataset.addTo") });
    const row = {
      el,
      rebuild(list) {
        el.replaceChildren(...list.map((cls) => {
          const btn = h("button", {
            type: "button", class: "primary", testid, dataset: { class: cls },
            onclick: async () => {
              btn.disabled = true;
              try { await onPick(cls); } finally { btn.disabled = false; }
            },
          }, t(labelKey, { cls }));
          return btn;
        }));
        if (!list.length) el.append(h("p", { class: "empty" }, t("dataset.noClasses")));
      },
    };
    row.rebuild(info.classes);
    classButtonRows.push(row);
    return row;
  }

  async function post(body, note, error, cls) {
    error.clear();
    try {
      const res = await api.post(`${base}/samples`, body);
      const n = res?.ids?.length ?? 1;
      await reload(cls);
      note.show(t("dataset.added", { n, cls, total: int(info.class_counts?.[cls] ?? 0) }));
      return true;
    } catch (err) {
      error.show(err);
      return false;
    }
  }

  function drawTab(panel) {
    const note = noteSlot("draw-note");
    const error = errorSlot("draw-error");
    const pad = createDrawPad({ height, width });
    const buttons = classButtons("draw-add", "dataset.addDrawing", async (cls) => {
      if (pad.isEmpty()) { error.show(t("dataset.drawFirst")); return; }
      if (await post({ label: cls, pixels: pixelsFor(pad.pixels(), channels) }, note, error, cls)) pad.clear();
    });
    panel.append(h("p", { class: "muted" }, t("dataset.drawIntro", { h: height, w: width })),
      pad.el, h("h3", {}, t("dataset.addTo")), buttons.el, error, note);
  }

  function webcamTab(panel) {
    const note = noteSlot("webcam-note");
    const error = errorSlot("webcam-add-error");
    webcam = createWebcam({ size: height, channels });
    const buttons = classButtons("webcam-add", "dataset.addShot", async (cls) => {
      const shot = webcam.shot();
      if (!shot) { error.show(t("camera.shootFirst")); return; }
      await post({ label: cls, image: shot }, note, error, cls);
    });
    panel.append(h("p", { class: "muted" }, t("dataset.webcamIntro", { size: height })),
      webcam.el, h("h3", {}, t("dataset.addTo")), buttons.el, error, note);
  }

  function uploadTab(panel) {
    const note = noteSlot("upload-note");
    const error = errorSlot("upload-error");
    const select = h("select", { testid: "upload-class", id: "upload-class" });
    const fillSelect = (list) => {
      const keep = select.value;
      select.replaceChildren(...list.map((c) => h("option", { value: c }, c)));
      if (list.includes(keep)) select.value = keep;
    };
    fillSelect(info.classes);
    classButtonRows.push({ rebuild: fillSelect });
    const drop = createDropzone({ accept: "image/*,.zip", multiple: true, testid: "upload-drop" });
    const send = h("button", {
      type: "button", class: "primary", testid: "upload-add",
      onclick: async () => {
        error.clear();
        const files = drop.files();
        if (!files.length) { error.show(t("home.new.noFile")); return; }
        const data = new FormData();
        data.append("label", select.value);
        for (const f of files) data.append("files", f, f.name);
        send.disabled = true;
        send.textContent = t("dataset.uploading");
        try {
          const res = await api.upload(`${base}/samples`, data);
          drop.reset();
          await reload(select.value);
          const skipped = (res?.skipped ?? []).map((s) => `${s.path} (${t(`dataset.skip.${s.code}`)})`);
          note.show(t("dataset.added", { n: res?.ids?.length ?? files.length, cls: select.value,
            total: int(info.class_counts?.[select.value] ?? 0) })
            + (skipped.length ? " " + t("dataset.skipped", { n: skipped.length, list: skipped.join("; ") }) : ""));
        } catch (err) {
          error.show(err);
        } finally {
          send.disabled = false;
          send.textContent = t("dataset.upload");
        }
      },
    }, t("dataset.upload"));
    panel.append(h("p", { class: "muted" }, t("dataset.uploadIntro", { size: height })),
      h("div", { class: "field" }, h("label", { for: select.id }, t("dataset.uploadClass")), select),
      drop.el, h("div", { class: "row", style: { marginTop: "10px" } }, send), error, note);
  }

  const classes = createClassList(info, base, reload);
  const gallery = createGallery(info, base, reload);
  const adder = tabs([
    // drawing white on black suits grayscale images only, not colour photos
    channels === 3 ? null : { id: "draw", label: t("dataset.tab.draw"), render: drawTab },
    { id: "webcam", label: t("dataset.tab.webcam"), render: webcamTab, onHide: () => webcam?.stop() },
    { id: "upload", label: t("dataset.tab.upload"), render: uploadTab },
  ].filter(Boolean), "add-tab");

  add(root, 
    h("div", { class: "grid2" },
      h("section", { class: "panel", testid: "add-samples" }, h("h2", {}, t("dataset.addSamples")), adder.el),
      classes.el),
    gallery.el);

  return () => { webcam?.stop(); gallery.flush(); };
}
