"""What a person would see wrong in a chart, read from the page: text over text, text cut off, a legend
over a colour bar, tick labels running into each other, a chart with several series and no legend; and
what they would feel: margins too small for what sits in them, which plotly widens and then lays the
whole chart out a second time, at every redraw.

``chart_problems(page)`` returns one sentence per problem across every plotly chart on the page (an
empty list when there is none); ``whole_page_screenshot`` saves a page as tall as its content.
"""

from __future__ import annotations

from tests.browser.harness import ARTIFACTS_DIR

# Runs in the page: for every plotly chart, the boxes of its titles, annotations, legend, colour bars,
# axis titles and tick labels, and whether it has a legend and how many series it draws.
_CHART_BOXES = r"""
() => {
  const box = (el) => { const r = el.getBoundingClientRect(); return {x: r.x, y: r.y, w: r.width, h: r.height}; };
  const shown = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0 && (el.textContent || '').trim() !== '' || el.classList.contains('legend') || el.classList.contains('colorbar'); };
  return [...document.querySelectorAll('.js-plotly-plot')].map((plot, index) => {
    const root = plot.querySelector('.main-svg');
    const title = plot.querySelector('.gtitle');
    const texts = (sel) => [...plot.querySelectorAll(sel)].filter(shown).map(el => ({text: (el.textContent || '').trim(), ...box(el)}));
    const ticks = {};
    for (const axis of plot.querySelectorAll('.xaxislayer-above, .yaxislayer-above')) {
      for (const group of axis.querySelectorAll('g[class$="tick"]')) {
        const name = [...group.classList].find(c => c.endsWith('tick'));
        const key = (axis.classList.contains('xaxislayer-above') ? 'x:' : 'y:') + name + ':' + [...axis.parentNode.classList].join('.');
        ticks[key] = ticks[key] || [];
        const text = group.querySelector('text');
        if (text && (text.textContent || '').trim() !== '') ticks[key].push({text: text.textContent.trim(), ...box(text)});
      }
    }
    const legend = plot.querySelector('.legend');
    const full = plot._fullLayout || {};
    return {
      index,
      // the margins the figure asked for, and those plotly used after making room for labels and legends
      margin: full.margin ? {l: full.margin.l, r: full.margin.r, t: full.margin.t, b: full.margin.b} : null,
      used: full._size ? {l: full._size.l, r: full._size.r, t: full._size.t, b: full._size.b} : null,
      frame: box(plot),
      svg: root ? box(root) : null,
      title: title && (title.textContent || '').trim() ? {text: title.textContent.trim(), ...box(title)} : null,
      annotations: texts('.annotation-text'),
      legend: legend ? {items: legend.querySelectorAll('.traces').length, ...box(legend)} : null,
      colorbars: [...plot.querySelectorAll('.colorbar')].map(el => ({text: (el.textContent || '').trim(), ...box(el)})),
      axisTitles: texts('.g-xtitle, .g-ytitle, [class^="g-x"][class$="title"], [class^="g-y"][class$="title"]'),
      ticks,
      series: plot.querySelectorAll('.scatterlayer .trace, .barlayer .trace, .heatmaplayer .hm, .imagelayer image').length,
      // A picture: every y axis keeps square pixels with its x axis (an image, feature maps).
      picture: (() => {
        const axes = Object.keys(plot.layout || {}).filter((k) => /^yaxis\d*$/.test(k));
        return axes.length > 0 && axes.every((k) => plot.layout[k].scaleanchor);
      })(),
    };
  });
}
"""


def _overlap(a: dict, b: dict, tolerance: float = 1.0) -> bool:
    return (
        a["x"] + tolerance < b["x"] + b["w"]
        and b["x"] + tolerance < a["x"] + a["w"]
        and a["y"] + tolerance < b["y"] + b["h"]
        and b["y"] + tolerance < a["y"] + a["h"]
    )


def _inside(inner: dict, outer: dict, tolerance: float = 2.0) -> bool:
    return (
        inner["x"] >= outer["x"] - tolerance
        and inner["y"] >= outer["y"] - tolerance
        and inner["x"] + inner["w"] <= outer["x"] + outer["w"] + tolerance
        and inner["y"] + inner["h"] <= outer["y"] + outer["h"] + tolerance
    )


def chart_problems(page) -> list[str]:
    """One sentence per problem in the plotly charts of ``page`` (empty: nothing overlaps or is cut)."""
    problems = []
    for chart in page.evaluate(_CHART_BOXES):
        name = (chart["title"] or {}).get("text") or f"chart {chart['index'] + 1}"
        texts = ([chart["title"]] if chart["title"] else []) + chart["annotations"]
        for i, a in enumerate(texts):
            for b in texts[i + 1 :]:
                if _overlap(a, b):
                    problems.append(f"{name}: '{a['text']}' overlaps '{b['text']}'")
        blocks = [("the legend", chart["legend"])] if chart["legend"] else []
        blocks += [(f"the colour bar '{bar['text']}'", bar) for bar in chart["colorbars"]]
        for i, (what, a) in enumerate(blocks):
            for other, b in blocks[i + 1 :]:
                if _overlap(a, b):
                    problems.append(f"{name}: {what} overlaps {other}")
            for text in texts + chart["axisTitles"]:
                if _overlap(a, text):
                    problems.append(f"{name}: {what} overlaps '{text['text']}'")
        svg = chart["svg"]
        if svg:
            for text in texts + chart["axisTitles"] + [b for _, b in blocks]:
                if not _inside(text, svg):
                    problems.append(f"{name}: '{text.get('text', 'legend')}' is cut off at the chart's edge")
        for axis, labels in chart["ticks"].items():
            ordered = sorted(
                labels, key=lambda t: (t["x"], t["y"]) if axis.startswith("x") else (t["y"], t["x"])
            )
            for a, b in zip(ordered, ordered[1:]):
                if _overlap(a, b, tolerance=0.5):
                    problems.append(f"{name}: tick labels '{a['text']}' and '{b['text']}' overlap")
        if (
            chart["series"] > 1
            and not chart["legend"]
            and not chart["colorbars"]
            and not chart["annotations"]
        ):
            problems.append(f"{name}: {chart['series']} series and no legend saying which is which")
        if not chart["ticks"] and not chart["picture"]:  # a picture's pixels need no coordinates
            problems.append(f"{name}: no axis has tick labels")
        if chart["margin"] and chart["used"]:
            grown = {
                side: round(chart["used"][side] - chart["margin"][side])
                for side in "lrtb"
                if chart["used"][side] > chart["margin"][side] + 0.5
            }
            if grown:
                problems.append(
                    f"{name}: margins too small by {grown} (px); plotly widens them and lays the chart out twice"
                )
    return problems


def whole_page_screenshot(page, name: str, width: int = 1400):
    """Save tests/artifacts/<name>.png with the whole page (the viewport grown to the content's
    height, as Streamlit scrolls inside its main block, not the document) and return its path."""
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=stMain], "
        "[data-testid=stMainBlockContainer]')].map(e => e.scrollHeight), 800)"
    )
    before = page.viewport_size
    page.set_viewport_size({"width": width, "height": min(int(height) + 80, 14000)})
    page.wait_for_timeout(800)  # plotly redraws at the new size
    path = ARTIFACTS_DIR / f"{name}.png"
    page.screenshot(path=str(path))
    page.set_viewport_size(before)
    return path
