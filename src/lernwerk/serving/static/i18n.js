// Every visible string of the page, in English and German.
// t("key", {name}) looks the key up in the chosen language, falls back to English,
// and fills {placeholders}. Elements with data-i18n="key" are filled by applyI18n().

const LANG_KEY = "lernwerk.lang";
export const LANGUAGES = ["en", "de"];

const tables = { en: {}, de: {} };
let lang = "en";

function initialLanguage() {
  const stored = localStorage.getItem(LANG_KEY);
  if (LANGUAGES.includes(stored)) return stored;
  const nav = (navigator.language || "en").toLowerCase();
  return nav.startsWith("de") ? "de" : "en";
}

/** Load both string tables; the page renders after this. */
export async function loadI18n() {
  lang = initialLanguage();
  await Promise.all(LANGUAGES.map(async (code) => {
    try {
      const res = await fetch(`./i18n/${code}.json`);
      tables[code] = res.ok ? await res.json() : {};
    } catch {
      tables[code] = {};
    }
  }));
  document.documentElement.lang = lang;
}

export function currentLanguage() {
  return lang;
}

export function setLanguage(code) {
  if (!LANGUAGES.includes(code)) return;
  lang = code;
  localStorage.setItem(LANG_KEY, code);
  document.documentElement.lang = code;
}

export function t(key, vars = {}) {
  // "{n} samples" has its singular under "<key>.one", taken when n is 1
  const one = vars.n !== undefined && String(vars.n) === "1" ? `${key}.one` : null;
  const text = (one && (tables[lang][one] ?? tables.en[one])) ?? tables[lang][key] ?? tables.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

/** Text the server sends as data (a built-in dataset's description), in the page's
 * language when the table has it under `key`, else as the server sent it. */
export function tData(key, fallback) {
  return tables[lang][key] ?? fallback;
}

/** Fill text (data-i18n), placeholder (data-i18n-placeholder) and title/aria-label. */
export function applyI18n(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
  for (const el of root.querySelectorAll("[data-i18n-label]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nLabel));
    el.title = t(el.dataset.i18nLabel);
  }
}
