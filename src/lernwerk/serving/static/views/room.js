// The trainer's room (a workshop): every participant with their datasets, runs and
// trainings, the leaderboard on the shared task, and pushing a dataset or a network to
// everyone. Follows the room every few seconds.

import { api } from "../api.js";
import { errorSlot, field, h, noteSlot } from "../dom.js";
import { int, pct } from "../fmt.js";
import { t } from "../i18n.js";

const REFRESH_MS = 3000;

function participantsTable(room) {
  if (!room.participants.length) return h("p", { class: "empty", testid: "room-empty" }, t("room.none"));
  return h("table", { class: "table", testid: "room-participants" },
    h("thead", {}, h("tr", {}, ["room.name", "room.datasets", "room.runs", "room.running", "room.queued", "room.best"]
      .map((k) => h("th", { scope: "col" }, t(k))))),
    h("tbody", {}, room.participants.map((p) => {
      const scores = p.runs.map((r) => r.test_accuracy).filter((v) => typeof v === "number");
      return h("tr", { testid: "room-participant", dataset: { name: p.name } },
        h("th", { scope: "row" }, p.name),
        h("td", { testid: "room-datasets" }, p.datasets.join(", ") || "–"),
        h("td", { testid: "room-runs" }, int(p.runs.length)),
        h("td", {}, int(p.running)),
        h("td", {}, int(p.queued)),
        h("td", {}, scores.length ? pct(Math.max(...scores)) : "–"));
    })));
}

function leaderboard(room) {
  if (!room.leaderboard.length) return h("p", { class: "empty" }, t("room.noScores", { task: room.task }));
  return h("ol", { class: "leaderboard", testid: "room-leaderboard" }, room.leaderboard.map((b) =>
    h("li", { testid: "room-leader", dataset: { name: b.name } },
      h("b", {}, b.name), ` · ${b.model} · `, h("span", {}, pct(b.test_accuracy)))));
}

export async function render(root) {
  const error = errorSlot("room-error");
  const body = h("div", {}, h("p", { class: "loading" }, t("common.loading")));
  const [datasets, models] = await Promise.all([
    api.get("/datasets").catch(() => []), api.get("/models").catch(() => []),
  ]);
  const datasetPick = h("select", { testid: "room-push-dataset" }, h("option", { value: "" }, "–"),
    datasets.filter((d) => d.source === "workspace").map((d) => h("option", { value: d.name }, d.name)));
  const modelPick = h("select", { testid: "room-push-model" }, h("option", { value: "" }, "–"),
    models.filter((m) => m.source === "workspace").map((m) => h("option", { value: m.name }, m.name)));
  const pushError = errorSlot("room-push-error");
  const pushNote = noteSlot("room-push-note");
  const pushForm = h("form", {
    onsubmit: async (ev) => {
      ev.preventDefault();
      pushError.clear();
      try {
        const answer = await api.post("/workshop/push",
          { dataset: datasetPick.value || null, model: modelPick.value || null });
        const skipped = answer.skipped.length ? ` ${t("room.skipped", { n: answer.skipped.length })}` : "";
        pushNote.show(t("room.pushed", { n: answer.pushed.length }) + skipped, 0);
        refresh();
      } catch (err) {
        pushError.show(err);
      }
    },
  }, h("div", { class: "fields" }, field(t("room.pushDataset"), datasetPick), field(t("room.pushModel"), modelPick)),
  h("div", { class: "row" }, h("button", { type: "submit", class: "primary", testid: "room-push" }, t("room.pushButton"))),
  pushNote, pushError);

  let timer = 0;
  let alive = true;
  async function refresh() {
    clearTimeout(timer);
    try {
      const room = await api.get("/workshop/room");
      if (!alive) return;
      error.clear();
      body.replaceChildren(
        h("p", { class: "muted" }, t("room.intro", { task: room.task })),
        h("div", { class: "grid2" },
          h("section", { class: "panel" }, h("h2", {}, t("room.participants")), participantsTable(room)),
          h("section", { class: "panel" }, h("h2", {}, t("room.leaderboard")), leaderboard(room))));
    } catch (err) {
      if (!alive) return;
      error.show(err);
    }
    if (alive) timer = setTimeout(refresh, REFRESH_MS);
  }
  root.append(h("h1", {}, t("room.title")), error, body,
    h("section", { class: "panel" }, h("h2", {}, t("room.push")), pushForm));
  await refresh();
  return () => { alive = false; clearTimeout(timer); };
}
