"""ui.blas: the app does its matrix products on one BLAS thread."""

import os
import threading

import pytest
from streamlit.testing.v1 import AppTest
from threadpoolctl import threadpool_limits

from backprop import Network
from ui.blas import blas_threads, use_one_blas_thread

pytestmark = [
    pytest.mark.skipif(blas_threads() is None, reason="NumPy's BLAS is not one threadpoolctl knows"),
    pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: BLAS has one thread anyway"),
]


def in_another_thread(call) -> None:
    """As a script run does: OpenBLAS's count is set by one live thread at a time (threadpoolctl), and
    a script's thread ends with its run."""
    thread = threading.Thread(target=call)
    thread.start()
    thread.join()


def set_threads_from_another_thread(n: int) -> None:
    in_another_thread(lambda: threadpool_limits(n, user_api="blas"))


@pytest.fixture
def two_threads():
    before = blas_threads()
    set_threads_from_another_thread(2)
    assert blas_threads() == 2
    yield
    set_threads_from_another_thread(before)


def test_use_one_blas_thread_sets_one_thread_and_stays(two_threads):
    in_another_thread(use_one_blas_thread)
    assert blas_threads() == 1
    in_another_thread(use_one_blas_thread)
    assert blas_threads() == 1


def test_a_step_of_the_step_page_runs_on_one_blas_thread(two_threads, monkeypatch):
    seen = []
    gradients = Network.gradients

    def spy(self, *args, **kwargs):
        seen.append(blas_threads())
        return gradients(self, *args, **kwargs)

    monkeypatch.setattr(Network, "gradients", spy)
    at = AppTest.from_file("../pages/step_through.py", default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert seen and set(seen) == {1}
