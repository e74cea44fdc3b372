// Colour scales shared by every view: TF Playground's orange (-1) / grey (0) / blue (+1),
// quantised to 31 shades for heatmaps, plus one hue per class for multiclass data.

export const ORANGE = [245, 147, 34];
export const GREY = [232, 234, 235];
export const BLUE = [8, 119, 189];
export const CLASS_COLORS = [
  [245, 147, 34], [8, 119, 189], [44, 160, 44], [148, 103, 189], [214, 39, 40], [140, 86, 75],
];
export const HEAT_ALPHA = 160;

const mix = (a, b, t) => a.map((v, i) => Math.round(v + (b[i] - v) * t));

/** The colour of a value in [-1, 1] (clamped), unquantised. */
export function valueRGB(v) {
  const x = Math.max(-1, Math.min(1, Number.isFinite(v) ? v : 0));
  return x < 0 ? mix(GREY, ORANGE, -x) : mix(GREY, BLUE, x);
}

export const css = (rgb, alpha = 1) => `rgba(${rgb[0]},${rgb[1]},${rgb[2]},${alpha})`;
export const valueCSS = (v) => css(valueRGB(v));

/** A quantised byte q (0..255, the server's encoding of -1..1) as its value. */
export const byteValue = (q) => q / 127.5 - 1;

// 256-entry lookup tables: byte -> quantised colour (31 shades), and byte -> sign colour.
const SHADES = 31;
const LUT = [];
const SIGN_LUT = [];
for (let q = 0; q < 256; q++) {
  const v = byteValue(q);
  const shade = Math.min(SHADES - 1, Math.floor(((v + 1) / 2) * SHADES));
  LUT.push(valueRGB((shade / (SHADES - 1)) * 2 - 1));
  SIGN_LUT.push(v < 0 ? ORANGE : v > 0 ? BLUE : GREY);
}

/** Paint a grid of bytes (row-major, size x size) into a canvas of that size. */
export function paintValues(canvas, bytes, size, { discretize = false, alpha = HEAT_ALPHA } = {}) {
  if (canvas.width !== size) { canvas.width = size; canvas.height = size; }
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(size, size);
  const lut = discretize ? SIGN_LUT : LUT;
  for (let i = 0; i < size * size; i++) {
    const c = lut[bytes[i]];
    img.data.set(c, i * 4);
    img.data[i * 4 + 3] = alpha;
  }
  ctx.putImageData(img, 0, 0);
}

/** Paint a probability map (bytes encode 2p - 1) from grey to one class's colour. */
export function paintProbability(canvas, bytes, size, color, { discretize = false } = {}) {
  if (canvas.width !== size) { canvas.width = size; canvas.height = size; }
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(size, size);
  for (let i = 0; i < size * size; i++) {
    const p = bytes[i] / 255;
    img.data.set(mix(GREY, color, discretize ? (p > 0.5 ? 1 : 0) : p), i * 4);
    img.data[i * 4 + 3] = HEAT_ALPHA;
  }
  ctx.putImageData(img, 0, 0);
}

/** Paint multiclass regions: the winning class's hue, stronger where it is more probable. */
export function paintClasses(canvas, classes, conf, size, k, { discretize = false } = {}) {
  if (canvas.width !== size) { canvas.width = size; canvas.height = size; }
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(size, size);
  for (let i = 0; i < size * size; i++) {
    const p = conf[i] / 255;
    const t = discretize ? 1 : Math.max(0, Math.min(1, (p - 1 / k) / (1 - 1 / k)));
    img.data.set(mix(GREY, CLASS_COLORS[classes[i] % CLASS_COLORS.length], 0.25 + 0.75 * t), i * 4);
    img.data[i * 4 + 3] = HEAT_ALPHA;
  }
  ctx.putImageData(img, 0, 0);
}

/** The colour of a data point's label for the problem type. */
export function labelCSS(label, problem) {
  if (problem === "multiclass") return css(CLASS_COLORS[label % CLASS_COLORS.length]);
  return valueCSS(label);
}

/** Base64 text -> Uint8Array. */
export function decodeBytes(text) {
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}
