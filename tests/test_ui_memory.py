"""Freezing what the imports made, so Streamlit's collection after every run stays cheap."""

import sys
import types

from ui import memory


class FakeGC:
    def __init__(self):
        self.calls = []

    def collect(self):
        self.calls.append("collect")

    def freeze(self):
        self.calls.append("freeze")


def test_freeze_imports_collects_and_freezes_once_per_set_of_modules(monkeypatch):
    fake = FakeGC()
    monkeypatch.setattr(memory, "gc", fake)
    monkeypatch.setattr(memory, "_modules_when_frozen", 0)
    memory.freeze_imports()
    assert fake.calls == ["collect", "freeze"]  # garbage goes first: a frozen cycle is never collected
    memory.freeze_imports()
    assert fake.calls == ["collect", "freeze"]  # nothing imported since: every run does not freeze
    monkeypatch.setitem(sys.modules, "a_page_imported_later", types.ModuleType("a_page_imported_later"))
    memory.freeze_imports()
    assert fake.calls == ["collect", "freeze"] * 2


def test_the_entry_point_freezes_what_its_imports_made(monkeypatch):
    import gc
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    gc.unfreeze()
    monkeypatch.setattr(memory, "_modules_when_frozen", 0)
    app = AppTest.from_file(
        str(Path(__file__).resolve().parent.parent / "streamlit_app.py"), default_timeout=30
    )
    assert not app.run().exception
    assert gc.get_freeze_count() > 50_000  # Streamlit, NumPy and Plotly: far more than a session makes
