// Numbers, shapes and durations the way the chosen language writes them.

import { currentLanguage, t } from "./i18n.js";
import { h } from "./dom.js";

const locale = () => (currentLanguage() === "de" ? "de-DE" : "en-US");

/**
 * The one way the page writes a number: the language's decimal mark and grouping, with
 * groups from four digits on everywhere (compact notation alone would leave "1152" beside
 * "20.736"). opts: Intl.NumberFormat options (digits, notation).
 */
export function formatNumber(value, opts = {}) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  if (typeof value !== "number") return String(value);
  return value.toLocaleString(locale(), { useGrouping: "always", ...opts });
}

export function num(value, digits = 4) {
  return formatNumber(value, { maximumFractionDigits: digits });
}

export function int(value) {
  if (value === null || value === undefined) return "–";
  return formatNumber(Math.round(value));
}

export function pct(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return formatNumber(value * 100, { minimumFractionDigits: digits, maximumFractionDigits: digits }) + "\u00a0%";
}

/** 1234567 -> "1.2 M" (FLOPs and parameter counts). */
export function compact(value) {
  return formatNumber(value, { notation: "compact", maximumFractionDigits: 1 });
}

export function shape(dims) {
  return Array.isArray(dims) ? dims.join("×") : String(dims ?? "–");
}

/** Seconds -> "0:42", "12:05", "1:02:03". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  const s = Math.max(0, Math.round(seconds));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return hh ? `${hh}:${String(mm).padStart(2, "0")}:${ss}` : `${mm}:${ss}`;
}

export function dateTime(text) {
  if (!text) return "–";
  const d = new Date(text.includes("T") || text.includes("Z") ? text : text.replace(" ", "T"));
  if (Number.isNaN(d.getTime())) return text;
  return d.toLocaleString(locale(), { dateStyle: "short", timeStyle: "short" });
}

const KNOWN_STATUSES = ["queued", "created", "running", "finished", "stopped", "failed",
  "interrupted"];

/** A coloured status pill; data-status carries the raw status for tests. */
export function statusBadge(status, testid) {
  const known = KNOWN_STATUSES.includes(status);
  return h("span", {
    class: `status status-${known ? status : "other"}`, testid, dataset: { status },
  }, known ? t(`status.${status}`) : String(status));
}

/** The name a metric key gets in a table ("val_accuracy" -> "Validation accuracy"). */
export function metricLabel(key) {
  const label = t(`metric.${key}`);
  return label === `metric.${key}` ? key : label;
}
