"""2-D toy sets after TensorFlow Playground, plus 1-D curves for regression.

Playground conventions kept here: points lie in [-6, 6] x [-6, 6], `noise` uses
Playground's 0-50 slider scale (it is divided by 100 before use, exactly like
Playground does), 500 points and a 50 % train ratio by default. Classification
labels are 0 (Playground's orange, -1) and 1 (blue, +1), balanced.

x: (N, 2) float32, y: (N,) int64 for classification; y: (N, 1) float32 for regression.
"""

from __future__ import annotations

import numpy as np

from backprop.options import Option

from .core import SEED, Dataset, check_choice, check_int

CLASSIFICATION = {
    "circle": ("Inner disc vs. surrounding ring (Playground 'circle')", ["outside", "inside"]),
    "xor": (
        "Quadrants: same-sign vs. opposite-sign coordinates (Playground 'exclusive or')",
        ["opposite signs", "same signs"],
    ),
    "gauss": (
        "Two gaussian blobs at (-2,-2) and (2,2) (Playground 'gaussian')",
        ["blob at (-2,-2)", "blob at (2,2)"],
    ),
    "spiral": ("Two interleaved spirals (Playground 'spiral')", ["spiral B", "spiral A"]),
    "moons": ("Two interleaving half circles", ["upper moon", "lower moon"]),
}
REGRESSION = {
    "plane": "Regression: y = (x1 + x2) / 10 on [-6,6]^2 (Playground 'plane')",
    "bump": "Regression: six signed gaussian bumps on [-6,6]^2 (Playground 'multi gaussian')",
    "sine": "Regression in 1-D: a sine, |x| or step curve with noise, for a fitted-curve view",
}
CURVES = ("sine", "abs", "step")
RADIUS = 6.0

SAMPLES = Option(
    "samples", "int", 500, label="Samples", low=2, high=20_000, help="Points in all (train + validation)."
)
NOISE = Option("noise", "float", 0, label="Noise", low=0, high=50, help="Playground's 0-50 noise scale.")
TRAIN_RATIO = Option(
    "train_ratio",
    "float",
    0.5,
    label="Train share",
    low=0,
    high=1,
    low_open=True,
    high_open=True,
    help="Share of the points used for training; the rest validate.",
)
CURVE = Option("curve", "choice", "sine", label="Curve", choices=CURVES, help="The function to fit.")
OPTIONS = (SAMPLES, NOISE, TRAIN_RATIO, SEED)
SINE_OPTIONS = (
    Option("samples", "int", 200, label="Samples", low=2, high=20_000, help=SAMPLES.help),
    CURVE,
    NOISE,
    TRAIN_RATIO,
    SEED,
)


def _check_common(samples, noise, train_ratio) -> tuple:
    samples = check_int("samples", samples, 2, "ask for at least 2 points (Playground uses 500)")
    given_noise, given_ratio = noise, train_ratio
    try:
        noise = float(noise)
    except (TypeError, ValueError):
        raise ValueError(f"noise must be a number on Playground's 0-50 scale, got {noise!r}") from None
    if not 0 <= noise <= 50:
        raise ValueError(
            f"noise {given_noise!r} is outside Playground's 0-50 scale; pick a value from 0 to 50"
        )
    try:
        train_ratio = float(train_ratio)
    except (TypeError, ValueError):
        raise ValueError(f"train_ratio must be a number in (0, 1), got {train_ratio!r}") from None
    n_train = int(round(samples * train_ratio))
    if not 0 < train_ratio < 1 or n_train < 1 or n_train >= samples:
        raise ValueError(
            f"train_ratio {given_ratio!r} leaves an empty split with {samples} samples; "
            "pick a ratio strictly between 0 and 1, e.g. 0.5"
        )
    return samples, noise, train_ratio, n_train


def _finish(name, kind, description, classes, x, y, n_train, rng, params) -> Dataset:
    order = rng.permutation(x.shape[0])
    x, y = x[order].astype(np.float32), y[order]
    return Dataset(
        name=name,
        kind=kind,
        params=params,
        description=description,
        x_train=x[:n_train],
        y_train=y[:n_train],
        x_val=x[n_train:],
        y_val=y[n_train:],
        classes=list(classes),
        input_shape=(x.shape[1],),
    )


def _uniform(rng, low, high, size=None):
    return rng.uniform(low, high, size)


def _points(name: str, n_neg: int, n_pos: int, noise: float, rng) -> tuple:
    """Playground's generators. noise is on the 0-0.5 scale. Returns x (N, 2), labels (N,)."""
    if name == "circle":
        # Playground keeps the clean point but labels it from a jittered copy.
        def ring(n, r_low, r_high):
            r = _uniform(rng, r_low, r_high, n)
            angle = _uniform(rng, 0, 2 * np.pi, n)
            pts = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)
            jitter = _uniform(rng, -5, 5, (n, 2)) * noise
            label = (np.linalg.norm(pts + jitter, axis=1) < 2.5).astype(np.int64)
            return pts, label

        inner, inner_label = ring(n_pos, 0, 2.5)
        outer, outer_label = ring(n_neg, 3.5, 5)
        return np.concatenate([inner, outer]), np.concatenate([inner_label, outer_label])
    if name == "xor":
        # Playground draws each coordinate from [-5, 5] pushed 0.3 off the axes; drawing the
        # signs per class instead keeps the two classes the same size.
        magnitude = _uniform(rng, 0.3, 5.3, (n_neg + n_pos, 2))
        sign_x = rng.choice([-1.0, 1.0], n_neg + n_pos)
        same = np.r_[np.zeros(n_neg, bool), np.ones(n_pos, bool)]
        sign_y = np.where(same, sign_x, -sign_x)
        pts = magnitude * np.stack([sign_x, sign_y], axis=1)
        noisy = pts + _uniform(rng, -5, 5, pts.shape) * noise  # label from a jittered copy, like Playground
        return pts, (noisy[:, 0] * noisy[:, 1] >= 0).astype(np.int64)
    if name == "gauss":
        std = np.sqrt(0.5 + 3.5 * noise / 0.5)  # Playground: variance 0.5 -> 4 as noise 0 -> 0.5
        pos = rng.normal(2, std, (n_pos, 2))
        neg = rng.normal(-2, std, (n_neg, 2))
        return np.concatenate([pos, neg]), np.r_[np.ones(n_pos, np.int64), np.zeros(n_neg, np.int64)]
    if name == "spiral":

        def arm(n, delta):
            i = np.arange(n)
            r = i / n * 5
            t = 1.75 * i / n * 2 * np.pi + delta
            return np.stack([r * np.sin(t), r * np.cos(t)], axis=1) + _uniform(rng, -1, 1, (n, 2)) * noise

        return (
            np.concatenate([arm(n_pos, 0.0), arm(n_neg, np.pi)]),
            np.r_[np.ones(n_pos, np.int64), np.zeros(n_neg, np.int64)],
        )
    if name == "moons":
        # Unit moons (x in [-1, 2], y in [-0.5, 1]) centred and scaled by 3.5 to fill [-6, 6];
        # gaussian noise with std = noise (0-0.5) in unit-moon coordinates.
        t_upper = _uniform(rng, 0, np.pi, n_neg)
        t_lower = _uniform(rng, 0, np.pi, n_pos)
        upper = np.stack([np.cos(t_upper), np.sin(t_upper)], axis=1)
        lower = np.stack([1 - np.cos(t_lower), 0.5 - np.sin(t_lower)], axis=1)
        pts = np.concatenate([upper, lower]) + rng.normal(0, 1, (n_neg + n_pos, 2)) * noise
        pts = (pts - [0.5, 0.25]) * 3.5
        return pts, np.r_[np.zeros(n_neg, np.int64), np.ones(n_pos, np.int64)]
    raise AssertionError(name)


def make_classifier(name: str):
    description, classes = CLASSIFICATION[name]

    def build(*, samples, noise, train_ratio, seed) -> Dataset:
        samples, noise, train_ratio, n_train = _check_common(samples, noise, train_ratio)
        rng = np.random.default_rng(seed)
        n_pos = samples // 2
        x, y = _points(name, samples - n_pos, n_pos, noise / 100, rng)
        params = dict(samples=samples, noise=noise, train_ratio=train_ratio, seed=seed)
        return _finish(name, "2d", description, classes, x, y, n_train, rng, params)

    build.__name__ = f"build_{name}"
    build.__doc__ = (
        f"{description}.\n\n"
        "samples: total points N (train + val), half per class\n"
        "noise: Playground's 0-50 scale\n"
        "train_ratio: share of points in the training split\n"
        "Returns x (N, 2) float32 in about [-6, 6], y (N,) int64 in {0, 1}."
    )
    return build


GAUSSIANS = np.array(
    [[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]], dtype=np.float64
)


def _plane_label(pts):
    return (pts[:, 0] + pts[:, 1]) / 10


def _bump_label(pts):
    # Playground: each bump contributes sign * (1 - distance / 2) clamped to [0, 1];
    # the bump with the largest magnitude wins.
    dist = np.linalg.norm(pts[:, None, :] - GAUSSIANS[None, :, :2], axis=2)
    values = GAUSSIANS[None, :, 2] * np.clip(1 - dist / 2, 0, 1)
    pick = np.abs(values).argmax(axis=1)
    return values[np.arange(len(pts)), pick]


def make_surface(name: str):
    label_fn = {"plane": _plane_label, "bump": _bump_label}[name]
    description = REGRESSION[name]

    def build(*, samples, noise, train_ratio, seed) -> Dataset:
        samples, noise, train_ratio, n_train = _check_common(samples, noise, train_ratio)
        rng = np.random.default_rng(seed)
        pts = _uniform(rng, -RADIUS, RADIUS, (samples, 2))
        jitter = _uniform(rng, -RADIUS, RADIUS, (samples, 2)) * (noise / 100)
        y = label_fn(pts + jitter).reshape(-1, 1).astype(np.float32)
        params = dict(samples=samples, noise=noise, train_ratio=train_ratio, seed=seed)
        return _finish(name, "regression", description, [], pts, y, n_train, rng, params)

    build.__name__ = f"build_{name}"
    build.__doc__ = (
        f"{description}.\n\n"
        "noise: Playground's 0-50 scale; the label is read at a jittered point\n"
        "Returns x (N, 2) float32 in [-6, 6], y (N, 1) float32 (plane: [-1.2, 1.2], bump: [-1, 1])."
    )
    return build


def build_sine(*, samples, curve, noise, train_ratio, seed) -> Dataset:
    """1-D regression curve sampled at random x in [-pi, pi].

    curve: 'sine' (y = sin x), 'abs' (y = 2|x|/pi - 1) or 'step' (y = -1 for x < 0, else 1)
    noise: 0-50; gaussian noise with std noise/100 is added to y
    Returns x (N, 1) float32, y (N, 1) float32.
    """
    samples, noise, train_ratio, n_train = _check_common(samples, noise, train_ratio)
    check_choice("curve", curve, CURVES)
    rng = np.random.default_rng(seed)
    x = _uniform(rng, -np.pi, np.pi, (samples, 1))
    if curve == "sine":
        y = np.sin(x)
    elif curve == "abs":
        y = 2 * np.abs(x) / np.pi - 1
    else:
        y = np.where(x < 0, -1.0, 1.0)
    y = (y + rng.normal(0, 1, y.shape) * noise / 100).astype(np.float32)
    params = dict(samples=samples, curve=curve, noise=noise, train_ratio=train_ratio, seed=seed)
    return _finish("sine", "regression", REGRESSION["sine"], [], x, y, n_train, rng, params)
