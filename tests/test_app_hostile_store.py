"""Runs, Compare and Draw pages over a store with broken folders: each page renders and reports each one."""

import json
import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import datasets
from backprop import RunConfig
from backprop.runs import RunStore, train_run
from tests.markdown_text import shown

ROOT = Path(__file__).resolve().parent.parent
PAGES = {name: str(ROOT / "pages" / f"{name}.py") for name in ("runs", "compare", "draw")}
# A folder name that is Markdown, a link, an emoji shortcode and LaTeX all at once.
HOSTILE_NAME = "[click](www.example.com) **bold** :smile: $x$"


@pytest.fixture
def hostile_store(isolated_runs_dir, tmp_path):
    """One good image run ("good") next to five kinds of broken folder."""
    store = RunStore()
    digits = datasets.load("digits")
    config = RunConfig(dataset="digits", layers="dense8-gelu", epochs=1)
    good = store.create("good", config, dataset=digits)
    train_run(good, digits, epochs=1)
    for name in ("created-number", "best-damaged", "named", "history-is-a-folder"):
        train_run(store.create(name, config, dataset=digits), digits, epochs=1)
    # config.json valid JSON of the wrong shape: a number where the creation time belongs
    meta_path = store.root / "created-number" / "config.json"
    meta = json.loads(meta_path.read_text())
    meta["created"] = 5
    meta_path.write_text(json.dumps(meta))
    (store.root / "best-damaged" / "best.npz").write_bytes(b"PK\x03\x04 not weights")
    os.rename(store.root / "named", store.root / HOSTILE_NAME)
    os.mkfifo(store.root / "good" / "stray-fifo")
    elsewhere = RunStore(tmp_path / "elsewhere")
    elsewhere.create("far", config, dataset=digits)
    os.symlink(elsewhere.root / "far", store.root / "linked")
    (store.root / "history-is-a-folder" / "history.json").unlink()
    (store.root / "history-is-a-folder" / "history.json").mkdir()
    return store


def open_page(name):
    at = AppTest.from_file(PAGES[name], default_timeout=90).run()
    assert not at.exception, at.exception
    return at


def warnings_about(at):
    return [shown(w.value) for w in at.warning]


@pytest.mark.parametrize("page", ["runs", "compare"])
def test_runs_and_compare_pages_render_and_give_each_broken_folder_its_own_row(hostile_store, page):
    at = open_page(page)
    rows = warnings_about(at)
    for folder, reason in [
        ("created-number", "'created' is 5"),
        (HOSTILE_NAME, "not a valid run name"),
        ("linked", "symbolic link"),
        ("history-is-a-folder", "history.json is a folder"),
        ("best-damaged", "best.npz is not a readable weights file"),
    ]:
        matching = [row for row in rows if f"Run **{folder}** " in row and reason in row]
        assert len(matching) == 1, (folder, rows)
    # The name is shown as text: the raw warning escapes its Markdown.
    assert not any(HOSTILE_NAME in w.value for w in at.warning)
    healthy = {"good", "best-damaged"}
    if page == "runs":
        assert {option.split(" · ")[0] for option in at.selectbox(key="runs.pick").options} == healthy
    else:
        assert set(at.multiselect(key="compare.runs").value) == healthy
        assert not at.error


def test_a_healthy_run_with_a_damaged_best_file_still_opens_and_trains(hostile_store):
    at = open_page("runs")
    at.selectbox(key="runs.pick").set_value("best-damaged").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    at.number_input(key="runs.epochs").set_value(1)
    at.button(key="runs.train").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert len(RunStore().open("best-damaged").history) == 2


def test_draw_page_renders_with_built_in_models_and_lists_only_the_healthy_image_runs(hostile_store):
    at = open_page("draw")
    options = [shown(option) for option in at.pills(key="draw.model").options]  # as the page shows them
    assert "digits (built-in)" in options
    assert "good (run, digits)" in options
    assert not any("created-number" in option or "linked" in option for option in options)
    assert not at.error


def test_compare_leaves_out_a_chosen_run_that_went_bad_after_it_was_listed(hostile_store):
    from ui.runs import open_chosen

    (hostile_store.root / "good" / "history.json").write_text("[]")
    assert list(open_chosen(["good", "best-damaged", "deleted-meanwhile"])) == ["best-damaged"]
