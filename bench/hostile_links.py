"""Server memory when hostile links are opened in real Chromium against a real `streamlit run` server.

    python bench/hostile_links.py                    # every case on one server, then the growth it kept
    python bench/hostile_links.py --fresh            # each case on its own fresh server
    python bench/hostile_links.py --only network     # cases whose name or class contains "network"
    python bench/hostile_links.py --expiry-wait 130  # also: memory once closed sessions have expired
    python bench/hostile_links.py --cap-mib 4096     # stop a server that grows this far over idle

Idle is the server's resident memory after the default page was opened once and
the server settled. For each case the kernel's peak counter is reset (5 into
/proc/<pid>/clear_refs; where that is refused, VmRSS is polled every 10 ms), the
link opens in a fresh browser page (a fresh Streamlit session), and once the script
has finished the table shows: the peak (VmHWM) over idle; the peak over the memory
at the case's start (on one server, what earlier cases left behind is not counted
there); the resident memory after (VmRSS) over idle; the seconds taken; whether an
exception box was shown; and the warnings and errors the page showed.

The classes of links are those of the issue: out-of-range setup values, oversized
networks, huge dataset parameters, path-like and markup text; the huge datasets
include twenty valid large sets that fill the dataset cache
(``backprop.limits.DATASET_CACHE_BYTES``), in one session and in twenty. A watchdog
stops a server that grows more than --cap-mib over idle (the case is marked
"killed" and a new server takes over). Runs are stored in a temporary folder
(BACKPROP_RUNS_DIR), removed on exit.

Numbers only; nothing is asserted. Linux only (/proc/<pid>/status).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from browser_timing import app_server, chromium, new_page
from playwright.sync_api import Error as PlaywrightError

import datasets
from backprop import limits
from ui.navigation import SCREENS
from ui.text import WORD_JOINER

STEP_PATH = next(screen.url_path for screen in SCREENS if screen.file == "step_through.py")
CASE_TIMEOUT_S = 600
SETTLE_S = 2.0
POLL_S = 0.01
CLASSES = ("control", "setup values", "oversized networks", "huge datasets", "path and markup")

# Twenty shapes sets, each the largest a shapes set may be (10,000 images of 64×64, 156 MiB as float32).
LARGEST_SHAPES = {"samples": 10_000, "size": 64}
FILL_SETS = 20
VOCAB_40 = "abcdefghijklmnopqrstuvwxyz0123456789ABCD"

_APP_STATE = """() => {
  const app = document.querySelector("[data-testid='stApp']");
  return app ? [app.getAttribute('data-test-connection-state'), app.getAttribute('data-test-script-state')] : [null, null];
}"""
# Warnings and errors the page shows (not those inside an exception box), as [kind, text].
_ALERTS = """() => [...document.querySelectorAll("[data-testid='stAlert']")]
  .filter(a => !a.closest("[data-testid='stException']"))
  .map(a => { const c = a.querySelector("[data-testid^='stAlertContent']");
              return [c ? c.getAttribute('data-testid').replace('stAlertContent', '') : '', a.innerText]; })
  .filter(([kind]) => kind === 'Warning' || kind === 'Error')"""
# Elements a link's markup would create if it were rendered rather than shown as text.
RENDERED_MARKUP = "img[src='x'], a[href='https://example.com']"


def memory_mib(pid: int, field_name: str) -> float:
    """VmRSS (now) or VmHWM (the peak since the last reset) of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field_name}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field_name} for process {pid}")


def link(path: str, params: dict[str, str]) -> str:
    """'/step_through?key=value&...' with each value (JSON text, or a bare word) URL-encoded."""
    query = "&".join(f"{key}={urllib.parse.quote(value, safe='')}" for key, value in params.items())
    return f"/{path}?{query}" if query else f"/{path}"


@dataclass
class Case:
    """One hostile link (or, with ``drive``, a sequence of actions in one page).

    params: the link's parameters as a person would type them (JSON text, or a bare word).
    needs: a dataset that must be installed, else the case is skipped with a note.
    drive: instead of opening a link, ``drive(page, base_url, server, watch, report)`` does the case.
    own_server: run on a fresh server of its own even when the others share one (a case expected to
      pass the cap would otherwise end the shared server and its cumulative measurement).
    """

    name: str
    klass: str
    params: dict[str, str] = field(default_factory=dict)
    needs: str | None = None
    drive: Callable | None = None
    own_server: bool = False

    def url(self) -> str:
        return link(STEP_PATH, self.params)


@dataclass
class Result:
    case: Case
    peak: float = float("nan")
    before: float = float("nan")
    after: float = float("nan")
    seconds: float = float("nan")
    exception: bool = False
    message: str = ""
    outcome: str = "ok"  # ok, timeout, killed, skipped


class Watch:
    """Polls a server's VmRSS while a case runs: the peak where clear_refs is refused, and a cap.

    A server whose resident memory passes ``cap_mib`` is killed (it is our own process), so that
    a link that would take all the machine's memory is reported instead of taking it.
    """

    def __init__(self, server, cap_mib: float):
        self.server, self.cap_mib = server, cap_mib
        self.pid = server.process.pid
        self.killed = False
        self.polled_peak = 0.0
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
            self.kernel_peak = True
        except OSError:
            self.kernel_peak = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> Watch:
        self.polled_peak = memory_mib(self.pid, "VmRSS")
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                rss = memory_mib(self.pid, "VmRSS")
            except (OSError, RuntimeError):
                return  # the server is gone
            self.polled_peak = max(self.polled_peak, rss)
            if rss > self.cap_mib:
                self.killed = True
                self.server.process.kill()
                self.server.process.wait()
                return
            time.sleep(POLL_S)

    def peak(self) -> float:
        if self.killed:
            return self.polled_peak
        return memory_mib(self.pid, "VmHWM") if self.kernel_peak else self.polled_peak


class ServerGone(Exception):
    pass


def wait_done(page, server, watch: Watch | None = None, until=None, timeout_s: float = CASE_TIMEOUT_S):
    """Wait until the app is connected, its script has finished and stays finished for 0.5 s
    (and ``until()`` holds); TimeoutError or ServerGone otherwise."""
    deadline = time.monotonic() + timeout_s
    quiet_since = None
    while True:
        if (watch and watch.killed) or server.process.poll() is not None:
            raise ServerGone
        try:
            connection, script = page.evaluate(_APP_STATE)
        except PlaywrightError:  # the page is navigating: ask again
            connection = script = None
        done = connection == "CONNECTED" and script == "notRunning" and (until is None or until())
        if done:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= 0.5:
                return
        else:
            quiet_since = None
        if time.monotonic() > deadline:
            raise TimeoutError(f"the page did not finish within {timeout_s:.0f} s")
        time.sleep(0.05)


def shown_messages(page) -> str:
    """The warnings and errors shown, joined; a flag in front when a link's markup was rendered."""
    texts = [" ".join(text.replace(WORD_JOINER, "").split()) for _, text in page.evaluate(_ALERTS)]
    message = " | ".join(texts)
    if page.locator(RENDERED_MARKUP).count():
        message = "RENDERED MARKUP! " + message
    return message


def query_dataset_params(url: str) -> dict:
    values = urllib.parse.parse_qs(urllib.parse.urlparse(url).query).get("dataset_params", ["{}"])
    try:
        return json.loads(values[0])
    except json.JSONDecodeError:
        return {}


def fill_cache_in_one_session(page, base_url: str, server, watch: Watch, report) -> None:
    """Twenty largest shapes sets, one after the other, through the sidebar's "Data seed" in one session."""
    params = {"dataset": "shapes", "dataset_params": json.dumps({**LARGEST_SHAPES, "seed": 1000})}
    page.goto(base_url + link(STEP_PATH, params), wait_until="domcontentloaded")
    wait_done(page, server, watch)
    report(1)
    page.get_by_text("Dataset parameters", exact=True).click()
    seed_field = page.get_by_label("Data seed", exact=True)
    for index in range(1, FILL_SETS):
        seed = 1000 + index
        seed_field.fill(str(seed))
        seed_field.press("Enter")
        wait_done(page, server, watch, until=lambda s=seed: query_dataset_params(page.url).get("seed") == s)
        report(index + 1)


def fill_cache_in_many_sessions(page, base_url: str, server, watch: Watch, report) -> None:
    """Twenty largest shapes sets, each opened as a link in a new session (the same tab)."""
    for index in range(FILL_SETS):
        params = {"dataset": "shapes", "dataset_params": json.dumps({**LARGEST_SHAPES, "seed": 2000 + index})}
        page.goto(base_url + link(STEP_PATH, params), wait_until="domcontentloaded")
        wait_done(page, server, watch)
        report(index + 1)


def cases() -> list[Case]:
    j = json.dumps
    shapes64 = j({"size": 64})
    return [
        Case("step page, default setup", "control"),
        # out-of-range setup values
        Case("learning_rate=20000", "setup values", {"learning_rate": "20000"}),
        Case("batch_size=5000", "setup values", {"batch_size": "5000"}),
        Case("seed=3000000000", "setup values", {"seed": "3000000000"}),
        Case("weight_decay=20", "setup values", {"weight_decay": "20"}),
        Case("clip_norm=1e7", "setup values", {"clip_norm": "1e7"}),
        Case("epochs=0", "setup values", {"epochs": "0"}),
        Case("batch_size=4096 (largest allowed)", "setup values", {"batch_size": "4096"}),
        # path-like and markup text
        Case(
            "folder path=/etc",
            "path and markup",
            {"dataset": "folder", "dataset_params": j({"path": "/etc"})},
        ),
        Case(
            "layers=[click](…)<img onerror>",
            "path and markup",
            {"layers": "[click](https://example.com)<img src=x onerror=alert(1)>"},
        ),
        Case("dataset=/etc/passwd", "path and markup", {"dataset": "/etc/passwd"}),
        Case("layers = 10,000 characters", "path and markup", {"layers": "a" * 10_000}),
        Case(
            "sequences vocab = 10,000 characters",
            "path and markup",
            {"dataset": "sequences", "dataset_params": j({"vocab": "x" * 10_000})},
        ),
        # huge dataset parameters (past each declared maximum), and the largest valid ones
        Case(
            "shapes samples=1e9, size=64",
            "huge datasets",
            {"dataset": "shapes", "dataset_params": j({"samples": 1_000_000_000, "size": 64})},
        ),
        Case("shapes size=4096", "huge datasets", {"dataset": "shapes", "dataset_params": j({"size": 4096})}),
        Case(
            "shapes samples=20000, size=64 (each valid)",
            "huge datasets",
            {"dataset": "shapes", "dataset_params": j({"samples": 20_000, "size": 64})},
        ),
        Case(
            "sequences samples=1e8",
            "huge datasets",
            {"dataset": "sequences", "dataset_params": j({"samples": 100_000_000})},
        ),
        Case(
            "sequences context=1e6, master_length=1e9",
            "huge datasets",
            {
                "dataset": "sequences",
                "dataset_params": j(
                    {"context": 1_000_000, "source": "auto", "master_length": [10**9, 10**9]}
                ),
            },
        ),
        Case(
            "shapes 10000×64×64 (largest valid)",
            "huge datasets",
            {"dataset": "shapes", "dataset_params": j(LARGEST_SHAPES)},
        ),
        Case(
            "sequences 20000×32×40 one-hot (largest valid)",
            "huge datasets",
            {
                "dataset": "sequences",
                "dataset_params": j(
                    {"samples": 20_000, "context": 32, "vocab": VOCAB_40, "source": "random"}
                ),
            },
        ),
        Case(
            "fashion-mnist (all 70,000 images)",
            "huge datasets",
            {"dataset": "fashion-mnist"},
            needs="fashion-mnist",
        ),
        Case(
            f"{FILL_SETS} largest shapes sets, one session (sidebar)",
            "huge datasets",
            drive=fill_cache_in_one_session,
        ),
        Case(
            f"{FILL_SETS} largest shapes sets, {FILL_SETS} sessions (links)",
            "huge datasets",
            drive=fill_cache_in_many_sessions,
        ),
        # oversized networks: refused by the parameter budget, and within it but with large activations
        Case("layers=dense100000-dense100000", "oversized networks", {"layers": "dense100000-dense100000"}),
        Case(
            "layers=dense4096 ×4",
            "oversized networks",
            {"layers": "dense4096-dense4096-dense4096-dense4096"},
        ),
        Case("layers=conv512k15-conv512k15", "oversized networks", {"layers": "conv512k15-conv512k15"}),
        Case("hidden=[6000,6000] (old layout)", "oversized networks", {"hidden": "[6000,6000]"}),
        Case(
            "fashion-mnist, dense4096-dense4096",
            "oversized networks",
            {"dataset": "fashion-mnist", "layers": "dense4096-dense4096"},
            needs="fashion-mnist",
        ),
        Case(
            "dense2000-dense2000, batch 4096 (4.0M parameters)",
            "oversized networks",
            {"layers": "dense2000-dense2000", "batch_size": "4096"},
        ),
        Case(
            "shapes 64², conv64k3 ×2, batch 32 (0.7M parameters)",
            "oversized networks",
            {
                "dataset": "shapes",
                "dataset_params": shapes64,
                "layers": "conv64k3-relu-conv64k3-relu-flatten",
            },
        ),
        Case(
            "shapes 64², conv256k3 ×2, batch 4096 (3.4M parameters)",
            "oversized networks",
            {
                "dataset": "shapes",
                "dataset_params": shapes64,
                "layers": "conv256k3-relu-conv256k3-relu-flatten",
                "batch_size": "4096",
            },
            own_server=True,
        ),
    ]


class Bench:
    """One server (or a fresh one per case), its idle memory, and the results so far."""

    def __init__(self, browser, workdir: Path, cap_over_idle: float, fresh: bool):
        self.browser, self.workdir = browser, workdir
        self.cap_over_idle, self.fresh = cap_over_idle, fresh
        self.server = None
        self.idle = float("nan")
        self.servers = 0
        self._context = None

    def start(self) -> None:
        self.stop()
        self.servers += 1
        self._context = app_server(self.workdir / f"server{self.servers}")
        self.server = self._context.__enter__()
        page = new_page(self.browser)
        try:
            page.goto(self.server.url, wait_until="domcontentloaded")
            wait_done(page, self.server)
        finally:
            page.close()
        time.sleep(SETTLE_S)
        self.idle = memory_mib(self.server.process.pid, "VmRSS")

    def stop(self) -> None:
        if self._context is not None:
            self._context.__exit__(None, None, None)
            self._context = None

    def rss_over_idle(self) -> float:
        return memory_mib(self.server.process.pid, "VmRSS") - self.idle

    def run(self, case: Case) -> Result:
        if case.needs and not datasets.available(case.needs):
            return Result(case, outcome="skipped", message=f"{case.needs} is not installed here")
        if case.own_server and not self.fresh:
            alone = Bench(self.browser, self.workdir / f"alone{self.servers}", self.cap_over_idle, fresh=True)
            try:
                result = alone.run(case)
            finally:
                alone.stop()
            result.message = f"(own server) {result.message}"
            return result
        if self.fresh or self.server is None or self.server.process.poll() is not None:
            self.start()
        result = Result(case, before=self.rss_over_idle())
        page = new_page(self.browser)
        start = time.perf_counter()
        try:
            with Watch(self.server, self.idle + self.cap_over_idle) as watch:
                try:
                    if case.drive:

                        def report(done: int) -> None:
                            print(
                                f"    {done:2d}/{FILL_SETS} loaded: RSS {self.rss_over_idle():7.0f} MiB over idle, "
                                f"peak {watch.peak() - self.idle:7.0f}",
                                flush=True,
                            )

                        case.drive(page, self.server.url, self.server, watch, report)
                    else:
                        page.goto(self.server.url + case.url(), wait_until="domcontentloaded")
                        wait_done(page, self.server, watch)
                except ServerGone:
                    result.outcome = "killed" if watch.killed else "died"
                except TimeoutError:
                    result.outcome = "timeout"
                result.seconds = time.perf_counter() - start
                result.peak = watch.peak() - self.idle
            if result.outcome in ("ok", "timeout"):
                result.after = self.rss_over_idle()
                result.exception = page.locator("[data-testid='stException']").count() > 0
                result.message = shown_messages(page)
            elif result.outcome == "killed":
                result.message = f"server stopped by the watchdog past {self.cap_over_idle:.0f} MiB over idle"
            else:
                result.message = f"server exited: {self.server.log()[-300:]!r}"
        finally:
            with contextlib.suppress(PlaywrightError):  # the page's server may be gone
                page.close()
        return result


def row(result: Result) -> str:
    r = result
    if r.outcome == "skipped":
        numbers = f"{'–':>10} {'–':>10} {'–':>10} {'–':>7} {'–':>4}"
    else:
        numbers = (
            f"{r.peak:10.0f} {r.peak - r.before:10.0f} {r.after:10.0f} {r.seconds:7.1f} "
            f"{'yes' if r.exception else 'no':>4}"
        )
    flag = "" if r.outcome == "ok" else f"[{r.outcome.upper()}] "
    return f"{r.case.name[:52]:<52} {r.case.klass:<18} {numbers}  {(flag + r.message)[:120]}"


HEADER = (
    f"{'case':<52} {'class':<18} {'peak MiB':>10} {'peak MiB':>10} {'after MiB':>10} {'seconds':>7} "
    f"{'exc':>4}  message (warnings and errors shown)\n"
    f"{'':<52} {'':<18} {'over idle':>10} {'over start':>10} {'over idle':>10}"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh", action="store_true", help="each case on its own fresh server")
    parser.add_argument("--only", help="run the cases whose name or class contains this text")
    parser.add_argument("--cap-mib", type=float, default=4096, help="stop a server this far over idle")
    parser.add_argument(
        "--expiry-wait",
        type=float,
        default=0,
        help="seconds to wait at the end for closed sessions to expire (Streamlit keeps them 120 s)",
    )
    args = parser.parse_args()
    selected = [c for c in cases() if not args.only or args.only.lower() in f"{c.name} {c.klass}".lower()]
    print(
        f"dataset cache budget {limits.describe_bytes(limits.DATASET_CACHE_BYTES.value())}, "
        f"network budget {limits.NETWORK_PARAMETERS.value():,} parameters, "
        f"{'a fresh server per case' if args.fresh else 'one server for all cases'}",
        flush=True,
    )
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="hostile_links_") as tmp, chromium() as browser:
        bench = Bench(browser, Path(tmp), args.cap_mib, args.fresh)
        try:
            if not args.fresh:
                bench.start()
                print(f"idle: {bench.idle:.0f} MiB after the default page", flush=True)
            print(HEADER, flush=True)
            for case in selected:
                if case.drive:
                    print(f"  {case.name}:", flush=True)
                result = bench.run(case)
                results.append(result)
                print(row(result), flush=True)
            cumulative = None
            if not args.fresh and bench.server.process.poll() is None:
                time.sleep(SETTLE_S)
                cumulative = bench.rss_over_idle()
            expired = None
            if args.expiry_wait and not args.fresh and bench.server.process.poll() is None:
                time.sleep(args.expiry_wait)
                # Expired sessions are dropped when the session store is next written: open and close a page.
                page = new_page(browser)
                page.goto(bench.server.url, wait_until="domcontentloaded")
                wait_done(page, bench.server)
                page.close()
                time.sleep(SETTLE_S)
                expired = bench.rss_over_idle()
            idle, servers = bench.idle, bench.servers
        finally:
            bench.stop()

    print("\nAll cases, by class (MiB over idle):")
    print(HEADER)
    order = {klass: i for i, klass in enumerate(CLASSES)}
    for result in sorted(results, key=lambda r: order.get(r.case.klass, len(order))):
        print(row(result))
    # On one server the peak over idle also holds what earlier cases left: rank by the case's own rise.
    print("\nWorst case per class (by the peak over the case's start; MiB):")
    for klass in CLASSES:
        measured = [r for r in results if r.case.klass == klass and r.outcome != "skipped"]
        if measured:
            worst = max(measured, key=lambda r: r.peak - r.before)
            print(
                f"  {klass:<18} {worst.peak - worst.before:6.0f} over start, {worst.peak:6.0f} over idle  "
                f"{worst.case.name}  [{worst.outcome}]"
            )
    if not args.fresh:
        restarted = f" (server restarted {servers - 1}×: since the last start)" if servers > 1 else ""
        print(f"\nIdle {idle:.0f} MiB{restarted}.")
        if cumulative is not None:
            print(f"Cumulative: RSS at the end is {cumulative:.0f} MiB over idle.")
        else:
            print("Cumulative: not measured, the last server was stopped.")
        if expired is not None:
            print(
                f"After {args.expiry_wait:.0f} s more (closed sessions expired): {expired:.0f} MiB over idle."
            )


if __name__ == "__main__":
    main()
