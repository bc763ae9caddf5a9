"""Declared options and the run configuration: one check for every way a setting arrives
(code, config files, the command line, links), messages that repeat the bad value, and older
configuration layouts that still build the same network."""

import json
import math
from types import SimpleNamespace

import numpy as np
import pytest

from backprop import RunConfig
from backprop.config import BATCH_SIZE, LOSS, OPTIONS, SEED
from backprop.optimizers import CLIP_NORM, LEARNING_RATE, MOMENTUM, NESTEROV, WEIGHT_DECAY
from backprop.options import Declared, Option, lenient
from backprop.schedules import EARLY_STOPPING, STEP_EPOCHS

# ------------------------------------------------------------------ Option


@pytest.mark.parametrize(
    "option, text",
    [
        (LEARNING_RATE, "a number in (0, 10]"),  # open below, closed above
        (MOMENTUM, "a number in [0, 1)"),  # closed below, open above
        (WEIGHT_DECAY, "a number in [0, 1]"),
        (BATCH_SIZE, "an integer in [1, 4096]"),
        (CLIP_NORM, "a number in (0, 10000], or off"),
        (NESTEROV, "true or false"),
        (LOSS, "one of cross_entropy, mse"),
        (STEP_EPOCHS, "a list of integers in [1, 100000] (at most 20)"),
    ],
)
def test_each_option_describes_its_allowed_values(option, text):
    assert option.range_text() == text


@pytest.mark.parametrize(
    "option, value, message",
    [
        (LEARNING_RATE, 0.0, r"learning_rate must be a number in \(0, 10\], got 0.0"),  # the open end
        (LEARNING_RATE, 10.5, r"learning_rate must be a number in \(0, 10\], got 10.5"),
        (MOMENTUM, 1.0, r"momentum must be a number in \[0, 1\), got 1.0"),  # the open end
        (MOMENTUM, -0.01, r"momentum must be a number in \[0, 1\), got -0.01"),
        (LEARNING_RATE, math.nan, r"got nan"),
        (LEARNING_RATE, math.inf, r"got inf"),
        (LEARNING_RATE, True, r"got True"),  # a bool is not a number here
        (LEARNING_RATE, "0.1", r"got '0.1'"),  # nor is text: parse_text reads text
        (BATCH_SIZE, 32.5, r"batch_size must be an integer in \[1, 4096\], got 32.5"),
        (BATCH_SIZE, math.nan, r"batch_size must be an integer in \[1, 4096\], got nan"),
        (BATCH_SIZE, math.inf, r"got inf"),
        (BATCH_SIZE, False, r"got False"),
        (BATCH_SIZE, None, r"got None"),  # not optional
        (NESTEROV, 1, "nesterov must be true or false, got 1"),
        (LOSS, "hinge", "loss must be one of cross_entropy, mse, got 'hinge'"),
        (
            STEP_EPOCHS,
            [3, 0],
            r"epochs must be a list of integers in \[1, 100000\] \(at most 20\), got \[3, 0\]",
        ),
        (STEP_EPOCHS, list(range(1, 22)), r"got \[1, 2, 3"),
    ],
)
def test_option_check_names_the_option_the_range_and_the_value(option, value, message):
    with pytest.raises(ValueError, match=message):
        option.check(value)


def test_closed_ends_are_accepted():
    assert LEARNING_RATE.check(10) == 10.0
    assert MOMENTUM.check(0) == 0.0
    assert WEIGHT_DECAY.check(1) == 1.0
    assert BATCH_SIZE.check(1) == 1 and BATCH_SIZE.check(4096) == 4096


def test_integral_floats_are_integers():
    # 32.0 from a JSON file or a link is the integer 32
    value = BATCH_SIZE.check(32.0)
    assert value == 32 and type(value) is int
    assert STEP_EPOCHS.check([5.0, 8]) == [5, 8]
    assert type(LEARNING_RATE.check(1)) is float


def test_optional_options_take_none_or_off_and_zero_means_off():
    assert CLIP_NORM.check(None) is None
    assert CLIP_NORM.check(0) is None and CLIP_NORM.check(0.0) is None
    assert CLIP_NORM.check(2.5) == 2.5
    assert EARLY_STOPPING.check(None) is None and EARLY_STOPPING.check(0) is None
    assert CLIP_NORM.parse_text("off") is None and CLIP_NORM.parse_text("none") is None
    assert EARLY_STOPPING.range_text() == "an integer in (0, 1000], or off"


@pytest.mark.parametrize(
    "option, text, value",
    [
        (LEARNING_RATE, " 0.5 ", 0.5),
        (BATCH_SIZE, "64", 64),
        (NESTEROV, "true", True),
        (NESTEROV, "off", False),
        (STEP_EPOCHS, "5, 8", [5, 8]),
        (STEP_EPOCHS, "5;8", [5, 8]),
        (LOSS, "mse", "mse"),
    ],
)
def test_parse_text_reads_command_line_and_form_text(option, text, value):
    assert option.parse_text(text) == value


def test_parse_text_of_something_unreadable_repeats_it():
    with pytest.raises(ValueError, match=r"batch_size must be an integer in \[1, 4096\], got 'many'"):
        BATCH_SIZE.parse_text("many")
    with pytest.raises(ValueError, match="nesterov must be true or false, got 'maybe'"):
        NESTEROV.parse_text("maybe")


def test_a_declaration_with_a_default_outside_its_own_range_is_refused():
    with pytest.raises(ValueError, match=r"x must be a number in \[0, 1\], got 5.0"):
        Option("x", "float", 5.0, low=0.0, high=1.0)
    with pytest.raises(ValueError, match="option 'x': kind must be one of"):
        Option("x", "complex", 1.0)


def test_declared_options_fill_defaults_and_refuse_unknown_names():
    declared = Declared("demo", "Demo", options=(MOMENTUM, NESTEROV))
    assert declared.check_options({"momentum": 0.5}, "optimizer") == {"momentum": 0.5, "nesterov": False}
    with pytest.raises(ValueError, match="optimizer 'demo' has no option beta1; it takes momentum, nesterov"):
        declared.check_options({"beta1": 0.9}, "optimizer")
    with pytest.raises(ValueError, match=r"momentum must be a number in \[0, 1\), got 1.5"):
        declared.check_options({"momentum": 1.5}, "optimizer")


def test_lenient_falls_back_to_the_default_with_a_notice():
    notices = []
    assert lenient(LEARNING_RATE, 20000, notices, "setting") == 0.03
    assert notices == [
        r"setting learning_rate must be a number in (0, 10], got 20000; using the default 0.03"
    ]
    assert lenient(LEARNING_RATE, 0.5, notices, "setting") == 0.5 and len(notices) == 1


def test_an_integer_bound_is_written_out_in_full():
    assert SEED.range_text() == "an integer in [0, 2147483647]"


def test_a_one_sided_range_reads_as_a_sentence():
    assert Option("n", "int", 1, low=1).range_text() == "an integer ≥ 1"


def test_every_run_setting_is_declared_once_with_its_flag():
    names = [option.name for option in OPTIONS]
    assert len(names) == len(set(names))
    assert set(names) <= set(RunConfig().to_dict())
    assert {option.name: option.flag for option in OPTIONS}["learning_rate"] == "--lr"
    assert all(option.help for option in OPTIONS)


# ------------------------------------------------------------------ RunConfig: strict and from links


def test_from_dict_is_strict_and_names_the_bad_setting():
    with pytest.raises(ValueError, match=r"unknown configuration keys \['colour'\]"):
        RunConfig.from_dict({"colour": "red"})
    with pytest.raises(ValueError, match=r"learning_rate must be a number in \(0, 10\], got 20000"):
        RunConfig.from_dict({"learning_rate": 20000})
    with pytest.raises(ValueError, match=r"layer 2 'swish' is not a layer"):
        RunConfig.from_dict({"layers": "dense8-swish"})
    with pytest.raises(ValueError, match="optimizer 'adam' has no option momentum"):
        RunConfig.from_dict({"optimizer": "adam", "optimizer_options": {"momentum": 0.9}})
    with pytest.raises(ValueError, match="a run configuration must be a JSON object, got list"):
        RunConfig.from_dict([1, 2])


def test_a_config_stores_its_layers_in_canonical_form_and_only_options_that_differ():
    config = RunConfig(
        layers="Dense8 RELU, drop0.50", optimizer="adam", optimizer_options={"beta1": 0.9, "eps": 1e-6}
    )
    assert config.layers == "dense8-relu-dropout0.5"
    assert config.optimizer_options == {"eps": 1e-6}  # beta1 0.9 is the declared default
    assert config == RunConfig(layers="dense8-relu-dropout0.5", optimizer_options={"eps": 1e-6})


@pytest.mark.parametrize(
    "key, text, shown",
    [
        ("learning_rate", "20000", "learning_rate=20000"),
        ("batch_size", "5000", "batch_size=5000"),
        ("seed", "3000000000", "seed=3000000000"),
        ("weight_decay", "20", "weight_decay=20"),
        ("clip_norm", "1e7", "clip_norm=10000000.0"),
        ("layers", json.dumps("dense100000-relu"), "layers='dense100000-relu'"),
        ("epochs", "0", "epochs=0"),
        ("loss", json.dumps("hinge"), "loss='hinge'"),
        ("batch_size", "true", "batch_size=True"),
        ("learning_rate", "NaN", "learning_rate=nan"),
    ],
)
def test_from_query_falls_back_to_the_default_with_a_notice_naming_the_parameter_and_value(key, text, shown):
    beside = "seed" if key != "seed" else "epochs"  # a valid setting in the same link
    config, notices = RunConfig.from_query({key: text, beside: "7"})
    assert getattr(config, key) == getattr(RunConfig(), key)
    assert len(notices) == 1
    assert notices[0].startswith(f"link setting {shown} is not valid (")
    assert f"using {getattr(RunConfig(), key)!r}" in notices[0]
    assert getattr(config, beside) == 7


def test_from_query_notice_for_a_dense_layer_too_wide_names_the_word_and_the_limit():
    _, notices = RunConfig.from_query({"layers": json.dumps("dense64-relu-dense100000-relu")})
    assert "layer 3 'dense100000': units must be an integer in [1, 4096], got 100000" in notices[0]


def test_from_query_reports_unreadable_text_and_ignores_other_parameters():
    config, notices = RunConfig.from_query({"epochs": "{bad", "page": "step", "learning_rate": "0.1"})
    assert config.learning_rate == 0.1 and config.epochs == 20
    assert notices == [
        "link setting epochs='{bad' is not valid (epochs must be an integer in [1, 10000], got '{bad'); using 20"
    ]


def test_from_query_reads_a_hand_typed_word_as_text():
    config, notices = RunConfig.from_query({"dataset": "shapes", "optimizer": "sgd"})
    assert (config.dataset, config.optimizer, notices) == ("shapes", "sgd", [])


def test_to_query_and_from_query_round_trip_the_settings_that_differ():
    config = RunConfig(
        layers="conv4k3-relu-flatten",
        optimizer="rmsprop",
        optimizer_options={"rho": 0.8},
        learning_rate=0.01,
        schedule={"schedule": "cosine", "total_epochs": 5},
        clip_norm=2.0,
    )
    query = config.to_query()
    assert set(query) == {
        "layers",
        "optimizer",
        "optimizer_options",
        "learning_rate",
        "schedule",
        "clip_norm",
    }
    assert json.loads(query["layers"]) == "conv4k3-relu-flatten"
    again, notices = RunConfig.from_query(query)
    assert again == config and notices == []


# ------------------------------------------------------------------ older layouts


def test_the_older_layout_with_hidden_sizes_upgrades_to_layers_text():
    old = {
        "dataset": "circle",
        "hidden": [6, 5],
        "activation": ["relu", "tanh"],
        "batch_norm": [True, False],
        "dropout": [0.0, 0.25],
        "embedding_dim": 8,
        "optimizer": "momentum",
        "momentum": 0.5,
        "nesterov": True,
    }
    config = RunConfig.from_dict(old)
    assert config.layers == "dense6-bn-relu-dense5-tanh-dropout0.25"
    assert config.optimizer_options == {"momentum": 0.5, "nesterov": True}
    assert RunConfig.from_dict(config.to_dict()) == config
    # momentum settings of a run that did not use momentum are dropped
    assert (
        RunConfig.from_dict({"optimizer": "adam", "momentum": 0.9, "nesterov": False}).optimizer_options == {}
    )


def test_the_older_layout_and_layers_together_are_refused():
    with pytest.raises(ValueError, match="gives both layers and the older hidden/activation settings"):
        RunConfig.from_dict({"hidden": [4], "layers": "dense4-relu"})


def test_an_older_layout_link_upgrades_too():
    config, notices = RunConfig.from_query({"hidden": "[4, 3]", "activation": '"tanh"'})
    assert config.layers == "dense4-tanh-dense3-tanh" and notices == []


def test_an_older_layout_link_with_a_bad_hidden_size_names_it():
    _, notices = RunConfig.from_query({"hidden": "[4, -3]"})
    assert len(notices) == 1 and "hidden" in notices[0] and "-3" in notices[0]


def circle_data(**changes):
    """What building a network needs of the circle dataset (2 features, 2 classes)."""
    facts = dict(
        name="circle",
        input_shape=(2,),
        n_features=2,
        n_outputs=2,
        is_classification=True,
        kind="points",
        vocab=None,
        encoding=None,
    )
    return SimpleNamespace(**{**facts, **changes})


# Initial weights the engine drew before layers were text (float32, printed to full precision), for
# {"hidden": [3], "activation": "tanh", "batch_norm": true, "dropout": 0.1, "seed": 3} on circle data.
OLD_DENSE1_W = [
    -0.9077972173690796,
    -0.5766192674636841,
    0.6600592732429504,
    0.18000800907611847,
    -0.8892195820808411,
    -0.14651153981685638,
]
OLD_DENSE2_W = [
    -0.04589630663394928,
    -0.7454746961593628,
    0.5139327645301819,
    -0.8464021682739258,
    -0.23830708861351013,
    0.03667590394616127,
]
# ... and for {"hidden": [3], "embedding_dim": 2, "seed": 1} on sequences of 2 token ids from 3 tokens.
OLD_TABLE = [
    0.244364932179451,
    0.5809717774391174,
    0.23365429043769836,
    -0.9214712977409363,
    0.6401832699775696,
    0.31563448905944824,
]
OLD_EMBED_DENSE2_W = [
    -0.5930895209312439,
    -0.4753733277320862,
    0.5007293224334717,
    -0.43918249011039734,
    -0.029618050903081894,
    0.9614744186401367,
    0.9233143925666809,
    0.4495798945426941,
    0.08245371282100677,
]


def test_an_older_layout_builds_the_network_with_the_same_initial_weights_as_before():
    old = {
        "dataset": "circle",
        "dataset_params": {"samples": 40},
        "hidden": [3],
        "activation": "tanh",
        "batch_norm": True,
        "dropout": 0.1,
        "seed": 3,
        "optimizer": "momentum",
        "momentum": 0.5,
        "nesterov": True,
    }
    config = RunConfig.from_dict(old)
    net = config.build_network(circle_data())
    assert net.spec == "dense3-bn-tanh-dropout0.1-dense2"
    weights = net.get_weights()
    np.testing.assert_array_equal(weights["dense1.W"].ravel(), np.float32(OLD_DENSE1_W))
    np.testing.assert_array_equal(weights["dense2.W"].ravel(), np.float32(OLD_DENSE2_W))
    np.testing.assert_array_equal(weights["bn1.gamma"], [1.0, 1.0, 1.0])


def test_an_older_layout_with_an_embedding_builds_the_same_initial_weights_as_before():
    params = {"vocab": "abc", "context": 2, "encoding": "embedding", "seed": 0}
    config = RunConfig.from_dict(
        {"dataset": "sequences", "dataset_params": params, "hidden": [3], "embedding_dim": 2, "seed": 1}
    )
    assert config.layers == "embed2-flatten-dense3-gelu"
    tokens = circle_data(
        name="sequences",
        input_shape=(2,),
        n_features=2,
        n_outputs=3,
        kind="sequence",
        vocab=list("abc"),
        encoding="embedding",
    )
    net = config.build_network(tokens)
    assert net.spec == "embed2-flatten-dense3-gelu-dense3"
    weights = net.get_weights()
    np.testing.assert_array_equal(weights["embed1.table"].ravel(), np.float32(OLD_TABLE))
    np.testing.assert_array_equal(weights["dense2.W"].ravel(), np.float32(OLD_EMBED_DENSE2_W))


def test_token_ids_get_an_embedding_first_unless_the_layers_start_with_one():
    tokens = circle_data(
        input_shape=(4,), n_features=4, n_outputs=3, vocab=list("abcde"), encoding="embedding"
    )
    assert RunConfig(layers="dense8-relu").build_network(tokens).spec == "embed8-flatten-dense8-relu-dense3"
    assert RunConfig(layers="embed3-flatten-dense8-relu").build_network(tokens).spec == (
        "embed3-flatten-dense8-relu-dense3"
    )


def test_a_regression_dataset_needs_the_mse_loss():
    curve = circle_data(name="sine", n_outputs=1, is_classification=False)
    with pytest.raises(ValueError, match="sine is a regression dataset: use the mse loss, not cross_entropy"):
        RunConfig().build_network(curve)
    assert RunConfig(loss="mse").build_network(curve).loss == "mse"
