"""Generation, principal directions and the ceiling reading used by the Sequences page."""

import time

import numpy as np
import pytest

import datasets
from backprop import RunConfig
from backprop.generate import (
    ceiling_reading,
    context_distribution,
    expected_continuation,
    explain_ambiguous,
    generate,
    principal_components,
    sample_order,
)
from ui.sequences import PAGE_DEFAULTS, RECOMMENDED_NETWORK


def lookup_predictor(rule, vocab):
    """A fake model: the next token is rule[last token] with probability 1."""

    def predict_proba(x):
        last = int(x[0, -1])
        out = np.zeros((1, len(vocab)))
        out[0, vocab.index(rule[vocab[last]])] = 1.0
        return out

    return predict_proba


def test_generate_feeds_back_its_own_tokens():
    vocab = ["a", "b", "c"]

    def encode(text):
        return np.array([[vocab.index(t) for t in text]])

    result = generate(
        lookup_predictor({"a": "b", "b": "c", "c": "a"}, vocab), encode, "ab", 4, context=2, vocab=vocab
    )

    assert result.text == "cabc"
    assert result.probabilities.shape == (4, 3)


def test_generate_rejects_a_start_shorter_than_the_context():
    with pytest.raises(ValueError, match="at least 3"):
        generate(lambda x: x, lambda t: t, "ab", 2, context=3, vocab=["a", "b"])


def test_expected_continuation_follows_the_first_master_containing_the_start():
    assert expected_continuation(["abccaabb", "addaccad"], "dda", 3) == (1, 1, ["c", "c", "a"])
    assert expected_continuation(["abccaabb"], "abb", 3) == (0, 5, [])
    assert expected_continuation(["abccaabb"], "ddd", 3) == (None, None, [])


def test_principal_components_of_points_on_a_line_explain_everything():
    table = np.array([[0.0, 0.0], [1.0, 2.0], [2.0, 4.0]])
    coords, explained = principal_components(table)

    np.testing.assert_allclose(explained, [1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(coords[:, 0], [-np.sqrt(5), 0, np.sqrt(5)], atol=1e-12)
    np.testing.assert_allclose(coords[:, 1], 0, atol=1e-12)


def test_explain_ambiguous_names_the_counts_and_the_best_guess():
    lines = explain_ambiguous([("abcd", {"a": 3, "c": 2})])

    assert lines == ["abcd is followed by a 3× and c 2× → best guess a, 60%"]


def test_context_distribution_counts_targets_after_one_context():
    share = context_distribution(["ab", "ab", "ba", "ab"], np.array([0, 1, 1, 1]), 3, "ab")

    np.testing.assert_allclose(share, [1 / 3, 2 / 3, 0])


def test_ceiling_reading_says_whether_errors_are_ambiguous_or_fixable():
    assert "ambiguous" in ceiling_reading(0.91, 0.91)
    assert "every sample" in ceiling_reading(1.0, 1.0)
    assert ceiling_reading(0.80, 0.91).startswith("Below the ceiling by 11.0 points")


def test_sample_order_sorts_by_master_then_position():
    order = sample_order(np.array([1, 0, 1, 0]), np.array([0, 3, -1, 1]))

    assert order.tolist() == [3, 1, 2, 0]


def page_default_params():
    return dict(
        vocab=PAGE_DEFAULTS["vocab"],
        context=PAGE_DEFAULTS["context"],
        samples=PAGE_DEFAULTS["samples"],
        master_sequences=PAGE_DEFAULTS["masters"],
        task=PAGE_DEFAULTS["task"],
        encoding=PAGE_DEFAULTS["encoding"],
        seed=PAGE_DEFAULTS["seed"],
    )


@pytest.mark.parametrize("encoding", ["one_hot", "embedding"])
def test_page_default_reaches_the_bayes_ceiling_within_200_epochs(encoding):
    params = dict(page_default_params(), encoding=encoding)
    ds = datasets.load("sequences", **params)
    # from_dict: the page's recommendation may still use the older hidden-sizes layout
    config = RunConfig.from_dict({"dataset": "sequences", "dataset_params": params, **RECOMMENDED_NETWORK})
    net = config.build_network(ds)
    trainer = config.build_trainer(net)
    reached = []

    def on_event(event):
        if event.kind == "epoch":
            accuracy = net.evaluate(ds.x_train, ds.y_train)["accuracy"]
            if accuracy >= ds.bayes_accuracy_train - 1e-9:
                reached.append(event.epoch)
                return True

    start = time.perf_counter()
    trainer.run(ds.x_train, ds.y_train, epochs=200, callback=on_event)

    assert ds.bayes_accuracy_train < 1  # "cca" is ambiguous: the ceiling is below 100%
    assert reached, f"train accuracy stayed below the ceiling {ds.bayes_accuracy_train:.3f}"
    assert reached[0] <= 200
    assert time.perf_counter() - start < 10
