"""Activation functions as layers: a = f(z) forward, dz = da ⊙ f′(z) backward.

Each activation declares its name, label, formula f(z) and slope f′(z) beside
its code, and the facts the diagnostics read: whether its units can switch off
for good (``can_die``) and where its output counts as saturated.
"""

from __future__ import annotations

import math

import numpy as np

from .layers import Layer
from .options import Declared

LEAKY_SLOPE = 0.01
_SQRT_HALF = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_TANH_C = math.sqrt(2.0 / math.pi)

# float64 erfc to full double precision, element by element from the C library.
_erfc_exact = np.frompyfunc(math.erfc, 1, 1)


def normal_tail(z: np.ndarray) -> np.ndarray:
    """Φ(−|z|) = ½·erfc(|z|/√2), the standard normal's smaller tail, in z's dtype.

    float64 uses the C library's erfc (exact to double precision, for gradient
    checks); float32 uses Abramowitz & Stegun 7.1.26, a rational approximation
    with absolute error below 1.5e-7, several times cheaper than a library erf.
    """
    x = np.abs(z) * z.dtype.type(_SQRT_HALF)
    if z.dtype == np.float64:
        return 0.5 * _erfc_exact(x).astype(np.float64)
    t = 1.0 / (1.0 + z.dtype.type(0.3275911) * x)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return (0.5 * poly * np.exp(-x * x)).astype(z.dtype, copy=False)


class Activation(Layer):
    """An elementwise function f; subclasses give ``f`` and ``slope`` (f′ from z and a = f(z))."""

    kind = "activation"
    declared: Declared

    def forward(self, x, train=False):
        self.x = x
        self.out = self.f(x)
        return self.out

    def backward(self, dout, input_grad=True):
        return dout * self.slope(self.x, self.out)

    def spec(self):
        return self.declared.name

    def f(self, z):
        raise NotImplementedError

    def slope(self, z, a):
        raise NotImplementedError


class ReLU(Activation):
    declared = Declared(
        "relu",
        "ReLU",
        "max(0, z)",
        help="Zero for negative inputs, identity above.",
        facts={"slope": "1 if z > 0 else 0", "can_die": True},
    )

    def f(self, z):
        return np.maximum(z, 0)

    def slope(self, z, a):
        return (z > 0).astype(z.dtype)


class LeakyReLU(Activation):
    declared = Declared(
        "leaky_relu",
        "Leaky ReLU",
        f"z if z > 0 else {LEAKY_SLOPE}·z",
        help="ReLU with a small slope for negative inputs, so units never stop learning.",
        facts={"slope": f"1 if z > 0 else {LEAKY_SLOPE}"},
    )

    def f(self, z):
        return np.where(z > 0, z, z * z.dtype.type(LEAKY_SLOPE))

    def slope(self, z, a):
        return np.where(z > 0, z.dtype.type(1), z.dtype.type(LEAKY_SLOPE))


class GELU(Activation):
    """z·Φ(z), written as relu(z) − |z|·Φ(−|z|), which stays exact for large |z|."""

    declared = Declared(
        "gelu",
        "GELU (exact)",
        "z·Φ(z)",
        help="Gaussian error linear unit, the erf form.",
        facts={"slope": "Φ(z) + z·φ(z)"},
    )

    def f(self, z):
        return np.maximum(z, 0) - np.abs(z) * normal_tail(z)

    def slope(self, z, a):
        tail = normal_tail(z)
        cdf = np.where(z >= 0, 1 - tail, tail)  # Φ(z)
        pdf = z.dtype.type(_INV_SQRT_2PI) * np.exp(-0.5 * z * z)  # φ(z)
        return cdf + z * pdf


class GELUTanh(Activation):
    declared = Declared(
        "gelu_tanh",
        "GELU (tanh approx.)",
        "½z(1 + tanh(√(2/π)(z + 0.044715z³)))",
        help="The tanh approximation of GELU used by early transformers.",
        facts={"slope": "½(1 + t) + ½z(1 − t²)·√(2/π)(1 + 3·0.044715z²), t = tanh(…)"},
    )

    def f(self, z):
        inner = z.dtype.type(_GELU_TANH_C) * (z + z.dtype.type(0.044715) * z**3)
        return 0.5 * z * (1 + np.tanh(inner))

    def slope(self, z, a):
        c, k = z.dtype.type(_GELU_TANH_C), z.dtype.type(0.044715)
        t = np.tanh(c * (z + k * z**3))
        return 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * c * (1 + 3 * k * z * z)


class Tanh(Activation):
    declared = Declared(
        "tanh",
        "tanh",
        "tanh(z)",
        help="Squashes to (−1, 1); saturates for large |z|.",
        facts={"slope": "1 − a²", "saturated_above": 0.97},
    )

    def f(self, z):
        return np.tanh(z)

    def slope(self, z, a):
        return 1 - a * a


class Sigmoid(Activation):
    declared = Declared(
        "sigmoid",
        "sigmoid",
        "1 / (1 + e^(−z))",
        help="Squashes to (0, 1); saturates at both ends.",
        facts={"slope": "a·(1 − a)", "saturated_within": 0.03},
    )

    def f(self, z):
        e = np.exp(-np.abs(z))  # exp of a non-positive number only: no overflow
        return np.where(z >= 0, 1 / (1 + e), e / (1 + e))

    def slope(self, z, a):
        return a * (1 - a)


class Linear(Activation):
    declared = Declared(
        "linear", "linear (none)", "z", help="No activation: the layer stays linear.", facts={"slope": "1"}
    )

    def f(self, z):
        return z

    def slope(self, z, a):
        return np.ones_like(z)


ACTIVATION_CLASSES: dict[str, type[Activation]] = {
    cls.declared.name: cls for cls in (ReLU, GELU, GELUTanh, Tanh, Sigmoid, LeakyReLU, Linear)
}
ACTIVATIONS: dict[str, Declared] = {name: cls.declared for name, cls in ACTIVATION_CLASSES.items()}


def get_activation(name: str) -> Declared:
    """The declaration of activation ``name``; unknown names raise ValueError listing the valid ones."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}") from None


def make_activation(name: str) -> Activation:
    """A new activation layer by registry name."""
    get_activation(name)
    return ACTIVATION_CLASSES[name]()
