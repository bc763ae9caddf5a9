"""A Streamlit control for any declared option, so every setting's widget comes from its declaration."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from backprop.options import Option


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


# Key prefixes of the controls that show the value their code gives at their next draw, not the one the
# session holds (``show_given_values``).
_RESHOW_KEY = "widgets.reshow"


def show_given_values(prefix: str) -> None:
    """At their next draw, the controls whose keys start with ``prefix`` show the value their code gives
    (their setup was replaced from elsewhere: a run was opened). Only the controls whose value differs
    are written: a value written to a control makes the browser set that control again, one more redraw
    of it, and a new setup usually changes a few of them."""
    st.session_state.setdefault(_RESHOW_KEY, set()).add(prefix)


def given_values_shown(prefix: str) -> None:
    """The controls under ``prefix`` were drawn with their given values: the session's are theirs again."""
    st.session_state.get(_RESHOW_KEY, set()).discard(prefix)


def put(key: str, value: Any) -> None:
    """Give the control ``key`` ``value``, writing it only where it holds another: the browser sets a
    control again for every write, one more redraw of it on each run that writes."""
    if key not in st.session_state or not _same(st.session_state[key], value):
        st.session_state[key] = value


def forget(*prefixes: str) -> None:
    """Drop what the session holds for the keys starting with any of ``prefixes``: their controls show
    their given values at their next draw."""
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefixes)]:
        del st.session_state[key]


def kept_tabs(labels: list[str] | tuple[str, ...], key: str):
    """``st.tabs`` under ``key``, open on the tab last open on this page, across reruns and other pages.

    Streamlit forgets a widget's value on a run of a page that does not draw it, so the open tab is also
    kept under ``key + ".kept"``, which it does not forget, and given back on arrival.
    """
    kept = f"{key}.kept"
    if key not in st.session_state:  # arriving on the page: the tab last open
        st.session_state[key] = st.session_state[kept] if st.session_state.get(kept) in labels else labels[0]
    st.session_state[kept] = st.session_state[key]
    return st.tabs(labels, key=key, on_change=_keep_tab, args=(key, kept))


def _keep_tab(key: str, kept: str) -> None:
    st.session_state[kept] = st.session_state[key]


def _same(held: Any, value: Any) -> bool:
    return type(held) is type(value) and held == value


def seed(key: str, value: Any, choices: list | None = None) -> None:
    """Give the control ``key`` ``value`` unless the session holds one (among ``choices``, for a list),
    or where it holds another when ``show_given_values`` asked for the given ones."""
    held = st.session_state.get(key)
    reshow = any(key.startswith(prefix) for prefix in st.session_state.get(_RESHOW_KEY, ()))
    if key not in st.session_state or (choices is not None and held not in choices) or reshow:
        put(key, value)


def option_widget(
    option: Option,
    value: Any,
    key: str,
    *,
    label: str | None = None,
    format_func: Callable | None = None,
    disabled: bool = False,
    persist_state: str | None = None,
) -> Any:
    """Draw the control for ``option``; return what the user set, checked by the option.

    The control shows the session's value for ``key``, and ``value`` when the session has none (a
    first draw, or its state was dropped so that it shows a new setup). That value is given to the
    control through the session state: a browser updates the control it already shows, where a new
    default for the same key would leave the old value on screen and send it back with the next click.
    With ``persist_state="session"`` (Streamlit's), the control keeps what was set while it is not drawn
    (a closed section, another page). Raises ValueError (the option's message, naming it and the value) when typed text
    or a number is outside the option's range; the caller shows it and keeps the old value.
    """
    title = label or option.title
    help_text = " ".join(part for part in (option.help, f"Allowed: {option.range_text()}.") if part)
    if option.kind == "bool":
        seed(key, bool(value))
        return option.check(
            st.checkbox(title, key=key, help=help_text, disabled=disabled, persist_state=persist_state)
        )
    if option.kind == "choice":
        choices = ([None] if option.optional else []) + list(option.choices)
        shown = format_func or (lambda choice: option.off_label if choice is None else str(choice))
        seed(key, value if value in choices else choices[0], choices)
        return option.check(
            st.selectbox(
                title,
                choices,
                key=key,
                help=help_text,
                format_func=shown,
                disabled=disabled,
                persist_state=persist_state,
            )
        )
    if option.kind in ("int", "float"):
        integer = option.kind == "int"
        cast = int if integer else float
        low = None if option.low is None else cast(option.low)
        high = None if option.high is None else cast(option.high)
        if option.optional:
            title += " (0 = off)"
            low = cast(0)
        current = cast(0) if value is None else cast(value)
        if low is not None and current < low:
            current = low
        if high is not None and current > high:
            current = high
        seed(key, current)
        entered = st.number_input(
            title,
            min_value=low,
            max_value=high,
            key=key,
            help=help_text,
            step=cast(option.step) if option.step else (1 if integer else None),
            format=None if integer else "%g",
            disabled=disabled,
            persist_state=persist_state,
        )
        return option.check(None if option.optional and entered == 0 else entered)
    seed(key, _text(value))
    entered = st.text_input(
        title,
        key=key,
        help=help_text,
        disabled=disabled,
        max_chars=option.max_length if option.kind == "text" else None,
        persist_state=persist_state,
    )
    if option.kind == "text":
        return option.check(entered.strip() if entered.strip() else option.default)
    return option.parse_text(entered)
