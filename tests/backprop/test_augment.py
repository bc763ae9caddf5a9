"""Random shifts of training images: exact moves, reproducible batches, and what they are for."""

import numpy as np
import pytest

from backprop import Network, RunConfig, Trainer
from backprop.augment import AUGMENT_SHIFT, random_shift, shift_images
from backprop.cli import build_parser, config_from_args, train_command


def test_a_single_bright_pixel_moves_by_its_offsets_and_zeros_move_in():
    images = np.zeros((3, 5, 5), np.float32)
    images[:, 2, 2] = 1.0
    moved = shift_images(images, dy=np.array([1, -2, 0]), dx=np.array([0, 1, -2]))
    assert [tuple(np.argwhere(m)[0]) for m in moved] == [(3, 2), (0, 3), (2, 0)]
    assert moved.sum() == 3.0  # nothing else lit up
    full = np.ones((1, 4, 4), np.float32)
    edge = shift_images(full, dy=np.array([1]), dx=np.array([-1]))[0]
    assert edge[0].tolist() == [0, 0, 0, 0] and edge[:, 3].tolist() == [0, 0, 0, 0]
    assert edge[1:, :3].min() == 1.0


def test_the_channels_of_a_colour_image_move_together():
    images = np.zeros((1, 4, 4, 3), np.float32)
    images[0, 1, 1] = [0.2, 0.5, 0.9]
    moved = shift_images(images, dy=np.array([2]), dx=np.array([1]))
    assert moved[0, 3, 2].tolist() == pytest.approx([0.2, 0.5, 0.9])


def test_random_shift_keeps_rows_flat_and_offsets_within_the_limit():
    rows = np.zeros((400, 49), np.float32)
    rows[:, 24] = 1.0  # the centre of a 7×7 image
    original = rows.copy()
    moved = random_shift(rows, (7, 7), 2, np.random.default_rng(0))
    assert moved.shape == rows.shape and moved.dtype == rows.dtype
    np.testing.assert_array_equal(rows, original)  # the data set is never changed
    where = np.argwhere(moved.reshape(400, 7, 7))[:, 1:] - 3
    assert where.min() == -2 and where.max() == 2  # every offset within ±2, both ends reached
    assert len({tuple(w) for w in where}) == 25
    assert random_shift(rows, (7, 7), 0, np.random.default_rng(0)) is rows


def test_a_shift_that_would_leave_the_frame_or_data_that_are_no_pictures_are_refused():
    with pytest.raises(ValueError, match="off its frame; use at most 3"):
        random_shift(np.zeros((2, 64), np.float32), (8, 8), 4, np.random.default_rng(0))
    with pytest.raises(ValueError, match="not a .height, width. picture"):
        Trainer(Network([2, 4, 2]), augment_shift=1)
    with pytest.raises(ValueError, match="augment_shift must be"):
        AUGMENT_SHIFT.check(-1)


def image_net(seed=0):
    return Network("dense16-relu", input_shape=(8, 8), n_outputs=2, seed=seed)


def bars(n, offsets, seed=0):
    """8×8 images of a horizontal (class 0) or vertical (class 1) bar, 5 px long, at row/column 3 + offset."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = np.zeros((n, 8, 8), np.float32)
    for k in range(n):
        at = 3 + int(rng.choice(offsets))
        start = 1 + int(rng.integers(0, 3))
        if y[k] == 0:
            x[k, at, start : start + 5] = 1.0
        else:
            x[k, start : start + 5, at] = 1.0
    return x.reshape(n, 64), y


def test_each_batch_is_moved_by_offsets_fixed_by_seed_epoch_and_batch():
    x, y = bars(64, [0])
    seen = []
    trainer = Trainer(image_net(), optimizer="sgd", learning_rate=0.1, batch_size=16, augment_shift=2)
    trainer.run(x, y, steps=2, callback=lambda e: seen.append(e.trace.x.copy()) if e.kind == "step" else None)
    order = trainer.batch_order(64, 0)
    for batch, shown in enumerate(seen):
        rows = x[order[batch * 16 : (batch + 1) * 16]]
        expected = random_shift(rows, (8, 8), 2, np.random.default_rng([0, 11, 0, batch]))
        np.testing.assert_array_equal(shown, expected)
        assert not np.array_equal(shown, rows)


def test_a_shifted_run_resumed_from_its_cursor_matches_one_uninterrupted_run():
    x, y = bars(96, [0])

    def trainer():
        return Trainer(image_net(), optimizer="adam", learning_rate=0.01, batch_size=32, augment_shift=1)

    whole = trainer()
    whole.run(x, y, epochs=2)
    first = trainer()
    first.run(x, y, steps=4)
    second = Trainer(first.net, optimizer=first.optimizer, batch_size=32, augment_shift=1)
    second.resume(first.cursor(), first.history)
    second.run(x, y, epochs=1)
    for a, b in zip(whole.net.get_weights(), second.net.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_shifted_training_recognises_bars_away_from_where_every_training_bar_was():
    x_train, y_train = bars(400, [0])  # every bar at row/column 3
    x_test, y_test = bars(400, [-2, 2], seed=1)  # two pixels away from there
    accuracy = {}
    for shift in (0, 2):
        trainer = Trainer(
            image_net(), optimizer="adam", learning_rate=0.01, batch_size=32, augment_shift=shift
        )
        trainer.run(x_train, y_train, epochs=30)
        accuracy[shift] = float(np.mean(trainer.net.predict(x_test) == y_test))
    assert accuracy[2] > 0.95 > accuracy[0] + 0.2, accuracy


def test_augment_shift_reaches_the_trainer_the_command_line_a_link_and_the_description():
    config = RunConfig(dataset="digits", layers="dense16-relu", augment_shift=1)
    assert "shift ±1 px" in config.describe()
    command = train_command(config)
    assert "--augment-shift 1" in command
    assert config_from_args(build_parser().parse_args(command.split()[3:])) == config
    assert RunConfig.from_query(config.to_query()) == (config, [])
    net = config.build_network(facts={"input_shape": [8, 8], "n_outputs": 10})
    assert config.build_trainer(net).augment_shift == 1
    with pytest.raises(ValueError, match="augment_shift"):
        RunConfig(augment_shift=9)


def test_images_shaped_for_a_convolution_move_like_their_flat_rows():
    rows = np.random.default_rng(1).random((5, 36)).astype(np.float32)
    flat = random_shift(rows, (6, 6), 2, np.random.default_rng(7))
    shaped = random_shift(rows.reshape(5, 1, 6, 6), (6, 6), 2, np.random.default_rng(7))
    assert shaped.shape == (5, 1, 6, 6)
    np.testing.assert_array_equal(shaped.reshape(5, 36), flat)


def test_a_convolutional_network_trains_on_shifted_images():
    x, y = bars(64, [0])
    net = Network("conv4k3p1-relu-maxpool2-flatten", input_shape=(8, 8), n_outputs=2, seed=0)
    trainer = Trainer(net, optimizer="adam", learning_rate=0.01, batch_size=16, augment_shift=1)
    history = trainer.run(x, y, epochs=3)
    assert history.epochs[-1]["train_loss"] < history.epochs[0]["train_loss"]
