"""The training loop: learning, history, schedules, early stopping, stop/resume, seeds, divergence."""

import math

import numpy as np
import pytest

from backprop import (
    OPTIMIZERS,
    Cosine,
    EarlyStopping,
    Network,
    ReduceOnPlateau,
    StepDecay,
    Trainer,
    TrainingDiverged,
)
from backprop.training import EPOCH_FIELDS


def xor_points(n=200, seed=0):
    """Four Gaussian blobs at (±1, ±1); the class is whether the two signs agree."""
    rng = np.random.default_rng(seed)
    centres = rng.choice([-1.0, 1.0], size=(n, 2))
    x = centres + rng.normal(scale=0.25, size=(n, 2))
    y = (centres[:, 0] * centres[:, 1] > 0).astype(np.int64)
    return x, y


def xor_network(seed=0, **options):
    return Network([2, 16, 2], activation="tanh", seed=seed, **options)


RATES = {"sgd": 0.5, "momentum": 0.1, "rmsprop": 0.01, "adam": 0.02}


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_training_learns_xor_with_every_optimizer(optimizer):
    x, y = xor_points()
    net = xor_network()
    start = net.evaluate(x, y)
    history = net.fit(x, y, epochs=40, batch_size=20, optimizer=optimizer, learning_rate=RATES[optimizer])
    end = net.evaluate(x, y)
    assert end["loss"] < 0.3 * start["loss"]
    assert end["accuracy"] >= 0.95
    assert history["train_loss"][-1] < history["train_loss"][0]


def test_history_records_every_field_of_every_epoch():
    x, y = xor_points(n=100)
    xv, yv = xor_points(n=40, seed=1)
    history = xor_network().fit(
        x, y, epochs=3, batch_size=32, optimizer="sgd", learning_rate=0.3, validation=(xv, yv)
    )
    assert len(history) == 3
    for k, record in enumerate(history.epochs, start=1):
        assert set(record) == set(EPOCH_FIELDS)
        assert record["epoch"] == k
        assert record["step"] == 4 * k  # ceil(100 / 32) steps per epoch
        assert record["samples_seen"] == 100 * k
        assert record["learning_rate"] == 0.3
        assert record["seconds"] > 0
        assert 0 <= record["train_accuracy"] <= 1 and 0 <= record["val_accuracy"] <= 1
        assert record["train_loss"] > 0 and record["val_loss"] > 0
    assert len(history.step_loss) == 12


def test_history_without_validation_leaves_validation_fields_empty():
    x, y = xor_points(n=50)
    history = xor_network().fit(x, y, epochs=1, batch_size=50, optimizer="sgd", learning_rate=0.1)
    assert history.epochs[0]["val_loss"] is None and history.epochs[0]["val_accuracy"] is None


def test_regression_history_has_no_accuracy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 2))
    history = Network([2, 4, 1], loss="mse").fit(
        x, x.sum(axis=1), epochs=1, batch_size=10, optimizer="sgd", learning_rate=0.1
    )
    assert history.epochs[0]["train_accuracy"] is None


def test_train_loss_is_the_sample_weighted_mean_of_step_losses():
    x, y = xor_points(n=50)
    history = xor_network().fit(x, y, epochs=1, batch_size=20, optimizer="sgd", learning_rate=0.1)
    # steps of 20, 20 and 10 samples
    expected = (20 * history.step_loss[0] + 20 * history.step_loss[1] + 10 * history.step_loss[2]) / 50
    assert history.epochs[0]["train_loss"] == pytest.approx(expected, rel=1e-12)


def test_step_decay_multiplies_the_rate_after_the_listed_epochs():
    x, y = xor_points(n=40)
    trainer = Trainer(
        xor_network(),
        optimizer="sgd",
        learning_rate=0.1,
        batch_size=40,
        schedule=StepDecay(epochs=[2, 4], factor=0.5),
    )
    history = trainer.run(x, y, epochs=5)
    assert history["learning_rate"] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])


def test_step_decay_by_name_and_options():
    trainer = Trainer(xor_network(), learning_rate=0.1, schedule={"schedule": "step", "epochs": [1]})
    assert isinstance(trainer.schedule, StepDecay) and trainer.schedule.factor == 0.1


def test_cosine_schedule_goes_from_the_base_rate_to_the_minimum():
    x, y = xor_points(n=40)
    trainer = Trainer(
        xor_network(),
        optimizer="sgd",
        learning_rate=0.1,
        batch_size=40,
        schedule=Cosine(total_epochs=4, min_rate=0.01),
    )
    history = trainer.run(x, y, epochs=4)
    # epoch 2 runs at 0.01 + 0.09·½(1 + cos(π/4))
    assert history["learning_rate"][0] == 0.1
    assert history["learning_rate"][1] == pytest.approx(0.01 + 0.045 * (1 + math.cos(math.pi / 4)))
    assert trainer.optimizer.learning_rate == pytest.approx(0.01)


def test_reduce_on_plateau_cuts_the_rate_after_patience_epochs_without_improvement():
    schedule = ReduceOnPlateau(factor=0.5, patience=2, monitor="val_loss")
    rate = 1.0
    rates = []
    for value in (1.0, 0.8, 0.9, 0.85, 0.7, 0.75, 0.75):
        rate = schedule.next_rate(1.0, rate, 0, {"val_loss": value})
        rates.append(rate)
    # improvements at 1.0, 0.8 and 0.7; two misses after each of the last two cut the rate
    assert rates == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]


def test_early_stopping_stops_and_restores_the_best_weights():
    x, y = xor_points(n=80)
    # validation labels are the opposite class: learning the training set makes them worse
    validation = (x, 1 - y)
    net = xor_network()
    snapshots = {}

    def keep_weights(event):
        # the weights at the end of each epoch, before early stopping may restore others
        if event.kind == "step":
            snapshots[event.epoch] = net.get_weights()

    trainer = Trainer(
        net,
        optimizer="sgd",
        learning_rate=0.5,
        batch_size=20,
        early_stopping=EarlyStopping(patience=2, monitor="val_loss"),
    )
    history = trainer.run(x, y, epochs=20, validation=validation, callback=keep_weights)
    losses = history["val_loss"]
    best = int(np.argmin(losses)) + 1
    assert len(history) == best + 2 < 20
    assert "early stopping" in history.stop_reason
    assert history.best_epoch == best and history.best_monitor == "val_loss"
    weights = net.get_weights()
    for name, value in snapshots[best].items():
        np.testing.assert_array_equal(weights[name], value, err_msg=name)
    assert not np.array_equal(weights["dense1.W"], snapshots[len(history)]["dense1.W"])


def test_a_callback_returning_true_stops_after_that_step_and_a_second_run_resumes():
    x, y = xor_points(n=100)
    net = xor_network()
    trainer = Trainer(net, optimizer="sgd", learning_rate=0.1, batch_size=10)
    history = trainer.run(x, y, epochs=1, callback=lambda event: event.kind == "step" and event.step == 3)
    assert trainer.step == 3 and len(history.step_loss) == 3 and len(history) == 0
    assert trainer.stopped and history.stop_reason == "stopped by the user"
    history = trainer.run(x, y, epochs=1)
    assert trainer.step == 10 and len(history) == 1 and history.epochs[0]["samples_seen"] == 100

    uninterrupted = xor_network()
    reference = Trainer(uninterrupted, optimizer="sgd", learning_rate=0.1, batch_size=10)
    reference.run(x, y, epochs=1)
    assert history.step_loss == reference.history.step_loss
    np.testing.assert_array_equal(net.layers[0].W, uninterrupted.layers[0].W)
    assert net.layers[0].name == "dense1"


def test_run_by_steps_stops_mid_epoch():
    x, y = xor_points(n=100)
    trainer = Trainer(xor_network(), optimizer="sgd", learning_rate=0.1, batch_size=10)
    trainer.run(x, y, steps=4)
    assert trainer.step == 4 and trainer.batch_index == 4 and trainer.epoch == 0


def test_batch_order_is_fixed_by_the_seed():
    x, y = xor_points(n=60)
    losses = []
    for seed in (5, 5, 6):
        trainer = Trainer(xor_network(), optimizer="sgd", learning_rate=0.1, batch_size=8, seed=seed)
        losses.append(trainer.run(x, y, epochs=2).step_loss)
    assert losses[0] == losses[1]
    assert losses[0] != losses[2]


def test_each_epoch_visits_every_sample_once():
    trainer = Trainer(xor_network(), batch_size=8, seed=3)
    order = trainer.batch_order(50, 0)
    assert sorted(order) == list(range(50))
    assert not np.array_equal(order, trainer.batch_order(50, 1))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("optimizer", ["sgd", "momentum"])
def test_the_largest_learning_rate_on_large_inputs_raises_training_diverged_and_keeps_the_last_finite_weights(
    optimizer,
):
    x, y = xor_points(n=100)
    net = Network([2, 16, 16, 2], activation="relu", seed=0)
    before_step = [net.get_weights()]

    def remember(event):
        if event.kind == "step":
            before_step.append(net.get_weights())

    # 10 is the largest rate the declaration allows; inputs 1000 times larger make it far too large
    trainer = Trainer(net, optimizer=optimizer, learning_rate=10, batch_size=16)
    with pytest.raises(TrainingDiverged, match=r"Lower the learning rate \(now 10\)"):
        trainer.run(x * 1e3, y, epochs=10, callback=remember)
    weights = net.get_weights()
    assert trainer.step == len(before_step) - 1 >= 1
    for name, value in weights.items():
        assert np.all(np.isfinite(value)), name
        np.testing.assert_array_equal(value, before_step[-1][name], err_msg=name)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("optimizer", ["sgd", "momentum"])
@pytest.mark.parametrize("activation", ["relu", "linear"])
def test_an_update_that_overflows_the_weights_is_undone_when_the_next_loss_diverges(optimizer, activation):
    # inputs near the float32 limit and a tiny first layer: the first loss is finite, but
    # dW1 ≈ x·dz1 is about 1e38 and ten times that overflows W1
    x = np.array([[1e38, -1e38], [2e38, 5e37]], dtype=np.float32)
    y = np.array([0, 1])
    net = Network([2, 3, 2], activation=activation, seed=0)
    net.layers[0].W = net.layers[0].W * np.float32(1e-3)
    net.layers[-1].W = net.layers[-1].W * np.float32(10)
    used_by_step_1 = net.get_weights()
    trainer = Trainer(net, optimizer=optimizer, learning_rate=10, batch_size=2)
    with pytest.raises(
        TrainingDiverged, match="the previous update overflowed the weights, so it was undone"
    ):
        trainer.run(x, y, epochs=5)
    assert trainer.step == 1 and math.isfinite(trainer.history.step_loss[-1])
    # step 1's loss was finite but its update made W infinite: the weights step 1 used are back
    for name, value in net.get_weights().items():
        np.testing.assert_array_equal(value, used_by_step_1[name], err_msg=name)
    assert trainer.optimizer.state_finite()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_inputs_that_overflow_float32_raise_training_diverged_at_the_first_step():
    x, y = xor_points(n=20)
    net = Network([2, 16, 16, 2], activation="relu", seed=0)
    start = net.get_weights()
    with pytest.raises(TrainingDiverged, match="step 1"):
        Trainer(net, batch_size=20).run(x * 1e38, y, epochs=1)
    for name, value in net.get_weights().items():
        np.testing.assert_array_equal(value, start[name])


def test_the_best_checkpoint_follows_what_early_stopping_watches():
    x, y = xor_points(n=40)
    trainer = Trainer(
        xor_network(),
        optimizer="sgd",
        learning_rate=0.1,
        batch_size=20,
        early_stopping=EarlyStopping(patience=5, monitor="train_loss"),
    )
    history = trainer.run(x, y, epochs=2, validation=xor_points(n=20, seed=1))
    assert history.best_monitor == "train_loss"


def test_an_explicit_monitor_wins_over_early_stopping():
    x, y = xor_points(n=40)
    trainer = Trainer(
        xor_network(),
        optimizer="sgd",
        learning_rate=0.1,
        batch_size=20,
        early_stopping=3,
        monitor="val_accuracy",
    )
    history = trainer.run(x, y, epochs=1, validation=xor_points(n=20, seed=1))
    assert history.best_monitor == "val_accuracy"


# ------------------------------------------------------------------ cursor, resume, continue_from


def test_the_cursor_says_where_training_stands_and_is_json_ready():
    import json

    x, y = xor_points(n=100)
    trainer = Trainer(xor_network(), optimizer="sgd", learning_rate=0.1, batch_size=10)
    assert trainer.cursor() == {
        "epoch": 0,
        "batch_index": 0,
        "step": 0,
        "samples_seen": 0,
        "epoch_stats": [0.0, 0, 0, 0.0],
    }
    trainer.run(x, y, epochs=1)
    trainer.run(x, y, steps=4)
    cursor = json.loads(json.dumps(trainer.cursor()))
    assert {k: cursor[k] for k in ("epoch", "batch_index", "step", "samples_seen")} == {
        "epoch": 1,
        "batch_index": 4,
        "step": 14,
        "samples_seen": 140,
    }
    loss_sum, correct, samples, seconds = cursor["epoch_stats"]
    # the partial epoch's sums: four steps of ten samples
    assert samples == 40 and 0 <= correct <= 40 and seconds > 0
    assert loss_sum == pytest.approx(10 * sum(trainer.history.step_loss[-4:]), rel=1e-12)


def test_a_trainer_resumed_from_a_cursor_continues_like_one_uninterrupted_run():
    x, y = xor_points(n=100)
    whole = Trainer(xor_network(), optimizer="sgd", learning_rate=0.1, batch_size=10)
    whole.run(x, y, epochs=2)

    first = Trainer(xor_network(), optimizer="sgd", learning_rate=0.1, batch_size=10)
    first.run(x, y, epochs=1)
    first.run(x, y, steps=3)  # stop inside epoch 2
    # a new network and trainer, as after a restart: the weights and the cursor carry over
    net = xor_network()
    net.set_weights(first.net.get_weights())
    second = Trainer(net, optimizer="sgd", learning_rate=0.1, batch_size=10)
    second.resume(first.cursor(), first.history)
    second.run(x, y, epochs=1)
    assert second.history.step_loss == whole.history.step_loss
    assert second.history.epochs[-1]["train_loss"] == pytest.approx(
        whole.history.epochs[-1]["train_loss"], rel=1e-12
    )
    assert second.history.epochs[-1]["samples_seen"] == 200
    np.testing.assert_array_equal(net.layers[0].W, whole.net.layers[0].W)


def test_resume_without_a_cursor_starts_at_the_beginning():
    trainer = Trainer(xor_network(), batch_size=10)
    trainer.resume(None)
    assert trainer.cursor()["step"] == 0 and trainer.epoch == 0


def test_continue_from_takes_over_the_place_and_best_checkpoint_with_new_settings():
    x, y = xor_points(n=100)
    net = xor_network()
    old = Trainer(net, optimizer="sgd", learning_rate=0.1, batch_size=10)
    old.run(x, y, epochs=1)
    old.run(x, y, steps=3)
    new = Trainer(net, optimizer="adam", learning_rate=0.01, batch_size=10)
    new.continue_from(old)
    assert new.cursor() == old.cursor()
    assert new.history is old.history and new.best_weights is old.best_weights
    new.run(x, y, epochs=1)
    assert new.epoch == 2 and new.step == 20 and len(new.history) == 2
    assert new.history.epochs[-1]["learning_rate"] == 0.01
    assert new.history.epochs[0]["learning_rate"] == 0.1


# ------------------------------------------------------------------ image networks


def image_points(n=40, seed=0):
    """6×6 grey images: a bright left half (class 0) or a bright right half (class 1), with noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    images = rng.normal(scale=0.1, size=(n, 6, 6))
    images[y == 0, :, :3] += 1.0
    images[y == 1, :, 3:] += 1.0
    return images.reshape(n, 36), y


def test_a_cnn_learns_which_half_of_the_image_is_bright():
    x, y = image_points()
    net = Network("conv2k3-relu-maxpool2-flatten", input_shape=(6, 6), n_outputs=2, seed=0)
    history = net.fit(x, y, epochs=15, batch_size=10, optimizer="adam", learning_rate=0.05)
    assert history["train_loss"][-1] < 0.5 * history["train_loss"][0]
    assert net.evaluate(x, y)["accuracy"] == 1.0


def test_a_cnn_trains_with_validation_data():
    x, y = image_points()
    xv, yv = image_points(seed=1)
    net = Network("conv2k3-relu-maxpool2-flatten", input_shape=(6, 6), n_outputs=2, seed=0)
    history = net.fit(
        x, y, epochs=2, batch_size=10, optimizer="adam", learning_rate=0.05, validation=(xv, yv)
    )
    assert history["val_accuracy"][-1] is not None


def test_an_epoch_whose_end_an_exception_cut_short_is_recorded_by_the_next_run():
    x, y = xor_points(n=100)
    trainer = Trainer(xor_network(), optimizer="sgd", learning_rate=0.1, batch_size=10)

    def interrupt_on_the_last_batch(event):
        if event.kind == "step" and event.step == 10:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        trainer.run(x, y, epochs=3, callback=interrupt_on_the_last_batch)
    assert trainer.step == 10 and trainer.epoch == 0  # every batch ran; the epoch's end did not
    trainer.run(x, y, epochs=2)
    assert trainer.step == 20 and [r["epoch"] for r in trainer.history.epochs] == [1, 2]
    assert [r["step"] for r in trainer.history.epochs] == [10, 20]

    reference = Trainer(xor_network(), optimizer="sgd", learning_rate=0.1, batch_size=10)
    reference.run(x, y, epochs=2)
    assert trainer.history.step_loss == reference.history.step_loss
    assert trainer.history.epochs[0]["train_loss"] == reference.history.epochs[0]["train_loss"]


def test_a_step_applied_from_outside_counts_as_a_step_and_leaves_the_epoch_cursor():
    x, y = xor_points(n=100)
    net = xor_network()
    trainer = Trainer(net, optimizer="sgd", learning_rate=0.1, batch_size=10)
    trainer.run(x, y, steps=3)
    trace = net.gradients(x[:7], y[:7])
    before = net.layers[0].W.copy()
    trainer.apply(trace)
    assert trace.updated
    np.testing.assert_array_equal(net.layers[0].W, before + trace.layers[0].deltas["W"])
    assert (trainer.step, trainer.batch_index, trainer.samples_seen) == (4, 3, 37)
    assert trainer.history.step_loss[-1] == pytest.approx(trace.loss)
    with pytest.raises(ValueError, match="applied already"):
        trainer.apply(trace)
    trainer.run(x, y, epochs=1)  # the epoch goes on with its own 4th batch
    assert trainer.epoch == 1 and trainer.step == 11
    assert trainer.history.epochs[0]["step"] == 11 and trainer.history.epochs[0]["samples_seen"] == 107
    assert len(trainer.history.step_loss) == trainer.step


def test_a_step_applied_from_outside_with_a_non_finite_loss_changes_nothing():
    x, y = xor_points(n=20)
    net = xor_network()
    trainer = Trainer(net, optimizer="sgd", learning_rate=0.1, batch_size=10)
    trace = net.gradients(x[:4], y[:4])
    trace.loss = float("nan")
    before = net.get_weights()
    with pytest.raises(TrainingDiverged, match="the loss became nan at step 1"):
        trainer.apply(trace)
    assert trainer.step == 0 and trainer.history.step_loss == []
    for name, value in before.items():
        np.testing.assert_array_equal(net.get_weights()[name], value)
