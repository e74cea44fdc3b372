// The network diagram: feature nodes, hidden neurons and output nodes as small heatmaps,
// weights as SVG curves (width = |w|, colour = sign and size), biases as small squares.
// Hover a node to enlarge its map in the output panel; hover a weight or bias to read it;
// click it to type a new value.

import { decodeBytes, paintProbability, paintValues, valueCSS, CLASS_COLORS, css } from "./colors.js";
import { formatNumber } from "./charts.js";

export const FEATURES = [
  { key: "x", label: "X<sub>1</sub>", text: "X₁", f: (a) => a },
  { key: "y", label: "X<sub>2</sub>", text: "X₂", f: (a, b) => b },
  { key: "xSquared", label: "X<sub>1</sub><sup>2</sup>", text: "X₁²", f: (a) => a * a },
  { key: "ySquared", label: "X<sub>2</sub><sup>2</sup>", text: "X₂²", f: (a, b) => b * b },
  { key: "xTimesY", label: "X<sub>1</sub>X<sub>2</sub>", text: "X₁X₂", f: (a, b) => a * b },
  { key: "sinX", label: "sin(X<sub>1</sub>)", text: "sin X₁", f: (a) => Math.sin(a) },
  { key: "sinY", label: "sin(X<sub>2</sub>)", text: "sin X₂", f: (a, b) => Math.sin(b) },
];

const NODE = 34;   // node square, px
const ROW = 46;    // vertical distance between nodes
const HEAD = 46;   // room above the nodes for the layer headers
const LEFT = 64;   // room left of the feature nodes for their labels
const SVGNS = "http://www.w3.org/2000/svg";

/** A feature's map over the plane as quantised bytes (size x size, rows from y = 6 down). */
export function featureBytes(key, size) {
  const f = FEATURES.find((x) => x.key === key).f;
  const out = new Uint8Array(size * size);
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      // the centre of each pooled cell, like the server's average of the 100-point grid
      const x = -6 + (12 * (c + 0.5)) / size, y = 6 - (12 * (r + 0.5)) / size;
      const v = Math.max(-1, Math.min(1, f(x, y)));
      out[r * size + c] = Math.round((v + 1) * 127.5);
    }
  }
  return out;
}

function el(tag, attrs = {}, parent = null) {
  const e = tag === "path" || tag === "rect" || tag === "svg" || tag === "g"
    ? document.createElementNS(SVGNS, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.setAttribute("class", v);
    else if (k === "html") e.innerHTML = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  if (parent) parent.appendChild(e);
  return e;
}

export class NetworkView {
  constructor(root, tooltip, handlers) {
    this.root = root;
    this.tooltip = tooltip;
    this.h = handlers;  // {hover(node), edit(layer,to,from,value), toggleFeature(key), neurons(layer, delta)}
    this.signature = "";
    this.hidden = new Set();
    this.svg = el("svg", { class: "links" }, root);
    this.layer = el("div", { class: "nodes" }, root);
  }

  /** Rebuild the diagram when the architecture or the active features change. */
  build(shape, inputs, problem, health) {
    const sig = JSON.stringify([shape, inputs, [...this.hidden], problem]);
    if (sig === this.signature) return;
    this.signature = sig;
    this.shape = shape;
    this.inputs = inputs;
    this.problem = problem;
    this.svg.innerHTML = "";
    this.layer.innerHTML = "";
    this.hovered = null;
    this.tooltip.hidden = true;
    const features = FEATURES.filter((f) => !this.hidden.has(f.key) || inputs.includes(f.key));
    const hiddenCount = shape.length - 2;
    const width = this.root.clientWidth || 600;
    const columns = hiddenCount + 2;
    const step = Math.max(90, (width - LEFT - NODE - 8) / (columns - 1));
    const colX = (c) => LEFT + c * step;
    const rows = Math.max(features.length, ...shape.slice(1));
    const height = HEAD + rows * ROW;
    this.root.style.height = `${height}px`;
    this.svg.setAttribute("width", String(LEFT + (columns - 1) * step + NODE + 4));
    this.svg.setAttribute("height", String(height));
    this.nodes = {};  // id -> {x, y, div, canvas, bias}
    // feature column
    features.forEach((f, i) => {
      const active = inputs.includes(f.key);
      const node = this._node(`f:${f.key}`, colX(0), HEAD + i * ROW, active ? "" : "inactive");
      el("div", { class: "feature-label", html: f.label }, node.div);
      node.div.title = active ? `${f.text}: click to turn off` : `${f.text}: click to use as an input`;
      node.div.addEventListener("click", () => this.h.toggleFeature(f.key));
      paintValues(node.canvas, featureBytes(f.key, 20), 20);
    });
    // hidden columns and their headers
    for (let l = 0; l < hiddenCount; l++) {
      const head = el("div", { class: "layer-head", "data-hide": `numNodes${l + 1}` }, this.layer);
      head.style.left = `${colX(l + 1) - 28}px`;
      const buttons = el("div", { class: "plusminus" }, head);
      const plus = el("button", { class: "mini", title: "add a neuron", text: "+" }, buttons);
      const minus = el("button", { class: "mini", title: "remove a neuron", text: "−" }, buttons);
      plus.addEventListener("click", () => this.h.neurons(l, +1));
      minus.addEventListener("click", () => this.h.neurons(l, -1));
      el("div", { class: "layer-count", text: `${shape[l + 1]} neuron${shape[l + 1] > 1 ? "s" : ""}` }, head);
      const badge = el("div", { class: "layer-health", id: `health-${l}` }, this.layer);
      badge.style.left = `${colX(l + 1) - 28}px`;
      badge.style.top = `${HEAD + shape[l + 1] * ROW - 8}px`;
      for (let i = 0; i < shape[l + 1]; i++) {
        this._node(`h${l}_${i}`, colX(l + 1), HEAD + i * ROW, "", true);
      }
    }
    // output column
    const nOut = shape[shape.length - 1];
    const outHead = el("div", { class: "layer-head output-head" }, this.layer);
    outHead.style.left = `${colX(columns - 1) - 28}px`;
    el("div", { class: "layer-count", text: nOut > 1 ? `${nOut} outputs` : "output" }, outHead);
    for (let i = 0; i < nOut; i++) {
      const node = this._node(`o${i}`, colX(columns - 1), HEAD + i * ROW, "output", true);
      if (problem === "multiclass") node.div.style.borderColor = css(CLASS_COLORS[i % CLASS_COLORS.length]);
    }
    // links
    this.links = [];
    const sources = [inputs.map((k) => `f:${k}`)];
    for (let l = 0; l < hiddenCount; l++) sources.push([...Array(shape[l + 1]).keys()].map((i) => `h${l}_${i}`));
    const targets = sources.slice(1).concat([[...Array(nOut).keys()].map((i) => `o${i}`)]);
    sources.forEach((src, layer) => {
      targets[layer].forEach((dst, to) => {
        src.forEach((s, from) => {
          const a = this.nodes[s], b = this.nodes[dst];
          const x1 = a.x + NODE, y1 = a.y + NODE / 2, x2 = b.x, y2 = b.y + NODE / 2, mx = (x1 + x2) / 2;
          const d = `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`;
          const path = el("path", { class: "link", d }, this.svg);
          const hit = el("path", { class: "link-hit", d }, this.svg);
          const info = { layer, to, from, path, value: 0, name: `weight from ${this._name(s)} to ${this._name(dst)}` };
          this._editable(hit, info);
          this.links.push(info);
        });
      });
    });
    this.biases = [];
    targets.forEach((layerTargets, layer) => layerTargets.forEach((id, to) => {
      const node = this.nodes[id];
      const sq = el("div", { class: "bias" }, this.layer);
      sq.style.left = `${node.x - 4}px`;
      sq.style.top = `${node.y + NODE - 6}px`;
      const info = { layer, to, from: null, path: sq, value: 0, name: `bias of ${this._name(id)}` };
      this._editable(sq, info);
      this.biases.push(info);
    }));
  }

  _name(id) {
    if (id.startsWith("f:")) return FEATURES.find((f) => f.key === id.slice(2)).text;
    if (id.startsWith("o")) return this.shape[this.shape.length - 1] > 1 ? `output ${+id.slice(1)}` : "the output";
    const [l, i] = id.slice(1).split("_").map(Number);
    return `neuron ${i + 1} of layer ${l + 1}`;
  }

  _node(id, x, y, cls, hoverable = false) {
    const div = el("div", { class: `node ${cls}`, "data-node": id }, this.layer);
    div.style.left = `${x}px`;
    div.style.top = `${y}px`;
    const canvas = el("canvas", { width: 20, height: 20 }, div);
    if (hoverable || id.startsWith("f:")) {
      div.addEventListener("mouseenter", () => this.h.hover(id));
      div.addEventListener("mouseleave", () => this.h.hover(null));
    }
    const node = { x, y, div, canvas };
    this.nodes[id] = node;
    if (id.startsWith("f:")) this.nodes[id].feature = id.slice(2);
    return node;
  }

  _editable(target, info) {
    target.addEventListener("mouseenter", (e) => this._tip(e, info));
    target.addEventListener("mousemove", (e) => this._tip(e, info));
    target.addEventListener("mouseleave", () => { this.tooltip.hidden = true; this.hovered = null; });
    target.addEventListener("click", (e) => this._edit(e, info));
  }

  _tip(e, info) {
    this.hovered = info;
    this._tipText();
    this.tooltip.hidden = false;
    this.tooltip.style.left = `${e.pageX + 12}px`;
    this.tooltip.style.top = `${e.pageY + 12}px`;
  }

  _tipText() {  // refreshed by every snapshot, so the value never goes stale while training
    const info = this.hovered;
    this.tooltip.innerHTML = `${info.name}<br><b>${formatNumber(info.value, 3)}</b> <span class="hint">click to edit</span>`;
  }

  _edit(e, info) {
    e.stopPropagation();
    const input = el("input", { class: "weight-editor", type: "number", step: "0.1", value: formatNumber(info.value, 3) }, document.body);
    input.style.left = `${e.pageX - 30}px`;
    input.style.top = `${e.pageY - 12}px`;
    input.focus();
    input.select();
    let open = true;
    const done = (apply) => {
      if (!open) return;
      open = false;
      if (apply && input.value !== "" && Number.isFinite(+input.value)) this.h.edit(info.layer, info.to, info.from, +input.value);
      input.remove();
    };
    input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") done(true);
      if (ev.key === "Escape") done(false);
    });
    input.addEventListener("blur", () => done(false));
  }

  /** Paint the node maps and restyle links and biases from a snapshot. */
  update(snap, { discretize, playing }) {
    const thumbs = decodeBytes(snap.thumbs);
    const size = snap.thumbSize, cell = size * size;
    let k = 0;
    const hiddenCount = snap.shape.length - 2;
    for (let l = 0; l < hiddenCount; l++) {
      const dropped = new Set((snap.dropped && snap.dropped[l]) || []);
      for (let i = 0; i < snap.shape[l + 1]; i++, k++) {
        const node = this.nodes[`h${l}_${i}`];
        paintValues(node.canvas, thumbs.subarray(k * cell, (k + 1) * cell), size, { discretize });
        node.div.classList.toggle("dropped", dropped.has(i));
      }
      const health = snap.health[l], badge = document.getElementById(`health-${l}`);
      if (badge) {
        const parts = [];
        if (health.dead) parts.push(`<span class="dead" title="dead units: ReLU output 0 on every training point">${health.dead} dead</span>`);
        if (health.saturated) parts.push(`<span class="sat" title="saturated units: slope below 5% of its maximum on 90% of the training points">${health.saturated} saturated</span>`);
        badge.innerHTML = parts.join(" ");
      }
    }
    const nOut = snap.shape[snap.shape.length - 1];
    for (let i = 0; i < nOut; i++, k++) {
      const canvas = this.nodes[`o${i}`].canvas, bytes = thumbs.subarray(k * cell, (k + 1) * cell);
      if (nOut > 1) paintProbability(canvas, bytes, size, CLASS_COLORS[i % CLASS_COLORS.length], { discretize });
      else paintValues(canvas, bytes, size, { discretize });
    }
    for (const link of this.links) {
      const w = snap.weights[link.layer][link.to][link.from];
      link.value = w;
      const mag = Math.abs(w ?? 0);
      link.path.style.stroke = valueCSS(w ?? 0);
      link.path.style.strokeWidth = `${Math.min(10, 1 + (mag / 5) * 9).toFixed(2)}px`;
    }
    for (const bias of this.biases) {
      bias.value = snap.biases[bias.layer][bias.to];
      bias.path.style.background = valueCSS(bias.value ?? 0);
    }
    this.svg.classList.toggle("playing", playing);
    if (this.hovered && this.tooltip.hidden === false) this._tipText();
  }
}
