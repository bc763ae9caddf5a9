"""The step-through page in real Chromium: stepping, a full step, and the first open.

    python bench/step_page.py [--clicks 20] [--repeats 5] [--opens 5] [--only default|fashion]

For the default network (2-8-8-2 on circle) and the 784-256-64-10 network on
Fashion-MNIST (reached through the page's URL parameters), prints:

- Next ▸ and ◂ Back: click to the repainted page, p50 and p95 (target p95 ≤ 100 ms);
- Full step: click to a settled page, against a trivial rerun of the same page
  (the R key) measured in the same run, and the ratio (target ≤ 1.5×);
- bytes received over the websocket per Full step (target ≤ 400 KB);
- first open of the page to interactive on a fresh server (target ≤ 2.5 s): the
  median of --opens servers, each started for that one open, with the modules'
  bytecode cached as on every start after a user's first (see
  ``cache_compiled_modules``).

Numbers only; nothing is asserted. Timing helpers live in bench/browser_timing.py.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from browser_timing import (
    Frames,
    app_server,
    cache_compiled_modules,
    chromium,
    install,
    median,
    new_page,
    open_and_time,
    summary,
    time_repaint,
    time_settled,
    trivial_rerun,
)

PLAYER = "[data-testid='stBidiComponentIsolated']"
ROOT = f"{PLAYER} .bp-player"
NETWORKS = {
    "default": ("2-8-8-2 on circle (default)", ""),
    "fashion": (
        "784-256-64-10 on Fashion-MNIST",
        '?dataset="fashion-mnist"&layers="dense256-relu-dense64-relu"',
    ),
}


def phase(page) -> int:
    return int(page.locator(ROOT).get_attribute("data-phase"))


def last_phase(page) -> int:
    return page.locator(f"{ROOT} .bp-chip").count() - 1


def step_clicks(page, clicks: int) -> tuple[list[float], list[float]]:
    """Next ▸ and ◂ Back within the step (never past its ends): click to repaint, ms each."""
    nxt, back = page.locator(f"{ROOT} [data-action=next]"), page.locator(f"{ROOT} [data-action=back]")
    forward, backward = [], []
    end = last_phase(page)
    while len(forward) < clicks or len(backward) < clicks:
        while phase(page) < end and len(forward) < clicks:
            forward.append(time_repaint(page, nxt.click))
        while phase(page) > 0 and len(backward) < clicks:
            backward.append(time_repaint(page, back.click))
        if len(forward) < clicks and phase(page) == end:  # only when Back ran out first
            break
    return forward, backward


def measure(browser, url: str, clicks: int, repeats: int) -> dict:
    page = new_page(browser)
    frames = Frames(page)
    seconds = open_and_time(page, url, ".bp-player", "data-step", "-1", shadow_hosts=PLAYER)
    install(page, PLAYER)
    page.wait_for_timeout(500)
    frames.reset()
    forward, backward = step_clicks(page, clicks)
    sent_while_stepping = frames.sent
    full = page.get_by_role("button", name="Full step", exact=True)
    time_settled(page, full.click)  # warm up
    trivial, steps, received = [], [], []
    for _ in range(repeats):  # interleaved, so load from other processes hits both alike
        trivial.append(trivial_rerun(page))
        frames.reset()
        steps.append(time_settled(page, full.click))
        received.append(frames.received)
    page.close()
    return {
        "open": seconds,
        "next": forward,
        "back": backward,
        "sent_while_stepping": sent_while_stepping,
        "trivial": trivial,
        "full": steps,
        "received": received,
    }


def first_open(url_suffix: str) -> float:
    """Seconds from navigation to an interactive player, on a server that has served nothing."""
    with tempfile.TemporaryDirectory() as tmp, app_server(Path(tmp)) as server, chromium() as browser:
        page = new_page(browser)
        return open_and_time(
            page,
            f"{server.url}/step_through{url_suffix}",
            ".bp-player",
            "data-step",
            "-1",
            shadow_hosts=PLAYER,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--opens", type=int, default=5, help="fresh servers for the first-open figure")
    parser.add_argument("--only", choices=sorted(NETWORKS))
    args = parser.parse_args()
    names = [args.only] if args.only else list(NETWORKS)
    cache_compiled_modules()
    for name in names:
        title, query = NETWORKS[name]
        opens = [first_open(query) for _ in range(args.opens)]
        with tempfile.TemporaryDirectory() as tmp, app_server(Path(tmp)) as server, chromium() as browser:
            result = measure(browser, f"{server.url}/step_through{query}", args.clicks, args.repeats)
        t, f = median(result["trivial"]), median(result["full"])
        print(f"\n{title}")
        print(f"  Next ▸ click → repainted   {summary(result['next'])}   (target p95 ≤ 100 ms)")
        print(f"  ◂ Back click → repainted   {summary(result['back'])}")
        print(f"  messages sent to the server while stepping: {result['sent_while_stepping']}")
        print(f"  trivial rerun (R) → settled  median {t:7.1f} ms  {result['trivial']}")
        print(
            f"  Full step → settled          median {f:7.1f} ms  = {f / t:.2f}× trivial (target ≤ 1.5×)"
            f"  {[round(v) for v in result['full']]}"
        )
        print(
            f"  received per Full step       median {median(result['received']) / 1e3:7.1f} KB, "
            f"max {max(result['received']) / 1e3:.1f} KB (target ≤ 400 KB)"
        )
        print(
            f"  first open → interactive     median {median(opens):5.2f} s over {len(opens)} fresh servers "
            f"(target ≤ 2.5 s) {[round(v, 2) for v in opens]}; {result['open']:.2f} s warm"
        )


if __name__ == "__main__":
    main()
