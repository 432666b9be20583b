// Inspect a batch: drop a zip or images, the run predicts every one in the background;
// the items flagged for review come first, each to confirm or correct. A correction adds
// the image to the run's dataset under the right class, ready for the next training.

import { api, enc, withToken } from "../api.js";
import { add, errorSlot, h } from "../dom.js";
import { num } from "../fmt.js";
import { t } from "../i18n.js";
import { createDropzone } from "../components/dropzone.js";

const POLL_MS = 400;

export async function render(root, { id }) {
  let stopped = false;
  let timer = 0;
  const run = await api.get(`/runs/${enc(id)}`);
  const classes = run.input?.classes || [];  // what the trained model predicts
  const error = errorSlot("inspect-error");
  const status = h("p", { class: "muted", role: "status", testid: "inspect-status" });
  const results = h("div", { testid: "inspect-results" });
  const zone = createDropzone({ accept: ".zip,image/*,.csv,.ts", testid: "inspect-drop",
    label: t("inspect.drop"), onFiles: () => { start.disabled = !zone.files().length; } });
  const start = h("button", { type: "button", class: "primary", disabled: true, testid: "inspect-start",
    onclick: () => send() }, t("inspect.start"));

  add(root, h("section", { class: "panel" },
    h("h1", {}, t("inspect.title")),
    h("p", { class: "muted" }, h("a", { href: `#/runs/${enc(id)}`, testid: "inspect-back" }, run.name || id),
      " · ", t("inspect.intro")),
    zone.el, h("p", {}, start), status, error),
  h("section", { class: "panel" }, results));

  async function send() {
    error.clear();
    results.replaceChildren();
    const form = new FormData();
    for (const file of zone.files()) form.append("files", file, file.name);
    start.disabled = true;
    try {
      const job = await api.upload(`/runs/${enc(id)}/inspect`, form);
      follow(job.inspection_id);
    } catch (err) {
      start.disabled = false;
      error.show(err);
    }
  }

  function follow(jobId) {
    clearTimeout(timer);
    const tick = async () => {
      if (stopped) return;
      let job;
      try {
        job = await api.get(`/inspections/${enc(jobId)}`);
      } catch (err) {
        error.show(err);
        start.disabled = false;
        return;
      }
      if (job.status === "finished") {
        start.disabled = false;
        status.textContent = summaryLine(job.result);
        show(job);
        return;
      }
      if (job.status === "failed") {
        start.disabled = false;
        status.textContent = "";
        error.show(new Error(job.error?.message || t("error.unknown")));
        return;
      }
      status.textContent = t("inspect.progress", { done: job.done, total: job.total ?? "?" });
      timer = setTimeout(tick, POLL_MS);
    };
    tick();
  }

  function summaryLine(r) {
    const counts = Object.entries(r.per_class).map(([c, n]) => `${c} ${n}`).join(", ");
    return t("inspect.summary", { total: r.total, flagged: r.flagged, unreadable: r.unreadable, counts });
  }

  function show(job) {
    const rows = job.result.rows;
    const flagged = rows.filter((r) => r.review && r.predicted !== null);
    const unreadable = rows.filter((r) => r.predicted === null);
    const rest = rows.filter((r) => !r.review && r.predicted !== null);
    flagged.sort((a, b) => (a.confidence ?? -a.score) - (b.confidence ?? -b.score));
    results.replaceChildren(
      h("p", {}, t("inspect.rule"), " ", h("span", { testid: "inspect-rule" }, job.result.rule), " · ",
        h("a", { href: withToken(job.report_html), target: "_blank", rel: "noopener", testid: "inspect-report" }, t("inspect.report")),
        " · ", h("a", { href: withToken(job.report_csv), download: "report.csv", testid: "inspect-csv" }, "CSV")),
      h("h2", {}, t("inspect.flagged", { n: flagged.length })),
      flagged.length ? h("div", { class: "inspect-grid", testid: "inspect-flagged" },
        flagged.map((r) => card(job, r, true))) : h("p", { class: "empty" }, t("inspect.noneFlagged")),
      unreadable.length ? h("div", {}, h("h2", {}, t("inspect.unreadable", { n: unreadable.length })),
        h("ul", { testid: "inspect-unreadable" }, unreadable.map((r) => h("li", {}, `${r.item}: ${r.why}`)))) : "",
      h("h2", {}, t("inspect.rest", { n: rest.length })),
      h("div", { class: "inspect-grid", testid: "inspect-rest" }, rest.slice(0, 200).map((r) => card(job, r, false))));
  }

  function card(job, r, isFlagged) {
    const note = h("p", { class: "muted", role: "status", testid: "inspect-item-note" });
    const slot = errorSlot("inspect-item-error");
    const figure = r.confidence !== undefined ? `${num(r.confidence * 100, 3)} %` : `${t("try.score")} ${num(r.score, 4)}`;
    const choose = h("select", { testid: "inspect-class", "aria-label": t("inspect.rightClass") },
      classes.map((c) => h("option", { value: c, selected: c === r.predicted }, c)));
    const confirm = h("button", { type: "button", testid: "inspect-confirm", onclick: () => {
      box.dataset.state = "confirmed";
      note.textContent = t("inspect.confirmed");
    } }, t("inspect.confirm"));
    const correct = h("button", { type: "button", testid: "inspect-correct", onclick: async () => {
      slot.clear();
      correct.disabled = true;
      try {
        await api.post(`/inspections/${enc(job.inspection_id)}/items/${r.index}/label`, { name: choose.value });
        box.dataset.state = "corrected";
        note.textContent = t("inspect.added", { cls: choose.value, dataset: job.dataset });
      } catch (err) {
        correct.disabled = false;
        slot.show(err);
      }
    } }, t("inspect.correct"));
    const box = h("div", { class: `inspect-card${isFlagged ? " flagged" : ""}`, testid: "inspect-item",
      dataset: { item: r.item, index: String(r.index) } },
      r.thumbnail ? h("img", { src: r.thumbnail, alt: r.item, width: 64, height: 64 }) : null,
      h("div", { class: "name" }, r.item),
      h("div", {}, h("b", { testid: "inspect-predicted" }, r.predicted), " ", figure),
      isFlagged ? h("div", { class: "why" }, r.why) : null,
      classes.length && r.thumbnail ? h("div", { class: "row" }, confirm, choose, correct) : null,
      note, slot);
    return box;
  }

  return () => { stopped = true; clearTimeout(timer); };
}
