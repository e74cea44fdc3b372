// The Teachable Machine tab: name classes, draw (or upload, or film) examples, train a small CNN
// on the server with neuralab, watch accuracy and loss per epoch, accuracy per class, the
// confusion matrix and the first layer's filters, classify a new drawing live, export the model.
// It has its own WebSocket (/ws/teachable), opened the first time the tab is shown.

import { LineChart, formatNumber } from "./charts.js";
import { CLASS_COLORS, css, decodeBytes, valueRGB } from "./colors.js";

const COLORS = [...CLASS_COLORS, [227, 119, 194], [23, 190, 207], [188, 189, 34], [127, 127, 127]];
const PAD = 224;        // drawing pads, in canvas pixels
const GRAB = 112;       // sources are drawn at GRAB², then averaged in blocks down to the model's size
const INK = 18;         // stroke width on the pad
const RECORD_MS = 120;  // webcam frames while "hold to record" is pressed
const PROBE_MS = 150;   // live predictions while drawing or filming
const CHOICES = {
  epochs: [10, 20, 50, 100, 200, 500],
  batchSize: [8, 16, 32, 64, 128],
  learningRate: [0.0001, 0.0003, 0.001, 0.003, 0.01],
  testPercent: [[0, "none"], [15, "15 %"], [25, "25 %"], [50, "50 %"]],
};

const color = (c) => css(COLORS[c % COLORS.length]);
const pct = (v) => (v === null || v === undefined ? "–" : `${(100 * v).toFixed(0)} %`);
const escape = (s) => s.replace(/[&<>"]/g, (ch) => `&#${ch.charCodeAt(0)};`);

function toBase64(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/** A square centre crop of an image, video or canvas as size × size grayscale bytes (0 black),
 *  mirrored left to right when asked (webcam frames, shown mirrored like a mirror). */
function grab(source, width, height, size, mirror = false) {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = GRAB;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  if (mirror) ctx.setTransform(-1, 0, 0, 1, GRAB, 0);
  const side = Math.min(width, height);
  ctx.drawImage(source, (width - side) / 2, (height - side) / 2, side, side, 0, 0, GRAB, GRAB);
  const rgba = ctx.getImageData(0, 0, GRAB, GRAB).data;
  const block = GRAB / size, out = new Uint8Array(size * size);
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      let sum = 0;
      for (let y = r * block; y < (r + 1) * block; y++) {
        for (let x = c * block; x < (c + 1) * block; x++) {
          const i = 4 * (y * GRAB + x);
          sum += 0.299 * rgba[i] + 0.587 * rgba[i + 1] + 0.114 * rgba[i + 2];
        }
      }
      out[r * size + c] = Math.round(sum / (block * block));
    }
  }
  return out;
}

/** Paint size × size grayscale bytes into a canvas of that size. */
function paintGray(canvas, bytes, size) {
  canvas.width = canvas.height = size;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(size, size);
  for (let i = 0; i < size * size; i++) {
    img.data.set([bytes[i], bytes[i], bytes[i], 255], 4 * i);
  }
  ctx.putImageData(img, 0, 0);
}

/** A drawing pad: white ink on black, mouse, pen or touch. */
class Pad {
  constructor(canvas, { changed = () => {}, done = () => {} } = {}) {
    this.canvas = canvas;
    canvas.width = canvas.height = PAD;
    this.ctx = canvas.getContext("2d", { willReadFrequently: true });
    this.clear();
    let stroke = null, before = null;  // the current stroke's points, the pad before it
    const at = (e) => {
      const r = canvas.getBoundingClientRect();
      return [((e.clientX - r.left) * PAD) / r.width, ((e.clientY - r.top) * PAD) / r.height];
    };
    canvas.addEventListener("pointerdown", (e) => {
      canvas.setPointerCapture(e.pointerId);
      if (this.empty) this._fill();  // wipe the placeholder
      before = this.ctx.getImageData(0, 0, PAD, PAD);
      stroke = [at(e)];
      this._stroke(stroke, before);
      changed();
    });
    canvas.addEventListener("pointermove", (e) => {
      if (!stroke) return;
      stroke.push(at(e));
      this._stroke(stroke, before);
      changed();
    });
    const end = () => { if (stroke) { stroke = null; done(); } };
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
  }

  /** Redraw the stroke as one path over the pad as it was (no seams where segments meet). */
  _stroke(points, before) {
    const ctx = this.ctx;
    ctx.putImageData(before, 0, 0);
    ctx.strokeStyle = "#fff"; ctx.lineWidth = INK; ctx.lineCap = "round"; ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(...points[0]);
    for (const p of points.length > 1 ? points.slice(1) : points) ctx.lineTo(...p);
    ctx.stroke();
    this.empty = false;
  }

  _fill() {
    this.ctx.fillStyle = "#000";
    this.ctx.fillRect(0, 0, PAD, PAD);
  }

  /** An empty pad, with a placeholder that the first stroke wipes. */
  clear() {
    this._fill();
    this.ctx.fillStyle = "#666";
    this.ctx.font = "16px system-ui, sans-serif";
    this.ctx.textAlign = "center";
    this.ctx.fillText("draw here", PAD / 2, PAD / 2 + 5);
    this.empty = true;
  }

  pixels(size) { return grab(this.canvas, PAD, PAD, size); }
}

/** The shared webcam: started on first use, drawn into any number of <video> elements. */
class Camera {
  constructor(toast) { this.toast = toast; this.stream = null; }

  async attach(video) {
    if (!this.stream) {
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
        this.toast("This browser offers no webcam here (it needs http://localhost or https).", "error");
        return false;
      }
      try {
        this.stream = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 }, audio: false });
      } catch (e) {
        this.toast(`The webcam is not available: ${e.message || e.name}`, "error");
        return false;
      }
    }
    video.srcObject = this.stream;
    await video.play().catch(() => {});
    return true;
  }

  ready(video) { return video.readyState >= 2 && video.videoWidth > 0; }

  pixels(video, size) { return grab(video, video.videoWidth, video.videoHeight, size, true); }
}

function template() {
  const options = (key) => CHOICES[key].map((v) => {
    const [value, label] = Array.isArray(v) ? v : [v, String(v)];
    return `<option value="${value}">${label}</option>`;
  }).join("");
  return `
<section class="tm">
  <div class="tm-col tm-examples">
    <h3><span class="tm-step">1</span> Examples <span id="tm-conn" class="tm-conn">connecting…</span></h3>
    <div class="segmented tm-source" data-for="input"><button data-source="draw" class="on">Draw</button><button data-source="webcam">Webcam</button></div>
    <div class="tm-input">
      <canvas id="tm-pad" class="tm-pad" aria-label="drawing pad for new examples"></canvas>
      <video id="tm-cam" class="tm-video" muted playsinline hidden></video>
      <div class="tm-input-side">
        <p class="hint" id="tm-input-hint">Draw an example, then add it to its class (or press its number key).</p>
        <div id="tm-add-buttons" class="tm-add-buttons"></div>
        <button id="tm-pad-clear" class="text-button">Clear</button>
      </div>
    </div>
    <div id="tm-classes" class="tm-classes"></div>
    <button id="tm-add-class" class="tm-add-class">+ Add a class</button>
  </div>

  <div class="tm-col tm-training">
    <h3><span class="tm-step">2</span> Training</h3>
    <div class="tm-train-bar">
      <button id="tm-train" class="tm-primary">Train model</button>
      <button id="tm-stop" class="text-button" hidden>Stop</button>
      <div class="tm-progress"><div id="tm-progress-text">Not trained yet</div><progress id="tm-progress" max="50" value="0"></progress></div>
    </div>
    <div class="tm-settings">
      <label>Epochs<select id="tm-epochs">${options("epochs")}</select></label>
      <label>Batch size<select id="tm-batchSize">${options("batchSize")}</select></label>
      <label>Learning rate<select id="tm-learningRate">${options("learningRate")}</select></label>
      <label>Held out<select id="tm-testPercent">${options("testPercent")}</select></label>
      <label class="check"><input type="checkbox" id="tm-augment"> shift images ±2 px</label>
    </div>
    <div class="tm-summary">Accuracy: training <b id="tm-train-acc">–</b> · held out <b id="tm-test-acc">–</b></div>
    <div class="tm-charts">
      <div><h5>Accuracy per epoch</h5><canvas id="tm-acc-chart" class="chart tm-chart"></canvas><div id="tm-acc-readout" class="readout"></div></div>
      <div><h5>Loss per epoch</h5><canvas id="tm-loss-chart" class="chart tm-chart"></canvas><div id="tm-loss-readout" class="readout"></div></div>
    </div>
    <h5 class="tm-part-head">Accuracy per class <span class="segmented small" id="tm-part">
      <button data-part="train" class="on">training</button><button data-part="test">held out</button></span></h5>
    <div id="tm-per-class" class="tm-per-class"></div>
    <h5>Confusion matrix <span class="hint">rows: true class, columns: predicted</span></h5>
    <div id="tm-confusion"></div>
    <h5>First-layer filters <span class="hint">8 × 5×5 weights, <span class="orange">−</span> / <span class="blue">+</span></span></h5>
    <div id="tm-filters" class="tm-filters"><span class="hint">after training</span></div>
  </div>

  <div class="tm-col tm-preview">
    <h3><span class="tm-step">3</span> Preview</h3>
    <div class="segmented tm-source" data-for="probe"><button data-source="draw" class="on">Draw</button><button data-source="webcam">Webcam</button></div>
    <div class="tm-probe-wrap">
      <canvas id="tm-probe" class="tm-pad" aria-label="drawing pad to classify"></canvas>
      <video id="tm-probe-cam" class="tm-video" muted playsinline hidden></video>
    </div>
    <button id="tm-probe-clear" class="text-button">Clear</button>
    <h5>Output</h5>
    <div id="tm-bars" class="tm-bars"></div>
    <h5>What the first layer sees <span class="hint">its 8 feature maps (ReLU)</span></h5>
    <div id="tm-maps" class="tm-maps"><span class="hint">after training, for a drawing</span></div>
    <h5>Export</h5>
    <button id="tm-export" class="tm-primary" disabled>Export model</button>
    <button id="tm-export-onnx" disabled title="The model as ONNX, for ONNX Runtime (Python, the web, phones)">Export ONNX</button>
    <p id="tm-local" class="hint" data-ready="false">After training, the model also runs in this page (ONNX Runtime Web), so it keeps classifying without the server.</p>
    <p class="hint">Export model gives a safetensors file; in Python:</p>
    <pre class="tm-code">import neuralab as nl
from neuralab.playground.teachable import to_input
ck = nl.load("teachable_model.safetensors")
out = ck["model"](nl.tensor(to_input(image)))
print(ck["classes"][int(out.argmax())])</pre>
    <p class="hint"><code>image</code>: a 2-D grayscale array (0–255, white ink on black), any size.</p>
  </div>
</section>`;
}

export class TeachableView {
  constructor(root, { toast, download }) {
    this.root = root;
    this.toast = toast;
    this.download = download;
    this.ws = null;
    this.pending = [];
    this.limits = { size: 28, maxClasses: 10, minClasses: 2, maxExamples: 200 };
    this.names = [];
    this.ids = [];
    this.thumbs = new Map();  // example id -> canvas
    this.snap = null;
    this.part = "train";
    this.inputSource = "draw";
    this.probeSource = "draw";
    this.probeTimer = null;   // webcam predictions
    this.probeWait = null;    // a drawing's next prediction
    this.recording = null;
    this.local = null;        // the trained model in the page: an ONNX Runtime Web session
    this.localEpoch = null;   // the epoch it was exported at
    root.innerHTML = template();
    const $ = (id) => root.querySelector(`#${id}`);
    this.$ = $;
    this.camera = new Camera(toast);
    this.pad = new Pad($("tm-pad"));
    this.probe = new Pad($("tm-probe"), {
      changed: () => this._probeSoon(),
      done: () => this._sendProbe(),
    });
    const series = () => [{ label: "train", color: "#183d4e" }, { label: "held out", color: "#f59322", dash: [5, 3] }];
    this.accChart = new LineChart($("tm-acc-chart"), { series: series(), readout: $("tm-acc-readout"), yRange: [0, 1] });
    this.lossChart = new LineChart($("tm-loss-chart"), { series: series(), readout: $("tm-loss-readout") });
    this._bind();
  }

  // --------------------------------------------------------------------------- connection
  show() {
    if (!this.ws) this._connect();
    this.draw();
  }

  send(msg) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
    else this.pending.push(msg);
  }

  _connect() {
    const status = this.$("tm-conn");
    const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/teachable`);
    this.ws = ws;
    ws.addEventListener("open", () => {
      status.textContent = "live";
      status.className = "tm-conn live";
      while (this.pending.length) ws.send(JSON.stringify(this.pending.shift()));
    });
    ws.addEventListener("message", (e) => this._onMessage(JSON.parse(e.data)));
    ws.addEventListener("close", () => {
      status.textContent = "disconnected";
      status.className = "tm-conn down";
      setTimeout(() => this._connect(), 2000);
    });
  }

  _onMessage(msg) {
    if (msg.type === "snap") this._onSnapshot(msg);
    else if (msg.type === "hello") { this.limits = msg.limits; this.onnx = msg.onnx; }
    else if (msg.type === "file" && msg.inPage) this._loadLocal(msg);
    else if (msg.type === "file") this.download(msg);
    else if (msg.type === "notice") this.toast(msg.message, msg.level);
    else if (msg.type === "error") this.toast(msg.message, "error");
  }

  // --------------------------------------------------------------------------- controls
  _bind() {
    const $ = this.$;
    $("tm-pad-clear").addEventListener("click", () => this.pad.clear());
    $("tm-probe-clear").addEventListener("click", () => { this.probe.clear(); this.send({ cmd: "predict", image: null }); });
    $("tm-add-class").addEventListener("click", () => this.send({ cmd: "classes", op: "add" }));
    $("tm-train").addEventListener("click", () => this.send({ cmd: "train" }));
    $("tm-stop").addEventListener("click", () => this.send({ cmd: "stop" }));
    $("tm-export").addEventListener("click", () => this.send({ cmd: "export" }));
    $("tm-export-onnx").addEventListener("click", () => this.send({ cmd: "export", format: "onnx" }));
    for (const key of Object.keys(CHOICES)) {
      $(`tm-${key}`).addEventListener("change", () => this.send({ cmd: "settings", settings: { [key]: Number($(`tm-${key}`).value) } }));
    }
    $("tm-augment").addEventListener("change", () => this.send({ cmd: "settings", settings: { augment: $("tm-augment").checked } }));
    this.root.querySelectorAll("#tm-part button").forEach((b) => b.addEventListener("click", () => {
      this.part = b.dataset.part;
      this.root.querySelectorAll("#tm-part button").forEach((x) => x.classList.toggle("on", x === b));
      if (this.snap) this._drawMetrics(this.snap);
    }));
    this.root.querySelectorAll(".tm-source").forEach((group) => group.addEventListener("click", (e) => {
      const b = e.target.closest("button");
      if (!b) return;
      group.querySelectorAll("button").forEach((x) => x.classList.toggle("on", x === b));
      this._setSource(group.dataset.for, b.dataset.source);
    }));
    document.addEventListener("keydown", (e) => {
      if (this.root.hidden || /INPUT|SELECT|TEXTAREA/.test(document.activeElement.tagName)) return;
      const k = "1234567890".indexOf(e.key);
      if (k >= 0 && k < this.names.length && this.inputSource === "draw") this._addDrawing(k);
    });
    window.addEventListener("resize", () => this.draw());
  }

  async _setSource(which, source) {
    const pad = which === "input" ? this.$("tm-pad") : this.$("tm-probe");
    const video = which === "input" ? this.$("tm-cam") : this.$("tm-probe-cam");
    const webcam = source === "webcam" && (await this.camera.attach(video));
    pad.hidden = webcam;
    video.hidden = !webcam;
    if (which === "input") {
      this.inputSource = webcam ? "webcam" : "draw";
      this.$("tm-pad-clear").hidden = webcam;
      this.$("tm-input-hint").textContent = webcam
        ? "Hold a class's button to record webcam frames into it."
        : "Draw an example, then add it to its class (or press its number key).";
      this._drawAddButtons();
    } else {
      this.probeSource = webcam ? "webcam" : "draw";
      clearInterval(this.probeTimer);
      this.probeTimer = webcam ? setInterval(() => this._sendProbe(), PROBE_MS) : null;
      if (!webcam) this._sendProbe();
    }
  }

  _image(bytes) {
    const size = this.limits.size;
    return { images: [toBase64(bytes)], width: size, height: size };
  }

  _addDrawing(c) {
    if (this.pad.empty) { this.toast("Draw an example on the pad first.", "warn"); return; }
    this.send({ cmd: "add", class: c, ...this._image(this.pad.pixels(this.limits.size)) });
    this.pad.clear();
  }

  _record(c, on) {
    clearInterval(this.recording);
    this.recording = null;
    if (!on) return;
    const video = this.$("tm-cam");
    const take = () => {
      const full = this.snap && this.snap.counts[c] >= this.limits.maxExamples;
      if (full) { this._record(c, false); this.toast(`${this.names[c]} is full (${this.limits.maxExamples} examples).`, "warn"); return; }
      if (this.camera.ready(video)) this.send({ cmd: "add", class: c, ...this._image(this.camera.pixels(video, this.limits.size)) });
    };
    take();
    this.recording = setInterval(take, RECORD_MS);
  }

  async _upload(c, files) {
    const size = this.limits.size, images = [];
    for (const file of files) {
      try {
        const bitmap = await createImageBitmap(file);
        images.push(toBase64(grab(bitmap, bitmap.width, bitmap.height, size)));
        bitmap.close();
      } catch {
        this.toast(`${file.name} is not an image this browser can read.`, "error");
      }
    }
    if (images.length) this.send({ cmd: "add", class: c, images, width: size, height: size });
  }

  _probeSoon() {
    if (this.probeWait) return;
    this.probeWait = setTimeout(() => { this.probeWait = null; this._sendProbe(); }, PROBE_MS);
  }

  _sendProbe() {
    const size = this.limits.size;
    if (this.local && !(this.ws && this.ws.readyState === WebSocket.OPEN)) {
      this._predictLocal();
      return;
    }
    if (this.probeSource === "webcam") {
      const video = this.$("tm-probe-cam");
      if (this.camera.ready(video)) this.send({ cmd: "predict", image: toBase64(this.camera.pixels(video, size)), width: size, height: size });
    } else if (this.probe.empty) {
      this.send({ cmd: "predict", image: null });
    } else {
      this.send({ cmd: "predict", image: toBase64(this.probe.pixels(size)), width: size, height: size });
    }
  }

  // --------------------------------------------------------------------------- classes
  _drawAddButtons() {
    const root = this.$("tm-add-buttons");
    root.innerHTML = "";
    this.names.forEach((name, c) => {
      const b = document.createElement("button");
      b.className = "tm-add";
      b.dataset.class = String(c);
      b.style.setProperty("--c", color(c));
      const webcam = this.inputSource === "webcam";
      b.innerHTML = `<i></i>${webcam ? "Hold: " : ""}${escape(name)}${!webcam && c < 10 ? ` <kbd>${(c + 1) % 10}</kbd>` : ""}`;
      if (webcam) {
        b.addEventListener("pointerdown", () => this._record(c, true));
        for (const ev of ["pointerup", "pointerleave", "pointercancel"]) b.addEventListener(ev, () => this._record(c, false));
      } else {
        b.addEventListener("click", () => this._addDrawing(c));
      }
      root.appendChild(b);
    });
  }

  _buildCards() {
    const root = this.$("tm-classes");
    root.innerHTML = "";
    this.names.forEach((_, c) => {
      const card = document.createElement("div");
      card.className = "tm-class";
      card.dataset.class = String(c);
      card.style.setProperty("--c", color(c));
      card.innerHTML = `
        <div class="tm-class-head"><i></i><input class="tm-name" maxlength="${this.limits.maxName || 40}" aria-label="class name">
          <span class="tm-count"></span></div>
        <div class="tm-thumbs"></div>
        <div class="tm-class-actions">
          <label class="file-button">Upload…<input type="file" accept="image/*" multiple></label>
          <button class="text-button tm-clear">Clear</button>
          <button class="text-button tm-remove" title="Remove this class">Remove</button>
        </div>`;
      const input = card.querySelector(".tm-name");
      input.addEventListener("change", () => {
        const name = input.value.trim();
        if (name) this.send({ cmd: "classes", op: "rename", class: c, name });
        else input.value = this.names[c];
      });
      input.addEventListener("keydown", (e) => { if (e.key === "Enter") input.blur(); });
      card.querySelector("input[type=file]").addEventListener("change", (e) => {
        this._upload(c, [...e.target.files]);
        e.target.value = "";
      });
      card.querySelector(".tm-clear").addEventListener("click", () => this.send({ cmd: "classes", op: "clear", class: c }));
      card.querySelector(".tm-remove").addEventListener("click", () => this.send({ cmd: "classes", op: "remove", class: c }));
      root.appendChild(card);
    });
  }

  _onData(data) {
    for (const [id, b64] of Object.entries(data.images)) {
      const canvas = document.createElement("canvas");
      canvas.className = "tm-thumb";
      canvas.title = "click to delete this example";
      canvas.dataset.id = id;
      paintGray(canvas, decodeBytes(b64), data.size);
      canvas.addEventListener("click", () => this.send({ cmd: "remove", id: Number(id) }));
      this.thumbs.set(Number(id), canvas);
    }
    const live = new Set(data.ids.flat());
    for (const id of [...this.thumbs.keys()]) if (!live.has(id)) this.thumbs.delete(id);
    const rebuild = data.names.length !== this.names.length;
    this.names = data.names;
    this.ids = data.ids;
    if (rebuild) this._buildCards();
    this._drawAddButtons();
    const removable = this.names.length > this.limits.minClasses;
    this.root.querySelectorAll(".tm-class").forEach((card, c) => {
      const input = card.querySelector(".tm-name");
      if (document.activeElement !== input) input.value = this.names[c];
      card.querySelector(".tm-count").textContent = `${this.ids[c].length} example${this.ids[c].length === 1 ? "" : "s"}`;
      card.querySelector(".tm-remove").hidden = !removable;
      const box = card.querySelector(".tm-thumbs");
      box.replaceChildren(...this.ids[c].map((id) => this.thumbs.get(id)).filter(Boolean));
      if (!this.ids[c].length) box.innerHTML = `<span class="hint">No examples yet: draw, upload or film some.</span>`;
    });
    this.$("tm-add-class").hidden = this.names.length >= this.limits.maxClasses;
  }

  // --------------------------------------------------------------------------- snapshots
  _onSnapshot(snap) {
    if (snap.config) this._onConfig(snap.config);
    if (snap.data) this._onData(snap.data);
    if (snap.histReset) { this.accChart.clear(); this.lossChart.clear(); }
    for (const [epoch, trainLoss, trainAcc, testLoss, testAcc] of snap.hist) {
      this.accChart.push(epoch, [trainAcc, testAcc]);
      this.lossChart.push(epoch, [trainLoss, testLoss]);
    }
    if (snap.hist.length || snap.histReset) { this.accChart.draw(); this.lossChart.draw(); }
    this.snap = snap;
    this._drawProgress(snap);
    this._drawMetrics(snap);
    this._drawFilters(snap.filters);
    this._drawPrediction(snap);
    requestAnimationFrame(() => this.send({ cmd: "ack", seq: snap.seq }));
  }

  _onConfig(config) {
    for (const key of Object.keys(CHOICES)) {
      const select = this.$(`tm-${key}`);
      if (![...select.options].some((o) => Number(o.value) === config[key])) {
        select.insertAdjacentHTML("beforeend", `<option value="${config[key]}">${config[key]}</option>`);
      }
      select.value = [...select.options].find((o) => Number(o.value) === config[key]).value;
    }
    this.$("tm-augment").checked = config.augment;
  }

  _drawProgress(snap) {
    const $ = this.$;
    $("tm-train").textContent = snap.trained ? "Train again" : "Train model";
    $("tm-stop").hidden = !snap.playing;
    $("tm-export").disabled = !snap.trained;
    $("tm-export-onnx").disabled = !snap.trained || !this.onnx;
    if (this.onnx && snap.trained && !snap.playing && snap.epoch !== this.localEpoch) {
      this.localEpoch = snap.epoch;  // a finished (or paused) run: bring it into the page
      this.send({ cmd: "export", format: "onnx", inPage: true });
    }
    const progress = $("tm-progress");
    progress.max = snap.epochs;
    progress.value = Math.min(snap.epoch, snap.epochs);
    $("tm-progress-text").textContent = snap.trained
      ? `${snap.playing ? "Training… " : ""}epoch ${snap.epoch} / ${snap.epochs} · ${snap.updates} steps`
      : "Not trained yet";
    this.root.classList.toggle("tm-playing", snap.playing);
  }

  _drawMetrics(snap) {
    const $ = this.$, m = snap.metrics;
    $("tm-train-acc").textContent = m ? pct(m.train.acc) : "–";
    $("tm-test-acc").textContent = m ? pct(m.test.acc) : "–";
    const part = m && m[this.part];
    if (!part || part.acc === null) {
      const why = !m ? "after training" : "no held-out examples (set “Held out” above 0 %)";
      $("tm-per-class").innerHTML = `<span class="hint">${why}</span>`;
      $("tm-confusion").innerHTML = `<span class="hint">${why}</span>`;
      return;
    }
    $("tm-per-class").innerHTML = part.perClass.map((v, c) =>
      `<div class="tm-row" data-class="${c}"><span class="tm-label" style="color:${color(c)}">${escape(this.names[c] || "")}</span>` +
      `<span class="tm-track"><span class="tm-fill" style="width:${v === null ? 0 : 100 * v}%;background:${color(c)}"></span></span>` +
      `<span class="tm-value">${v === null ? "no examples" : pct(v)}</span></div>`).join("");
    const matrix = part.confusion;
    const total = Math.max(1, ...matrix.flat());
    let html = `<table class="confusion tm-confusion"><tr><th class="corner">true ↓ predicted →</th>${matrix.map((_, j) => `<th style="color:${color(j)}">${escape(this.names[j] || "")}</th>`).join("")}</tr>`;
    matrix.forEach((row, i) => {
      html += `<tr><th style="color:${color(i)}">${escape(this.names[i] || "")}</th>` + row.map((v, j) => {
        const alpha = v ? (0.15 + (0.75 * v) / total).toFixed(2) : 0;
        const bg = i === j ? `rgba(8,119,189,${alpha})` : `rgba(214,39,40,${alpha})`;
        return `<td style="background:${bg}">${v}</td>`;
      }).join("") + "</tr>";
    });
    $("tm-confusion").innerHTML = `${html}</table>`;
  }

  _drawFilters(filters) {
    const root = this.$("tm-filters");
    if (!filters) { root.innerHTML = `<span class="hint">after training</span>`; return; }
    const scale = Math.max(1e-8, ...filters.flat(2).map(Math.abs));
    if (root.children.length !== filters.length || root.querySelector(".hint")) {
      root.replaceChildren(...filters.map(() => Object.assign(document.createElement("canvas"), { className: "tm-filter" })));
    }
    filters.forEach((f, k) => {
      const canvas = root.children[k], n = f.length;
      canvas.width = canvas.height = n;
      const ctx = canvas.getContext("2d"), img = ctx.createImageData(n, n);
      f.flat().forEach((w, i) => img.data.set([...valueRGB(w / scale), 255], 4 * i));
      ctx.putImageData(img, 0, 0);
      canvas.title = `filter ${k + 1}: weights from ${formatNumber(Math.min(...f.flat()))} to ${formatNumber(Math.max(...f.flat()))}`;
    });
  }

  // --------------------------------------------------------------------------- in the page
  /** Load an exported ONNX model into ONNX Runtime Web (shipped in /static/vendor/). */
  async _loadLocal(msg) {
    try {
      const base = "/static/vendor/onnxruntime-web/";
      const ort = await import(`${base}ort.wasm.min.mjs`);
      ort.env.wasm.wasmPaths = base;
      ort.env.wasm.numThreads = 1;
      const bytes = Uint8Array.from(atob(msg.b64), (ch) => ch.charCodeAt(0));
      this.local = await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"] });
      this.ort = ort;
      const note = this.$("tm-local");
      note.dataset.ready = "true";
      note.textContent = `The model (epoch ${this.localEpoch}) also runs in this page with ONNX Runtime Web: it keeps classifying if the server stops.`;
    } catch (e) {
      this.toast(`The model could not be loaded into the page: ${e.message || e}`, "error");
    }
  }

  /** Classify the drawing in the page, without the server. */
  async _predictLocal() {
    const bars = this.$("tm-bars");
    if (this.probe.empty) { this._drawBars(null); return; }
    const size = this.limits.size, pixels = this.probe.pixels(size);
    const input = new this.ort.Tensor("float32", Float32Array.from(pixels, (v) => v / 255), [1, 1, size, size]);
    const logits = Array.from((await this.local.run({ image: input })).logits.data);
    const top = Math.max(...logits), exp = logits.map((v) => Math.exp(v - top));
    const total = exp.reduce((a, b) => a + b, 0);
    this._drawBars(exp.map((v) => v / total));
    bars.dataset.source = "page";
  }

  _drawBars(probs) {
    const bars = this.$("tm-bars");
    bars.dataset.source = "server";
    if (!probs) {
      bars.innerHTML = `<span class="hint">Draw on the pad above: the bars show the model's confidence in each class.</span>`;
      return;
    }
    const best = probs.indexOf(Math.max(...probs));
    bars.innerHTML = probs.map((v, c) =>
      `<div class="tm-row tm-bar${c === best ? " top" : ""}" data-class="${c}" data-p="${v}"><span class="tm-label" style="color:${color(c)}">${escape(this.names[c] || "")}</span>` +
      `<span class="tm-track"><span class="tm-fill" style="width:${100 * v}%;background:${color(c)}"></span></span>` +
      `<span class="tm-value">${pct(v)}</span></div>`).join("");
  }

  _drawPrediction(snap) {
    const bars = this.$("tm-bars"), maps = this.$("tm-maps"), p = snap.prediction;
    if (!snap.trained) {
      bars.innerHTML = `<span class="hint">Train the model, then draw here to see what it predicts.</span>`;
    } else {
      this._drawBars(p ? p.probs : null);
    }
    if (!p) { maps.innerHTML = `<span class="hint">after training, for a drawing</span>`; return; }
    const bytes = decodeBytes(p.maps), size = p.mapSize, count = bytes.length / (size * size);
    if (maps.children.length !== count || maps.querySelector(".hint")) {
      maps.replaceChildren(...Array.from({ length: count }, () => Object.assign(document.createElement("canvas"), { className: "tm-map" })));
    }
    for (let k = 0; k < count; k++) paintGray(maps.children[k], bytes.subarray(k * size * size, (k + 1) * size * size), size);
  }

  draw() {
    this.accChart.draw();
    this.lossChart.draw();
  }
}
