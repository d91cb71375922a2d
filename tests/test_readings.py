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
    merge = rows[rows.reading == "merge_scale"]
    assert (merge.value > 5).all() and (merge.null < 2).all()  # apart by far more than a spacing; shuffled: mixed
    pairs = pd.DataFrame(ts.layer_readings({"a": X}, y, sizes=[60], k=5, bar_points=[20, 60], pairs=[(0, 1)]))
    assert pairs[(pairs["class"] == "0-1") & (pairs.reading == "cross_share")].value.tolist() == [0.0]
    assert sorted(set(pairs[pairs.reading == "long_h1"].n)) == [20, 60]
    with pytest.raises(ValueError, match=r"pairs name classes \[7\]"):
        ts.layer_readings({"a": X}, y, sizes=[5], pairs=[(0, 7)])
    with pytest.raises(ValueError, match="sizes"):
        ts.layer_readings({"a": X}, y, sizes=[1])
    with pytest.raises(ValueError, match="bar_points"):
        ts.layer_readings({"a": X}, y, sizes=[5], bar_points=[20, 2])
    with pytest.raises(ValueError, match="k must be below the 10 points of 0-1 at n = 5"):
        ts.layer_readings({"a": X}, y, sizes=[5], k=10, pairs=[(0, 1)])
    with pytest.raises(ValueError, match="one label per point"):
        ts.layer_readings({"a": X[:10]}, y, sizes=[5])


def test_merge_scale_by_hand_on_a_line():
    """Points 0, 1, 3, 4: the classes {0, 1} and {3, 4} join at 2 (two spacings); alternating labels merge at once,
    at 1, in their own classes' spacing of 3.

    Points 0, 1, 3, 10, 11 labelled 0, 0, 1, 1, 1: point 3 joins class 0's pair at 2 and merges; at 7 everything
    joins with class 1 the majority, so class 0's points merge there and class 1's never do (counted at 7):
    median of (2, 7, 7, 7, 7) over a spacing of 1.
    """
    line = np.array([[0.0], [1], [3], [4]])
    assert ts.merge_scale(line, [0, 0, 1, 1]) == pytest.approx(2)
    assert ts.merge_scale(line, [0, 1, 0, 1]) == pytest.approx(1 / 3)
    assert ts.merge_scale(line * 1e5 - 7, [0, 0, 1, 1]) == pytest.approx(2)  # scale-free
    assert ts.merge_scale(np.array([[0.0], [1], [3], [10], [11]]), [0, 0, 1, 1, 1]) == pytest.approx(7)


def test_merge_scale_reads_the_gap_between_classes_in_spacings():
    """Three rings of radius 1, centres 4 apart: the classes merge at the gap of 2, in units of the ring's spacing."""
    for n in (40, 160):
        X = np.concatenate([circle(n) + np.array([4 * i, 0]) for i in range(3)])
        y = np.repeat([0, 1, 2], n)
        spacing = 2 * np.sin(np.pi / n)  # the chord between neighbours on an evenly sampled circle
        assert ts.merge_scale(X, y) == pytest.approx(2 / spacing, rel=1e-3)
        strays = y.copy()
        strays[: n // 20] = 1  # a few points of ring 0 labelled as ring 1's class: they merge at once, the median holds
        assert ts.merge_scale(X, strays) == pytest.approx(2 / spacing, rel=1e-3)
        assert ts.merge_scale(X, ts.shuffled_labels(y, seed=0)) < 1.5  # shuffled: mixed within each ring


def test_merge_scale_of_mixed_and_shifted_clouds():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((600, 5))
    y = np.repeat([0, 1], 300)
    assert 0.5 < ts.merge_scale(X, y) < 1.5  # the same Gaussian: mixed
    far = X.copy()
    far[:300, 0] += 30  # thirty standard deviations apart
    assert ts.merge_scale(far, y) > 10 * ts.merge_scale(X, y)


def test_merge_scale_refuses_what_it_cannot_read():
    with pytest.raises(ValueError, match="two classes of at least two points"):
        ts.merge_scale(circle(10), np.zeros(10))
    with pytest.raises(ValueError, match="two classes of at least two points"):
        ts.merge_scale(circle(10), [0] * 9 + [1])
    with pytest.raises(ValueError, match="one label per point"):
        ts.merge_scale(circle(10), [0, 1])
    repeated = np.repeat(circle(4), 3, axis=0)  # every point three times: no spacing to measure in
    with pytest.warns(UserWarning, match="spacing is 0"):
        assert np.isnan(ts.merge_scale(repeated, np.repeat([0, 1], 6)))


def test_layer_readings_equal_the_readings_one_by_one():
    """One distance matrix per layer gives what cross_class_share and merge_scale give on the same points."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((300, 8)) + np.repeat(np.eye(8)[:3] * 2, 100, axis=0)
    y = np.repeat([0, 1, 2], 100)
    rows = pd.DataFrame(ts.layer_readings({"a": X}, y, sizes=[40, 100], k=6, bar_points=10, pairs=[(0, 2)], seed=3))
    from toposcope.readings import _nested_subsets  # layer_readings' own draws

    for n, idx in _nested_subsets(y, [40, 100], 3).items():
        for name, part in (("all", idx), ("0-2", idx[np.isin(y[idx], (0, 2))])):
            got = rows[(rows.n == n) & (rows["class"] == name)].set_index("reading").value
            assert got["cross_share"] == pytest.approx(ts.cross_class_share(X[part], y[part], k=6))
            assert got["merge_scale"] == pytest.approx(ts.merge_scale(X[part], y[part]), rel=1e-5)


def test_pairwise_distances_and_the_spanning_tree_against_scipy():
    from scipy.sparse.csgraph import minimum_spanning_tree
    from scipy.spatial.distance import cdist

    from toposcope.linkage import spanning_tree

    X = np.random.default_rng(2).standard_normal((50, 4))
    distances = ts.neighbours.pairwise_distances(X, block=7, dtype=torch.float64)
    assert torch.allclose(distances, torch.from_numpy(cdist(X, X)), atol=1e-12)
    assert (distances.diagonal() == 0).all()
    a, b, lengths = spanning_tree(distances.clone().fill_diagonal_(torch.inf))
    assert lengths.sum() == pytest.approx(minimum_spanning_tree(cdist(X, X)).sum())
    assert len(set(a.tolist()) | set(b.tolist())) == 50 and np.allclose(lengths, cdist(X, X)[a, b])


def test_a_distance_matrix_past_the_memory_budget_is_refused(monkeypatch):
    from toposcope import memory

    monkeypatch.setattr(memory, "MEMORY_BUDGET", 100 * 100 * 4)  # exactly a 100-point float32 matrix
    assert ts.neighbours.pairwise_distances(np.zeros((100, 2))).shape == (100, 100)
    with pytest.raises(MemoryError, match=r"a distance matrix of 101 points takes .* GiB budget"):
        ts.neighbours.pairwise_distances(np.zeros((101, 2)))
