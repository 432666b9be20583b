// The Lessons page: what the courses teach, each with a one-click demo in lernwerk.

import { add, h } from "../dom.js";
import { t } from "../i18n.js";

// lesson id -> the demos (pages with the data and network set); texts: lesson.<id>.*
export const LESSONS = [
  ["xor", ["#/playground?lesson=perceptron", "#/train?dataset=xor&model=perceptron"]],
  ["hidden", ["#/playground?lesson=hidden", "#/train?dataset=xor&model=mlp"]],
  ["activations", ["#/designer?dataset=moons&model=mlp"]],
  ["losses", ["#/train?dataset=digits&model=lenet"]],
  ["lr", ["#/playground?lesson=learning-rate", "#/train?dataset=spiral&model=mlp"]],
  ["optimizers", ["#/train?dataset=spiral&model=mlp"]],
  ["epochs", ["#/train?dataset=digits&model=lenet"]],
  ["overfitting", ["#/playground?lesson=overfitting", "#/train?dataset=moons&model=mlp"]],
  ["convolution", ["#/designer?dataset=smileys&model=smiley-cnn"]],
  ["dense-vs-cnn", ["#/train?dataset=smileys&model=mlp", "#/train?dataset=smileys&model=smiley-cnn"]],
  ["rnn", ["#/train?dataset=gunpoint&model=lstm", "#/train?dataset=gunpoint&model=fcn1d"]],
  ["transfer", ["#/train?dataset=photos&model=efficientnet-lite0"]],
  ["baselines", ["#/datasets/digits"]],
  ["tensors", ["#/designer?dataset=digits&model=lenet"]],
  ["unsupervised", ["#/train?dataset=solder&model=autoencoder2d"]],
  ["bias", ["#/datasets/smileys"]],
  ["qc", ["#/train?dataset=solder&model=patchcore"]],
  ["inside", ["#/train?dataset=smileys&model=smiley-cnn"]],
  ["gans", ["#/train?dataset=smileys&model=vae&task=generate", "#/train?dataset=smileys&model=dcgan&task=generate"]],
];

export function render(root) {
  const items = LESSONS.map(([id, demos]) => h("li", { class: "panel lesson", testid: "lesson", dataset: { lesson: id } },
    h("h2", {}, t(`lesson.${id}.title`)),
    h("p", {}, t(`lesson.${id}.text`)),
    h("div", { class: "row" }, demos.map((href, k) =>
      h("a", { class: "button", href, testid: "lesson-demo" }, t(`lesson.${id}.demo${k}`))))));
  add(root, h("h1", {}, t("lessons.title")), h("p", { class: "muted" }, t("lessons.intro")),
    h("ol", { class: "lessons", testid: "lessons" }, items));
  return undefined;
}
