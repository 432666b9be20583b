// The page shell: hash routing, navigation, language switch, server health, and a
// last line of defence that turns any uncaught error into a readable message.

import { api, initToken } from "./api.js";
import { h, mount } from "./dom.js";
import { LANGUAGES, applyI18n, currentLanguage, loadI18n, setLanguage, t } from "./i18n.js";

const ROUTES = [
  { pattern: /^\/?$/, view: "home", nav: "home" },
  { pattern: /^\/datasets\/([^/]+)$/, view: "dataset", nav: "home", keys: ["name"] },
  { pattern: /^\/designer$/, view: "designer", nav: "designer" },
  { pattern: /^\/train$/, view: "train", nav: "train" },
  { pattern: /^\/runs$/, view: "runs", nav: "runs" },
  { pattern: /^\/runs\/([^/]+)$/, view: "results", nav: "runs", keys: ["id"] },
  { pattern: /^\/runs\/([^/]+)\/try$/, view: "try", nav: "runs", keys: ["id"] },
  { pattern: /^\/runs\/([^/]+)\/inspect$/, view: "inspect", nav: "runs", keys: ["id"] },
  { pattern: /^\/lessons$/, view: "lessons", nav: "lessons" },
  { pattern: /^\/room$/, view: "room", nav: "room" },
  { pattern: /^\/sweeps$/, view: "sweep", nav: "sweeps" },
  { pattern: /^\/sweeps\/([^/]+)$/, view: "sweep", nav: "sweeps", keys: ["name"] },
  { pattern: /^\/playground$/, view: "playground", nav: "playground" },
];

const main = document.getElementById("view");
let cleanup = null;
let renderCount = 0;

function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/";
  const [path, query = ""] = raw.split("?");
  return { path, query: new URLSearchParams(query) };
}

async function route() {
  const { path, query } = parseHash();
  const match = ROUTES.map((r) => ({ r, m: path.match(r.pattern) })).find((x) => x.m);
  const count = ++renderCount;
  if (typeof cleanup === "function") {
    try { cleanup(); } catch { /* a view's cleanup must not stop the next view */ }
  }
  cleanup = null;
  for (const link of document.querySelectorAll("[data-nav]")) {
    const on = match && link.dataset.nav === match.r.nav;
    if (on) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (!match) {
    mount(main, h("section", { class: "panel" },
      h("h1", {}, t("nav.notFound")), h("p", {}, h("a", { href: "#/" }, t("nav.home")))));
    return;
  }
  document.title = `${t(`nav.${match.r.nav}`)} · lernwerk`;
  const params = { query };
  (match.r.keys || []).forEach((key, i) => { params[key] = decodeURIComponent(match.m[i + 1]); });
  // Each view renders into its own box: a view still loading when the person navigates
  // on keeps writing into its detached box, never into the page.
  const box = h("div", { class: "view", testid: `view-${match.r.view}` },
    h("p", { class: "loading", role: "status" }, t("common.loading")));
  main.replaceChildren(box);
  try {
    const module = await import(`./views/${match.r.view}.js`);
    if (count !== renderCount) return;  // the person navigated on meanwhile
    box.replaceChildren();
    const done = await module.render(box, params);
    if (count !== renderCount) {  // left while it loaded: clean up at once
      if (typeof done === "function") done();
      return;
    }
    cleanup = done;
    main.focus({ preventScroll: true });
  } catch (err) {
    if (count !== renderCount) return;
    showViewError(err);
  }
}

function showViewError(err) {
  mount(main, h("section", { class: "panel" },
    h("h1", {}, t("error.viewTitle")),
    h("p", { class: "error", role: "alert", "data-testid": "view-error" },
      err?.message || t("error.unknown")),
    h("p", {}, h("button", { type: "button", onclick: () => route() }, t("common.retry")))));
}

let toastTimer = 0;
/** A message at the bottom of the page, for errors that belong to no element. */
export function toast(message) {
  const el = document.getElementById("toast");
  el.textContent = message;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 6000);
}

function buildLanguageSwitch() {
  const select = document.getElementById("lang");
  select.replaceChildren(...LANGUAGES.map((code) =>
    h("option", { value: code }, t(`lang.${code}`))));
  select.value = currentLanguage();
  select.onchange = () => {
    setLanguage(select.value);
    buildLanguageSwitch();
    applyI18n();
    route();
    checkHealth();  // the footer line is in the language too
    showWho();
  };
}

async function checkHealth() {
  const banner = document.getElementById("banner");
  const footer = document.getElementById("version");
  try {
    const health = await api.get("/health");
    banner.hidden = true;
    footer.textContent = t("app.version", { version: health.version, workspace: health.workspace });
  } catch (err) {
    banner.textContent = err.status === 401 ? t("error.unauthorized") : t("error.noServer");
    banner.hidden = false;
  }
}

window.addEventListener("unhandledrejection", (ev) => {
  ev.preventDefault();
  toast(ev.reason?.message || t("error.unknown"));
});
window.addEventListener("error", (ev) => {
  if (!ev.error) return;  // resource errors (e.g. a broken <img>) are handled where they occur
  ev.preventDefault();
  toast(ev.error.message || t("error.unknown"));
});

/** In a workshop: the trainer gets the Room in the menu, a participant sees their name. */
async function showWho() {
  try {
    const who = await api.get("/workshop/me");
    if (!who.workshop) return;
    document.querySelector("[data-nav=room]").hidden = !who.trainer;
    const badge = document.getElementById("who");
    badge.hidden = !who.participant;
    if (who.participant) badge.textContent = t("room.you", { name: who.participant });
  } catch {
    // an older server without workshops, or no server: nothing to show
  }
}

async function start() {
  initToken();
  await loadI18n();
  applyI18n();
  buildLanguageSwitch();
  window.addEventListener("hashchange", route);
  await route();
  checkHealth();
  showWho();
}

start();
