// Curves drawn in the browser: the runs' loss and accuracy (viz.runs.compare_curves), the per-layer
// percentile bands of W, a or dW (distribution_curves) and the gradient norms (grad_norm_curves),
// in panels side by side that share their x axis.
//
// The data is one binary message (viz.encoding.pack), read by unpack (ui/packed.js, put before this
// file): each curve's x and y arrive as float64 arrays, so the readout under the panels shows the
// number the run saved. Pointing at a curve (or tapping it) outlines its nearest point and reads it; a drag
// across a panel zooms every panel to that x range (the y axes fit what is in view), a double-click or
// "Reset zoom" zooms out; a legend entry that names a run (or a layer) hides or shows its curves. Streamlit calls
// the default export again on the same parentElement with new data: the view draws into the canvases
// it has and keeps the zoom and the hidden curves, unless the x axis changed.

const VIEWS = new WeakMap();
const DASHES = { solid: [], dash: [7, 4], dot: [2, 3] };
const BORDERS = { solid: "solid", dash: "dashed", dot: "dotted" };
const INK = "#31333f";
const MUTED = "#555867";
const GRID = "#e6eaf1";
const CEILING = "#555555";
const FONT = '12px "Source Sans", "Source Sans Pro", sans-serif';
const TOP = 10; // px above the plot
const RIGHT = 14; // px right of the plot
const BOTTOM = 42; // px under the plot: the x tick labels and the x axis's title
const PICK = 24; // px: the pointer reads the nearest point within this distance
const MIN_DRAG = 5; // px a drag must cover to zoom
const HINT =
  "Point at a curve to read its value; drag across a panel to zoom in, double-click to zoom out.";

// rounding noise of sums of steps removed (0.30000000000000004 -> 0.3)
function clean(v) {
  return Number(v.toPrecision(12));
}

// six significant digits; an exponent below 0.001 and from 1,000,000
function readable(v) {
  if (!Number.isFinite(v)) return "none";
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(5).replace(/\.?0+e/, "e");
  return String(Number(v.toPrecision(6)));
}

// the smallest of 1, 2 and 5 times a power of ten that is at least span
function roundStep(span) {
  const power = 10 ** Math.floor(Math.log10(span));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= span * (1 - 1e-9));
}

function linearTicks(low, high, count, integer) {
  let step = roundStep((high - low) / Math.max(count, 1));
  if (integer) step = Math.max(1, Math.round(step));
  const values = [];
  for (let k = Math.ceil(low / step - 1e-9); k * step <= high + step * 1e-9; k++) values.push(clean(k * step));
  return { values, step };
}

// Every power of ten, and 2x and 5x each when the range spans at most two decades (or when powers of
// ten alone would give fewer than three ticks); over so narrow a range that fewer than three of those
// fall in it (0.15 to 0.25), evenly spaced round ticks: there a log axis is nearly straight.
function logTicks(low, high) {
  const first = Math.floor(Math.log10(low));
  const last = Math.ceil(Math.log10(high));
  const decades = (multiples) => {
    const out = [];
    for (let e = first; e <= last; e++) for (const m of multiples) out.push(clean(m * 10 ** e));
    return out;
  };
  const inside = (values) => values.filter((v) => v >= low && v <= high);
  let values = inside(decades(last - first <= 2 ? [1, 2, 5] : [1]));
  if (values.length < 3) values = inside(decades([1, 2, 5]));
  if (values.length < 3) values = linearTicks(low, high, 4, false).values.filter((v) => v > 0);
  return values;
}

function tickLabel(v, step, percent) {
  if (percent) return `${clean(v * 100)}%`;
  if (step === null) return String(v); // a log axis's ticks are round numbers already
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return v.toFixed(Math.min(decimals, 12));
}

function element(tag, className, parent) {
  const node = document.createElement(tag);
  node.className = className;
  if (parent) parent.appendChild(node);
  return node;
}

// whether a point can be drawn: finite, and positive on a log axis (anything else leaves a gap)
function drawable(x, y, log) {
  return Number.isFinite(x) && Number.isFinite(y) && !(log && y <= 0);
}

// min and max of the drawable values of ys at the xs in [x0, x1]
function extend(range, xs, ys, x0, x1, log) {
  for (let i = 0; i < ys.length; i++) {
    const y = ys[i];
    if (!(xs[i] >= x0 && xs[i] <= x1) || !drawable(xs[i], y, log)) continue;
    if (y < range[0]) range[0] = y;
    if (y > range[1]) range[1] = y;
  }
}

class Panel {
  constructor(view, parent) {
    this.view = view;
    this.node = element("div", "cv-panel", parent);
    this.title = element("div", "cv-panel-title", this.node);
    this.canvas = element("canvas", "cv-plot", this.node);
    this.canvas.setAttribute("role", "img");
    this.canvas.addEventListener("pointermove", (e) => this.move(e));
    this.canvas.addEventListener("pointerdown", (e) => this.press(e));
    this.canvas.addEventListener("pointerup", (e) => this.release(e));
    // a finger leaves the canvas as it lifts: what its tap read stays
    this.canvas.addEventListener("pointerleave", (e) => {
      if (e.pointerType !== "touch") this.view.point(null);
    });
    this.canvas.addEventListener("dblclick", () => this.view.zoomTo(null));
  }

  load(spec) {
    this.spec = spec;
    this.title.textContent = spec.title;
    this.title.hidden = !spec.title;
    this.series = spec.series.map((s) => ({
      ...s,
      xs: s.x,
      ys: s.y,
      upper: s.upper ?? null,
      detail: (s.detail || []).map((d) => ({ label: d.label, ys: d.y })),
    }));
  }

  visible() {
    return this.series.filter((s) => !this.view.hidden.has(s.group));
  }

  // the y range: the one the data asks for, or what is in view, with a margin
  yRange(x0, x1) {
    if (this.spec.range) return this.spec.range;
    const log = this.spec.log;
    const range = [Infinity, -Infinity];
    for (const s of this.visible()) {
      extend(range, s.xs, s.ys, x0, x1, log);
      if (s.upper) extend(range, s.xs, s.upper, x0, x1, log);
    }
    for (const c of this.spec.ceilings) extend(range, [x0], [c.value], x0, x1, log);
    let [low, high] = range;
    if (!(low <= high)) return log ? [0.1, 1] : [0, 1];
    if (log) {
      const a = Math.log10(low);
      const b = Math.log10(high);
      const pad = 0.05 * (b - a || 1);
      return [10 ** (a - pad), 10 ** (b + pad)];
    }
    const pad = 0.05 * (high - low || Math.abs(high) || 1);
    return [low - pad, high + pad];
  }

  draw() {
    const width = this.canvas.clientWidth;
    const height = this.view.data.height;
    this.canvas.style.height = `${height}px`;
    if (width === 0) return;
    const ratio = window.devicePixelRatio || 1;
    if (this.canvas.width !== Math.round(width * ratio) || this.canvas.height !== Math.round(height * ratio)) {
      this.canvas.width = Math.round(width * ratio);
      this.canvas.height = Math.round(height * ratio);
    }
    const ctx = this.canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.font = FONT;
    const spec = this.spec;
    const [x0, x1] = this.view.xRange();
    const [y0, y1] = this.yRange(x0, x1);
    let yTicks;
    if (spec.log) yTicks = { values: logTicks(y0, y1), step: null };
    else if (spec.step) yTicks = linearTicks(y0, y1, (y1 - y0) / spec.step, false);
    else yTicks = linearTicks(y0, y1, Math.max(2, Math.floor((height - TOP - BOTTOM) / 45)), false);
    const yLabels = yTicks.values.map((v) => tickLabel(v, yTicks.step, spec.percent));
    const labelWidth = Math.max(10, ...yLabels.map((l) => ctx.measureText(l).width));
    const left = Math.ceil(labelWidth) + 10 + (spec.y_title ? 18 : 0);
    const plot = { left, top: TOP, right: width - RIGHT, bottom: height - BOTTOM };
    const w = Math.max(plot.right - plot.left, 1);
    const h = Math.max(plot.bottom - plot.top, 1);
    const ly0 = spec.log ? Math.log10(y0) : y0;
    const ly1 = spec.log ? Math.log10(y1) : y1;
    const sx = (x) => plot.left + ((x - x0) / (x1 - x0)) * w;
    const sy = (y) => plot.bottom - (((spec.log ? Math.log10(y) : y) - ly0) / (ly1 - ly0)) * h;
    const invertX = (px) => x0 + ((px - plot.left) / w) * (x1 - x0);
    const xTicks = linearTicks(x0, x1, Math.max(2, Math.floor(w / 80)), this.view.data.x_integer);
    Object.assign(this, { plot, sx, sy, invertX });
    const xLabels = xTicks.values.map((v) => tickLabel(v, xTicks.step, false));
    this.canvas.setAttribute(
      "aria-label",
      `${spec.title || spec.y_title}: ${spec.y_title || "value"}${spec.log ? " (log scale)" : ""} ` +
        `at ${yLabels.join(", ")} against ${this.view.data.x_title} at ${xLabels.join(", ")}`,
    );

    // grid, ticks and their labels, axis titles
    ctx.strokeStyle = GRID;
    ctx.lineWidth = 1;
    ctx.fillStyle = MUTED;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    yTicks.values.forEach((v, i) => {
      const y = Math.round(sy(v)) + 0.5;
      if (y < plot.top - 1 || y > plot.bottom + 1) return;
      ctx.beginPath();
      ctx.moveTo(plot.left, y);
      ctx.lineTo(plot.right, y);
      ctx.stroke();
      ctx.fillText(yLabels[i], plot.left - 6, y);
    });
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    xTicks.values.forEach((v, i) => {
      const x = Math.round(sx(v)) + 0.5;
      if (x < plot.left - 1 || x > plot.right + 1) return;
      ctx.beginPath();
      ctx.moveTo(x, plot.top);
      ctx.lineTo(x, plot.bottom);
      ctx.stroke();
      ctx.fillText(xLabels[i], x, plot.bottom + 5);
    });
    ctx.strokeStyle = MUTED;
    ctx.strokeRect(plot.left + 0.5, plot.top + 0.5, w - 1, h - 1);
    ctx.fillStyle = INK;
    ctx.fillText(this.view.data.x_title, plot.left + w / 2, plot.bottom + 23);
    if (spec.y_title) {
      ctx.save();
      ctx.translate(11, plot.top + h / 2);
      ctx.rotate(-Math.PI / 2);
      ctx.textBaseline = "middle";
      ctx.fillText(spec.y_title, 0, 0);
      ctx.restore();
    }

    // the curves, clipped to the plot
    ctx.save();
    ctx.beginPath();
    ctx.rect(plot.left, plot.top, w, h);
    ctx.clip();
    const shown = (x, y) => drawable(x, y, spec.log);
    for (const s of this.visible()) {
      ctx.globalAlpha = s.opacity;
      if (s.upper) {
        // a band: the low edge forwards and the high edge back, filled
        ctx.fillStyle = s.color;
        ctx.beginPath();
        const points = [];
        for (let i = 0; i < s.xs.length; i++) if (shown(s.xs[i], s.ys[i]) && shown(s.xs[i], s.upper[i])) points.push(i);
        points.forEach((i, k) => (k ? ctx.lineTo(sx(s.xs[i]), sy(s.ys[i])) : ctx.moveTo(sx(s.xs[i]), sy(s.ys[i]))));
        for (const i of points.slice().reverse()) ctx.lineTo(sx(s.xs[i]), sy(s.upper[i]));
        ctx.fill();
        continue;
      }
      ctx.strokeStyle = s.color;
      ctx.fillStyle = s.color;
      ctx.lineWidth = s.width;
      ctx.setLineDash(DASHES[s.dash] || []);
      ctx.beginPath();
      let pen = false;
      for (let i = 0; i < s.xs.length; i++) {
        if (!shown(s.xs[i], s.ys[i])) {
          pen = false; // a missing value leaves a gap
          continue;
        }
        if (pen) ctx.lineTo(sx(s.xs[i]), sy(s.ys[i]));
        else ctx.moveTo(sx(s.xs[i]), sy(s.ys[i]));
        pen = true;
      }
      ctx.stroke();
      ctx.setLineDash([]);
      if (s.markers) {
        for (let i = 0; i < s.xs.length; i++) {
          if (!shown(s.xs[i], s.ys[i])) continue;
          ctx.beginPath();
          ctx.arc(sx(s.xs[i]), sy(s.ys[i]), 3, 0, 2 * Math.PI);
          ctx.fill();
        }
      }
    }
    ctx.globalAlpha = 1;
    ctx.restore();
    if (!this.visible().some((s) => s.ys.some((y, i) => shown(s.xs[i], y)))) {
      const hidden = this.series.some((s) => this.view.hidden.has(s.group));
      ctx.fillStyle = MUTED;
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.fillText(
        hidden ? "Hidden: click its legend entry to show it again." : spec.empty || "No points to draw.",
        plot.left + w / 2,
        plot.top + h / 2,
      );
    }

    // ceilings: the highest labelled above its line on the right, the others below theirs on the left
    [...spec.ceilings]
      .sort((a, b) => b.value - a.value)
      .forEach((c, rank) => {
        const y = sy(c.value);
        ctx.strokeStyle = CEILING;
        ctx.lineWidth = 1.5;
        ctx.setLineDash(DASHES[c.dash] || DASHES.dot);
        ctx.beginPath();
        ctx.moveTo(plot.left, y);
        ctx.lineTo(plot.right, y);
        ctx.stroke();
        ctx.setLineDash([]);
        // the label on a pale box of its own, readable over the curves
        const width = ctx.measureText(c.label).width;
        const x = rank === 0 ? plot.right - 4 - width : plot.left + 4;
        const top = rank === 0 ? y - 17 : y + 2;
        ctx.fillStyle = "rgba(255, 255, 255, 0.8)";
        ctx.fillRect(x - 2, top, width + 4, 15);
        ctx.fillStyle = INK;
        ctx.textAlign = "left";
        ctx.textBaseline = "top";
        ctx.fillText(c.label, x, top + 1);
      });

    const hover = this.view.hover;
    if (hover && hover.panel === this) {
      const s = hover.series;
      ctx.beginPath();
      ctx.arc(sx(s.xs[hover.i]), sy(s.ys[hover.i]), 5, 0, 2 * Math.PI);
      ctx.fillStyle = s.color;
      ctx.fill();
      ctx.lineWidth = 2;
      ctx.strokeStyle = "#ffffff";
      ctx.stroke();
    }
    const drag = this.view.drag;
    if (drag && drag.panel === this) {
      ctx.fillStyle = "rgba(49, 51, 63, 0.1)";
      const a = Math.max(plot.left, Math.min(drag.from, drag.to));
      const b = Math.min(plot.right, Math.max(drag.from, drag.to));
      ctx.fillRect(a, plot.top, b - a, h);
    }
  }

  local(event) {
    const box = this.canvas.getBoundingClientRect();
    return { x: event.clientX - box.left, y: event.clientY - box.top };
  }

  inside(p) {
    const plot = this.plot;
    return plot && p.x >= plot.left && p.x <= plot.right && p.y >= plot.top && p.y <= plot.bottom;
  }

  // the nearest shown point of a curve within PICK pixels (bands are not read: the median has them)
  pick(p) {
    let best = null;
    let bestDistance = PICK * PICK;
    for (const s of this.visible()) {
      if (s.upper) continue;
      for (let i = 0; i < s.xs.length; i++) {
        const y = s.ys[i];
        if (!drawable(s.xs[i], y, this.spec.log)) continue;
        const dx = this.sx(s.xs[i]) - p.x;
        const dy = this.sy(y) - p.y;
        const d = dx * dx + dy * dy;
        if (d < bestDistance) {
          bestDistance = d;
          best = { panel: this, series: s, i };
        }
      }
    }
    return best;
  }

  move(event) {
    const p = this.local(event);
    const drag = this.view.drag;
    if (drag && drag.panel === this) {
      drag.to = p.x;
      this.draw();
      return;
    }
    this.view.point(this.inside(p) ? this.pick(p) : null);
  }

  press(event) {
    const p = this.local(event);
    if (event.button !== 0 || !this.inside(p)) return;
    this.view.drag = { panel: this, from: p.x, to: p.x };
    this.canvas.setPointerCapture(event.pointerId);
  }

  release(event) {
    const drag = this.view.drag;
    if (!drag || drag.panel !== this) return;
    this.view.drag = null;
    const p = this.local(event);
    drag.to = p.x;
    const clamp = (px) => Math.max(this.plot.left, Math.min(this.plot.right, px));
    const a = clamp(Math.min(drag.from, drag.to));
    const b = clamp(Math.max(drag.from, drag.to));
    if (b - a >= MIN_DRAG) this.view.zoomTo([this.invertX(a), this.invertX(b)]);
    else this.view.point(this.pick(p)); // a tap (a finger has no hover) reads the nearest point
  }
}

class CurveView {
  constructor(root) {
    this.title = element("div", "cv-title", root);
    this.panelRow = element("div", "cv-panels", root);
    this.legend = element("div", "cv-legend", root);
    this.reset = element("button", "cv-reset", null);
    this.reset.type = "button";
    this.reset.textContent = "Reset zoom";
    this.reset.addEventListener("click", () => this.zoomTo(null));
    this.readout = element("div", "cv-readout", root);
    this.panels = [];
    this.hidden = new Set();
    this.zoom = null;
    this.hover = null;
    this.drag = null;
    let frame = null;
    new ResizeObserver(() => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => this.drawAll());
    }).observe(root);
  }

  load(data) {
    if (this.data && this.data.x_title !== data.x_title) this.zoom = null; // another x axis
    this.data = data;
    this.title.textContent = data.title || "";
    this.title.hidden = !data.title;
    while (this.panels.length < data.panels.length) this.panels.push(new Panel(this, this.panelRow));
    while (this.panels.length > data.panels.length) this.panels.pop().node.remove();
    data.panels.forEach((spec, i) => this.panels[i].load(spec));
    this.hover = null;
    this.drag = null;
    this.buildLegend();
    this.drawAll();
    this.point(null);
  }

  buildLegend() {
    const items = this.data.legend.map((entry) => {
      const toggles = entry.group !== null;
      const item = element(toggles ? "button" : "span", "cv-item");
      const swatch = element("span", "cv-swatch", item);
      if (entry.dash === "band") {
        swatch.classList.add("cv-band");
        swatch.style.background = entry.color;
      } else {
        swatch.style.borderTopStyle = BORDERS[entry.dash] || "solid";
        swatch.style.borderTopColor = entry.color;
      }
      swatch.style.opacity = entry.opacity;
      element("span", "cv-label", item).textContent = entry.label;
      if (toggles) {
        item.type = "button";
        item.title = "Hide or show these curves";
        item.classList.toggle("cv-hidden", this.hidden.has(entry.group));
        item.setAttribute("aria-pressed", String(!this.hidden.has(entry.group)));
        item.addEventListener("click", () => {
          if (this.hidden.has(entry.group)) this.hidden.delete(entry.group);
          else this.hidden.add(entry.group);
          item.classList.toggle("cv-hidden", this.hidden.has(entry.group));
          item.setAttribute("aria-pressed", String(!this.hidden.has(entry.group)));
          this.hover = null;
          this.drawAll();
        });
      }
      return item;
    });
    this.legend.replaceChildren(...items, this.reset);
  }

  // the x range in view: the zoom, or every shown curve's
  xRange() {
    if (this.zoom) return this.zoom;
    let low = Infinity;
    let high = -Infinity;
    for (const panel of this.panels) {
      for (const s of panel.visible()) {
        for (const x of s.xs) {
          if (!Number.isFinite(x)) continue;
          if (x < low) low = x;
          if (x > high) high = x;
        }
      }
    }
    if (!(low <= high)) return [0, 1];
    return low === high ? [low - 0.5, high + 0.5] : [low, high];
  }

  zoomTo(range) {
    this.zoom = range;
    this.hover = null;
    this.drawAll();
  }

  drawAll() {
    if (!this.data) return;
    this.reset.hidden = this.zoom === null;
    for (const panel of this.panels) panel.draw();
  }

  point(hit) {
    const before = this.hover;
    this.hover = hit;
    if (before && before.panel !== (hit && hit.panel)) before.panel.draw();
    if (hit) hit.panel.draw();
    if (!hit) {
      const toggles = this.data.legend.some((entry) => entry.group !== null);
      this.readout.textContent = HINT + (toggles ? " A legend entry hides or shows its curves." : "");
      return;
    }
    const s = hit.series;
    const where = `${this.data.x_title} ${readable(s.xs[hit.i])}`;
    const value = (v) => (hit.panel.spec.percent && Number.isFinite(v) ? `${readable(v * 100)}%` : readable(v));
    const values = s.detail.length
      ? s.detail.map((d) => `${d.label} ${value(d.ys[hit.i])}`).join(", ")
      : value(s.ys[hit.i]);
    this.readout.textContent = `${s.name} at ${where}: ${values}`;
  }
}

export default function (component) {
  const { data, parentElement } = component;
  let view = VIEWS.get(parentElement);
  if (!view) {
    const root = parentElement.querySelector(".cv-root");
    root.replaceChildren();
    view = new CurveView(root);
    VIEWS.set(parentElement, view);
  }
  view.load(unpack(data));
}

// the tick rules, for tests that import this module
export { linearTicks, logTicks, tickLabel };
