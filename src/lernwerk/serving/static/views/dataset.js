// A dataset: its facts and splits, then the part for its kind (images, table, sequences).

import { api, enc } from "../api.js";
import { add, confirmButton, errorSlot, h } from "../dom.js";
import { int, shape } from "../fmt.js";
import { t, tData } from "../i18n.js";
import { rememberDataset } from "../components/datasetselect.js";
import { baselinesAction } from "./dataset-baselines.js";
import { checksPanel } from "../components/checks.js";

function splitsLine(splits) {
  if (!splits) return null;
  return ["train", "val", "test"].map((s) => `${t(`split.${s}`)} ${int(splits[s]?.samples ?? 0)}`).join(" · ");
}

/** The header with facts and actions; refresh(info) updates the numbers in place. */
function header(info, error) {
  const facts = h("p", { class: "muted", testid: "dataset-facts" });
  const splits = h("p", { class: "muted", testid: "dataset-splits" });
  const refresh = (next) => {
    facts.textContent = [t(`kind.${next.kind}`), t(`task.${next.task}`),
      t("home.samples", { n: int(next.num_samples) }), `${t("dataset.shape")} ${shape(next.input_shape)}`].join(" · ");
    splits.textContent = next.num_samples ? `${t("dataset.splits")}: ${splitsLine(next.splits)}` : "";
  };
  refresh(info);
  const q = `dataset=${enc(info.name)}`;
  const del = info.stored === false ? null : confirmButton(t("dataset.delete"), async () => {
    try {
      await api.del(`/datasets/${enc(info.name)}`);
      location.hash = "#/";
    } catch (err) {
      error.show(err);
    }
  }, { testid: "dataset-delete" });
  const baselines = baselinesAction(info.name);
  const el = h("section", { class: "panel" },
    h("div", { class: "spread" },
      h("h1", { testid: "dataset-name" }, info.name),
      h("div", { class: "row" },
        h("a", { class: "button", href: `#/designer?${q}`, testid: "dataset-design" }, t("dataset.design")),
        h("a", { class: "button primary", href: `#/train?${q}`, testid: "dataset-train" }, t("dataset.train")),
        baselines.button,
        del)),
    info.description ? h("p", { testid: "dataset-description" },
      info.description_key ? tData(info.description_key, info.description) : info.description) : null,
    facts, splits, error);
  return { el, refresh, baselines: baselines.panel };
}

export async function render(root, { name }) {
  const error = errorSlot("dataset-error");
  let info;
  try {
    info = await api.get(`/datasets/${enc(name)}`);
  } catch (err) {
    add(root, h("section", { class: "panel" }, h("h1", {}, name), error));
    error.show(err);
    return undefined;
  }
  rememberDataset(info.name);
  const head = header(info, error);
  const checks = checksPanel();  // the data checks, again whenever the samples change
  checks.update(info.name);
  add(root, head.el, checks.el, head.baselines);
  const body = h("div", {});
  add(root, body);
  const part = { images: "dataset-images", table: "dataset-table", sequences: "dataset-sequences" }[info.kind];
  if (!part) return undefined;
  const module = await import(`./${part}.js`);
  return module.render(body, info, { onChange: (next) => { head.refresh(next); checks.update(info.name); } });
}
