"""Runs the app's sessions are training stay theirs between the slices of their training."""

import pytest

from backprop.runlock import RunBusy
from ui import run_claims
from ui.training import APP_OWNER


def test_another_session_is_told_the_run_is_busy_until_the_claim_is_released(tmp_path):
    folder = str(tmp_path / "contested")
    run_claims.claim(folder, "contested", "one", APP_OWNER, now=100.0)
    run_claims.claim(folder, "contested", "one", APP_OWNER, now=101.0)  # the next slice renews it

    with pytest.raises(RunBusy, match="run 'contested' is being trained by a session of the app"):
        run_claims.claim(folder, "contested", "two", APP_OWNER, now=102.0)

    run_claims.release(folder, "two")  # not two's to release
    with pytest.raises(RunBusy):
        run_claims.claim(folder, "contested", "two", APP_OWNER, now=102.5)

    run_claims.release(folder, "one")
    run_claims.claim(folder, "contested", "two", APP_OWNER, now=103.0)
    run_claims.release(folder, "two")


def test_a_claim_not_renewed_lapses_and_another_session_may_train(tmp_path):
    folder = str(tmp_path / "left")
    run_claims.claim(folder, "left", "closed-tab", APP_OWNER, now=10.0)
    with pytest.raises(RunBusy):
        run_claims.claim(folder, "left", "two", APP_OWNER, now=10.0 + run_claims.CLAIM_SECONDS - 0.1)
    run_claims.claim(folder, "left", "two", APP_OWNER, now=10.0 + run_claims.CLAIM_SECONDS + 0.1)
    run_claims.release(folder, "two")


def test_claims_on_two_runs_do_not_meet(tmp_path):
    run_claims.claim(str(tmp_path / "a"), "a", "one", APP_OWNER, now=1.0)
    run_claims.claim(str(tmp_path / "b"), "b", "two", APP_OWNER, now=1.0)
    run_claims.release(str(tmp_path / "a"), "one")
    run_claims.release(str(tmp_path / "b"), "two")
