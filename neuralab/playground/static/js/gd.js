// Gradient descent on f(x) = x², computed by neuralab's autograd on the server: the iterates on
// the parabola, a table of the updates, and what the learning rate does (converge, oscillate,
// bounce, diverge). Exercise 5.1 (x₀ = 9, α = 0.1) is the default.

import { formatNumber } from "./charts.js";

export const GD_PRESETS = [
  { name: "Exercise 5.1", x0: 9, lr: 0.1 },
  { name: "small steps", x0: 9, lr: 0.02 },
  { name: "one jump", x0: 9, lr: 0.5 },
  { name: "oscillate", x0: 9, lr: 0.85 },
  { name: "bounce", x0: 9, lr: 1.0 },
  { name: "diverge", x0: 9, lr: 1.05 },
];

export class DescentView {
  constructor(root, { send, changed }) {
    this.root = root;
    this.send = send;
    this.changed = changed;
    this.canvas = root.querySelector("canvas.parabola");
    this.table = root.querySelector("tbody");
    this.verdict = root.querySelector(".verdict");
    this.inputs = {
      lr: root.querySelector("#gd-lr"), lrNum: root.querySelector("#gd-lr-num"),
      x0: root.querySelector("#gd-x0"), x0Num: root.querySelector("#gd-x0-num"),
      steps: root.querySelector("#gd-steps"),
    };
    const presets = root.querySelector(".gd-presets");
    for (const p of GD_PRESETS) {
      const b = document.createElement("button");
      b.textContent = `${p.name} (α = ${p.lr})`;
      b.addEventListener("click", () => this.set({ gdX0: p.x0, gdLr: p.lr }, true));
      presets.appendChild(b);
    }
    const link = (range, num, key) => {
      range.addEventListener("input", () => this.set({ [key]: +range.value }, true));
      num.addEventListener("change", () => this.set({ [key]: +num.value }, true));
    };
    link(this.inputs.lr, this.inputs.lrNum, "gdLr");
    link(this.inputs.x0, this.inputs.x0Num, "gdX0");
    this.inputs.steps.addEventListener("change", () => this.set({ gdSteps: +this.inputs.steps.value }, true));
    this.state = { gdLr: 0.1, gdX0: 9, gdSteps: 10 };
  }

  set(values, fromUser = false) {
    Object.assign(this.state, values);
    const s = this.state;
    this.inputs.lr.value = s.gdLr; this.inputs.lrNum.value = s.gdLr;
    this.inputs.x0.value = s.gdX0; this.inputs.x0Num.value = s.gdX0;
    this.inputs.steps.value = s.gdSteps;
    if (fromUser) this.changed(values);
    this.request();
  }

  request() {
    const s = this.state;
    this.send({ cmd: "gd", x0: s.gdX0, lr: s.gdLr, steps: s.gdSteps });
  }

  show(msg) {
    this.msg = msg;
    const xs = msg.xs.filter((v) => v !== null);
    const factor = msg.factor;
    this.verdict.innerHTML =
      `x<sub>t+1</sub> = x<sub>t</sub> − α·2x<sub>t</sub> = (1 − 2α)·x<sub>t</sub> = <b>${formatNumber(factor, 3)}</b>·x<sub>t</sub>: ` +
      `<span class="verdict-${msg.verdict.split(" ")[0]}">${msg.verdict}</span>` +
      (msg.verdict === "diverges" ? " — the learning rate is too high (α > 1 for f = x²)" : "");
    this.table.innerHTML = xs.slice(0, 60).map((x, t) => {
      const next = xs[t + 1];
      return `<tr class="${t > 0 && t <= 3 ? "exercise" : ""}"><td>${t}</td><td>${formatNumber(x, 4)}</td><td>${formatNumber(x * x, 4)}</td>` +
        `<td>${formatNumber(2 * x, 4)}</td><td>${next === undefined ? "" : formatNumber(next, 4)}</td></tr>`;
    }).join("");
    this.draw();
  }

  draw() {
    const c = this.canvas, msg = this.msg;
    if (!msg) return;
    const dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth, h = c.clientHeight;
    c.width = w * dpr; c.height = h * dpr;
    const ctx = c.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const R = 5 * Math.ceil(Math.max(10, Math.abs(msg.x0) * 1.2) / 5);
    const pad = 30;
    const X = (x) => pad + ((x + R) / (2 * R)) * (w - 2 * pad);
    const Y = (f) => h - pad - (f / (R * R)) * (h - 2 * pad);
    // axes
    ctx.strokeStyle = "#bbb"; ctx.lineWidth = 1;
    ctx.beginPath(); ctx.moveTo(pad, Y(0)); ctx.lineTo(w - pad, Y(0)); ctx.moveTo(X(0), Y(0)); ctx.lineTo(X(0), pad / 2); ctx.stroke();
    ctx.fillStyle = "#777"; ctx.font = "11px system-ui, sans-serif";
    for (const v of [-R, -R / 2, 0, R / 2, R]) ctx.fillText(String(v), X(v) - 8, Y(0) + 14);
    ctx.fillText("f(x) = x²", X(0) + 6, pad);
    // the parabola
    ctx.strokeStyle = "#183d4e"; ctx.lineWidth = 2; ctx.beginPath();
    for (let i = 0; i <= 200; i++) {
      const x = -R + (2 * R * i) / 200;
      if (i) ctx.lineTo(X(x), Y(x * x)); else ctx.moveTo(X(x), Y(x * x));
    }
    ctx.stroke();
    // iterates
    const xs = msg.xs.filter((v) => v !== null);
    const clampX = (x) => Math.max(-R * 1.02, Math.min(R * 1.02, x));
    const clampF = (x) => Math.min(R * R * 1.02, x * x);
    ctx.lineWidth = 1.5;
    for (let t = 0; t + 1 < xs.length; t++) {
      const a = xs[t], b = xs[t + 1];
      ctx.strokeStyle = `rgba(245,147,34,${Math.max(0.25, 1 - t / 25)})`;
      ctx.beginPath(); ctx.moveTo(X(clampX(a)), Y(clampF(a))); ctx.lineTo(X(clampX(b)), Y(clampF(b))); ctx.stroke();
    }
    xs.forEach((x, t) => {
      if (Math.abs(x) > R * 1.02) return;
      ctx.fillStyle = t === 0 ? "#0877bd" : "#f59322";
      ctx.beginPath(); ctx.arc(X(x), Y(x * x), t === 0 ? 6 : 4, 0, 2 * Math.PI); ctx.fill();
      if (t <= 3) { ctx.fillStyle = "#333"; ctx.fillText(`x${"₀₁₂₃"[t]}`, X(x) + 6, Y(x * x) - 6); }
    });
    if (xs.length && Math.abs(xs[xs.length - 1]) > R) {
      ctx.fillStyle = "#c62828";
      ctx.fillText(`|x| grows without bound: x${xs.length - 1} = ${formatNumber(xs[xs.length - 1], 1)}`, pad + 4, pad + 14);
    }
  }
}
