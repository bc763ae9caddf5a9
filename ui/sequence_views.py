"""The Sequences page's sections, each drawn by one function, in the order the page shows them.

The data half (``data_half``, a fragment) needs only the page's settings: a change of them, or of the
sample, reruns it alone. It ends with the network's status and its prediction for the chosen sample,
and hides the network's sections when the settings are not those of its data. The network half
(``network_sections`` and the views in it) reads the session's network, on the data it was trained on,
and runs with the whole page: training, and everything training changes. Widget state and training
live in ``ui.sequences``.
"""

from __future__ import annotations

from contextlib import contextmanager

import streamlit as st

from backprop.generate import (
    ceiling_reading,
    context_distribution,
    expected_continuation,
    explain_ambiguous,
    generate,
    principal_components,
)
from viz import sequences as viz

from . import sequences as ui
from .curve_view import curve_view
from .map_view import map_view
from .places import message_place
from .session import ActiveModel, active_model
from .text import plain


def data_view(params: dict, ds) -> int:
    """Master strips, one sample and its encoding, the targets and the Bayes ceiling; returns the sample."""
    strips = st.container()  # above the samples, but drawn once the sample is known
    st.subheader(f"Samples ({ds.n_train} train, {ds.n_val} validation)")
    left, right = st.columns([3, 2])
    with left:
        index = ui.sample_picker(ds)
    with right:
        _sample_card(params, ds, index)
    with strips:
        _master_strips(ds, index)
    left, right = st.columns(2)
    with left:
        st.html(viz.target_distribution_html(ds.target_distribution, ds.vocab))
    with right:
        _bayes_ceiling(ds)
    return index


def _sample_card(params: dict, ds, index: int) -> None:
    st.markdown(
        f"Sample **#{index}**: {plain(ds.windows_train[index])} → "
        f"**{plain(ds.classes[ds.y_train[index]])}** · {ui.sample_origin(ds, index)}"
    )
    st.html(viz.encoded_input_html(ds.x_train[index], ds.vocab, ds.context, ds.encoding))
    if st.button(
        "Open this sample in step-through",
        key="seq.jump",
        help="Makes this dataset the network's (if it is not yet) and traces backprop on this sample",
    ):
        ui.open_in_step_through(params, ds, index)


def _master_strips(ds, index: int) -> None:
    st.subheader("Master sequences")
    if ds.master_sequences:
        st.html(viz.master_strips_html(ds.master_sequences, ds.vocab, ui.selected_window(ds, index)))
        st.caption("Red outline: the selected sample's context; dashed blue: the token it predicts.")
    else:
        st.info(
            "No master sequences: every window is random, so there is nothing to learn "
            "beyond the target frequencies. This is the baseline to compare against."
        )


def _bayes_ceiling(ds) -> None:
    st.subheader("Bayes-optimal accuracy")
    c1, c2, c3 = st.columns(3)
    c1.metric("all samples", ui.percent(ds.bayes_accuracy))
    c2.metric("train", ui.percent(ds.bayes_accuracy_train))
    c3.metric("validation", ui.percent(ds.bayes_accuracy_val))
    if ds.ambiguous_contexts:
        st.markdown(
            "The best any model can do: these contexts are followed by more than one target, "
            "so the most frequent one is the best guess:"
        )
        st.markdown("\n".join(f"- {plain(line)}" for line in explain_ambiguous(ds.ambiguous_contexts)))
    else:
        st.markdown(
            "No context is ambiguous: each is always followed by the same target, so a network can reach 100%."
        )


NETWORK_KEY = "seq_network"  # the container of the network's sections (CSS class st-key-seq_network)
SAMPLE_KEY = "seq_sample"  # the container of its prediction for the chosen sample, in the data half
OTHER_SETTINGS_KEY = "seq_other_settings"  # the notice that the settings are not the network's data
# While that notice is on the page, the network's sections are hidden with their rendering kept: under
# `content-visibility: hidden` the browser skips their style, layout and paint and keeps what it last
# laid out, so the charts, components and number boxes inside keep their sizes, and showing them again
# draws none anew. Nothing inside shows through, takes focus or is read out. Streamlit's own rules let
# a container grow to its content: no height is forced. The rule is on the page on every run and the
# notice decides, so a rerun of the data half alone shows or hides sections it does not draw.
HIDDEN_STYLE = (
    ", ".join(f"body:has(.st-key-{OTHER_SETTINGS_KEY}) .st-key-{key}" for key in (SAMPLE_KEY, NETWORK_KEY))
    + " { flex: none !important; height: 0 !important; overflow: hidden !important; content-visibility: hidden; }"
)


def hiding_rule() -> None:
    """The rule that hides the network's sections while the data half says the settings differ."""
    st.html(f"<style>{HIDDEN_STYLE}</style>")


@st.fragment
def data_half() -> dict:
    """Explore the data, the network to use, and the network's status on these settings; returns the
    dataset parameters (on the page's full runs: a rerun of this fragment alone returns nothing).

    When the network is not a sequence network of the chosen kind, says so (the page then stops after
    this). When it is one, trained on other settings, says so and hides its sections, which the page
    draws on the network's own data, so that going back to its settings shows them at once instead of
    building them again.
    """
    st.header("Explore the data")
    params = ui.dataset_controls()
    ds, valid = ui.load_sequences(params)
    if ds is None:  # no valid settings yet: the error above says what to change, and the page ends
        st.stop()
    index = data_view(params, ds)
    ui.use_dataset_controls(params, ds, valid)
    st.header("What the network learned")
    status = message_place()  # on every run: what follows keeps its place
    applied = valid and ui.is_applied(params)
    sequence_network = ui.is_sequence_network()
    model = active_model()
    if applied:
        status.caption(
            f"Active network: {plain(model.config.describe())}"
            + (f" · run **{plain(model.run_name)}**" if model.run_name else "")
            + " · change it in the sidebar of Step through, or pick another run on Runs."
        )
    else:
        # with its sections on the page (drawn on its own data), the notice's key hides them
        with status.container(key=OTHER_SETTINGS_KEY if sequence_network else None):
            st.info(
                f"The session's network is built for **{plain(model.config.dataset)}** "
                f"({plain(model.config.layers or 'no hidden layers')}), not for these settings and "
                "network. Press **Use this dataset** above to train one on them here."
            )
    if sequence_network:
        with st.container(key=SAMPLE_KEY):  # on other settings: the network's own sample, hidden
            sample_view(model, min(index, model.dataset.n_train - 1))
    return params


@contextmanager
def network_sections():
    """A container for the network's sections; hidden while ``data_half`` says the settings differ."""
    with st.container(key=NETWORK_KEY):
        yield


def accuracy_view(model: ActiveModel) -> None:
    """Train accuracy now against the ceiling, and its curve over the epochs."""
    ds = model.dataset
    accuracy = ui.train_accuracy(model)
    c1, c2 = st.columns([1, 3])
    c1.metric(
        "train accuracy now",
        ui.percent(accuracy),
        delta=f"{(accuracy - ds.bayes_accuracy_train) * 100:+.1f} pts vs ceiling",
        delta_color="off",
    )
    c2.info(ceiling_reading(accuracy, ds.bayes_accuracy_train))
    curve_view(
        viz.accuracy_curves(*ui.accuracy_series(model), ds.bayes_accuracy_train, ds.bayes_accuracy_val),
        key="seq.accuracy",
    )


def sample_view(model: ActiveModel, index: int) -> None:
    """The network's prediction for the chosen sample against the data's own shares, and its attention."""
    ds = model.dataset  # the windows as this network reads them (token ids for attention)
    st.subheader(
        f"Sample #{index}: {plain(ds.windows_train[index])} → {plain(ds.classes[ds.y_train[index]])}"
    )
    attention = ui.attention_weights(model, index)
    left, right = st.columns([2, 3])
    with left:
        probabilities = model.net.predict_proba(ds.x_train[index : index + 1])[0]
        share = context_distribution(ds.windows_train, ds.y_train, len(ds.classes), ds.windows_train[index])
        st.html(viz.sample_prediction_html(probabilities, share, ds.classes, int(ds.y_train[index])))
    with right:
        for name, weights in attention:
            st.plotly_chart(
                viz.attention_figure(
                    weights, ds.windows_train[index], f"Attention ({name}): where each position looks"
                ),
                width="stretch",
                key=f"seq.attention.{name}",
            )
        if attention:
            st.caption(
                "Each row is a position of the window, each column a position it can look at; a row's weights "
                "add up to 1. The prediction is read at the last row. Later positions are masked: a position "
                "never sees the tokens after it."
            )
        else:
            st.caption(
                "An MLP reads the whole window at once; choose the attention network to see where each "
                "position looks."
            )


def mistakes_view(model: ActiveModel) -> None:
    """The training samples predicted wrong (one can be picked), and every window's prediction."""
    ds = model.dataset
    left, right = st.columns([2, 3])
    with left:
        wrong = ui.wrong_samples(model)
        st.markdown(f"**{len(wrong)}** training samples predicted wrong.")
        if wrong:
            st.selectbox(
                "Pick a wrong one (then open it in step-through above)",
                wrong,
                index=None,
                key="seq.wrong",
                on_change=lambda: st.session_state.update({"seq.sample": st.session_state["seq.wrong"]}),
                format_func=lambda i: f"#{i} {ds.windows_train[i]} → {ds.classes[ds.y_train[i]]}",
            )
    with right:
        probs, labels, targets = ui.grouped_predictions(model)
        map_view(
            viz.probability_payload(
                probs,
                labels,
                ds.classes,
                targets,
                title="Every training window, by master and position (×: how many samples)",
            ),
            key="seq.heatmap",
        )


def generation_view(model: ActiveModel) -> None:
    """Generate tokens from a typed start, beside the master's own continuation (next-token data only)."""
    ds = model.dataset
    if ds.task != "next_token":
        return
    st.subheader("Generation")
    default_start = (ds.master_sequences[0] if ds.master_sequences else "".join(ds.vocab))[: ds.context]
    c1, c2 = st.columns([2, 1])
    start = c1.text_input(f"Start from (at least {ds.context} tokens)", default_start, key="seq.start")
    steps = int(c2.number_input("Tokens to generate", 1, 64, 8, key="seq.steps"))
    try:
        result = generate(model.net.predict_proba, ds.encode, start, steps, ds.context, ds.vocab)
    except ValueError as err:
        st.error(plain(err))
        return
    master_index, offset, expected = expected_continuation(ds.master_sequences, start, steps)
    master = None if master_index is None else ds.master_sequences[master_index]
    st.html(viz.generation_html(master, master_index, offset or 0, start, result.tokens, expected, ds.vocab))
    st.caption(
        f"Generated: {plain(start)} + {plain(result.text)}. "
        + (
            "Dashed grey: the start you typed; red outline: a generated token that differs from the "
            "master's continuation."
            if master
            else "The start is not part of any master, so there is no continuation to compare with."
        )
    )


def embedding_view(model: ActiveModel) -> None:
    """The learned token table and its first two principal components (embedding encoding only)."""
    st.subheader("Embedding")
    if model.net.embedding is None:
        st.caption("Choose the embedding encoding (and Use this dataset) to see the learned token table.")
        return
    table = model.net.embedding.table
    coords, explained = principal_components(table)
    left, right = st.columns(2)
    left.plotly_chart(
        viz.embedding_table_figure(table, model.dataset.vocab), width="stretch", key="seq.table_fig"
    )
    right.plotly_chart(
        viz.embedding_pca_figure(coords, explained, model.dataset.vocab), width="stretch", key="seq.pca"
    )
