// Dataset thumbnails: small pictures of each generated set (the same shapes as
// neuralab.data's generators, drawn here with a fixed seed; the real data comes from the server).

import { labelCSS } from "./colors.js";

function prng(seed) {  // mulberry32
  return () => {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const U = (r, a, b) => a + (b - a) * r();
const gaussian = (r) => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());

const SHAPES = {
  circle: (r, i, n) => {
    const inside = i < n / 2, rad = inside ? U(r, 0, 2.5) : U(r, 3.5, 5), a = U(r, 0, 2 * Math.PI);
    return [rad * Math.sin(a), rad * Math.cos(a), inside ? 1 : -1];
  },
  xor: (r) => {
    let x = U(r, -5, 5), y = U(r, -5, 5);
    x += x > 0 ? 0.3 : -0.3; y += y > 0 ? 0.3 : -0.3;
    return [x, y, x * y >= 0 ? 1 : -1];
  },
  gauss: (r, i, n) => {
    const s = i < n / 2 ? 1 : -1;
    return [2 * s + gaussian(r) * 0.7, 2 * s + gaussian(r) * 0.7, s];
  },
  spiral: (r, i, n) => {
    const m = n / 2, pos = i < m, j = pos ? i : i - m, rad = (5 * j) / m;
    const t = (1.75 * 2 * Math.PI * j) / m + (pos ? 0 : Math.PI);
    return [rad * Math.sin(t), rad * Math.cos(t), pos ? 1 : -1];
  },
  moons: (r, i, n) => {
    const t = U(r, 0, Math.PI), upper = i < n / 2;
    const [x, y] = upper ? [Math.cos(t), Math.sin(t)] : [1 - Math.cos(t), 0.5 - Math.sin(t)];
    return [3 * (x - 0.5), 3 * (y - 0.25), upper ? -1 : 1];
  },
  "reg-plane": (r) => { const x = U(r, -6, 6), y = U(r, -6, 6); return [x, y, (x + y) / 10]; },
  "reg-gauss": (r) => {
    const x = U(r, -6, 6), y = U(r, -6, 6);
    let best = 0;
    for (const [cx, cy, s] of [[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]]) {
      const v = s * Math.max(0, Math.min(1, 1 - Math.hypot(x - cx, y - cy) / 2));
      if (Math.abs(v) > Math.abs(best)) best = v;
    }
    return [x, y, best];
  },
  blobs: (r, i, n, k) => {
    const c = i % k, a = Math.PI / 2 + (2 * Math.PI * c) / k;
    return [4 * Math.cos(a) + gaussian(r) * 0.7, 4 * Math.sin(a) + gaussian(r) * 0.7, c];
  },
  checker: (r, i, n, k) => {
    const x = U(r, -6, 6), y = U(r, -6, 6);
    return [x, y, (Math.floor((x + 6) / 3) + Math.floor((y + 6) / 3)) % k];
  },
};

/** Draw a dataset thumbnail (dots on a light background) into a canvas. */
export function drawThumbnail(canvas, name, problem, classes) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height;
  ctx.fillStyle = "#f6f7f8";
  ctx.fillRect(0, 0, w, h);
  if (name === "custom") {
    ctx.fillStyle = "#9aa5ab";
    ctx.font = "bold 11px system-ui, sans-serif";
    ctx.textAlign = "center";
    ctx.fillText("your", w / 2, h / 2 - 2);
    ctx.fillText("data", w / 2, h / 2 + 11);
    return;
  }
  const r = prng(7), n = 200;
  for (let i = 0; i < n; i++) {
    const [x, y, label] = SHAPES[name](r, i, n, problem === "multiclass" ? classes : 2);
    ctx.fillStyle = labelCSS(label, problem);
    ctx.beginPath();
    ctx.arc(((x + 6) / 12) * w, h - ((y + 6) / 12) * h, 1.6, 0, 2 * Math.PI);
    ctx.fill();
  }
}
