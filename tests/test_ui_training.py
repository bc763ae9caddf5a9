"""ui.training without a browser: a click that ends the script run stops the training after the step
under way, keeps every step trained, and the click's own rerun goes on."""

import numpy as np
import pytest

from backprop import Network, Trainer
from ui.training import Progress, run_with_progress, take


class Click(BaseException):
    """Stands in for the exception Streamlit raises at the next element drawn once a user clicks."""


class Slot:
    """A progress-bar slot that raises Click when it is drawn the ``click_at``-th time."""

    def __init__(self, click_at: int | None = None):
        self.drawn = 0
        self.click_at = click_at
        self.texts = []

    def progress(self, value, text=""):
        self.drawn += 1
        self.texts.append(text)
        if self.click_at is not None and self.drawn >= self.click_at:
            raise Click

    def empty(self):
        pass


def problem():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 2)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.int64)
    net = Network([2, 8, 2], activation="gelu", loss="cross_entropy", seed=0)
    return x, y, Trainer(net, optimizer="sgd", learning_rate=0.1, batch_size=8)


def test_a_click_stops_the_training_after_the_step_under_way_and_keeps_it(monkeypatch):
    monkeypatch.setattr("ui.training.PROGRESS_SECONDS", 0.0)  # the bar is drawn after every step
    x, y, trainer = problem()
    slot = Slot(click_at=4)  # the first draw is before any step: the click comes after step 3

    with pytest.raises(Click):
        run_with_progress(
            lambda callback: trainer.run(x, y, epochs=1000, callback=callback),
            total_steps=None,
            describe=lambda p: f"{p.steps} steps",
            slot=slot,
        )
    assert trainer.step == 3  # nothing more after the click
    assert len(trainer.history.step_loss) == 3
    trainer.run(x, y, epochs=1)  # the next run goes on from there, the epoch's batches in order
    assert trainer.epoch == 1 and trainer.step == 8


def test_an_epoch_that_ends_at_the_click_is_recorded(monkeypatch):
    monkeypatch.setattr("ui.training.PROGRESS_SECONDS", 0.0)
    x, y, trainer = problem()
    slot = Slot(click_at=9)  # after the 8th step, the last of the first epoch

    with pytest.raises(Click):
        run_with_progress(
            lambda callback: trainer.run(x, y, epochs=5, callback=callback),
            total_steps=40,
            describe=lambda p: p.summary(),
            slot=slot,
        )
    assert trainer.step == 8 and [r["epoch"] for r in trainer.history.epochs] == [1]


def test_without_a_click_it_trains_everything_asked_and_reports_it():
    x, y, trainer = problem()
    slot = Slot()
    progress = run_with_progress(
        lambda callback: trainer.run(x, y, epochs=2, callback=callback),
        total_steps=16,
        describe=lambda p: p.summary(),
        slot=slot,
    )
    assert (progress.steps, progress.epochs, progress.interrupted) == (16, 2, False)
    assert progress.summary() == "2 epochs (16 steps)"
    assert progress.fraction == 1.0
    assert slot.texts[0] == "0 steps"


def test_progress_words_count_steps_and_epochs():
    assert Progress(steps=1).summary() == "1 step"
    assert Progress(steps=1530, epochs=34).summary() == "34 epochs (1,530 steps)"
    assert Progress(total_steps=None, steps=5).fraction is None


def test_a_stopped_training_leaves_its_sentence_for_the_next_run(monkeypatch):
    monkeypatch.setattr("ui.training.PROGRESS_SECONDS", 0.0)
    x, y, trainer = problem()
    with pytest.raises(Click):
        run_with_progress(
            lambda callback: trainer.run(x, y, epochs=1000, callback=callback),
            total_steps=None,
            describe=lambda p: "",
            slot=Slot(click_at=3),
            stopped_key="test.stopped",
            stopped_text=lambda p: f"Stopped after {p.summary()}",
        )
    assert take("test.stopped") == "Stopped after 2 steps"
    assert take("test.stopped") is None  # said once
