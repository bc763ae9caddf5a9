"""Training from a page, one way everywhere: a progress bar, live views, and a Stop that acts within a second.

Every page that trains (Runs, Step through, Sequences) goes through ``train_active`` (the session's
network: a stored run through ``train_run``, with its lock and saves; otherwise its Trainer) or, for
another run, ``run_with_progress``. Both drive a ``Trainer`` and its rollback on divergence.

How a click stops training: Streamlit ends a running script when the user clicks anything (Stop,
Pause, another widget). It does so at the next element the script draws, by raising an exception
there. The loop here draws its progress bar at least every PROGRESS_SECONDS, so a click is noticed
within that time (plus the step under way). The drawing happens in the trainer's callback, which
catches that exception, asks the trainer to stop after the step (an epoch that ends there is still
recorded, and a stored run is saved), and raises it again once the trainer has returned.
Streamlit starts the run the click asks for at once, in a new thread (its fast reruns), while the old
one is still finishing that step. So training holds the session's training lock until it has ended,
and the next run waits for it (``wait_for_training``, at the top of every page and in the callbacks
that touch the network) and starts from everything trained so far, never from a network that another
thread is still changing.
Live views (a chart) are redrawn at most every LIVE_SECONDS: redrawing a chart for every epoch of a
fast network kept the browser so busy that a click waited for seconds.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from backprop.runs import RunStore, train_run

# Who holds a run's lock while a session of the app trains it, as other sessions and the command line are told.
APP_OWNER = "a session of the app"
# The progress bar is drawn at least this often while training: the longest a click waits.
PROGRESS_SECONDS = 0.25
# Live views (charts) are redrawn at most this often.
LIVE_SECONDS = 1.0
# Epochs a "train until stopped" call asks for: more than anyone waits for.
UNTIL_STOPPED = 1_000_000
# The session's training lock, held while one of its script runs trains.
LOCK_KEY = "bp.training_lock"
# What a stopped training kept, for the next run of its page (see take).
SENTENCES_KEY = "bp.training_sentences"
# The longest a run waits for the training an earlier run of the session is ending (it stops after its
# step and saves; a step of the largest network the budget allows takes a fraction of this).
WAIT_SECONDS = 10.0


def _training_lock() -> threading.Lock:
    return st.session_state.setdefault(LOCK_KEY, threading.Lock())


def wait_for_training() -> None:
    """Return once no earlier run of this session's script is training (see the module doc); after
    WAIT_SECONDS return anyway, and the training that needs the lock says it is still busy."""
    lock = _training_lock()
    if lock.acquire(timeout=WAIT_SECONDS):
        lock.release()


def after_training(callback: Callable) -> Callable:
    """A widget callback that touches the session's network, run once no earlier run trains it."""

    @functools.wraps(callback)
    def wrapper(*args, **kwargs):
        wait_for_training()
        return callback(*args, **kwargs)

    return wrapper


@dataclass
class Progress:
    """What one call trained: steps and finished epochs, the last loss, and whether a click ended it.

    total_steps: the steps asked for (None: until stopped); error: why training ended early, when it
    did on its own (divergence, a busy run), for the page to show.
    """

    total_steps: int | None = None
    steps: int = 0
    epochs: int = 0
    loss: float | None = None
    interrupted: bool = False
    error: str | None = None

    @property
    def fraction(self) -> float | None:
        return min(self.steps / self.total_steps, 1.0) if self.total_steps else None

    def summary(self) -> str:
        """'34 epochs (1,530 steps)', '8 steps', …"""
        steps = f"{self.steps:,} step{'s' if self.steps != 1 else ''}"
        if self.epochs:
            return f"{self.epochs} epoch{'s' if self.epochs != 1 else ''} ({steps})"
        return steps


def _sentences() -> dict:
    """Sentences kept for the next run of the page: a plain dict in the session's state.

    A script run that Streamlit is stopping raises again at every use of st.session_state, so a
    training that a click stopped writes its sentence into this dict, fetched before it started.
    """
    return st.session_state.setdefault(SENTENCES_KEY, {})


def take(key: str) -> str | None:
    """The sentence kept under ``key`` (once), or None."""
    return _sentences().pop(key, None)


def run_with_progress(
    train: Callable[[Callable], object],
    *,
    total_steps: int | None,
    describe: Callable[[Progress], str],
    slot=None,
    live: Callable[[object], None] | None = None,
    stopped_key: str | None = None,
    stopped_text: Callable[[Progress], str] | None = None,
    on_event: Callable[[object], None] | None = None,
    seconds: float | None = None,
    fraction: Callable[[Progress], float] | None = None,
) -> Progress:
    """Call ``train(callback)`` (which trains, calling ``callback(event)`` after every step and epoch as
    ``Trainer.run`` does) with a progress bar in ``slot`` (an ``st.empty`` the caller keeps and clears or
    redraws when this returns; None: a new one, cleared when this returns).

    describe(progress): the bar's text. live(trainer): draws views that follow the training, at most
    every LIVE_SECONDS and once more at the end. on_event(event): called for every event (no drawing).
    seconds: stop after the step that ends past this long (a slice of a longer training).
    fraction(progress): how full the bar is (default: the steps done of ``total_steps``).
    When a click ends the script run, training stops
    after the current step, ``stopped_text(progress)`` is kept under ``stopped_key`` for the next run
    (see ``take``) and the click's rerun goes on. An error raised by ``train`` after such a click is
    kept in ``progress.error``; before one, it propagates.
    """
    own_slot = slot is None
    slot = st.empty() if own_slot else slot
    progress = Progress(total_steps=total_steps)
    clock = {"bar": 0.0, "live": time.perf_counter()}
    deadline = None if seconds is None else time.perf_counter() + seconds

    def bar_value() -> float:
        return min(max(fraction(progress) if fraction else (progress.fraction or 0.0), 0.0), 1.0)

    interruption: list[BaseException] = []
    trainer_seen: list = []

    def draw(now: float, trainer) -> None:
        slot.progress(bar_value(), text=describe(progress))
        clock["bar"] = now
        if live is not None and now - clock["live"] >= LIVE_SECONDS:
            live(trainer)
            clock["live"] = time.perf_counter()

    def callback(event) -> bool:
        if event.kind == "step":
            progress.steps += 1
            progress.loss = event.loss
        else:
            progress.epochs += 1
        if on_event is not None:
            on_event(event)
        if interruption:
            return True  # the trainer is finishing its last step (an epoch's end, a save)
        if not trainer_seen:
            trainer_seen.append(event.trainer)
        now = time.perf_counter()
        if event.kind == "epoch" or now - clock["bar"] >= PROGRESS_SECONDS:
            try:
                draw(now, event.trainer)
            except Exception:
                raise
            except BaseException as exc:  # the script run is being ended by a click (or Ctrl-C)
                interruption.append(exc)
                return True
        return deadline is not None and now > deadline

    sentences = _sentences()
    lock = _training_lock()
    if not lock.acquire(timeout=WAIT_SECONDS):
        raise ValueError("the training this session started before is still ending; press again in a moment")
    try:
        try:
            slot.progress(bar_value(), text=describe(progress))
            train(callback)
        except Exception as err:
            if not interruption:
                raise
            progress.error = str(err)
        if interruption:
            progress.interrupted = True
            if stopped_key and stopped_text:
                sentences[stopped_key] = stopped_text(progress)
            raise interruption[0]
    finally:
        lock.release()
    if live is not None and trainer_seen:
        live(trainer_seen[0])
    if own_slot:
        slot.empty()
    return progress


def training_data(model):
    """(x, y, validation) of the session's model as its trainer reads them."""
    dataset, config = model.dataset, model.config
    validation = (dataset.x_val, config.targets(dataset, dataset.y_val)) if len(dataset.x_val) else None
    return dataset.x_train, config.targets(dataset, dataset.y_train), validation


def save_unsaved_steps(model) -> str | None:
    """Save steps the session trained on a stored run outside a training call (the step page's single
    Train-mode steps) when the run on disk is where the session loaded it; else say why not (None: saved,
    or nothing to save)."""
    if model.run_name is None or model.trainer.step == model.extra.get("saved_step", model.trainer.step):
        return None
    store = RunStore()
    try:
        run = store.open(model.run_name)
        with run.locked(APP_OWNER):
            run._load()
            if run.step != model.extra.get("saved_step"):
                return (
                    f"run {model.run_name} was trained elsewhere meanwhile, so the "
                    f"{model.trainer.step - model.extra['saved_step']} step(s) trained here were not saved"
                )
            run.save_progress(model.net, model.trainer)
    except ValueError as err:  # deleted, renamed, busy (RunBusy), damaged
        return f"the steps trained here were not saved to run {model.run_name}: {err}"
    model.extra["saved_step"] = model.trainer.step
    return None


def train_active(
    model,
    *,
    steps: int | None = None,
    epochs: int | None = None,
    describe: Callable[[Progress], str],
    slot=None,
    live: Callable[[object], None] | None = None,
    stopped_key: str | None = None,
    stopped_text: Callable[[Progress], str] | None = None,
    on_event: Callable[[object], None] | None = None,
    seconds: float | None = None,
    fraction: Callable[[Progress], float] | None = None,
) -> Progress:
    """Train the session's network for ``steps`` steps or ``epochs`` epochs (both None: until stopped).

    A stored run (``model.run_name``) trains through ``train_run``: its lock is held, every epoch is
    saved with its per-layer statistics, and RunBusy / RunChanged (``backprop.runs``) reach the caller.
    Otherwise the model's own Trainer runs, with the validation data when there is some. Either way
    the Trainer's divergence check and rollback apply (TrainingDiverged reaches the caller).
    """
    if steps is None and epochs is None:
        epochs = UNTIL_STOPPED
    total = steps if steps is not None else None
    if model.run_name is not None:
        problem = save_unsaved_steps(model)
        if problem:
            raise ValueError(problem)
        run = RunStore().open(model.run_name)

        def train(callback):
            try:
                train_run(
                    run,
                    model.dataset,
                    epochs=epochs,
                    steps=steps,
                    callback=callback,
                    net=model.net,
                    trainer=model.trainer,
                    owner=APP_OWNER,
                )
            finally:
                if run.step == model.trainer.step:  # every way out of train_run saves, once it trained
                    model.extra["saved_step"] = run.step
    else:
        x, y, validation = training_data(model)

        def train(callback):
            model.trainer.run(x, y, epochs=epochs, steps=steps, validation=validation, callback=callback)

    if epochs is not None and epochs < UNTIL_STOPPED and total is None:
        per_epoch = model.trainer.steps_per_epoch(model.dataset.n_train)
        total = per_epoch * epochs - model.trainer.batch_index
    return run_with_progress(
        train,
        total_steps=total,
        describe=describe,
        slot=slot,
        live=live,
        stopped_key=stopped_key,
        stopped_text=stopped_text,
        on_event=on_event,
        seconds=seconds,
        fraction=fraction,
    )
