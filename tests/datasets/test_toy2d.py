"""2-D Playground sets and regression curves: geometry, balance, noise scale, errors."""

import numpy as np
import pytest

import datasets

CLASSIFIERS = ["circle", "xor", "gauss", "spiral", "moons"]


def all_xy(ds):
    return np.r_[ds.x_train, ds.x_val], np.r_[ds.y_train, ds.y_val]


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_defaults_are_playgrounds_500_points_half_for_training_balanced(name):
    ds = datasets.load(name)
    assert ds.x_train.shape == (250, 2) and ds.x_val.shape == (250, 2)
    x, y = all_xy(ds)
    assert np.bincount(y).tolist() == [250, 250]
    assert np.abs(x).max() <= 6.0


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_noise_changes_the_points_or_labels(name):
    clean, noisy = datasets.load(name, noise=0), datasets.load(name, noise=50)
    assert not (np.array_equal(clean.x_train, noisy.x_train) and np.array_equal(clean.y_train, noisy.y_train))


def test_noise_free_labels_follow_each_sets_rule():
    x, y = all_xy(datasets.load("circle"))
    assert np.array_equal(y, (np.hypot(x[:, 0], x[:, 1]) < 2.5).astype(int))
    x, y = all_xy(datasets.load("xor"))
    assert np.array_equal(y, (x[:, 0] * x[:, 1] >= 0).astype(int))
    assert np.abs(x).min() >= 0.3  # Playground's padding off the axes
    x, y = all_xy(datasets.load("gauss"))
    assert np.allclose(x[y == 1].mean(axis=0), [2, 2], atol=0.3)
    assert np.allclose(x[y == 0].mean(axis=0), [-2, -2], atol=0.3)
    x, y = all_xy(datasets.load("spiral"))
    assert np.hypot(x[:, 0], x[:, 1]).max() < 5.0


def test_moons_upper_moon_lies_above_the_lower_one_on_average():
    x, y = all_xy(datasets.load("moons"))
    assert x[y == 0, 1].mean() > x[y == 1, 1].mean()


def test_train_ratio_sets_the_split():
    ds = datasets.load("spiral", samples=200, train_ratio=0.8)
    assert len(ds.x_train) == 160 and len(ds.x_val) == 40


def test_plane_and_bump_values_match_playground_formulas_without_noise():
    ds = datasets.load("plane")
    assert np.allclose(ds.y_train[:, 0], (ds.x_train[:, 0] + ds.x_train[:, 1]) / 10, atol=1e-6)
    bump = datasets.load("bump", samples=2000)
    x, y = all_xy(bump)
    near = np.hypot(x[:, 0] + 4, x[:, 1] - 2.5) < 0.2  # close to the positive bump at (-4, 2.5)
    assert near.any() and (y[near, 0] > 0.85).all()
    far = (np.abs(x[:, 0]) > 5.9) & (np.abs(x[:, 1]) < 0.3)
    assert (np.abs(y[far, 0]) < 1e-6).all()


@pytest.mark.parametrize(
    "curve, expected",
    [
        ("sine", np.sin),
        ("abs", lambda x: 2 * np.abs(x) / np.pi - 1),
        ("step", lambda x: np.where(x < 0, -1.0, 1.0)),
    ],
)
def test_sine_curves(curve, expected):
    ds = datasets.load("sine", curve=curve, samples=100)
    assert ds.x_train.shape == (50, 1) and ds.y_train.shape == (50, 1)
    assert np.allclose(ds.y_train, expected(ds.x_train), atol=1e-6)
    noisy = datasets.load("sine", curve=curve, samples=100, noise=20)
    residual = noisy.y_train - expected(noisy.x_train)
    assert 0.1 < residual.std() < 0.3  # noise 20 -> std 0.2


@pytest.mark.parametrize(
    "name, params, message",
    [
        # Checked by the declarations: name, allowed range and bad value.
        ("circle", dict(noise=60), r"noise must be a number in \[0, 50\], got 60"),
        ("xor", dict(noise=-1), r"noise must be a number in \[0, 50\], got -1"),
        ("gauss", dict(samples=1), r"samples must be an integer in \[2, 20000\], got 1"),
        ("bump", dict(samples=20001), r"samples must be an integer in \[2, 20000\], got 20001"),
        ("moons", dict(train_ratio=1.0), r"train_ratio must be a number in \(0, 1\), got 1.0"),
        ("spiral", dict(train_ratio=0), r"train_ratio must be a number in \(0, 1\), got 0"),
        ("plane", dict(noise="lots"), r"noise must be a number in \[0, 50\], got 'lots'"),
        ("sine", dict(curve="cosine"), "curve must be one of sine, abs, step, got 'cosine'"),
        # Checked by the builder: a ratio inside (0, 1) that still leaves a split empty.
        ("moons", dict(train_ratio=0.001), "train_ratio 0.001 leaves an empty split with 500 samples"),
        ("sine", dict(samples=2, train_ratio=0.9), "train_ratio 0.9 leaves an empty split with 2 samples"),
    ],
)
def test_bad_parameters_raise(name, params, message):
    with pytest.raises(ValueError, match=message):
        datasets.load(name, **params)
