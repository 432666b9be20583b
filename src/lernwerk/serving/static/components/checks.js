// The data checks of a dataset: a panel listing each finding with its severity, the
// numbers, why it matters and what to do. The server sends a code and numbers per finding;
// the text comes from the i18n table (check.<code>.*), the server's English where missing.

import { api, enc } from "../api.js";
import { h } from "../dom.js";
import { int } from "../fmt.js";
import { t } from "../i18n.js";

/** A finding's text in the page's language: `check.<code>.<part>` filled with its numbers. */
function text(finding, part) {
  const key = `check.${finding.code}.${part}`;
  const vars = { ...finding.numbers };
  if (vars.what) vars.what = t(`checks.what.${vars.what}`);
  const out = t(key, vars);
  return out === key ? finding[part] : out;
}

function findingItem(f) {
  return h("li", { class: `finding finding-${f.severity}`, testid: `check-${f.code}`, dataset: { severity: f.severity } },
    h("span", { class: `severity severity-${f.severity}` }, t(`checks.severity.${f.severity}`)),
    " ", h("span", { class: "finding-message" }, text(f, "message")),
    h("div", { class: "finding-why muted" }, `${t("checks.why")} ${text(f, "why")}`),
    h("div", { class: "finding-action" }, `${t("checks.action")} ${text(f, "action")}`));
}

/** The panel: `update(name, {val_split, test_split, task})` fetches and renders the checks;
 * the last call wins when several overlap. */
export function checksPanel(testid = "checks-panel") {
  const body = h("div", { testid: `${testid}-body` }, h("p", { class: "loading" }, t("common.loading")));
  const el = h("section", { class: "panel checks", testid },
    h("h2", {}, t("checks.title")), h("p", { class: "muted" }, t("checks.intro")), body);
  let seq = 0;
  async function update(name, opts = {}) {
    const mine = ++seq;
    if (!name) {
      el.hidden = true;
      return;
    }
    el.hidden = false;
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(opts)) if (v !== undefined && v !== null && v !== "") params.set(k, v);
    let report;
    try {
      report = await api.get(`/datasets/${enc(name)}/checks${params.size ? `?${params}` : ""}`);
    } catch (err) {
      if (mine !== seq) return;
      body.replaceChildren(h("p", { class: "muted", testid: `${testid}-failed` }, t("checks.failed", { message: err.message || "" })));
      return;
    }
    if (mine !== seq) return;
    const c = report.counts;
    const parts = [h("p", { testid: `${testid}-summary` },
      ["blocker", "warning", "hint"].map((s) => t(`checks.count.${s}`, { n: c[s] })).join(" · "))];
    if (report.sampled) {
      parts.push(h("p", { class: "muted" }, t("checks.sampled", { checked: int(report.samples_checked), n: int(report.num_samples) })));
    }
    if (c.blocker) parts.push(h("p", { class: "error", testid: `${testid}-blocked` }, t("checks.blocked")));
    parts.push(report.findings.length
      ? h("ul", { class: "findings" }, report.findings.map(findingItem))
      : h("p", { class: "empty", testid: `${testid}-none` }, t("checks.none")));
    body.replaceChildren(...parts);
  }
  return { el, update };
}

/** The findings stored with a run (warnings and hints when it started), for its page. */
export function runChecksPanel(findings) {
  return h("section", { class: "panel checks", testid: "run-checks" },
    h("h2", {}, t("checks.runTitle")), h("p", { class: "muted" }, t("checks.runIntro")),
    h("ul", { class: "findings" }, findings.map(findingItem)));
}
