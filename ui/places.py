"""Places in a page for what shows on some runs only.

Streamlit's browser knows the blocks of a page by their places: a message that comes on one run and
goes on the next moves every block after it, and the browser builds those blocks again, with every
element in them (a map view, a step player, a table), instead of keeping them.
"""

from __future__ import annotations

import streamlit as st


def message_place():
    """A place that is on the page on every run, for what shows on some runs only (a one-shot message,
    a warning): what comes after it keeps its place.

    It is an ``st.empty``: fill it (``place.warning(…)``, or ``with place.container():`` for several
    elements) only when there is something to show. A run that leaves it empty takes the last message
    away at once, where a container drawn empty would show it, faded, until the run ends.
    """
    return st.empty()


def messages_in_place(messages) -> None:
    """``messages``, (kind, text) pairs (kind: "info", "success", "warning" or "error"; a pair without
    text is left out), in a message place: the place is on the page on every run, with nothing in it
    when there is nothing to say."""
    place = message_place()
    shown = [(kind, text) for kind, text in messages if text]
    if shown:
        with place.container():
            for kind, text in shown:
                getattr(st, kind)(text)
