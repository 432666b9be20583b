// Drawing for the playground: uint8 grids as colour maps, data points, weights, loss curves.

const NEG = [245, 147, 34];   // orange: negative class, low values
const MID = [232, 234, 235];
const POS = [8, 119, 189];    // blue: positive class, high values
const CLASS_COLOURS = [[245, 147, 34], [8, 119, 189], [22, 163, 74], [190, 24, 93], [124, 58, 237],
  [202, 138, 4], [14, 116, 144], [220, 38, 38], [75, 85, 99], [101, 163, 13]];

/** base64 -> Uint8Array */
export function decodeGrid(b64) {
  const raw = atob(b64);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i += 1) out[i] = raw.charCodeAt(i);
  return out;
}

/** A value in 0..255 as a colour, orange through grey to blue. */
export function diverging(v) {
  const s = v / 127.5 - 1;  // -1 .. 1
  const [a, b] = s < 0 ? [MID, NEG] : [MID, POS];
  const k = Math.abs(s);
  return [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * k));
}

export function classColour(k) {
  return CLASS_COLOURS[k % CLASS_COLOURS.length];
}

const scratch = document.createElement("canvas");

/** Draw an n x n uint8 grid into (x, y, size, size) of ctx. `classes` > 2: values are classes. */
export function drawGrid(ctx, values, n, x, y, size, classes = 0) {
  scratch.width = n;
  scratch.height = n;
  const sctx = scratch.getContext("2d");
  const img = sctx.createImageData(n, n);
  for (let i = 0; i < n * n; i += 1) {
    const c = classes > 2 ? classColour(values[i]).map((q) => Math.round(q * 0.45 + 255 * 0.55))
      : diverging(values[i]);
    img.data.set([c[0], c[1], c[2], 255], i * 4);
  }
  sctx.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(scratch, x, y, size, size);
}

/** Points [[x, y, target], ...] over the boundary; test points get a dark ring. */
export function drawPoints(ctx, points, box, size, data, test) {
  const [x0, x1, y0, y1] = box;
  const [lo, hi] = data.target_range;
  for (const [px, py, target] of points) {
    const cx = ((px - x0) / (x1 - x0)) * size;
    const cy = (1 - (py - y0) / (y1 - y0)) * size;
    let c;
    if (data.task === "regression") c = diverging(Math.max(0, Math.min(255, ((target - lo) / (hi - lo || 1)) * 255)));
    else if (data.classes.length > 2) c = classColour(target);
    else c = target ? POS : NEG;
    ctx.beginPath();
    ctx.arc(cx, cy, 3.2, 0, 2 * Math.PI);
    ctx.fillStyle = `rgb(${c.join(",")})`;
    ctx.fill();
    ctx.lineWidth = test ? 1.5 : 1;
    ctx.strokeStyle = test ? "#111" : "#fff";
    ctx.stroke();
  }
}

/** Lines between neuron maps: thickness |w|, blue positive, orange negative. */
export function drawWeights(ctx, weights, centres) {
  let most = 1e-6;
  for (const w of weights) for (const row of w) for (const v of row) most = Math.max(most, Math.abs(v));
  weights.forEach((w, layer) => {
    w.forEach((row, out) => row.forEach((v, inp) => {
      const a = centres[layer][inp];
      const b = centres[layer + 1][out];
      if (!a || !b) return;
      ctx.beginPath();
      ctx.moveTo(a[0], a[1]);
      ctx.bezierCurveTo((a[0] + b[0]) / 2, a[1], (a[0] + b[0]) / 2, b[1], b[0], b[1]);
      ctx.lineWidth = 0.4 + 4 * Math.abs(v) / most;
      ctx.strokeStyle = v >= 0 ? "rgba(8,119,189,.7)" : "rgba(245,147,34,.7)";
      ctx.stroke();
    }));
  });
}

/** Train and test loss over the epochs, one canvas. */
export function drawCurves(canvas, history) {
  const ctx = canvas.getContext("2d");
  const { width: w, height: h } = canvas;
  ctx.clearRect(0, 0, w, h);
  const series = [[history.train, "#2563eb"], [history.test, "#ea580c"]];
  const all = [...history.train, ...history.test].filter((v) => v >= 0);
  if (!all.length) return;
  const top = Math.max(...all) || 1;
  const n = Math.max(history.train.length, 2);
  for (const [values, colour] of series) {
    ctx.beginPath();
    values.forEach((v, i) => {
      const x = (i / (n - 1)) * (w - 4) + 2;
      const y = h - 2 - (Math.max(v, 0) / top) * (h - 6);
      if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y);
    });
    ctx.strokeStyle = colour;
    ctx.lineWidth = 1.5;
    ctx.stroke();
  }
}
