"""Each dataset declares its parameters once; the declarations decide what a call, a page or a link may ask for."""

import inspect
import math
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import datasets
from backprop.files import load_arrays
from datasets.core import SEED, DatasetSpec
from datasets.folder import FOLDER_ENV

# Small enough to build in a blink; everything else at its declared default.
FAST = {"shapes": dict(samples=30, size=16), "fashion-mnist": dict(train_samples=300, val_samples=100)}


def save_gray(path, value, size=(10, 6)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", size, value).save(path)


def class_folder(root, classes=("cat", "dog"), per_class=3):
    """root/<class>/<i>.png, each class its own grey level; returns root."""
    for number, name in enumerate(classes):
        for i in range(per_class):
            save_gray(root / name / f"{i}.png", 40 + 150 * number)
    return root


@pytest.fixture
def server_folder(tmp_path, monkeypatch):
    """The image folder the server's owner configured through BACKPROP_IMAGE_FOLDER."""
    root = class_folder(tmp_path / "server-images", ("apple", "pear"))
    monkeypatch.setenv(FOLDER_ENV, str(root))
    return root


def skip_if_unavailable(name):
    ok, reason = datasets.availability(name)
    if not ok:
        pytest.skip(reason)


# ------------------------------------------------------------ declarations


@pytest.mark.parametrize("name", datasets.names())
def test_every_builder_parameter_is_declared_once_with_its_default(name):
    spec = datasets.spec(name)
    signature = inspect.signature(spec.builder)
    assert [option.name for option in spec.options] == list(signature.parameters)
    for parameter in signature.parameters.values():
        # Keyword-only and without a default: the declaration is the one place a default lives.
        assert parameter.kind is inspect.Parameter.KEYWORD_ONLY, parameter
        assert parameter.default is inspect.Parameter.empty, parameter
    assert spec.params == {option.name: option.default for option in spec.options}
    for option in spec.options:
        assert option.label and option.help, option.name  # the sidebar and the docs show both
        assert spec.resolve_params()[option.name] == option.check(option.default)


def test_a_spec_whose_builder_takes_other_keywords_is_refused():
    def build(*, samples, seed):
        raise AssertionError("never built")

    with pytest.raises(
        ValueError, match=r"dataset 'demo' declares \['seed'\] but its builder takes \['samples', 'seed'\]"
    ):
        DatasetSpec("demo", "2d", "demo", build, lambda p: (2,), lambda p: [], options=(SEED,))


@pytest.mark.parametrize("name", datasets.names())
def test_every_declared_default_builds(name, server_folder):
    skip_if_unavailable(name)
    if name == "fashion-mnist":
        pytest.skip("its default is the full 60,000 + 10,000 images: test_images builds it")
    ds = datasets.load(name)
    spec = datasets.spec(name)
    assert ds.name == name and ds.kind == spec.kind
    assert ds.input_shape == spec.input_shape() and ds.classes == spec.class_names()
    assert ds.n_train > 0


@pytest.mark.parametrize("name", datasets.names())
def test_what_a_dataset_declares_unbuilt_is_what_it_builds(name, server_folder):
    skip_if_unavailable(name)
    declared = datasets.declared(name, FAST.get(name))
    if datasets.spec(name).kind not in ("image", "2d"):
        assert declared is None  # a vocabulary or targets are known once built
        return
    ds = datasets.load(name, **FAST.get(name, {}))
    assert declared.is_classification == ds.is_classification
    assert (declared.input_shape, declared.n_features, declared.n_outputs) == (
        ds.input_shape,
        ds.n_features,
        ds.n_outputs,
    )


def test_a_folder_of_images_without_classes_declares_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv(FOLDER_ENV, str(tmp_path / "empty"))
    (tmp_path / "empty").mkdir()
    assert datasets.declared("folder") is None


@pytest.mark.parametrize(
    "name",
    list(datasets.names()),
)
def test_a_built_datasets_params_build_the_same_data_again(name, server_folder):
    # Model cards and runs keep ds.params; loading them must give the same arrays back.
    skip_if_unavailable(name)
    first = datasets.load(name, **FAST.get(name, {}))
    again = datasets.load(name, **first.params)
    for field in ("x_train", "y_train", "x_val", "y_val"):
        assert np.array_equal(getattr(first, field), getattr(again, field)), field


def test_canonical_params_keep_only_what_differs_from_the_defaults():
    spec = datasets.spec("circle")
    assert spec.canonical_params({"samples": 500, "noise": 5}) == {"noise": 5.0}
    shapes = datasets.spec("shapes")
    assert shapes.canonical_params({"shapes": "circle, square, triangle", "size": 16}) == {"size": 16}


# ------------------------------------------------------------------ ranges


def numeric_cases():
    """(dataset, option, value, accepted) at and just beyond every finite bound of every number option."""
    cases = []
    for name, spec in datasets.REGISTRY.items():
        for option in spec.options:
            if option.kind not in ("int", "float"):
                continue
            step = 1 if option.kind == "int" else 0.001
            for bound, is_open, outward in (
                (option.low, option.low_open, -1),
                (option.high, option.high_open, +1),
            ):
                if bound is None:
                    continue
                if is_open:  # the bound itself is out, a hair inside is in
                    cases += [
                        (name, option.name, bound, False),
                        (name, option.name, bound - outward * step, True),
                    ]
                else:
                    cases += [
                        (name, option.name, bound, True),
                        (name, option.name, bound + outward * step, False),
                    ]
    return cases


@pytest.mark.parametrize("name, option_name, value, accepted", numeric_cases())
def test_each_number_range_accepts_its_ends_and_rejects_just_outside(name, option_name, value, accepted):
    option = datasets.spec(name).option(option_name)
    if accepted:
        checked = datasets.check_params(name, {option_name: value}, from_link=False)[option_name]
        assert checked == value and type(checked) is {"int": int, "float": float}[option.kind]
        return
    words = "an integer" if option.kind == "int" else "a number"
    with pytest.raises(ValueError) as caught:
        datasets.check_params(name, {option_name: value}, from_link=False)
    # The exact range text is pinned in the table below; here: the name, the kind and the bad value.
    assert str(caught.value).startswith(f"{option_name} must be {words} in ")
    assert str(caught.value).endswith(f", got {value!r}")


def test_every_number_option_has_both_bounds():
    # An unbounded number would let a link ask for any size; each one is covered above.
    for name, spec in datasets.REGISTRY.items():
        for option in spec.options:
            if option.kind in ("int", "float", "int_list", "float_list"):
                assert option.low is not None and option.high is not None, (name, option.name)
                assert math.isfinite(option.low) and math.isfinite(option.high), (name, option.name)


@pytest.mark.parametrize(
    "name, params, message",
    [
        # The user's view of the same rule: name, allowed values, bad value.
        ("circle", {"noise": 60}, r"noise must be a number in [0, 50], got 60"),
        ("sequences", {"context": 0}, r"context must be an integer in [1, 32], got 0"),
        ("sequences", {"samples": 1}, r"samples must be an integer in [2, 20000], got 1"),
        ("shapes", {"size": 65}, r"size must be an integer in [8, 64], got 65"),
        ("folder", {"size": 3}, r"size must be an integer in [4, 128], got 3"),
        (
            "fashion-mnist",
            {"train_samples": 60001},
            r"train_samples must be an integer in [1, 60000], got 60001",
        ),
        ("digits", {"val_fraction": 1}, r"val_fraction must be a number in [0, 1), got 1"),
        ("mnist", {"seed": -1}, "seed must be an integer in [0, 2147483647], got -1"),
        ("spiral", {"samples": 2.5}, r"samples must be an integer in [2, 20000], got 2.5"),
        ("spiral", {"samples": True}, r"samples must be an integer in [2, 20000], got True"),
        ("sine", {"noise": float("nan")}, r"noise must be a number in [0, 50], got nan"),
    ],
)
def test_out_of_range_messages_name_the_parameter_the_range_and_the_value(name, params, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        datasets.check_params(name, params, from_link=False)


MODELS = Path(__file__).resolve().parents[2] / "models"


@pytest.mark.parametrize(
    "model",
    [
        "digits",
        "fashion",
        "shapes",
    ],
)
def test_each_shipped_model_card_names_data_its_dataset_accepts(model):
    card = load_arrays(MODELS / f"{model}.npz")[1]["metadata"]
    datasets.check_params(card["dataset"], card["dataset_params"], from_link=False)


def test_a_whole_float_from_a_json_file_is_the_integer():
    assert datasets.check_params("circle", {"samples": 300.0})["samples"] == 300


@pytest.mark.parametrize(
    "name, option_name, accepted, rejected, message",
    [
        (
            "sequences",
            "vocab",
            ["ab", "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"],
            ["abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO", ["a", "b"]],
            "vocab must be text of at most 40 characters",
        ),
        (
            "sequences",
            "master_sequences",
            ["", "ab" * 1000],
            ["ab" * 1000 + "a", None],
            "master_sequences must be text of at most 2000 characters",
        ),
        (
            "sequences",
            "master_length",
            [[1], [200], [1, 200], (6, 10)],
            [[], [0], [201], [1, 2, 3], 7],
            r"master_length must be a list of integers in [1, 200] (at most 2)",
        ),
        (
            "sequences",
            "source",
            [None, "explicit", "auto", "random"],
            ["magic", True, ""],
            "source must be one of explicit, auto, random",
        ),
        (
            "sequences",
            "task",
            ["next_token", "classification"],
            ["predict"],
            "task must be one of next_token, classification",
        ),
        (
            "sequences",
            "encoding",
            ["one_hot", "embedding"],
            ["bits"],
            "encoding must be one of one_hot, embedding",
        ),
        ("sine", "curve", ["sine", "abs", "step"], ["cosine", None], "curve must be one of sine, abs, step"),
        (
            "shapes",
            "shapes",
            [["circle", "star"], "circle square triangle cross star", "cross,star"],
            [["circle"], "circle square triangle cross star circle", "circle hexagon", []],
            "shapes must be 2 to 5 words from circle, square, triangle, cross, star",
        ),
        ("folder", "color", ["grayscale", "rgb"], ["sepia", "RGB"], "color must be one of grayscale, rgb"),
    ],
)
def test_text_list_and_choice_options_accept_their_values_and_refuse_others(
    name, option_name, accepted, rejected, message
):
    for value in accepted:
        datasets.check_params(name, {option_name: value}, from_link=False)
    for value in rejected:
        with pytest.raises(ValueError, match=re.escape(message) + ".*, got "):
            datasets.check_params(name, {option_name: value}, from_link=False)


@pytest.mark.parametrize(
    "name, params",
    [
        ("sequences", {"samples": 2}),
        ("circle", {"samples": 2}),
        ("sine", {"samples": 2}),
        ("folder", {"size": 4}),
        ("fashion-mnist", {"train_samples": 1, "val_samples": 1}),
        ("shapes", {"samples": 2, "shapes": "circle, square"}),
    ],
)
def test_the_smallest_declared_dataset_builds(name, params, server_folder):
    skip_if_unavailable(name)
    ds = datasets.load(name, **params)
    assert ds.n_train >= 1


@pytest.mark.parametrize(
    "name, params",
    [
        ("sequences", {"samples": 20_000}),
        (
            "sequences",
            {"context": 32, "source": "random", "vocab": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"},
        ),
        ("sequences", {"context": 32, "source": "auto", "master_count": 50, "master_length": [200]}),
        ("sequences", {"master_sequences": "abcd" * 500, "context": 32}),
        ("spiral", {"samples": 20_000, "noise": 50, "train_ratio": 0.999}),
        ("bump", {"samples": 20_000, "noise": 50}),
        ("sine", {"samples": 20_000, "noise": 50}),
        ("shapes", {"samples": 6, "size": 64, "shapes": "circle square triangle cross star", "noise": 1}),
        ("folder", {"size": 128, "color": "rgb"}),
        ("digits", {"val_fraction": 0.999, "seed": 2**31 - 1}),
    ],
)
def test_the_top_of_each_range_builds(name, params, server_folder):
    ds = datasets.load(name, **params)
    assert ds.n_train >= 1


# ------------------------------------------------------------ link params


def test_lenient_params_keep_good_link_values_and_name_each_dropped_one():
    spec = datasets.spec("circle")
    kept, notices = spec.lenient_params({"samples": 300, "noise": 60, "train_ratio": 0.8, "colour": "red"})
    assert kept == {"samples": 300, "train_ratio": 0.8}
    assert notices == [
        "link dataset parameter: noise must be a number in [0, 50], got 60; using the default",
        "link dataset parameter: unknown parameter(s) 'colour' for dataset 'circle'; "
        "valid parameters: samples, noise, train_ratio, seed; using the default",
    ]
    ds = datasets.load("circle", **kept)
    assert ds.n_train == 240 and ds.params["noise"] == 0  # 300 x 0.8, and noise back to its default


def test_lenient_params_with_nothing_wrong_drop_nothing():
    params = {"vocab": "abc", "context": 2, "master_sequences": "abcabc", "source": None}
    assert datasets.spec("sequences").lenient_params(params) == (params, [])


def test_lenient_params_that_are_not_a_mapping_fall_back_to_the_defaults():
    assert datasets.spec("digits").lenient_params(["seed", 3]) == (
        {},
        ["dataset parameters of digits are not a mapping; using the defaults"],
    )


# ------------------------------------------------------- the image folder


def test_the_folder_setting_is_the_documented_environment_variable():
    assert FOLDER_ENV == "BACKPROP_IMAGE_FOLDER"
    assert datasets.spec("folder").server_only == ("path",)


@pytest.mark.parametrize("path", ["absolute", "/", "..", "~", "", None])
def test_a_link_or_a_page_cannot_name_the_image_folder(tmp_path, path):
    if path == "absolute":
        path = str(class_folder(tmp_path / "elsewhere"))
    for call in (
        lambda: datasets.check_params("folder", {"path": path}, from_link=True),
        lambda: datasets.check_params("folder", {"path": path, "size": 8}),  # from_link is the default
    ):
        with pytest.raises(
            ValueError,
            match=r"folder: path names files on the server, which a link or a page cannot choose; "
            r"the server's owner sets it",
        ):
            call()


def test_the_command_line_may_name_the_image_folder(tmp_path):
    root = str(class_folder(tmp_path / "pets"))
    assert datasets.check_params("folder", {"path": root}, from_link=False)["path"] == root


def test_a_link_to_a_real_folder_on_disk_loads_nothing_from_it(tmp_path, monkeypatch):
    elsewhere = class_folder(tmp_path / "private", ("secret_a", "secret_b"))
    kept, notices = datasets.spec("folder").lenient_params({"path": str(elsewhere), "size": 8})
    assert kept == {"size": 8}
    assert len(notices) == 1 and "path names files on the server" in notices[0]
    # Without a server folder there is nothing to load...
    monkeypatch.delenv(FOLDER_ENV, raising=False)
    with pytest.raises(ValueError, match="no image folder is set: start the app with BACKPROP_IMAGE_FOLDER="):
        datasets.load("folder", **kept)
    # ...and with one, that folder is read, not the link's.
    server = class_folder(tmp_path / "served", ("apple", "pear"))
    monkeypatch.setenv(FOLDER_ENV, str(server))
    ds = datasets.load("folder", **kept)
    assert ds.classes == ["apple", "pear"]
    assert all(file.startswith(str(server)) for file in ds.files_train + ds.files_val)


def test_the_server_folder_setting_lets_the_folder_dataset_load(server_folder):
    ds = datasets.load("folder", size=8, val_fraction=1 / 3)
    assert ds.classes == ["apple", "pear"] and ds.params["path"] == str(server_folder)
    assert ds.x_train.shape == (4, 64) and ds.x_val.shape == (2, 64)  # 3 per class, 1 of each held out
    assert datasets.spec("folder").class_names({}) == ["apple", "pear"]
    x, y = np.r_[ds.x_train, ds.x_val], np.r_[ds.y_train, ds.y_val]
    assert np.allclose(x[y == 0], 40 / 255, atol=2 / 255) and np.allclose(x[y == 1], 190 / 255, atol=2 / 255)


# ------------------------------------------------------------ memory bounds

# The most one dataset may hold in x_train + x_val, whatever a link asks for.
BYTES_BUDGET = 256 * 2**20
FLOAT32 = 4


def x_bytes(ds):
    return ds.x_train.nbytes + ds.x_val.nbytes


def high(name, option_name):
    return datasets.spec(name).option(option_name).high


def test_sequence_bytes_are_samples_times_context_times_vocab_at_most():
    # One-hot: N x (C * V) float32; embedding: N x C int64 ids.
    for samples, context, vocab in (
        (20_000, 3, "abcd"),
        (50, 32, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"),
    ):
        params = dict(samples=samples, context=context, vocab=vocab, source="random")
        assert x_bytes(datasets.load("sequences", **params)) == samples * context * len(vocab) * FLOAT32
        embedded = datasets.load("sequences", encoding="embedding", **params)
        assert x_bytes(embedded) == samples * context * 8
    vocab_max = datasets.spec("sequences").option("vocab").max_length  # one character per token
    largest = high("sequences", "samples") * high("sequences", "context") * vocab_max * FLOAT32
    assert largest == 20_000 * 32 * 40 * 4 == 102_400_000
    assert largest <= BYTES_BUDGET


@pytest.mark.parametrize("name", ["circle", "xor", "gauss", "spiral", "moons", "plane", "bump", "sine"])
def test_playground_sets_at_their_most_samples_stay_small(name):
    ds = datasets.load(name, samples=high(name, "samples"))
    features = 1 if name == "sine" else 2
    assert x_bytes(ds) == 20_000 * features * FLOAT32 <= 160_000


def test_shape_bytes_are_samples_times_size_squared_at_most():
    ds = datasets.load("shapes", samples=12, size=64)
    assert x_bytes(ds) == 12 * 64 * 64 * FLOAT32
    # the ranges allow 20,000 images or 64×64 pixels, but not both: the builder caps the pixels in all
    from datasets.shapes import MAX_PIXELS

    largest = MAX_PIXELS * FLOAT32
    assert largest == 10_000 * 64 * 64 * 4 == 163_840_000 <= BYTES_BUDGET
    with pytest.raises(ValueError, match="more than the 40,960,000 a shapes set may hold"):
        datasets.load("shapes", samples=high("shapes", "samples"), size=high("shapes", "size"))


def test_fixed_image_sets_hold_what_they_ship():
    assert x_bytes(datasets.load("digits")) == 1797 * 64 * FLOAT32
    assert x_bytes(datasets.load("mnist")) == 10_000 * 784 * FLOAT32
    fashion = (high("fashion-mnist", "train_samples") + high("fashion-mnist", "val_samples")) * 784 * FLOAT32
    assert fashion == 219_520_000 <= BYTES_BUDGET


def test_fashion_subset_bytes_follow_the_requested_counts():
    skip_if_unavailable("fashion-mnist")
    ds = datasets.load("fashion-mnist", train_samples=30, val_samples=10)
    assert x_bytes(ds) == (30 + 10) * 784 * FLOAT32
