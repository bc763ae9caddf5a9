"""Data flows one way: the engine, the data loaders and the figures never import the UI."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

# package -> top-level modules it must never import
FORBIDDEN_IMPORTS = {
    "backprop": {"streamlit", "plotly"},
    "datasets": {"streamlit", "plotly"},
    "viz": {"streamlit"},
}


def imported_top_level_modules(source_path):
    """Top-level names of every `import x` and `from x import y`, at any depth in the file."""
    tree = ast.parse(source_path.read_text(encoding="utf-8"), filename=str(source_path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_import_scanner_sees_nested_and_from_imports(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import numpy as np\n"
        "def draw():\n"
        "    from plotly.graph_objects import Figure\n"
        "    try:\n"
        "        import streamlit.components.v1\n"
        "    except ImportError:\n"
        "        pass\n"
        "from . import sibling\n"
    )
    assert imported_top_level_modules(sample) == {"numpy", "plotly", "streamlit"}


@pytest.mark.parametrize("package", sorted(FORBIDDEN_IMPORTS))
def test_package_sources_do_not_import_ui_libraries(package):
    offenders = []
    for source_path in sorted((REPO_ROOT / package).rglob("*.py")):
        for name in sorted(imported_top_level_modules(source_path) & FORBIDDEN_IMPORTS[package]):
            offenders.append(f"{source_path.relative_to(REPO_ROOT)} imports {name}")
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize("package", sorted(FORBIDDEN_IMPORTS))
def test_importing_package_loads_no_ui_library(package):
    if not (REPO_ROOT / package / "__init__.py").exists():
        pytest.skip(f"{package}/ is not a package yet (no __init__.py)")
    forbidden = sorted(FORBIDDEN_IMPORTS[package])
    # A fresh interpreter, so modules loaded by other tests cannot hide or fake an import.
    probe = (
        f"import sys, {package}\n"
        f"loaded = [name for name in {forbidden!r} if name in sys.modules]\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"import {package} failed:\n{result.stderr}"
    assert result.stdout.strip() == "", f"import {package} loaded {result.stdout.strip()}"
