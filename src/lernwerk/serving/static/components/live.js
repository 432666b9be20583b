// A run as it trains: status, progress bar with ETA, live curves, Stop.
// Follows a queued job until it becomes a run, then the run's Server-Sent Events.

import { api, enc, followRun } from "../api.js";
import { errorSlot, h, mount } from "../dom.js";
import { duration, int, pct, statusBadge } from "../fmt.js";
import { t } from "../i18n.js";
import { createCurves } from "./curves.js";
import { trainAgainButton } from "./runactions.js";

const TERMINAL = { run_finished: "finished", run_stopped: "stopped", run_failed: "failed", run_interrupted: "interrupted" };
const ENDED = ["finished", "stopped", "failed", "interrupted"];

/**
 * @param {{runId?: string, jobId?: string, onRunId?: (id: string) => void,
 *          onEnd?: (status: string, runId: string) => void}} opts
 * @returns {{el: HTMLElement, destroy: () => void}}
 */
export function createLivePanel({ runId = null, jobId = null, onRunId, onEnd }) {
  let stream = null;
  let pollTimer = 0;
  let destroyed = false;
  let totals = { epochs: null, start: 0 };

  const status = h("span", { testid: "live-status" });
  const runLabel = h("span", { class: "muted", testid: "live-run-id" });
  const bar = h("progress", { max: 1, value: 0, testid: "train-progress" });
  const progressText = h("span", { class: "muted", testid: "progress-text" }, "");
  const info = h("p", { class: "muted", testid: "live-info" });
  const error = errorSlot("live-error");
  const curves = createCurves({});
  const stopBtn = h("button", { type: "button", class: "danger", testid: "train-stop", disabled: true, onclick: stop },
    t("live.stop"));
  const actions = h("div", { class: "live-actions" }, stopBtn);

  const el = h("section", { class: "panel", testid: "live-panel", "aria-live": "polite" },
    h("div", { class: "spread" }, h("h2", {}, t("live.title")), h("div", { class: "row" }, runLabel, status)),
    h("div", { class: "progress" }, bar, progressText),
    info, error, curves.el, actions);

  function setStatus(value) {
    status.replaceChildren(statusBadge(value, "run-status"));
    el.dataset.status = value;
  }

  async function stop() {
    const ref = runId || jobId;  // the server stops a run, or drops a queued job, by either id
    if (!ref) return;
    stopBtn.disabled = true;
    stopBtn.textContent = t("live.stopping");
    try {
      await api.post(`/runs/${enc(ref)}/stop`);
    } catch (err) {
      error.show(err);
      stopBtn.disabled = false;
      stopBtn.textContent = t("live.stop");
    }
  }

  let last = { done: 0, elapsed: null };
  function progress(epochsDone, elapsed) {
    last = { done: epochsDone, elapsed };
    if (!totals.epochs) return;
    const span = Math.max(1, totals.epochs - totals.start);
    const fraction = Math.min(1, Math.max(0, (epochsDone - totals.start) / span));
    bar.value = fraction;
    const eta = fraction > 0 && elapsed ? (elapsed * (1 - fraction)) / fraction : null;
    progressText.textContent = t("live.progress", {
      epoch: Math.min(totals.epochs, Math.floor(epochsDone) + (fraction < 1 ? 1 : 0)),
      epochs: totals.epochs,
      pct: pct(fraction, 0),
      elapsed: duration(elapsed),
      eta: eta === null ? "–" : duration(eta),
    });
  }

  function ended(value, data = {}) {
    setStatus(value);
    stopBtn.hidden = true;
    if (value === "finished") bar.value = 1;
    if (totals.epochs) {
      progressText.textContent = t("live.progressEnded", {
        epoch: Math.floor(data.epochs_done ?? last.done), epochs: totals.epochs, elapsed: duration(data.elapsed_s ?? last.elapsed),
      });
    }
    if (value === "failed") error.show(data.error || t("live.failed"));
    if (value === "stopped") info.textContent = t("live.stoppedInfo", { epochs: data.epochs_done ?? "?" });
    if (value === "finished") info.textContent = t("live.finishedInfo", { epochs: data.epochs_done ?? totals.epochs ?? "?" });
    if (value === "interrupted") info.textContent = t("live.interruptedInfo");
    const again = errorSlot("again-error");
    mount(actions, 
      h("a", { class: "button primary", href: `#/runs/${enc(runId)}`, testid: "live-results" }, t("live.results")),
      value !== "failed" ? h("a", { class: "button", href: `#/runs/${enc(runId)}/try`, testid: "live-try" }, t("live.try")) : null,
      trainAgainButton(runId, again),
      again);
    onEnd?.(value, runId);
  }

  function onEvent(type, data) {
    if (destroyed) return;
    if (type === "run_started") {
      totals = { epochs: data.epochs, start: data.start_epoch || 0 };
      setStatus("running");
      stopBtn.disabled = false;
      info.textContent = t("live.startedInfo", { device: data.device ?? "?", params: int(data.num_parameters ?? 0) });
    } else if (type === "batch_ended") {
      curves.addBatch(data);
      progress(data.epoch - 1 + data.step / data.steps_per_epoch, data.elapsed_s);
    } else if (type === "epoch_ended") {
      if (data.epochs) totals.epochs = data.epochs;
      curves.addEpoch(data.epoch, data.metrics || {});
      progress(data.epoch, data.elapsed_s);
    } else if (TERMINAL[type]) {
      ended(TERMINAL[type], data);
    }
  }

  async function watchRun(id) {
    runId = id;
    runLabel.textContent = id;
    onRunId?.(id);
    let record;
    try {
      record = await api.get(`/runs/${enc(id)}`);
    } catch (err) {
      error.show(err);
      return;
    }
    if (destroyed) return;
    totals.epochs = record.config?.train?.epochs ?? null;
    setStatus(record.status);
    if (ENDED.includes(record.status)) {
      curves.setHistory(record.history || []);
      if (record.status === "failed" && record.error) error.show(record.error);
      progress(record.epoch ?? 0, record.seconds);
      ended(record.status, { epochs_done: record.epoch, error: record.error });
      return;
    }
    stopBtn.disabled = false;
    stream = followRun(id, onEvent, (trouble) => {
      if (trouble === null) error.clear();
      else if (trouble) error.show(t("live.streamClosed"));
      else error.show(t("live.reconnecting"));
    });
  }

  async function watchJob(id) {
    runLabel.textContent = t("live.job", { id });
    try {
      const job = await api.get(`/jobs/${enc(id)}`);
      if (destroyed) return;
      if (job.run_id) {
        watchRun(job.run_id);
        return;
      }
      if (job.status !== "queued" && job.status !== "running") {  // it ended before a run began
        setStatus(job.status);
        stopBtn.hidden = true;
        info.textContent = "";
        if (job.error) error.show(job.error.message || String(job.error));
        return;
      }
      setStatus("queued");
      stopBtn.disabled = false;  // a queued job can be dropped
      info.textContent = job.queue_position ? t("live.queuedPosition", { n: job.queue_position }) : t("live.queuedInfo");
    } catch (err) {
      error.show(err);
      if (err.status && err.status < 500) return;
    }
    pollTimer = setTimeout(() => watchJob(id), 1000);
  }

  if (runId) watchRun(runId);
  else if (jobId) watchJob(jobId);

  return {
    el,
    destroy() {
      destroyed = true;
      clearTimeout(pollTimer);
      stream?.close();
      curves.destroy();
    },
  };
}
