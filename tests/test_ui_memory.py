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
