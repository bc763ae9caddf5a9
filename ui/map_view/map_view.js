// Maps drawn in the browser: the saliency map (the model input, and dP/dx laid over it), a
// layer's feature maps (one tile per channel) and the dense layers' activations (a bar per unit) on
// the app's one signed scale; a confusion matrix,
// and a sequence model's probabilities (viz.sequences.probability_payload), on the scale for values
// from 0 up.
//
// The data (viz.draw.saliency_payload, viz.draw.feature_maps_payload) holds the values as
// float32 (packed, see unpack) and the colour table (viz.colors.LUT: blue negative, white 0, red
// positive, on ±limit). The pixel under the pointer is outlined and a line under the maps reads its
// place and values as sent. Streamlit calls the default export again on the same
// parentElement with new data: the view draws into the elements it has, so a new drawing
// costs a few milliseconds (a changed plotly figure is a new element, built from scratch).

const VIEWS = new WeakMap();
const OPACITY = 0.75; // of dP/dx's colour over the grey input
const HIGHLIGHT = "#f08c00";
const GAP_RGB = [230, 233, 238]; // between feature maps: not a colour of the scale
const MAX_PIXEL = 12; // screen pixels per map pixel, at most
const MATRIX_PX = 360; // the height a weight matrix's rows share

// The data is one binary message (viz.encoding.pack), read by unpack (ui/packed.js, put before this
// file): each array a typed array over the message's bytes.

// four significant digits; an exponent below 0.001 and from 10,000 (as Python's "g" would)
function significant(v) {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(3) : Number(v.toPrecision(4)).toString();
}

// the colour of v on the scale ±limit, 0 to 255 (NaN: the middle, white)
function colourIndex(v, limit) {
  const x = Number.isFinite(v) ? v : 0;
  return Math.min(255, Math.max(0, Math.floor((x / limit + 1) * 127.5)));
}

// index into the colour table (an RGB triple per colour) of v on the scale ±limit
function colourAt(v, limit) {
  return 3 * colourIndex(v, limit);
}

// An opaque colour as a pixel of an ImageData's memory (RGBA): one 32-bit word, written at once.
function pixel(r, g, b) {
  return new Uint32Array(new Uint8Array([r, g, b, 255]).buffer)[0];
}

// the colour table (an RGB triple per colour) as pixels
function pixelTable(lut) {
  return Uint32Array.from({ length: 256 }, (_, k) => pixel(lut[3 * k], lut[3 * k + 1], lut[3 * k + 2]));
}

// the legend's labels of the signed scale ±limit
function signedTicks(limit) {
  return [`+${significant(limit)}`, "0", `−${significant(limit)}`];
}

function element(tag, className, parent) {
  const node = document.createElement(tag);
  node.className = className;
  if (parent) parent.appendChild(node);
  return node;
}

// A scale's three labels (top, middle, bottom) in parent, as spans for load() to fill in.
function tickLabels(parent) {
  return ["mv-max", "mv-mid", "mv-min"].map((name) => element("span", name, parent));
}

// The colour bar, the top of the scale at the top, with a label at its top, middle and bottom.
class Legend {
  constructor(parent, title) {
    this.node = element("div", "mv-legend", parent);
    element("div", "mv-legend-title", this.node).textContent = title;
    const body = element("div", "mv-legend-body", this.node);
    this.bar = element("canvas", "mv-bar", body);
    this.bar.width = 1;
    this.bar.height = 256;
    const ticks = element("div", "mv-ticks", body);
    this.ticks = tickLabels(ticks);
  }

  // ticks: the labels [top, middle, bottom]
  load(lut, ticks) {
    const image = new ImageData(1, 256);
    for (let y = 0; y < 256; y++) {
      const k = 3 * (255 - y);
      image.data.set([lut[k], lut[k + 1], lut[k + 2], 255], 4 * y);
    }
    this.bar.getContext("2d").putImageData(image, 0, 0);
    this.ticks.forEach((node, k) => {
      node.textContent = ticks[k];
    });
  }
}

// rows × cols cells as an image of a pixel each, paint(data, offset, row, col) colouring each one
function cellImage(rows, cols, paint) {
  const image = new ImageData(cols, rows);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) paint(image.data, 4 * (r * cols + c), r, c);
  return image;
}

// A canvas showing an image of cells (one image pixel per cell) scaled by a whole number of
// screen pixels, with the cell under the pointer outlined.
class Cells {
  constructor(parent, className, onPoint) {
    this.canvas = element("canvas", `mv-cells ${className}`, parent);
    this.canvas.setAttribute("role", "img");
    this.canvas.addEventListener("pointermove", (e) => {
      const r = this.canvas.getBoundingClientRect();
      onPoint(
        Math.floor(((e.clientY - r.top) / r.height) * this.rows),
        Math.floor(((e.clientX - r.left) / r.width) * this.cols),
      );
    });
    this.canvas.addEventListener("pointerleave", () => onPoint(null, null));
  }

  // image: an ImageData of a pixel per cell (cellImage); scale: screen pixels per cell, or
  // [across, down] for cells that are not square
  load(image, scale) {
    this.rows = image.height;
    this.cols = image.width;
    [this.sx, this.sy] = Array.isArray(scale) ? scale : [scale, scale];
    this.image = element("canvas", "");
    this.image.width = image.width;
    this.image.height = image.height;
    this.image.getContext("2d").putImageData(image, 0, 0);
    this.draw(null);
  }

  draw(cell) {
    const canvas = this.canvas;
    canvas.width = Math.round(this.cols * this.sx);
    canvas.height = Math.round(this.rows * this.sy);
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.image, 0, 0, canvas.width, canvas.height);
    if (cell) {
      const { sx, sy } = this;
      ctx.strokeStyle = HIGHLIGHT;
      ctx.lineWidth = Math.max(1, Math.min(2, Math.min(sx, sy) / 4));
      ctx.strokeRect(cell.col * sx + 0.5, cell.row * sy + 0.5, Math.max(1, sx - 1), Math.max(1, sy - 1));
    }
  }
}

class SaliencyView {
  constructor(root) {
    const panels = element("div", "mv-panels", root);
    const panel = (title) => {
      const figure = element("figure", "mv-panel", panels);
      const caption = element("figcaption", "mv-title", figure);
      caption.textContent = title;
      return figure;
    };
    const point = (row, col) => this.point(row, col);
    this.input = new Cells(panel("model input (black 0, white 1)"), "mv-input", point);
    this.input.canvas.setAttribute("aria-label", "The model's input, black 0 to white 1");
    const over = panel("");
    this.title = over.querySelector(".mv-title");
    this.title.classList.add("mv-saliency-title");
    this.saliency = new Cells(over, "mv-saliency", point);
    this.legend = new Legend(panels, "∂P/∂x");
    this.stats = element("div", "mv-stats", root);
    this.readout = element("div", "mv-readout", root);
    this.readout.setAttribute("aria-live", "polite");
  }

  load(data) {
    const { rows, cols, limit } = data;
    const x = data.input;
    const s = data.saliency;
    const lut = data.lut;
    this.rows = rows;
    this.cols = cols;
    this.x = x;
    this.s = s;
    this.note = data.note || "";
    const explained = this.note ? "class" : data.class_name;
    this.title.textContent = `∂P(${explained})/∂pixel over the input`;
    this.saliency.canvas.setAttribute("aria-label", `∂P(${explained})/∂pixel: red raises it, blue lowers it`);
    this.legend.load(lut, this.note ? ["+", "0", "−"] : signedTicks(limit));  // no gradient: no scale yet
    this.stats.textContent = this.note ? "" : `scale ±${significant(limit)} · ${data.stats}`;
    const scale = Math.max(1, Math.floor(280 / Math.max(rows, cols)));
    const grey = (i) => 255 * Math.min(1, Math.max(0, x[i]));
    const input = cellImage(rows, cols, (d, o, r, c) => {
      const g = Math.round(grey(r * cols + c));
      d.set([g, g, g, 255], o);
    });
    const saliency = cellImage(rows, cols, (d, o, r, c) => {
      const i = r * cols + c;
      const k = colourAt(s[i], limit);
      const mix = (v) => Math.round(OPACITY * v + (1 - OPACITY) * grey(i));
      d.set([mix(lut[k]), mix(lut[k + 1]), mix(lut[k + 2]), 255], o);
    });
    this.input.load(input, scale);
    this.saliency.load(saliency, scale);
    this.point(null, null);
  }

  point(row, col) {
    const inside = row !== null && row >= 0 && row < this.rows && col >= 0 && col < this.cols;
    const cell = inside && !this.note ? { row, col } : null;
    this.input.draw(cell);
    this.saliency.draw(cell);
    if (this.note || !cell) {
      this.readout.textContent = this.note || "Point at a pixel to read its input value and its ∂P/∂x.";
      return;
    }
    const i = row * this.cols + col;
    this.readout.textContent =
      `row ${row}, col ${col} · input ${this.x[i].toFixed(3)} · ∂P/∂x ${significant(this.s[i])}`;
  }
}

// A layer's feature maps, channel 1 at the top left, then left to right, a gap between maps.
class MosaicView {
  constructor(root) {
    this.title = element("div", "mv-title mv-mosaic-title", root);
    this.panels = element("div", "mv-panels", root);
    this.cells = new Cells(this.panels, "mv-mosaic", (row, col) => this.point(row, col));
    this.legend = new Legend(this.panels, "value");
    this.stats = element("div", "mv-stats", root);
    this.readout = element("div", "mv-readout", root);
    this.readout.setAttribute("aria-live", "polite");
    this.root = root;
    new ResizeObserver(() => this.data && this.layout()).observe(root);
  }

  load(data) {
    this.data = data;
    this.values = data.values;
    this.lut = data.lut;
    this.title.textContent = data.title;
    this.cells.canvas.setAttribute("aria-label", data.title);
    this.legend.load(this.lut, signedTicks(data.limit));
    this.stats.textContent = `scale ±${significant(data.limit)} · ${data.stats}`;
    this.drawn = null;
    this.layout();
  }

  layout() {
    const { channels, height, width, per_row, limit } = this.data;
    const across = Math.max(1, Math.min(per_row, channels));
    const down = Math.ceil(channels / across);
    const cols = across * (width + 1) - 1;
    const rows = down * (height + 1) - 1;
    const room = Math.max(100, this.root.clientWidth - 110); // the legend takes the rest
    // whole screen pixels per value; a matrix wider than the room (a dense layer's ΔW) is squeezed
    // across. A weight matrix's rows (its units) share MATRIX_PX of height, up to MAX_PIXEL each, so
    // that every unit can be pointed at; maps and kernels keep square pixels.
    const sx = cols <= room ? Math.min(MAX_PIXEL, Math.floor(room / cols)) : room / cols;
    const sy = this.data.cell_axes ? Math.max(sx, Math.min(MAX_PIXEL, MATRIX_PX / rows)) : sx;
    if (this.drawn === `${sx} ${sy}`) return; // resized, but the maps keep their size
    this.drawn = `${sx} ${sy}`;
    this.geometry = { across, height, width };
    // the gaps' colour everywhere, then map by map its pixels, a word each, without an object or an
    // array per pixel: a dense layer's ΔW has 200,000 of them
    const { values } = this;
    const table = pixelTable(this.lut);
    const image = new ImageData(cols, rows);
    const pixels = new Uint32Array(image.data.buffer);
    pixels.fill(pixel(...GAP_RGB));
    for (let map = 0; map < channels; map++) {
      const top = Math.floor(map / across) * (height + 1);
      const left = (map % across) * (width + 1);
      for (let row = 0; row < height; row++) {
        const from = (map * height + row) * width;
        const to = (top + row) * cols + left;
        for (let col = 0; col < width; col++) pixels[to + col] = table[colourIndex(values[from + col], limit)];
      }
    }
    this.cells.load(image, [sx, sy]);
    this.point(null, null);
  }

  // the map and its pixel at mosaic cell (r, c), or null in a gap or outside
  at(r, c) {
    const { across, height, width } = this.geometry;
    if (r === null || r < 0 || c < 0) return null;
    const down = Math.floor(r / (height + 1));
    const right = Math.floor(c / (width + 1));
    const row = r % (height + 1);
    const col = c % (width + 1);
    const map = down * across + right;
    if (row === height || col === width || right >= across || map >= this.data.channels) return null;
    return { map, row, col, index: (map * height + row) * width + col };
  }

  // what a map and a pixel are called: "channel 3, row 2, col 5" for feature maps; for kernels and
  // weight matrices the payload names them ("input channel 2, output channel 7", "unit 4, input 81")
  place(where) {
    const { tile_axes: tileAxes, cell_axes: cellAxes } = this.data;
    const [rowName, colName] = cellAxes || ["row", "col"];
    const cell = `${rowName} ${where.row}, ${colName} ${where.col}`;
    if (tileAxes) {
      const { across } = this.geometry;
      const down = Math.floor(where.map / across) + 1;
      return `${tileAxes[0]} ${down}, ${tileAxes[1]} ${(where.map % across) + 1}, ${cell}`;
    }
    return cellAxes ? cell : `channel ${where.map + 1}, ${cell}`; // a weight matrix is one tile
  }

  point(r, c) {
    const where = this.at(r, c);
    this.cells.draw(where ? { row: r, col: c } : null);
    this.readout.textContent = where
      ? `${this.place(where)} · ${significant(this.values[where.index])}`
      : "Point at a map to read its values.";
  }
}

// Counts, rows the true class and columns the prediction; each count written in its cell.
class ConfusionView {
  constructor(root) {
    this.title = element("div", "mv-title", root);
    const panels = element("div", "mv-panels", root);
    const grid = element("div", "mv-confusion", panels);
    element("div", "mv-axis mv-axis-true", grid).textContent = "true";
    this.rowLabels = element("div", "mv-row-labels", grid);
    this.cells = new Cells(grid, "mv-matrix", (row, col) => this.point(row, col));
    this.colLabels = element("div", "mv-col-labels", grid);
    element("div", "mv-axis mv-axis-predicted", grid).textContent = "predicted";
    this.legend = new Legend(panels, "images");
    this.readout = element("div", "mv-readout", root);
    this.readout.setAttribute("aria-live", "polite");
  }

  load(data) {
    const classes = data.classes;
    const n = classes.length;
    const counts = data.counts;
    const lut = data.lut;
    const top = Math.max(1, ...counts);
    this.classes = classes;
    this.counts = counts;
    this.title.textContent = data.title;
    const size = Math.max(14, Math.min(34, Math.floor(420 / Math.max(n, 1))));
    for (const [labels, className] of [[this.rowLabels, "mv-row-label"], [this.colLabels, "mv-col-label"]]) {
      labels.replaceChildren(
        ...classes.map((name) => {
          const node = element("div", className);
          node.textContent = name;
          node.style[className === "mv-row-label" ? "height" : "width"] = `${size}px`;
          return node;
        }),
      );
    }
    this.size = size;
    this.top = top;
    const image = cellImage(n, n, (d, o, r, c) => {
      const k = 3 * Math.round((255 * counts[r * n + c]) / top);
      d.set([lut[k], lut[k + 1], lut[k + 2], 255], o);
    });
    this.cells.load(image, size);
    this.legend.load(lut, [String(top), String(Math.round(top / 2)), "0"]);
    this.point(null, null);
  }

  draw(cell) {
    this.cells.draw(cell);
    if (this.size < 18) return; // too small for its number: the readout has it
    const ctx = this.cells.canvas.getContext("2d");
    const n = this.classes.length;
    ctx.font = `${Math.min(13, this.size / 2.2)}px "Source Sans", sans-serif`;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < n; c++) {
        const v = this.counts[r * n + c];
        ctx.fillStyle = v > this.top / 2 ? "#ffffff" : "#0f172a"; // readable on dark and light cells
        ctx.fillText(String(v), (c + 0.5) * this.size, (r + 0.5) * this.size);
      }
    }
  }

  point(row, col) {
    const n = this.classes.length;
    const inside = row !== null && row >= 0 && row < n && col >= 0 && col < n;
    this.draw(inside ? { row, col } : null);
    if (!inside) {
      this.readout.textContent = "Point at a cell: how many images of the true class got that prediction.";
      return;
    }
    const v = this.counts[row * n + col];
    const total = this.counts.slice(row * n, row * n + n).reduce((a, b) => a + b, 0);
    const share = total ? ` (${((100 * v) / total).toFixed(1)} % of true ${this.classes[row]})` : "";
    this.readout.textContent = `true ${this.classes[row]}, predicted ${this.classes[col]}: ${v} image${v === 1 ? "" : "s"}${share}`;
  }
}

// Probabilities, a row per sample (or group of samples) and a column per class, on the scale for
// values from 0 to 1 (white 0, dark blue 1); the true class ringed, the prediction crossed out where
// it is wrong. Rows past MAX_ROWS_PX share the height: each row a pixel of the canvas, the canvas
// shown MAX_ROWS_PX tall (the readout still reads the row under the pointer).
const MAX_ROWS_PX = 720;
const MAX_ROW_LABELS = 60;

class ProbabilityView {
  constructor(root) {
    this.title = element("div", "mv-title", root);
    const panels = element("div", "mv-panels", root);
    const grid = element("div", "mv-probabilities", panels);
    this.colLabels = element("div", "mv-prob-cols", grid);
    this.rowLabels = element("div", "mv-prob-rows", grid);
    this.cells = new Cells(grid, "mv-prob-cells", (row, col) => this.point(row, col));
    this.legend = new Legend(panels, "p");
    this.key = element("div", "mv-stats", root);
    this.ring = element("span", "mv-key-mark", this.key);
    this.ring.textContent = "○";
    this.keyTrue = element("span", "mv-key-gap", this.key);
    this.cross = element("span", "mv-key-mark", this.key);
    this.cross.textContent = "×";
    this.keyWrong = element("span", "", this.key);
    this.readout = element("div", "mv-readout", root);
    this.readout.setAttribute("aria-live", "polite");
  }

  load(data) {
    const classes = data.classes;
    const n = data.rows.length;
    const c = classes.length;
    this.data = data;
    this.p = data.p;
    this.targets = data.targets;
    this.predicted = data.predicted;
    const lut = data.lut;
    this.title.textContent = data.title;
    this.cells.canvas.setAttribute("aria-label", `${data.title}: ${n} rows, ${c} classes`);
    const sx = Math.max(18, Math.min(44, Math.floor(360 / Math.max(c, 1))));
    const sy = n <= 40 ? 18 : Math.max(1, Math.min(12, Math.floor(MAX_ROWS_PX / n)));
    const shown = Math.min(n * sy, MAX_ROWS_PX); // px on screen
    this.rowPx = shown / Math.max(n, 1);
    const image = cellImage(n, c, (d, o, r, k) => {
      const v = 3 * Math.min(255, Math.max(0, Math.round(255 * this.p[r * c + k])));
      d.set([lut[v], lut[v + 1], lut[v + 2], 255], o);
    });
    this.cells.load(image, [sx, sy]);
    this.cells.canvas.style.width = `${c * sx}px`;
    this.cells.canvas.style.height = `${shown}px`;
    this.colLabels.replaceChildren(
      ...classes.map((name) => {
        const node = element("div", "mv-prob-col");
        node.textContent = name;
        node.title = name;
        node.style.width = `${sx}px`;
        return node;
      }),
    );
    this.rowLabels.style.height = `${shown}px`;
    const every = Math.max(1, Math.ceil(n / MAX_ROW_LABELS), Math.ceil(14 / this.rowPx));
    const labels = [];
    for (let r = 0; r < n; r += every) {
      const node = element("div", "mv-prob-row");
      node.textContent = data.rows[r];
      node.style.top = `${(r + 0.5) * this.rowPx}px`;
      labels.push(node);
    }
    this.rowLabels.replaceChildren(...labels);
    // the labels are placed absolutely: the column is as wide as the longest (monospace: in ch)
    this.rowLabels.style.width = `${Math.max(4, ...labels.map((node) => node.textContent.length)) + 1}ch`;
    this.legend.load(lut, ["1", "0.5", "0"]);
    this.ring.style.color = data.marks.true;
    this.cross.style.color = data.marks.wrong;
    let wrong = 0;
    for (let r = 0; r < n; r++) if (this.predicted[r] !== this.targets[r]) wrong++;
    this.keyTrue.textContent = " true token";
    this.keyWrong.textContent = ` wrong prediction (${wrong} of ${n} row${n === 1 ? "" : "s"})`;
    this.point(null, null);
  }

  draw(cell) {
    this.cells.draw(cell);
    const { sx, sy } = this.cells;
    const n = this.data.rows.length;
    const ctx = this.cells.canvas.getContext("2d");
    const size = Math.max(1.5, Math.min(sx, sy) / 2 - 2); // a mark's half width, in canvas pixels
    ctx.lineWidth = sy >= 8 ? 2 : 1;
    for (let r = 0; r < n; r++) {
      const y = (r + 0.5) * sy;
      ctx.strokeStyle = this.data.marks.true;
      ctx.beginPath();
      ctx.arc((this.targets[r] + 0.5) * sx, y, size, 0, 2 * Math.PI);
      ctx.stroke();
      if (this.predicted[r] !== this.targets[r]) {
        const x = (this.predicted[r] + 0.5) * sx;
        ctx.strokeStyle = this.data.marks.wrong;
        ctx.beginPath();
        ctx.moveTo(x - size, y - size);
        ctx.lineTo(x + size, y + size);
        ctx.moveTo(x + size, y - size);
        ctx.lineTo(x - size, y + size);
        ctx.stroke();
      }
    }
  }

  point(row, col) {
    const n = this.data.rows.length;
    const c = this.data.classes.length;
    const inside = row !== null && row >= 0 && row < n && col >= 0 && col < c;
    this.draw(inside ? { row, col } : null);
    if (!inside) {
      this.readout.textContent = "Point at a cell: the network's probability of that class for that row.";
      return;
    }
    const v = this.p[row * c + col];
    const classes = this.data.classes;
    const marks = [
      col === this.targets[row] ? "the true token" : "",
      col === this.predicted[row] ? (this.predicted[row] === this.targets[row] ? "predicted" : "predicted, wrong") : "",
    ].filter(Boolean);
    this.readout.textContent =
      `${this.data.rows[row]} · ${classes[col]}: p = ${significant(v)} (${(100 * v).toFixed(1)} %)` +
      (marks.length ? ` · ${marks.join(", ")}` : "");
  }
}

// A layer's units for one input, a bar per unit from the zero line, one row per layer, each on its
// own scale (±max |value| of that layer, written beside it); colours on the signed scale. The bar
// under the pointer is outlined and the readout reads its value as sent.
const BAR_ROW_PX = 110;

class BarsView {
  constructor(root) {
    this.panels = element("div", "mv-panels mv-bars-panels", root);
    this.rowsNode = element("div", "mv-bars", this.panels);
    this.legend = new Legend(this.panels, "value");
    this.readout = element("div", "mv-readout", root);
    this.readout.setAttribute("aria-live", "polite");
    this.rows = [];
    this.rowsNode.addEventListener("pointerleave", () => this.point(null, null));
    this.pointed = [null, null]; // the row and the unit under the pointer
    new ResizeObserver(() => this.data && this.point(...this.pointed)).observe(this.rowsNode);
  }

  load(data) {
    this.data = data;
    this.lut = data.lut;
    // a row's elements are kept while the layers keep their number, so a new drawing redraws in place
    if (this.rows.length !== data.rows.length) {
      this.rowsNode.replaceChildren();
      this.rows = data.rows.map((_, k) => this.row(k));
    }
    data.rows.forEach((spec, k) => {
      const row = this.rows[k];
      row.values = spec.values;
      row.limit = spec.limit;
      row.title.textContent = spec.title;
      row.canvas.setAttribute("aria-label", `${spec.title}: a bar per unit, on ±${significant(spec.limit)}`);
      row.names = spec.labels || null; // the output's bars are its classes
      row.labels.replaceChildren(
        ...(row.names || []).map((name) => {
          const label = element("span", "mv-bars-label");
          label.textContent = name;
          label.title = name;
          return label;
        }),
      );
      const ticks = signedTicks(spec.limit);
      row.ticks.forEach((node, i) => {
        node.textContent = ticks[i];
      });
    });
    this.legend.load(this.lut, ["+max", "0", "−max"]);
    this.point(null, null);
  }

  row(k) {
    const node = element("div", "mv-bars-row", this.rowsNode);
    const title = element("div", "mv-title", node);
    const body = element("div", "mv-bars-body", node);
    const ticks = element("div", "mv-ticks mv-bars-ticks", body);
    const canvas = element("canvas", "mv-bars-canvas", body);
    canvas.setAttribute("role", "img");
    canvas.addEventListener("pointermove", (e) => {
      const r = canvas.getBoundingClientRect();
      this.point(k, Math.floor(((e.clientX - r.left) / r.width) * this.rows[k].values.length));
    });
    const labels = element("div", "mv-bars-labels", node);
    return { title, canvas, labels, ticks: tickLabels(ticks) };
  }

  draw(k, unit) {
    const { canvas, values, limit } = this.rows[k];
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(1, canvas.clientWidth);
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(BAR_ROW_PX * ratio);
    const ctx = canvas.getContext("2d");
    ctx.scale(ratio, ratio);
    const n = values.length;
    const step = width / n;
    const middle = BAR_ROW_PX / 2;
    const half = middle - 2;
    ctx.fillStyle = "#c3c8d1";
    ctx.fillRect(0, middle - 0.5, width, 1); // the zero line
    for (let i = 0; i < n; i++) {
      const v = Number.isFinite(values[i]) ? values[i] : 0;
      const c = colourAt(v, limit);
      ctx.fillStyle = `rgb(${this.lut[c]},${this.lut[c + 1]},${this.lut[c + 2]})`;
      const h = Math.min(1, Math.abs(v) / limit) * half;
      const gap = step >= 4 ? 1 : 0; // a pixel between bars wide enough to spare it
      ctx.fillRect(i * step, v >= 0 ? middle - h : middle, Math.max(1, step - gap), Math.max(h, 0.5));
    }
    if (unit !== null) {
      ctx.strokeStyle = HIGHLIGHT;
      ctx.lineWidth = 2;
      ctx.strokeRect(unit * step + 1, 1, Math.max(1, step - 2), BAR_ROW_PX - 2);
    }
  }

  point(k, unit) {
    const inside = k !== null && unit >= 0 && unit < this.rows[k].values.length;
    this.pointed = inside ? [k, unit] : [null, null];
    this.rows.forEach((_, j) => this.draw(j, inside && j === k ? unit : null));
    if (!inside) {
      this.readout.textContent = "Point at a bar to read its unit's value.";
      return;
    }
    const { values, limit, names } = this.rows[k];
    const which = names ? `class ${names[unit]}` : `unit ${unit}`;
    this.readout.textContent =
      `${this.data.rows[k].title} · ${which}: ${significant(values[unit])} (scale ±${significant(limit)})`;
  }
}

const LAYOUTS = {
  saliency: SaliencyView,
  mosaic: MosaicView,
  confusion: ConfusionView,
  probabilities: ProbabilityView,
  bars: BarsView,
};

export default function (component) {
  const { parentElement } = component;
  const data = unpack(component.data);
  let view = VIEWS.get(parentElement);
  if (!view || view.layout !== data.layout) {
    const root = parentElement.querySelector(".mv-root");
    root.replaceChildren();
    view = { layout: data.layout, view: new LAYOUTS[data.layout](root) };
    VIEWS.set(parentElement, view);
  }
  view.view.load(data);
}
