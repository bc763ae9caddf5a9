"""The layers text: canonical forms, every word kind, the output layer, shapes, and errors that
name the bad part (its position, its word and the shapes)."""

import numpy as np
import pytest

from backprop import LAYER_KINDS, Network, check_spec
from backprop import network as network_module
from backprop.activations import ACTIVATIONS
from backprop.architecture import MAX_WORDS, mlp_spec, numbers_per_sample


@pytest.mark.parametrize(
    "text, canonical",
    [
        ("dense64-relu", "dense64-relu"),
        ("Dense64-RELU", "dense64-relu"),
        ("  dense8 gelu, dense4  ", "dense8-gelu-dense4"),
        ("conv8k3s1p0", "conv8k3"),
        ("conv8k3s2", "conv8k3s2"),
        ("conv8k3p1", "conv8k3p1"),
        ("conv8k3s2p1", "conv8k3s2p1"),
        ("pool2", "maxpool2"),
        ("maxpool3", "maxpool3"),
        ("avgpool2", "avgpool2"),
        ("batchnorm", "bn"),
        ("drop0.50", "dropout0.5"),
        ("dropout.25", "dropout0.25"),
        ("dropout0", "dropout0"),
        ("embed4-flatten", "embed4-flatten"),
        ("dense007", "dense7"),
        ("", ""),
    ],
)
def test_check_spec_gives_the_canonical_form(text, canonical):
    assert check_spec(text) == canonical
    assert check_spec(canonical) == canonical  # canonical text is a fixed point


def test_every_activation_is_a_word():
    assert check_spec("-".join(ACTIVATIONS)) == "relu-gelu-gelu_tanh-tanh-sigmoid-leaky_relu-linear"


def test_a_network_with_every_word_kind_builds_with_the_shapes_worked_out_by_hand():
    net = Network(
        "conv4k3p1-bn-relu-maxpool2-conv6k3s2-gelu-avgpool2-flatten-dense8-bn-tanh-dropout0.25-dense5-sigmoid",
        input_shape=(10, 12),
        n_outputs=3,
    )
    kinds = {layer.kind for layer in net.layers}
    # the sequence words (embed, pos, ln, attn, res, add, last) have their own tests in test_attention.py
    assert kinds - {"activation"} == set(LAYER_KINDS) - {"embed", "pos", "ln", "attn", "res", "add", "last"}
    # 1×10×12 → conv4k3p1: 4×10×12 → maxpool2: 4×5×6 → conv6k3s2: (5 − 3)//2 + 1 = 2, (6 − 3)//2 + 1 = 2
    # → avgpool2: 6×1×1 → flatten: 6 → dense8 → dense5 → the output layer dense3
    assert net.shapes == [
        (1, 10, 12),
        (4, 10, 12),
        (4, 10, 12),
        (4, 10, 12),
        (4, 5, 6),
        (6, 2, 2),
        (6, 2, 2),
        (6, 1, 1),
        (6,),
        (8,),
        (8,),
        (8,),
        (8,),
        (5,),
        (5,),
        (3,),
    ]
    assert net.spec.endswith("-dense5-sigmoid-dense3")
    x = np.random.default_rng(0).normal(size=(4, 120))
    assert net.gradients(x, np.array([0, 1, 2, 0])).layers[0].grads["W"].shape == (4, 1, 3, 3)


def test_pooling_a_map_smaller_than_its_window_is_refused():
    with pytest.raises(ValueError, match=r"layer 7 'avgpool2' has a 2×2 window, larger than its 1×2 input"):
        Network(
            "conv4k3p1-bn-relu-maxpool2-conv6k3s2-gelu-avgpool2-flatten", input_shape=(9, 10), n_outputs=3
        )


def test_the_textbook_cnn_has_the_shapes_names_and_parameter_count_worked_out_by_hand():
    net = Network("conv8k3-relu-maxpool2-conv16k3-relu-maxpool2-flatten", input_shape=(28, 28), n_outputs=10)
    assert net.spec == "conv8k3-relu-maxpool2-conv16k3-relu-maxpool2-flatten-dense10"
    assert [layer.name for layer in net.layers] == [
        "conv1",
        "relu1",
        "maxpool1",
        "conv2",
        "relu2",
        "maxpool2",
        "flatten1",
        "dense1",
    ]
    # 28 − 3 + 1 = 26, /2 = 13, 13 − 3 + 1 = 11, //2 = 5, 16·5·5 = 400
    assert net.shapes == [
        (1, 28, 28),
        (8, 26, 26),
        (8, 26, 26),
        (8, 13, 13),
        (16, 11, 11),
        (16, 11, 11),
        (16, 5, 5),
        (400,),
        (10,),
    ]
    # conv1 8·(1·9 + 1) = 80, conv2 16·(8·9 + 1) = 1168, dense1 400·10 + 10 = 4010
    assert net.n_parameters == 80 + 1168 + 4010
    assert [layer.W.shape for layer in net.layers if "W" in layer.params] == [
        (8, 1, 3, 3),
        (16, 8, 3, 3),
        (400, 10),
    ]


def test_each_planned_parameter_count_is_what_the_built_layer_holds():
    net = Network(
        "conv4k3p1-bn-relu-maxpool2-flatten-dense8-bn-tanh-dropout0.2", input_shape=(6, 6, 3), n_outputs=2
    )
    assert [step.parameters for step in net.plan] == [
        sum(value.size for value in layer.params.values()) for layer in net.layers
    ]
    assert [step.output_shape for step in net.plan] == net.shapes[1:]


def test_an_embedding_reads_token_ids_and_gives_one_vector_per_position():
    net = Network("embed4-flatten-dense6-relu", input_shape=(3,), n_outputs=5, vocab_size=7)
    assert net.spec == "embed4-flatten-dense6-relu-dense5"
    assert net.shapes == [(3,), (3, 4), (12,), (6,), (6,), (5,)]
    assert net.embedding is net.layers[0] and net.embedding.table.shape == (7, 4)
    assert net.forward(np.array([[0, 6, 6]])).record("embed1").out.shape == (1, 3, 4)


@pytest.mark.parametrize(
    "text, n_outputs, spec",
    [
        ("dense8-relu", 3, "dense8-relu-dense3"),
        ("dense8-relu-dense3", 3, "dense8-relu-dense3"),  # already ends with the output layer
        ("dense8-relu-dense5", 3, "dense8-relu-dense5-dense3"),  # ends with a dense layer of another size
        ("dense3-relu", 3, "dense3-relu-dense3"),  # an activation after it: not the output layer
        ("", 3, "dense3"),  # no hidden layer: a linear model
        ("conv2k3-flatten", 4, "conv2k3-flatten-dense4"),
    ],
)
def test_the_output_layer_is_appended_unless_the_text_ends_with_it(text, n_outputs, spec):
    shape = (6, 6) if text.startswith("conv") else (4,)
    net = Network(text, input_shape=shape, n_outputs=n_outputs)
    assert net.spec == spec
    assert net.layers[-1].kind == "dense" and net.layers[-1].W.shape[1] == n_outputs


def test_blocks_group_each_transform_layer_with_the_layers_after_it():
    net = Network("conv4k3-relu-maxpool2-flatten-dense8-bn-tanh-dropout0.5", input_shape=(8, 8), n_outputs=2)
    blocks = net.blocks()
    assert [[layer.name for layer in block.layers] for block in blocks] == [
        ["conv1", "relu1", "maxpool1", "flatten1"],
        ["dense1", "bn1", "tanh1", "dropout1"],
        ["dense2"],
    ]
    assert [block.activation for block in blocks] == ["relu", "tanh", "linear"]
    assert blocks[1].stages == ("affine", "batch_norm", "activation", "dropout")


def test_the_configuration_rebuilds_the_same_network():
    net = Network(
        "conv4k3p1-relu-avgpool2-flatten-dense8-gelu",
        input_shape=(6, 6, 3),
        n_outputs=2,
        seed=5,
        init="he",
        dtype="float64",
    )
    config = net.config()
    assert config == {
        "architecture": "conv4k3p1-relu-avgpool2-flatten-dense8-gelu-dense2",
        "input_shape": [6, 6, 3],
        "n_outputs": 2,
        "vocab_size": None,
        "loss": "cross_entropy",
        "init": "he",
        "init_std": 0.01,
        "seed": 5,
        "dtype": "float64",
    }
    twin = Network(**config)
    assert twin.spec == net.spec
    for name, value in net.get_weights().items():
        np.testing.assert_array_equal(twin.get_weights()[name], value, err_msg=name)


def test_mlp_spec_writes_hidden_sizes_and_per_layer_settings_as_text():
    assert mlp_spec([8, 4]) == "dense8-relu-dense4-relu"
    assert (
        mlp_spec([8, 4], ["tanh", "gelu"], [True, False], [0.0, 0.5], embedding_dim=3)
        == "embed3-flatten-dense8-bn-tanh-dense4-gelu-dropout0.5"
    )
    assert mlp_spec([]) == ""
    # sizes form and text form are the same network
    by_sizes = Network([4, 8, 3], activation="tanh", batch_norm=True, dropout=0.1, seed=2)
    by_text = Network("dense8-bn-tanh-dropout0.1", input_shape=(4,), n_outputs=3, seed=2)
    assert by_sizes.spec == by_text.spec
    for name, value in by_sizes.get_weights().items():
        np.testing.assert_array_equal(by_text.get_weights()[name], value)


# ------------------------------------------------------------------ errors


def build(text, input_shape=(6, 6), n_outputs=2, **options):
    return Network(text, input_shape=input_shape, n_outputs=n_outputs, **options)


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda: check_spec("dense8-foo-relu"),
            r"layer 2 'foo' is not a layer; write one of dense64, conv8k3",
        ),
        (lambda: check_spec("dense8-swish"), r"or an activation \(relu, gelu, gelu_tanh, tanh, sigmoid"),
        (
            lambda: check_spec("conv8k3s0"),
            r"layer 1 'conv8k3s0': stride must be an integer in \[1, 8\], got 0",
        ),
        (
            lambda: check_spec("relu-conv8k3s9"),
            r"layer 2 'conv8k3s9': stride must be an integer in \[1, 8\], got 9",
        ),
        (lambda: check_spec("conv0k3"), r"'conv0k3': channels must be an integer in \[1, 512\], got 0"),
        (lambda: check_spec("conv8k3p8"), r"'conv8k3p8': padding must be an integer in \[0, 7\], got 8"),
        (lambda: check_spec("dense0"), r"'dense0': units must be an integer in \[1, 4096\], got 0"),
        (
            lambda: check_spec("dense100000"),
            r"'dense100000': units must be an integer in \[1, 4096\], got 100000",
        ),
        (lambda: check_spec("dropout1"), r"'dropout1': rate must be a number in \[0, 1\), got 1.0"),
        (lambda: check_spec("maxpool0"), r"'maxpool0': size must be an integer in \[1, 8\], got 0"),
        (lambda: check_spec(5), "an architecture is text such as 'dense64-relu', got 5"),
        (
            lambda: check_spec("-".join(["relu"] * (MAX_WORDS + 1))),
            f"at most {MAX_WORDS} layers, got {MAX_WORDS + 1}",
        ),
        (lambda: build("conv4k7"), r"layer 1 'conv4k7' has a 7×7 kernel, larger than its 6×6 input"),
        (
            lambda: build("conv4k9p1"),
            r"layer 1 'conv4k9p1' has a 9×9 kernel, larger than its 6×6 input padded by 1",
        ),
        (
            lambda: build("conv4k3-relu-dense8"),
            r"layer 3 'dense8' needs one row of features per sample but gets feature maps 4×4×4: put flatten before it",
        ),
        (
            lambda: build("conv4k3", input_shape=(36,)),
            r"layer 1 'conv4k3' needs images, but each sample is 36 numbers",
        ),
        (lambda: build("maxpool2-flatten", input_shape=(36,)), r"layer 1 'maxpool2' needs images"),
        (
            lambda: build("conv4k3-flatten-conv4k3"),
            r"layer 3 'conv4k3' needs images or feature maps .* 64 features",
        ),
        (
            lambda: build("conv4k3-maxpool8"),
            r"layer 2 'maxpool8' has a 8×8 window, larger than its 4×4 input",
        ),
        (
            lambda: build("embed4-flatten", input_shape=(3,)),
            r"layer 1 'embed4': an embedding needs token ids",
        ),
        (
            lambda: build("dense4", input_shape=(3,), vocab_size=5),
            r"layer 1 'dense4': token ids need an embedding first, e.g. embed8-flatten-dense4",
        ),
        (
            lambda: build("embed4-dense3", input_shape=(3,), vocab_size=5),
            r"the network ends with a sequence of 3 vectors of 2, not one vector per sample: put last",
        ),
        (
            lambda: build("embed4-bn", input_shape=(3,), vocab_size=5),
            r"layer 2 'bn' normalises features or channels",
        ),
    ],
)
def test_architecture_errors_name_the_layer_the_word_and_the_shapes(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_forty_words_are_accepted():
    assert check_spec("-".join(["relu"] * MAX_WORDS)).count("relu") == MAX_WORDS


def test_an_embedding_can_only_be_the_first_layer():
    with pytest.raises(ValueError, match="layer 3 'embed4': an embedding can only be the first layer"):
        build("embed4-flatten-embed4", input_shape=(3,), vocab_size=5)


@pytest.mark.parametrize("input_shape", [(2, 3, 4, 5), (6, 6, 3, 1)])
def test_an_input_shape_that_is_no_image_is_refused_for_a_convolution(input_shape):
    with pytest.raises(ValueError, match=r"layer 1 'conv4k3' needs images, but each sample is \d+ numbers"):
        Network("conv4k3", input_shape=input_shape, n_outputs=2)


def test_a_conv_network_given_rows_of_the_wrong_width_names_the_expected_width():
    net = build("conv2k3-flatten")
    with pytest.raises(ValueError, match=r"expected inputs of shape \(N, 36\), got \(2, 35\)"):
        net.output(np.zeros((2, 35)))


def test_the_numbers_a_sample_keeps_are_what_a_forward_pass_holds():
    # The batch budget is worked out from the plan before anything is built: each layer's count is its
    # output plus what it keeps inside (a convolution's im2col columns, attention's Q, K, V and scores).
    n = 5
    conv = Network("conv4k3-relu-maxpool2-flatten", input_shape=(8, 8), n_outputs=3)
    conv.forward(np.zeros((n, 64), np.float32))
    layer, step = conv.layers[0], conv.plan[0]
    assert layer.cols.size == n * (step.numbers - np.prod(step.output_shape))
    assert [step.numbers for step in conv.plan[1:]] == [np.prod(step.output_shape) for step in conv.plan[1:]]
    assert numbers_per_sample(conv.plan) == 64 + sum(step.numbers for step in conv.plan)

    seq = Network("embed8-attn2-last", input_shape=(6,), n_outputs=4, vocab_size=5)
    seq.forward(np.zeros((n, 6)))
    attn, step = seq.layers[1], seq.plan[1]
    inside = sum(getattr(attn, name).size for name in ("q", "k", "v", "z", "scores", "weights"))
    assert inside == n * (step.numbers - np.prod(step.output_shape))


def test_a_whole_set_is_evaluated_in_passes_that_keep_few_numbers(monkeypatch):
    net = Network("conv4k3-relu-flatten", input_shape=(8, 8), n_outputs=3, dtype="float64")
    x = np.random.default_rng(0).normal(size=(50, 64))
    whole = net.output(x)
    assert net.evaluation_rows() == 2048  # a small net: the whole set in one pass
    monkeypatch.setattr(network_module, "EVALUATION_NUMBERS", 3 * numbers_per_sample(net.plan))
    assert net.evaluation_rows() == 3
    np.testing.assert_allclose(net.output(x), whole, rtol=1e-12, atol=1e-12)
