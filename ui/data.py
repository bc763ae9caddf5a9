"""Datasets for the pages, built once per parameter set and shared read-only by every session.

The built datasets live in one cache for the whole server, held to the byte budget
``backprop.limits.DATASET_CACHE_BYTES``: when a new dataset would pass it, the least
recently used ones are dropped first, and a dataset larger than the whole budget is
built for the request that needs it and not kept.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict

import numpy as np
import streamlit as st

import datasets
from backprop import limits

from .text import plain

ARRAYS = ("x_train", "y_train", "x_val", "y_val")


def params_key(params: dict) -> str:
    """A stable text key for a parameter dict (lists and tuples alike)."""
    return json.dumps(params or {}, sort_keys=True, default=list)


def dataset_bytes(dataset) -> int:
    return sum(int(getattr(dataset, name).nbytes) for name in ARRAYS)


class DatasetCache:
    """Built datasets by (name, parameters), least recently used first, within a byte budget."""

    def __init__(self):
        self._entries: OrderedDict[tuple[str, str], object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, name: str, key: str):
        with self._lock:
            dataset = self._entries.get((name, key))
            if dataset is not None:
                self._entries.move_to_end((name, key))
            return dataset

    def put(self, name: str, key: str, dataset) -> None:
        budget = limits.DATASET_CACHE_BYTES.value()
        size = dataset_bytes(dataset)
        if size > budget:
            return  # used for this request only
        with self._lock:
            self._entries[(name, key)] = dataset
            self._entries.move_to_end((name, key))
            while sum(dataset_bytes(d) for d in self._entries.values()) > budget:
                self._entries.popitem(last=False)

    def held_bytes(self) -> int:
        with self._lock:
            return sum(dataset_bytes(d) for d in self._entries.values())

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


CACHE = DatasetCache()


def _build(name: str, params: dict):
    key = params_key(datasets.spec(name).canonical_params(params))
    dataset = CACHE.get(name, key)
    if dataset is None:
        with st.spinner("Building the dataset…"):
            dataset = datasets.load(name, **json.loads(key))
        # Shared across sessions: frozen, so no page can change another's data.
        for attr in ARRAYS:
            value = getattr(dataset, attr)
            if isinstance(value, np.ndarray):
                value.flags.writeable = False
        CACHE.put(name, key, dataset)
    return dataset


def try_load_dataset(name: str, params: dict | None = None):
    """(dataset, None) or (None, message saying what to change).

    The parameters come from a page or a link: they are checked against the dataset's
    declarations before anything is built, and cannot name files on the server.
    """
    try:
        datasets.check_params(name, params, from_link=True)
        return _build(name, params or {}), None
    except ValueError as err:
        return None, f"Dataset {name!r}: {err}"


def load_dataset(name: str, params: dict | None = None):
    """The dataset, or an st.error with the reason and st.stop()."""
    dataset, error = try_load_dataset(name, params)
    if error:
        st.error(plain(error))
        st.stop()
    return dataset
