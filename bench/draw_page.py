"""The Draw & predict page in real Chromium: every control against a trivial rerun of the same page.

    python bench/draw_page.py [--repeats 5]

On a fresh `streamlit run` server, with a drawing on the canvas, each control is timed from its input
to a settled page (script back to ``notRunning`` and no DOM change for 300 ms), right after a trivial
rerun (the R key) of the page it acts on, so load from other processes hits both alike. The ratio is
the control's median over the median of the trivial reruns taken before it (target ≤ 1.5×): a stroke
after Clear is compared with reruns of the emptied page, Clear with reruns of the page with a drawing.
Controls:

- a stroke: mouse released to settled (the canvas sends the drawing on the release);
- Clear, and a stroke on the emptied canvas after it (release → settled);
- the class the saliency map explains (a pill);
- a tab (Saliency ↔ Feature maps), and the Validation tab;
- the model (mnist ↔ digits) while the Validation tab is open;
- a stroke, and the model, while the Activations tab is open;
- Teach it (one SGD step on the drawing; the drawing's section runs again, with the prediction of
  the taught copy and the change it made), the layer whose ΔW is shown (the dense layer's 200,000
  weights ↔ the output layer's), and a stroke with its result shown;
- a picture opened on the canvas (the file chosen to settled), another, and Back to drawing.

Numbers only; nothing is asserted. Timing helpers live in bench/browser_timing.py.
"""

from __future__ import annotations

import argparse
import io
import re
import tempfile
from pathlib import Path

from browser_timing import (
    REQUEST_NOTE,
    app_server,
    chromium,
    format_delay,
    install,
    median,
    new_page,
    time_actions,
    wait_for_app,
    watching_components,
)
from PIL import Image, ImageDraw

_MARK_INPUT = "() => { window.__bench.inputAt = performance.now(); }"


def canvas_origin(page) -> tuple[float, float]:
    box = page.locator(".dc-canvas").bounding_box()
    return box["x"], box["y"]


def stroke(page, points, steps: int = 20):
    """A freehand stroke through canvas-relative ``points``; the clock starts at the release."""

    def act():
        x0, y0 = canvas_origin(page)
        page.mouse.move(x0 + points[0][0], y0 + points[0][1])
        page.mouse.down()
        for x, y in points[1:]:
            page.mouse.move(x0 + x, y0 + y, steps=steps)
        page.evaluate(_MARK_INPUT)
        page.mouse.up()  # the canvas sends the drawing now; time_settled waits for the run it causes

    return act


SEVEN = [(80, 60), (200, 60), (120, 230)]
BAR = [(140, 45), (140, 235)]


def clear_then_draw(page):
    """Clear (under the canvas), and a stroke on the emptied canvas."""

    def clear():
        page.get_by_role("button", name="Clear", exact=True).click()

    return clear, stroke(page, SEVEN)


def pill(page, group: str, label: str):
    """A click on the pill ``label`` of the pills ``group``."""
    return lambda: (
        page.get_by_role("radiogroup", name=group).get_by_role("radio", name=label, exact=True).click()
    )


def model(page, label: str):
    """A click on the model's pill."""
    return pill(page, "Model", label)


def tab(page, name: str):
    return lambda: page.get_by_role("tab", name=name, exact=True).click()


def picture() -> bytes:
    """A dark '4' on white paper, as a phone photo of a drawing would be."""
    image = Image.new("L", (300, 300), 235)
    draw = ImageDraw.Draw(image)
    draw.line([(190, 40), (190, 260)], fill=30, width=22)
    draw.line([(190, 40), (70, 180), (240, 180)], fill=30, width=22)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def open_picture(page, data: bytes, name: str):
    def act():
        page.evaluate(_MARK_INPUT)
        page.locator(".dc-file").set_input_files(
            files=[{"name": name, "mimeType": "image/png", "buffer": data}]
        )

    return act


def measure(page, controls, repeats: int) -> list[tuple[str, float, float, float | None]]:
    """(action, median ms, median trivial ms, median ms before its request left) for each action; a
    control is a list of (name, action) taken in turn (a tab, then the tab it came from), each right
    after a trivial rerun."""
    rows = []
    for actions in controls:
        actions = [(name, watching_components(page, act)) for name, act in actions]
        times, trivials, delays = time_actions(page, actions, repeats)
        rows += [
            (name, median(values), median(trivials[name]), median(delays[name]) if delays[name] else None)
            for name, values in times.items()
        ]
    return rows


def draw_page(browser, url: str, repeats: int) -> list[tuple[str, float, float]]:
    page = new_page(browser)
    page.goto(f"{url}/draw")
    wait_for_app(page)
    install(page)
    stroke(page, SEVEN)()
    page.get_by_text("Prediction").first.wait_for()
    wait_for_app(page)
    rows = measure(
        page,
        [
            [("a stroke (release → settled)", stroke(page, BAR))],
            [
                ("explain class 3", pill(page, "Explain class", "3")),
                ("explain class 7", pill(page, "Explain class", "7")),
            ],
            [("Feature maps tab", tab(page, "Feature maps")), ("Saliency tab", tab(page, "Saliency"))],
            [("Validation tab", tab(page, "Validation")), ("Saliency tab again", tab(page, "Saliency"))],
            list(zip(("Clear", "a stroke after Clear"), clear_then_draw(page))),
        ],
        repeats,
    )

    def switches(open_tab):
        return [
            (f"model digits, {open_tab} open", model(page, "digits (built-in)")),
            (f"model mnist, {open_tab} open", model(page, "mnist (built-in)")),
        ]

    def teach():
        page.get_by_role("button", name="Teach it", exact=True).click()

    def delta_layer(label: str):
        """A click on the pill of the layer whose ΔW Teach it's result shows."""
        pills = page.get_by_role("radiogroup", name="ΔW of layer")
        return lambda: pills.get_by_role("radio", name=re.compile(f"^{re.escape(label)} · ")).click()

    data = picture()
    with_a_tab_open = {  # the tab opened first, then its controls
        "Validation": [switches("Validation")],
        "Activations": [[("a stroke, Activations open", stroke(page, BAR))], switches("Activations")],
        "Teach it": [
            [("Teach it", teach)],
            [
                ("ΔW of layer 3 (dense128)", delta_layer("layer 3 (dense128)")),
                ("ΔW of layer 4 (dense10)", delta_layer("layer 4 (dense10)")),
            ],
            [("a stroke, Teach it's result shown", stroke(page, SEVEN))],
        ],
        "Saliency": [
            [
                ("open a picture on the canvas", open_picture(page, data, "four-a.png")),
                ("open another", open_picture(page, data, "four-b.png")),
                ("back to drawing", lambda: page.get_by_role("button", name="Back to drawing").click()),
            ]
        ],
    }
    for open_tab, controls in with_a_tab_open.items():
        tab(page, open_tab)()
        wait_for_app(page)
        rows += measure(page, controls, repeats)
    page.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, app_server(Path(tmp)) as server, chromium() as browser:
        rows = draw_page(browser, server.url, args.repeats)
    print(f"\n{'control':<44} {'settled ms':>10} {'trivial ms':>10} {'ratio':>6} {'request ms':>10}")
    for name, ms, base, delay in rows:
        print(f"{name:<44} {ms:10.0f} {base:10.0f} {ms / base:6.2f} {format_delay(delay):>10}")
    print(REQUEST_NOTE)


if __name__ == "__main__":
    main()
