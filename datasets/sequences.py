"""Sequence-prediction toy data: windows cut from "master sequences".

A sample is a window of `context` tokens. With master sequences the data has
learnable patterns (from master "addaccad" the window "adda" is followed by "c");
with `source="random"` it has none, which is the baseline to compare against.

Tasks
    next_token      target = the token right after the window (classes = vocab)
    classification  target = which master the window came from (classes M1, M2, ...).
                    Random data has no master, so there the target is the window's
                    majority token, ties going to the token listed first in the vocab.

Encodings
    one_hot    x: (N, context * V) float32, position-major: x[n, p*V + v] = 1
               when token v sits at position p
    embedding  x: (N, context) int64 token ids, for a learned embedding table
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from backprop.options import Option

from .core import SEED, VAL_FRACTION, Dataset, check_choice, check_fraction, check_int, split_indices

TASKS = ("next_token", "classification")
ENCODINGS = ("one_hot", "embedding")
SOURCES = ("explicit", "auto", "random")
DESCRIPTION = "Windows of master sequences: predict the next token or the source master"
# The defaults: "cca" is ambiguous (the first master continues it with a, the second with d),
# so the Bayes-optimal accuracy is below 100 % and a network can be seen reaching it.
OPTIONS = (
    Option(
        "vocab", "text", "abcd", label="Vocabulary", max_length=40, help="One character per token, e.g. abcd."
    ),
    Option(
        "context",
        "int",
        3,
        label="Context",
        low=1,
        high=32,
        help="Tokens the network sees before predicting.",
    ),
    Option("samples", "int", 200, label="Samples", low=2, high=20_000, help="Windows cut from the masters."),
    Option(
        "master_sequences",
        "text",
        "abccaabb, addaccad",
        label="Master sequences",
        max_length=2000,
        help="Typed masters, separated by commas or spaces.",
    ),
    Option(
        "source",
        "choice",
        None,
        label="Masters",
        choices=SOURCES,
        optional=True,
        off_label="typed if any",
        help="explicit: the typed masters; auto: generated ones; random: no masters, random windows.",
    ),
    Option(
        "master_count",
        "int",
        3,
        label="Generated masters",
        low=1,
        high=50,
        help="How many masters auto makes.",
    ),
    Option(
        "master_length",
        "int_list",
        (6, 10),
        label="Generated length",
        low=1,
        high=200,
        min_length=1,
        max_length=2,
        help="Length of generated masters: one length or a min, max range.",
    ),
    Option(
        "task",
        "choice",
        "next_token",
        label="Task",
        choices=TASKS,
        help="next_token: predict the token after the window; classification: which master it came from.",
    ),
    Option(
        "encoding",
        "choice",
        "one_hot",
        label="Encoding",
        choices=ENCODINGS,
        help="one_hot: a 0/1 vector per token; embedding: token ids the network embeds.",
    ),
    VAL_FRACTION,
    SEED,
)


def parse_vocab(vocab) -> list:
    """'abcd', 'a b c d', 'a,b,c,d' or ['a', 'b', ...] -> ['a', 'b', 'c', 'd']."""
    if isinstance(vocab, str):
        pieces = [p for p in re.split(r"[\s,]+", vocab) if p]
        tokens = list(pieces[0]) if len(pieces) == 1 else pieces
    elif isinstance(vocab, (list, tuple)):
        tokens = list(vocab)
    else:
        raise ValueError(f"vocabulary must be a string like 'abcd' or a list of tokens, got {vocab!r}")
    if not tokens:
        raise ValueError(f"vocabulary {vocab!r} is empty; give at least two tokens, e.g. 'abcd'")
    for token in tokens:
        if not isinstance(token, str) or len(token) != 1 or token.isspace() or token == ",":
            raise ValueError(
                f"vocabulary token {token!r} is not a single visible character; "
                "use one character per token, e.g. 'abcd'"
            )
    duplicates = sorted(t for t, count in Counter(tokens).items() if count > 1)
    if duplicates:
        raise ValueError(
            f"vocabulary {vocab!r} has duplicate token(s) {', '.join(duplicates)}; list each token once"
        )
    return tokens


def parse_masters(masters) -> list:
    """'abccaabb, addaccad' or ['abccaabb', 'addaccad'] -> list of strings."""
    if masters is None:
        return []
    if isinstance(masters, str):
        return [m for m in re.split(r"[\s,]+", masters) if m]
    if isinstance(masters, (list, tuple)):
        result = []
        for master in masters:
            if not isinstance(master, str):
                raise ValueError(
                    f"master sequence {master!r} is not a string; type it as text, e.g. 'abccaabb'"
                )
            result.append(master.strip())
        return [m for m in result if m]
    raise ValueError(f"master_sequences must be a string or a list of strings, got {masters!r}")


def _length_range(master_length) -> tuple:
    if isinstance(master_length, (list, tuple)):
        if len(master_length) not in (1, 2):
            raise ValueError(f"master_length {master_length!r} must be one length or a (min, max) pair")
        low, high = master_length[0], master_length[-1]
    else:
        low = high = master_length
    low = check_int("master_length", low, 1, "use a positive length such as 8")
    high = check_int("master_length", high, 1, "use a positive length such as 8")
    if low > high:
        raise ValueError(f"master_length range {master_length!r} has min > max; write it as (min, max)")
    return low, high


def resolve_source(source, master_sequences) -> str:
    """The master mode actually used: explicit when masters are typed, else auto."""
    if source is None:
        return "explicit" if parse_masters(master_sequences) else "auto"
    check_choice("source", source, SOURCES)
    return source


def settle_params(params: dict) -> dict:
    """``params`` with the source unset (None) when the typed masters imply it: no source and source
    'explicit' with masters typed are the same data."""
    implied = resolve_source(None, params["master_sequences"])
    if params["source"] == implied:
        return {**params, "source": None}
    return params


def class_names(params: dict) -> list:
    vocab = parse_vocab(params["vocab"])
    source = resolve_source(params["source"], params["master_sequences"])
    if params["task"] == "next_token" or source == "random":
        return vocab
    if source == "explicit":
        count = len(parse_masters(params["master_sequences"]))
    else:
        count = int(params["master_count"])
    return [f"M{i + 1}" for i in range(count)]


def input_shape(params: dict) -> tuple:
    return (int(params["context"]),)


class SequenceDataset(Dataset):
    """A `Dataset` of token windows plus the facts that say how learnable it is.

    vocab: list of V single-character tokens
    master_sequences: list of master strings ([] for random data)
    source_train/_val: (N,) int64 master index per sample, -1 for random data
    position_train/_val: (N,) int64 window start inside that master, -1 for random
    windows_train/_val: list of N context strings
    bayes_accuracy: best accuracy any model can reach on all samples (train + val):
        for each distinct context, the share of its most frequent target
    bayes_accuracy_train / bayes_accuracy_val: the same over one split
    ambiguous_contexts: [(context, {target: count}), ...] for contexts seen with
        more than one target, over all samples, sorted by context
    target_distribution: {class name: count} over all samples
    """

    def __init__(
        self,
        *,
        vocab,
        context,
        task,
        encoding,
        master_sequences,
        source_train,
        source_val,
        position_train,
        position_val,
        windows_train,
        windows_val,
        **fields,
    ):
        super().__init__(**fields)
        self.vocab = vocab
        self.context = context
        self.task = task
        self.encoding = encoding
        self.master_sequences = master_sequences
        self.source_train, self.source_val = source_train, source_val
        self.position_train, self.position_val = position_train, position_val
        self.windows_train, self.windows_val = windows_train, windows_val
        self._index = {token: i for i, token in enumerate(vocab)}
        self.bayes_accuracy_train = bayes_accuracy(windows_train, self.y_train)
        self.bayes_accuracy_val = bayes_accuracy(windows_val, self.y_val)
        all_windows = list(windows_train) + list(windows_val)
        all_targets = np.concatenate([self.y_train, self.y_val])
        self.bayes_accuracy = bayes_accuracy(all_windows, all_targets)
        self.ambiguous_contexts = _ambiguous(all_windows, all_targets, self.classes)
        counts = np.bincount(all_targets, minlength=len(self.classes))
        self.target_distribution = {name: int(c) for name, c in zip(self.classes, counts)}

    def encode(self, text_context) -> np.ndarray:
        """One context (string or token list of length `context`) -> (1, n_features) array."""
        tokens = list(text_context)
        if len(tokens) != self.context:
            raise ValueError(
                f"context {text_context!r} has {len(tokens)} tokens; "
                f"this dataset expects exactly {self.context}"
            )
        unknown = sorted({t for t in tokens if t not in self._index})
        if unknown:
            raise ValueError(
                f"context {text_context!r} uses token(s) {', '.join(unknown)} "
                f"outside the vocabulary {''.join(self.vocab)}"
            )
        ids = np.array([[self._index[t] for t in tokens]], dtype=np.int64)
        return _encode_ids(ids, len(self.vocab), self.encoding)

    def inspect_samples(self, n: int = 10, split: str = "train") -> list:
        """Up to n readable rows like 'adda -> c   from M2 at position 1'."""
        check_choice("split", split, ("train", "val"))
        n = check_int("n", n, 0, "ask for zero or more rows")
        windows = self.windows_train if split == "train" else self.windows_val
        targets = self.y_train if split == "train" else self.y_val
        sources = self.source_train if split == "train" else self.source_val
        positions = self.position_train if split == "train" else self.position_val
        rows = []
        for i in range(min(n, len(windows))):
            origin = "(random)" if sources[i] < 0 else f"from M{sources[i] + 1} at position {positions[i]}"
            rows.append(f"{windows[i]} -> {self.classes[targets[i]]}   {origin}")
        return rows


def _encode_ids(ids: np.ndarray, vocab_size: int, encoding: str) -> np.ndarray:
    """ids: (N, C) int64 -> (N, C) int64 or (N, C*V) float32 position-major one-hot."""
    if encoding == "embedding":
        return ids.astype(np.int64)
    n, context = ids.shape
    one_hot = np.zeros((n, context, vocab_size), dtype=np.float32)
    rows = np.arange(n)[:, None]
    cols = np.arange(context)[None, :]
    one_hot[rows, cols, ids] = 1.0
    return one_hot.reshape(n, context * vocab_size)


def _group_targets(windows, targets) -> dict:
    groups: dict = {}
    for window, target in zip(windows, targets):
        groups.setdefault(window, Counter())[int(target)] += 1
    return groups


def bayes_accuracy(windows, targets) -> float:
    """Share of samples a context -> most-frequent-target lookup gets right (nan if empty).

    windows: N context strings; targets: (N,) int class indices.
    """
    if len(windows) == 0:
        return float("nan")
    groups = _group_targets(windows, targets)
    return sum(max(c.values()) for c in groups.values()) / len(windows)


def _ambiguous(windows, targets, classes) -> list:
    groups = _group_targets(windows, targets)
    result = []
    for window in sorted(groups):
        counter = groups[window]
        if len(counter) > 1:
            ordered = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
            result.append((window, {classes[t]: n for t, n in ordered}))
    return result


def build_sequences(
    *,
    vocab,
    context,
    samples,
    master_sequences,
    source,
    master_count,
    master_length,
    task,
    encoding,
    val_fraction,
    seed,
) -> SequenceDataset:
    """Windows of master sequences, split into train and validation.

    vocab: 'abcd' or ['a', 'b', ...], single-character tokens (V of them)
    context: window length C >= 1
    samples: total number of windows N (train + val), drawn with replacement:
        master chosen uniformly, then a window start uniformly inside it
    master_sequences: typed masters, list or comma/space separated string
    source: 'explicit' (typed masters), 'auto' (master_count random masters of
        master_length tokens, an int or a (min, max) range) or 'random' (no
        masters, every window random); None picks 'explicit' when masters are
        typed, else 'auto'
    task: 'next_token' or 'classification' (see module docstring)
    encoding: 'one_hot' -> x (N, C*V) float32; 'embedding' -> x (N, C) int64
    val_fraction: share of the N samples held out for validation
    seed: everything random comes from np.random.default_rng(seed)
    Returns a SequenceDataset; y is (N,) int64.
    Masters shorter than the window (plus the next token for next_token) are
    never sampled; the data is an error only when no master is long enough.
    """
    tokens = parse_vocab(vocab)
    context = check_int("context length", context, 1, "use a context of at least 1 token")
    samples = check_int("samples", samples, 1, "ask for at least 1 sample")
    check_choice("task", task, TASKS)
    check_choice("encoding", encoding, ENCODINGS)
    val_fraction = check_fraction("val_fraction", val_fraction)
    source = resolve_source(source, master_sequences)
    rng = np.random.default_rng(seed)
    index = {t: i for i, t in enumerate(tokens)}

    if source == "explicit":
        masters = parse_masters(master_sequences)
        if not masters:
            raise ValueError(
                "source 'explicit' needs master_sequences, e.g. 'abccaabb, addaccad'; "
                "type some or use source='auto'"
            )
        for number, master in enumerate(masters, start=1):
            outside = sorted({t for t in master if t not in index})
            if outside:
                raise ValueError(
                    f"master sequence M{number} {master!r} uses token(s) "
                    f"{', '.join(outside)} outside the vocabulary {''.join(tokens)}; "
                    "add them to the vocabulary or fix the sequence"
                )
    elif source == "auto":
        count = check_int("master_count", master_count, 1, "generate at least 1 master sequence")
        low, high = _length_range(master_length)
        lengths = rng.integers(low, high + 1, size=count)
        masters = [
            "".join(tokens[i] for i in rng.integers(0, len(tokens), size=length)) for length in lengths
        ]
    else:
        masters = []

    if masters:
        need = context + 1 if task == "next_token" else context
        longest = max(len(m) for m in masters)
        if longest < need:
            if longest < context:
                raise ValueError(
                    f"context length {context} is longer than every master sequence (longest: "
                    f"{longest}); shorten the context or lengthen a master sequence"
                )
            raise ValueError(
                f"context length {context} leaves no next token in any master sequence (longest: "
                f"{longest}); next-token prediction needs masters of at least {need} tokens, so "
                "shorten the context or lengthen a master sequence"
            )
        usable = np.array([i for i, m in enumerate(masters) if len(m) >= need])
        source_ids = usable[rng.integers(0, usable.size, size=samples)].astype(np.int64)
        n_starts = np.array([len(masters[s]) - need + 1 for s in source_ids])
        positions = np.floor(rng.random(samples) * n_starts).astype(np.int64)
        ids = np.array(
            [[index[t] for t in masters[s][p : p + context]] for s, p in zip(source_ids, positions)],
            dtype=np.int64,
        ).reshape(samples, context)
        if task == "next_token":
            targets = np.array(
                [index[masters[s][p + context]] for s, p in zip(source_ids, positions)], dtype=np.int64
            )
            classes = list(tokens)
        else:
            targets = source_ids.copy()
            classes = [f"M{i + 1}" for i in range(len(masters))]
    else:
        source_ids = np.full(samples, -1, dtype=np.int64)
        positions = np.full(samples, -1, dtype=np.int64)
        ids = rng.integers(0, len(tokens), size=(samples, context)).astype(np.int64)
        if task == "next_token":
            targets = rng.integers(0, len(tokens), size=samples).astype(np.int64)
        else:
            counts = np.stack([(ids == v).sum(axis=1) for v in range(len(tokens))], axis=1)
            targets = counts.argmax(axis=1).astype(np.int64)  # argmax: first max wins ties
        classes = list(tokens)

    windows = ["".join(tokens[i] for i in row) for row in ids]
    x = _encode_ids(ids, len(tokens), encoding)
    train_idx, val_idx = split_indices(samples, val_fraction, rng)
    train_idx, val_idx = rng.permutation(train_idx), rng.permutation(val_idx)

    params = dict(
        vocab="".join(tokens),
        context=context,
        samples=samples,
        master_sequences=", ".join(masters) if source == "explicit" else "",
        source=source,
        master_count=len(masters) if source == "auto" else int(master_count),
        master_length=list(master_length)
        if isinstance(master_length, (list, tuple))
        else [int(master_length)],
        task=task,
        encoding=encoding,
        val_fraction=val_fraction,
        seed=_json_seed(seed),
    )
    return SequenceDataset(
        name="sequences",
        kind="sequence",
        params=params,
        description=DESCRIPTION,
        x_train=x[train_idx],
        y_train=targets[train_idx],
        x_val=x[val_idx],
        y_val=targets[val_idx],
        classes=classes,
        input_shape=(context,),
        vocab=list(tokens),
        context=context,
        task=task,
        encoding=encoding,
        master_sequences=list(masters),
        source_train=source_ids[train_idx],
        source_val=source_ids[val_idx],
        position_train=positions[train_idx],
        position_val=positions[val_idx],
        windows_train=[windows[i] for i in train_idx],
        windows_val=[windows[i] for i in val_idx],
    )


def _json_seed(seed):
    return int(seed) if isinstance(seed, (int, np.integer)) else seed
