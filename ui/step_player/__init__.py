"""The step player: an ``st.components.v2`` component fed one step's payload.

Its HTML, CSS and JavaScript are the files beside this one (no build step). The
browser steps through the phases by itself; the component reports only what needs
new numbers from the server, as trigger values (set for the one run they cause):

- ``inspect``: a clicked cell, {step, phase, block, tensor, row, col};
- ``next_step``: Next was pressed at the end of the step, {step}.
"""

from __future__ import annotations

from pathlib import Path

from ..components import from_files

ASSETS = Path(__file__).resolve().parent
NAME = "backprop.step_player"

_mount = from_files(NAME, ASSETS, "player")


def step_player(payload: bytes, key: str, on_inspect, on_next_step):
    """Mount the player with one step's payload (``viz.step_payload.build_payload``).

    on_inspect / on_next_step: called at the start of the run a request causes, before
    the page is drawn, so the page can answer it in that same run; the request's value
    is ``st.session_state[key][event]`` then.
    """
    return _mount(key=key, data=payload, on_inspect_change=on_inspect, on_next_step_change=on_next_step)
