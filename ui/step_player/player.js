// The step player: one training step, revealed phase by phase, entirely in the browser.
//
// Streamlit calls the default export again on the same parentElement whenever the
// payload changes; the player keeps its own state per parentElement (a WeakMap) and
// re-renders. Stepping, playing, hovering and choosing a layer never talk to the
// server; only a click on a cell ("inspect": its worked numbers) and Next at the end
// of the step ("next_step": a new batch) do, as trigger values.
// The payload layout is written in viz/step_payload.py; colours come in it (LUT).
//
// Drawing is done so that a phase change costs little: each tensor is coloured once per
// colour scale into an offscreen canvas at its stored resolution (typed arrays, no
// per-cell objects) and cards scale that image; a card is built once per width and
// known/unknown state and kept; a phase change swaps only the cards whose state changed
// and moves the outline; the selected cell is an overlay, not a redraw. A new step of the
// same network draws into the canvases of the step before, and stamps each matrix's row
// and column labels from an image made when its layout is drawn a second time: making
// canvases and writing labels was most of what a Full step cost here.

const PLAYERS = new WeakMap();
const MAGIC = "BPS1";
const NAN_CODE = -128;
const ACCENTS = { ready: "#868e96", forward: "#f08c00", loss: "#e8590c", backward: "#7048e8", update: "#2b8a3e" };
const SVG = "http://www.w3.org/2000/svg";
const MAX_UNITS_DRAWN = 16;
const GAP = 18;
const TILE_GAP = 6;
const MASKED = [226, 228, 232];

// ------------------------------------------------------------------ payload
function parsePayload(data) {
  const u8 = data instanceof Uint8Array ? data : new Uint8Array(data);
  const magic = String.fromCharCode(u8[0], u8[1], u8[2], u8[3]);
  if (magic !== MAGIC) throw new Error(`not a step payload (${magic})`);
  const view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const length = view.getUint32(4, true);
  const headerText = new TextDecoder().decode(u8.subarray(8, 8 + length));
  const header = JSON.parse(headerText);
  const buffer = u8.slice(8 + length).buffer; // a copy: typed arrays need aligned offsets
  const lut = new Uint8Array(buffer, header.lut, 768);
  for (const t of header.tensors) {
    const size = t.stored.reduce((a, b) => a * b, 1);
    t.maps = t.layout === "maps";
    // a matrix is (rows, cols); maps are (A, B, h, w), read as A·B tiles of h×w cells
    t.tiles = t.maps ? t.stored[0] * t.stored[1] : 1;
    t.th = t.maps ? t.stored[2] : t.stored[0];
    t.tw = t.maps ? t.stored[3] : t.stored[1];
    if (t.enc === "f32") {
      t.data = new Float32Array(buffer, t.offset, size);
    } else {
      t.q = new Int8Array(buffer, t.offset, size);
      t.scale = new Float32Array(buffer, t.scale_offset, t.maps ? t.tiles : t.stored[1]);
    }
  }
  return { header, headerText, lut, lut32: packLut(lut) };
}

function packLut(lut) {
  const out = new Uint32Array(257);
  const bytes = new Uint8Array(out.buffer);
  for (let k = 0; k < 256; k++) bytes.set([lut[3 * k], lut[3 * k + 1], lut[3 * k + 2], 255], 4 * k);
  bytes.set([...MASKED, 255], 4 * 256); // NaN: a masked or missing cell
  return out;
}

// value at flat position i of the stored array (tile: the tile index of maps, for its scale)
function valueAt(t, i) {
  if (t.enc === "f32") return t.data[i];
  const q = t.q[i];
  if (q === NAN_CODE) return NaN;
  const scale = t.maps ? t.scale[Math.floor(i / (t.th * t.tw))] : t.scale[i % t.stored[1]];
  return (q / 127) * scale;
}

function cell(t, r, c) {
  return valueAt(t, r * t.stored[1] + c);
}

function tileCell(t, tile, y, x) {
  return valueAt(t, (tile * t.th + y) * t.tw + x);
}

// limits of the "one per column" scale: per column of a matrix, per tile of maps
function groupLimits(t) {
  const groups = t.maps ? t.tiles : t.stored[1];
  const out = new Float64Array(groups).fill(0);
  const size = t.stored.reduce((a, b) => a * b, 1);
  for (let i = 0; i < size; i++) {
    const g = t.maps ? Math.floor(i / (t.th * t.tw)) : i % t.stored[1];
    const v = Math.abs(valueAt(t, i));
    if (v > out[g]) out[g] = v;
  }
  for (let g = 0; g < groups; g++) if (!(out[g] > 0)) out[g] = 1;
  return out;
}

function fmt(v, digits = 3) {
  if (v === null || v === undefined) return "—";
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(Math.max(digits - 1, 0));
  return String(Number(v.toPrecision(digits)));
}

function exact(v) {
  return fmt(v, 6);
}

function lutIndex(v, limit) {
  if (!Number.isFinite(v)) return 256;
  const k = Math.round((v / limit + 1) * 127.5);
  return k < 0 ? 0 : k > 255 ? 255 : k;
}

function rgb(lut, v, limit) {
  if (!Number.isFinite(v)) return MASKED;
  const k = lutIndex(v, limit);
  return [lut[3 * k], lut[3 * k + 1], lut[3 * k + 2]];
}

function css(c) {
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function svg(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// ------------------------------------------------------------------- player
class Player {
  constructor(parentElement) {
    this.parent = parentElement;
    this.root = parentElement.querySelector(".bp-player");
    this.phase = 0;
    this.focus = 0; // block index, or "input"
    this.sample = 0;
    this.scaleMode = "matrix";
    this.timer = null;
    this.cards = new Map(); // card key -> built card
    this.images = new Map(); // tensor id + scale -> coloured canvas at stored resolution
    this.spare = new Map(); // "role width×height" -> canvases of the step before, free to draw into
    this.overlays = new Map(); // a matrix's layout -> its labels and grid (null: drawn once so far)
    this.axesText = null;
    this.selected = null;
    this.slots = []; // the focus panel's cells: {t, width, card}
    this.bind();
  }

  q(sel) {
    return this.root.querySelector(sel);
  }

  bind() {
    this.q("[data-action=back]").addEventListener("click", () => this.go(this.phase - 1));
    this.q("[data-action=next]").addEventListener("click", () => this.next());
    this.q("[data-action=play]").addEventListener("click", () => this.togglePlay());
    this.q("[data-action=speed]").addEventListener("change", () => {
      if (this.timer) {
        this.stopPlay();
        this.togglePlay();
      }
    });
    this.q("[data-action=scale]").addEventListener("change", (e) => {
      this.scaleMode = e.target.value;
      this.renderFocus();
    });
    this.q(".bp-slider").addEventListener("input", (e) => this.go(Number(e.target.value)));
    this.root.addEventListener("keydown", (e) => {
      if (e.target.tagName === "SELECT" || e.target.tagName === "INPUT") return;
      if (e.key === "ArrowRight") {
        this.next();
        e.preventDefault();
      } else if (e.key === "ArrowLeft") {
        this.go(this.phase - 1);
        e.preventDefault();
      }
    });
    this.resize = new ResizeObserver(() => {
      const width = this.root.clientWidth;
      if (this.payload && Math.abs(width - (this.width || 0)) > 4) this.renderAll();
    });
    this.resize.observe(this.root);
  }

  load(data, setTriggerValue) {
    this.trigger = setTriggerValue;
    if (!data) return;
    const parsed = parsePayload(data);
    if (this.payload && parsed.headerText === this.payload.headerText) return; // same step, nothing to do
    const sameStep = this.payload && parsed.header.step === this.payload.header.step;
    this.spareCanvases();
    this.payload = parsed;
    this.h = parsed.header;
    const axesText = JSON.stringify(this.h.axes);
    if (axesText !== this.axesText) this.overlays.clear(); // another network, other labels
    this.axesText = axesText;
    this.cards.clear();
    this.images.clear();
    if (!sameStep) {
      this.phase = Math.min(Math.max(this.h.start, 0), this.h.phases.length - 1);
      this.sample = this.h.sample || 0;
      this.selected = null;
      this.stopPlay();
      this.focus = this.phaseBlock(this.phase) ?? 0;
    }
    this.phase = Math.min(this.phase, this.h.phases.length - 1);
    if (this.focus !== "input" && this.focus >= this.h.blocks.length) this.focus = 0;
    this.root.dataset.step = String(this.h.step);
    this.made = 0;
    this.renderAll();
    // how many canvases drawing this step's first screen had to make (read by the browser tests)
    this.root.dataset.canvasesMade = String(this.made);
  }

  tensor(id) {
    return id === null || id === undefined ? null : this.h.tensors[id];
  }

  // the canvases of the cards and images about to be replaced, kept by use and size for the new ones
  spareCanvases() {
    this.spare = new Map();
    const keep = (canvas) => {
      const key = `${canvas._role} ${canvas.width}×${canvas.height}`;
      if (!this.spare.has(key)) this.spare.set(key, []);
      this.spare.get(key).push(canvas);
    };
    for (const box of this.cards.values()) box.querySelectorAll("canvas").forEach(keep);
    for (const [key, image] of this.images) if (!key.startsWith("strip:")) keep(image);
  }

  // a blank canvas of width×height device pixels for one use (a matrix, tiles, a legend, an image):
  // a spare one of that use and size, else a new one
  takeCanvas(width, height, role) {
    const canvas = (this.spare.get(`${role} ${width}×${height}`) || []).pop();
    if (!canvas) {
      this.made = (this.made || 0) + 1;
      const made = document.createElement("canvas");
      made.width = width;
      made.height = height;
      made._role = role;
      return made;
    }
    canvas.remove();
    const ctx = canvas.getContext("2d");
    if (ctx.reset) ctx.reset();
    else canvas.width = width; // browsers without reset(): setting the size clears and resets too
    return canvas;
  }

  // a canvas for w×h CSS pixels at the screen's pixel ratio, its context scaled to CSS pixels
  cssCanvas(w, h, role) {
    const dpr = window.devicePixelRatio || 1;
    const canvas = this.takeCanvas(Math.ceil(w * dpr), Math.ceil(h * dpr), role);
    canvas.style.width = `${w}px`;
    canvas.style.height = `${h}px`;
    const ctx = canvas.getContext("2d");
    ctx.scale(dpr, dpr);
    return { canvas, ctx };
  }

  // hover and click on a drawn tensor; bound once per canvas, which may show another step later
  listen(canvas, t, L) {
    canvas._drawn = { t, L };
    if (canvas._listening) return;
    canvas._listening = true;
    canvas.addEventListener("mousemove", (e) => this.hover(e, canvas._drawn.t, canvas._drawn.L, canvas));
    canvas.addEventListener("mouseleave", () => (this.q(".bp-tip").hidden = true));
    canvas.addEventListener("click", (e) => this.click(e, canvas._drawn.t, canvas._drawn.L, canvas));
  }

  find(block, key) {
    return this.h.tensors.find((t) => t.block === block && t.key === key);
  }

  phaseBlock(index) {
    const p = this.h.phases[index];
    if (!p) return null;
    if (p.kind === "forward" || p.kind === "backward") return p.layer;
    if (p.kind === "loss") return this.h.blocks.length - 1;
    return null;
  }

  // ----------------------------------------------------------- stepping
  last() {
    return this.h.phases.length - 1;
  }

  go(index) {
    if (!this.h) return;
    const target = Math.min(Math.max(index, 0), this.last());
    if (target === this.phase) return;
    this.phase = target;
    const block = this.phaseBlock(target);
    const moved = block !== null && block !== this.focus;
    if (block !== null) this.focus = block;
    this.renderPhase(moved);
  }

  next() {
    if (!this.h) return;
    if (this.phase >= this.last()) {
      this.stopPlay();
      if (this.trigger) this.trigger("next_step", { step: this.h.step, t: Date.now() });
      return;
    }
    this.go(this.phase + 1);
  }

  togglePlay() {
    if (this.timer) return this.stopPlay();
    if (this.phase >= this.last()) this.go(0);
    const delay = Number(this.q("[data-action=speed]").value);
    this.q("[data-action=play]").textContent = "❚❚ Pause";
    this.timer = setInterval(() => {
      if (this.phase >= this.last()) this.stopPlay();
      else this.go(this.phase + 1);
    }, delay);
  }

  stopPlay() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const button = this.q("[data-action=play]");
    if (button) button.textContent = "▶ Play";
  }

  // ----------------------------------------------------------- rendering
  renderAll() {
    this.width = this.root.clientWidth || 1000;
    this.renderChips();
    this.renderNet();
    this.renderPhase(true);
    this.warm();
  }

  // Build the cards of the other layers ahead, while the browser is idle, in small jobs,
  // so that a step to another layer only swaps prepared cards in.
  warm() {
    const token = (this.warmToken = {});
    const jobs = [];
    this.h.blocks.forEach((b, k) => {
      for (const { t, width } of this.layoutBlock(k)) jobs.push(() => this.card(t, width, true));
    });
    const idle = window.requestIdleCallback || ((f) => setTimeout(() => f({ timeRemaining: () => 8 }), 16));
    const run = (deadline) => {
      if (token !== this.warmToken) return;
      while (jobs.length && deadline.timeRemaining() > 4) jobs.shift()();
      if (jobs.length) idle(run);
    };
    // after the rest of the page has arrived: the elements below the player come in the same run
    setTimeout(() => idle(run), 400);
  }

  renderPhase(rebuild = false) {
    const p = this.h.phases[this.phase];
    const accent = ACCENTS[p.kind];
    this.root.dataset.phase = String(this.phase);
    this.root.dataset.phaseLabel = p.label;
    this.root.style.setProperty("--bp-accent", accent);
    const slider = this.q(".bp-slider");
    slider.max = String(this.last());
    slider.value = String(this.phase);
    this.q(".bp-where").textContent = `${this.phase} / ${this.last()} · ${p.label}`;
    this.q("[data-action=back]").disabled = this.phase === 0;
    const nextButton = this.q("[data-action=next]");
    const atEnd = this.phase >= this.last();
    nextButton.textContent = atEnd ? "Next step ▸" : "Next ▸";
    nextButton.title = atEnd ? "A new batch: the server computes the next step" : "Next phase (→)";
    this.chips.forEach((chip, k) => {
      chip.className = "bp-chip" + (k === this.phase ? " current" : k < this.phase ? " done" : "");
      chip.style.background = k === this.phase ? ACCENTS[this.h.phases[k].kind] : "";
      chip.setAttribute("aria-selected", String(k === this.phase));
    });
    this.q(".bp-explain").style.borderLeftColor = accent;
    this.q(".bp-summary").textContent = p.summary;
    this.q(".bp-eq").textContent = p.equations.join("\n");
    this.paintNet();
    if (rebuild || !this.slots.length) this.renderFocus();
    else this.refreshFocus();
  }

  renderChips() {
    const box = this.q(".bp-chips");
    box.replaceChildren();
    this.chips = this.h.phases.map((p, k) => {
      const chip = el("button", "bp-chip", p.label);
      chip.type = "button";
      chip.setAttribute("role", "tab");
      chip.addEventListener("click", () => this.go(k));
      box.appendChild(chip);
      return chip;
    });
  }

  // ------------------------------------------------------------ diagram
  columns() {
    const h = this.h;
    const first = h.blocks[0];
    const x = this.tensor(h.inputs[0]);
    const inputSub = x.maps ? `${x.shape[1]}×${x.shape[2]}×${x.shape[3]} image` : first.kind === "embed" ? `${x.shape[1]} token ids` : `${first.n_in} features`;
    const cols = [{ kind: "input", size: first.n_in, title: "Input", sub: inputSub, block: "input", dense: first.kind === "dense" }];
    h.blocks.forEach((b, k) => {
      const last = k === h.blocks.length - 1;
      const extra = b.kind === "dense" ? [b.activation, ...b.stages.filter((s) => s === "batch_norm" || s === "dropout").map((s) => s.replace("_", " "))].join(" + ") + " · " : b.sub;
      cols.push({
        kind: last ? "output" : "hidden",
        size: b.n_out,
        title: last ? `Output · layer ${k + 1}` : `Layer ${k + 1} · ${b.kind}`,
        sub: `${extra}${b.n_out} ${b.kind === "dense" && b.n_out <= MAX_UNITS_DRAWN ? "units" : "values"}`,
        block: k,
        dense: b.kind === "dense",
      });
    });
    return cols;
  }

  renderNet() {
    const box = this.q(".bp-net");
    const cols = this.columns();
    const width = Math.max(this.width, 480);
    const drawn = (c) => c.dense && c.size <= MAX_UNITS_DRAWN;
    const maxSmall = Math.max(...cols.map((c) => (drawn(c) ? c.size : 0)), 4);
    const height = Math.max(230, Math.min(360, 70 + maxSmall * 24));
    const top = 34, bottom = height - 48;
    const left = 70, right = width - 150;
    const step = (right - left) / Math.max(cols.length - 1, 1);
    const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, height, role: "img", "aria-label": "Network diagram" });
    const edges = svg("g");
    const nodes = svg("g");
    const labels = svg("g");
    root.append(edges, nodes, labels);
    this.net = { root, cols: [], edges: [], flows: [], loss: null, height, top, bottom };
    cols.forEach((c, k) => {
      const x = left + k * step;
      const g = svg("g", { class: "col", "data-column": String(k) });
      g.addEventListener("click", () => this.setFocus(c.block));
      const info = { ...c, x, g, units: [] };
      if (drawn(c)) {
        const gap = Math.min(26, (bottom - top) / Math.max(c.size, 1));
        const r = Math.max(4, Math.min(10, gap / 2 - 2));
        const y0 = (top + bottom) / 2 - ((c.size - 1) * gap) / 2;
        for (let u = 0; u < c.size; u++) {
          const circle = svg("circle", { cx: x, cy: y0 + u * gap, r, class: "unit", fill: "#fff", stroke: "#868e96", "stroke-width": 1.2 });
          g.appendChild(circle);
          info.units.push({ x, y: y0 + u * gap, node: circle });
        }
        info.y0 = y0 - r;
        info.y1 = y0 + (c.size - 1) * gap + r;
      } else {
        const band = svg("rect", { x: x - 13, y: top, width: 26, height: bottom - top, rx: 6, class: "band", fill: "#f1f3f5", stroke: "#868e96" });
        const strip = svg("image", { x: x - 9, y: top + 4, width: 18, height: bottom - top - 8, preserveAspectRatio: "none" });
        strip.style.imageRendering = "pixelated";
        g.append(band, strip);
        info.band = band;
        info.strip = strip;
        info.y0 = top;
        info.y1 = bottom;
      }
      g.appendChild(svg("text", { x, y: height - 28, "text-anchor": "middle", class: "col-title" }, c.title));
      g.appendChild(svg("text", { x, y: height - 12, "text-anchor": "middle", class: "col-sub" }, c.sub));
      const mark = svg("rect", { x: x - 30, y: top - 22, width: 60, height: bottom - top + 28, rx: 8, class: "focus-mark", visibility: "hidden" });
      g.insertBefore(mark, g.firstChild);
      info.mark = mark;
      nodes.appendChild(g);
      this.net.cols.push(info);
    });
    // edges of each block, between column k and k + 1
    this.h.blocks.forEach((b, k) => {
      const a = this.net.cols[k], z = this.net.cols[k + 1];
      const g = svg("g", { class: "edges", "data-block": String(k) });
      g.style.cursor = "pointer";
      g.addEventListener("click", () => this.setFocus(k));
      const lines = [];
      if (b.kind === "dense" && a.units.length && z.units.length) {
        for (let i = 0; i < a.units.length; i++) {
          for (let j = 0; j < z.units.length; j++) {
            const line = svg("line", { x1: a.x, y1: a.units[i].y, x2: z.x, y2: z.units[j].y, "stroke-width": 1.4 });
            g.appendChild(line);
            lines.push({ i, j, line });
          }
        }
      } else {
        const poly = svg("polygon", {
          points: `${a.x + 14},${a.y0} ${z.x - 14},${z.y0} ${z.x - 14},${z.y1} ${a.x + 14},${a.y1}`,
          fill: "#e9ecef",
          stroke: "#ced4da",
        });
        g.appendChild(poly);
        g.appendChild(svg("text", { x: (a.x + z.x) / 2, y: (top + bottom) / 2 + 4, "text-anchor": "middle", class: "col-sub" }, b.edge));
        lines.push({ poly });
      }
      edges.appendChild(g);
      const flow = svg("text", { x: (a.x + z.x) / 2, y: 16, "text-anchor": "middle", class: "flow", visibility: "hidden" });
      labels.appendChild(flow);
      this.net.edges.push({ g, lines });
      this.net.flows.push(flow);
    });
    // the loss, right of the output column
    const out = this.net.cols[this.net.cols.length - 1];
    const lx = out.x + 40;
    const lossG = svg("g", { class: "col" });
    const lossBox = svg("rect", { x: lx, y: (top + bottom) / 2 - 26, width: 100, height: 52, rx: 8, fill: "#fff", stroke: "#adb5bd", "stroke-width": 1.5 });
    const lossText = svg("text", { x: lx + 50, y: (top + bottom) / 2 - 4, "text-anchor": "middle", class: "col-title" }, "loss L");
    const lossValue = svg("text", { x: lx + 50, y: (top + bottom) / 2 + 14, "text-anchor": "middle", class: "col-sub" }, "");
    lossG.append(lossBox, lossText, lossValue);
    lossG.addEventListener("click", () => this.setFocus(this.h.blocks.length - 1));
    nodes.appendChild(lossG);
    this.net.loss = { g: lossG, box: lossBox, value: lossValue };
    box.replaceChildren(root);
  }

  setFocus(block) {
    this.focus = block;
    this.renderFocus();
    this.paintNet();
  }

  known(t) {
    return !!t && t.known <= this.phase;
  }

  // the values a column of the diagram shows for sample n: a batch row, or a per-sample tensor whole
  sampleValues(t, n) {
    const size = t.stored.reduce((a, b) => a * b, 1);
    if (t.maps || t.sample !== null || t.rows !== "sample") {
      const out = new Float64Array(size);
      for (let i = 0; i < size; i++) out[i] = valueAt(t, i);
      return out;
    }
    const r = Math.min(Math.floor(n / t.reduce[0]), t.stored[0] - 1);
    const out = new Float64Array(t.stored[1]);
    for (let c = 0; c < t.stored[1]; c++) out[c] = cell(t, r, c);
    return out;
  }

  paintNet() {
    if (!this.net) return;
    const h = this.h, lut = this.payload.lut;
    const p = h.phases[this.phase];
    const accent = ACCENTS[p.kind];
    const n = Math.min(this.sample, h.batch - 1);
    // units: the shown sample's input and outputs, once computed; rings: the gradient
    this.net.cols.forEach((c, k) => {
      const b = k === 0 ? null : h.blocks[k - 1];
      const t = k === 0 ? this.tensor(h.inputs[0]) : this.tensor(b.out);
      const grad = k === 0 ? null : this.tensor(b.grad);
      const shown = this.known(t);
      const gradShown = this.known(grad);
      const limit = shown ? t.stats.absmax || 1 : 1;
      if (c.units.length) {
        const values = shown ? this.sampleValues(t, n) : null;
        const glimit = gradShown ? grad.stats.absmax || 1 : 1;
        const gvalues = gradShown ? this.sampleValues(grad, n) : null;
        c.units.forEach((u, j) => {
          u.node.setAttribute("fill", values ? css(rgb(lut, values[j], limit)) : "#fff");
          if (gvalues) {
            u.node.setAttribute("stroke", css(rgb(lut, gvalues[j], glimit)));
            u.node.setAttribute("stroke-width", 3.5);
          } else {
            u.node.setAttribute("stroke", "#868e96");
            u.node.setAttribute("stroke-width", 1.2);
          }
        });
      } else if (c.strip) {
        if (shown) {
          const key = `strip:${t.id}:${t.rows === "sample" && !t.maps ? n : "s"}`;
          if (!this.images.has(key)) this.images.set(key, stripImage(this.sampleValues(t, n), limit, lut));
          c.strip.setAttribute("href", this.images.get(key));
        } else c.strip.removeAttribute("href");
      }
      const lit =
        (p.kind === "forward" && (p.layer === k - 1 || (k === 0 && p.layer === 0))) ||
        (p.kind === "backward" && p.layer === k - 1) ||
        (p.kind === "loss" && k === this.net.cols.length - 1);
      const ready = p.kind === "ready" || p.kind === "update";
      c.g.classList.toggle("dim", !lit && !ready);
      c.mark.setAttribute("visibility", c.block === this.focus ? "visible" : "hidden");
      if (c.band) c.band.setAttribute("stroke", lit ? accent : "#868e96");
      if (lit) c.units.forEach((u) => !gradShown && u.node.setAttribute("stroke", accent));
    });
    // edges: colour by W, width by |dW| once the backward pass reached the block
    h.blocks.forEach((b, k) => {
      const e = this.net.edges[k];
      const W = this.find(k, "W");
      const dW = this.find(k, "dW");
      const gradShown = this.known(dW);
      for (const item of e.lines) {
        if (item.line) {
          const wl = W.stats.absmax || 1;
          const gl = gradShown ? dW.stats.absmax || 1 : 1;
          item.line.setAttribute("stroke", css(rgb(lut, cell(W, item.i, item.j), wl)));
          const width = gradShown ? 0.8 + (3.6 * Math.abs(cell(dW, item.i, item.j))) / gl : 1.4;
          item.line.setAttribute("stroke-width", width.toFixed(2));
        }
      }
      const lit = ((p.kind === "forward" || p.kind === "backward") && p.layer === k) || p.kind === "update";
      e.g.classList.toggle("dim", !lit && p.kind !== "ready");
      e.g.style.filter = lit ? `drop-shadow(0 0 3px ${accent})` : "";
      for (const item of e.lines) if (item.poly) item.poly.setAttribute("stroke", lit ? accent : "#ced4da");
      const flow = this.net.flows[k];
      flow.textContent = p.kind === "update" ? b.update : p.layer === k ? p.flow || "" : "";
      flow.setAttribute("fill", accent);
      flow.setAttribute("visibility", flow.textContent ? "visible" : "hidden");
    });
    const loss = this.net.loss;
    const lossKnown = this.phase >= h.phases.findIndex((q) => q.kind === "loss");
    loss.value.textContent = lossKnown
      ? p.kind === "update" && h.loss_after !== null && h.loss_after !== undefined
        ? `${fmt(h.loss, 4)} → ${fmt(h.loss_after, 4)}`
        : `= ${fmt(h.loss, 5)}`
      : "not computed yet";
    loss.box.setAttribute("stroke", p.kind === "loss" ? accent : "#adb5bd");
    loss.box.setAttribute("stroke-width", p.kind === "loss" ? 3 : 1.5);
    loss.g.classList.toggle("dim", !(p.kind === "loss" || p.kind === "ready" || p.kind === "update"));
  }

  // ---------------------------------------------------------- focus panel
  groupCount() {
    return this.h.updated ? 3 : 2;
  }

  columnWidth() {
    const groups = this.groupCount();
    return Math.floor((this.width - GAP * (groups - 1)) / groups);
  }

  // every (tensor, width) the panel of block k draws, for warming
  layoutBlock(k) {
    const b = this.h.blocks[k];
    const width = this.columnWidth();
    const out = [];
    for (const section of b.sections) {
      for (const row of section.rows) {
        row.slice(0, this.groupCount()).forEach((id) => {
          if (id !== null && id !== undefined) out.push({ t: this.tensor(id), width });
        });
      }
    }
    if (k === this.h.blocks.length - 1) {
      const w = Math.min(Math.floor((this.width - GAP * (this.h.outputs.length - 1)) / this.h.outputs.length), width);
      for (const id of this.h.outputs) out.push({ t: this.tensor(id), width: w });
    }
    return out;
  }

  slot(t, width) {
    const holder = el("div", "bp-slot");
    const s = { t, width, holder, card: null, known: null };
    this.slots.push(s);
    this.fillSlot(s);
    return holder;
  }

  fillSlot(s) {
    const known = this.known(s.t);
    if (s.card && s.known === known) {
      s.card.classList.toggle("current", this.isCurrent(s.t));
      return;
    }
    const card = this.card(s.t, s.width, known);
    card.classList.toggle("current", this.isCurrent(s.t));
    s.holder.replaceChildren(card);
    s.card = card;
    s.known = known;
  }

  isCurrent(t) {
    return this.known(t) && t.known === this.phase && this.h.phases[this.phase].kind !== "ready";
  }

  // a phase change: only the cards whose state changed are swapped, the outline moves
  refreshFocus() {
    for (const s of this.slots) this.fillSlot(s);
    this.markSelection();
  }

  renderFocus() {
    const h = this.h;
    const title = this.q(".bp-focus-title");
    const grid = this.q(".bp-grid");
    this.slots = [];
    grid.replaceChildren();
    const hint = el("span", "hint", "Click a column of the diagram for another layer, a cell for its worked numbers.");
    if (this.focus === "input") {
      const x = this.tensor(h.inputs[0]);
      const what = x.maps ? `sample n = ${x.sample} · ${x.shape[1]} channel(s) of ${x.shape[2]}×${x.shape[3]}` : `${x.shape[0]} samples × ${x.shape[1]} ${h.blocks[0].kind === "embed" ? "positions" : "features"}`;
      title.replaceChildren(`Input ${x.label} · ${what}`, hint);
      grid.style.gridTemplateColumns = "1fr";
      grid.appendChild(this.slot(x, this.width - 40));
      this.markSelection();
      return;
    }
    const b = h.blocks[this.focus];
    const groups = this.groupCount();
    title.replaceChildren(`${b.label} of ${h.blocks.length} · ${b.title}`, hint);
    const columnWidth = this.columnWidth();
    grid.style.gridTemplateColumns = Array(groups).fill(`${columnWidth}px`).join(" ");
    const span = (node) => {
      node.style.gridColumn = "1 / -1";
      return node;
    };
    b.sections.forEach((section, k) => {
      if (section.title) grid.appendChild(span(el("div", "section", section.title)));
      if (k === 0 || section.heads.join() !== b.sections[k - 1].heads.join() || section.title) {
        for (let g = 0; g < groups; g++) grid.appendChild(el("div", "head", section.heads[g] || ""));
      }
      for (const row of section.rows) {
        for (let g = 0; g < groups; g++) {
          const id = row[g];
          grid.appendChild(id === null || id === undefined ? el("div") : this.slot(this.tensor(id), columnWidth));
        }
      }
      if (section.note) grid.appendChild(span(el("div", "bp-note", section.note)));
    });
    if (!h.updated) grid.appendChild(span(el("div", "bp-note", "Visualize only: no update is applied in this step (choose Train for the changes ΔW, Δb).")));
    if (this.focus === h.blocks.length - 1) {
      grid.appendChild(span(el("div", "section", `The loss (${h.loss_name}): output, targets and the gradient it sends back`)));
      const row = span(el("div", "bp-row"));
      const outputs = h.outputs.map((id) => this.tensor(id));
      const w = Math.floor((this.width - GAP * (outputs.length - 1)) / outputs.length);
      for (const t of outputs) row.appendChild(this.slot(t, Math.min(w, columnWidth)));
      grid.appendChild(row);
    }
    this.markSelection();
  }

  // one array with its caption and legend, or a placeholder before its phase
  card(t, width, known = this.known(t)) {
    const key = `${t.id}:${known}:${this.scaleMode}:${width}`;
    let box = this.cards.get(key);
    if (!box) {
      box = this.buildCard(t, width, known);
      this.cards.set(key, box);
    }
    return box;
  }

  buildCard(t, width, known) {
    const box = el("div", "bp-card");
    box.dataset.tensor = t.key;
    box.dataset.block = t.block === null ? "" : String(t.block);
    box.dataset.id = String(t.id);
    const layout = t.maps ? this.tileLayout(t, width) : this.layout(t, width);
    const phaseName = t.known < this.h.phases.length ? this.h.phases[t.known].label : "the update";
    const cap = el("div", "cap");
    cap.append(el("b", null, t.label), ` ${t.shape.slice(t.maps && t.shape[0] === 1 ? 1 : 0).join("×")}`);
    box.appendChild(cap);
    if (!known) {
      box.classList.add("pending");
      const ph = el("div", "box", `not computed yet: ${t.label} appears at ${phaseName}`);
      ph.style.width = `${Math.min(layout.total.w, width)}px`;
      ph.style.height = `${Math.max(Math.min(layout.total.h, 140), 30)}px`;
      box.appendChild(ph);
      return box;
    }
    const s = t.stats;
    cap.append(` · ${rangeText(t)}`);
    cap.title = `min ${exact(s.min)}, p25 ${exact(s.p25)}, median ${exact(s.median)}, p75 ${exact(s.p75)}, max ${exact(s.max)}`;
    if (t.note) box.appendChild(el("div", "sub", t.note));
    const wrap = el("div", "draw");
    const canvas = t.maps ? this.drawTiles(t, layout) : this.draw(t, layout);
    const mark = el("div", "sel");
    mark.hidden = true;
    wrap.append(canvas, mark);
    // where the cells are, in CSS pixels from the canvas's corner (read by the browser tests)
    wrap.dataset.geometry = JSON.stringify(
      t.maps
        ? { px: layout.px, tiles: Array.from({ length: t.tiles }, (_, k) => layout.origin(k)) }
        : { x: layout.labelW, y: layout.labelH, cw: layout.cw, ch: layout.ch },
    );
    box.appendChild(wrap);
    box._layout = layout;
    box._mark = mark;
    box.appendChild(this.legend(t, Math.min(Math.max(layout.total.w, 340), width, 460)));
    return box;
  }

  // the selected cell as an outline over the card, moved without redrawing anything
  markSelection() {
    for (const s of this.slots) {
      const card = s.card;
      if (!card || !card._mark) continue;
      const sel = this.selected;
      if (!sel || sel.id !== s.t.id) {
        card._mark.hidden = true;
        continue;
      }
      const L = card._layout;
      const r = s.t.maps ? L.tileRect(sel.tile, sel.r, sel.c) : { x: L.labelW + sel.c * L.cw, y: L.labelH + sel.r * L.ch, w: L.cw, h: L.ch };
      Object.assign(card._mark.style, {
        left: `${r.x - 1.5}px`,
        top: `${r.y - 1.5}px`,
        width: `${Math.max(r.w, 3) + 3}px`,
        height: `${Math.max(r.h, 3) + 3}px`,
      });
      card._mark.hidden = false;
    }
  }

  // the colours of a tensor at its stored resolution, once per colour scale: a canvas with
  // one row of pixels per stored row (maps: the tiles stacked)
  image(t) {
    const key = `${t.id}:${this.scaleMode}`;
    let canvas = this.images.get(key);
    if (canvas) return canvas;
    const width = t.tw, height = t.th * t.tiles;
    const img = new ImageData(width, height);
    const px = new Uint32Array(img.data.buffer);
    const lut32 = this.payload.lut32;
    const limits = this.scaleMode === "column" ? groupLimits(t) : null;
    const limit = t.stats.absmax || 1;
    // one multiplier per scale group (a column of a matrix, a tile of maps) turns a stored
    // number into its colour index in one tight loop: lutIndex(v, limit) without a call per cell
    const groups = t.maps ? t.tiles : width;
    const factor = new Float64Array(groups);
    for (let g = 0; g < groups; g++) {
      const groupLimit = limits ? limits[g] : limit;
      factor[g] = (t.enc === "f32" ? 1 : t.scale[g] / 127) * (127.5 / groupLimit);
    }
    const values = t.enc === "f32" ? t.data : t.q;
    const quantized = t.enc !== "f32";
    const perTile = t.th * t.tw;
    for (let tile = 0, i = 0; tile < t.tiles; tile++) {
      for (let p = 0; p < perTile; p++, i++) {
        const q = values[i];
        const f = factor[t.maps ? tile : i % width];
        if (quantized ? q === NAN_CODE : !Number.isFinite(q)) {
          px[i] = lut32[256];
          continue;
        }
        const k = Math.round(q * f + 127.5);
        px[i] = lut32[k < 0 ? 0 : k > 255 ? 255 : k];
      }
    }
    canvas = this.takeCanvas(width, height, "image");
    canvas.getContext("2d").putImageData(img, 0, 0);
    this.images.set(key, canvas);
    return canvas;
  }

  // cell sizes of a matrix: batch rows stay readable, columns line up within a layer
  layout(t, width) {
    const [rows] = t.shape;
    const [srows, scols] = t.stored;
    const labelW = rows > 1 ? 44 : 30;
    const labelH = 16;
    const avail = Math.max(width - labelW - 6, 60);
    let cw = Math.min(52, Math.floor(avail / scols));
    if (cw < 1) cw = avail / scols;
    let ch;
    if (srows === 1) ch = Math.max(16, Math.min(22, cw));
    else if (t.rows === "sample" || t.rows === "pos") ch = srows <= 48 ? (cw >= 34 ? 16 : 13) : Math.max(2, Math.floor(380 / srows));
    else ch = Math.max(1, Math.min(22, Math.floor(260 / srows)));
    const w = Math.ceil(cw * scols), hgt = Math.ceil(ch * srows);
    return { cw, ch, labelW, labelH, w, h: hgt, total: { w: w + labelW, h: hgt + labelH } };
  }

  // tiles of maps: a 1×B grid wraps into rows that fit; an A×B grid (kernels) keeps its rows
  tileLayout(t, width) {
    const [A, B, th, tw] = t.stored;
    const wrap = A === 1 || B === 1; // a list of tiles (one sample's channels, one input channel's kernels)
    const side = Math.max(th, tw);
    // small tiles with named rows and columns (attention: positions and their tokens) get them written
    const named = side <= 6 && t.tile && this.h.axes[t.tile[0]] && this.h.axes[t.tile[0]].labels;
    const labelW = wrap ? (named ? 36 : 0) : 30;
    const labelH = 15;
    const footH = named ? 14 : 0;
    const avail = Math.max(width - labelW - 6, 60);
    const small = side <= 8;
    const maxPx = side <= 6 ? 46 : side <= 16 ? 24 : 12;
    const count = A * B;
    let perRow = count, px = 1;
    if (wrap) {
      for (perRow = count; perRow >= 1; perRow--) {
        px = Math.floor((avail - (perRow - 1) * TILE_GAP) / (perRow * tw));
        if (px >= (small ? 8 : 4) || perRow === 1) break;
      }
      px = Math.max(1, Math.min(px, maxPx));
    } else {
      px = Math.floor((avail - (B - 1) * TILE_GAP) / (B * tw));
      px = Math.min(px, maxPx, Math.max(1, Math.floor((420 - (A - 1) * (TILE_GAP + labelH)) / (A * th))));
      px = Math.max(1, px);
    }
    const rowsOfTiles = wrap ? Math.ceil(count / perRow) : A;
    const colsOfTiles = wrap ? Math.min(perRow, count) : B;
    const tileW = tw * px, tileH = th * px;
    const headH = wrap ? labelH : 0; // a label above every tile when wrapped
    const gapX = named ? TILE_GAP + labelW : TILE_GAP;
    const totalW = labelW + colsOfTiles * tileW + (colsOfTiles - 1) * gapX + 1; // + the last border
    const totalH = (wrap ? 0 : labelH) + rowsOfTiles * (tileH + headH + footH) + (rowsOfTiles - 1) * TILE_GAP;
    const origin = (tile) => {
      const a = Math.floor(tile / B), b = tile % B;
      const row = wrap ? Math.floor(tile / perRow) : a;
      const col = wrap ? tile % perRow : b;
      return { x: labelW + col * (tileW + gapX), y: (wrap ? 0 : labelH) + row * (tileH + headH + footH + TILE_GAP) + headH };
    };
    return {
      px, perRow, wrap, tileW, tileH, labelW, labelH, headH, footH, named, origin,
      total: { w: totalW, h: totalH },
      tileRect: (tile, y, x) => {
        const o = origin(tile);
        return { x: o.x + x * px, y: o.y + y * px, w: px, h: px };
      },
    };
  }

  drawTiles(t, L) {
    const [A, B, th, tw] = t.stored;
    const { canvas, ctx } = this.cssCanvas(L.total.w, L.total.h, "tiles");
    canvas.dataset.columns = String(B);
    ctx.imageSmoothingEnabled = false;
    const source = this.image(t);
    const gridRows = this.h.axes[t.rows], gridCols = this.h.axes[t.cols];
    ctx.font = "11px sans-serif";
    ctx.fillStyle = "#444";
    ctx.textBaseline = "middle";
    const limits = this.scaleMode === "column" ? groupLimits(t) : null;
    for (let tile = 0; tile < A * B; tile++) {
      const o = L.origin(tile);
      ctx.drawImage(source, 0, tile * th, tw, th, o.x, o.y, L.tileW, L.tileH);
      ctx.strokeStyle = "#ced4da";
      ctx.lineWidth = 1;
      ctx.strokeRect(o.x - 0.5, o.y - 0.5, L.tileW + 1, L.tileH + 1);
      const a = Math.floor(tile / B), b = tile % B;
      ctx.fillStyle = "#444";
      if (L.wrap) {
        ctx.textAlign = "left";
        const name = [A > 1 ? axisLabel(gridRows, a, true) : "", B > 1 || A === 1 ? axisLabel(gridCols, b, true) : ""].filter(Boolean).join(" · ");
        ctx.fillText(name, o.x, o.y - 7);
      } else {
        if (a === 0) {
          ctx.textAlign = "center";
          ctx.fillText(axisLabel(gridCols, b, false), o.x + L.tileW / 2, o.y - 8);
        }
        if (b === 0) {
          ctx.textAlign = "right";
          ctx.fillText(axisLabel(gridRows, a, false), o.x - 4, o.y + L.tileH / 2);
        }
      }
      // masked cells hatched; numbers when cells are large enough to read
      for (let y = 0; y < th; y++) {
        for (let x = 0; x < tw; x++) {
          const v = tileCell(t, tile, y, x);
          const cx = o.x + x * L.px, cy = o.y + y * L.px;
          if (!Number.isFinite(v)) {
            ctx.strokeStyle = "#adb5bd";
            ctx.beginPath();
            for (let d = -L.px; d < L.px; d += 5) {
              ctx.moveTo(cx + Math.max(d, 0), cy + Math.max(-d, 0));
              ctx.lineTo(cx + Math.min(d + L.px, L.px), cy + Math.min(L.px - d, L.px));
            }
            ctx.stroke();
          } else if (L.px >= 30 && t.enc === "f32") {
            const k = lutIndex(v, limits ? limits[tile] : t.stats.absmax || 1);
            ctx.fillStyle = k < 40 || k > 215 ? "#fff" : "#222";
            ctx.textAlign = "center";
            ctx.fillText(fmt(v, 3), cx + L.px / 2, cy + L.px / 2 + 0.5);
          }
        }
      }
      if (L.px >= 10) {
        ctx.strokeStyle = "rgba(255,255,255,0.7)";
        ctx.beginPath();
        for (let x = 1; x < tw; x++) {
          ctx.moveTo(o.x + x * L.px + 0.5, o.y);
          ctx.lineTo(o.x + x * L.px + 0.5, o.y + L.tileH);
        }
        for (let y = 1; y < th; y++) {
          ctx.moveTo(o.x, o.y + y * L.px + 0.5);
          ctx.lineTo(o.x + L.tileW, o.y + y * L.px + 0.5);
        }
        ctx.stroke();
      }
      // named rows left of each tile and columns under it (attention: query and key positions)
      if (L.named) {
        const rowAxis = this.h.axes[t.tile[0]], colAxis = this.h.axes[t.tile[1]];
        ctx.fillStyle = "#555";
        ctx.font = "10.5px sans-serif";
        ctx.textAlign = "right";
        for (let y = 0; y < th; y++) ctx.fillText(axisLabel(rowAxis, y, false), o.x - 3, o.y + (y + 0.5) * L.px);
        ctx.textAlign = "center";
        for (let x = 0; x < tw; x++) ctx.fillText(axisLabel(colAxis, x, false), o.x + (x + 0.5) * L.px, o.y + L.tileH + 8);
        ctx.font = "11px sans-serif";
      }
    }
    this.listen(canvas, t, L);
    return canvas;
  }

  draw(t, L) {
    const [srows, scols] = t.stored;
    const { canvas, ctx } = this.cssCanvas(L.total.w, L.total.h, "matrix");
    ctx.imageSmoothingEnabled = false;
    const x0 = L.labelW, y0 = L.labelH;
    ctx.drawImage(this.image(t), x0, y0, L.w, L.h);
    const overlay = this.overlay(t, L);
    if (overlay) ctx.drawImage(overlay, 0, 0, L.total.w, L.total.h);
    else this.labels(ctx, t, L);
    if (L.cw >= 38 && L.ch >= 13 && t.enc === "f32") {
      const limits = this.scaleMode === "column" ? groupLimits(t) : null;
      const matrixLimit = t.stats.absmax || 1;
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.font = `${L.ch >= 16 ? 11 : 10}px sans-serif`;
      for (let r = 0; r < srows; r++) {
        for (let c = 0; c < scols; c++) {
          const v = cell(t, r, c);
          const k = lutIndex(v, limits ? limits[c] : matrixLimit);
          ctx.fillStyle = k < 40 || k > 215 ? "#fff" : "#222";
          ctx.fillText(fmt(v, 3), x0 + (c + 0.5) * L.cw, y0 + (r + 0.5) * L.ch + 0.5);
        }
      }
    }
    this.listen(canvas, t, L);
    return canvas;
  }

  // a matrix card's labels and grid as an image, for a layout drawn before (null the first time: a
  // card drawn once, as on the first step, writes them itself and costs no extra canvas)
  overlay(t, L) {
    const dpr = window.devicePixelRatio || 1;
    const key = [t.rows, t.cols, t.shape, t.reduce, t.stored, L.cw, L.ch, L.labelW, L.total.w, L.total.h, dpr].join("|");
    let overlay = this.overlays.get(key);
    if (overlay === undefined) {
      this.overlays.set(key, null);
      return null;
    }
    if (overlay === null) {
      overlay = document.createElement("canvas");
      overlay.width = Math.ceil(L.total.w * dpr);
      overlay.height = Math.ceil(L.total.h * dpr);
      const ctx = overlay.getContext("2d");
      ctx.scale(dpr, dpr);
      this.labels(ctx, t, L);
      this.overlays.set(key, overlay);
    }
    return overlay;
  }

  // the white grid over large cells, the row labels on the left and column labels on top (thinned to
  // stay apart): what a matrix's card draws besides its values, the same at every step of one network
  labels(ctx, t, L) {
    const [srows, scols] = t.stored;
    const x0 = L.labelW, y0 = L.labelH;
    ctx.font = "11px sans-serif";
    ctx.textBaseline = "middle";
    if (L.cw >= 10 && L.ch >= 10) {
      ctx.strokeStyle = "rgba(255,255,255,0.7)";
      ctx.lineWidth = 1;
      ctx.beginPath();
      for (let c = 1; c < scols; c++) {
        ctx.moveTo(x0 + c * L.cw + 0.5, y0);
        ctx.lineTo(x0 + c * L.cw + 0.5, y0 + L.h);
      }
      for (let r = 1; r < srows; r++) {
        ctx.moveTo(x0, y0 + r * L.ch + 0.5);
        ctx.lineTo(x0 + L.w, y0 + r * L.ch + 0.5);
      }
      ctx.stroke();
    }
    ctx.fillStyle = "#444";
    ctx.textAlign = "right";
    const rowAxis = this.h.axes[t.rows], colAxis = this.h.axes[t.cols];
    const rowEvery = Math.max(1, Math.ceil(13 / L.ch));
    if (t.shape[0] > 1) {
      for (let r = 0; r < srows; r += rowEvery) {
        ctx.fillText(axisLabel(rowAxis, r * t.reduce[0], true), x0 - 4, y0 + (r + 0.5) * L.ch);
      }
    }
    ctx.textAlign = "center";
    const longest = colAxis && colAxis.labels ? Math.max(...colAxis.labels.map((s) => String(s).length)) : colAxis && colAxis.unravel ? 6 : 3;
    const colEvery = Math.max(1, Math.ceil((8 + 6.2 * longest) / L.cw));
    for (let c = 0; c < scols; c += colEvery) {
      ctx.fillText(axisLabel(colAxis, c * t.reduce[1], false), x0 + (c + 0.5) * L.cw, y0 - 8);
    }
  }

  // the stored cell under the pointer: {r, c} of a matrix, {tile, r, c} of maps
  at(e, t, L, canvas) {
    const box = canvas.getBoundingClientRect();
    const x = e.clientX - box.left, y = e.clientY - box.top;
    if (t.maps) {
      for (let tile = 0; tile < t.tiles; tile++) {
        const o = L.origin(tile);
        if (x >= o.x && x < o.x + L.tileW && y >= o.y && y < o.y + L.tileH) {
          return { tile, r: Math.floor((y - o.y) / L.px), c: Math.floor((x - o.x) / L.px) };
        }
      }
      return null;
    }
    const c = Math.floor((x - L.labelW) / L.cw), r = Math.floor((y - L.labelH) / L.ch);
    if (c < 0 || r < 0 || c >= t.stored[1] || r >= t.stored[0]) return null;
    return { r, c };
  }

  // the full index of a hit: [row, col] of a matrix (the first of its block), [a, b, y, x] of maps
  index(t, hit) {
    if (t.maps) return [Math.floor(hit.tile / t.stored[1]), hit.tile % t.stored[1], hit.r, hit.c];
    return [hit.r * t.reduce[0], hit.c * t.reduce[1]];
  }

  hover(e, t, L, canvas) {
    const tip = this.q(".bp-tip");
    const hit = this.at(e, t, L, canvas);
    if (!hit) {
      tip.hidden = true;
      return;
    }
    const ax = this.h.axes;
    let where, v;
    if (t.maps) {
      const [a, b, y, x] = this.index(t, hit);
      v = tileCell(t, hit.tile, hit.r, hit.c);
      const parts = [];
      if (t.shape[0] > 1) parts.push(`${ax[t.rows].title} = ${axisLabel(ax[t.rows], a, true, true)}`);
      if (t.shape[1] > 1 || ax[t.cols].labels) parts.push(`${ax[t.cols].title} = ${axisLabel(ax[t.cols], b, true, true)}`);
      const tr = t.tile ? ax[t.tile[0]] : null, tc = t.tile ? ax[t.tile[1]] : null;
      parts.push(`${tr ? tr.title : "row"} = ${axisLabel(tr, y, true, true)}`, `${tc ? tc.title : "column"} = ${axisLabel(tc, x, true, true)}`);
      where = parts.join(", ");
    } else {
      const [br, bc] = t.reduce;
      const [i, j] = this.index(t, hit);
      v = cell(t, hit.r, hit.c);
      const part = (axis, index, size, span) => {
        const name = axis && axis.title;
        if (!name) return null;
        const end = Math.min(index + span, size) - 1;
        return span > 1 ? `${name} ${index}–${end}` : `${name} = ${axisLabel(axis, index, true, true)}`;
      };
      where = [part(ax[t.rows], i, t.shape[0], br), part(ax[t.cols], j, t.shape[1], bc)].filter(Boolean).join(", ");
    }
    const reduced = t.reduce[0] > 1 || t.reduce[1] > 1;
    const value = !Number.isFinite(v) && t.enc === "f32"
      ? "masked (a future position)"
      : t.enc === "f32"
        ? `= ${exact(v)}`
        : `≈ ${fmt(v, 3)} (${reduced ? "block mean, " : ""}rounded; click for the exact number)`;
    tip.textContent = `${shortLabel(t)}[${where}] ${value}\nclick: worked numbers below`;
    const rootBox = this.root.getBoundingClientRect();
    tip.style.left = `${Math.min(e.clientX - rootBox.left + 14, rootBox.width - 300)}px`;
    tip.style.top = `${e.clientY - rootBox.top + 16}px`;
    tip.hidden = false;
  }

  click(e, t, L, canvas) {
    const hit = this.at(e, t, L, canvas);
    if (!hit) return;
    this.selected = { id: t.id, tile: hit.tile, r: hit.r, c: hit.c };
    const index = this.index(t, hit);
    if (!t.maps && t.rows === "sample") this.sample = index[0];
    this.markSelection();
    this.paintNet();
    if (this.trigger) {
      this.trigger("inspect", {
        step: this.h.step,
        phase: this.phase,
        block: t.block,
        tensor: t.key,
        row: t.maps ? index[2] : index[0],
        col: t.maps ? index[3] : index[1],
        index,
        sample: t.sample,
        t: Date.now(),
      });
    }
  }

  // the colour scale as a 256×1 image, made once per payload: every legend scales it
  lutBar() {
    if (this.payload.bar) return this.payload.bar;
    const canvas = document.createElement("canvas");
    canvas.width = 256;
    canvas.height = 1;
    const img = new ImageData(256, 1);
    new Uint32Array(img.data.buffer).set(this.payload.lut32.subarray(0, 256));
    canvas.getContext("2d").putImageData(img, 0, 0);
    this.payload.bar = canvas;
    return canvas;
  }

  legend(t, width) {
    const s = t.stats;
    const perColumn = this.scaleMode === "column" && (t.maps ? t.tiles > 1 : t.stored[1] > 1);
    const limit = s.absmax || 1;
    const h = 56;
    const { canvas, ctx } = this.cssCanvas(width, h, "legend");
    canvas.className = "legend";
    const x0 = 8, x1 = width - 8, y = 4, barH = 9;
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.lutBar(), x0, y, x1 - x0, barH);
    ctx.strokeStyle = "#adb5bd";
    ctx.strokeRect(x0, y, x1 - x0, barH);
    ctx.font = "10.5px sans-serif";
    ctx.fillStyle = "#444";
    ctx.textBaseline = "top";
    const pos = (v) => x0 + ((v / limit + 1) / 2) * (x1 - x0);
    if (perColumn) {
      const unit = t.maps ? "tile" : "col";
      ctx.textAlign = "left";
      ctx.fillText(`−max|${unit}|`, x0, y + barH + 3);
      ctx.textAlign = "center";
      ctx.fillText("0", (x0 + x1) / 2, y + barH + 3);
      ctx.textAlign = "right";
      ctx.fillText(`+max|${unit}|`, x1, y + barH + 3);
      ctx.textAlign = "left";
      ctx.fillText(`each ${t.maps ? "tile" : "column"} on its own scale · min ${fmt(s.min)} · median ${fmt(s.median)} · max ${fmt(s.max)}`, x0, y + barH + 17);
      return canvas;
    }
    const marks = [
      ["min", s.min],
      ["p25", s.p25],
      ["med", s.median],
      ["p75", s.p75],
      ["max", s.max],
    ];
    // ticks on the bar with short names above the numbers; a name that would touch its
    // neighbour is left out, the numbers are all written on the line below
    ctx.textAlign = "center";
    let lastEnd = -1e9;
    for (const [name, v] of marks) {
      if (v === null || v === undefined) continue;
      const x = pos(v);
      ctx.strokeStyle = "#222";
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      ctx.moveTo(x, y - 2);
      ctx.lineTo(x, y + barH + 2);
      ctx.stroke();
      const w = ctx.measureText(name).width;
      const tx = Math.min(Math.max(x, x0 + w / 2), x1 - w / 2);
      if (tx - w / 2 > lastEnd + 3) {
        ctx.fillText(name, tx, y + barH + 3);
        lastEnd = tx + w / 2;
      }
    }
    ctx.textAlign = "left";
    ctx.fillStyle = "#333";
    const numbers = `min ${fmt(s.min)} · p25 ${fmt(s.p25)} · median ${fmt(s.median)} · p75 ${fmt(s.p75)} · max ${fmt(s.max)}`;
    ctx.fillText(numbers, x0, y + barH + 16);
    ctx.fillStyle = "#777";
    ctx.fillText(`scale ±${fmt(limit)}: blue < 0 (white) < red`, x0, y + barH + 29);
    return canvas;
  }
}

// ------------------------------------------------------------------ helpers
function axisLabel(axis, index, long, full) {
  if (!axis) return String(index);
  if (axis.labels && axis.labels[index] !== undefined) {
    const label = String(axis.labels[index]);
    return full ? label : label.length > 8 && !long ? label.slice(0, 7) + "…" : label;
  }
  if (axis.pixels) {
    const cols = axis.pixels[1];
    return full ? `${index} (pixel row ${Math.floor(index / cols)}, col ${index % cols})` : String(index);
  }
  if (axis.unravel) {
    const parts = [];
    let rest = index;
    for (let k = axis.unravel.length - 1; k >= 0; k--) {
      parts.unshift(rest % axis.unravel[k]);
      rest = Math.floor(rest / axis.unravel[k]);
    }
    return full ? `${index} (${axis.names.map((n, k) => `${n} ${parts[k]}`).join(", ")})` : parts.join(",");
  }
  return String(index);
}

// a tensor's name without its formula: "a²" of "a² = softmax of each row"
function shortLabel(t) {
  return t.label.split(" = ")[0].split(" (")[0];
}

function rangeText(t) {
  const s = t.stats;
  if (s.min === null) return "no finite values";
  return `min ${fmt(s.min)} · max ${fmt(s.max)}` + (t.enc === "q8" && (t.reduce[0] > 1 || t.reduce[1] > 1) ? ` · drawn as ${t.reduce[0]}×${t.reduce[1]} block means` : "");
}

function stripImage(values, limit, lut) {
  const canvas = document.createElement("canvas");
  canvas.width = 1;
  canvas.height = values.length;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(1, values.length);
  values.forEach((v, k) => {
    const c = rgb(lut, v, limit);
    img.data.set([c[0], c[1], c[2], 255], 4 * k);
  });
  ctx.putImageData(img, 0, 0);
  return canvas.toDataURL();
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let player = PLAYERS.get(parentElement);
  if (!player) {
    player = new Player(parentElement);
    PLAYERS.set(parentElement, player);
  }
  try {
    player.load(data, setTriggerValue);
  } catch (err) {
    const message = document.createElement("pre");
    message.textContent = `The step player could not read this step: ${err.message}`;
    parentElement.appendChild(message);
    throw err;
  }
}
