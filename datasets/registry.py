"""The one list of datasets that pages, the CLI and the tests read."""

from __future__ import annotations

from . import digits, folder, idx, mnist, sequences, shapes, toy2d
from .core import DatasetSpec


def _fixed(value):
    return lambda params: value


def _shapes_shape(params):
    return (int(params["size"]), int(params["size"]))


def _build_registry() -> dict:
    specs = [
        DatasetSpec(
            "sequences",
            "sequence",
            sequences.DESCRIPTION,
            sequences.build_sequences,
            sequences.input_shape,
            sequences.class_names,
            options=sequences.OPTIONS,
            settle_fn=sequences.settle_params,
        )
    ]
    for name, (description, classes) in toy2d.CLASSIFICATION.items():
        specs.append(
            DatasetSpec(
                name,
                "2d",
                description,
                toy2d.make_classifier(name),
                _fixed((2,)),
                _fixed(classes),
                options=toy2d.OPTIONS,
            )
        )
    for name in ("plane", "bump"):
        specs.append(
            DatasetSpec(
                name,
                "regression",
                toy2d.REGRESSION[name],
                toy2d.make_surface(name),
                _fixed((2,)),
                _fixed([]),
                options=toy2d.OPTIONS,
            )
        )
    specs += [
        DatasetSpec(
            "sine",
            "regression",
            toy2d.REGRESSION["sine"],
            toy2d.build_sine,
            _fixed((1,)),
            _fixed([]),
            options=toy2d.SINE_OPTIONS,
        ),
        DatasetSpec(
            "shapes",
            "image",
            shapes.DESCRIPTION,
            shapes.build_shapes,
            _shapes_shape,
            lambda params: shapes.parse_shapes(params["shapes"]),
            options=shapes.OPTIONS,
        ),
        DatasetSpec(
            "digits",
            "image",
            digits.DESCRIPTION,
            digits.build_digits,
            _fixed((8, 8)),
            _fixed(digits.DIGITS_CLASSES),
            options=digits.OPTIONS,
        ),
        DatasetSpec(
            "mnist",
            "image",
            mnist.DESCRIPTION,
            mnist.build_mnist,
            _fixed((mnist.IMAGE_SIDE, mnist.IMAGE_SIDE)),
            _fixed(mnist.MNIST_CLASSES),
            options=mnist.OPTIONS,
        ),
        DatasetSpec(
            "fashion-mnist",
            "image",
            idx.FASHION_DESCRIPTION,
            idx.build_fashion_mnist,
            _fixed((28, 28)),
            _fixed(idx.FASHION_CLASSES),
            idx.fashion_availability,
            options=idx.FASHION_OPTIONS,
        ),
        DatasetSpec(
            "folder",
            "image",
            folder.DESCRIPTION,
            folder.build_folder,
            folder.input_shape,
            folder.class_names,
            options=folder.OPTIONS,
            server_only=("path",),
        ),
    ]
    return {spec.name: spec for spec in specs}


REGISTRY: dict = _build_registry()


def names() -> list:
    """Registry names in display order."""
    return list(REGISTRY)


def spec(name: str) -> DatasetSpec:
    """The DatasetSpec for `name`; ValueError listing the valid names otherwise."""
    if name not in REGISTRY:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(REGISTRY)}")
    return REGISTRY[name]


def load(name: str, **params):
    """Build dataset `name` with `params` over its defaults (see spec(name).options)."""
    return spec(name).build(**params)


def check_params(name: str, params: dict | None, from_link: bool = True) -> dict:
    """The parameters checked against the dataset's declarations (ValueError names the bad one).

    from_link: they come from a page or a link, which cannot name files on the server.
    """
    return spec(name).resolve_params(params, from_link=from_link)


def declared(name: str, params: dict | None = None):
    """Dataset `name` as its declarations describe it, built or not (see DatasetSpec.declared)."""
    return spec(name).declared(params)


def availability(name: str) -> tuple:
    """(True, "") when `name` can be loaded here, else (False, how to get it)."""
    return spec(name).availability()


def available(name: str) -> bool:
    return availability(name)[0]
