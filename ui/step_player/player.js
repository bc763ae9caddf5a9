// The step player: one training step, revealed phase by phase, entirely in the browser.
//
// Streamlit calls the default export again on the same parentElement whenever the
// payload changes; the player keeps its own state per parentElement (a WeakMap) and
// re-renders. Stepping, playing, hovering and choosing a layer never talk to the
// server; only a click on a cell ("inspect": its worked numbers) and Next at the end
// of the step ("next_step": a new batch) do, as trigger values.
// The payload layout is written in viz/step_payload.py; colours come in it (LUT).

const PLAYERS = new WeakMap();
const MAGIC = "BPS1";
const NAN_CODE = -128;
const ACCENTS = { ready: "#868e96", forward: "#f08c00", loss: "#e8590c", backward: "#7048e8", update: "#2b8a3e" };
const PARTNERS = {
  backward: { W: "dW", b: "db", gamma: "dgamma", beta: "dbeta", normalized: "d_affine", z: "dz", a: "da" },
  update: { W: "delta_W", b: "delta_b", gamma: "delta_gamma", beta: "delta_beta" },
};
const SVG = "http://www.w3.org/2000/svg";
const MAX_UNITS_DRAWN = 16;

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
    const [rows, cols] = t.stored;
    if (t.enc === "f32") {
      t.data = new Float32Array(buffer, t.offset, rows * cols);
    } else {
      t.q = new Int8Array(buffer, t.offset, rows * cols);
      t.scale = new Float32Array(buffer, t.scale_offset, cols);
    }
  }
  return { header, headerText, lut };
}

// value of stored cell (r, c)
function cell(t, r, c) {
  const cols = t.stored[1];
  if (t.enc === "f32") return t.data[r * cols + c];
  const q = t.q[r * cols + c];
  return q === NAN_CODE ? NaN : (q / 127) * t.scale[c];
}

function columnLimits(t) {
  const [rows, cols] = t.stored;
  const out = new Float64Array(cols);
  for (let c = 0; c < cols; c++) {
    let m = 0;
    for (let r = 0; r < rows; r++) {
      const v = Math.abs(cell(t, r, c));
      if (v > m) m = v;
    }
    out[c] = m > 0 ? m : 1;
  }
  return out;
}

function fmt(v, digits = 3) {
  if (v === null || v === undefined) return "—";
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(Math.max(digits - 1, 0)).replace("e", "e");
  return String(Number(v.toPrecision(digits)));
}

function exact(v) {
  return fmt(v, 6);
}

function rgb(lut, v, limit) {
  if (!Number.isFinite(v)) return [120, 120, 120];
  let k = Math.round((v / limit + 1) * 127.5);
  k = k < 0 ? 0 : k > 255 ? 255 : k;
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
    this.step = null;
    this.focus = 0; // block index, or "input"
    this.sample = 0;
    this.scaleMode = "matrix";
    this.timer = null;
    this.cache = new Map(); // tensor id + scale -> rendered canvas
    this.selected = null;
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
    this.payload = parsed;
    this.h = parsed.header;
    this.cache.clear();
    if (!sameStep) {
      this.phase = Math.min(Math.max(this.h.start, 0), this.h.phases.length - 1);
      this.sample = this.h.sample || 0;
      this.selected = null;
      this.stopPlay();
      this.focus = this.phaseBlock(this.phase) ?? 0;
    }
    this.phase = Math.min(this.phase, this.h.phases.length - 1);
    this.root.dataset.step = String(this.h.step);
    this.renderAll();
  }

  tensor(id) {
    return this.h.tensors[id];
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
    if (block !== null) this.focus = block;
    this.renderPhase();
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
    this.renderPhase();
    this.warm();
  }

  // Draw every layer's matrices ahead, while the browser is idle, so a step to another
  // layer only swaps prepared cards in.
  warm() {
    const token = (this.warmToken = {});
    const jobs = [];
    this.h.blocks.forEach((b, k) => {
      const groups = this.h.updated ? 3 : 2;
      const width = Math.floor((this.width - 18 * (groups - 1)) / groups);
      for (const id of b.tensors) jobs.push(() => this.card(this.tensor(id), width, true));
      if (k === this.h.blocks.length - 1) {
        for (const id of this.h.outputs) jobs.push(() => this.card(this.tensor(id), width, true));
      }
    });
    const idle = window.requestIdleCallback || ((f) => setTimeout(() => f({ timeRemaining: () => 8 }), 16));
    const run = (deadline) => {
      if (token !== this.warmToken) return;
      while (jobs.length && deadline.timeRemaining() > 2) jobs.shift()();
      if (jobs.length) idle(run);
    };
    idle(run);
  }

  renderPhase() {
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
    const explain = this.q(".bp-explain");
    explain.style.borderLeftColor = accent;
    this.q(".bp-summary").textContent = p.summary;
    this.q(".bp-eq").textContent = p.equations.join("\n");
    this.paintNet();
    this.renderFocus();
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
    const cols = [{ kind: "input", size: h.blocks[0].n_in, title: "Input", block: "input" }];
    h.blocks.forEach((b, k) => {
      const last = k === h.blocks.length - 1;
      cols.push({
        kind: last ? "output" : "hidden",
        size: b.n_out,
        title: last ? `Output · layer ${k + 1}` : `Layer ${k + 1}`,
        sub: [b.activation, ...b.stages.filter((s) => s === "batch_norm" || s === "dropout").map((s) => s.replace("_", " "))].join(" + "),
        block: k,
      });
    });
    return cols;
  }

  renderNet() {
    const box = this.q(".bp-net");
    const cols = this.columns();
    const width = Math.max(this.width, 480);
    const maxSmall = Math.max(...cols.map((c) => (c.size <= MAX_UNITS_DRAWN ? c.size : 0)), 4);
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
      g.addEventListener("click", () => {
        this.focus = c.block;
        this.renderFocus();
        this.paintNet();
      });
      const info = { ...c, x, g, units: [] };
      if (c.size <= MAX_UNITS_DRAWN) {
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
      const count = `${c.size} ${c.kind === "input" ? "features" : "units"}`;
      g.appendChild(svg("text", { x, y: height - 12, "text-anchor": "middle", class: "col-sub" }, c.sub ? `${c.sub} · ${count}` : count));
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
      g.addEventListener("click", () => {
        this.focus = k;
        this.renderFocus();
        this.paintNet();
      });
      const lines = [];
      if (a.units.length && z.units.length) {
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
        g.appendChild(svg("text", { x: (a.x + z.x) / 2, y: (top + bottom) / 2 + 4, "text-anchor": "middle", class: "col-sub" }, `W${sup(k + 1)} ${b.n_in}×${b.n_out}`));
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
    lossG.addEventListener("click", () => {
      this.focus = this.h.blocks.length - 1;
      this.renderFocus();
      this.paintNet();
    });
    nodes.appendChild(lossG);
    this.net.loss = { g: lossG, box: lossBox, value: lossValue };
    box.replaceChildren(root);
  }

  known(t) {
    return t && t.known <= this.phase;
  }

  paintNet() {
    if (!this.net) return;
    const h = this.h, lut = this.payload.lut;
    const p = h.phases[this.phase];
    const accent = ACCENTS[p.kind];
    const n = Math.min(this.sample, h.batch - 1);
    // units: the shown sample's input and activations, once computed
    this.net.cols.forEach((c, k) => {
      const t = k === 0 ? this.tensor(h.inputs[0]) : this.find(k - 1, "a");
      const grad = k === 0 ? null : this.find(k - 1, "dz");
      const shown = this.known(t);
      const gradShown = this.known(grad);
      let limit = 1;
      if (shown) limit = t.stats.absmax || 1;
      const values = shown ? rowValues(t, n) : null;
      if (c.units.length) {
        const glimit = gradShown ? grad.stats.absmax || 1 : 1;
        const gvalues = gradShown ? rowValues(grad, n) : null;
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
        if (values) {
          const key = `strip:${t.id}:${n}`;
          if (!this.cache.has(key)) this.cache.set(key, stripImage(values, limit, lut));
          c.strip.setAttribute("href", this.cache.get(key));
        }
        else c.strip.removeAttribute("href");
      }
      const lit =
        (p.kind === "forward" && (p.layer === k - 1 || (k === 0 && p.layer === 0))) ||
        (p.kind === "backward" && p.layer === k - 1) ||
        (p.kind === "loss" && k === this.net.cols.length - 1);
      const ready = p.kind === "ready" || p.kind === "update";
      c.g.classList.toggle("dim", !lit && !ready);
      const focused = c.block === this.focus;
      c.mark.setAttribute("visibility", focused ? "visible" : "hidden");
      if (c.band) c.band.setAttribute("stroke", lit ? accent : "#868e96");
      if (lit) c.units.forEach((u) => !gradShown && u.node.setAttribute("stroke", accent));
    });
    // edges: colour by W, width by |dW| once the backward pass reached the block
    h.blocks.forEach((b, k) => {
      const W = this.find(k, "W");
      const dW = this.find(k, "dW");
      const e = this.net.edges[k];
      const wl = W.stats.absmax || 1;
      const gradShown = this.known(dW);
      const gl = gradShown ? dW.stats.absmax || 1 : 1;
      for (const item of e.lines) {
        if (item.line) {
          const w = cell(W, item.i, item.j);
          item.line.setAttribute("stroke", css(rgb(lut, w, wl)));
          const width = gradShown ? 0.8 + (3.6 * Math.abs(cell(dW, item.i, item.j))) / gl : 1.4;
          item.line.setAttribute("stroke-width", width.toFixed(2));
        } else {
          item.poly.setAttribute("stroke", "#ced4da");
        }
      }
      const lit =
        ((p.kind === "forward" || p.kind === "backward") && p.layer === k) || p.kind === "update";
      e.g.classList.toggle("dim", !lit && p.kind !== "ready");
      e.g.style.filter = lit ? `drop-shadow(0 0 3px ${accent})` : "";
      for (const item of e.lines) if (item.poly) item.poly.setAttribute("stroke", lit ? accent : "#ced4da");
      const flow = this.net.flows[k];
      const s = sup(k + 1);
      if (p.kind === "forward" && p.layer === k) {
        flow.textContent = `a${k === 0 ? "⁰=x" : sup(k)} → z${s} = a·W${s} + b${s} → a${s}`;
      } else if (p.kind === "backward" && p.layer === k) {
        flow.textContent = `dW${s}, db${s} ← dz${s} ← da${s}`;
      } else if (p.kind === "update") {
        flow.textContent = `W${s} ← W${s} + ΔW${s}`;
      } else {
        flow.textContent = "";
      }
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
  renderFocus() {
    const h = this.h;
    const title = this.q(".bp-focus-title");
    const grid = this.q(".bp-grid");
    grid.replaceChildren();
    const p = h.phases[this.phase];
    const hint = el("span", "hint", "Click a column of the diagram for another layer, a cell for its worked numbers.");
    if (this.focus === "input") {
      const x = this.tensor(h.inputs[0]);
      title.replaceChildren(`Input ${x.label} · ${x.shape[0]} samples × ${x.shape[1]} features`, hint);
      grid.style.gridTemplateColumns = "1fr";
      grid.appendChild(this.card(x, this.width - 40));
      return;
    }
    const b = h.blocks[this.focus];
    const tensors = b.tensors.map((id) => this.tensor(id));
    const forward = tensors.filter((t) => t.group === "forward");
    const byKey = Object.fromEntries(tensors.map((t) => [t.key, t]));
    const groups = ["forward", "backward"].concat(h.updated ? ["update"] : []);
    title.replaceChildren(
      `${b.label} of ${h.blocks.length} · ${b.activation} · ${b.n_in} → ${b.n_out} units`,
      hint,
    );
    const last = this.focus === h.blocks.length - 1;
    const outputs = last ? h.outputs.map((id) => this.tensor(id)) : [];
    const columnWidth = Math.floor((this.width - 18 * (groups.length - 1)) / groups.length);
    grid.style.gridTemplateColumns = groups.map(() => `${columnWidth}px`).join(" ");
    const heads = { forward: "Forward", backward: "Backward (gradients)", update: "Update (change applied)" };
    for (const g of groups) grid.appendChild(el("div", "head", heads[g]));
    for (const t of forward) {
      grid.appendChild(this.card(t, columnWidth));
      for (const g of groups.slice(1)) {
        const partner = PARTNERS[g][t.key];
        const other = partner ? byKey[partner] : null;
        grid.appendChild(other ? this.card(other, columnWidth) : el("div"));
      }
    }
    if (!h.updated) {
      const note = el("div", "bp-note", "Visualize only: no update is applied in this step (choose Train for ΔW, Δb).");
      note.style.gridColumn = "1 / -1";
      grid.appendChild(note);
    }
    if (outputs.length) {
      const head = el("div", "head", `The loss (${h.loss_name}): output, targets and the gradient it sends back`);
      head.style.gridColumn = "1 / -1";
      grid.appendChild(head);
      const row = el("div");
      row.style.gridColumn = "1 / -1";
      row.style.display = "flex";
      row.style.flexWrap = "wrap";
      row.style.gap = "18px";
      const w = Math.floor((this.width - 18 * (outputs.length - 1)) / outputs.length);
      for (const t of outputs) row.appendChild(this.card(t, Math.min(w, columnWidth)));
      grid.appendChild(row);
    }
  }

  // one matrix with its caption and legend, or a placeholder before its phase
  card(t, width, known = this.known(t)) {
    const current = known && t.known === this.phase && this.h.phases[this.phase].kind !== "ready";
    const key = `card:${t.id}:${known}:${this.scaleMode}:${width}:${this.sample}:${this.selectedKey(t)}`;
    let box = this.cache.get(key);
    if (!box) {
      box = this.buildCard(t, width, known);
      this.cache.set(key, box);
    }
    box.classList.toggle("current", current);
    return box;
  }

  buildCard(t, width, known) {
    const box = el("div", "bp-card");
    box.dataset.tensor = t.key;
    box.dataset.block = t.block === null ? "" : String(t.block);
    const layout = this.layout(t, width);
    const phaseName = t.known < this.h.phases.length ? this.h.phases[t.known].label : "the update";
    const cap = el("div", "cap");
    const b = el("b", null, t.label);
    cap.append(b, ` ${t.shape[0]}×${t.shape[1]}`);
    box.appendChild(cap);
    if (!known) {
      box.classList.add("pending");
      const ph = el("div", "box", `not computed yet: ${t.label} appears at ${phaseName}`);
      ph.style.width = `${layout.total.w}px`;
      ph.style.height = `${Math.max(layout.total.h, 30)}px`;
      box.appendChild(ph);
      return box;
    }
    const s = t.stats;
    cap.append(` · ${rangeText(t)}`);
    cap.title = `min ${exact(s.min)}, p25 ${exact(s.p25)}, median ${exact(s.median)}, p75 ${exact(s.p75)}, max ${exact(s.max)}`;
    box.appendChild(this.draw(t, layout));
    box.appendChild(this.legend(t, Math.min(Math.max(layout.total.w, 340), width, 460)));
    return box;
  }

  selectedKey(t) {
    const s = this.selected;
    return s && s.id === t.id ? `${s.r},${s.c}` : "";
  }

  // cell sizes: batch rows stay readable, columns line up within a layer
  layout(t, width) {
    const [rows, cols] = t.shape;
    const [srows, scols] = t.stored;
    const labelW = rows > 1 ? 44 : 30;
    const labelH = 16;
    const avail = Math.max(width - labelW - 6, 60);
    let cw = Math.min(52, Math.floor(avail / scols));
    if (cw < 1) cw = avail / scols;
    let ch;
    if (srows === 1) ch = Math.max(16, Math.min(22, cw));
    else if (t.rows === "sample") ch = srows <= 48 ? (cw >= 34 ? 16 : 13) : Math.max(2, Math.floor(380 / srows));
    else ch = Math.max(1, Math.min(22, Math.floor(260 / srows)));
    const w = Math.ceil(cw * scols), hgt = Math.ceil(ch * srows);
    return { cw, ch, labelW, labelH, w, h: hgt, total: { w: w + labelW, h: hgt + labelH } };
  }

  draw(t, L) {
    const dpr = window.devicePixelRatio || 1;
    const [srows, scols] = t.stored;
    const canvas = document.createElement("canvas");
    canvas.width = Math.ceil(L.total.w * dpr);
    canvas.height = Math.ceil(L.total.h * dpr);
    canvas.style.width = `${L.total.w}px`;
    canvas.style.height = `${L.total.h}px`;
    const ctx = canvas.getContext("2d");
    ctx.scale(dpr, dpr);
    const lut = this.payload.lut;
    const limits = this.scaleMode === "column" ? columnLimits(t) : null;
    const matrixLimit = t.stats.absmax || 1;
    // cells at stored resolution, then scaled up without smoothing
    const img = new ImageData(scols, srows);
    for (let r = 0; r < srows; r++) {
      for (let c = 0; c < scols; c++) {
        const color = rgb(lut, cell(t, r, c), limits ? limits[c] : matrixLimit);
        const k = 4 * (r * scols + c);
        img.data[k] = color[0];
        img.data[k + 1] = color[1];
        img.data[k + 2] = color[2];
        img.data[k + 3] = 255;
      }
    }
    const off = document.createElement("canvas");
    off.width = scols;
    off.height = srows;
    off.getContext("2d").putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = false;
    const x0 = L.labelW, y0 = L.labelH;
    ctx.drawImage(off, x0, y0, L.w, L.h);
    // grid lines and numbers when cells are large enough to read
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
    if (L.cw >= 38 && L.ch >= 13 && t.enc === "f32") {
      ctx.textAlign = "center";
      ctx.font = `${L.ch >= 16 ? 11 : 10}px sans-serif`;
      for (let r = 0; r < srows; r++) {
        for (let c = 0; c < scols; c++) {
          const v = cell(t, r, c);
          const k = Math.round(((v / (limits ? limits[c] : matrixLimit) + 1) * 127.5));
          ctx.fillStyle = k < 40 || k > 215 ? "#fff" : "#222";
          ctx.fillText(fmt(v, 3), x0 + (c + 0.5) * L.cw, y0 + (r + 0.5) * L.ch + 0.5);
        }
      }
    }
    // row labels on the left, column labels on top, thinned to stay apart
    ctx.fillStyle = "#444";
    ctx.textAlign = "right";
    ctx.font = "11px sans-serif";
    const rowAxis = this.h.axes[t.rows], colAxis = this.h.axes[t.cols];
    const rowEvery = Math.max(1, Math.ceil(13 / L.ch));
    if (t.shape[0] > 1) {
      for (let r = 0; r < srows; r += rowEvery) {
        const index = r * t.reduce[0];
        ctx.fillText(axisLabel(rowAxis, index, true), x0 - 4, y0 + (r + 0.5) * L.ch);
      }
    }
    ctx.textAlign = "center";
    const labelWidth = colAxis.labels ? 8 + 6.2 * Math.max(...colAxis.labels.map((s) => String(s).length)) : 24;
    const colEvery = Math.max(1, Math.ceil(labelWidth / L.cw));
    for (let c = 0; c < scols; c += colEvery) {
      ctx.fillText(axisLabel(colAxis, c * t.reduce[1], false), x0 + (c + 0.5) * L.cw, y0 - 8);
    }
    // the selected cell
    const s = this.selected;
    if (s && s.id === t.id) {
      ctx.strokeStyle = ACCENTS.forward;
      ctx.lineWidth = 2.5;
      ctx.strokeRect(x0 + s.c * L.cw, y0 + s.r * L.ch, Math.max(L.cw, 3), Math.max(L.ch, 3));
    }
    canvas.addEventListener("mousemove", (e) => this.hover(e, t, L, canvas));
    canvas.addEventListener("mouseleave", () => (this.q(".bp-tip").hidden = true));
    canvas.addEventListener("click", (e) => this.click(e, t, L, canvas));
    return canvas;
  }

  at(e, t, L, canvas) {
    const box = canvas.getBoundingClientRect();
    const x = e.clientX - box.left - L.labelW, y = e.clientY - box.top - L.labelH;
    const c = Math.floor(x / L.cw), r = Math.floor(y / L.ch);
    if (c < 0 || r < 0 || c >= t.stored[1] || r >= t.stored[0]) return null;
    return { r, c };
  }

  hover(e, t, L, canvas) {
    const tip = this.q(".bp-tip");
    const hit = this.at(e, t, L, canvas);
    if (!hit) {
      tip.hidden = true;
      return;
    }
    const rowAxis = this.h.axes[t.rows], colAxis = this.h.axes[t.cols];
    const [br, bc] = t.reduce;
    const i = hit.r * br, j = hit.c * bc;
    const v = cell(t, hit.r, hit.c);
    const where = (axis, index, size, span) => {
      const name = axis.title || "";
      if (!name) return null;
      const end = Math.min(index + span, size) - 1;
      return span > 1 ? `${name} ${index}–${end}` : `${name} = ${axisLabel(axis, index, true, true)}`;
    };
    const parts = [where(rowAxis, i, t.shape[0], br), where(colAxis, j, t.shape[1], bc)].filter(Boolean);
    const value = t.enc === "f32" ? `= ${exact(v)}` : `≈ ${fmt(v, 3)} (${br > 1 || bc > 1 ? "block mean, " : ""}rounded; click for the exact number)`;
    tip.textContent = `${t.label}[${parts.join(", ")}] ${value}\nclick: worked numbers below`;
    const rootBox = this.root.getBoundingClientRect();
    tip.style.left = `${Math.min(e.clientX - rootBox.left + 14, rootBox.width - 300)}px`;
    tip.style.top = `${e.clientY - rootBox.top + 16}px`;
    tip.hidden = false;
  }

  click(e, t, L, canvas) {
    const hit = this.at(e, t, L, canvas);
    if (!hit) return;
    this.selected = { id: t.id, r: hit.r, c: hit.c };
    const row = hit.r * t.reduce[0], col = hit.c * t.reduce[1];
    if (t.rows === "sample") this.sample = row;
    this.paintNet();
    this.renderFocus();
    if (this.trigger) {
      this.trigger("inspect", {
        step: this.h.step,
        phase: this.phase,
        block: t.block,
        tensor: t.key,
        row,
        col,
        t: Date.now(),
      });
    }
  }

  legend(t, width) {
    const s = t.stats;
    const perColumn = this.scaleMode === "column" && t.stored[1] > 1;
    const limit = s.absmax || 1;
    const h = 56;
    const dpr = window.devicePixelRatio || 1;
    const canvas = document.createElement("canvas");
    canvas.className = "legend";
    canvas.width = Math.ceil(width * dpr);
    canvas.height = Math.ceil(h * dpr);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${h}px`;
    const ctx = canvas.getContext("2d");
    ctx.scale(dpr, dpr);
    const lut = this.payload.lut;
    const x0 = 8, x1 = width - 8, y = 4, barH = 9;
    for (let k = 0; k < 256; k++) {
      ctx.fillStyle = `rgb(${lut[3 * k]},${lut[3 * k + 1]},${lut[3 * k + 2]})`;
      const xa = x0 + ((x1 - x0) * k) / 256;
      ctx.fillRect(xa, y, (x1 - x0) / 256 + 0.6, barH);
    }
    ctx.strokeStyle = "#adb5bd";
    ctx.strokeRect(x0, y, x1 - x0, barH);
    ctx.font = "10.5px sans-serif";
    ctx.fillStyle = "#444";
    ctx.textBaseline = "top";
    const pos = (v) => x0 + ((v / limit + 1) / 2) * (x1 - x0);
    if (perColumn) {
      ctx.textAlign = "left";
      ctx.fillText(`−max|col|`, x0, y + barH + 3);
      ctx.textAlign = "center";
      ctx.fillText("0", (x0 + x1) / 2, y + barH + 3);
      ctx.textAlign = "right";
      ctx.fillText(`+max|col|`, x1, y + barH + 3);
      ctx.textAlign = "left";
      ctx.fillText(`each column on its own scale · min ${fmt(s.min)} · median ${fmt(s.median)} · max ${fmt(s.max)}`, x0, y + barH + 17);
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
const SUPERSCRIPT = "⁰¹²³⁴⁵⁶⁷⁸⁹";
function sup(k) {
  return String(k).split("").map((d) => SUPERSCRIPT[Number(d)]).join("");
}

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
  return String(index);
}

function rangeText(t) {
  const s = t.stats;
  if (s.min === null) return "no finite values";
  return `min ${fmt(s.min)} · max ${fmt(s.max)}` + (t.enc === "q8" && (t.reduce[0] > 1 || t.reduce[1] > 1) ? ` · drawn as ${t.reduce[0]}×${t.reduce[1]} block means` : "");
}

function rowValues(t, n) {
  const [rows, cols] = t.stored;
  const r = Math.min(Math.floor(n / t.reduce[0]), rows - 1);
  const out = new Float64Array(cols);
  for (let c = 0; c < cols; c++) out[c] = cell(t, r, c);
  return out;
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
