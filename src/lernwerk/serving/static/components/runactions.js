// Starting a run and "train again with these settings", shared by several views.

import { api, enc } from "../api.js";
import { h } from "../dom.js";
import { t } from "../i18n.js";

/** The body of POST /api/runs that repeats a stored run. */
export function repeatBody(record) {
  const cfg = record.config || {};
  const body = { dataset: cfg.dataset ?? record.dataset, model: cfg.model ?? record.model };
  if (cfg.train) {
    // the stored config is fully resolved; leave out what means "off" or "default" there
    // (early_stopping 0, nulls), which a new request need not and may not repeat
    body.train = Object.fromEntries(Object.entries(cfg.train).filter(([key, value]) =>
      value !== null && !(key === "early_stopping" && !value)));
  }
  return body;
}

/** POST /api/runs; returns the job: {job_id, status, run_id?}. */
export async function startRun(body) {
  return api.post("/runs", body);
}

/** The address that watches a run, or its job while it has no run yet. */
export function watchHash(job) {
  return job.run_id ? `#/train?run=${enc(job.run_id)}` : `#/train?job=${enc(job.job_id)}`;
}

/**
 * One click: start a new run with the settings of `runId` and go watch it.
 * Errors land in `errorEl` (an errorSlot).
 */
export function trainAgainButton(runId, errorEl, attrs = {}) {
  const btn = h("button", {
    type: "button", testid: "train-again", ...attrs,
    onclick: async () => {
      btn.disabled = true;
      errorEl?.clear();
      try {
        const record = await api.get(`/runs/${enc(runId)}`);
        location.hash = watchHash(await startRun(repeatBody(record)));
      } catch (err) {
        errorEl?.show(err);
      } finally {
        btn.disabled = false;
      }
    },
  }, t("run.trainAgain"));
  return btn;
}
