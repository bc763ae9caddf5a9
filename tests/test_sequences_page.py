"""The Sequences page under AppTest: defaults, every input, bad inputs, training and the jump."""

import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import datasets
from tests.map_views import packed_data
from tests.markdown_text import shown as unescaped
from tests.places import keyed, place_of
from ui.sequence_views import HIDDEN_STYLE, OTHER_SETTINGS_KEY

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "sequences.py")
APP = str(ROOT / "streamlit_app.py")


def run_page():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception, at.exception
    return at


def shown(at) -> str:
    """All markdown, HTML, subheaders and captions the page shows, as one text."""
    parts = [m.value for m in at.markdown] + [h.value for h in at.subheader] + [c.value for c in at.caption]
    parts += [h.value for h in at.get("html")]
    return unescaped("\n".join(parts))


def strips(at) -> str:
    return next(h.value for h in at.get("html") if "white-space:nowrap" in h.value)


def test_page_runs_on_defaults_with_strips_samples_and_ceiling():
    at = run_page()

    assert not at.error
    assert ">M1<" in strips(at) and ">M2<" in strips(at)
    assert "Samples (160 train, 40 validation)" in shown(at)
    assert [m.value for m in at.metric] == ["91.0%", "91.2%", "90.0%"]
    assert "cca is followed by d 34× and a 18× → best guess d, 65%" in shown(at)
    assert "Use this dataset" in at.info[0].value  # the session's network is still on another dataset


@pytest.mark.parametrize(
    "key, value, expect",
    [
        ("seq.vocab", "abcde", ">e<"),  # the legend grows
        ("seq.context", 2, "ab is followed by b 14× and c 12×"),  # new ambiguity
        ("seq.samples", 100, "Samples (80 train, 20 validation)"),
        ("seq.masters", "abcdabcd, dcbadcba", ">M2<"),
        ("seq.seed", 1, "Sample **#0**: "),
    ],
)
def test_each_input_changes_what_is_shown(key, value, expect):
    at = run_page()
    before = shown(at)
    widget = at.text_input(key=key) if key in ("seq.vocab", "seq.masters") else at.number_input(key=key)
    widget.set_value(value).run()

    assert not at.exception and not at.error
    assert shown(at) != before
    assert expect in shown(at)


def test_auto_generated_and_random_masters():
    at = run_page()
    at.radio(key="seq.mode").set_value("auto").run()
    assert ">M3<" in strips(at)  # three auto-generated masters by default
    at.radio(key="seq.mode").set_value("none").run()
    assert not at.exception and not at.error
    assert any("every window is random" in box.value for box in at.info)


def test_auto_masters_are_as_long_as_shortest_and_longest_say():
    at = run_page()
    assert at.number_input(key="seq.shortest").disabled and at.number_input(key="seq.longest").disabled
    at.radio(key="seq.mode").set_value("auto").run()
    at.number_input(key="seq.shortest").set_value(4).run()
    at.number_input(key="seq.longest").set_value(7).run()
    at.button(key="seq.use").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.session_state["bp.config"].dataset_params["master_length"] == [4, 7]

    at.number_input(key="seq.shortest").set_value(9).run()
    assert any("Shortest (9) is more than Longest (7)" in unescaped(e.value) for e in at.error)
    assert "last valid settings" in shown(at)


def test_a_networks_masters_as_long_as_the_dataset_allows_are_shown_as_they_are():
    """A link may make a sequence network whose generated masters are up to 200 tokens long (the
    dataset's declared bound): the page shows that range, not a value its boxes refuse."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["dataset"] = "sequences"
    at.query_params["dataset_params"] = json.dumps({"source": "auto", "master_length": [5, 200]})
    at.switch_page("pages/step_through.py").run()
    at.switch_page("pages/sequences.py").run()

    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.radio(key="seq.mode").value == "auto"
    assert (at.number_input(key="seq.shortest").value, at.number_input(key="seq.longest").value) == (5, 200)


@pytest.mark.parametrize(
    "link",
    [
        {"source": "auto", "master_length": [5, 30]},
        {"source": "random", "samples": 120},
        {"context": 4, "val_fraction": 0.3},
        {"master_sequences": "abcabc dcba", "seed": 3},
    ],
)
def test_a_network_made_from_a_link_is_recognised_on_its_settings(link):
    """What a link leaves out is the dataset's declared default, on the page as when the network was
    built; and a held-out share the page has no box for is kept."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["dataset"] = "sequences"
    at.query_params["dataset_params"] = json.dumps(link)
    at.switch_page("pages/step_through.py").run()
    at.switch_page("pages/sequences.py").run()

    assert not at.exception and not at.error, [e.value for e in at.error]
    assert not any("not for these settings" in i.value for i in at.info), [i.value for i in at.info]
    assert "The session's network is built for this dataset." in [c.value for c in at.caption]


def test_the_settings_accept_what_the_dataset_accepts():
    """Each box's range, each text's length and each choice come from the dataset's declaration."""
    at = run_page()
    spec = datasets.spec("sequences")
    for key, name in [
        ("seq.context", "context"),
        ("seq.samples", "samples"),
        ("seq.seed", "seed"),
        ("seq.count", "master_count"),
        ("seq.shortest", "master_length"),
        ("seq.longest", "master_length"),
    ]:
        box = at.number_input(key=key).proto
        assert (box.min, box.max) == (spec.option(name).low, spec.option(name).high), key
    for key, name in [("seq.vocab", "vocab"), ("seq.masters", "master_sequences")]:
        assert at.text_input(key=key).proto.max_chars == spec.option(name).max_length, key
    for key, name in [("seq.task", "task"), ("seq.encoding", "encoding")]:
        assert tuple(at.selectbox(key=key).options) == spec.option(name).choices, key


def test_encoding_and_task_change_the_input_and_targets():
    at = run_page()
    at.selectbox(key="seq.encoding").set_value("embedding").run()
    assert "token ids" in " ".join(element.proto.body for element in at.get("html"))
    at.selectbox(key="seq.task").set_value("classification").run()
    assert not at.exception and not at.error
    assert "→ **M" in shown(at)  # the target is now the master


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("seq.vocab", "", "empty"),
        ("seq.masters", "abcx, abcd", "outside the vocabulary"),
        ("seq.context", 9, "longer than every master sequence"),
    ],
)
def test_invalid_settings_show_the_reason_and_keep_the_last_good_view(key, value, message):
    at = run_page()
    widget = at.number_input(key=key) if key == "seq.context" else at.text_input(key=key)
    widget.set_value(value).run()

    assert not at.exception
    assert any(message in unescaped(e.value) for e in at.error), [e.value for e in at.error]
    assert ">M1<" in strips(at)
    assert "last valid settings" in shown(at)


def test_use_this_dataset_then_train_reaches_the_ceiling():
    at = run_page()
    at.button(key="seq.use").click().run()
    assert any("rebuilt the network" in s.value for s in at.success)
    at.number_input(key="seq.epochs").set_value(30).run()
    at.button(key="seq.train").click().run()

    assert not at.exception and not at.error
    readings = [box.value for box in at.info]
    assert any(r.startswith("At the ceiling") for r in readings), readings
    assert "Generation" in shown(at)


def hides_the_network(at) -> bool:
    """The notice whose key hides the network's sections is on the page (the rule is on every run)."""
    assert any(HIDDEN_STYLE in h.value for h in at.get("html"))
    try:
        place_of(at, keyed(OTHER_SETTINGS_KEY))
    except AssertionError:
        return False
    return True


def test_other_settings_keep_the_network_sections_drawn_on_its_own_data_but_hidden():
    at = run_page()
    assert not hides_the_network(at) and "Generation" not in shown(at)  # a circle network: nothing drawn
    at.button(key="seq.use").click().run()
    assert not hides_the_network(at) and "Generation" in shown(at)
    at.number_input(key="seq.samples").set_value(50).run()  # 40 training samples now, 160 before

    assert not at.exception and not at.error
    assert "Use this dataset" in at.info[0].value and hides_the_network(at)
    # drawn on the network's own data: its sample #0 of 160, whatever the data above shows
    assert "Samples (40 train, 10 validation)" in shown(at) and "Generation" in shown(at)
    at.number_input(key="seq.sample").set_value(39).run()
    assert not at.exception and hides_the_network(at)
    at.number_input(key="seq.samples").set_value(200).run()
    assert not hides_the_network(at) and "Sample #39:" in shown(at)
    # more samples than the network's data: its hidden sample view stays on its last sample
    at.number_input(key="seq.samples").set_value(1000).run()
    at.number_input(key="seq.sample").set_value(500).run()
    assert not at.exception and hides_the_network(at) and "Sample #159:" in shown(at)


def test_embedding_encoding_shows_the_learned_table():
    at = run_page()
    at.selectbox(key="seq.encoding").set_value("embedding").run()
    at.button(key="seq.use").click().run()

    assert not at.exception and not at.error
    specs = " ".join(chart.proto.spec for chart in at.get("plotly_chart"))
    assert "Embedding table" in specs and "principal directions" in specs


def test_open_in_step_through_carries_the_sample():
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/sequences.py").run()
    at.number_input(key="seq.sample").set_value(7).run()
    at.button(key="seq.jump").click().run()

    assert not at.exception, at.exception
    state = at.session_state
    # The step-through page (when present) takes the handed index into its own sample box.
    handed = state["step.sample_index"] if "step.sample_index" in state else state["step.index"]
    assert handed == 7
    config = state["bp.config"]
    assert config.dataset == "sequences"  # applied before the jump
    # the page's defaults are the dataset's own: nothing is stored
    assert config.dataset_params == {}


@pytest.mark.parametrize("key, value", [("seq.seed", 1), ("seq.mode", "auto")])
def test_step_through_keeps_a_non_default_seed_and_a_length_range(key, value):
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/sequences.py").run()
    widget = at.number_input(key=key) if key == "seq.seed" else at.radio(key=key)
    widget.set_value(value).run()
    at.button(key="seq.use").click().run()
    applied = dict(at.session_state["bp.config"].dataset_params)
    at.button(key="seq.jump").click().run()

    assert not at.exception and not at.error, [e.value for e in at.error]
    # The step-through sidebar must describe the same data, or the index would point elsewhere.
    assert at.session_state["bp.config"].dataset_params == applied


def test_typed_masters_survive_a_switch_to_auto_and_back():
    at = run_page()
    at.text_input(key="seq.masters").set_value("abcdabcd, dcbadcba").run()
    at.radio(key="seq.mode").set_value("auto").run()
    assert ">M3<" in strips(at)
    at.radio(key="seq.mode").set_value("type").run()

    assert not at.exception and not at.error
    assert at.text_input(key="seq.masters").value == "abcdabcd, dcbadcba"
    at.button(key="seq.use").click().run()
    assert not at.error, [e.value for e in at.error]
    assert at.session_state["bp.config"].dataset_params["master_sequences"] == "abcdabcd, dcbadcba"


def test_no_typed_masters_says_what_to_type_in_the_page_words():
    at = run_page()
    at.text_input(key="seq.masters").set_value(" , ").run()

    assert not at.exception
    errors = [unescaped(e.value) for e in at.error]
    assert len(errors) == 1 and "Type at least one master sequence" in errors[0], errors
    assert "source" not in errors[0] and "explicit" not in errors[0]
    assert at.button(key="seq.use").disabled  # nothing to use until it is fixed


def test_the_attention_network_trains_on_the_data_and_shows_where_each_position_looks():
    at = run_page()
    at.radio(key="seq.model").set_value("attention").run()
    at.button(key="seq.use").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    config = at.session_state["bp.config"]
    assert "attn" in config.layers and config.dataset_params["encoding"] == "embedding"

    at.number_input(key="seq.epochs").set_value(2).run()
    at.button(key="seq.train").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.session_state["bp.model"].trainer.epoch == 2
    specs = " ".join(chart.proto.spec for chart in at.get("plotly_chart"))
    assert "where each position looks" in specs
    (curves,) = packed_data(at, "backprop.curve_view")
    (accuracy,) = curves["panels"]
    assert accuracy["ceilings"][0]["label"].startswith("Bayes ceiling (train)")
    assert (
        accuracy["series"][0]["y"].dtype == np.float64 and len(accuracy["series"][0]["y"]) == 2
    )  # two epochs


def test_user_text_in_the_vocabulary_is_shown_as_text_not_markup():
    at = run_page()
    at.text_input(key="seq.vocab").set_value("*_<b>").run()
    at.text_input(key="seq.masters").set_value("*_<b>*_, <b>*_<").run()

    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "&lt;" in strips(at)  # the tokens are escaped inside the strips' own HTML
    # the encoded input's table and the other blocks of HTML (the page's hiding rule aside)
    tables = [
        element.proto.body for element in at.get("html") if not element.proto.body.startswith("<style>")
    ]
    assert tables and all("&lt;" in body and "&gt;" in body and "<b>" not in body for body in tables)
    for element in list(at.markdown) + list(at.error) + list(at.caption):
        assert "<b>" not in element.value or "white-space:nowrap" in element.value, element.value


def test_training_mlp_and_attention_as_two_runs_opens_them_for_compare():
    at = run_page()
    at.button(key="seq.use").click().run()
    at.number_input(key="seq.epochs").set_value(2).run()
    at.button(key="seq.both").click().run()

    assert not at.exception and not at.error, [e.value for e in at.error]
    from backprop.runs import RunStore

    names = RunStore().names()
    assert names == ["sequences-attention", "sequences-mlp"]
    assert sorted(at.session_state["compare.runs"]) == names
    for name in names:
        assert len(RunStore().open(name).history) == 2
    assert any("Compare page" in unescaped(box.value) for box in at.success)


def test_a_one_shot_message_leaves_the_network_sections_in_their_place():
    """The browser knows a block by its place: "Use this dataset" reports once, and the sections after
    the report stay where they were, so the browser keeps them rather than building them again."""
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.button(key="seq.use").click().run()
    assert at.success  # the one-shot report
    where = place_of(at, keyed("seq_network"))
    at.run()
    assert not at.success
    assert place_of(at, keyed("seq_network")) == where


def sample_prediction(at) -> str:
    """The HTML of the network's prediction for the chosen sample (its table of network and data bars)."""
    return next(h.value for h in at.get("html") if "data (this context)" in h.value)


def test_the_samples_prediction_shows_the_network_as_training_left_it():
    """The prediction for the chosen sample comes with the data half, above the Train button: after
    training, it reads the trained network, not the one before."""
    from backprop.generate import context_distribution
    from ui.session import MODEL_KEY
    from viz.sequences import sample_prediction_html

    at = run_page()
    at.button(key="seq.use").click().run()
    before = sample_prediction(at)
    at.number_input(key="seq.epochs").set_value(30).run()
    at.button(key="seq.train").click().run()

    assert not at.exception and not at.error
    model = at.session_state[MODEL_KEY]
    ds = model.dataset
    share = context_distribution(ds.windows_train, ds.y_train, len(ds.classes), ds.windows_train[0])
    trained = sample_prediction_html(
        model.net.predict_proba(ds.x_train[:1])[0], share, ds.classes, int(ds.y_train[0])
    )
    assert sample_prediction(at) == trained != before


def test_a_diverged_training_says_so_by_the_train_button_and_shows_the_weights_it_kept(monkeypatch):
    import ui.sequences
    from backprop import TrainingDiverged
    from ui.session import MODEL_KEY

    real = ui.sequences.train_active

    def diverging(model, **kwargs):  # one epoch trains, then the loss is not finite
        real(model, **{**kwargs, "epochs": 1})
        raise TrainingDiverged("the loss is not finite at step 6; the weights of step 5 are kept")

    monkeypatch.setattr(ui.sequences, "train_active", diverging)
    at = run_page()
    at.button(key="seq.use").click().run()
    before = sample_prediction(at)
    at.button(key="seq.train").click().run()

    assert not at.exception
    assert [unescaped(e.value) for e in at.error] == [
        "the loss is not finite at step 6; the weights of step 5 are kept"
    ]
    assert place_of(at, lambda node: node is at.error[0]) > place_of(at, keyed("seq_network"))
    model = at.session_state[MODEL_KEY]
    assert model.trainer.epoch == 1
    assert sample_prediction(at) != before  # drawn from the weights the epoch left


def test_a_link_whose_data_cannot_be_built_shows_one_error_and_stops():
    """Nothing valid to show: the error says what to change, and the network's half is not drawn."""
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["dataset"] = '"sequences"'
    at.query_params["dataset_params"] = json.dumps({"vocab": "<b>x</b>"})
    at.run()

    assert not at.exception
    assert [unescaped(e.value) for e in at.error] == [
        "vocabulary '<b>x</b>' has duplicate token(s) <, >, b; list each token once"
    ]
    assert "What the network learned" not in [h.value for h in at.header]
