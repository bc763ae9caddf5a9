"""The Runs, Compare and Sequences pages in real Chromium: every control against a trivial rerun, and
how soon Stop and Pause act wherever training runs.

    python bench/pages.py [--repeats 5] [--only runs compare sequences stop]

A store is made first, in a temporary folder (about a minute): a digits run of 60 epochs, two circle
runs that differ in the activation and a fork of one with another learning rate, and the Sequences
page's MLP and attention runs on its default data. Then, on a fresh `streamlit run` server:

- each control of a page: click (or key press) to a settled page, the median of ``--repeats``, each
  measured right after a trivial rerun of the same page (the R key), so load from other processes hits
  both alike; the ratio is control / trivial (target ≤ 1.5×);
- Stop and Pause: the click to the page saying training stopped (target ≤ 1 s), and how many steps
  the trainer took after the click.

Numbers only; nothing is asserted. Timing helpers live in bench/browser_timing.py.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from browser_timing import (
    REPO,
    REQUEST_NOTE,
    app_server,
    choose,
    chromium,
    format_delay,
    install,
    median,
    new_page,
    time_actions,
    wait_for_app,
    watching_components,
)

import datasets
from backprop import RunConfig
from backprop.runs import RunStore, train_run

# Resolves with performance.now() when the page first shows ``text`` (checked at each DOM change).
# Notes when ``text`` shows in an element of the current run: an element the run has not drawn again yet
# is marked stale (a report of the last training stays on the page, faded, while the next one trains).
_WATCH_TEXT = """
(text) => {
  window.__textAt = null;
  const fresh = () => {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.textContent.includes(text) && !node.parentElement.closest("[data-stale='true']")) return true;
    }
    return false;
  };
  const check = () => {
    if (window.__textAt === null && fresh()) {
      window.__textAt = performance.now();
      observer.disconnect();
    }
  };
  const observer = new MutationObserver(check);
  observer.observe(document.body, {
    subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ["data-stale"],
  });
}
"""
SEQUENCE_DEFAULTS = {"source": "explicit"}


def make_store(root: Path) -> None:
    """The runs the pages show, trained through the run store as the app and the CLI train them."""
    store = RunStore(root)
    digits = datasets.load("digits")
    run = store.create("my-digits", RunConfig(dataset="digits", layers="dense64-relu"), dataset=digits)
    train_run(run, digits, epochs=60)
    circle = datasets.load("circle")
    store.create("example-gelu", RunConfig(), dataset=circle)
    store.fork("example-gelu", "example-relu", dataset=circle, layers="dense8-relu-dense8-relu")
    store.fork("example-gelu", "example-gelu-lr0.1", dataset=circle, learning_rate=0.1)
    for name in ("example-gelu", "example-relu", "example-gelu-lr0.1"):
        train_run(store.open(name), circle, epochs=20)
    for name, config in (
        (
            "sequences-mlp",
            RunConfig(dataset="sequences", dataset_params=SEQUENCE_DEFAULTS, layers="dense32-gelu"),
        ),
        (
            "sequences-attention",
            RunConfig(
                dataset="sequences",
                dataset_params={**SEQUENCE_DEFAULTS, "encoding": "embedding"},
                layers="embed16-pos-res-ln-attn2-add-res-ln-dense32-relu-dense16-add-ln-last",
                learning_rate=0.01,
            ),
        ),
    ):
        data = datasets.load("sequences", **config.dataset_params)
        train_run(store.create(name, config, dataset=data), data, epochs=30)


def click_text(page, role: str, name: str):
    """Click the control once the page shows one copy of it (while a run redraws, Streamlit can show the
    previous run's copy beside the new one)."""

    def act():
        control = page.get_by_role(role, name=name, exact=True)
        for _ in range(200):
            if control.count() == 1:
                break
            page.wait_for_timeout(50)
        control.first.click()

    return act


def click_label(page, text: str):
    return lambda: page.locator("label").filter(has_text=text).first.click()


def measure(
    page, controls: list[tuple[str, list]], repeats: int
) -> list[tuple[str, float, float, float | None]]:
    """(control, median ms, median trivial ms, median ms before its request left) for each control; a
    control is a list of actions taken in turn (a toggle on, then off), each timed right after a trivial
    rerun."""
    rows = []
    for name, actions in controls:
        times, trivials, delays = time_actions(
            page, [(name, watching_components(page, act)) for act in actions], repeats
        )
        delay = median(delays[name]) if delays[name] else None
        rows.append((name, median(times[name]), median(trivials[name]), delay))
    return rows


def runs_page(browser, url: str, repeats: int):
    page = new_page(browser)
    page.goto(f"{url}/runs")
    wait_for_app(page)
    install(page)
    choose(page, "Run", "my-digits")()
    wait_for_app(page)
    controls = [
        (
            "pick a run (my-digits ↔ example-gelu)",
            [choose(page, "Run", "example-gelu ·"), choose(page, "Run", "my-digits")],
        ),
        (
            "open a tab (Inside the layers ↔ Train)",
            [click_text(page, "tab", "Inside the layers"), click_text(page, "tab", "Train")],
        ),
    ]
    rows = measure(page, controls, repeats)
    click_text(page, "tab", "Inside the layers")()
    wait_for_app(page)
    rows += measure(
        page,
        [
            (
                "distribution shown (W → a → dW)",
                [
                    click_label(page, "activations a"),
                    click_label(page, "gradients dL/dW"),
                    click_label(page, "weights W"),
                ],
            ),
            (
                "open a tab (Fork ↔ Manage)",
                [click_text(page, "tab", "Fork"), click_text(page, "tab", "Manage")],
            ),
        ],
        repeats,
    )
    page.close()
    return rows


def compare_page(browser, url: str, repeats: int):
    page = new_page(browser)
    page.goto(f"{url}/compare")
    wait_for_app(page)
    install(page)
    slider = page.get_by_role("slider")

    def smoothing(key):
        def act():
            slider.focus()
            page.keyboard.press(key)

        return act

    controls = [
        (
            "x axis (step → wall time → epoch)",
            [click_label(page, "step"), click_label(page, "wall time (s)"), click_label(page, "epoch")],
        ),
        ("smoothing slider (one step up / down)", [smoothing("PageUp"), smoothing("PageDown")]),
        ("log-scale loss (on / off)", [click_label(page, "Log-scale loss")]),
        ("step loss (off / on)", [click_label(page, "Step loss")]),
    ]
    rows = measure(page, controls, repeats)
    page.close()
    return rows


def sequences_page(browser, url: str, repeats: int):
    page = new_page(browser)
    page.goto(f"{url}/sequences")
    wait_for_app(page)
    install(page)
    page.get_by_role("button", name="Use this dataset").click()
    wait_for_app(page)
    sample = page.get_by_label("Sample (train index; or click a row)", exact=True)

    def next_sample(key):
        def act():
            sample.focus()
            page.keyboard.press(key)

        return act

    controls = [
        ("next / previous sample", [next_sample("ArrowUp"), next_sample("ArrowDown")]),
        (
            "masters: auto-generate ↔ typed",
            [click_label(page, "auto-generate"), click_label(page, "type them")],
        ),
    ]
    rows = measure(page, controls, repeats)
    page.close()
    return rows


def stop_latency(page, start, stop, text: str, wait_s: float = 3.0, steps=None) -> tuple[float, int | None]:
    """ms from the click of ``stop`` (a mouse click at the control's place, as a person clicks) to the
    page showing ``text``, after ``start`` and ``wait_s`` seconds of training; and the steps trained after
    the click when ``steps()`` reads them."""
    start()
    page.wait_for_timeout(int(wait_s * 1000))
    box = stop.bounding_box()
    page.evaluate(_WATCH_TEXT, text)
    before = steps() if steps else None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    deadline = time.monotonic() + 60
    while page.evaluate("() => window.__textAt") is None and time.monotonic() < deadline:
        page.wait_for_timeout(20)
    shown = page.evaluate("() => window.__textAt - window.__bench.inputAt")
    wait_for_app(page)
    page.wait_for_timeout(500)
    after = steps() if steps else None
    return shown, None if before is None else after - before


def enter(page, label: str, value: str) -> None:
    """Type ``value`` into the number field ``label`` and wait for the run Enter causes."""
    field = page.get_by_label(label, exact=True)
    field.fill(value)
    field.press("Enter")
    wait_for_app(page)


def stop_row(label: str, results: list[tuple[float, int | None]], steps: bool) -> tuple:
    """(label, median ms to stopped, median steps after the click or None)."""
    return label, median([r[0] for r in results]), median([r[1] for r in results]) if steps else None


def stops(browser, url: str, runs_dir: Path, repeats: int):
    def saved_steps(name):
        return lambda: json.loads((runs_dir / name / "history.json").read_text())["cursor"]["step"]

    rows = []
    page = new_page(browser)
    page.goto(f"{url}/runs")
    wait_for_app(page)
    install(page)
    choose(page, "Run", "my-digits")()
    wait_for_app(page)
    enter(page, "Epochs", "1000")
    for label, start, stop, text in (
        (
            "Runs: Stop (digits, Train 1000 epochs)",
            click_text(page, "button", "Train"),
            page.get_by_role("button", name="Stop", exact=True),
            "Stopped. Every finished step is kept",
        ),
        (
            "Runs: Pause (digits)",
            lambda: page.get_by_role("button", name="Play", exact=True).click(),
            page.get_by_role("button", name="Pause", exact=True),
            "Paused. Every finished step is kept",
        ),
    ):
        results = [
            stop_latency(page, start, stop, text, steps=saved_steps("my-digits")) for _ in range(repeats)
        ]
        rows.append(stop_row(label, results, steps=True))
    page.close()

    page = new_page(browser)
    page.goto(f"{url}/step_through?dataset=%22digits%22&layers=%22dense64-relu%22")
    wait_for_app(page)
    install(page)
    enter(page, "Steps to run", "100000")
    results = [
        stop_latency(
            page,
            click_text(page, "button", "Run 100000 steps"),
            page.get_by_role("button", name="Stop", exact=True),
            "Stopped after",
            wait_s=2.0,
        )
        for _ in range(repeats)
    ]
    rows.append(stop_row("Step through: Stop (digits, Run 100000 steps)", results, steps=False))
    page.close()

    page = new_page(browser)
    page.goto(f"{url}/sequences")
    wait_for_app(page)
    install(page)
    page.get_by_role("button", name="Use this dataset").click()
    wait_for_app(page)
    enter(page, "Epochs", "5000")
    results = [
        stop_latency(
            page,
            click_text(page, "button", "Train"),
            page.get_by_role("button", name="Stop", exact=True),
            "Stopped",
            wait_s=2.0,
        )
        for _ in range(repeats)
    ]
    rows.append(stop_row("Sequences: Stop (Train 5000 epochs)", results, steps=False))
    page.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", nargs="*", choices=["runs", "compare", "sequences", "stop"])
    args = parser.parse_args()
    parts = args.only or ["runs", "compare", "sequences", "stop"]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        started = time.perf_counter()
        make_store(workdir / "runs")
        print(f"store made in {time.perf_counter() - started:.0f} s ({REPO.name})")
        with app_server(workdir) as server, chromium() as browser:
            table = []
            for part, measure_page in (
                ("runs", runs_page),
                ("compare", compare_page),
                ("sequences", sequences_page),
            ):
                if part in parts:
                    table += [(part, *row) for row in measure_page(browser, server.url, args.repeats)]
            if table:
                print(
                    f"\n{'page':<10} {'control':<44} {'settled ms':>10} {'trivial ms':>10} {'ratio':>6}"
                    f" {'request ms':>10}"
                )
                for page_name, name, ms, base, delay in table:
                    print(
                        f"{page_name:<10} {name:<44} {ms:10.0f} {base:10.0f} {ms / base:6.2f}"
                        f" {format_delay(delay):>10}"
                    )
                print(REQUEST_NOTE)
            if "stop" in parts:
                print(f"\n{'where':<48} {'click → stopped ms':>18} {'steps after':>12}")
                for name, ms, steps in stops(browser, server.url, workdir / "runs", args.repeats):
                    print(f"{name:<48} {ms:18.0f} {'' if steps is None else f'{steps:12.0f}'}")
                print("(median of the repeats; target ≤ 1000 ms)")


if __name__ == "__main__":
    main()
