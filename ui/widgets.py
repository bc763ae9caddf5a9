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


def option_widget(
    option: Option,
    value: Any,
    key: str,
    *,
    label: str | None = None,
    format_func: Callable | None = None,
    disabled: bool = False,
) -> Any:
    """Draw the control for ``option`` showing ``value``; return what the user set, checked by the option.

    Raises ValueError (the option's message, naming it and the value) when typed text
    or a number is outside the option's range; the caller shows it and keeps the old value.
    """
    title = label or option.title
    help_text = " ".join(part for part in (option.help, f"Allowed: {option.range_text()}.") if part)
    if option.kind == "bool":
        return option.check(st.checkbox(title, value=bool(value), key=key, help=help_text, disabled=disabled))
    if option.kind == "choice":
        choices = ([None] if option.optional else []) + list(option.choices)
        shown = format_func or (lambda choice: option.off_label if choice is None else str(choice))
        index = choices.index(value) if value in choices else 0
        return option.check(
            st.selectbox(
                title, choices, index=index, key=key, help=help_text, format_func=shown, disabled=disabled
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
        entered = st.number_input(
            title,
            min_value=low,
            max_value=high,
            value=current,
            key=key,
            help=help_text,
            step=cast(option.step) if option.step else (1 if integer else None),
            format=None if integer else "%g",
            disabled=disabled,
        )
        return option.check(None if option.optional and entered == 0 else entered)
    entered = st.text_input(
        title,
        value=_text(value),
        key=key,
        help=help_text,
        disabled=disabled,
        max_chars=option.max_length if option.kind == "text" else None,
    )
    if option.kind == "text":
        return option.check(entered.strip() if entered.strip() else option.default)
    return option.parse_text(entered)
