// A small report drawn from plain data (viz.tables.table and viz.tables.pictures): a titled table whose
// cells are text and bars, or a row of grey pictures, each with its caption. Every text is set as text,
// never read as HTML: nothing has to be sanitised or parsed, and the page gets the few nodes it shows.
// Streamlit calls the default export again on the same parentElement with new data (another drawing,
// another model): a table is drawn anew in its place, and pictures are painted in the figures there.

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// One part of a cell: a bar ({bar: share 0–1, color, width in em, text beside it, title on hover}) or
// text ({text, bold, mono, color}).
function part(spec) {
  if ("bar" in spec) {
    const bar = element("span", "rv-bar");
    bar.title = spec.title;
    const track = element("span", "rv-track");
    track.style.width = `${spec.width}em`;
    const fill = element("span", "rv-fill");
    fill.style.width = `${(100 * spec.bar).toFixed(1)}%`;
    fill.style.background = spec.color;
    track.append(fill);
    bar.append(track, element("span", "rv-value", spec.text));
    return bar;
  }
  const text = element(spec.bold ? "b" : "span", spec.mono ? "rv-mono" : "", spec.text);
  if (spec.color) text.style.color = spec.color;
  return text;
}

function table(data) {
  const head = element("tr");
  data.head.forEach((name, column) => {
    const th = element("th", "", name);
    th.style.textAlign = data.align[column];
    head.append(th);
  });
  const body = element("tbody");
  for (const row of data.rows) {
    const line = element("tr");
    row.forEach((cell, column) => {
      const td = element("td");
      td.style.textAlign = data.align[column];
      td.append(...cell.map(part));
      line.append(td);
    });
    body.append(line);
  }
  const grid = element("table", "rv-table");
  const thead = element("thead");
  thead.append(head);
  grid.append(thead, body);
  const nodes = [element("div", "rv-title", data.title), grid];
  if (data.note) nodes.push(element("div", "rv-note", data.note));
  return nodes;
}

// Each picture: a canvas of its own pixels, drawn `width` CSS pixels wide; a grey level g is the pixel
// (g, g, g, opaque), one 32-bit word (little-endian RGBA) per pixel. The figures already in the page
// are painted again in place: a new canvas costs its drawing context, and a canvas given a new size
// its pixels, more than painting a small picture does.
function paint(figure, pixels, [height, width], caption, shownWidth) {
  const [canvas, label] = figure.children;
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  canvas.style.width = `${shownWidth}px`;
  canvas.style.height = `${Math.round((shownWidth * height) / width)}px`;
  canvas.setAttribute("aria-label", caption);
  const image = new ImageData(width, height);
  const words = new Uint32Array(image.data.buffer);
  for (let k = 0; k < words.length; k++) {
    const g = pixels[k];
    words[k] = (0xff000000 | (g << 16) | (g << 8) | g) >>> 0;
  }
  canvas.getContext("2d").putImageData(image, 0, 0);
  figure.style.width = `${shownWidth}px`;
  if (label.textContent !== caption) label.textContent = caption;
}

function figure() {
  const canvas = element("canvas");
  canvas.setAttribute("role", "img");
  const node = element("figure", "rv-picture");
  node.append(canvas, element("figcaption"));
  return node;
}

// The note (above the pictures, when there is one) and the pictures' row, kept in the page from one
// report of pictures to the next.
function pictures(root, data) {
  let row = root.querySelector(":scope > .rv-pictures");
  if (!row) {
    row = element("div", "rv-pictures");
    root.replaceChildren(row); // a table drawn before is gone
  }
  let note = root.querySelector(":scope > .rv-note");
  if (!data.note) note?.remove();
  else if (!note) root.prepend(element("p", "rv-note", data.note));
  else if (note.textContent !== data.note) note.textContent = data.note;
  while (row.children.length > data.images.length) row.lastElementChild.remove();
  while (row.children.length < data.images.length) row.append(figure());
  data.images.forEach((pixels, k) => paint(row.children[k], pixels, data.shapes[k], data.captions[k], data.width));
}

export default function (component) {
  const data = unpack(component.data);
  const root = component.parentElement.querySelector(".rv-root");
  if (data.kind === "pictures") pictures(root, data);
  else root.replaceChildren(...table(data));
}
