// The results page's ONNX export: one button exports the run, checks the file against
// PyTorch on the test split and shows the figures with the files to download.

import { api, enc, withToken } from "../api.js";
import { codeView } from "../components/codeview.js";
import { errorSlot, h } from "../dom.js";
import { int, num, pct } from "../fmt.js";
import { t } from "../i18n.js";

const SUPERSCRIPT = { "-": "\u207b", 0: "\u2070", 1: "\u00b9", 2: "\u00b2", 3: "\u00b3", 4: "\u2074",
  5: "\u2075", 6: "\u2076", 7: "\u2077", 8: "\u2078", 9: "\u2079" };

/** A small difference as "6.0 · 10⁻⁸", with the language's decimal mark. */
function sci(value) {
  if (value === null || value === undefined) return "–";
  if (value === 0) return "0";
  const [mantissa, exponent] = value.toExponential(1).split("e");
  const power = String(Number(exponent)).split("").map((c) => SUPERSCRIPT[c]).join("");
  return `${num(Number(mantissa), 1)}\u00a0·\u00a010${power}`;
}

function parityLine(parity) {
  const figures = {
    n: int(parity.samples),
    diff: sci(parity.max_abs_diff),
    tol: sci(parity.tolerance),
  };
  const lines = [t("export.checked", figures)];
  if (parity.agreement !== null && parity.agreement !== undefined) {
    const key = parity.compared === "probabilities" ? "export.sameClass" : "export.sameFlag";
    lines.push(t(key, { share: pct(parity.agreement) }));
  }
  lines.push(t("export.largestDiff", figures));
  return lines.join(" · ");
}

/** The export panel for a finished run's record. */
export function exportPanel(record) {
  const id = record.id;
  const error = errorSlot("export-error");
  const result = h("div", { testid: "export-result" });
  const button = h("button", { class: "button", type: "button", testid: "run-export-onnx" }, t("export.button"));
  button.addEventListener("click", async () => {
    error.clear();
    result.replaceChildren(h("p", { class: "loading", testid: "export-busy" }, t("export.busy")));
    button.disabled = true;
    try {
      const answer = await api.post(`/runs/${enc(id)}/export`, {});
      result.replaceChildren(
        h("p", { testid: "export-parity", dataset: { passed: String(answer.parity.passed) } }, parityLine(answer.parity)),
        h("div", { class: "row" }, answer.files.map((f) =>
          h("a", { class: "button small", href: withToken(f.url), download: f.name, testid: `export-file-${f.name}` },
            t("export.download", { name: f.name })))));
    } catch (err) {
      result.replaceChildren();
      error.show(err);
    } finally {
      button.disabled = false;
    }
  });
  return h("section", { class: "panel", testid: "export-panel" },
    h("h2", {}, t("export.title")),
    h("p", { class: "muted" }, t("export.intro")),
    h("div", { class: "row" }, button),
    result,
    error,
    h("h3", {}, t("code.title")),
    h("p", { class: "muted" }, t("code.intro")),
    codeView(() => api.get(`/runs/${enc(id)}/code`), "run-code"));
}
