"""Containers shared by every dataset: `Dataset`, `DatasetSpec`, split helpers.

Arrays follow one convention everywhere:
    x_train: (N_train, F) float32   (int64 token ids for embedding-encoded sequences)
    y_train: (N_train,) int64 class indices, or (N_train, D) float32 for regression
    x_val, y_val: the same for the validation split
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from backprop.options import Option

KINDS = ("sequence", "2d", "regression", "image")


class DatasetUnavailable(ValueError):
    """A dataset whose files are not on this machine; the message says how to get them."""


@dataclass(eq=False)
class Dataset:
    """One built dataset: train and validation arrays plus what they mean.

    x_train: (N_train, n_features) float32 (int64 ids for embedding sequences)
    y_train: (N_train,) int64 for classification, (N_train, n_outputs) float32 for regression
    x_val, y_val: same layout with N_val rows
    classes: class names, index i names label i; [] for regression
    input_shape: shape of one sample before flattening, e.g. (8, 8) or (2,)
    """

    name: str
    kind: str
    params: dict
    description: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    classes: list = field(default_factory=list)
    input_shape: tuple = ()

    @property
    def is_classification(self) -> bool:
        return self.kind != "regression"

    @property
    def n_features(self) -> int:
        """Columns of x (for embedding-encoded sequences: the context length)."""
        return int(self.x_train.shape[1])

    @property
    def n_outputs(self) -> int:
        """Number of classes, or columns of y for regression."""
        if self.is_classification:
            return len(self.classes)
        return int(self.y_train.shape[1])

    @property
    def n_train(self) -> int:
        return int(self.x_train.shape[0])

    @property
    def n_val(self) -> int:
        return int(self.x_val.shape[0])

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.name!r}, kind={self.kind!r}, "
            f"train={self.x_train.shape}, val={self.x_val.shape}, "
            f"classes={len(self.classes)}, input_shape={self.input_shape})"
        )


@dataclass(frozen=True)
class Declared:
    """A dataset as its declarations describe it before it is built: the fields of a ``Dataset`` that
    planning a network reads (input_shape, n_features, n_outputs), for classification data."""

    name: str
    kind: str
    input_shape: tuple
    classes: list

    is_classification = True

    @property
    def n_features(self) -> int:
        return int(np.prod(self.input_shape))

    @property
    def n_outputs(self) -> int:
        return len(self.classes)


SEED = Option(
    "seed",
    "int",
    0,
    label="Data seed",
    low=0,
    high=2**31 - 1,
    help="Fixes every random choice of the data (samples, split, order).",
)
VAL_FRACTION = Option(
    "val_fraction",
    "float",
    0.2,
    label="Validation share",
    low=0.0,
    high=1.0,
    high_open=True,
    help="Share of the samples held out for validation.",
)


@dataclass(eq=False)
class DatasetSpec:
    """A registry entry: how to build one dataset, its declared parameters and what it will look like.

    options: one Option per parameter of the builder (name, kind, range, default, label,
      help); the builder takes exactly these as keywords and gets every one of them.
    server_only: parameters that name files on the server: they come from the command
      line or the server's settings, never from a link or a page.
    """

    name: str
    kind: str
    description: str
    builder: Callable[..., Dataset]
    shape_fn: Callable[[dict], tuple]
    classes_fn: Callable[[dict], list]
    availability_fn: Callable[[], tuple] | None = None
    options: tuple = ()
    server_only: tuple = ()
    # settles values that mean the same as the default because of another value (resolved params in
    # and out), so that canonical_params drops them
    settle_fn: Callable[[dict], dict] | None = None
    params: dict = field(init=False)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind {self.kind!r} is not one of {KINDS}")
        self.params = {option.name: option.default for option in self.options}
        taken = list(inspect.signature(self.builder).parameters)
        if sorted(taken) != sorted(self.params):
            raise ValueError(
                f"dataset {self.name!r} declares {sorted(self.params)} but its builder takes {sorted(taken)}"
            )

    def option(self, name: str) -> Option:
        return next(option for option in self.options if option.name == name)

    def resolve_params(self, params: dict | None = None, from_link: bool = False) -> dict:
        """Defaults overlaid with ``params``, each checked against its declaration.

        from_link: the values come from a link or a page; parameters that name server
        files are refused. Unknown names and bad values raise ValueError naming them.
        """
        params = dict(params or {})
        unknown = sorted(set(params) - set(self.params))
        if unknown:
            raise ValueError(
                f"unknown parameter(s) {', '.join(map(repr, unknown))} for dataset {self.name!r}; "
                f"valid parameters: {', '.join(self.params) or 'none'}"
            )
        if from_link:
            named = sorted(set(params) & set(self.server_only))
            if named:
                raise ValueError(
                    f"{self.name}: {', '.join(named)} names files on the server, which a link or a page "
                    "cannot choose; the server's owner sets it (see docs/datasets.md)"
                )
        return {option.name: option.check(params.get(option.name, option.default)) for option in self.options}

    def canonical_params(self, params: dict | None) -> dict:
        """The parameters checked and without those equal to their defaults, so that two descriptions of
        the same data compare equal."""
        resolved = self.resolve_params(params)
        if self.settle_fn is not None:
            resolved = self.settle_fn(resolved)
        return {
            name: value
            for name, value in resolved.items()
            if value != self.option(name).check(self.params[name])
        }

    def lenient_params(self, params: dict | None) -> tuple[dict, list[str]]:
        """Parameters from a link: each valid one is kept, each bad or unknown one dropped with a notice."""
        kept, notices = {}, []
        if not isinstance(params, dict):
            return {}, [f"dataset parameters of {self.name} are not a mapping; using the defaults"]
        for name, value in params.items():
            try:
                self.resolve_params({name: value}, from_link=True)
            except ValueError as err:
                notices.append(f"link dataset parameter: {err}; using the default")
                continue
            kept[name] = value
        return kept, notices

    def input_shape(self, params: dict | None = None) -> tuple:
        """Shape of one sample before flattening, for these parameters."""
        return tuple(self.shape_fn(self.resolve_params(params)))

    def class_names(self, params: dict | None = None) -> list:
        """Class names for these parameters; [] for regression."""
        return list(self.classes_fn(self.resolve_params(params)))

    def declared(self, params: dict | None = None) -> Declared | None:
        """What the declarations say of the samples, without building anything: for data whose shape
        and classes are all a network needs (images and 2-D sets); None for sequences and regression,
        whose vocabulary or targets are known once built, and for a folder of images whose classes
        cannot be read. ValueError for bad parameters."""
        if self.kind not in ("image", "2d"):
            return None
        try:
            classes = self.class_names(params)
        except (DatasetUnavailable, OSError):
            return None
        return Declared(self.name, self.kind, self.input_shape(params), classes) if classes else None

    def availability(self) -> tuple:
        """(True, "") or (False, reason with how to get the data)."""
        if self.availability_fn is None:
            return True, ""
        return self.availability_fn()

    def build(self, **params) -> Dataset:
        return self.builder(**self.resolve_params(params))

    def __repr__(self) -> str:
        return f"DatasetSpec({self.name!r}, kind={self.kind!r})"


# ----------------------------------------------------------------- validation


def read_shipped_images(path) -> tuple[np.ndarray, np.ndarray]:
    """``images`` and ``labels`` of an image file shipped in the repository, as read-only arrays."""
    with np.load(path, allow_pickle=False) as data:
        images, labels = data["images"], data["labels"]
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def check_int(name: str, value, minimum: int, hint: str) -> int:
    """`value` as int if it is an integer >= minimum, else ValueError with `hint`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}; {hint}")
    return int(value)


def check_fraction(name: str, value) -> float:
    """`value` as float if it lies in [0, 1), else ValueError repeating it."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}") from None
    if not 0 <= number < 1:
        raise ValueError(f"{name} must be in [0, 1), got {value!r}; pick e.g. 0.2")
    return number


def check_choice(name: str, value, choices) -> str:
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; choose one of {', '.join(map(repr, choices))}")
    return value


# --------------------------------------------------------------------- splits


def split_indices(n: int, val_fraction: float, rng: np.random.Generator):
    """(train_idx, val_idx): round(n * val_fraction) random validation rows, at most n - 1."""
    order = rng.permutation(n)
    n_val = min(int(round(n * val_fraction)), n - 1)  # never leave train empty
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def stratified_split(labels: np.ndarray, val_fraction: float, rng: np.random.Generator):
    """(train_idx, val_idx) keeping each class's share in both splits.

    labels: (N,) int. Each class contributes round(count * val_fraction) rows to
    validation, and at least one of its rows stays in train.
    """
    labels = np.asarray(labels)
    train_parts, val_parts = [], []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        members = members[rng.permutation(members.size)]
        n_val = min(int(round(members.size * val_fraction)), members.size - 1)
        val_parts.append(members[:n_val])
        train_parts.append(members[n_val:])
    train_idx = np.sort(np.concatenate(train_parts)) if train_parts else np.zeros(0, np.int64)
    val_idx = np.sort(np.concatenate(val_parts)) if val_parts else np.zeros(0, np.int64)
    # Sorted indices keep the source order; shuffle once so batches mix classes.
    return rng.permutation(train_idx), rng.permutation(val_idx)
