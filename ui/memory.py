"""Keep Streamlit's garbage collection after every script run cheap.

Streamlit collects garbage after each run (its ``runner.postScriptGC`` option, on by default) so memory
does not build up between runs. A full collection walks every object the process tracks: some 140,000
once numpy, pandas, plotly and Streamlit are imported, which took 60–250 ms on a busy machine, paid by
every rerun before its last message left the server. Those objects live as long as the process. Moved
into the permanent generation (``gc.freeze``) they are not walked again, and a collection walks only
what runs made since, a few thousand objects, in under a millisecond.

A frozen object is still freed when its last reference goes; only a reference cycle among frozen
objects is never collected. So objects are frozen when modules were imported since the last time (the
first runs of the server, the first visit of a page), not at every run.
"""

from __future__ import annotations

import gc
import sys

_modules_when_frozen = 0


def freeze_imports() -> None:
    """Collect once and freeze what is alive, when modules were imported since the last call."""
    global _modules_when_frozen
    if len(sys.modules) != _modules_when_frozen:
        _modules_when_frozen = len(sys.modules)
        gc.collect()
        gc.freeze()
