// The saliency view: the model input, and dP/dx laid over it, drawn in the browser.
//
// The data (viz.draw.saliency_payload) holds both arrays as float32 (base64) and the colour
// table of the app's one scale (viz.colors.LUT: blue negative, white 0, red positive). A pixel
// under the pointer shows its row, column, input and dP/dx as sent. Streamlit calls the
// default export again on the same parentElement with each new drawing: the view draws into
// the canvases it has, so a new drawing costs a few milliseconds.

const VIEWS = new WeakMap();
const OPACITY = 0.75; // of the colour over the grey input, as the legend's colours are read

function floats(b64) {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return new Float32Array(bytes.buffer);
}

// four significant digits; an exponent below 0.001 and from 10,000 (as Python's "g" would)
function significant(v) {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(3) : Number(v.toPrecision(4)).toString();
}

class SaliencyView {
  constructor(parent) {
    this.root = parent.querySelector(".sv-root");
    this.input = this.root.querySelector(".sv-input");
    this.saliency = this.root.querySelector(".sv-saliency");
    this.readout = this.root.querySelector(".sv-readout");
    this.hover = null;
    for (const canvas of [this.input, this.saliency]) {
      canvas.addEventListener("pointermove", (e) => this.point(e, canvas));
      canvas.addEventListener("pointerleave", () => this.point(null));
    }
  }

  load(data) {
    this.rows = data.rows;
    this.cols = data.cols;
    this.x = floats(data.input);
    this.s = floats(data.saliency);
    this.limit = data.limit;
    const lut = Uint8Array.from(atob(data.lut), (c) => c.charCodeAt(0));
    this.root.querySelector(".sv-saliency-title").textContent = `∂P(${data.class_name})/∂pixel over the input`;
    this.saliency.setAttribute("aria-label", `∂P(${data.class_name})/∂pixel: red raises it, blue lowers it`);
    this.root.querySelector(".sv-max").textContent = `+${significant(this.limit)}`;
    this.root.querySelector(".sv-min").textContent = `−${significant(this.limit)}`;
    this.root.querySelector(".sv-stats").textContent = `scale ±${significant(this.limit)} · ${data.stats}`;
    this.images = [this.grey(), this.overlay(lut)];
    this.legend(lut);
    this.draw();
    this.point(null);
  }

  pixels(paint) {
    const image = new ImageData(this.cols, this.rows);
    for (let i = 0; i < this.rows * this.cols; i++) paint(image.data, 4 * i, i);
    const tile = document.createElement("canvas");
    tile.width = this.cols;
    tile.height = this.rows;
    tile.getContext("2d").putImageData(image, 0, 0);
    return tile;
  }

  grey() {
    return this.pixels((d, o, i) => {
      const g = Math.round(255 * Math.min(1, Math.max(0, this.x[i])));
      d.set([g, g, g, 255], o);
    });
  }

  overlay(lut) {
    return this.pixels((d, o, i) => {
      const g = 255 * Math.min(1, Math.max(0, this.x[i]));
      const v = Number.isFinite(this.s[i]) ? this.s[i] : 0;
      const k = 3 * Math.min(255, Math.max(0, Math.floor((v / this.limit + 1) * 127.5)));
      const mix = (c) => Math.round(OPACITY * c + (1 - OPACITY) * g);
      d.set([mix(lut[k]), mix(lut[k + 1]), mix(lut[k + 2]), 255], o);
    });
  }

  legend(lut) {
    const bar = this.root.querySelector(".sv-bar");
    const image = new ImageData(1, 256);
    for (let y = 0; y < 256; y++) image.data.set([lut[3 * (255 - y)], lut[3 * (255 - y) + 1], lut[3 * (255 - y) + 2], 255], 4 * y);
    bar.getContext("2d").putImageData(image, 0, 0);
  }

  draw() {
    const scale = Math.max(1, Math.floor(280 / Math.max(this.rows, this.cols)));
    [this.input, this.saliency].forEach((canvas, k) => {
      canvas.width = this.cols * scale;
      canvas.height = this.rows * scale;
      const ctx = canvas.getContext("2d");
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(this.images[k], 0, 0, canvas.width, canvas.height);
      if (this.hover) {
        ctx.strokeStyle = "#f08c00";
        ctx.lineWidth = 2;
        ctx.strokeRect(this.hover.col * scale + 1, this.hover.row * scale + 1, scale - 2, scale - 2);
      }
    });
  }

  point(e, canvas) {
    let hover = null;
    if (e) {
      const r = canvas.getBoundingClientRect();
      const col = Math.floor(((e.clientX - r.left) / r.width) * this.cols);
      const row = Math.floor(((e.clientY - r.top) / r.height) * this.rows);
      if (row >= 0 && row < this.rows && col >= 0 && col < this.cols) hover = { row, col };
    }
    const same = hover && this.hover && hover.row === this.hover.row && hover.col === this.hover.col;
    if (!same && (hover || this.hover)) {
      this.hover = hover;
      this.draw();
    }
    if (!hover) {
      this.readout.textContent = "Point at a pixel to read its input value and its ∂P/∂x.";
      return;
    }
    const i = hover.row * this.cols + hover.col;
    this.readout.textContent =
      `row ${hover.row}, col ${hover.col} · input ${this.x[i].toFixed(3)} · ∂P/∂x ${significant(this.s[i])}`;
    this.readout.dataset.index = String(i);
  }
}

export default function (component) {
  const { data, parentElement } = component;
  let view = VIEWS.get(parentElement);
  if (!view) {
    view = new SaliencyView(parentElement);
    VIEWS.set(parentElement, view);
  }
  view.load(data);
}
