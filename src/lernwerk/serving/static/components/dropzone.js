// A drop zone with a file input inside: drag files onto it or pick them.

import { h, newId } from "../dom.js";
import { t } from "../i18n.js";

/**
 * @param {{accept?: string, multiple?: boolean, testid?: string, label?: string,
 *          onFiles: (files: File[]) => void}} opts
 * @returns {{el: HTMLElement, files: () => File[], reset: () => void}}
 */
export function createDropzone({ accept = "", multiple = true, testid = "dropzone", label, onFiles }) {
  let chosen = [];
  const id = newId("file");
  const input = h("input", { type: "file", id, accept, multiple, testid: `${testid}-input` });
  const list = h("p", { class: "file-list", "aria-live": "polite" });
  const zone = h("div", { class: "dropzone", testid },
    h("label", { for: id }, label || t(multiple ? "upload.dropMany" : "upload.dropOne")),
    h("br"), input, list);

  function take(files) {
    chosen = multiple ? files : files.slice(0, 1);
    list.textContent = chosen.length
      ? chosen.map((f) => f.name).slice(0, 8).join(", ") + (chosen.length > 8 ? ` … (+${chosen.length - 8})` : "")
      : "";
    onFiles?.(chosen);
  }

  input.addEventListener("change", () => take(Array.from(input.files || [])));
  zone.addEventListener("dragover", (ev) => {
    ev.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (ev) => {
    ev.preventDefault();
    zone.classList.remove("over");
    take(Array.from(ev.dataTransfer?.files || []));
  });

  return {
    el: zone,
    files: () => chosen,
    reset: () => { chosen = []; input.value = ""; list.textContent = ""; },
  };
}
