"""Resource budgets: one declaration each, a default, an environment variable that raises it."""

from pathlib import Path

import pytest

from backprop import limits


def test_every_budget_has_a_default_an_environment_variable_and_a_unit():
    assert limits.BUDGETS
    names = [budget.env for budget in limits.BUDGETS]
    assert len(set(names)) == len(names)
    for budget in limits.BUDGETS:
        assert budget.env.startswith("BACKPROP_MAX_")
        assert budget.default > 0
        assert budget.unit in ("bytes", "pixels", "parameters")
        assert budget.value() == budget.default


def test_the_environment_raises_a_budget(monkeypatch):
    monkeypatch.setenv(limits.ARCHIVE_BYTES.env, "1GiB")
    assert limits.ARCHIVE_BYTES.value() == 1 << 30
    monkeypatch.setenv(limits.ARCHIVE_BYTES.env, "300_000")
    assert limits.ARCHIVE_BYTES.value() == 300_000
    monkeypatch.setenv(limits.UPLOAD_PIXELS.env, "64M")
    assert limits.UPLOAD_PIXELS.value() == 64 << 20


@pytest.mark.parametrize("bad", ["lots", "-5", "0", "1.5GB", "GB"])
def test_a_bad_setting_names_the_variable_and_the_value(monkeypatch, bad):
    monkeypatch.setenv(limits.HISTORY_BYTES.env, bad)
    with pytest.raises(ValueError, match=rf"{limits.HISTORY_BYTES.env}.*{bad!r}"):
        limits.HISTORY_BYTES.value()


def test_over_budget_message_says_what_and_how_to_raise_it():
    error = limits.ARRAY_BYTES.exceeded("layer1.W in latest.npz", 200 << 20)
    assert isinstance(error, ValueError)
    text = str(error)
    assert "layer1.W in latest.npz" in text and "200 MiB" in text and "64 MiB" in text
    assert limits.ARRAY_BYTES.env in text


def test_sizes_read_as_people_write_them():
    assert limits.describe_bytes(1536) == "1.5 KiB"
    assert limits.describe_bytes(256 << 20) == "256 MiB"
    assert limits.describe_bytes(17) == "17 bytes"
    assert limits.UPLOAD_PIXELS.describe(4096 * 4096) == "16.8 million pixels (4096×4096)"


def test_the_docs_state_every_budget_as_declared():
    root = Path(__file__).resolve().parent.parent
    pages = {page for budget in limits.BUDGETS for page in budget.docs}
    for page in pages:
        assert limits.table(page) in (root / page).read_text(encoding="utf-8"), page
