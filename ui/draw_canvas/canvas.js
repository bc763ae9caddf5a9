// The drawing canvas: white strokes on black, drawn in the browser as the pointer moves.
//
// A stroke is sent when it ends (pointer up), with no delay: the strokes (width and
// points, so the canvas can be given them back after an upload or another page) and the
// canvas's pixels as a PNG data URL, as one state value, "drawing". Undo, redo and Clear
// act here and send the drawing they leave; Clear is one step of the history, so Undo
// brings the drawing back. Streamlit calls the default export again on the same
// parentElement when the data changes; the canvas keeps its strokes per parentElement,
// and takes the strokes given in the data only the first time it is drawn.
//
// Its Stroke width control acts here, on the strokes drawn next, with no rerun; the width is
// sent when the control is let go (state value "width"), so a canvas shown again starts
// with it (the data's stroke_width, taken the first time only, as the strokes are).
//
// A picture file (the Picture… button, or a file dropped on the canvas) is read here and
// sent once, as the trigger value "picture" ({name, data: a base64 data URL}); a file over
// the page's max_bytes is refused here with a note, never sent. While the data holds a
// picture (what the model reads, as a PNG data URL) the canvas shows it instead of the
// strokes, which it keeps: "Back to drawing" sends {remove: true} and they come back. Its
// status line and a menu of how to read its ink ("ink", a trigger value) sit under it.

const CANVASES = new WeakMap();

class DrawingCanvas {
  constructor(parent) {
    this.root = parent.querySelector(".dc-root");
    this.canvas = this.root.querySelector(".dc-canvas");
    this.ctx = this.canvas.getContext("2d");
    this.undoButton = this.root.querySelector(".dc-undo");
    this.redoButton = this.root.querySelector(".dc-redo");
    this.clearButton = this.root.querySelector(".dc-clear");
    this.backButton = this.root.querySelector(".dc-back");
    this.openButton = this.root.querySelector(".dc-open");
    this.fileInput = this.root.querySelector(".dc-file");
    this.note = this.root.querySelector(".dc-note");
    this.status = this.root.querySelector(".dc-status");
    this.ink = this.root.querySelector(".dc-ink");
    this.count = this.root.querySelector(".dc-count");
    this.widthInput = this.root.querySelector(".dc-width-input");
    this.widthValue = this.root.querySelector(".dc-width-value");
    this.picture = null; // the data URL shown instead of the strokes
    this.pictureImage = null;
    this.strokes = []; // {w, pts: [x0, y0, x1, y1, ...]} in canvas pixels
    // the history: {stroke} drawn, or {cleared: the strokes Clear took away}
    this.done = [];
    this.undone = [];
    this.current = null;
    this.side = 0;
    this.width = 18;
    this.seeded = false;
    this.canvas.addEventListener("pointerdown", (e) => this.start(e));
    this.canvas.addEventListener("pointermove", (e) => this.move(e));
    this.canvas.addEventListener("pointerup", (e) => this.end(e));
    this.canvas.addEventListener("pointercancel", (e) => this.end(e));
    this.canvas.addEventListener("keydown", (e) => this.key(e));
    this.undoButton.addEventListener("click", () => this.undo());
    this.redoButton.addEventListener("click", () => this.redo());
    this.clearButton.addEventListener("click", () => this.clear());
    this.backButton.addEventListener("click", () => this.trigger("picture", { remove: true }));
    this.openButton.addEventListener("click", () => this.fileInput.click());
    this.ink.addEventListener("change", () => this.trigger("ink", this.ink.value));
    this.widthInput.addEventListener("input", () => this.setWidth(Number(this.widthInput.value)));
    this.widthInput.addEventListener("change", () => this.send("width", this.width));
    this.fileInput.addEventListener("change", () => {
      if (this.fileInput.files.length) this.open(this.fileInput.files[0]);
      this.fileInput.value = ""; // the same file chosen again is read again
    });
    this.canvas.addEventListener("dragover", (e) => {
      if (![...e.dataTransfer.types].includes("Files")) return;
      e.preventDefault();
      this.root.classList.add("dc-dropping");
    });
    this.canvas.addEventListener("dragleave", () => this.root.classList.remove("dc-dropping"));
    this.canvas.addEventListener("drop", (e) => {
      e.preventDefault();
      this.root.classList.remove("dc-dropping");
      if (e.dataTransfer.files.length) this.open(e.dataTransfer.files[0]);
    });
  }

  // read a picture file and send it, unless it is over the page's bound
  open(file) {
    if (file.size > this.maxBytes) {
      const mib = (n) => `${(n / 1048576).toFixed(1)} MiB`;
      this.note.textContent = `${file.name} is ${mib(file.size)}: pictures up to ${mib(this.maxBytes)} are read.`;
      return;
    }
    this.note.textContent = "";
    const reader = new FileReader();
    reader.addEventListener("load", () => this.trigger("picture", { name: file.name, data: reader.result }));
    reader.addEventListener("error", () => {
      this.note.textContent = `${file.name} could not be read by the browser.`;
    });
    reader.readAsDataURL(file);
  }

  // the menu of how to read the picture's ink, its options as the page names them
  inkMenu(inks, chosen) {
    const current = [...this.ink.options].map((o) => [o.value, o.textContent]);
    if (JSON.stringify(current) !== JSON.stringify(inks)) {
      this.ink.replaceChildren(
        ...inks.map(([value, label]) => {
          const option = document.createElement("option");
          option.value = value;
          option.textContent = label;
          return option;
        }),
      );
    }
    this.ink.value = chosen;
  }

  showPicture(src) {
    if (src === this.picture) return;
    this.picture = src;
    this.root.classList.toggle("dc-picture", src !== null);
    this.canvas.setAttribute(
      "aria-label",
      src === null
        ? "Drawing canvas: draw with the mouse, a finger or a pen; Ctrl+Z undoes; drop a picture to open it"
        : "The opened picture, as the model reads it",
    );
    if (src === null) {
      this.pictureImage = null;
      this.redraw();
      return;
    }
    const image = new Image();
    image.addEventListener("load", () => {
      if (this.picture !== src) return; // another picture came meanwhile
      this.pictureImage = image;
      this.redraw();
    });
    image.src = src;
  }

  load(data, setStateValue, setTriggerValue) {
    this.send = setStateValue;
    this.trigger = setTriggerValue;
    this.maxBytes = data.max_bytes;
    const redraw = data.side !== this.side || !this.seeded;
    if (data.side !== this.side) {
      this.side = data.side;
      this.canvas.width = this.canvas.height = this.side;
      this.canvas.style.maxWidth = `${this.side}px`; // narrower on a narrow screen: points are scaled
    }
    if (!this.seeded) {
      this.seeded = true;
      [this.widthInput.min, this.widthInput.max] = data.widths.map(String);
      this.setWidth(data.stroke_width);
      this.strokes = (data.strokes || []).map(([w, pts]) => ({ w, pts }));
      this.done = this.strokes.map((stroke) => ({ stroke }));
    }
    if (redraw) this.redraw();
    const picture = data.picture || null;
    this.showPicture(picture ? picture.src : null);
    this.status.textContent = picture ? picture.status : "";
    if (picture) this.inkMenu(picture.inks, picture.ink);
    this.updateBar();
  }

  setWidth(width) {
    this.width = width;
    this.widthInput.value = String(width);
    this.widthValue.textContent = `${width} px`;
  }

  point(e) {
    const r = this.canvas.getBoundingClientRect();
    const x = ((e.clientX - r.left) * this.side) / r.width;
    const y = ((e.clientY - r.top) * this.side) / r.height;
    return [Math.round(x * 10) / 10, Math.round(y * 10) / 10];
  }

  start(e) {
    if (e.button !== 0 || this.current || this.picture) return;
    e.preventDefault();
    this.canvas.focus({ preventScroll: true });
    this.canvas.setPointerCapture(e.pointerId);
    this.current = { w: this.width, pts: this.point(e), pointer: e.pointerId };
    this.dot(this.current.w, this.current.pts[0], this.current.pts[1]);
  }

  move(e) {
    const s = this.current;
    if (!s || e.pointerId !== s.pointer) return;
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
    for (const each of events.length ? events : [e]) {
      const [x, y] = this.point(each);
      const n = s.pts.length;
      if (x === s.pts[n - 2] && y === s.pts[n - 1]) continue;
      this.segment(s.w, s.pts[n - 2], s.pts[n - 1], x, y);
      s.pts.push(x, y);
    }
  }

  end(e) {
    const s = this.current;
    if (!s || e.pointerId !== s.pointer) return;
    this.current = null;
    this.act({ stroke: { w: s.w, pts: s.pts } });
  }

  key(e) {
    if (!(e.ctrlKey || e.metaKey) || e.altKey || this.picture) return;
    const k = e.key.toLowerCase();
    if (k === "z" && !e.shiftKey) this.undo();
    else if ((k === "z" && e.shiftKey) || k === "y") this.redo();
    else return;
    e.preventDefault();
  }

  // a new step of the history: what was undone cannot be redone after it
  act(step) {
    this.undone = [];
    this.apply(step);
  }

  // the canvas is drawn again from its strokes, a finished stroke too: the pixels sent are then
  // those an undo and a redo give back
  apply(step) {
    if (step.stroke) {
      this.strokes.push(step.stroke);
    } else {
      this.strokes = [];
    }
    this.done.push(step);
    this.redraw();
    this.publish();
  }

  clear() {
    if (!this.strokes.length || this.current) return;
    this.act({ cleared: this.strokes });
  }

  undo() {
    if (!this.done.length || this.current) return;
    const step = this.done.pop();
    if (step.stroke) {
      this.strokes.pop();
    } else {
      this.strokes = step.cleared;
    }
    this.undone.push(step);
    this.redraw();
    this.publish();
  }

  redo() {
    if (!this.undone.length || this.current) return;
    this.apply(this.undone.pop());
  }

  publish() {
    this.updateBar();
    this.send("drawing", {
      strokes: this.strokes.map((s) => [s.w, s.pts]),
      png: this.strokes.length ? this.canvas.toDataURL("image/png") : null,
    });
  }

  updateBar() {
    const shown = this.picture !== null;
    for (const button of [this.undoButton, this.redoButton, this.clearButton]) button.hidden = shown;
    this.backButton.hidden = !shown;
    this.ink.hidden = !shown;
    this.widthInput.disabled = shown; // a picture is read, not drawn on
    this.undoButton.disabled = this.done.length === 0;
    this.redoButton.disabled = this.undone.length === 0;
    this.clearButton.disabled = this.strokes.length === 0;
    const n = this.strokes.length;
    this.count.textContent = n && !shown ? `${n} stroke${n === 1 ? "" : "s"}` : "";
  }

  style(width) {
    const ctx = this.ctx;
    ctx.strokeStyle = ctx.fillStyle = "#ffffff";
    ctx.lineWidth = width;
    ctx.lineCap = ctx.lineJoin = "round";
  }

  dot(width, x, y) {
    this.style(width);
    this.ctx.beginPath();
    this.ctx.arc(x, y, width / 2, 0, 2 * Math.PI);
    this.ctx.fill();
  }

  segment(width, x0, y0, x1, y1) {
    this.style(width);
    this.ctx.beginPath();
    this.ctx.moveTo(x0, y0);
    this.ctx.lineTo(x1, y1);
    this.ctx.stroke();
  }

  redraw() {
    const ctx = this.ctx;
    ctx.fillStyle = "#000000";
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    if (this.picture !== null) {
      // the picture, whole and centred, its pixels square and crisp
      const image = this.pictureImage;
      if (image) {
        const scale = Math.min(this.side / image.width, this.side / image.height);
        const w = image.width * scale;
        const h = image.height * scale;
        ctx.imageSmoothingEnabled = false;
        ctx.drawImage(image, (this.side - w) / 2, (this.side - h) / 2, w, h);
      }
      return;
    }
    for (const { w, pts } of this.strokes) {
      if (pts.length === 2) {
        this.dot(w, pts[0], pts[1]);
        continue;
      }
      this.style(w);
      ctx.beginPath();
      ctx.moveTo(pts[0], pts[1]);
      for (let i = 2; i < pts.length; i += 2) ctx.lineTo(pts[i], pts[i + 1]);
      ctx.stroke();
    }
  }
}

export default function (component) {
  const { data, parentElement, setStateValue, setTriggerValue } = component;
  let canvas = CANVASES.get(parentElement);
  if (!canvas) {
    canvas = new DrawingCanvas(parentElement);
    CANVASES.set(parentElement, canvas);
  }
  canvas.load(data, setStateValue, setTriggerValue);
}
