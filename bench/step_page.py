"""Server-side cost of the step-through page on the 784-256-64-10 network (Fashion-MNIST).

    python bench/step_page.py [--dataset fashion-mnist] [--repeats 5]

Prints, for AppTest reruns of pages/step_through.py:
  - a trivial rerun (nothing changed: every figure is rebuilt and sent again),
  - a `Full step` click (new batch, forward + backward + update, every figure),
  - a `Next ▸` click,
and the bytes of what one rerun sends: the plotly figure specs and all element
protos together. Targets: a step click within 1.2× a trivial rerun; ≤ 400 KB a rerun.
Numbers only; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from streamlit.testing.v1 import AppTest  # noqa: E402

PAGE = str(REPO / "pages" / "step_through.py")


def element_protos(node):
    """Every element proto under an AppTest tree node."""
    proto = getattr(node, "proto", None)
    if proto is not None and hasattr(proto, "ByteSize"):
        yield node.type if hasattr(node, "type") else type(node).__name__, proto
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for child in children.values():
            yield from element_protos(child)


def sent_bytes(at) -> tuple[int, int, int]:
    """(plotly spec bytes, all element proto bytes, number of plotly charts) of the last run."""
    plotly = total = charts = 0
    for kind, proto in element_protos(at._tree):
        total += proto.ByteSize()
        if kind == "plotly_chart":
            plotly += len(proto.spec)
            charts += 1
    return plotly, total, charts


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--hidden", default="[256, 64]")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()

    at = AppTest.from_file(PAGE, default_timeout=600)
    at.query_params["dataset"] = f'"{args.dataset}"'
    at.query_params["hidden"] = args.hidden
    first = timed(at.run)
    if at.exception or at.error:
        raise SystemExit(f"the page did not open: {[e.value for e in at.exception or at.error]}")
    net = at.session_state["bp.model"].net
    print(
        f"network {'-'.join(map(str, net.sizes))} on {args.dataset}: first open {first:.2f} s "
        "(includes building the dataset)"
    )
    at.radio(key="step.mode").set_value("Train").run()
    at.button(key="step.full").click().run()  # warm up every figure path once

    # Interleaved, so that load from other processes hits both kinds of rerun alike.
    trivial, steps = [], []
    for _ in range(args.repeats):
        trivial.append(timed(at.run))
        plotly_bytes, total_bytes, charts = sent_bytes(at)
        steps.append(timed(lambda: at.button(key="step.full").click().run()))
        step_plotly, step_total, step_charts = sent_bytes(at)
    nexts = [timed(lambda: at.button(key="step.next").click().run()) for _ in range(args.repeats)]
    assert not at.exception, at.exception

    t_med, s_med, n_med = (statistics.median(v) for v in (trivial, steps, nexts))
    t_min, s_min = min(trivial), min(steps)
    print(f"trivial rerun      median {t_med * 1e3:7.1f} ms, best {t_min * 1e3:6.1f} ms")
    print(f"Full step click    median {s_med * 1e3:7.1f} ms  = {s_med / t_med:.2f}× trivial (target ≤ 1.2×)")
    print(
        f"Full step click    best {s_min * 1e3:7.1f} ms  = {s_min / t_min:.2f}× the best trivial rerun "
        "(best-of is the least disturbed by other processes)"
    )
    print(f"Next ▸ click       median {n_med * 1e3:7.1f} ms  = {n_med / t_med:.2f}× trivial")
    print(
        f"sent per rerun: {charts} plotly charts, {plotly_bytes / 1e3:.0f} KB figure specs, "
        f"{total_bytes / 1e3:.0f} KB all elements (target ≤ 400 KB)"
    )
    print(
        f"after Full step: {step_charts} charts, {step_plotly / 1e3:.0f} KB specs, {step_total / 1e3:.0f} KB all"
    )


if __name__ == "__main__":
    main()
