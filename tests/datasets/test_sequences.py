"""Sequence toy data: windows really come from their masters, encodings, learnability facts, errors."""

from pathlib import Path

import numpy as np
import pytest

import datasets
from datasets.sequences import bayes_accuracy, build_sequences

MASTERS = ["abccaabb", "addaccad"]
DOCS = Path(__file__).resolve().parents[2] / "docs" / "sequences.md"


def load(**params):
    base = dict(
        vocab="abcd",
        context=4,
        samples=200,
        master_sequences="abccaabb, addaccad",
        task="next_token",
        encoding="one_hot",
        seed=0,
    )
    base.update(params)
    return datasets.load("sequences", **base)


def decode_one_hot(x, vocab, context):
    ids = x.reshape(len(x), context, len(vocab)).argmax(axis=2)
    return ["".join(vocab[i] for i in row) for row in ids]


def test_issue_example_has_the_documented_shapes_and_dtypes():
    ds = load()
    assert isinstance(ds, datasets.SequenceDataset)
    assert ds.x_train.shape == (160, 16) and ds.x_val.shape == (40, 16)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert ds.classes == ["a", "b", "c", "d"] and ds.vocab == ["a", "b", "c", "d"]
    assert ds.input_shape == (4,) and ds.n_features == 16 and ds.n_outputs == 4
    assert ds.master_sequences == MASTERS and ds.params["source"] == "explicit"
    assert ds.source_train.dtype == np.int64 and ds.position_val.dtype == np.int64


@pytest.mark.parametrize("split", ["train", "val"])
def test_next_token_windows_come_from_their_master_at_the_recorded_position(split):
    ds = load(samples=300)
    windows = getattr(ds, f"windows_{split}")
    sources, positions = getattr(ds, f"source_{split}"), getattr(ds, f"position_{split}")
    targets, x = getattr(ds, f"y_{split}"), getattr(ds, f"x_{split}")
    assert decode_one_hot(x, ds.vocab, 4) == windows
    for window, source, position, target in zip(windows, sources, positions, targets):
        master = MASTERS[source]
        assert master[position : position + 4] == window
        assert master[position + 4] == ds.classes[target]


def test_classification_target_is_the_source_master_and_window_may_end_the_master():
    ds = load(task="classification", samples=400)
    assert ds.classes == ["M1", "M2"]
    assert np.array_equal(ds.y_train, ds.source_train)
    # A classification window needs no following token, so the last window (start 4) occurs.
    assert (np.r_[ds.position_train, ds.position_val] == 4).any()
    assert (load(samples=400).position_train.max()) == 3


def test_comma_and_space_separated_forms_give_the_same_data():
    a = load()
    b = load(vocab="a,b,c,d", master_sequences="abccaabb,addaccad")
    c = load(vocab="a b c d", master_sequences="abccaabb addaccad")
    for other in (b, c):
        assert np.array_equal(a.x_train, other.x_train) and np.array_equal(a.y_val, other.y_val)


@pytest.mark.parametrize(
    "params, canonical",
    [
        ({"source": "explicit"}, {}),  # the default masters are typed: explicit is what no source means
        ({"source": "explicit", "master_sequences": "abcd dcba"}, {"master_sequences": "abcd dcba"}),
        ({"source": "auto"}, {"source": "auto"}),
        ({"source": "random"}, {"source": "random"}),
        ({"master_sequences": ""}, {"master_sequences": ""}),  # nothing typed: no source means auto
        ({"source": "auto", "master_sequences": ""}, {"master_sequences": ""}),
    ],
)
def test_descriptions_of_the_same_data_have_one_canonical_form(params, canonical):
    spec = datasets.spec("sequences")
    assert spec.canonical_params(params) == canonical
    a, b = datasets.load("sequences", **params), datasets.load("sequences", **canonical)
    assert np.array_equal(a.x_train, b.x_train) and np.array_equal(a.y_val, b.y_val)


def test_the_builder_called_with_every_parameter_also_takes_list_forms():
    every = {**datasets.spec("sequences").params, "context": 4}
    a = build_sequences(**every)
    b = build_sequences(**{**every, "vocab": ["a", "b", "c", "d"], "master_sequences": MASTERS})
    assert np.array_equal(a.x_train, b.x_train) and np.array_equal(a.y_val, b.y_val)


def test_one_hot_is_position_major_and_encode_matches_the_rows():
    ds = datasets.load("sequences", vocab="abc", context=2, master_sequences="abcabc", seed=1)
    assert ds.encode("ab").tolist() == [[1, 0, 0, 0, 1, 0]]
    assert ds.encode("ca").tolist() == [[0, 0, 1, 1, 0, 0]]
    for window, row in zip(ds.windows_train, ds.x_train):
        assert np.array_equal(ds.encode(window)[0], row)


def test_embedding_encoding_gives_int64_token_ids():
    ds = load(encoding="embedding")
    assert ds.x_train.dtype == np.int64 and ds.x_train.shape == (160, 4)
    assert ds.n_features == 4 and ds.input_shape == (4,)
    assert ["".join("abcd"[i] for i in row) for row in ds.x_train] == ds.windows_train
    assert ds.encode("adda").tolist() == [[0, 3, 3, 0]]


def test_bayes_accuracy_helper_on_paper_numbers():
    # "ab" is followed by target 0 twice and 1 once, "ba" by 1 once: best guesses hit 2 + 1 of 4.
    assert bayes_accuracy(["ab", "ab", "ab", "ba"], np.array([0, 0, 1, 1])) == 0.75
    assert bayes_accuracy(["ab", "ba"], np.array([0, 1])) == 1.0
    assert np.isnan(bayes_accuracy([], np.array([], dtype=np.int64)))


def test_unambiguous_masters_have_bayes_accuracy_one():
    ds = datasets.load("sequences", vocab="abcd", context=2, master_sequences="abcd", samples=50)
    assert ds.bayes_accuracy == 1.0 and ds.bayes_accuracy_train == 1.0 and ds.bayes_accuracy_val == 1.0
    assert ds.ambiguous_contexts == []


def test_ambiguous_context_caps_accuracy_at_the_majority_share():
    # Masters "aab" and "aac" with context 2 give one context, "aa", followed by b (from M1)
    # or c (from M2): no model can beat max(#b, #c) / N.
    ds = datasets.load(
        "sequences", vocab="abc", context=2, master_sequences="aab aac", samples=101, val_fraction=0.2, seed=3
    )
    sources = np.r_[ds.source_train, ds.source_val]
    n_b, n_c = int((sources == 0).sum()), int((sources == 1).sum())
    assert n_b + n_c == 101 and 0 < n_b < 101
    assert ds.bayes_accuracy == max(n_b, n_c) / 101
    assert ds.ambiguous_contexts == [
        ("aa", dict(sorted({"b": n_b, "c": n_c}.items(), key=lambda kv: -kv[1])))
    ]
    assert ds.target_distribution == {"a": 0, "b": n_b, "c": n_c}
    train_b = int((ds.source_train == 0).sum())
    assert ds.bayes_accuracy_train == max(train_b, len(ds.source_train) - train_b) / len(ds.source_train)


def test_context_one_on_aab_mixes_two_targets_for_a():
    # "aab" with context 1: "a" at position 0 is followed by "a", at position 1 by "b".
    ds = datasets.load("sequences", vocab="ab", context=1, master_sequences="aab", samples=80, seed=0)
    positions = np.r_[ds.position_train, ds.position_val]
    first = int((positions == 0).sum())
    assert ds.bayes_accuracy == max(first, 80 - first) / 80 < 1.0
    assert [c for c, _ in ds.ambiguous_contexts] == ["a"]


def test_inspect_samples_reads_like_the_issue():
    ds = load()
    rows = ds.inspect_samples(3)
    assert len(rows) == 3
    for row, window, target, source, position in zip(
        rows, ds.windows_train, ds.y_train, ds.source_train, ds.position_train
    ):
        assert row == f"{window} -> {ds.classes[target]}   from M{source + 1} at position {position}"
    assert len(ds.inspect_samples(1000, split="val")) == 40
    assert "adda -> c   from M2 at position 0" in ds.inspect_samples(160) + ds.inspect_samples(40, "val")


def test_auto_masters_are_generated_with_the_requested_count_and_lengths():
    ds = datasets.load("sequences", source="auto", master_count=4, master_length=(6, 9), context=3, seed=2)
    assert len(ds.master_sequences) == 4
    assert all(6 <= len(m) <= 9 and set(m) <= set("abcd") for m in ds.master_sequences)
    assert ds.params["master_sequences"] == "" and ds.params["source"] == "auto"
    fixed = datasets.load("sequences", source="auto", master_count=2, master_length=[7], seed=2)
    assert [len(m) for m in fixed.master_sequences] == [7, 7]
    assert ds.classes == ["a", "b", "c", "d"]
    assert datasets.load("sequences", source="auto", master_count=4, task="classification").classes == [
        "M1",
        "M2",
        "M3",
        "M4",
    ]


def test_random_source_has_no_masters_and_classification_is_the_majority_token():
    ds = datasets.load("sequences", source="random", task="classification", context=5, samples=200, seed=4)
    assert ds.master_sequences == [] and (ds.source_train == -1).all() and (ds.position_val == -1).all()
    for window, target in zip(ds.windows_train, ds.y_train):
        counts = [window.count(t) for t in "abcd"]
        assert target == counts.index(max(counts))  # ties go to the earlier vocabulary token
    assert ds.bayes_accuracy == 1.0
    assert ds.inspect_samples(1)[0].endswith("(random)")
    nxt = datasets.load("sequences", source="random", samples=100, seed=4)
    assert nxt.classes == list("abcd") and nxt.target_distribution.keys() == {"a", "b", "c", "d"}


def test_short_masters_are_not_sampled_but_longer_ones_are():
    ds = datasets.load("sequences", vocab="ab", context=3, master_sequences="ab abab", samples=50)
    assert set(np.r_[ds.source_train, ds.source_val]) == {1}


def test_same_seed_same_data_and_other_seed_other_data():
    a, b, c = load(seed=5), load(seed=5), load(seed=6)
    assert np.array_equal(a.x_train, b.x_train) and np.array_equal(a.y_val, b.y_val)
    assert a.windows_train == b.windows_train
    assert not np.array_equal(a.x_train, c.x_train)
    auto1 = datasets.load("sequences", source="auto", seed=1).master_sequences
    assert (
        auto1
        == datasets.load("sequences", source="auto", seed=1).master_sequences
        != datasets.load("sequences", source="auto", seed=2).master_sequences
    )


def test_val_fraction_sets_the_split_sizes():
    ds = load(samples=100, val_fraction=0.3)
    assert len(ds.y_train) == 70 and len(ds.y_val) == 30 and len(ds.windows_val) == 30


@pytest.mark.parametrize(
    "params, message",
    [
        # Checked by the declarations: the message names the parameter, the allowed values and the bad value.
        (dict(vocab=[]), r"vocab must be text of at most 40 characters, got \[\]"),
        (
            dict(vocab="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO"),
            "vocab must be text of at most 40 characters",
        ),
        (dict(context=0), r"context must be an integer in \[1, 32\], got 0"),
        (dict(context=33), r"context must be an integer in \[1, 32\], got 33"),
        (dict(samples=1), r"samples must be an integer in \[2, 20000\], got 1"),
        (dict(task="predict"), "task must be one of next_token, classification, got 'predict'"),
        (dict(encoding="bits"), "encoding must be one of one_hot, embedding, got 'bits'"),
        (dict(val_fraction=1.0), r"val_fraction must be a number in \[0, 1\), got 1.0"),
        (dict(source="magic"), "source must be one of explicit, auto, random.*got 'magic'"),
        (dict(source="auto", master_count=0), r"master_count must be an integer in \[1, 50\], got 0"),
        (
            dict(source="auto", master_length=[0, 5]),
            r"master_length must be a list of integers in \[1, 200\].*got \[0, 5\]",
        ),
        (
            dict(source="auto", master_length=[4, 5, 6]),
            r"master_length must be .*\(at most 2\), got \[4, 5, 6\]",
        ),
        # Checked by the builder: combinations and the content of the text.
        (dict(vocab=""), "vocabulary '' is empty"),
        (dict(vocab="abca"), "duplicate token.*a.*list each token once"),
        (dict(vocab="a bc"), "'bc' is not a single visible character"),
        (
            dict(context=9),
            r"context length 9 is longer than every master sequence \(longest: 8\); "
            "shorten the context or lengthen a master sequence",
        ),
        (dict(context=8), "context length 8 leaves no next token"),
        (dict(master_sequences="abccaabb, abxe"), "M2 'abxe' uses token.*e, x outside the vocabulary abcd"),
        (dict(master_sequences="", source="explicit"), "source 'explicit' needs master_sequences"),
        (dict(source="auto", master_length=[9, 3]), r"has min > max"),
    ],
)
def test_bad_parameters_raise_value_errors_that_say_what_to_change(params, message):
    with pytest.raises(ValueError, match=message):
        load(**params)


def test_encode_rejects_wrong_length_and_unknown_tokens():
    ds = load()
    with pytest.raises(ValueError, match="'abc' has 3 tokens; this dataset expects exactly 4"):
        ds.encode("abc")
    with pytest.raises(ValueError, match="token.*z outside the vocabulary abcd"):
        ds.encode("abcz")
    with pytest.raises(ValueError, match="unknown split 'test'"):
        ds.inspect_samples(2, split="test")


def test_a_tiny_sample_keeps_at_least_one_training_row():
    # 2 samples at 90 % validation would be round(1.8) = 2 validation rows; one stays for training.
    ds = datasets.load("sequences", master_sequences="abcdab", context=2, samples=2, val_fraction=0.9)
    assert len(ds.y_train) == 1 and len(ds.y_val) == 1
    # At 20 % validation, round(0.4) = 0 rows: an empty validation split has no Bayes accuracy.
    ds = datasets.load("sequences", master_sequences="abcdab", context=2, samples=2, val_fraction=0.2)
    assert len(ds.y_train) == 2 and len(ds.y_val) == 0 and np.isnan(ds.bayes_accuracy_val)


# --------------------------------------------------- the documented default


def test_declared_defaults_are_the_sequences_page_configuration():
    # docs/sequences.md, "The default configuration".
    assert datasets.spec("sequences").params == {
        "vocab": "abcd",
        "context": 3,
        "samples": 200,
        "master_sequences": "abccaabb, addaccad",
        "source": None,
        "master_count": 3,
        "master_length": (6, 10),
        "task": "next_token",
        "encoding": "one_hot",
        "val_fraction": 0.2,
        "seed": 0,
    }


def test_default_dataset_is_the_documented_one():
    ds = datasets.load("sequences")
    assert ds.params["source"] == "explicit" and ds.master_sequences == MASTERS
    assert ds.x_train.shape == (160, 12) and ds.x_val.shape == (40, 12)  # 3 positions x 4 tokens
    # First training rows, checkable on the masters: M2 "addaccad" holds "acc" at 3, then "a";
    # M1 "abccaabb" holds "cca" at 2, then "a".
    assert ds.inspect_samples(2) == [
        "acc -> a   from M2 at position 3",
        "cca -> a   from M1 at position 2",
    ]
    assert ds.x_train[0].tolist() == [1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0]  # a, c, c one-hot
    assert ds.y_train[0] == 0  # "a"
    # "cca" continues with "a" in M1 and "d" in M2: the one ambiguous context.
    assert ds.ambiguous_contexts == [("cca", {"d": 34, "a": 18})]
    # Ceiling: 18 "cca -> a" samples are lost in all (182 of 200), 14 of 160 in train, 4 of 40 in val.
    assert ds.bayes_accuracy == 182 / 200 == 0.91
    assert ds.bayes_accuracy_train == 146 / 160 == 0.9125
    assert ds.bayes_accuracy_val == 36 / 40 == 0.9
    text = DOCS.read_text()
    assert "91.25% of the training samples (90.0% validation, 91.0% overall)" in text
    assert "followed by d 34× and a 18×" in text


def test_no_source_uses_the_typed_masters_or_generates_them_when_none_are_typed():
    typed = datasets.load("sequences", seed=3)
    assert typed.params["source"] == "explicit" and typed.master_sequences == MASTERS
    untyped = datasets.load("sequences", master_sequences=" , ", seed=3)
    assert untyped.params["source"] == "auto" and len(untyped.master_sequences) == 3
    assert all(6 <= len(m) <= 10 for m in untyped.master_sequences)


@pytest.mark.parametrize("source", ["auto", "random"])
def test_a_source_other_than_explicit_ignores_the_typed_masters(source):
    with_typed = datasets.load("sequences", source=source, seed=4)
    without = datasets.load("sequences", source=source, master_sequences="", seed=4)
    assert with_typed.params["source"] == source and with_typed.params["master_sequences"] == ""
    assert not set(with_typed.master_sequences) & set(MASTERS)
    assert np.array_equal(with_typed.x_train, without.x_train) and np.array_equal(
        with_typed.y_val, without.y_val
    )
