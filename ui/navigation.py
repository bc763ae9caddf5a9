"""The screens of the app, listed once: the entry point's navigation, the Home page's cards and page links."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"


@dataclass(frozen=True)
class Screen:
    """One screen: its file in pages/, menu title and icon, sidebar section, URL path and what it is for."""

    file: str
    title: str
    icon: str
    section: str
    url_path: str
    blurb: str


SCREENS = (
    Screen(
        "home.py",
        "Home",
        ":material/home:",
        "Overview",
        "",
        "What the app shows and where each screen lives.",
    ),
    Screen(
        "step_through.py",
        "Step through",
        ":material/footprint:",
        "Inside a network",
        "step_through",
        "Run forward, loss, backward and update one layer at a time, and click any cell to see the numbers "
        "that made it.",
    ),
    Screen(
        "runs.py",
        "Runs",
        ":material/model_training:",
        "Training runs",
        "runs",
        "Create and train runs that differ in one setting, with live curves and a stop button.",
    ),
    Screen(
        "compare.py",
        "Compare runs",
        ":material/compare_arrows:",
        "Training runs",
        "compare",
        "Put the loss and accuracy curves of several runs on one chart.",
    ),
    Screen(
        "sequences.py",
        "Sequences",
        ":material/timeline:",
        "Data and drawing",
        "sequences",
        "Build toy sequence datasets, inspect their structure, and train an MLP or a transformer on them.",
    ),
    Screen(
        "draw.py",
        "Draw & predict",
        ":material/draw:",
        "Data and drawing",
        "draw",
        "Draw a digit or a shape and see probabilities, per-layer activations and the pixels that pushed "
        "the prediction.",
    ),
)


def page(file: str) -> st.Page:
    """The st.Page of the screen in pages/``file`` (by absolute path, whatever script Streamlit started)."""
    screen = next(s for s in SCREENS if s.file == file)
    options = {"url_path": screen.url_path} if screen.url_path else {"default": True}
    return st.Page(PAGES_DIR / screen.file, title=screen.title, icon=screen.icon, **options)


def file_of(page) -> str:
    """The file name in pages/ of a page the navigation returned (matched by its URL path)."""
    return next(s.file for s in SCREENS if s.url_path == page.url_path)


def navigation() -> dict[str, list[st.Page]]:
    """Every screen's page, grouped into the sidebar's sections in menu order (Home is the default)."""
    sections: dict[str, list[st.Page]] = {}
    for screen in SCREENS:
        sections.setdefault(screen.section, []).append(page(screen.file))
    return sections
