"""Readings that can move: scale-free long bars, class separation, and their nulls, on shapes of known answer."""

import numpy as np
import pandas as pd
import pytest
import torch

import toposcope as ts
from toposcope.shapes import circle, sphere, torus


@pytest.mark.parametrize("n", [100, 300, 1000])
def test_long_bars_of_a_circle_are_stable_in_the_number_of_points(n):
    assert ts.long_bars(circle(n)) == (1, 1)
    assert ts.long_bars(circle(n) * 1e6 + 5) == (1, 1)  # scale-free


def test_long_bars_of_known_shapes():
    assert ts.long_bars(torus(40, 20), maxdim=2) == (1, 2, 1)
    assert ts.long_bars(sphere(400), maxdim=2) == (1, 0, 1)
    three = np.concatenate([circle(120) + np.array([4 * i, 0]) for i in range(3)])  # evenly sampled: no spurious pieces
    assert ts.long_bars(three) == (3, 3)


def test_a_noisy_ring_reads_apart_from_its_gaussian_null():
    """The null has the ring's mean and covariance; its sparse rim breaks into pieces, and it holds no lasting loop
    at tau = 5, where the ring reads one piece and one loop."""
    ring = circle(400, noise=0.01, seed=0)
    null = ts.gaussian_null(ring, seed=0)
    assert null.shape == ring.shape
    assert np.allclose(null.mean(0), ring.mean(0), atol=0.1)
    assert np.allclose(np.cov(null.T), np.cov(ring.T), atol=0.1)
    assert ts.long_bars(ring, tau=5) == (1, 1)
    nulls = [ts.long_bars(ts.gaussian_null(ring, seed=s), tau=5) for s in range(5)]
    assert all(h1 == 0 and h0 > 5 for h0, h1 in nulls)


def test_gaussian_null_in_more_dimensions_than_points():
    X = np.random.default_rng(0).normal(size=(20, 100)) * np.arange(100)
    null = ts.gaussian_null(X, seed=1)
    assert null.shape == (20, 100) and np.all(np.isfinite(null))
    assert np.array_equal(null, ts.gaussian_null(X, seed=1))


def test_class_separation_reads_apart_touching_and_shuffled():
    X = np.concatenate([circle(80) + np.array([4 * i, 0]) for i in range(3)])  # three classes, evenly sampled, apart
    y = np.repeat([0, 1, 2], 80)
    assert ts.cross_class_share(X, y, k=5) == 0.0
    assert ts.class_components(X, y) == 3
    shuffled = ts.shuffled_labels(y, seed=0)
    assert sorted(shuffled) == sorted(y) and not np.array_equal(shuffled, y)
    assert ts.cross_class_share(X, shuffled, k=5) > 0.5  # about 2/3 for three mixed classes
    touching = np.concatenate([circle(100), circle(100) + np.array([1.9, 0])])
    labels = np.repeat([0, 1], 100)
    assert ts.class_components(touching, labels) == 1 and 0 < ts.cross_class_share(touching, labels, k=5) < 0.1


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="one label per point"):
        ts.cross_class_share(circle(10), [0, 1])
    with pytest.raises(ValueError, match="k must be an integer"):
        ts.cross_class_share(circle(10), np.zeros(10), k=10)
    with pytest.raises(ValueError, match="tau must be a positive number"):
        ts.long_bars(circle(10), tau=0)


def test_layer_readings_separation_and_bars_against_their_nulls():
    rng = np.random.default_rng(0)
    t = np.linspace(0, 2 * np.pi, 60, endpoint=False)
    ring = np.c_[np.cos(t), np.sin(t)]
    X = np.r_[ring, ring + np.array([10, 0]), ring + np.array([20, 0])] + 1e-3 * rng.standard_normal((180, 2))
    y = np.repeat([0, 1, 2], 60)
    rows = pd.DataFrame(ts.layer_readings({"a": X, "b": torch.tensor(X)}, y, sizes=[20, 60], k=5, bar_points=60))
    share = rows[rows.reading == "cross_share"]
    assert set(share.n) == {20, 60} and (share.value == 0).all()  # three rings far apart
    assert (share.null > 0.5).all()  # shuffled labels: about 2/3 of the edges cross
    h1 = rows[rows.reading == "long_h1"]
    assert len(h1) == 2 * 3 and (h1.value == 1).all() and (h1.null == 0).all()  # a ring each; a Gaussian has none
    assert (rows[rows.reading == "long_h0"].value == 1).all()
    pairs = pd.DataFrame(ts.layer_readings({"a": X}, y, sizes=[60], k=5, bar_points=60, pairs=[(0, 1)]))
    assert pairs[pairs["class"] == "0-1"].value.tolist() == [0.0]
    with pytest.raises(ValueError, match=r"pairs name classes \[7\]"):
        ts.layer_readings({"a": X}, y, sizes=[5], pairs=[(0, 7)])
    with pytest.raises(ValueError, match="sizes"):
        ts.layer_readings({"a": X}, y, sizes=[1])
    with pytest.raises(ValueError, match="one label per point"):
        ts.layer_readings({"a": X[:10]}, y, sizes=[5])
