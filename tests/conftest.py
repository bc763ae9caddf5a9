"""Setup shared by every test. (The repository root is on sys.path via pytest.ini.)"""

import pytest


@pytest.fixture(autouse=True)
def isolated_runs_dir(tmp_path, monkeypatch):
    """Point BACKPROP_RUNS_DIR at a temp folder so no test reads or writes the user's runs/.

    Tests of the default location can `monkeypatch.delenv("BACKPROP_RUNS_DIR")`.
    """
    runs_dir = tmp_path / "runs"
    monkeypatch.setenv("BACKPROP_RUNS_DIR", str(runs_dir))
    return runs_dir
