// "Show the PyTorch code": a button that fetches a network's (or a run's) code from the
// server and shows it below, with Copy and Download model.py.

import { errorSlot, h } from "../dom.js";
import { t } from "../i18n.js";

/**
 * A code panel. `load()` resolves to `{filename, code}` (the server's answer); it is
 * called on every click, so the code follows the design as it is now.
 */
export function codeView(load, testid = "code") {
  const error = errorSlot(`${testid}-error`);
  const pre = h("pre", { class: "code", testid: `${testid}-text`, tabIndex: 0 });
  const copy = h("button", { type: "button", class: "button small", testid: `${testid}-copy` }, t("code.copy"));
  const download = h("a", { class: "button small", testid: `${testid}-download` }, t("code.download"));
  const body = h("div", { class: "code-view", hidden: true }, h("div", { class: "row" }, copy, download), pre);
  const show = h("button", {
    type: "button", class: "button", testid: `${testid}-show`, "aria-expanded": "false",
  }, t("code.show"));
  let url = null;
  show.addEventListener("click", async () => {
    if (!body.hidden) {  // a second click hides it again
      body.hidden = true;
      show.setAttribute("aria-expanded", "false");
      show.textContent = t("code.show");
      return;
    }
    error.clear();
    show.disabled = true;
    try {
      const answer = await load();
      pre.textContent = answer.code;
      if (url) URL.revokeObjectURL(url);
      url = URL.createObjectURL(new Blob([answer.code], { type: "text/x-python" }));
      download.href = url;
      download.download = answer.filename;
      body.hidden = false;
      show.setAttribute("aria-expanded", "true");
      show.textContent = t("code.hide");
    } catch (err) {
      error.show(err);
    } finally {
      show.disabled = false;
    }
  });
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(pre.textContent);
      copy.textContent = t("code.copied");
    } catch {  // no clipboard (an insecure origin): select the text for Ctrl+C instead
      const range = document.createRange();
      range.selectNodeContents(pre);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      copy.textContent = t("code.selected");
    }
  });
  return h("div", { class: "code-panel", testid }, show, body, error);
}
