// The playground page: state in the URL hash, one WebSocket to this tab's server session,
// controls that send settings, and snapshots drawn into the network, output and insight views.

import { LineChart, compact, formatNumber } from "./charts.js";
import { CLASS_COLORS, css } from "./colors.js";
import { drawThumbnail } from "./datasets.js";
import { DescentView } from "./gd.js";
import { OutputView } from "./heatmap.js";
import { FEATURES, NetworkView } from "./network.js";
import { TeachableView } from "./teachable.js";

const $ = (id) => document.getElementById(id);

// ----------------------------------------------------------------------------- options
const OPTIONS = {
  learningRate: [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10],
  activation: [["tanh", "Tanh"], ["relu", "ReLU"], ["sigmoid", "Sigmoid"], ["linear", "Linear"], ["leakyrelu", "Leaky ReLU"]],
  regularization: [["none", "None"], ["L1", "L1"], ["L2", "L2"]],
  regularizationRate: [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10],
  problem: [["classification", "Classification"], ["regression", "Regression"], ["multiclass", "Multiclass (softmax)"]],
  loss: [["squared", "Squared error ½(ŷ−y)²"], ["hinge", "Hinge max(0, 1−yŷ)"], ["logistic", "Logistic log(1+e^−yŷ)"],
    ["cross_entropy", "Cross-entropy"], ["perceptron", "Soft perceptron max(0, −yŷ)"]],
  output: [["auto", "auto"], ["tanh", "tanh"], ["linear", "linear"], ["sigmoid", "sigmoid"]],
  optimizer: [["sgd", "SGD"], ["momentum", "SGD + momentum"], ["adam", "Adam"], ["rmsprop", "RMSprop"]],
  momentum: [0.5, 0.8, 0.9, 0.95, 0.99],
  dropout: [[0, "none"], [0.1, "10 %"], [0.2, "20 %"], [0.3, "30 %"], [0.5, "50 %"]],
  lrSchedule: [["none", "constant"], ["step", "step decay"], ["exp", "exponential"], ["cosine", "cosine"]],
  lrDecay: [0.1, 0.3, 0.5, 0.7, 0.9],
  lrEvery: [[10, "10 ep"], [50, "50 ep"], [100, "100 ep"], [200, "200 ep"], [500, "500 ep"], [1000, "1000 ep"]],
  stopLoss: [[0, "off"], [0.001, "0.001"], [0.01, "0.01"], [0.05, "0.05"], [0.1, "0.1"]],
  stopEpoch: [[0, "off"], [100, "100"], [300, "300"], [1000, "1000"], [5000, "5000"]],
  speed: [[1, "1 epoch/s"], [5, "5 epochs/s"], [20, "20 epochs/s"], [60, "60 epochs/s"], [200, "200 epochs/s"], [0, "max"]],
};
const LOSSES_FOR = {
  classification: ["squared", "hinge", "logistic", "cross_entropy", "perceptron"],
  regression: ["squared"],
  multiclass: ["cross_entropy"],
};
const DATASETS = {
  classification: { key: "dataset", names: [["circle", "Circle"], ["xor", "Exclusive or"], ["gauss", "Gaussian"], ["spiral", "Spiral"], ["moons", "Moons"], ["custom", "Your data"]] },
  regression: { key: "regDataset", names: [["reg-plane", "Plane"], ["reg-gauss", "Multi Gaussian"], ["custom", "Your data"]] },
  multiclass: { key: "mcDataset", names: [["blobs", "Blobs"], ["checker", "Checkerboard"], ["custom", "Your data"]] },
};
const SAME_DATA = "dataset=gauss&noise=10&networkShape=&learningRate=0.01";
const PRESETS = [
  ["The TensorFlow Playground's start: circle, 4-2 tanh", ""],
  ["Linear activation cannot separate the circle", "activation=linear"],
  ["Single neuron as a perceptron (soft perceptron loss)", `${SAME_DATA}&loss=perceptron`],
  ["Single neuron as linear regression (squared error)", `${SAME_DATA}&loss=squared&output=linear`],
  ["Single neuron as an SVM (hinge loss + L2)", `${SAME_DATA}&loss=hinge&regularization=L2&regularizationRate=0.01`],
  ["Single neuron as logistic regression (sigmoid + cross-entropy)", `${SAME_DATA}&loss=cross_entropy&learningRate=0.03`],
  ["XOR from the feature cross X₁X₂ alone", "dataset=xor&x=false&y=false&xTimesY=true&networkShape="],
  ["Spiral: more neurons and features", "dataset=spiral&xSquared=true&ySquared=true&sinX=true&sinY=true&networkShape=8,8,5&learningRate=0.01&optimizer=adam&speed=200"],
  ["Vanishing gradients: sigmoid, 6 layers", "activation=sigmoid&networkShape=6,6,6,6,6,6&learningRate=0.1&speed=200"],
  ["Dead ReLUs: a learning rate too high", "activation=relu&networkShape=8,8&learningRate=3"],
  ["Divergence: regression with learning rate 3", "problem=regression&learningRate=3"],
  ["Overfitting and dropout: noisy XOR, 20 % training data", "dataset=xor&noise=40&percTrainData=20&networkShape=8,8,8&dropout=0.2&showTestData=true"],
  ["Adam versus SGD: the same spiral, Adam", "dataset=spiral&networkShape=8,8,8&optimizer=adam&learningRate=0.01&speed=200"],
  ["Multiclass: three blobs with softmax", "problem=multiclass&loss=cross_entropy"],
  ["Multiclass: checkerboard stripes", "problem=multiclass&loss=cross_entropy&mcDataset=checker&networkShape=8,8&optimizer=adam&learningRate=0.01"],
  ["Learning-rate schedule: step decay", "dataset=spiral&networkShape=8,8,8&learningRate=0.1&lrSchedule=step&lrEvery=200&lrDecay=0.5"],
  ["Gradient descent on x²: Exercise 5.1", "view=gd&gdLr=0.1&gdX0=9"],
];
const HIDEABLE = [
  ["playButton", "Play"], ["stepButton", "Step"], ["resetButton", "Reset"], ["restartButton", "Restart"],
  ["learningRate", "Learning rate"], ["activation", "Activation"], ["regularization", "Regularization"],
  ["regularizationRate", "Regularization rate"], ["problem", "Problem type"], ["loss", "Loss"],
  ["output", "Output unit"], ["optimizer", "Optimizer"], ["dropout", "Dropout"], ["lrSchedule", "LR schedule"],
  ["stop", "Stop conditions"], ["speed", "Speed"], ["dataset", "Which dataset"], ["percTrainData", "Ratio train data"],
  ["noise", "Noise level"], ["batchSize", "Batch size"], ["regenerate", "Regenerate"],
  ["numHiddenLayers", "# of hidden layers"], ["showTestData", "Show test data"], ["discretize", "Discretize output"],
  ["yourData", "Your own data"], ["insights", "Insights"], ["export", "Export"], ["presets", "Presets"],
  ...FEATURES.map((f) => [f.key, f.text]),
];
const CLIENT_DEFAULTS = {
  view: "net", showTestData: false, discretize: false, hideText: false,
  gdLr: 0.1, gdX0: 9, gdSteps: 10, points: "",
};
const TF_KEYS = new Set(["collectStats", "cosX", "cosY", "tutorial"]);  // known, unused here

// ----------------------------------------------------------------------------- state
let ws = null;
let fields = null;         // from the server's hello: every setting's kind, default and range
let limits = { maxLayers: 8, maxNeurons: 16 };
let cfg = null;            // the session's configuration, as last confirmed by the server
const client = { ...CLIENT_DEFAULTS };
let hides = new Set();
let lastSnap = null;
let data = { train: [], test: [] };
let focus = null;
let confusionPart = "test";
let pointLabel = 1;
const pending = [];         // messages queued while the socket is not open

function send(msg) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  else pending.push(msg);
}
const setConfig = (values) => send({ cmd: "config", config: values });

// ----------------------------------------------------------------------------- views
const tooltip = $("tooltip");
const network = new NetworkView($("network"), tooltip, {
  hover: (id) => {
    focus = id;
    if (!id || !id.startsWith("f:")) send({ cmd: "focus", node: id });
    if (lastSnap) drawOutput(lastSnap);
  },
  edit: (layer, to, from, value) => send({ cmd: "edit", layer, to, from, value }),
  toggleFeature: (key) => {
    if (cfg) setConfig({ [key]: !cfg[key] });
  },
  neurons: (layer, delta) => {
    const shape = [...cfg.networkShape];
    shape[layer] = Math.max(1, Math.min(limits.maxNeurons, shape[layer] + delta));
    setConfig({ networkShape: shape });
  },
});
const output = new OutputView(document.querySelector(".heat-wrap"), {
  point: (x, y, erase, alternate) => {
    if (erase) { send({ cmd: "points", op: "erase", x, y, radius: 0.4 }); return; }
    let label = pointLabel;
    if (alternate) label = cfg.problem === "multiclass" ? (label + 1) % cfg.classes : -label;
    send({ cmd: "points", op: "add", x: Math.max(-6, Math.min(6, x)), y: Math.max(-6, Math.min(6, y)), label });
  },
});
const lossChart = new LineChart($("loss-chart"), {
  series: [{ label: "train", color: "#888" }, { label: "test", color: "#111" }],
  readout: $("loss-readout"),
});
const gradChart = new LineChart($("grad-chart"), { series: [], logScale: true, readout: $("grad-readout") });
const descent = new DescentView($("view-gd"), {
  send,
  changed: (values) => { Object.assign(client, values); writeHash(); },
});
const teachable = new TeachableView($("view-tm"), { toast, download });

// ----------------------------------------------------------------------------- controls
function fillSelect(id, values) {
  const select = $(id);
  select.innerHTML = "";
  for (const v of values) {
    const [value, label] = Array.isArray(v) ? v : [v, String(v)];
    const option = document.createElement("option");
    option.value = String(value);
    option.textContent = label;
    select.appendChild(option);
  }
}

function setSelect(id, value) {
  const select = $(id);
  if (![...select.options].some((o) => o.value === String(value))) {
    const option = document.createElement("option");
    option.value = String(value);
    option.textContent = String(value);
    select.appendChild(option);
  }
  select.value = String(value);
}

function numeric(key) {
  return fields && (fields[key].kind === "int" || fields[key].kind === "float");
}

function bindControls() {
  for (const [id, values] of Object.entries(OPTIONS)) {
    fillSelect(id, values);
    $(id).addEventListener("change", () => {
      const raw = $(id).value;
      const value = numeric(id) ? Number(raw) : raw;
      if (id === "problem") {
        const losses = LOSSES_FOR[value];
        setConfig({ problem: value, loss: losses.includes(cfg.loss) ? cfg.loss : losses[0] });
      } else {
        setConfig({ [id]: value });
      }
    });
  }
  for (const id of ["percTrainData", "noise", "batchSize", "classes"]) {
    const input = $(id);
    input.addEventListener("input", () => { $(`${id}-value`).textContent = input.value; });
    input.addEventListener("change", () => setConfig({ [id]: Number(input.value) }));
  }
  for (const id of ["showTestData", "discretize"]) {
    $(id).addEventListener("change", () => {
      client[id] = $(id).checked;
      writeHash();
      if (id === "showTestData") output.drawPoints(client.showTestData);
      if (lastSnap) drawSnapshot(lastSnap);
    });
  }
  $("loss-log").addEventListener("change", () => { lossChart.logScale = $("loss-log").checked; lossChart.draw(); });
  $("play").addEventListener("click", () => send({ cmd: lastSnap && lastSnap.playing ? "pause" : "play" }));
  $("step-batch").addEventListener("click", () => send({ cmd: "step", unit: "batch" }));
  $("step-epoch").addEventListener("click", () => send({ cmd: "step", unit: "epoch" }));
  $("reset").addEventListener("click", () => send({ cmd: "reset" }));
  $("restart").addEventListener("click", () => send({ cmd: "restart" }));
  $("regenerate").addEventListener("click", () => send({ cmd: "regenerate" }));
  $("add-layer").addEventListener("click", () => {
    if (cfg.networkShape.length < limits.maxLayers) setConfig({ networkShape: [...cfg.networkShape, 2] });
  });
  $("remove-layer").addEventListener("click", () => {
    if (cfg.networkShape.length > 0) setConfig({ networkShape: cfg.networkShape.slice(0, -1) });
  });
  $("export-model").addEventListener("click", () => send({ cmd: "export", what: "model" }));
  $("export-onnx").addEventListener("click", () => send({ cmd: "export", what: "onnx" }));
  $("export-script").addEventListener("click", () => send({ cmd: "export", what: "script" }));
  $("share").addEventListener("click", () => copy(location.href, "Link copied: it opens this exact configuration."));
  $("csv-file").addEventListener("change", (e) => {
    const file = e.target.files[0];
    if (!file) return;
    const reader = new FileReader();
    reader.onload = () => send({ cmd: "csv", text: String(reader.result), name: file.name });
    reader.readAsText(file);
    e.target.value = "";
  });
  for (const [name, hash] of PRESETS) {
    const option = document.createElement("option");
    option.value = hash;
    option.textContent = name;
    $("presets").appendChild(option);
  }
  $("presets").addEventListener("change", () => {
    const option = $("presets").selectedOptions[0];
    if (option.index === 0) return;
    location.hash = option.value || "preset";
    $("presets").selectedIndex = 0;
  });
  document.querySelectorAll(".tab").forEach((tab) => tab.addEventListener("click", (e) => {
    e.preventDefault();
    client.view = tab.dataset.view;
    showView();
    writeHash();
  }));
  document.querySelectorAll("#confusion-part button").forEach((b) => b.addEventListener("click", () => {
    confusionPart = b.dataset.part;
    document.querySelectorAll("#confusion-part button").forEach((x) => x.classList.toggle("on", x === b));
    if (lastSnap) drawInsights(lastSnap);
  }));
  document.addEventListener("keydown", (e) => {
    if (e.code !== "Space" || client.view !== "net") return; // Space plays the network view only
    if (/INPUT|SELECT|TEXTAREA|BUTTON/.test(document.activeElement.tagName)) return;
    e.preventDefault();
    $("play").click();
  });
  buildClassroom();
}

function syncControls() {
  for (const id of Object.keys(OPTIONS)) setSelect(id, cfg[id]);
  for (const id of ["percTrainData", "noise", "batchSize", "classes"]) {
    const input = $(id);
    if (id === "noise" || id === "batchSize") input.max = String(Math.max(Number(input.max), cfg[id]));
    input.value = cfg[id];
    $(`${id}-value`).textContent = cfg[id];
  }
  const allowed = LOSSES_FOR[cfg.problem];
  [...$("loss").options].forEach((o) => { o.disabled = !allowed.includes(o.value); });
  $("output-control").hidden = cfg.loss !== "squared";
  $("momentum-control").hidden = cfg.optimizer !== "momentum";
  $("schedule-params").hidden = cfg.lrSchedule === "none";
  $("classes-control").hidden = cfg.problem !== "multiclass";
  $("showTestData").checked = client.showTestData;
  $("discretize").checked = client.discretize;
  const n = cfg.networkShape.length;
  $("layers-title").textContent = `${n} hidden layer${n === 1 ? "" : "s"}`;
  drawDatasets();
  drawPointModes();
}

function drawDatasets() {
  const { key, names } = DATASETS[cfg.problem];
  const root = $("datasets");
  root.innerHTML = "";
  for (const [name, label] of names) {
    const item = document.createElement("button");
    item.className = `dataset${cfg[key] === name ? " selected" : ""}`;
    item.title = label;
    item.dataset.dataset = name;
    const canvas = document.createElement("canvas");
    canvas.width = 64; canvas.height = 64;
    drawThumbnail(canvas, name, cfg.problem, cfg.classes);
    item.appendChild(canvas);
    const caption = document.createElement("span");
    caption.textContent = label;
    item.appendChild(caption);
    item.addEventListener("click", () => {
      setConfig({ [key]: name });
      if (name === "custom" && output.mode === "off") { output.setMode("add"); drawPointModes(); }
    });
    root.appendChild(item);
  }
}

function labelChoices() {
  if (cfg.problem === "multiclass") return [...Array(cfg.classes).keys()].map((c) => [c, `class ${c}`, css(CLASS_COLORS[c])]);
  if (cfg.problem === "regression") return [[-1, "−1", "#f59322"], [-0.5, "−½", "#f4c38a"], [0.5, "+½", "#8bbadb"], [1, "+1", "#0877bd"]];
  return [[-1, "−1", "#f59322"], [1, "+1", "#0877bd"]];
}

function drawPointModes() {
  const root = $("point-modes");
  root.innerHTML = "";
  const choices = labelChoices();
  if (!choices.some(([v]) => v === pointLabel)) pointLabel = choices[choices.length - 1][0];
  const modes = [["off", "off"], ...choices.map(([v, text, color]) => [`add:${v}`, `<i style="background:${color}"></i>${text}`]), ["erase", "erase"]];
  for (const [mode, html] of modes) {
    const b = document.createElement("button");
    b.innerHTML = html;
    b.dataset.mode = mode;
    const current = output.mode === "add" ? `add:${pointLabel}` : output.mode;
    b.classList.toggle("on", current === mode);
    b.addEventListener("click", () => {
      if (mode.startsWith("add:")) { pointLabel = Number(mode.slice(4)); output.setMode("add"); } else output.setMode(mode);
      drawPointModes();
    });
    root.appendChild(b);
  }
}

// ----------------------------------------------------------------------------- URL state
function parseValue(key, raw) {
  const field = fields[key];
  if (field.kind === "bool") return raw === "true" ? true : raw === "false" ? false : undefined;
  if (field.kind === "choice") return field.choices.includes(raw) ? raw : undefined;
  if (field.kind === "shape") {
    if (raw === "") return [];
    const shape = raw.split(",").map(Number);
    return shape.every((n) => Number.isInteger(n) && n >= 1) ? shape : undefined;
  }
  const v = Number(raw);
  if (raw === "" || !Number.isFinite(v) || v < field.lo || v > field.hi) return undefined;
  if (field.kind === "int" && !Number.isInteger(v)) return undefined;
  return v;
}

/** The hash as (server settings with defaults filled in, client settings, hidden controls). */
function readHash() {
  const settings = {};
  for (const [key, f] of Object.entries(fields)) settings[key] = Array.isArray(f.default) ? [...f.default] : f.default;
  const view = { ...CLIENT_DEFAULTS };
  const hidden = new Set();
  const ignored = [];
  for (const part of location.hash.slice(1).split("&")) {
    if (!part) continue;
    const [key, ...rest] = part.split("=");
    const raw = decodeURIComponent(rest.join("="));
    if (key.endsWith("_hide")) { if (raw === "true") hidden.add(key.slice(0, -5)); continue; }
    if (key in fields) {
      const v = parseValue(key, raw);
      if (v === undefined) ignored.push(`${key}=${raw}`); else settings[key] = v;
    } else if (key in CLIENT_DEFAULTS) {
      const d = CLIENT_DEFAULTS[key];
      view[key] = typeof d === "boolean" ? raw === "true" : typeof d === "number" ? Number(raw) : raw;
    } else if (!TF_KEYS.has(key) && key !== "preset") {
      ignored.push(key);
    }
  }
  if (ignored.length) toast(`Ignored link settings the playground does not know or accept: ${ignored.join(", ")}`, "warn");
  if (!LOSSES_FOR[settings.problem].includes(settings.loss)) settings.loss = LOSSES_FOR[settings.problem][0];
  return { settings, view, hidden };
}

function encodePoints() {
  // the points in their original order (training and test interleave by position; see data.py)
  const ratio = cfg.percTrainData / 100, n = data.train.length + data.test.length;
  const rows = [];
  let a = 0, b = 0;
  for (let i = 0; i < n; i++) {
    const train = Math.floor((i + 1) * ratio) > Math.floor(i * ratio);
    rows.push(train ? data.train[a++] : data.test[b++]);
  }
  return rows.map((r) => r.map((v) => +v.toFixed(3)).join(",")).join(";");
}

function writeHash() {
  if (!cfg) return;
  const parts = [];
  for (const [key, f] of Object.entries(fields)) {
    const v = cfg[key];
    if (JSON.stringify(v) !== JSON.stringify(f.default)) parts.push(`${key}=${Array.isArray(v) ? v.join(",") : v}`);
  }
  for (const [key, d] of Object.entries(CLIENT_DEFAULTS)) {
    if (client[key] !== d) parts.push(`${key}=${String(client[key]).replace(/[%&#\s]/g, encodeURIComponent)}`);
  }
  for (const name of hides) parts.push(`${name}_hide=true`);
  history.replaceState(null, "", `#${parts.join("&")}`);
  updateClassroomLink();
}

function applyHash() {
  const { settings, view, hidden } = readHash();
  Object.assign(client, view);
  hides = hidden;
  applyHides();
  setConfig(settings);
  if (client.points && settings[DATASETS[settings.problem].key] === "custom") {
    const points = client.points.split(";").filter(Boolean).map((r) => r.split(",").map(Number));
    send({ cmd: "points", op: "set", points });
  }
  descent.set({ gdLr: client.gdLr, gdX0: client.gdX0, gdSteps: client.gdSteps });
  showView();
}

function applyHides() {
  const rules = [...hides].map((h) => `[data-hide="${h}"]{display:none !important}`);
  if (client.hideText) rules.push(".hide-with-text{display:none !important}");
  $("hide-style").textContent = rules.join("\n");
  network.hidden = new Set(FEATURES.map((f) => f.key).filter((k) => hides.has(k)));
  network.signature = "";
}

function showView() {
  document.body.dataset.view = client.view;
  document.querySelectorAll(".view").forEach((v) => { v.hidden = v.id !== `view-${client.view}`; });
  document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("active", t.dataset.view === client.view));
  if (client.view === "gd") descent.draw();
  if (client.view === "tm") teachable.show();
}

function buildClassroom() {
  const root = $("classroom");
  for (const [name, label] of HIDEABLE) {
    const item = document.createElement("label");
    item.className = "check";
    item.innerHTML = `<input type="checkbox" data-name="${name}"> ${label}`;
    item.querySelector("input").addEventListener("change", updateClassroomLink);
    root.appendChild(item);
  }
  $("hideText-choice").addEventListener("change", updateClassroomLink);
  $("classroom-copy").addEventListener("click", () => copy($("classroom-link").value, "Classroom link copied."));
}

function updateClassroomLink() {
  const chosen = [...document.querySelectorAll("#classroom input:checked")].map((i) => `${i.dataset.name}_hide=true`);
  if ($("hideText-choice").checked) chosen.push("hideText=true");
  const base = location.href.split("#")[0];
  const own = location.hash.slice(1).split("&").filter((p) => p && !p.includes("_hide=") && !p.startsWith("hideText="));
  $("classroom-link").value = `${base}#${[...own, ...chosen].join("&")}`;
}

// ----------------------------------------------------------------------------- drawing
function padEpoch(n) {
  const s = String(n).padStart(6, "0");
  return s.length > 6 ? Number(n).toLocaleString("en-US") : `${s.slice(0, 3)},${s.slice(3)}`;
}

function drawOutput(snap) {
  output.update(snap, { discretize: client.discretize, focus, classes: cfg.classes });
}

const LAYER_COLORS = ["#0877bd", "#2ca02c", "#9467bd", "#d62728", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];

function drawSnapshot(snap) {
  $("epoch").textContent = padEpoch(snap.epoch);
  $("updates").textContent = `${snap.updates.toLocaleString("en-US")} update steps · lr ${compact(snap.lr)}`;
  $("play").classList.toggle("playing", snap.playing);
  document.body.classList.toggle("is-playing", snap.playing);
  $("train-loss").textContent = formatNumber(snap.loss.train);
  $("test-loss").textContent = formatNumber(snap.loss.test);
  $("acc-line").hidden = snap.acc.train === null && snap.acc.test === null;
  const pct = (v) => (v === null ? "–" : `${(100 * v).toFixed(1)} %`);
  $("train-acc").textContent = pct(snap.acc.train);
  $("test-acc").textContent = pct(snap.acc.test);
  network.build(snap.shape, snap.inputs, cfg.problem);
  network.update(snap, { discretize: client.discretize, playing: snap.playing });
  drawOutput(snap);
  drawInsights(snap);
}

function drawInsights(snap) {
  const body = $("health-body");
  body.innerHTML = snap.health.map((h, l) => `<tr><td>hidden ${l + 1}</td><td>${h.size}</td>` +
    `<td class="${h.dead ? "bad" : ""}">${h.dead}</td><td class="${h.saturated ? "warn" : ""}">${h.saturated}</td></tr>`).join("") ||
    "<tr><td colspan=4 class=hint>no hidden layers</td></tr>";
  const matrix = snap.confusion[confusionPart];
  const root = $("confusion");
  if (!matrix) {
    root.innerHTML = `<p class="hint">${cfg.problem === "regression" ? "Regression: see the loss." : "No points in this part."}</p>`;
  } else {
    const names = cfg.problem === "multiclass" ? matrix.map((_, i) => `class ${i}`) : ["−1", "+1"];
    const colors = cfg.problem === "multiclass" ? matrix.map((_, i) => css(CLASS_COLORS[i])) : ["#f59322", "#0877bd"];
    const total = matrix.flat().reduce((a, b) => a + b, 0) || 1;
    let html = `<table class="confusion"><tr><th class="corner">true ↓ predicted →</th>${names.map((n, i) => `<th style="color:${colors[i]}">${n}</th>`).join("")}<th>recall</th></tr>`;
    matrix.forEach((row, i) => {
      const sum = row.reduce((a, b) => a + b, 0);
      html += `<tr><th style="color:${colors[i]}">${names[i]}</th>` + row.map((v, j) => {
        const alpha = (0.12 + 0.88 * v / total * matrix.length).toFixed(2);
        return `<td style="background:${i === j ? `rgba(8,119,189,${alpha})` : v ? `rgba(214,39,40,${alpha})` : "transparent"}">${v}</td>`;
      }).join("") + `<td>${sum ? ((100 * row[i]) / sum).toFixed(0) + " %" : "–"}</td></tr>`;
    });
    const acc = snap.acc[confusionPart];
    root.innerHTML = `${html}</table><p class="big-number">${confusionPart} accuracy <b>${acc === null ? "–" : (100 * acc).toFixed(1) + " %"}</b></p>`;
  }
  $("formula").innerHTML = formula(snap);
}

function formula(snap) {
  const out = {
    tanh: "ŷ = tanh(z)", linear: "ŷ = z &nbsp;(a linear score)", sigmoid: "ŷ = σ(z) = 1 / (1 + e<sup>−z</sup>)",
    softmax: "p<sub>c</sub> = softmax(z)<sub>c</sub> = e<sup>z<sub>c</sub></sup> / Σ<sub>k</sub> e<sup>z<sub>k</sub></sup>",
  }[snap.outAct];
  const loss = cfg.problem === "multiclass" ? "L = −log p<sub>y</sub> &nbsp;(cross-entropy)" : {
    squared: "L = ½ (ŷ − y)²",
    hinge: "L = max(0, 1 − y·ŷ)",
    logistic: "L = log(1 + e<sup>−y·ŷ</sup>)",
    perceptron: "L = max(0, −y·ŷ)",
    cross_entropy: "L = −[t log ŷ + (1 − t) log(1 − ŷ)], &nbsp;t = (y + 1)/2",
  }[cfg.loss];
  let penalty = "";
  if (cfg.regularization !== "none" && cfg.regularizationRate > 0) {
    penalty = cfg.regularization === "L1" ? ` + λ‖w‖<sub>1</sub>` : ` + (λ/2)‖w‖<sub>2</sub><sup>2</sup>`;
    penalty += `, &nbsp;λ = ${cfg.regularizationRate}`;
  }
  const update = {
    sgd: "w ← w − η·g",
    momentum: `v ← ${cfg.momentum}·v + g; &nbsp;w ← w − η·v`,
    adam: "m ← β₁m + (1−β₁)g; &nbsp;s ← β₂s + (1−β₂)g²; &nbsp;w ← w − η·m̂ / (√ŝ + ε)",
    rmsprop: "s ← 0.99·s + 0.01·g²; &nbsp;w ← w − η·g / (√s + ε)",
  }[cfg.optimizer];
  const labels = cfg.problem === "classification" ? "labels y ∈ {−1, +1}" : cfg.problem === "multiclass" ? "labels y ∈ {0 … k−1}" : "targets y ∈ ℝ";
  return `<div>z = w·a + b &nbsp;(the output unit's input)</div><div><b>${out}</b></div><div><b>${loss}</b></div>` +
    `<div>J = mean of L over the mini-batch${penalty}</div><div>g = ∂J/∂w by backpropagation; <b>${update}</b>, η = ${compact(snap.lr)}</div>` +
    `<div class="hint">${labels}; hidden units use ${cfg.activation}.</div>`;
}

function onSnapshot(snap) {
  if (snap.config) {
    const problemChanged = !cfg || cfg.problem !== snap.config.problem;
    cfg = snap.config;
    syncControls();
    if (problemChanged) $("class-legend").hidden = cfg.problem !== "multiclass";
  }
  if (snap.data) {
    data = snap.data;
    output.setData(data, cfg.problem, client.showTestData);
    client.points = cfg[DATASETS[cfg.problem].key] === "custom" ? encodePoints() : "";
  }
  if (snap.config || snap.data) writeHash();
  if (snap.histReset) {
    lossChart.clear();
    const n = snap.shape.length - 1;
    gradChart.setSeries([...Array(n).keys()].map((l) => ({
      label: l === n - 1 ? "output" : `layer ${l + 1}`, color: LAYER_COLORS[l % LAYER_COLORS.length],
    })));
  }
  for (const rec of snap.hist) {
    lossChart.push(rec[0], [rec[1], rec[2]]);
    gradChart.push(rec[0], rec[6]);
  }
  if (snap.hist.length || snap.histReset) { lossChart.draw(); gradChart.draw(); }
  lastSnap = snap;
  drawSnapshot(snap);
  requestAnimationFrame(() => send({ cmd: "ack", seq: snap.seq }));  // ready for the next one
  if (cfg.problem === "multiclass") {
    $("class-legend").innerHTML = [...Array(cfg.classes).keys()].map((c) => `<span><i style="background:${css(CLASS_COLORS[c])}"></i>class ${c}</span>`).join("");
  }
}

// ----------------------------------------------------------------------------- messages
function toast(message, level = "info") {
  const root = $("toasts");
  const item = document.createElement("div");
  item.className = `toast ${level}`;
  item.textContent = message;
  item.addEventListener("click", () => item.remove());
  root.appendChild(item);
  while (root.children.length > 4) root.firstChild.remove();
  setTimeout(() => item.remove(), level === "error" ? 9000 : 6000);
}

function download(msg) {
  const bytes = Uint8Array.from(atob(msg.b64), (c) => c.charCodeAt(0));
  const url = URL.createObjectURL(new Blob([bytes], { type: msg.mime }));
  const a = document.createElement("a");
  a.href = url;
  a.download = msg.name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
  toast(`Saved ${msg.name}`);
}

function copy(text, message) {
  (navigator.clipboard ? navigator.clipboard.writeText(text) : Promise.reject())
    .then(() => toast(message), () => toast(text));
}

function onMessage(event) {
  const msg = JSON.parse(event.data);
  if (msg.type === "snap") onSnapshot(msg);
  else if (msg.type === "hello") { fields = msg.fields; limits = msg.limits; applyHash(); }
  else if (msg.type === "gd") descent.show(msg);
  else if (msg.type === "file") download(msg);
  else if (msg.type === "notice") toast(msg.message, msg.level);
  else if (msg.type === "error") {
    toast(msg.message, "error");
    if (msg.cmd === "csv") { $("data-error").hidden = false; $("data-error").textContent = msg.message; }
  }
  if (msg.type === "snap" && msg.data) $("data-error").hidden = true;
}

function connect() {
  const status = $("conn");
  ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
  ws.addEventListener("open", () => {
    status.textContent = "live";
    status.className = "conn live";
    while (pending.length) ws.send(JSON.stringify(pending.shift()));
  });
  ws.addEventListener("message", onMessage);
  ws.addEventListener("close", () => {
    status.textContent = "disconnected — is `neuralab playground` still running?";
    status.className = "conn down";
    fields = null;
    setTimeout(connect, 2000);
  });
}

const style = document.createElement("style");
style.id = "hide-style";
document.head.appendChild(style);
bindControls();
window.addEventListener("hashchange", () => { if (fields) applyHash(); });
window.addEventListener("resize", () => { network.signature = ""; if (lastSnap) drawSnapshot(lastSnap); lossChart.draw(); gradChart.draw(); descent.draw(); });
connect();
