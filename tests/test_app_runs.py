"""The Runs and Compare pages under AppTest: create, train, fork, manage and compare."""

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import datasets
from backprop import RunConfig
from backprop.runlock import RunLock
from backprop.runs import RunStore, build_for_training, train_run
from tests.map_views import packed_data
from tests.markdown_text import shown
from tests.places import component, place_of

ROOT = Path(__file__).resolve().parent.parent
RUNS_PAGE = str(ROOT / "pages" / "runs.py")
COMPARE_PAGE = str(ROOT / "pages" / "compare.py")


def runs_page():
    return AppTest.from_file(RUNS_PAGE, default_timeout=60).run()


def open_tab(at, label):
    """Open one of the Runs page's tabs (only the open tab is drawn)."""
    at.session_state["runs.tab"] = label
    return at.run()


def no_errors(at):
    assert not at.exception, at.exception
    assert not [e.value for e in at.error]


def test_empty_store_offers_to_create_a_run():
    at = runs_page()
    no_errors(at)
    assert any("No runs yet" in box.value for box in at.info)
    assert at.button(key="runs.create")


def test_create_train_fork_and_compare():
    at = runs_page()
    at.text_input(key="runs.new_name").set_value("gelu run")
    at.button(key="runs.create").click().run()
    no_errors(at)
    assert at.selectbox(key="runs.pick").value == "gelu-run"
    assert at.session_state["bp.model"].run_name == "gelu-run"

    at.number_input(key="runs.epochs").set_value(2)
    at.button(key="runs.train").click().run()
    no_errors(at)
    assert any("Trained 2 epochs" in box.value for box in at.success)
    assert len(RunStore().open("gelu-run").history) == 2

    open_tab(at, "Fork")
    at.text_input(key="runs.f.layers").set_value("dense8-relu-dense8-relu")
    at.text_input(key="runs.fork_name").set_value("relu-run")
    at.button(key="runs.fork").click().run()
    no_errors(at)
    fork = RunStore().open("relu-run")
    assert fork.parent == "gelu-run" and fork.config.layers == "dense8-relu-dense8-relu"
    assert at.selectbox(key="runs.pick").value == "relu-run"
    assert at.session_state["runs.tab"] == "Fork"  # the open tab stays open
    at.button(key="runs.train").click().run()
    no_errors(at)
    assert len(RunStore().open("relu-run").history) == 2

    compare = AppTest.from_file(COMPARE_PAGE, default_timeout=60).run()
    no_errors(compare)
    assert compare.multiselect(key="compare.runs").value == ["gelu-run", "relu-run"]
    names = [series["name"] for panel in curves(compare)["panels"] for series in panel["series"]]
    assert "gelu-run · val loss" in names and "relu-run · train acc" in names
    frames = compare.dataframe
    assert len(frames) == 2
    assert any("layers" in caption.value for caption in compare.caption)
    assert len(compare.get("plotly_chart")) == 1  # the fork's weight distances
    for axis, title in (("step", "step"), ("time", "wall time (s)")):
        compare.radio(key="compare.x").set_value(axis).run()
        no_errors(compare)
        assert curves(compare)["x_title"] == title
    compare.slider(key="compare.smoothing").set_value(0.8).run()
    compare.checkbox(key="compare.log").check().run()
    no_errors(compare)
    assert curves(compare)["panels"][0]["log"] is True


def curve_views(app) -> list[dict]:
    """The data of each curve view on the page."""
    return packed_data(app, "backprop.curve_view")


def curves(app) -> dict:
    """The data of the page's one curve view."""
    (view,) = curve_views(app)
    return view


@pytest.fixture
def trained_run():
    dataset = datasets.load("circle", samples=120)
    config = RunConfig(
        dataset="circle", dataset_params={"samples": 120}, layers="dense4-gelu", learning_rate=0.05
    )
    run = RunStore().create("trained", config, dataset=dataset)
    train_run(run, dataset, epochs=2)
    return run


def test_picking_a_run_activates_it_and_shows_its_layers(trained_run):
    at = runs_page()
    at.selectbox(key="runs.pick").set_value("trained").run()
    no_errors(at)
    model = at.session_state["bp.model"]
    assert model.run_name == "trained" and model.trainer.epoch == 2
    assert [view["panels"][0]["title"] for view in curve_views(at)] == [
        "loss"
    ]  # the closed tabs draw nothing
    open_tab(at, "Inside the layers")
    assert at.radio(key="runs.quantity").value == "W"
    at.radio(key="runs.quantity").set_value("dW").run()
    no_errors(at)
    distributions, norms = curve_views(at)
    assert distributions["title"].startswith("gradients dL/dW")
    assert [panel["title"] for panel in distributions["panels"]] == ["layer 1", "layer 2"]  # dense4, output
    assert norms["title"].startswith("gradient norm")


def test_the_new_run_form_is_drawn_while_its_section_is_open(trained_run):
    at = runs_page()
    no_errors(at)
    assert "runs.new_name" not in {w.key for w in at.text_input}  # runs exist: closed, drawn only when opened
    at.session_state["runs.new_open"] = True
    at.run()
    at.text_input(key="runs.new_name").set_value("second").run()
    at.button(key="runs.create").click().run()
    no_errors(at)
    assert {info.name for info in RunStore().list()} == {"trained", "second"}


def test_the_new_run_setup_is_a_draft_kept_as_set_whatever_run_is_picked(trained_run):
    """The Runs page has no setup sidebar: its setup used to be the session's network, so a run picked
    or kept active put its own settings back over what the user had set for a new run. The New run
    form's setup starts from the active run's settings and is kept as set until the run is created."""
    dataset = datasets.load("circle", samples=120)
    RunStore().create("faster", trained_run.config.replace(learning_rate=0.2), dataset=dataset)
    at = runs_page()
    at.selectbox(key="runs.pick").set_value("trained").run()
    in_sidebar = {w.key for w in [*at.sidebar.selectbox, *at.sidebar.text_input, *at.sidebar.number_input]}
    assert in_sidebar == {"runs.epochs"}  # the training controls; no setup
    at.session_state["runs.new_open"] = True
    at.run()
    assert at.text_input(key="runs.new.layers").value == "dense4-gelu"  # the active run's
    assert at.number_input(key="runs.new.learning_rate").value == 0.05
    at.text_input(key="runs.new.layers").set_value("dense16-relu").run()
    at.number_input(key="runs.new.learning_rate").set_value(0.01).run()
    at.selectbox(key="runs.pick").set_value("faster").run()
    at.run()
    no_errors(at)
    assert at.text_input(key="runs.new.layers").value == "dense16-relu"
    assert at.number_input(key="runs.new.learning_rate").value == 0.01
    model = at.session_state["bp.model"]
    assert model.run_name == "faster" and model.config.learning_rate == 0.2  # the draft changed nothing
    at.session_state["runs.new_open"] = False  # closed, and opened again: the draft is as it was set
    at.run()
    at.session_state["runs.new_open"] = True
    at.run()
    assert at.text_input(key="runs.new.layers").value == "dense16-relu"

    at.text_input(key="runs.new_name").set_value("wider").run()
    at.button(key="runs.create").click().run()
    no_errors(at)
    created = RunStore().open("wider").config
    assert created.layers == "dense16-relu" and created.learning_rate == 0.01
    assert created.dataset == "circle" and created.dataset_params == {"samples": 120}
    assert at.session_state["bp.model"].run_name == "wider"

    at.button(key="runs.new_again").click().run()  # started again: from the active run, now "wider"
    assert at.text_input(key="runs.new.layers").value == "dense16-relu"
    at.selectbox(key="runs.pick").set_value("faster").run()
    at.button(key="runs.new_again").click().run()
    assert at.text_input(key="runs.new.layers").value == "dense4-gelu"
    assert at.number_input(key="runs.new.learning_rate").value == 0.2


def test_a_new_run_over_the_budget_cannot_be_created_and_says_what_to_change(trained_run):
    at = runs_page()
    at.session_state["runs.new_open"] = True
    at.run()
    at.text_input(key="runs.new.layers").set_value("dense4000-relu-dense4000-relu").run()
    assert at.button(key="runs.create").disabled
    assert any("parameters" in error.value for error in at.error)


def _create_clicks():
    """A page whose "Create" click calls the Runs page's create callback as many times as
    ``st.session_state["calls"]`` says, with the layers ``st.session_state["layers"]``."""
    import streamlit as st

    from backprop import RunConfig
    from ui import runs

    config = RunConfig(
        dataset="circle",
        dataset_params={"samples": 120},
        layers=st.session_state.get("layers", "dense4-gelu"),
    )
    st.session_state.setdefault("runs.new_name", "new comer")

    def click():
        for _ in range(st.session_state.get("calls", 1)):
            runs._on_create(config)

    st.button("Create", key="create", on_click=click)
    runs.show_messages()


def test_create_run_called_again_for_the_same_click_changes_nothing():
    """Streamlit may call a button's callback twice for one click (a rerun request that arrives while the
    click is served). The second call finds the run this session just made with that name and setup: the
    user sees that the run was created, not that it already exists."""
    at = AppTest.from_function(_create_clicks, default_timeout=30)
    at.session_state["calls"] = 2
    at.run()
    at.button(key="create").click().run()
    assert not at.exception and not [e.value for e in at.error]
    assert [shown(s.value).split(" (")[0] for s in at.success] == ["Created run **new-comer**"]
    assert RunStore().names() == ["new-comer"] and len(RunStore().open("new-comer").history) == 0

    # A new click with another setup under the same name is refused, as ever.
    at.session_state["calls"] = 1
    at.session_state["layers"] = "dense8-relu"
    at.run()
    at.button(key="create").click().run()
    assert [shown(e.value) for e in at.error] == [
        "Could not create the run: a run named 'new-comer' already exists; choose another name"
    ]
    assert RunStore().open("new-comer").config.layers == "dense4-gelu"

    # Deleted, the same name and setup can be created again.
    at.session_state["layers"] = "dense4-gelu"
    RunStore().delete("new-comer")
    at.run()
    at.button(key="create").click().run()
    assert not at.error and [shown(s.value).split(" (")[0] for s in at.success] == [
        "Created run **new-comer**"
    ]
    assert RunStore().open("new-comer").config.layers == "dense4-gelu"


def _stop_clicks():
    """A page with run "trained" active and Play on at the first run, whose button calls the Runs page's
    callback ``st.session_state["callback"]`` as many times as ``st.session_state["calls"]`` says."""
    import streamlit as st

    from ui import runs

    if "started" not in st.session_state:
        st.session_state["started"] = True
        st.session_state[runs.PICK_KEY] = "trained"
        runs.activate_run("trained")
        runs._on_play()

    def click():
        for _ in range(st.session_state.get("calls", 1)):
            getattr(runs, st.session_state["callback"])()

    st.button("Click", key="click", on_click=click)
    runs.show_messages()


@pytest.mark.parametrize("callback, word", [("_on_stop", "Stopped"), ("_on_pause", "Paused")])
def test_stop_or_pause_called_again_for_the_same_click_says_where_the_run_stands(trained_run, callback, word):
    """Streamlit may call a button's callback twice for one click. The second call of Stop or Pause finds
    training stopped by the first: the user reads where the run stands, not "Nothing is training"."""
    at = AppTest.from_function(_stop_clicks, default_timeout=30)
    at.session_state["callback"] = callback
    at.session_state["calls"] = 2
    at.run()
    at.button(key="click").click().run()
    stopped = f"{word}. Every finished step is kept: run **trained** is at epoch 2, step "
    assert [shown(box.value)[: len(stopped)] for box in at.info] == [stopped]
    assert "runs.goal" not in at.session_state

    # Play again, then one Stop: stopped, as ever; a later Stop says again where the run stands.
    at.session_state["callback"] = "_on_play"
    at.session_state["calls"] = 1
    at.button(key="click").click().run()
    assert at.session_state["runs.goal"]["target"] is None
    at.session_state["callback"] = "_on_stop"
    for _ in range(2):
        at.button(key="click").click().run()
        assert [shown(box.value)[:8] for box in at.info] == ["Stopped."]


def test_stop_with_nothing_trained_in_the_session_says_nothing_is_training(trained_run):
    at = AppTest.from_function(_stop_clicks, default_timeout=30)
    at.session_state["callback"] = "_on_stop"
    at.session_state["started"] = True  # no run picked, no Play
    at.run()
    at.button(key="click").click().run()
    assert [shown(box.value) for box in at.info] == ["Nothing is training: press Train, or switch Play on."]


def test_a_picked_run_is_what_its_files_hold_when_it_is_picked(trained_run):
    """Opening a run for training is kept until its files change: each pick gets a network of its own, and
    a run trained elsewhere in between is opened as it is now."""
    dataset = datasets.load("circle", samples=120)
    RunStore().create("other", trained_run.config, dataset=dataset)
    at = runs_page()
    at.selectbox(key="runs.pick").set_value("trained").run()
    first = at.session_state["bp.model"]
    saved_net, saved_trainer = build_for_training(RunStore().open("trained"), dataset)
    for key, value in saved_net.get_weights().items():
        np.testing.assert_array_equal(first.net.get_weights()[key], value)
    assert first.trainer.step == saved_trainer.step
    first.net.layers[0].W += 1.0  # the session's copy, not the kept one

    at.selectbox(key="runs.pick").set_value("other").run()
    at.selectbox(key="runs.pick").set_value("trained").run()
    again = at.session_state["bp.model"]
    for key, value in saved_net.get_weights().items():
        np.testing.assert_array_equal(again.net.get_weights()[key], value)

    train_run(RunStore().open("trained"), dataset, epochs=1)  # trained elsewhere meanwhile
    at.selectbox(key="runs.pick").set_value("other").run()
    at.selectbox(key="runs.pick").set_value("trained").run()
    now = at.session_state["bp.model"]
    assert now.trainer.epoch == 3
    retrained, _ = build_for_training(RunStore().open("trained"), dataset)
    for key, value in retrained.get_weights().items():
        np.testing.assert_array_equal(now.net.get_weights()[key], value)
    no_errors(at)


def test_the_epoch_table_is_drawn_while_its_expander_is_open(trained_run):
    at = runs_page()
    at.selectbox(key="runs.pick").set_value("trained").run()
    assert len(at.dataframe) == 0  # closed: the table is not built
    at.session_state["runs.table"] = True
    at.run()
    no_errors(at)
    assert len(at.dataframe) == 1 and len(at.dataframe[0].value) == 2  # one row per epoch
    open_tab(at, "Fork")
    open_tab(at, "Train")
    assert len(at.dataframe) == 1  # still open when the tab is opened again


def test_reset_and_delete_need_confirmation(trained_run):
    at = runs_page()
    at.selectbox(key="runs.pick").set_value("trained").run()
    open_tab(at, "Manage")
    assert at.button(key="runs.reset").disabled and at.button(key="runs.delete").disabled
    at.checkbox(key="runs.sure_reset").check().run()
    at.button(key="runs.reset").click().run()
    no_errors(at)
    assert len(RunStore().open("trained").history) == 0
    # a confirmation is for one reset
    assert not at.checkbox(key="runs.sure_reset").value and at.button(key="runs.reset").disabled
    at.checkbox(key="runs.sure_delete").check().run()
    at.button(key="runs.delete").click().run()
    no_errors(at)
    assert RunStore().list() == []
    assert any("No runs yet" in box.value for box in at.info)


def test_rename_with_bad_name_shows_what_to_change(trained_run):
    at = runs_page()
    at.selectbox(key="runs.pick").set_value("trained").run()
    open_tab(at, "Manage")
    at.text_input(key="runs.rename_to").set_value("a/b")
    at.button(key="runs.rename").click().run()
    assert not at.exception
    assert any("path separators" in e.value for e in at.error)
    at.text_input(key="runs.rename_to").set_value("better name")
    at.button(key="runs.rename").click().run()
    no_errors(at)
    assert at.selectbox(key="runs.pick").value == "better-name"


def test_damaged_run_is_shown_as_warning_not_exception(trained_run):
    (trained_run.path / "history.json").write_text("{broken")
    at = runs_page()
    assert not at.exception
    assert any("damaged" in w.value and "history.json" in shown(w.value) for w in at.warning)
    compare = AppTest.from_file(COMPARE_PAGE, default_timeout=60).run()
    assert not compare.exception
    assert any("No runs yet" in box.value for box in compare.info)


def test_compare_with_no_runs_says_where_to_make_them():
    compare = AppTest.from_file(COMPARE_PAGE, default_timeout=60).run()
    no_errors(compare)
    assert any("Runs" in box.value for box in compare.info)


def test_runs_page_is_routed_from_the_entry_point(trained_run):
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    at.switch_page("pages/compare.py").run()
    no_errors(at)
    assert [t.value for t in at.title] == ["Compare runs"]
    at.switch_page("pages/runs.py").run()
    no_errors(at)
    assert [t.value for t in at.title] == ["Training runs"]


def test_play_trains_a_slice_per_run_of_its_panel_and_keeps_it(trained_run):
    at = runs_page()
    at.selectbox(key="runs.pick").set_value("trained").run()
    steps_before = len(RunStore().open("trained").history.step_loss)
    at.button(key="runs.play").click().run()
    no_errors(at)
    assert at.button(key="runs.pause").label == "Pause" and not any(b.key == "runs.play" for b in at.button)
    goal = at.session_state["runs.goal"]
    assert (goal["name"], goal["target"], goal["start"]) == ("trained", None, None)
    (bar,) = at.get("progress")  # stays between slices, with the last step's loss
    assert bar.proto.text.startswith("playing · epoch")
    assert bar.proto.text.endswith(f" · loss {RunStore().open('trained').history.step_loss[-1]:.4g}")
    assert len(RunStore().open("trained").history.step_loss) > steps_before
    at.run()  # the panel's next run trains the next slice
    steps_now = len(RunStore().open("trained").history.step_loss)
    assert steps_now > steps_before and at.session_state["bp.model"].trainer.step == steps_now
    at.button(key="runs.pause").click().run()
    no_errors(at)
    assert "runs.goal" not in at.session_state and at.button(key="runs.play").label == "Play"
    assert any(shown(box.value).startswith("Paused. Every finished step is kept") for box in at.info)
    assert len(RunStore().open("trained").history.step_loss) == steps_now


def test_play_leaves_each_tick_idle_after_what_its_panel_spent_besides_training(trained_run, monkeypatch):
    """A slice is shortened by what the panel's last run spent besides training, so that the page is
    idle between slices (and a click there is served at once) on a busy machine too."""
    import ui.runs

    asked = []
    real = ui.runs.train_active
    monkeypatch.setattr(
        ui.runs, "train_active", lambda model, **kw: asked.append(kw["seconds"]) or real(model, **kw)
    )
    at = runs_page()
    at.selectbox(key="runs.pick").set_value("trained").run()
    at.button(key="runs.play").click().run()
    no_errors(at)
    assert asked == [ui.runs.SLICE_SECONDS]  # nothing spent yet: the longest slice
    assert at.session_state[ui.runs.OVERHEAD_KEY] > 0  # drawing the panel and its curves
    for spent, slice_seconds in (
        (0.5, ui.runs.TICK_SECONDS - ui.runs.IDLE_SECONDS - 0.5),
        (3.0, 0.25),
        (0.0, 0.8),
    ):
        at.session_state[ui.runs.OVERHEAD_KEY] = spent
        at.run()
        no_errors(at)
        assert asked[-1] == pytest.approx(slice_seconds), spent
    at.button(key="runs.pause").click().run()
    assert "runs.goal" not in at.session_state


def test_compare_page_on_an_empty_store_makes_two_trained_example_runs_in_one_click():
    at = AppTest.from_file(COMPARE_PAGE, default_timeout=120).run()
    no_errors(at)
    at.button(key="runs.examples").click().run()

    no_errors(at)
    infos = RunStore().list()
    assert [info.name for info in infos] == ["example-gelu", "example-relu"]
    gelu, relu = (RunStore().open(info.name) for info in infos)
    assert relu.config.differences(gelu.config) == ["layers"]
    assert relu.config.layers == gelu.config.layers.replace("gelu", "relu")
    assert len(gelu.history.epochs) == len(relu.history.epochs) == 20
    assert any("example-relu" in shown(box.value) for box in at.success)
    (view,) = curve_views(at)
    assert [entry["label"] for entry in view["legend"]][:1] in (["example-gelu"], ["example-relu"])


def test_a_rerun_of_compare_leaves_the_chosen_runs_unwritten(trained_run):
    """The run picker is written only when a chosen run has gone: every write makes the browser set the
    control again."""
    at = AppTest.from_file(COMPARE_PAGE, default_timeout=60).run()
    at.run()
    no_errors(at)
    picker = at.multiselect(key="compare.runs")
    assert picker.value == ["trained"] and not picker.proto.set_value


def test_runs_page_on_an_empty_store_offers_the_example_runs():
    at = runs_page()
    at.button(key="runs.examples").click().run()

    no_errors(at)
    assert len(RunStore().list()) == 2
    assert not any("No runs yet" in box.value for box in at.info)


def test_training_a_run_someone_else_trains_says_so_and_offers_a_fork(trained_run):
    at = runs_page()
    at.selectbox(key="runs.pick").set_value("trained").run()
    with RunLock(trained_run.path, owner="python -m backprop train"):
        at.button(key="runs.train").click().run()
        assert not at.exception
        assert any("is being trained by python -m backprop train" in shown(e.value) for e in at.error)
        at.button(key="runs.play").click().run()
        assert not at.exception and "runs.goal" not in at.session_state
        assert at.button(key="runs.play").label == "Play"
        at.button(key="runs.fork_busy").click().run()
    no_errors(at)
    assert at.selectbox(key="runs.pick").value == "trained-fork"
    fork = RunStore().open("trained-fork")
    assert fork.parent == "trained" and fork.config == trained_run.config
    at.button(key="runs.train").click().run()
    no_errors(at)
    assert len(RunStore().open("trained-fork").history) == trained_run.config.epochs
    assert len(RunStore().open("trained").history) == 2  # the original was left to its trainer


def test_a_fork_over_the_parameter_budget_is_refused_with_what_to_change(trained_run, monkeypatch):
    monkeypatch.setenv("BACKPROP_MAX_PARAMETERS", "1000")
    at = runs_page()
    at.selectbox(key="runs.pick").set_value("trained").run()
    open_tab(at, "Fork")
    at.text_input(key="runs.f.layers").set_value("dense64-gelu-dense64-gelu")
    at.run()
    assert not at.exception
    message = " ".join(shown(e.value) for e in at.error)
    assert "This fork cannot be made" in message and "BACKPROP_MAX_PARAMETERS" in message
    assert "1,000" in message or "1000" in message
    assert at.button(key="runs.fork").disabled
    assert RunStore().names() == ["trained"]

    at.text_input(key="runs.f.layers").set_value("dense8-gelu")
    at.run()
    no_errors(at)
    assert not at.button(key="runs.fork").disabled
    at.button(key="runs.fork").click().run()
    no_errors(at)
    assert RunStore().open("trained-fork").config.layers == "dense8-gelu"


def test_the_fork_callback_checks_the_budget_too(trained_run, monkeypatch):
    """A click that reaches the callback with an oversized network (the limit lowered after the form was
    drawn) gets the same sentence, and no run is written."""
    at = runs_page()
    at.selectbox(key="runs.pick").set_value("trained").run()
    open_tab(at, "Fork")
    at.text_input(key="runs.f.layers").set_value("dense64-gelu-dense64-gelu").run()
    monkeypatch.setenv("BACKPROP_MAX_PARAMETERS", "1000")
    at.button(key="runs.fork").click().run()
    assert not at.exception
    message = " ".join(shown(e.value) for e in at.error)
    assert "Could not fork" in message and "BACKPROP_MAX_PARAMETERS" in message
    assert RunStore().names() == ["trained"]


def test_a_run_made_elsewhere_for_more_epochs_than_one_train_asks_opens():
    """The command line accepts --epochs 5000; the Epochs box (at most 1000) used to raise on such a run."""
    dataset = datasets.load("circle", samples=120)
    config = RunConfig(dataset="circle", dataset_params={"samples": 120}, layers="dense4-gelu", epochs=5000)
    RunStore().create("long", config, dataset=dataset)
    at = AppTest.from_file(RUNS_PAGE, default_timeout=60)
    at.session_state["runs.pick"] = "long"  # picked before the Epochs box is first drawn
    at.run()
    no_errors(at)
    assert at.number_input(key="runs.epochs").value == 1000


def test_the_compare_settings_say_a_setting_is_off_not_none():
    from types import SimpleNamespace

    from backprop import RunConfig
    from ui.runs import config_table

    runs = {
        "a": SimpleNamespace(config=RunConfig()),
        "b": SimpleNamespace(config=RunConfig(clip_norm=1.0)),
    }
    styled, differing = config_table(runs)
    frame = styled.data
    assert differing == ["clip_norm"]
    assert frame.loc["clip_norm"].tolist() == ["—", "1.0"]
    assert "None" not in frame.to_string()


def test_a_trainer_that_saves_and_ends_after_the_page_read_its_run_is_still_shown(trained_run, monkeypatch):
    """The command line's last save can land after the page read the run and before the page asked
    whether it is still trained: the page must still redraw with that save."""
    import ui.runs

    at = runs_page()
    at.selectbox(key="runs.pick").set_value("trained").run()
    lock = RunLock(trained_run.path, owner="python -m backprop train").acquire()
    data = datasets.load(trained_run.config.dataset, **trained_run.config.dataset_params)
    real_view = ui.runs.view

    def view_then_the_trainer_finishes(name):
        read = real_view(name)
        if lock._fd is not None:  # once: the trainer saves one more epoch and ends
            lock.release()
            train_run(RunStore().open(name), data, epochs=1)
        return read

    monkeypatch.setattr(ui.runs, "view", view_then_the_trainer_finishes)
    at.run()
    no_errors(at)
    captions = [c.value for c in at.caption]
    assert any("Active run **trained**: 3 epochs" in text for text in captions), captions


def test_the_curves_keep_their_place_when_a_training_report_comes_and_goes(trained_run):
    """The browser knows an element by its place: the report of a Train shows once, and the curves
    after it stay where they were, so the browser keeps them rather than building them again."""
    at = runs_page()
    at.selectbox(key="runs.pick").set_value("trained").run()
    where = place_of(at, component("backprop.curve_view"))
    at.number_input(key="runs.epochs").set_value(1)
    at.button(key="runs.train").click().run()
    no_errors(at)
    assert any("Trained 1 epoch" in box.value for box in at.success)
    assert place_of(at, component("backprop.curve_view")) == where
    at.run()
    assert not at.success
    assert place_of(at, component("backprop.curve_view")) == where
