// A small line chart on a canvas: several series over the epoch, linear or log y (or a fixed
// y range, e.g. [0, 1] for accuracy), hover read-out.
// History is capped: past MAX_POINTS points every other one is dropped (the shape stays).

const MAX_POINTS = 2000;

export function formatNumber(v, digits = 3) {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return v.toFixed(digits);
}

/** A number in at most four significant digits, without trailing zeros (0.03, 1e-5). */
export const compact = (v) => (Number.isFinite(v) ? String(Number(v.toPrecision(4))) : "–");

export class LineChart {
  constructor(canvas, { series, logScale = false, readout = null, xLabel = "epoch", yRange = null }) {
    this.canvas = canvas;
    this.yRange = yRange;
    this.readout = readout;
    this.xLabel = xLabel;
    this.logScale = logScale;
    this.hoverX = null;
    this.setSeries(series);
    canvas.addEventListener("mousemove", (e) => {
      const r = canvas.getBoundingClientRect();
      this.hoverX = (e.clientX - r.left) / r.width;
      this.draw();
    });
    canvas.addEventListener("mouseleave", () => { this.hoverX = null; this.draw(); });
  }

  setSeries(series) {
    this.series = series;
    this.clear();
  }

  clear() {
    this.xs = [];
    this.ys = this.series.map(() => []);
    this.stride = 1;
    this.skipped = 0;
    this.draw();
  }

  push(x, values) {
    if (this.skipped++ % this.stride !== 0) return;
    this.xs.push(x);
    values.forEach((v, i) => this.ys[i] && this.ys[i].push(v));
    if (this.xs.length > MAX_POINTS) {
      const keep = (_, i) => i % 2 === 0;
      this.xs = this.xs.filter(keep);
      this.ys = this.ys.map((s) => s.filter(keep));
      this.stride *= 2;
    }
  }

  _range() {
    let lo = Infinity, hi = -Infinity;
    for (const s of this.ys) for (const v of s) {
      if (v === null || !Number.isFinite(v) || (this.logScale && v <= 0)) continue;
      lo = Math.min(lo, v); hi = Math.max(hi, v);
    }
    if (!Number.isFinite(lo)) return null;
    if (this.yRange) return this.yRange;
    if (this.logScale) { lo = Math.log10(lo); hi = Math.log10(hi); }
    if (hi - lo < 1e-9) { hi += 0.5; lo -= 0.5; }
    const pad = (hi - lo) * 0.06;
    return [!this.logScale && lo >= 0 ? Math.max(0, lo - pad) : lo - pad, hi + pad];
  }

  draw() {
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth, h = c.clientHeight;
    if (!w || !h) return;
    if (c.width !== Math.round(w * dpr)) { c.width = Math.round(w * dpr); c.height = Math.round(h * dpr); }
    const ctx = c.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const range = this._range();
    const n = this.xs.length;
    if (!range || n === 0) {
      ctx.fillStyle = "#999"; ctx.font = "11px system-ui, sans-serif";
      ctx.fillText("no data yet", 6, h / 2);
      if (this.readout) this.readout.textContent = "";
      return;
    }
    const [lo, hi] = range;
    const x0 = this.xs[0], x1 = Math.max(this.xs[n - 1], x0 + 1);
    const px = (x) => ((x - x0) / (x1 - x0)) * (w - 2) + 1;
    const py = (v) => {
      const t = this.logScale ? Math.log10(v) : v;
      return h - 2 - ((t - lo) / (hi - lo)) * (h - 4);
    };
    ctx.strokeStyle = "#eee"; ctx.lineWidth = 1;
    for (let i = 1; i < 4; i++) {
      ctx.beginPath(); ctx.moveTo(0, (h * i) / 4); ctx.lineTo(w, (h * i) / 4); ctx.stroke();
    }
    this.series.forEach((s, k) => {
      const ys = this.ys[k];
      ctx.strokeStyle = s.color; ctx.lineWidth = s.width || 1.5;
      ctx.setLineDash(s.dash || []);
      ctx.beginPath();
      let pen = false;
      for (let i = 0; i < n; i++) {
        const v = ys[i];
        if (v === null || !Number.isFinite(v) || (this.logScale && v <= 0)) { pen = false; continue; }
        const X = px(this.xs[i]), Y = py(v);
        if (pen) ctx.lineTo(X, Y); else ctx.moveTo(X, Y);
        pen = true;
      }
      ctx.stroke();
    });
    ctx.setLineDash([]);
    ctx.fillStyle = "#888"; ctx.font = "10px system-ui, sans-serif";
    const top = this.logScale ? 10 ** hi : hi, bottom = this.logScale ? 10 ** lo : lo;
    ctx.fillText(formatNumber(top), 3, 10);
    ctx.fillText(formatNumber(bottom), 3, h - 3);
    let i = n - 1;
    if (this.hoverX !== null) {
      const target = x0 + this.hoverX * (x1 - x0);
      i = 0;
      for (let j = 0; j < n; j++) if (Math.abs(this.xs[j] - target) < Math.abs(this.xs[i] - target)) i = j;
      ctx.strokeStyle = "#999"; ctx.beginPath();
      ctx.moveTo(px(this.xs[i]), 0); ctx.lineTo(px(this.xs[i]), h); ctx.stroke();
    }
    if (this.readout) {
      const parts = this.series.map((s, k) => `<span style="color:${s.color}">■</span> ${s.label} ${formatNumber(this.ys[k][i])}`);
      this.readout.innerHTML = `${this.xLabel} ${this.xs[i]} · ${parts.join(" · ")}`;
    }
  }
}
