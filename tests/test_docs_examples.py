"""Every command, link and Python example in the README and docs/ works as written.

Commands are parsed by the real command-line parsers (``python -m backprop train``
also builds its setup, so a value out of range fails here); links to a page are read
the way the app reads them and must give no notice; Python blocks run in a scratch
folder.
"""

from __future__ import annotations

import argparse
import importlib
import re
import shlex
import urllib.parse
from pathlib import Path

import pytest

from backprop import RunConfig
from backprop.cli import config_from_args

REPO = Path(__file__).resolve().parent.parent
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
BLOCK = re.compile(r"```(\w*)\n(.*?)```", re.S)
# a deep link as the docs write it: …/page?setting=value&…, inside backticks
LINK = re.compile(r"`…/[a-z_]+\?([^`]+)`")


def blocks(language: str) -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        for match in BLOCK.finditer(page.read_text(encoding="utf-8")):
            if match.group(1) == language:
                found.append((page.relative_to(REPO).as_posix(), match.group(2)))
    return found


def commands() -> list[tuple[str, list[str]]]:
    """Each ``python -m MODULE ...`` line of a shell block, continuation lines joined, comments dropped."""
    found = []
    for page, text in blocks("bash"):
        for line in text.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            while words and "=" in words[0]:  # VAR=value before the command
                words.pop(0)
            if words[:2] == ["python", "-m"] and len(words) > 2:
                found.append((page, words[2:]))
    return found


class Parsed(Exception):
    def __init__(self, args):
        self.args_namespace = args


def parse(module: str, argv: list[str], monkeypatch) -> argparse.Namespace:
    """The arguments ``python -m module argv`` would run with, stopping right after parsing."""
    original = argparse.ArgumentParser.parse_args

    def parse_and_stop(self, args=None, namespace=None):
        raise Parsed(original(self, args, namespace))

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_and_stop)
    try:
        entry = importlib.import_module(f"{module}.__main__")
    except ModuleNotFoundError:
        entry = importlib.import_module(module)
    with pytest.raises(Parsed) as parsed:
        entry.main(argv)
    return parsed.value.args_namespace


COMMANDS = commands()


def test_the_docs_hold_commands_links_and_examples():
    assert len(COMMANDS) >= 10 and len(blocks("python")) >= 2 and links()
    assert blocks("") == [], "give every code block its language (bash, python, text), so it is checked"


@pytest.mark.parametrize("page, words", COMMANDS, ids=[" ".join(w)[:60] for _, w in COMMANDS])
def test_each_documented_command_parses_and_its_setup_is_valid(page, words, monkeypatch):
    module, argv = words[0], words[1:]
    try:
        args = parse(module, argv, monkeypatch)
    except SystemExit as stop:
        pytest.fail(f"{page}: `python -m {' '.join(words)}` is refused by its parser ({stop})")
    if module == "backprop" and args.command == "train":
        config_from_args(args)  # raises ValueError naming a bad value


def links() -> list[tuple[str, str]]:
    return [
        (page.relative_to(REPO).as_posix(), match.group(1))
        for page in PAGES
        for match in LINK.finditer(page.read_text(encoding="utf-8"))
    ]


@pytest.mark.parametrize("page, query", links())
def test_each_documented_link_opens_without_a_notice(page, query):
    settings = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
    _, notices = RunConfig.from_query(settings)
    assert notices == [], f"{page}: {query}"


@pytest.mark.parametrize("page, code", blocks("python"), ids=[p for p, _ in blocks("python")])
def test_each_python_example_runs(page, code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BACKPROP_RUNS_DIR", str(tmp_path / "runs"))
    exec(compile(code, page, "exec"), {"__name__": "__docs__"})
