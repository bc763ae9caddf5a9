// A table of rows to pick one from (Sequences: the training samples). Only the rows in view (and a
// few around them) are in the page, so a table of thousands of rows costs what forty rows cost; a
// click on a row, or Enter on it, picks it and sends its index as the trigger value "row". Streamlit
// calls the default export again on the same parentElement with new data: the view redraws the rows
// it has, and scrolls the selected row into view when the selection changed elsewhere (the number
// box beside the table). Cell text is set as text, never as HTML.

const VIEWS = new WeakMap();
const ROW = 28; // px per row, as the CSS draws it, until a drawn row is measured
const SPARE = 8; // rows kept in the page above and below those in view

// Sets only what differs: a redraw with the same rows changes nothing in the page, so the browser has
// nothing to lay out again.
function setAttribute(node, name, value) {
  if (node.getAttribute(name) !== value) node.setAttribute(name, value);
}

function setHeight(node, px) {
  if (node.style.height !== `${px}px`) node.style.height = `${px}px`;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

class TableView {
  constructor(root) {
    this.scroller = element("div", "tv-scroller");
    this.scroller.tabIndex = 0;
    this.table = element("table", "tv-table");
    this.colgroup = element("colgroup");
    this.head = element("thead");
    this.body = element("tbody");
    this.table.append(this.colgroup, this.head, this.body);
    this.scroller.append(this.table);
    root.append(this.scroller);
    this.above = this.spacer();
    this.below = this.spacer();
    this.rows = []; // the <tr> elements drawn between the spacers
    this.rowHeight = ROW;
    this.first = 0;
    this.data = null;
    this.top = 0; // the scroller's scrollTop, kept here: reading it would lay out the page at once
    this.scroller.addEventListener("scroll", () => {
      this.top = this.scroller.scrollTop;
      this.draw();
    });
    this.body.addEventListener("click", (event) => {
      const row = event.target.closest("tr.tv-row");
      if (row) this.pick(Number(row.dataset.index));
    });
    this.scroller.addEventListener("keydown", (event) => this.key(event));
  }

  spacer() {
    const row = element("tr", "tv-spacer");
    row.setAttribute("aria-hidden", "true");
    row.append(element("td"));
    return row;
  }

  load(data, trigger) {
    this.trigger = trigger;
    const previous = this.data;
    this.data = data;
    setHeight(this.scroller, data.height);
    setAttribute(this.table, "aria-label", data.label);
    setAttribute(this.table, "aria-rowcount", String(data.rows.length + 1));
    if (!previous || previous.columns.join("\u0000") !== data.columns.join("\u0000")) this.header();
    const moved = !previous || previous.selected !== data.selected || previous.rows.length !== data.rows.length;
    this.draw();
    if (moved && data.selected !== null) this.reveal(data.selected);
  }

  header() {
    const widths = this.data.widths;
    this.colgroup.replaceChildren(
      ...this.data.columns.map((_, i) => {
        const col = element("col");
        if (widths && widths[i]) col.style.width = widths[i];
        return col;
      }),
    );
    const row = element("tr");
    this.data.columns.forEach((name, i) => {
      const cell = element("th", this.data.kinds[i] === "number" ? "tv-number" : "", name);
      cell.scope = "col";
      row.append(cell);
    });
    this.head.replaceChildren(row);
    this.above.firstChild.colSpan = this.below.firstChild.colSpan = this.data.columns.length;
    this.rows.forEach((tr) => tr.remove());
    this.rows = [];
  }

  // the rows in view (and SPARE more on each side) are in the page; spacers stand for the others
  draw() {
    const n = this.data.rows.length;
    const top = this.top;
    const seen = Math.ceil(this.data.height / this.rowHeight);
    const first = Math.max(0, Math.min(n, Math.floor(top / this.rowHeight) - SPARE));
    const last = Math.min(n, Math.floor(top / this.rowHeight) + seen + SPARE);
    const added = this.rows.length < last - first;
    const changed = this.rows.length !== last - first || this.body.firstChild !== this.above;
    while (this.rows.length < last - first) this.rows.push(this.newRow());
    while (this.rows.length > last - first) this.rows.pop().remove();
    this.first = first;
    setHeight(this.above.firstChild, first * this.rowHeight);
    setHeight(this.below.firstChild, (n - last) * this.rowHeight);
    if (changed) this.body.replaceChildren(this.above, ...this.rows, this.below);
    this.rows.forEach((tr, k) => this.fill(tr, first + k));
    if (!added) return;
    // new rows: the distance from one row to the next, as the browser lays them out
    const measured =
      this.rows.length > 1
        ? this.rows[1].getBoundingClientRect().top - this.rows[0].getBoundingClientRect().top
        : 0;
    if (measured > 0 && Math.abs(measured - this.rowHeight) > 0.25) {
      this.rowHeight = measured; // the spacers stand for rows of the height the browser draws
      this.draw();
    }
  }

  newRow() {
    const tr = element("tr", "tv-row");
    this.data.columns.forEach((_, i) => {
      const kind = this.data.kinds[i];
      tr.append(element("td", kind === "number" ? "tv-number" : kind === "mono" ? "tv-mono" : ""));
    });
    return tr;
  }

  fill(tr, index) {
    setAttribute(tr, "data-index", String(index));
    setAttribute(tr, "aria-rowindex", String(index + 2));
    const selected = index === this.data.selected;
    if (tr.classList.contains("tv-selected") !== selected) tr.classList.toggle("tv-selected", selected);
    setAttribute(tr, "aria-selected", selected ? "true" : "false");
    const values = this.data.rows[index];
    for (let i = 0; i < values.length; i++) {
      const cell = tr.children[i];
      const text = String(values[i]);
      if (cell.textContent !== text) cell.textContent = text;
      setAttribute(cell, "title", text);
    }
  }

  // scroll so the row is in view (the least scroll that shows it)
  reveal(index) {
    const head = this.head.getBoundingClientRect().height;
    const top = index * this.rowHeight;
    const view = this.scroller.clientHeight - head;
    if (top < this.scroller.scrollTop) this.scroller.scrollTop = top;
    else if (top + this.rowHeight > this.scroller.scrollTop + view) this.scroller.scrollTop = top + this.rowHeight - view;
    this.top = this.scroller.scrollTop;
    this.draw();
  }

  pick(index) {
    if (!Number.isInteger(index) || index < 0 || index >= this.data.rows.length) return;
    if (index === this.data.selected) return;
    this.data = { ...this.data, selected: index };
    this.draw();
    if (this.trigger) this.trigger("row", index);
  }

  // ↑ ↓ Page Up / Page Down, Home / End move the selection; the table is one tab stop
  key(event) {
    const n = this.data.rows.length;
    if (!n) return;
    const at = this.data.selected ?? -1;
    const page = Math.max(1, Math.floor(this.data.height / this.rowHeight) - 2);
    const moves = {
      ArrowDown: at + 1,
      ArrowUp: at - 1,
      PageDown: at + page,
      PageUp: at - page,
      Home: 0,
      End: n - 1,
    };
    if (!(event.key in moves)) return;
    event.preventDefault();
    const index = Math.max(0, Math.min(n - 1, moves[event.key]));
    this.pick(index);
    this.reveal(index);
  }
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let view = VIEWS.get(parentElement);
  if (!view) {
    const root = parentElement.querySelector(".tv-root");
    root.replaceChildren();
    view = new TableView(root);
    VIEWS.set(parentElement, view);
  }
  view.load(data, setTriggerValue);
}
