"""The step-through page under AppTest: every control, the update arithmetic, and bad setups."""

import dataclasses
import io
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import datasets
from backprop.breakdown import (
    attention_weight_breakdown,
    embedding_breakdown,
    feature_map_breakdown,
    kernel_breakdown,
    query_gradient_breakdown,
    weight_breakdown,
)
from tests.markdown_text import shown
from tests.places import component, keyed, place_of
from ui.data import CACHE, params_key
from viz.step_payload import read_payload
from viz.step_text import sig

PAGE = "../pages/step_through.py"


def open_page(**query) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def model(at):
    return at.session_state["bp.model"]


def state(at):
    return model(at).extra["step"]


def click(at, key):
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def use_sgd(at, learning_rate=0.1):
    at.selectbox(key="sb.optimizer").set_value("sgd").run()
    at.number_input(key="sb.learning_rate").set_value(learning_rate).run()
    at.number_input(key="sb.weight_decay").set_value(0.0).run()
    assert model(at).trainer.optimizer.name == "sgd"
    return at


def weights(at):
    """Every weight array of the session's network, in layer order."""
    return [layer.W.copy() for layer in model(at).net.layers if "W" in layer.params]


def payload(at):
    """(header, data) of the step the player was given in the last run."""
    (player,) = at.get("bidi_component")
    assert player.proto.component_name == "backprop.step_player"
    return read_payload(player.proto.bytes)


def open_view(at, name):
    at.session_state["step.view"] = name
    at.run()
    assert not at.exception, at.exception
    return at


def explain(at, kind, phase=None, **indices):
    """Point the cell inspector at a cell by typing, as a person can instead of clicking."""
    at.selectbox(key="step.ins.kind").set_value(kind).run()
    for name, value in indices.items():
        widget = (
            at.selectbox(key="step.ins.layer") if name == "layer" else at.number_input(key=f"step.ins.{name}")
        )
        widget.set_value(value).run()
    if phase is not None:
        at.selectbox(key="step.ins.phase").set_value(phase).run()
    assert not at.exception, at.exception
    return at


def test_page_opens_ready_with_every_control_and_the_player():
    at = open_page()
    labels = [b.label for b in at.button]
    for label in ("Full step", "Run 20 steps", "Run one epoch", "Reset to initial weights"):
        assert label in labels
    assert not at.error
    header, _ = payload(at)
    assert header["start"] == 0 and header["phases"][0]["label"] == "Ready"
    assert state(at).trace is not None and not state(at).trace.updated


def test_a_rerun_writes_none_of_the_inspectors_controls():
    """A control written through the session state is set again by the browser on every run that writes
    it: the inspector's controls are written only when their value changes."""
    at = open_page()
    at.run()
    inspector = [w for w in [*at.selectbox, *at.number_input] if (w.key or "").startswith("step.ins.")]
    assert {w.key for w in inspector} >= {"step.ins.layer", "step.ins.kind", "step.ins.phase"}
    assert not [w.key for w in inspector if w.proto.set_value]


def test_one_step_goes_to_the_browser_once_with_every_phase():
    at = open_page()
    at.radio(key="step.mode").set_value("Train").run()
    header, _ = payload(at)
    n_layers = len(model(at).net.blocks())
    expected = (
        ["Ready"]
        + [f"Forward {k}" for k in range(1, n_layers + 1)]
        + ["Loss"]
        + [f"Backward {k}" for k in range(n_layers, 0, -1)]
        + ["Update"]
    )
    assert [p["label"] for p in header["phases"]] == expected
    assert header["phases"][1]["equations"][0] == "z¹ = x·W¹ + b¹"
    # switching to Train applied this step's update, which joined its phases; the step is the same
    assert state(at).trace.updated and model(at).steps_done == 1
    at.run()  # a rerun sends the very same bytes, which the browser already holds
    assert payload(at)[0] == header


def test_full_step_brings_a_new_batch_shown_at_its_end():
    at = open_page()
    first = payload(at)[0]
    click(at, "step.full")
    header, _ = payload(at)
    assert header["step"] == first["step"] + 1
    assert header["start"] == len(header["phases"]) - 1
    assert state(at).draws == 2


def test_visualize_only_never_changes_the_weights():
    at = open_page()
    before = weights(at)
    for _ in range(3):
        click(at, "step.full")
    for old, new in zip(before, weights(at)):
        np.testing.assert_array_equal(old, new)
    assert not state(at).trace.updated
    assert payload(at)[0]["phases"][-1]["label"] == "Backward 1"


def test_train_with_plain_sgd_moves_weights_by_minus_eta_times_dw():
    at = use_sgd(open_page(), learning_rate=0.1)
    at.radio(key="step.mode").set_value("Train").run()
    before = weights(at)
    click(at, "step.full")
    trace = state(at).trace
    assert trace.updated and trace.optimizer == "sgd"
    for old, new, rec in zip(before, weights(at), trace.blocks):
        np.testing.assert_array_equal(rec.W, old)  # the trace keeps the weights it used
        np.testing.assert_array_equal(new, old + rec.delta_W)  # exactly the recorded change
        # which is −η·dW, the same float32 product
        np.testing.assert_array_equal(rec.delta_W, -0.1 * rec.dW)
    assert state(at).loss_after is not None
    assert payload(at)[0]["loss_after"] == pytest.approx(state(at).loss_after)


def test_inspector_numbers_are_the_trace_numbers_with_significant_digits():
    at = open_page()
    click(at, "step.full")
    last = len(payload(at)[0]["phases"]) - 1
    explain(at, "weight", phase=last, layer=0, i=1, j=3)
    rec = state(at).trace.blocks[0]
    breakdown = weight_breakdown(rec, 1, 3)
    text = next(m.value for m in at.markdown if m.value.startswith("dW¹[1,3] = Σₙ"))
    assert f"= **{sig(breakdown.total)}** (trace: {sig(float(rec.dW[1, 3]))})" in text
    assert breakdown.total == pytest.approx(float(rec.dW[1, 3]), rel=1e-5, abs=1e-8)
    explain(at, "unit", n=0, j=3)
    unit = next(m.value for m in at.markdown if m.value.startswith("**dz¹[0,3]**"))
    assert f"**{sig(float(rec.dz[0, 3]))}**" in unit
    forward = next(m.value for m in at.markdown if m.value.startswith("**z¹[0,3]**"))
    assert f"**{sig(float(rec.z[0, 3]))}**" in forward


def test_inspector_shows_no_gradient_before_the_backward_pass_reaches_it():
    at = open_page()  # the player starts at Ready, and so does the inspector
    assert at.selectbox(key="step.ins.phase").value == 0
    assert not any(m.value.startswith("dW") for m in at.markdown)
    assert any("is computed at **Backward" in i.value and "**Ready**" in i.value for i in at.info)
    explain(at, "unit", phase=1, layer=0, n=2, j=1)  # Forward 1: z and a are known, dz not yet
    assert any(m.value.startswith("**z¹[2,1]**") for m in at.markdown)
    assert not any(m.value.startswith("**dz") for m in at.markdown)


def test_gradient_check_button_agrees_with_backprop():
    at = open_page()
    click(at, "step.full")
    click(at, "step.full")  # a second step: its masks are not a fresh copy's first draw
    click(at, "step.gradcheck")
    result = state(at).gradcheck
    assert result is not None and result.max_rel_error < 1e-4
    assert result.indices[0] == (0, 0)
    assert any("agree" in c.value for c in at.caption)


def test_only_the_open_view_is_computed_and_diagnostics_print_no_none():
    at = open_page()
    click(at, "step.full")
    assert not at.get("plotly_chart")  # the task view is closed
    open_view(at, "Network & task")
    assert len(at.get("plotly_chart")) == 1
    open_view(at, "Diagnostics")
    assert not at.get("plotly_chart")
    table = at.dataframe[0].value
    assert "None" not in table.to_string() and "—" in table["‖ΔW‖/‖W‖"].tolist()


def test_run_n_steps_and_one_epoch_train_and_report():
    at = open_page()
    at.number_input(key="step.n").set_value(5).run()
    click(at, "step.run_n")
    assert model(at).steps_done == 5
    assert any("Trained 5 steps" in shown(s.value) for s in at.success)
    click(at, "step.run_epoch")
    assert model(at).trainer.epoch == 1
    assert not at.error


def test_reset_restores_the_initial_weights():
    at = open_page()
    at.radio(key="step.mode").set_value("Train").run()
    click(at, "step.full")
    click(at, "step.reset")
    for name, value in model(at).initial_weights.items():
        np.testing.assert_array_equal(model(at).net.get_weights()[name], value)
    assert model(at).steps_done == 0
    assert any("reset" in shown(s.value) for s in at.success)


def test_a_sample_chosen_on_another_page_opens_here():
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["step.sample_index"] = 7
    at.run()
    assert at.radio(key="step.input").value == "Chosen sample"
    assert at.number_input(key="step.index").value == 7
    click(at, "step.full")
    assert list(state(at).rows) == [7]
    assert any(m.value.startswith("Training sample 7:") for m in at.markdown)


def test_export_holds_every_tensor_and_the_setup():
    at = open_page()
    click(at, "step.full")
    open_view(at, "Share & export")
    click(at, "step.export")
    _, data = at.session_state["step.export_bytes"]
    archive = np.load(io.BytesIO(data), allow_pickle=False)
    assert "dense1.dW" in archive.files and "dense1.x" in archive.files and "x" in archive.files
    assert json.loads(str(archive["config.json"]))["layers"] == "dense8-gelu-dense8-gelu"


def test_link_opens_its_network_and_a_bad_value_falls_back_with_a_notice():
    at = open_page(layers='"dense4-relu"')
    assert model(at).net.spec == "dense4-relu-dense2"
    open_view(at, "Share & export")
    assert any("layers=%22dense4-relu%22" in c.value or 'layers="dense4-relu"' in c.value for c in at.code)
    at = open_page(layers='"dense4-swish"')
    assert any("layers='dense4-swish' is not valid" in shown(w.value) for w in at.warning)
    assert model(at).net.spec == "dense8-gelu-dense8-gelu-dense2"
    at = open_page(hidden="[4]", activation='"relu"')  # a link from before the layers were text
    assert model(at).net.spec == "dense4-relu-dense2"


def test_divergence_is_explained_and_the_page_keeps_working():
    at = open_page(dataset='"plane"', loss='"mse"')  # a regression blows up quickly at the top rate
    at.number_input(key="sb.learning_rate").set_value(10.0).run()
    at.selectbox(key="sb.optimizer").set_value("sgd").run()
    at.number_input(key="step.n").set_value(30).run()
    click(at, "step.run_n")
    click(at, "step.run_n")
    messages = [shown(e.value) for e in at.error] + [shown(w.value) for w in at.warning]
    assert messages, "a learning rate of 10 should produce a warning or an error"
    assert any("learning rate" in m.lower() for m in messages)
    click(at, "step.full")
    click(at, "step.reset")
    assert not at.error


def test_nan_in_the_data_is_reported_not_raised():
    at = open_page()
    m = model(at)
    x = m.dataset.x_train.copy()
    x[:, 0] = np.nan
    # sessions read their data from the server's dataset cache: put the bad data there, for this test only
    key = params_key(datasets.spec(m.config.dataset).canonical_params(m.config.dataset_params))
    CACHE.put(m.config.dataset, key, dataclasses.replace(m.dataset, x_train=x))
    try:
        click(at, "step.full")  # finishes the step computed before the data went bad
        click(at, "step.full")  # a new step reads the bad rows
        assert any(
            "non-finite values" in shown(e.value) and "Choose another dataset" in shown(e.value)
            for e in at.error
        )
        click(at, "step.full")
    finally:
        CACHE.clear()


@pytest.mark.parametrize("widget,value", [("sb.layers", "dense1-gelu"), ("sb.batch_size", 1)])
def test_one_unit_layer_and_one_sample_batch_step_cleanly(widget, value):
    at = open_page()
    if widget == "sb.layers":
        at.text_input(key=widget).set_value(value).run()
    else:
        at.number_input(key=widget).set_value(value).run()
    at.radio(key="step.mode").set_value("Train").run()
    click(at, "step.full")
    click(at, "step.full")
    assert not at.error
    assert state(at).trace.x.shape[0] == (1 if widget == "sb.batch_size" else 32)


def test_the_sidebars_closed_sections_are_drawn_only_once_opened():
    at = open_page(dataset='"circle"', dataset_params='{"samples": 120, "noise": 0.2}')
    keys = {w.key for w in at.sidebar.number_input}
    assert "sb.ds.circle.samples" not in keys  # closed: no hidden controls
    assert model(at).config.dataset_params == {"samples": 120, "noise": 0.2}  # the link's data all the same
    assert not [c for c in at.sidebar.caption if "a batch of" in c.value]  # nor the layers' summary
    at.session_state["sidebar.params_open.circle"] = True
    at.session_state["sidebar.summary_open"] = True
    at.run()
    assert not at.exception
    assert at.number_input(key="sb.ds.circle.samples").value == 120
    assert at.number_input(key="sb.ds.circle.noise").value == 0.2
    assert [
        c for c in at.sidebar.caption if "a batch of" in c.value
    ]  # "… parameters · a batch of 32 keeps …"
    at.number_input(key="sb.ds.circle.samples").set_value(200).run()
    assert model(at).config.dataset_params == {"samples": 200, "noise": 0.2}


@pytest.mark.parametrize("dataset", ["sequences", "digits", "sine"])
def test_other_kinds_of_data_step_and_show_their_task_view(dataset):
    at = open_page()
    at.selectbox(key="sb.dataset").set_value(dataset).run()
    assert not at.exception
    click(at, "step.full")
    assert not at.error
    open_view(at, "Network & task")
    if dataset == "sequences":
        assert len(at.dataframe) >= 1
    else:
        assert len(at.get("plotly_chart")) == 1


def test_inspector_and_sample_choices_survive_a_smaller_network_and_batch():
    at = open_page()
    click(at, "step.full")
    explain(at, "weight", layer=1, i=7)
    explain(at, "unit", n=31)
    at.radio(key="step.input").set_value("Chosen sample").run()
    at.number_input(key="step.index").set_value(240).run()
    at.text_input(key="sb.layers").set_value("dense2-gelu").run()
    at.number_input(key="sb.batch_size").set_value(1).run()
    at.selectbox(key="sb.dataset").set_value("sine").run()
    assert not at.exception, at.exception
    click(at, "step.full")
    assert not at.error


def test_batch_norm_and_dropout_steps_show_their_stages_and_check_cleanly():
    at = open_page()
    at.text_input(key="sb.layers").set_value("dense8-bn-gelu-dropout0.2-dense8-bn-gelu-dropout0.2").run()
    at.radio(key="step.mode").set_value("Train").run()
    equations = payload(at)[0]["phases"][1]["equations"]
    assert equations[0] == "h¹ = x·W¹ + b¹" and any("dropout" in line for line in equations)
    click(at, "step.full")
    click(at, "step.full")  # a second step: its masks are not a fresh copy's first draw
    click(at, "step.gradcheck")
    result = state(at).gradcheck
    assert result.max_rel_error < 1e-4
    # the check replays this step's dropout masks: its backprop column is the trace's dW
    rec = state(at).trace.record(result.layer)  # result.layer is the checked layer's name
    np.testing.assert_allclose(
        result.backprop, [float(rec.grads["W"][i]) for i in result.indices], rtol=1e-4, atol=1e-7
    )
    assert any("The step's own dropout masks are replayed" in c.value for c in at.caption)
    assert not at.error


CONV = {"dataset": '"digits"', "layers": '"conv8k3-relu-maxpool2-flatten"'}
TRANSFORMER = {
    "dataset": '"sequences"',
    "dataset_params": '{"encoding": "embedding"}',
    "layers": '"embed16-pos-res-ln-attn2-add-last"',
}


def click_cell(at, block, tensor, index, sample=None):
    """What the player sends when a cell is clicked: its block, tensor, indices, at the last phase."""
    step = state(at)
    request = {
        "step": step.step_id,
        "phase": len(step.view.phases) - 1,
        "block": block,
        "tensor": tensor,
        "row": index[-2],
        "col": index[-1],
        "index": list(index),
        "sample": sample,
    }
    at.session_state["step.request"] = ("inspect", request)
    at.run()
    assert not at.exception, at.exception
    return at


def test_a_clicked_kernel_weight_shows_its_gradient_as_a_sum_over_positions_and_samples():
    at = open_page(**CONV)
    click(at, "step.full")
    click_cell(at, 0, "dW", (5, 0, 2, 1))
    assert at.selectbox(key="step.ins.kind").value == "kernel"
    kb = kernel_breakdown(state(at).trace, 0, 5, 0, 2, 1)
    line = next(m.value for m in at.markdown if m.value.startswith("dK¹[5,0,2,1] = Σ over samples"))
    assert f"over {32 * 6 * 6} terms = **{sig(kb.total)}** (trace: {sig(kb.dK)})" in line
    assert kb.total == pytest.approx(kb.dK, rel=1e-5, abs=1e-8)
    table = next(m.value for m in at.markdown if m.value.startswith("| sample n |"))
    assert table.splitlines()[0] == "| sample n | y | x | input (cols) | dY[n,5,y,x] | product |"
    assert len(table.splitlines()) == 2 + 6  # header, alignment, the six largest terms
    click(at, "step.gradcheck")
    result = state(at).gradcheck
    assert result.layer == "conv1" and result.indices[0] == (5, 0, 2, 1) and result.max_rel_error < 1e-4


def test_a_clicked_pooled_value_explains_the_unit_that_was_its_windows_max():
    at = open_page(**CONV)
    click(at, "step.full")
    click_cell(at, 0, "d_pooled", (0, 3, 1, 2), sample=0)
    selection = at.session_state["step.selection"]
    assert selection["kind"] == "map_unit" and (selection["n"], selection["o"]) == (0, 3)
    trace = state(at).trace
    f = feature_map_breakdown(trace, 0, 3, selection["y"], selection["x"], sample=0)
    assert f.window == (1, 2) and f.share > 0
    text = "\n".join(m.value for m in at.markdown)
    assert f"**dz¹[0,3,{selection['y']},{selection['x']}]** = da · f′(z)" in text
    assert f"(trace: {sig(f.dz_trace)})" in text


def test_a_clicked_column_of_the_im2col_form_explains_the_output_unit_at_that_position():
    at = open_page(**CONV)
    click(at, "step.full")
    sample = state(at).view.blocks[0].tensor("cols").sample
    click_cell(at, 0, "dY", (5, 2 * 6 + 4), sample=sample)  # dY[n] is (C_out, Ho·Wo): 8 × 6·6
    selection = at.session_state["step.selection"]
    assert selection["kind"] == "map_unit"
    assert (selection["n"], selection["o"], selection["y"], selection["x"]) == (sample, 5, 2, 4)
    click_cell(at, 0, "cols", (4, 3 * 6 + 1), sample=sample)  # cols[n] is (C·k·k, Ho·Wo): 9 × 6·6
    selection = at.session_state["step.selection"]
    assert (selection["n"], selection["y"], selection["x"]) == (sample, 3, 1)
    f = feature_map_breakdown(state(at).trace, 0, selection["o"], 3, 1, sample=sample)
    assert f.total == pytest.approx(f.affine, rel=1e-5, abs=1e-6)
    text = "\n".join(m.value for m in at.markdown)
    assert f"(the patch is column (y=3, x=1) of cols[{sample}])" in text


def test_a_transformer_step_walks_attention_and_explains_a_weights_softmax_jacobian():
    at = open_page(**TRANSFORMER)
    header, _ = payload(at)
    assert "Forward 2 · softmax" in [p["label"] for p in header["phases"]]
    assert [b["kind"] for b in header["blocks"]] == ["embed", "attn", "dense"]
    click(at, "step.full")
    click_cell(at, 1, "weights", (0, 1, 2, 0), sample=0)
    assert at.selectbox(key="step.ins.kind").value == "attention"
    a = attention_weight_breakdown(state(at).trace, 1, 1, 2, 0, sample=0)
    line = next(m.value for m in at.markdown if m.value.startswith("**dscore[2,0]**"))
    assert f"= **{sig(a.d_score)}** (trace: {sig(a.d_score_trace)})" in line
    assert a.d_score == pytest.approx(a.d_score_trace, rel=1e-4, abs=1e-9)
    click_cell(at, 1, "dq", (2, 9), sample=0)
    q = query_gradient_breakdown(state(at).trace, 1, 2, 9, sample=0)
    line = next(m.value for m in at.markdown if m.value.startswith("**dQ²[2,9]**"))
    assert f"**{sig(q.total)}** (trace: {sig(q.dq)})" in line


def test_a_clicked_embedding_row_sums_the_positions_of_its_token():
    at = open_page(**TRANSFORMER)
    click(at, "step.full")
    click_cell(at, 0, "dtable", (1, 4))
    e = embedding_breakdown(state(at).trace, 0, 1, 4)
    line = next(m.value for m in at.markdown if m.value.startswith("dtable¹[1,4] = Σ"))
    assert f"holding “b” = **{sig(e.total)}** (trace: {sig(e.dtable)})" in line


def test_the_player_keeps_its_place_when_a_training_report_comes_and_goes():
    """The browser knows an element by its place: after Run 20 steps (a Stop button and a progress bar
    while it trains, then a report), the player stays where it was, so the browser keeps it."""
    at = open_page()
    where = place_of(at, component("backprop.step_player"))
    click(at, "step.run_n")
    assert at.success  # "Trained 20 steps …"
    assert place_of(at, component("backprop.step_player")) == where
    click(at, "step.full")
    assert not at.success
    assert place_of(at, component("backprop.step_player")) == where


def test_the_sidebars_controls_keep_their_places_when_other_settings_bring_controls_of_their_own():
    """Pictures bring a random-shift control and each optimizer its own options: the controls after them
    stay where they were, so the browser keeps them rather than building them again."""
    at = open_page()
    seed, rate = (place_of(at, keyed(key), at.sidebar) for key in ("sb.seed", "sb.learning_rate"))
    at.selectbox(key="sb.dataset").set_value("digits").run()
    assert at.number_input(key="sb.augment_shift")  # pictures: the shift control is there
    at.selectbox(key="sb.optimizer").set_value("sgd").run()
    assert not at.exception
    assert place_of(at, keyed("sb.seed"), at.sidebar) == seed
    assert place_of(at, keyed("sb.learning_rate"), at.sidebar) == rate


def test_a_new_kind_of_data_brings_its_natural_loss_once_and_the_users_choice_stays():
    at = open_page()
    assert at.selectbox(key="sb.loss").value == "cross_entropy"
    at.selectbox(key="sb.dataset").set_value("plane").run()
    assert at.selectbox(key="sb.loss").value == "mse"
    at.selectbox(key="sb.loss").set_value("cross_entropy").run()  # the user's choice, odd as it is
    at.run()
    assert at.selectbox(key="sb.loss").value == "cross_entropy"
    at.selectbox(key="sb.dataset").set_value("circle").run()
    at.selectbox(key="sb.dataset").set_value("sine").run()
    assert at.selectbox(key="sb.loss").value == "mse"
