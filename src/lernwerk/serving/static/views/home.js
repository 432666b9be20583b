// Home: the workspace's datasets as cards, the latest runs, and "new dataset".

import { api, enc, sampleUrl } from "../api.js";
import { add, errorSlot, h, tabs } from "../dom.js";
import { dateTime, int, statusBadge } from "../fmt.js";
import { t } from "../i18n.js";
import { newDatasetFromGenerator, newDatasetByUpload, newEmptyDataset } from "./home-new.js";

const KIND_ICON = { images: "▣", table: "▦", sequences: "∿" };

function datasetCard(ds) {
  const thumb = h("div", { class: `thumb kind-${ds.kind}`, "aria-hidden": "true" }, KIND_ICON[ds.kind] || "?");
  if (ds.kind === "images" && ds.num_samples) {
    api.get(`/datasets/${enc(ds.name)}/samples?limit=1`).then((res) => {
      const first = res?.samples?.[0];
      if (!first) return;
      const img = h("img", { class: "thumb", alt: "", src: sampleUrl(ds.name, first.id, 2) });
      img.onerror = () => img.replaceWith(thumb.cloneNode(true));
      thumb.replaceWith(img);
    }).catch(() => { /* the icon stays */ });
  }
  const classes = ds.classes?.length;
  return h("a", { class: "card", href: `#/datasets/${enc(ds.name)}`, testid: "dataset-card", dataset: { name: ds.name } },
    thumb,
    h("div", {},
      h("h3", {}, ds.name),
      h("p", {}, t(`kind.${ds.kind}`), " · ", t("home.samples", { n: int(ds.num_samples ?? 0) })),
      classes ? h("p", {}, t("home.classes", { n: classes })) : h("p", {}, t(`task.${ds.task}`))));
}

function recentRuns(runs) {
  if (!runs.length) return h("p", { class: "empty" }, t("home.noRuns"));
  const rank = (r) => (r.status === "queued" ? "~" : r.created || "");
  const latest = [...runs].sort((a, b) => rank(b).localeCompare(rank(a))).slice(0, 6);
  return h("ul", { class: "recent", testid: "recent-runs" },
    latest.map((r) => h("li", {},
      r.id ? h("a", { href: `#/runs/${enc(r.id)}` }, r.name || r.id) : h("span", {}, r.name || r.job_id),
      " ", statusBadge(r.status, "run-status"), " ",
      h("span", { class: "muted" }, `${r.dataset ?? ""} · ${r.model ?? ""} · ${dateTime(r.created)}`))));
}

export async function render(root) {
  const error = errorSlot("home-error");
  const cards = h("div", { class: "cards", testid: "dataset-cards" }, h("p", { class: "loading" }, t("common.loading")));
  const runsBox = h("div", {}, h("p", { class: "loading" }, t("common.loading")));
  add(root, 
    h("h1", {}, t("home.title")),
    error,
    h("div", { class: "grid-main" },
      h("section", {}, h("h2", {}, t("home.datasets")), cards),
      h("div", {},
        h("section", { class: "panel" },
          h("div", { class: "spread" }, h("h2", {}, t("home.recentRuns")), h("a", { href: "#/runs" }, t("home.allRuns"))),
          runsBox),
        h("section", { class: "panel", testid: "new-dataset" }, h("h2", {}, t("home.newDataset")),
          tabs([
            { id: "empty", label: t("home.new.empty"), render: (p) => newEmptyDataset(p) },
            { id: "generator", label: t("home.new.generator"), render: (p) => newDatasetFromGenerator(p) },
            { id: "upload", label: t("home.new.upload"), render: (p) => newDatasetByUpload(p) },
          ], "new-tab").el))));

  try {
    const [datasets, runs] = await Promise.all([api.get("/datasets"), api.get("/runs").catch(() => [])]);
    const stored = datasets.filter((d) => d.source !== "builtin");
    cards.replaceChildren(...(stored.length ? stored.map(datasetCard) : [h("p", { class: "empty" }, t("home.noDatasets"))]));
    runsBox.replaceChildren(recentRuns(runs));
  } catch (err) {
    cards.replaceChildren();
    runsBox.replaceChildren();
    error.show(err);
  }
}
