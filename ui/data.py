"""Datasets for the pages, built once per parameter set and shared read-only."""

from __future__ import annotations

import json

import numpy as np
import streamlit as st

import datasets

from .text import plain


def params_key(params: dict) -> str:
    """A stable text key for a parameter dict (lists and tuples alike)."""
    return json.dumps(params or {}, sort_keys=True, default=list)


@st.cache_resource(show_spinner="Building the dataset…", max_entries=12)
def _build(name: str, key: str):
    ds = datasets.load(name, **json.loads(key))
    # Shared across sessions: frozen, so no page can change another's data.
    for attr in ("x_train", "y_train", "x_val", "y_val"):
        value = getattr(ds, attr)
        if isinstance(value, np.ndarray):
            value.flags.writeable = False
    return ds


def try_load_dataset(name: str, params: dict | None = None):
    """(dataset, None) or (None, message saying what to change).

    The parameters come from a page or a link: they are checked against the dataset's
    declarations before anything is built, and cannot name files on the server.
    """
    try:
        datasets.check_params(name, params, from_link=True)
        return _build(name, params_key(params or {})), None
    except ValueError as err:
        return None, f"Dataset {name!r}: {err}"


def load_dataset(name: str, params: dict | None = None):
    """The dataset, or an st.error with the reason and st.stop()."""
    dataset, error = try_load_dataset(name, params)
    if error:
        st.error(plain(error))
        st.stop()
    return dataset
