"""The docs list the options the code declares."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_the_options_reference_is_generated_from_the_current_declarations():
    result = subprocess.run(
        [sys.executable, "scripts/options_reference.py", "--check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
