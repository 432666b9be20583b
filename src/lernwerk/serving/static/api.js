// A small wrapper around fetch for our JSON API.
// Every failure becomes an ApiError with a readable message; views show it next to
// whatever caused it. The access token (from ?token= in the page URL) travels along.

import { currentLanguage, t } from "./i18n.js";
import { localMessage } from "./server-messages.js";

const TOKEN_KEY = "lernwerk.token";

/** Keep ?token=… from the page URL in sessionStorage and take it out of the address bar. */
export function initToken() {
  const url = new URL(location.href);
  const token = url.searchParams.get("token");
  if (token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    url.searchParams.delete("token");
    history.replaceState(null, "", url.pathname + url.search + url.hash);
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

/** A URL for <img>, <a download> and EventSource, which cannot send headers. */
export function withToken(path) {
  const tok = token();
  if (!tok) return path;
  return path + (path.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(tok);
}

export const enc = encodeURIComponent;

export class ApiError extends Error {
  /**
   * @param {string} message readable, one sentence
   * @param {{status?: number, error?: string, where?: string|null, layer?: any}} info
   */
  constructor(message, info = {}) {
    super(message);
    this.name = "ApiError";
    this.status = info.status ?? 0;
    this.error = info.error ?? "";
    this.where = info.where ?? null;
    this.layer = info.layer ?? null;
  }
}

async function errorFrom(res) {
  let body = null;
  try {
    body = await res.json();
  } catch {
    /* not JSON: fall through to a message from the status */
  }
  if (body && typeof body.message === "string") {
    const error = new ApiError(localMessage(body.message, currentLanguage()), { status: res.status, ...body });
    error.original = body.message;  // the server's own words
    return error;
  }
  if (body && body.detail) {  // FastAPI's own validation errors
    const detail = Array.isArray(body.detail)
      ? body.detail.map((d) => `${(d.loc || []).join(".")}: ${d.msg}`).join("; ")
      : String(body.detail);
    return new ApiError(detail, { status: res.status });
  }
  const key = res.status === 401 ? "error.unauthorized" : res.status === 413 ? "error.tooLarge"
    : res.status >= 500 ? "error.server" : "error.status";
  return new ApiError(t(key, { status: res.status }), { status: res.status });
}

/**
 * Send a request and return the parsed JSON (null for an empty answer).
 * @param {string} method
 * @param {string} path under /api, e.g. "/datasets"
 * @param {{json?: any, form?: FormData, signal?: AbortSignal}} opts
 */
export async function request(method, path, opts = {}) {
  const headers = { Accept: "application/json" };
  const tok = token();
  if (tok) headers.Authorization = `Bearer ${tok}`;
  let body;
  if (opts.form) body = opts.form;
  else if (opts.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(opts.json);
  }
  let res;
  try {
    res = await fetch("/api" + path, { method, headers, body, signal: opts.signal });
  } catch (err) {
    if (err && err.name === "AbortError") throw err;
    throw new ApiError(t("error.network"), { status: 0 });
  }
  if (!res.ok) throw await errorFrom(res);
  if (res.status === 204) return null;
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(t("error.badAnswer"), { status: res.status });
  }
}

export const api = {
  get: (path, opts) => request("GET", path, opts),
  post: (path, json, opts = {}) => request("POST", path, { ...opts, json }),
  patch: (path, json) => request("PATCH", path, { json }),
  del: (path) => request("DELETE", path),
  upload: (path, form) => request("POST", path, { form }),
};

/** URL of a sample's PNG (with the token for <img>). */
export function sampleUrl(dataset, id, scale = 4) {
  return withToken(`/api/datasets/${enc(dataset)}/samples/${enc(id)}.png?scale=${scale}`);
}

/**
 * Follow a run's Server-Sent Events. Calls onEvent(type, data, id) for each event and
 * closes itself after a terminal event (the server ends the stream there, and
 * EventSource would otherwise reconnect).
 */
export function followRun(runId, onEvent, onTrouble) {
  const types = ["run_started", "batch_ended", "epoch_ended", "checkpoint_saved",
    "run_finished", "run_stopped", "run_failed", "run_interrupted"];
  const terminal = new Set(["run_finished", "run_stopped", "run_failed", "run_interrupted"]);
  const source = new EventSource(withToken(`/api/runs/${enc(runId)}/events?after=0`));
  let done = false;
  for (const type of types) {
    source.addEventListener(type, (ev) => {
      let data = {};
      try {
        data = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (terminal.has(type)) {
        done = true;
        source.close();
      }
      onEvent(type, data, ev.lastEventId);
    });
  }
  source.onerror = () => {
    if (done) return;
    // CLOSED means the browser gave up (e.g. 401/404); CONNECTING means it retries by itself.
    if (source.readyState === EventSource.CLOSED) onTrouble?.(true);
    else onTrouble?.(false);
  };
  source.onopen = () => onTrouble?.(null);
  return { close: () => { done = true; source.close(); } };
}
