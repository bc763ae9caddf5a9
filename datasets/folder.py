"""A user's own images, one folder per class.

Layouts:
    root/<class>/*.png               split by val_fraction (stratified, seeded)
    root/train/<class>/*.png and root/val/<class>/*.png   used as given
    root/train/<class>/*.png alone   split by val_fraction
Only files directly inside a class folder count; deeper folders, hidden files and
files with other extensions are ignored. Readable formats: png, jpg, jpeg, webp,
bmp, gif (first frame). Files that fail to decode are skipped and listed in
`skipped_files`. Images are resized (not cropped) to size x size.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from backprop.options import Option

from .core import SEED, VAL_FRACTION, Dataset, check_choice, check_fraction, check_int, stratified_split

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif")
COLORS = ("grayscale", "rgb")
# The one image folder a running app may read, set by whoever starts the server.
FOLDER_ENV = "BACKPROP_IMAGE_FOLDER"
DESCRIPTION = "Your own images: root/<class>/*.png or root/train|val/<class>/, resized to size x size"
OPTIONS = (
    Option(
        "path",
        "text",
        None,
        label="Folder",
        max_length=1000,
        help="The image folder on the server: given on the command line, never by a link or a page.",
    ),
    Option("size", "int", 28, label="Image size", low=4, high=128, help="Images are resized to size × size."),
    Option(
        "color",
        "choice",
        "grayscale",
        label="Colour",
        choices=COLORS,
        help="grayscale (1 channel) or rgb (3).",
    ),
    VAL_FRACTION,
    SEED,
)


class FolderDataset(Dataset):
    """Dataset plus the files that could not be read.

    skipped_files: list of paths (str) that failed to decode; skipped_count its length
    files_train / files_val: source path of every row of x_train / x_val
    """

    def __init__(self, *, skipped_files, files_train, files_val, **fields):
        super().__init__(**fields)
        self.skipped_files = skipped_files
        self.files_train = files_train
        self.files_val = files_val

    @property
    def skipped_count(self) -> int:
        return len(self.skipped_files)


def _subdirs(folder: Path) -> list:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _images_in(folder: Path) -> list:
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS
    )


def configured_folder() -> str | None:
    """The image folder the server's owner configured ($BACKPROP_IMAGE_FOLDER), or None."""
    return os.environ.get(FOLDER_ENV) or None


def _check_root(path) -> Path:
    path = path or configured_folder()
    if path is None or str(path).strip() == "":
        raise ValueError(
            f"no image folder is set: start the app with {FOLDER_ENV}=/path/to/images (one sub-folder per class), "
            "or train on a folder from the command line with --dataset folder --dataset-param path=/path/to/images"
        )
    root = Path(path).expanduser()
    if not root.exists():
        raise ValueError(f"image folder {str(root)!r} does not exist; check the path")
    if not root.is_dir():
        raise ValueError(
            f"image folder {str(root)!r} is a file, not a folder; give the folder holding the class folders"
        )
    return root


def _has_split_layout(root: Path) -> bool:
    names = {p.name for p in _subdirs(root)}
    return "train" in names and "val" in names


def scan(path) -> dict:
    """{'train': {class: [paths]}, 'val': {...}} for the split layout, or {'all': {...}}.

    A root holding only train/ (no val/) is split by val_fraction like a flat root.
    """
    root = _check_root(path)
    if _has_split_layout(root):
        return {split: {d.name: _images_in(d) for d in _subdirs(root / split)} for split in ("train", "val")}
    names = [d.name for d in _subdirs(root)]
    if names == ["train"]:
        root = root / "train"
    return {"all": {d.name: _images_in(d) for d in _subdirs(root)}}


def class_names(params: dict) -> list:
    """Sorted class names found under params['path'] ([] when the path is not set)."""
    path = params.get("path") or configured_folder()
    if path is None:
        return []
    layout = scan(path)
    groups = layout.get("train", layout.get("all"))
    return sorted(name for name, files in groups.items() if files)


def input_shape(params: dict) -> tuple:
    size = int(params["size"])
    return (size, size) if params["color"] == "grayscale" else (size, size, 3)


def _read(path: Path, size: int, mode: str):
    """(size*size*channels,) float32 in [0, 1], or None when the file does not decode."""
    try:
        with Image.open(path) as image:
            image.seek(0)
            pixels = image.convert(mode).resize((size, size), Image.Resampling.LANCZOS)
            return np.asarray(pixels, dtype=np.float32).reshape(-1) / 255.0
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None


def build_folder(*, path, size, color, val_fraction, seed) -> FolderDataset:
    """Images from class folders under `path` (see module docstring for layouts).

    size: side S the images are resized to; color: 'grayscale' (C=1) or 'rgb' (C=3)
    val_fraction: validation share per class when the folder has no train/val split
    Returns x (N, S*S*C) float32 in [0, 1] (rgb: row-major, channels last),
    y (N,) int64 indexing the sorted class names; input_shape (S, S) or (S, S, 3).
    """
    root = _check_root(path)
    size = check_int("size", size, 1, "use a positive image size, e.g. 28")
    check_choice("color", color, COLORS)
    val_fraction = check_fraction("val_fraction", val_fraction)
    mode = "L" if color == "grayscale" else "RGB"
    layout = scan(root)
    if not any(files for groups in layout.values() for files in groups.values()):
        raise ValueError(
            f"image folder {str(root)!r} holds no images ({', '.join(IMAGE_EXTENSIONS)}) "
            "in class sub-folders; arrange them as root/<class>/image.png"
        )

    skipped: list = []
    decoded: dict = {}
    for split, groups in layout.items():
        decoded[split] = []
        for name, files in groups.items():
            for file in files:
                row = _read(file, size, mode)
                if row is None:
                    skipped.append(str(file))
                else:
                    decoded[split].append((name, str(file), row))

    source = decoded.get("train", decoded.get("all"))
    classes = sorted({name for name, _, _ in source})
    if len(classes) < 2:
        found = classes[0] if classes else "none"
        raise ValueError(
            f"image folder {str(root)!r} has readable images for {len(classes)} class "
            f"({found}); a classifier needs at least two class folders"
        )
    index = {name: i for i, name in enumerate(classes)}
    if "val" in decoded:
        extra = sorted({name for name, _, _ in decoded["val"]} - set(classes))
        if extra:
            raise ValueError(
                f"image folder {str(root)!r}: val/ has class(es) {', '.join(extra)} "
                "missing from train/; add training images for them or remove them"
            )

    features = size * size * (1 if mode == "L" else 3)

    def stack(rows):
        x = np.stack([r for _, _, r in rows]) if rows else np.zeros((0, features), np.float32)
        y = np.array([index[n] for n, _, _ in rows], dtype=np.int64)
        return x.astype(np.float32), y, [f for _, f, _ in rows]

    rng = np.random.default_rng(seed)
    if "all" in decoded:
        x, y, files = stack(decoded["all"])
        train_idx, val_idx = stratified_split(y, val_fraction, rng)
        x_train, y_train, files_train = x[train_idx], y[train_idx], [files[i] for i in train_idx]
        x_val, y_val, files_val = x[val_idx], y[val_idx], [files[i] for i in val_idx]
    else:
        x_train, y_train, files_train = stack(decoded["train"])
        x_val, y_val, files_val = stack(decoded["val"])
        order = rng.permutation(len(y_train))
        x_train, y_train, files_train = x_train[order], y_train[order], [files_train[i] for i in order]

    params = dict(path=str(root), size=size, color=color, val_fraction=val_fraction, seed=seed)
    return FolderDataset(
        name="folder",
        kind="image",
        params=params,
        description=DESCRIPTION,
        x_train=x_train,
        y_train=y_train,
        x_val=x_val,
        y_val=y_val,
        classes=classes,
        input_shape=input_shape(params),
        skipped_files=skipped,
        files_train=files_train,
        files_val=files_val,
    )
