"""The process-wide freeze of imported objects: once, on the first run, before any session data."""

import gc
from pathlib import Path

from streamlit.testing.v1 import AppTest

from ui.process import freeze_imports

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")


def test_the_first_call_freezes_the_imports_and_later_calls_freeze_nothing_more():
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    freeze_imports()
    frozen = gc.get_freeze_count()
    assert frozen > 50_000  # Streamlit, NumPy and Plotly: far more than any session makes
    made_later = [{"a run's": [1]} for _ in range(1000)]
    freeze_imports()
    assert gc.get_freeze_count() == frozen  # what later runs make stays collectable
    del made_later


def test_the_entry_point_freezes_before_its_first_page_runs():
    gc.unfreeze()
    app = AppTest.from_file(APP, default_timeout=30).run()
    assert not app.exception
    assert gc.get_freeze_count() > 50_000
