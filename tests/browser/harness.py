"""Run the app with `streamlit run` and drive it with a system Chromium.

Used by the fixtures in `conftest.py`; browser tests call `open_page`,
`assert_no_exception` and `screenshot` directly.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from playwright.sync_api import expect

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS_DIR = REPO_ROOT / "tests" / "artifacts"
DEFAULT_CHROMIUM = "/usr/bin/chromium"

# Headless Chromium in containers and CI: no sandbox (often running as root),
# no GPU, and no background traffic to Google services.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

SERVER_START_TIMEOUT_S = 60
SERVER_STOP_TIMEOUT_S = 10
# A cold first run imports numpy, plotly and the engine; allow for a slow CI machine.
PAGE_TIMEOUT_MS = 60_000
# Playwright's 5 s default for expect() is tight for plotly figures on 2 slow cores.
EXPECT_TIMEOUT_MS = 15_000
expect.set_options(timeout=EXPECT_TIMEOUT_MS)


def find_chromium():
    """Path of the Chromium to drive: `$CHROMIUM_PATH`, else /usr/bin/chromium.

    Raises RuntimeError (the test fails, it does not skip) when neither exists,
    because CI must run the browser tests.
    """
    configured = os.environ.get("CHROMIUM_PATH")
    candidates = [configured] if configured else [DEFAULT_CHROMIUM]
    for candidate in candidates:
        resolved = shutil.which(candidate) or (candidate if os.path.isfile(candidate) else None)
        if resolved and os.access(resolved, os.X_OK):
            return resolved
    raise RuntimeError(
        f"no Chromium found (CHROMIUM_PATH={configured!r}, default {DEFAULT_CHROMIUM}). "
        "Run ./scripts/test, which installs Debian's chromium when apt is usable, "
        "or set CHROMIUM_PATH to a Chromium/Chrome executable."
    )


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class StreamlitServer:
    """`streamlit run streamlit_app.py` on a free local port, output logged to a file.

    runs_dir: where the app stores runs (BACKPROP_RUNS_DIR), so tests never touch runs/.
    log_path: file receiving the server's stdout and stderr.
    """

    def __init__(self, runs_dir, log_path, script="streamlit_app.py"):
        self.runs_dir = Path(runs_dir)
        self.log_path = Path(log_path)
        self.script = script
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def __repr__(self):
        state = "running" if self.process and self.process.poll() is None else "stopped"
        return f"StreamlitServer({self.url}, {state})"

    def start(self):
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, BACKPROP_RUNS_DIR=str(self.runs_dir), PYTHONUNBUFFERED="1")
        command = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            self.script,
            "--server.port",
            str(self.port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ]
        self._log_file = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        self._wait_until_healthy()
        return self

    def _wait_until_healthy(self):
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise RuntimeError(
                    f"streamlit exited with code {self.process.returncode} before it was ready:\n{self.log()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.25)  # polling interval for the health endpoint, not a wait for the UI
        self.stop()
        raise RuntimeError(
            f"streamlit did not answer {self.url}/_stcore/health within "
            f"{SERVER_START_TIMEOUT_S} s:\n{self.log()}"
        )

    def stop(self):
        """Stop our own process: terminate, then kill if it does not exit in time."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=SERVER_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=SERVER_STOP_TIMEOUT_S)
        if getattr(self, "_log_file", None) is not None and not self._log_file.closed:
            self._log_file.close()

    def log(self):
        if self.log_path.exists():
            return self.log_path.read_text(errors="replace")
        return "(no server log)"


# Counts the server's messages over the app's websocket, from before the app opens it.
_COUNT_MESSAGES = """
(() => {
  const Native = window.WebSocket;
  window.__appMessages = 0;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", () => { window.__appMessages += 1; });
    }
  };
})();
"""


def open_page(browser, url, viewport=(1400, 1000)):
    """A new page at `url`, returned once the app is connected and its script has finished."""
    width, height = viewport
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.add_init_script(_COUNT_MESSAGES)
    page.goto(url, wait_until="domcontentloaded")
    wait_for_app(page)
    return page


def wait_for_app(page):
    """Wait until the websocket is connected and the latest script run has finished.

    The script state reads "initial" until the first run starts, so "notRunning"
    cannot match before the page has been rendered once.
    """
    app = page.locator("[data-testid='stApp']")
    expect(app).to_have_attribute("data-test-connection-state", "CONNECTED", timeout=PAGE_TIMEOUT_MS)
    expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=PAGE_TIMEOUT_MS)


# Notes in the page whether a script run starts from now on (a short run is over before a poll sees it):
# the script state reads "running", or a message of the server arrives (a short run can start and end in
# one render of the page, and the state then never reads "running").
_WATCH_RUN = """
() => {
  const app = document.querySelector("[data-testid='stApp']");
  window.__runStarted = false;
  window.__messagesBefore = window.__appMessages;
  const observer = new MutationObserver(() => {
    if (app.getAttribute("data-test-script-state") === "running") {
      window.__runStarted = true;
      observer.disconnect();
    }
  });
  observer.observe(app, { attributes: true, attributeFilter: ["data-test-script-state"] });
}
"""


def after_rerun(page, act):
    """Do ``act`` (an upload, a key press) and wait until the script run it causes has finished.

    wait_for_app alone can return before that run has started: a click right after it then reaches a
    server that does not know of the upload yet.
    """
    page.evaluate(_WATCH_RUN)
    act()
    page.wait_for_function(
        "() => window.__runStarted || window.__appMessages > window.__messagesBefore", timeout=PAGE_TIMEOUT_MS
    )
    wait_for_app(page)


def server_frames(page) -> list[bytes]:
    """The server's messages from now on: a list that fills as they come. Element text is in them as
    UTF-8. The page is reloaded so that its new websocket is watched: a new session, which starts from
    the app's defaults."""
    frames = []

    def watch(ws):
        ws.on(
            "framereceived",
            lambda payload: frames.append(payload if isinstance(payload, bytes) else payload.encode()),
        )

    page.on("websocket", watch)
    page.reload()
    wait_for_app(page)
    return frames


def sent(frames, text: str) -> bool:
    """Whether ``text`` was in one of the server's messages in ``frames``."""
    return any(text.encode() in frame for frame in frames)


def expect_sent(page, frames, text: str) -> None:
    """Wait until ``text`` is in one of the server's messages in ``frames`` (Playwright hands the page's
    websocket messages to the test while it waits, so they can come in after the run has ended)."""
    for _ in range(PAGE_TIMEOUT_MS // 50):
        if sent(frames, text):
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"the server sent no message with {text!r}")


def make_run(app, name, epochs=0, **settings):
    """A run ``name`` in the store of ``app`` (the ``app`` fixture), trained ``epochs`` epochs."""
    import datasets
    from backprop import RunConfig
    from backprop.runs import train_run

    config = RunConfig(**settings)
    data = datasets.load(config.dataset, **config.dataset_params)
    run = app.store.create(name, config, dataset=data)
    if epochs:
        train_run(run, data, epochs=epochs)
    return run


def go_to(page, link):
    """Open another page by its link in the sidebar, as a person does, and wait for its run: the session
    (its runs, drawing, choices) stays."""
    page.get_by_role("link", name=link, exact=True).first.click()
    wait_for_app(page)


def open_tab(page, label):
    """Open the tab ``label`` and wait for the run it causes, then for it to show as selected."""
    page.get_by_role("tab", name=label, exact=True).click()
    wait_for_app(page)
    expect_tab(page, label)


def expect_tab(page, label):
    expect(page.get_by_role("tab", name=label, exact=True)).to_have_attribute("aria-selected", "true")


def assert_no_exception(page):
    """Fail with the shown text if the app rendered an exception box."""
    exceptions = page.locator("[data-testid='stException']")
    count = exceptions.count()
    if count:
        texts = "\n---\n".join(exceptions.nth(i).inner_text() for i in range(count))
        raise AssertionError(f"the app shows {count} exception(s):\n{texts}")


def screenshot(page, name):
    """Save a full-page PNG to tests/artifacts/<name>.png and return its path."""
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
