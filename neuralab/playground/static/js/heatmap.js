// The output panel's big heatmap over [-6, 6]²: the network's output (or a hovered node's map),
// the data points on top (train with a white outline, test with a black one), and clicks that
// add or erase your own points.

import { CLASS_COLORS, decodeBytes, labelCSS, paintClasses, paintProbability, paintValues } from "./colors.js";
import { featureBytes } from "./network.js";

const SIZE = 300;  // CSS pixels of the square
const SVGNS = "http://www.w3.org/2000/svg";
const toPx = (v) => ((v + 6) / 12) * SIZE;

export class OutputView {
  constructor(root, handlers) {
    this.root = root;
    this.h = handlers;  // {point(x, y, erase, alternate)}
    this.canvas = root.querySelector("canvas.heat");
    this.svg = root.querySelector("svg.points");
    this.caption = root.querySelector(".heat-caption");
    this.mode = "off";
    this.data = { train: [], test: [] };
    this._axes(root.querySelector("svg.axis-x"), root.querySelector("svg.axis-y"));
    this.svg.addEventListener("click", (e) => {
      const r = this.svg.getBoundingClientRect();
      const x = -6 + (12 * (e.clientX - r.left)) / r.width;
      const y = 6 - (12 * (e.clientY - r.top)) / r.height;
      const erase = this.mode === "erase" || e.ctrlKey || e.metaKey || e.altKey;
      if (this.mode !== "off" || erase) this.h.point(x, y, erase, e.shiftKey);
    });
  }

  _axes(ax, ay) {
    for (let v = -6; v <= 6; v += 2) {
      const x = toPx(v);
      ax.insertAdjacentHTML("beforeend", `<line x1="${x}" x2="${x}" y1="0" y2="4"/><text x="${x}" y="14">${v}</text>`);
      const y = SIZE - toPx(v);
      ay.insertAdjacentHTML("beforeend", `<line x1="0" x2="4" y1="${y}" y2="${y}"/><text x="7" y="${y + 3}">${v}</text>`);
    }
  }

  setMode(mode) {
    this.mode = mode;
    this.svg.classList.toggle("editing", mode !== "off");
  }

  setData(data, problem, showTest) {
    this.data = data;
    this.problem = problem;
    this.drawPoints(showTest);
  }

  drawPoints(showTest) {
    const parts = [];
    const add = (rows, cls) => {
      for (const [x, y, label] of rows) {
        if (Math.abs(x) > 6 || Math.abs(y) > 6) continue;
        parts.push(`<circle class="${cls}" cx="${toPx(x).toFixed(1)}" cy="${(SIZE - toPx(y)).toFixed(1)}" r="3" fill="${labelCSS(label, this.problem)}"/>`);
      }
    };
    add(this.data.train, "train");
    if (showTest) add(this.data.test, "test");
    this.svg.innerHTML = parts.join("");
  }

  /** Draw the output (or the focused node's map when it is the hovered one). */
  update(snap, { discretize, focus, classes }) {
    if (focus && focus.startsWith("f:")) {
      paintValues(this.canvas, featureBytes(focus.slice(2), 100), 100, { discretize });
      this.caption.textContent = "hovered input feature";
      return;
    }
    if (focus && snap.focus && snap.focus.node === focus) {
      const bytes = decodeBytes(snap.focus.grid), unit = Number(focus.slice(1));
      if (focus.startsWith("o") && snap.gridClass) {
        paintProbability(this.canvas, bytes, 100, CLASS_COLORS[unit % CLASS_COLORS.length], { discretize });
      } else {
        paintValues(this.canvas, bytes, 100, { discretize });
      }
      this.caption.textContent = focus.startsWith("o") ? "hovered output unit" : "hovered neuron";
      return;
    }
    this.caption.textContent = "";
    if (snap.gridClass) {
      paintClasses(this.canvas, decodeBytes(snap.gridClass), decodeBytes(snap.gridConf), 100, classes, { discretize });
    } else {
      paintValues(this.canvas, decodeBytes(snap.grid), 100, { discretize });
    }
  }
}
