"""Datasets for the backprop visualizer: toy sequences, 2-D sets, regression curves, images.

    import datasets
    ds = datasets.load("sequences", vocab="abcd", context=4, master_sequences="abccaabb, addaccad")
    ds.x_train, ds.y_train, ds.x_val, ds.y_val, ds.classes

Every dataset is listed once in `REGISTRY` (name -> DatasetSpec); pages, the CLI
(`python -m datasets --list`) and the tests read it. Imports numpy, Pillow, the standard
library and the option declarations of ``backprop.options``.
"""

from .core import Dataset, DatasetSpec, DatasetUnavailable, Declared
from .digits import DIGITS_MAX_VALUE, raw_digits
from .folder import FolderDataset
from .idx import read_idx, write_idx
from .mnist import raw_mnist
from .registry import REGISTRY, availability, available, check_params, declared, load, names, spec
from .sequences import SequenceDataset

__all__ = [
    "REGISTRY",
    "names",
    "spec",
    "load",
    "check_params",
    "declared",
    "available",
    "availability",
    "Dataset",
    "DatasetSpec",
    "DatasetUnavailable",
    "Declared",
    "SequenceDataset",
    "FolderDataset",
    "read_idx",
    "write_idx",
    "raw_digits",
    "DIGITS_MAX_VALUE",
    "raw_mnist",
]
