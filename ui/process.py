"""Once per server process: leave the objects that live as long as the process out of garbage collection.

After every script run Streamlit runs a full collection (``gc.collect(2)``), which walks every object
the process holds. Most of them are modules, classes and functions imported once (Streamlit, NumPy,
Plotly and this app): about 140,000 objects, and walking them took 100–500 ms after each run
on a busy 2-core machine, while the server could send nothing. Python's ``gc.freeze`` moves the objects
alive at that moment out of every later collection; frozen objects are still freed when their last
reference goes. It runs once, at the top of the process's first run, before any session holds data, so
only imports are frozen and what sessions make is collected as before.
"""

from __future__ import annotations

import gc


def freeze_imports() -> None:
    """Import what every page uses, collect, then freeze it all (once per process).

    pandas is left to the pages that show tables: importing it takes about half a second, which the
    step page's first open does not need to wait for.
    """
    if gc.get_freeze_count():
        return
    import plotly.graph_objects  # noqa: F401  (every chart)

    gc.collect()
    gc.freeze()
