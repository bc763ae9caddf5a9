"""One run trained from two browser sessions, and a server killed with SIGKILL in the middle of training."""

import signal
import time

import pytest
from playwright.sync_api import expect

from backprop import files
from backprop.runs import RunStore, train_run
from tests.browser.harness import StreamlitServer, assert_no_exception, open_page, wait_for_app
from tests.browser.test_runs import click_once_settled, create

pytestmark = pytest.mark.browser

LONG = 1000  # epochs (the most the field takes): far more than a test waits for
SLOW_MS = 60_000  # expectations while one session trains and the other redraws


def start_training(page, epochs):
    field = page.get_by_label("Epochs", exact=True)
    field.fill(str(epochs))
    field.press("Enter")
    wait_for_app(page)
    click_once_settled(page, page.get_by_role("button", name="Train", exact=True))
    expect(page.locator("[data-testid='stProgress']")).to_be_visible()


def wait_for_saved_epochs(store, name, count, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(store.open(name).history) >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"{name} never reached {count} saved epochs")


def test_a_second_session_is_told_the_run_is_busy_and_can_fork_it(browser, app_server):
    one = open_page(browser, f"{app_server}/runs")
    two = open_page(browser, f"{app_server}/runs")
    try:
        create(one, "contested")
        start_training(one, LONG)

        # Session one's training keeps the server busy: allow for slow redraws of session two.
        two.reload()
        wait_for_app(two)
        two.get_by_label("Run", exact=True).click()
        two.get_by_role("option").filter(has_text="contested").click()
        wait_for_app(two)
        click_once_settled(two, two.get_by_role("button", name="Train", exact=True))
        wait_for_app(two)
        expect(two.get_by_text("is being trained by a session of the app")).to_be_visible(timeout=SLOW_MS)
        fork = two.get_by_role("button", name="Fork it and train the fork instead")
        expect(fork).to_be_visible(timeout=SLOW_MS)

        one.get_by_role("button", name="Stop", exact=True).click()
        wait_for_app(one)
        expect(one.get_by_text("Stopped. Every finished step is kept")).to_be_visible(timeout=SLOW_MS)
        assert_no_exception(one)

        fork.click()
        wait_for_app(two)
        expect(two.get_by_text("Forked contested into contested-fork")).to_be_visible(timeout=SLOW_MS)
        assert_no_exception(two)
    finally:
        one.close()
        two.close()


def test_kill_9_of_the_server_while_it_trains_leaves_the_run_loadable(browser, tmp_path):
    server = StreamlitServer(runs_dir=tmp_path / "runs", log_path=tmp_path / "streamlit.log").start()
    store = RunStore(tmp_path / "runs")
    try:
        page = open_page(browser, f"{server.url}/runs")
        create(page, "interrupted")
        start_training(page, LONG)
        wait_for_saved_epochs(store, "interrupted", 3)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(30)
        page.close()
    finally:
        server.stop()

    info = next(info for info in store.list() if info.name == "interrupted")
    assert info.damaged is None and info.problems == []
    run = store.open("interrupted")
    weights_step = files.load_metadata(run.path / "latest.npz")["cursor"]["step"]
    assert run.step == weights_step == len(run.history.step_loss) and len(run.history) >= 3
    import datasets

    data = datasets.load(run.config.dataset, **run.config.dataset_params)
    _, trainer = train_run(run, data, epochs=1)  # the killed server's lock died with it
    assert store.open("interrupted").step == trainer.step > weights_step
