// The workshop's door: a participant enters a name, gets a workspace of their own and
// the token that opens it, and goes on to the workbench with it.

import { errorSlot, field, h } from "./dom.js";
import { LANGUAGES, currentLanguage, loadI18n, setLanguage, t } from "./i18n.js";

async function join(name) {
  const res = await fetch("/api/workshop/join", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw Object.assign(new Error(body.message || res.statusText), body);
  return body;
}

function render() {
  const root = document.getElementById("view");
  const error = errorSlot("join-error");
  const name = h("input", { type: "text", testid: "join-name", autocomplete: "nickname", maxLength: 32, required: true });
  const language = h("select", { testid: "join-lang", "aria-label": t("lang.label") },
    LANGUAGES.map((code) => h("option", { value: code, selected: code === currentLanguage() }, t(`lang.${code}`))));
  language.addEventListener("change", () => { setLanguage(language.value); render(); });
  const button = h("button", { type: "submit", class: "primary", testid: "join-submit" }, t("workshop.join"));
  const form = h("form", {
    onsubmit: async (ev) => {
      ev.preventDefault();
      error.clear();
      button.disabled = true;
      try {
        const joined = await join(name.value);
        location.href = joined.url;
      } catch (err) {
        name.classList.add("invalid");
        error.show(err);
        button.disabled = false;
      }
    },
  }, field(t("workshop.name"), name, t("workshop.nameHint")), h("div", { class: "row" }, button), error);
  root.replaceChildren(h("section", { class: "panel" },
    h("div", { class: "spread" }, h("h1", {}, t("workshop.welcome")), language),
    h("p", {}, t("workshop.intro")), form));
  name.focus();
}

await loadI18n();
render();
