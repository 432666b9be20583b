// The three ways to make a new dataset: an empty image set to draw into, a built-in
// generator with its parameters, or an uploaded file.

import { api, enc } from "../api.js";
import { checkbox, errorSlot, field, h } from "../dom.js";
import { t, tData } from "../i18n.js";
import { createDropzone } from "../components/dropzone.js";

function go(name) {
  location.hash = `#/datasets/${enc(name)}`;
}

function nameInput(testid, value = "") {
  return h("input", { type: "text", required: true, value, testid, autocomplete: "off", spellcheck: false });
}

/** Mark the input the server's `where` names; the message itself goes to the error slot. */
function markWhere(err, inputs) {
  for (const [key, input] of Object.entries(inputs)) {
    input.classList.toggle("invalid", Boolean(err?.where) && String(err.where).includes(key));
  }
}

export function newEmptyDataset(panel) {
  const name = nameInput("new-empty-name", "my-drawings");
  const classes = h("input", { type: "text", value: "smile, sad", testid: "new-empty-classes" });
  const size = h("input", { type: "number", min: 4, max: 512, value: 28, testid: "new-empty-size" });
  const channels = h("select", { testid: "new-empty-channels" },
    h("option", { value: "1" }, t("home.new.gray")), h("option", { value: "3" }, t("home.new.rgb")));
  const error = errorSlot("new-empty-error");
  const create = h("button", { type: "submit", class: "primary", testid: "new-empty-create" }, t("home.new.create"));
  const form = h("form", {
    onsubmit: async (ev) => {
      ev.preventDefault();
      error.clear();
      create.disabled = true;
      const body = {
        name: name.value.trim(),
        empty: {
          classes: classes.value.split(",").map((c) => c.trim()).filter(Boolean),
          image_size: Number(size.value),
          channels: Number(channels.value),
        },
      };
      try {
        const info = await api.post("/datasets", body);
        go(info?.name || body.name);
      } catch (err) {
        markWhere(err, { name, classes, image_size: size, channels });
        error.show(err);
      } finally {
        create.disabled = false;
      }
    },
  },
  h("p", { class: "muted" }, t("home.new.emptyIntro")),
  field(t("home.new.name"), name),
  field(t("home.new.classes"), classes, t("home.new.classesHint")),
  h("div", { class: "fields" }, field(t("home.new.imageSize"), size), field(t("home.new.channels"), channels)),
  error, create);
  panel.append(form);
}

function paramInput(param) {
  const testid = `gen-param-${param.name}`;
  if (param.choices?.length) {
    const sel = h("select", { testid }, param.choices.map((c) => h("option", { value: String(c) }, String(c))));
    if (param.default !== null && param.default !== undefined) sel.value = String(param.default);
    return sel;
  }
  if (param.type === "bool") return h("input", { type: "checkbox", checked: Boolean(param.default), testid });
  if (param.type === "int" || param.type === "float") {
    return h("input", {
      type: "number", testid, step: param.type === "int" ? 1 : "any",
      min: param.min ?? undefined, max: param.max ?? undefined,
      value: param.default ?? "", placeholder: param.default === null ? t("common.optional") : undefined,
    });
  }
  return h("input", { type: "text", testid, value: param.default ?? "" });
}

function paramValue(param, input) {
  if (input.type === "checkbox") return input.checked;
  const raw = input.value.trim();
  if (raw === "") return undefined;
  if (param.type === "int") return parseInt(raw, 10);
  if (param.type === "float") return parseFloat(raw);
  return raw;
}

/** `base`, or `base-2`, `base-3`, … when a stored dataset has that name already. */
function freeName(base, taken) {
  if (!taken.has(base)) return base;
  let n = 2;
  while (taken.has(`${base}-${n}`)) n += 1;
  return `${base}-${n}`;
}

export async function newDatasetFromGenerator(panel) {
  const error = errorSlot("new-gen-error");
  panel.append(h("p", { class: "loading" }, t("common.loading")));
  let builtins = [];
  let taken = new Set();  // stored datasets' names: the suggested name avoids them
  try {
    const all = await api.get("/datasets");
    builtins = all.filter((d) => d.source === "builtin");
    taken = new Set(all.filter((d) => d.source !== "builtin").map((d) => d.name));
  } catch (err) {
    panel.replaceChildren(error);
    error.show(err);
    return;
  }
  const source = h("select", { testid: "new-gen-source" },
    builtins.map((b) => h("option", { value: b.name }, `${b.name} (${t(`kind.${b.kind}`)})`)));
  const name = nameInput("new-gen-name");
  const description = h("p", { class: "muted", testid: "new-gen-description" });
  const params = h("div", { class: "fields" });
  let inputs = [];

  function showParams() {
    const b = builtins.find((x) => x.name === source.value);
    if (!b) return;
    description.textContent = tData(`builtin.${b.name}`, b.description || "");
    name.value = freeName(b.name, taken);
    inputs = (b.params || []).map((p) => ({ param: p, input: paramInput(p) }));
    const hint = (param) => tData(`param.${b.name}.${param.name}`, param.description);
    params.replaceChildren(...inputs.map(({ param, input }) => (input.type === "checkbox"
      ? h("div", { class: "field" }, h("label", {}, input, " ", param.name), h("small", { class: "hint" }, hint(param)))
      : field(param.name, input, hint(param)))));
  }
  source.addEventListener("change", showParams);

  const create = h("button", { type: "submit", class: "primary", testid: "new-gen-create" }, t("home.new.create"));
  const form = h("form", {
    onsubmit: async (ev) => {
      ev.preventDefault();
      error.clear();
      const values = {};
      for (const { param, input } of inputs) {
        const v = paramValue(param, input);
        if (v !== undefined && !Number.isNaN(v)) values[param.name] = v;
      }
      create.disabled = true;
      create.textContent = t("home.new.generating");
      try {
        const info = await api.post("/datasets", { name: name.value.trim(), from: source.value, params: values });
        go(info?.name || name.value.trim());
      } catch (err) {
        for (const { param, input } of inputs) input.classList.toggle("invalid", err.where === param.name);
        name.classList.toggle("invalid", err.where === "name");
        error.show(err);
      } finally {
        create.disabled = false;
        create.textContent = t("home.new.create");
      }
    },
  },
  field(t("home.new.generator"), source), description, field(t("home.new.name"), name), params, error, create);
  panel.replaceChildren(form);
  showParams();
}

const UPLOAD_KINDS = { zip: "images", csv: "table", parquet: "table", ts: "sequences", gz: "sequences" };

export function newDatasetByUpload(panel) {
  const name = nameInput("new-upload-name", "");
  const error = errorSlot("new-upload-error");
  const report = h("div", { testid: "new-upload-report" });
  const options = h("div", {});
  let file = null;
  let controls = {};

  const drop = createDropzone({
    multiple: false, accept: ".zip,.csv,.parquet,.ts,.gz", testid: "new-upload-file",
    label: t("home.new.uploadDrop"),
    onFiles: (files) => {
      file = files[0] || null;
      if (file && !name.value) name.value = file.name.replace(/\.(ts\.gz|zip|csv|parquet|ts|gz)$/i, "").replace(/[^A-Za-z0-9_-]+/g, "-");
      showOptions();
    },
  });

  async function csvColumns() {
    if (!file || !/\.csv$/i.test(file.name)) return [];
    const head = await file.slice(0, 64 * 1024).text();
    const line = head.split(/\r?\n/)[0] || "";
    const sep = [";", "\t", ","].find((s) => line.includes(s)) || ",";
    return line.split(sep).map((c) => c.trim().replace(/^"|"$/g, "")).filter(Boolean);
  }

  async function showOptions() {
    controls = {};
    const ext = (file?.name.split(".").pop() || "").toLowerCase();
    const kind = UPLOAD_KINDS[ext];
    if (!kind) {
      options.replaceChildren(file ? h("p", { class: "error" }, t("home.new.unknownFile")) : "");
      return;
    }
    const rows = [];
    if (kind === "images") {
      controls.image_size = h("input", { type: "number", min: 4, max: 512, value: 28, testid: "upload-opt-image_size" });
      controls.channels = h("select", { testid: "upload-opt-channels" },
        h("option", { value: "1" }, t("home.new.gray")), h("option", { value: "3" }, t("home.new.rgb")));
      controls.resize = h("select", { testid: "upload-opt-resize" },
        h("option", { value: "fit" }, t("home.new.resizeFit")), h("option", { value: "crop" }, t("home.new.resizeCrop")));
      const skip = checkbox(t("home.new.skipBad"), { testid: "upload-opt-skip_bad" });
      controls.skip_bad = skip.input;
      rows.push(h("div", { class: "fields" }, field(t("home.new.imageSize"), controls.image_size),
        field(t("home.new.channels"), controls.channels), field(t("home.new.resize"), controls.resize)), skip);
    } else {
      if (ext === "csv") {
        controls.kind = h("select", { testid: "upload-opt-kind" },
          h("option", { value: "" }, t("kind.table")), h("option", { value: "sequences" }, t("kind.sequences")));
      }
      const columns = await csvColumns();
      controls.target = columns.length
        ? h("select", { testid: "upload-opt-target" }, h("option", { value: "" }, t("home.new.targetAuto")),
          columns.map((c) => h("option", { value: c }, c)))
        : h("input", { type: "text", testid: "upload-opt-target", placeholder: t("home.new.targetAuto") });
      if (columns.length) controls.target.value = columns[columns.length - 1];
      controls.task = h("select", { testid: "upload-opt-task" },
        h("option", { value: "" }, t("home.new.taskAuto")),
        h("option", { value: "classification" }, t("task.classification")),
        h("option", { value: "regression" }, t("task.regression")));
      controls.length = h("select", { testid: "upload-opt-length" },
        ["", "pad", "resample"].map((v) => h("option", { value: v }, t(`home.new.length.${v || "error"}`))));
      const lengthField = field(t("home.new.length"), controls.length);
      const showLength = () => { lengthField.hidden = kind !== "sequences" && controls.kind?.value !== "sequences"; };
      controls.kind?.addEventListener("change", showLength);
      showLength();
      rows.push(h("div", { class: "fields" },
        controls.kind ? field(t("home.new.kind"), controls.kind) : null,
        field(t("home.new.target"), controls.target), field(t("home.new.task"), controls.task), lengthField));
    }
    options.replaceChildren(h("fieldset", {}, h("legend", {}, t("home.new.options")), ...rows));
  }

  function optionValues() {
    const out = {};
    for (const [key, el] of Object.entries(controls)) {
      if (!el.isConnected || el.closest("[hidden]")) continue;
      if (el.type === "checkbox") { if (el.checked) out[key] = true; continue; }
      const v = el.value.trim();
      if (v === "") continue;
      out[key] = el.type === "number" || key === "channels" ? Number(v) : v;
    }
    return out;
  }

  const create = h("button", { type: "submit", class: "primary", testid: "new-upload-create" }, t("home.new.import"));
  const form = h("form", {
    onsubmit: async (ev) => {
      ev.preventDefault();
      error.clear();
      report.replaceChildren();
      if (!file) { error.show(t("home.new.noFile")); return; }
      const data = new FormData();
      data.append("name", name.value.trim());
      data.append("file", file, file.name);
      data.append("options", JSON.stringify(optionValues()));
      create.disabled = true;
      create.textContent = t("home.new.importing");
      try {
        const info = await api.upload("/datasets/import", data);
        const skipped = info?.report?.skipped || [];
        if (skipped.length) {  // stay a moment so the person sees what was left out
          report.replaceChildren(h("p", {}, t("home.new.imported", { n: info.report.imported ?? info.num_samples })),
            h("ul", {}, skipped.slice(0, 20).map((s) => h("li", {}, `${s.path}: ${s.reason}`))),
            h("a", { class: "button primary", href: `#/datasets/${enc(info.name)}` }, t("home.new.open")));
        } else go(info?.name || name.value.trim());
      } catch (err) {
        for (const [key, el] of Object.entries(controls)) el.classList.toggle("invalid", err.where === key);
        name.classList.toggle("invalid", err.where === "name");
        error.show(err);
      } finally {
        create.disabled = false;
        create.textContent = t("home.new.import");
      }
    },
  }, drop.el, field(t("home.new.name"), name), options, error, report, create);
  panel.append(form);
}
