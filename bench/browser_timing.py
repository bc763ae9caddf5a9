"""Timing a Streamlit page as a person sees it: real Chromium, a real `streamlit run` server.

Reusable by every page bench. The server and Chromium are started the way the
browser tests start them (tests/browser/harness.py). Times are taken in the page
(``performance.now()`` and the input event's own timestamp), so Playwright's
round trips do not count:

- ``time_repaint``: a click to the first painted frame after the DOM under a root
  changed (MutationObserver, then two animation frames);
- ``time_settled``: a click or key press to a settled page: Streamlit's script state
  is back to ``notRunning`` after the run the input caused (seen in the page: a change
  of the script state, or the page changing after a message of the server came, so a
  control that changes the page at once, as a tab does, is not taken as settled before
  its run has started), and for ``quiet_ms`` no DOM mutation happened in the app and
  no message came; the time is that of the last mutation (the help tooltip Streamlit
  draws outside the app half a second after the pointer stops on a button does not
  count);
- ``Frames``: bytes the page received (and messages it sent) over the websocket.
- ``request_delay``: the input to the first message the page sent after it, its request for a
  run: the part of a control's time spent in Streamlit's frontend before the server hears of it,
  which page code does not reach (a key press sends at once; a widget waits for its own update).
"""

from __future__ import annotations

import compileall
import os
import re
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser.harness import (  # noqa: E402
    CHROMIUM_ARGS,
    PAGE_TIMEOUT_MS,
    StreamlitServer,
    find_chromium,
    wait_for_app,  # noqa: F401 (for the page benches, which import their helpers from here)
)

# Installed once per page: window.__bench.watch(root) records mutations under root (shadow roots
# included when passed), and input timestamps of clicks and key presses.
# Hover UI is not the page changing: a button's help tooltip appears 500 ms after the pointer rests
# on it, in a layer outside the app, and only sets aria-describedby on the button; neither counts.
_INSTALL = """
() => {
  if (window.__bench) return;
  const bench = { lastMutation: 0, inputAt: 0, ranAt: 0, observers: [] };
  const state = "data-test-script-state";
  const mark = (records) => {
    const now = performance.now();
    if (records.some((r) => r.attributeName !== "aria-describedby")) bench.lastMutation = now;
    // The script state changed: a run was asked for, started or ended (React may show a run's start
    // and end in one render, so the page need not ever read "running").
    if (records.some((r) => r.attributeName === state)) bench.ranAt = now;
  };
  bench.watch = (node) => {
    const observer = new MutationObserver(mark);
    observer.observe(node, { subtree: true, childList: true, attributes: true, characterData: true });
    bench.observers.push(observer);
  };
  for (const type of ["pointerdown", "keydown"]) {
    window.addEventListener(type, (e) => { bench.inputAt = e.timeStamp; }, { capture: true });
  }
  bench.watch(document.querySelector("[data-testid='stApp']") || document.body);
  window.__bench = bench;
}
"""

# Added to every page new_page makes, before the app opens its websocket: when the server's messages
# arrive, counted in the page's own clock.
_COUNT_MESSAGES = """
(() => {
  const Native = window.WebSocket;
  window.__benchMessages = { count: 0, lastAt: 0, sentAt: [] };
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", () => {
        window.__benchMessages.count += 1;
        window.__benchMessages.lastAt = performance.now();
      });
    }
    send(data) {
      const sent = window.__benchMessages.sentAt;
      sent.push(performance.now());
      if (sent.length > 64) sent.shift();
      return super.send(data);
    }
  };
})();
"""

# ms from the last input to the first message the page sent after it; null when it sent none.
_REQUEST_DELAY = """
() => {
  const input = window.__bench.inputAt;
  const sent = (window.__benchMessages || { sentAt: [] }).sentAt.find((t) => t >= input);
  return sent === undefined ? null : sent - input;
}
"""

_WATCH_SHADOW = """
(selector) => {
  for (const host of document.querySelectorAll(selector)) {
    if (host.shadowRoot && !host.__benchWatched) { window.__bench.watch(host.shadowRoot); host.__benchWatched = true; }
  }
}
"""

# Resolves with (painted − input) ms once a mutation under the page has been followed by a paint.
_AWAIT_REPAINT = """
(since) => new Promise((resolve) => {
  const bench = window.__bench;
  const check = () => {
    if (bench.lastMutation > since && bench.inputAt > since - 1) {
      requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - bench.inputAt)));
    } else {
      requestAnimationFrame(check);
    }
  };
  check();
})
"""

_SCRIPT_STATE = (
    "() => document.querySelector(\"[data-testid='stApp']\").getAttribute('data-test-script-state')"
)


def percentile(values, q: float) -> float:
    """The q-th percentile (0–100) by linear interpolation."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q / 100
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def summary(values) -> str:
    return (
        f"p50 {percentile(values, 50):7.1f} ms · p95 {percentile(values, 95):7.1f} ms · "
        f"max {max(values):7.1f} ms (n = {len(values)})"
    )


class Frames:
    """Websocket traffic of a page: bytes received and messages sent, since creation or ``reset``."""

    def __init__(self, page):
        self.received = 0
        self.sent = 0
        page.on("websocket", self._attach)

    def _attach(self, ws) -> None:
        ws.on("framereceived", self._on_received)
        ws.on("framesent", self._on_sent)

    def _on_received(self, payload) -> None:
        self.received += len(payload)

    def _on_sent(self, payload) -> None:
        self.sent += 1

    def reset(self) -> None:
        self.received = self.sent = 0


def cache_compiled_modules() -> None:
    """Let servers started from here find and keep compiled modules, as a user's Python does.

    Python caches each module's bytecode in __pycache__ on the first import and reuses it on every
    later start. With PYTHONDONTWRITEBYTECODE set (as in some sandboxes), every fresh server
    compiles the app's modules again during the first page's run: about 0.15 s here, which a user
    pays once after installing, not at each start. Compiles the app's packages now and lets the
    servers' Python write what else it imports.
    """
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    compileall.compile_dir(REPO, quiet=1, rx=re.compile(r"[/\\](\.git|tests|bench)[/\\]"))


@contextmanager
def app_server(workdir: Path):
    """A fresh `streamlit run streamlit_app.py` (runs kept under workdir), stopped on exit."""
    workdir.mkdir(parents=True, exist_ok=True)
    server = StreamlitServer(runs_dir=workdir / "runs", log_path=workdir / "streamlit.log").start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def chromium():
    """Headless system Chromium, as the browser tests drive it."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=find_chromium(), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser, viewport=(1500, 1300)):
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.add_init_script(_COUNT_MESSAGES)
    return page


def install(page, shadow_hosts: str | None = None) -> None:
    """Start recording mutations (and those in the shadow roots of ``shadow_hosts``) and inputs."""
    page.evaluate(_INSTALL)
    if shadow_hosts:
        page.evaluate(_WATCH_SHADOW, shadow_hosts)


# The hosts of the app's components (the step player, the canvas, the map and curve views): each draws in
# a shadow root of its own, which a page-wide observer does not see.
COMPONENTS = "[data-testid='stBidiComponentIsolated']"


def watching_components(page, act):
    """``act`` once the components on the page have their changes recorded too: a run that changes only
    what they show is seen to end."""

    def run():
        install(page, COMPONENTS)
        act()

    return run


def now(page) -> float:
    return page.evaluate("() => performance.now()")


def time_repaint(page, act) -> float:
    """ms from the input event of ``act()`` (a click) to the first frame painted after the DOM changed."""
    since = now(page)
    act()
    return page.evaluate(_AWAIT_REPAINT, since)


def time_settled(page, act, quiet_ms: int = 300, timeout_s: float = 60.0, rerun: bool = True) -> float:
    """ms from the input event of ``act()`` to the last DOM change of the run it caused.

    Settled: the script ran (a full run or a fragment's) and is ``notRunning`` again, and nothing in
    the page changed, nor (for a page made by new_page) a message came, for quiet_ms. rerun=False for
    a control that changes the page in the browser only. That the script ran is seen in a change of the
    page's script state after the input, or in the page changing after a message from the server came:
    a tab changes the page at once, before its run has started, and the page can show a run's start
    and end in one render, never reading "running".
    """
    read = """() => ({last: window.__bench.lastMutation, input: window.__bench.inputAt, ran: window.__bench.ranAt,
                   messages: window.__benchMessages || {count: 0, lastAt: 0}})"""
    before = page.evaluate(read)["messages"]["count"]
    since = now(page)
    act()
    deadline = time.monotonic() + timeout_s
    ran = not rerun
    answered_at = None  # when a message of this run had come, as first seen
    while time.monotonic() < deadline:
        state = page.evaluate(_SCRIPT_STATE)
        bench = page.evaluate(read)
        if answered_at is None and bench["messages"]["count"] > before:
            answered_at = bench["messages"]["lastAt"]
        ran = (
            ran
            or state == "running"
            or bench["ran"] > since
            or (answered_at is not None and bench["last"] > answered_at)
        )
        at = now(page)
        quiet = at - max(bench["last"], bench["messages"]["lastAt"]) >= quiet_ms
        if state == "notRunning" and bench["last"] > since and quiet and ran:
            return bench["last"] - bench["input"]
        page.wait_for_timeout(25)
    raise TimeoutError(f"the page did not settle within {timeout_s} s")


def request_delay(page) -> float | None:
    """ms from the last input to the first message the page sent after it (for a control, its request
    for a run): the part of a control's time spent in the browser before the server hears of it. None
    when the page sent nothing (or was not made by new_page)."""
    return page.evaluate(_REQUEST_DELAY)


REQUEST_NOTE = (
    "(median of the repeats; target ratio ≤ 1.5; request ms: from the input to its request leaving the\n"
    " browser, time spent in Streamlit's frontend before the server hears of it)"
)


def format_delay(delay: float | None) -> str:
    """A request_delay median for a table: ms, or a dash when the control sent no request."""
    return "—" if delay is None else f"{delay:.0f}"


def trivial_rerun(page) -> float:
    """ms from the R key to a settled page: the rerun of the same page every control is compared with."""
    page.locator("h1").first.click()  # focus the page, not an input, for the R key
    return time_settled(page, lambda: page.keyboard.press("r"))


def time_actions(page, actions, repeats: int) -> tuple[dict[str, list[float]], ...]:
    """``actions`` ((name, act), taken in turn) ``repeats`` times, each right after a trivial rerun of the
    page it acts on, so load from other processes hits both alike: ({name: ms of each take}, {name: ms of
    the trivial rerun before each take}, {name: request_delay of each take that sent a request})."""
    times = {name: [] for name, _ in actions}
    trivials = {name: [] for name, _ in actions}
    delays = {name: [] for name, _ in actions}
    for _ in range(repeats):
        for name, act in actions:
            trivials[name].append(trivial_rerun(page))
            times[name].append(time_settled(page, act))
            delay = request_delay(page)
            if delay is not None:
                delays[name].append(delay)
    return times, trivials, delays


def choose(page, label: str, option: str):
    """An action choosing ``option`` in the select box ``label``, as a person does.

    The click goes into the box near its left end (a locator click at the input's middle can focus it
    without opening the list), then the option is typed: after a rerun the list opens filtered by the
    text the box shows.
    """

    def act():
        field = page.get_by_role("combobox", name=label, exact=True)
        field.scroll_into_view_if_needed()
        box = field.bounding_box()
        page.mouse.click(box["x"] + 50, box["y"] + box["height"] / 2)
        page.keyboard.press("Control+a")
        page.keyboard.type(option)
        page.get_by_role("option").filter(has_text=option).first.click()

    return act


# True once the app is connected, its script is not running and the ready element's attribute is set.
_READY = """
([hosts, selector, attribute, notValue]) => {
  const app = document.querySelector("[data-testid='stApp']");
  if (!app || app.getAttribute("data-test-connection-state") !== "CONNECTED") return false;
  if (app.getAttribute("data-test-script-state") !== "notRunning") return false;
  const roots = hosts ? [...document.querySelectorAll(hosts)].flatMap((h) => [h.shadowRoot, h]) : [document];
  const ready = roots.map((root) => root && root.querySelector(selector)).find(Boolean);
  return !!ready && ready.getAttribute(attribute) !== null && ready.getAttribute(attribute) !== notValue;
}
"""


def open_and_time(
    page, url: str, ready_selector: str, ready_attribute: str, not_value: str, shadow_hosts: str | None = None
) -> float:
    """Seconds from navigation to the page being interactive: ready_selector's attribute is set
    (differs from not_value) and the script is not running.

    ready_selector is looked up inside the shadow roots of the shadow_hosts elements when given.
    The page checks at every animation frame: Playwright's own waits (expect, locator.wait_for)
    poll at growing intervals, up to 500 ms apart, which added up to half a second to a first open.
    """
    start = time.perf_counter()
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_function(
        _READY, arg=[shadow_hosts, ready_selector, ready_attribute, not_value], polling="raf"
    )
    return time.perf_counter() - start


def median(values) -> float:
    return statistics.median(values)
