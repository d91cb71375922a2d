import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import shortest_path

import toposcope as ts
from toposcope.clouds import normalise, unique_rows
from toposcope.shapes import circle, clusters, sphere, torus


def test_circle():
    r = ts.betti_numbers(circle())
    assert r.betti == (1, 1)
    assert r.method == "knn" and r.params["k"] == 14 and r.params["scale"] == 2
    assert r.n_points == r.n_input == 200


def test_two_disjoint_circles():
    X = np.r_[circle(), circle(centre=(5, 0))]
    assert ts.betti_numbers(X).betti == (2, 2)


def test_three_clusters():
    r = ts.betti_numbers(clusters(3, 100, dim=4), maxdim=0)
    assert r.betti == (3,)


def test_torus():
    assert ts.betti_numbers(torus(), maxdim=2).betti == (1, 2, 1)


def test_sphere():
    assert ts.betti_numbers(sphere(), maxdim=2).betti == (1, 0, 1)


def test_accepts_tensor_and_float32():
    X = torch.as_tensor(circle(), dtype=torch.float32)
    assert ts.betti_numbers(X).betti == (1, 1)


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [("rips", {"scale": 0.3}), ("persistence", {"min_persistence": 0.5}), ("knn", {"k": 8, "scale": 3})],
)
def test_other_methods_on_circle_and_two_circles(method, kwargs):
    assert ts.betti_numbers(circle(), method=method, **kwargs).betti == (1, 1)
    X = np.r_[circle(), circle(centre=(5, 0))]
    assert ts.betti_numbers(X, method=method, **kwargs).betti == (2, 2)


def test_rips_scale_matters():
    # Below the spacing of the points nothing is joined; far above it the loop fills in.
    n = 100
    spacing = 2 * np.sin(np.pi / n)
    assert ts.betti_numbers(circle(n), method="rips", scale=spacing / 2).betti == (n, 0)
    assert ts.betti_numbers(circle(n), method="rips", scale=2.5).betti == (1, 0)


def test_duplicates_are_merged():
    X = np.r_[circle(), circle()]
    r = ts.betti_numbers(X)
    assert r.betti == (1, 1) and r.n_points == 200 and r.n_input == 400


def test_subsampling_warns_and_is_seeded():
    X = circle(3000)
    with pytest.warns(ts.SubsampleWarning, match="3000 distinct points, more than max_points=500"):
        r = ts.betti_numbers(X, max_points=500)
    assert r.betti == (1, 1) and r.n_points == 500
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ts.SubsampleWarning)
        a = ts.subsample(X, 50, "random", seed=3)
        b = ts.subsample(X, 50, "random", seed=3)
        c = ts.subsample(X, 50, "random", seed=4)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_maxmin_covers_evenly():
    X = circle(1000)
    idx = ts.subsample(X, 20, "maxmin", seed=0)
    angles = np.sort(np.arctan2(X[idx, 1], X[idx, 0]))
    gaps = np.diff(np.r_[angles, angles[0] + 2 * np.pi])
    assert gaps.max() < 2 * (2 * np.pi / 20)


def test_normalise_centres_and_scales_without_touching_its_input():
    X = np.random.default_rng(0).normal(size=(40, 3)) * 1e200 + 3e200
    before = X.copy()
    out, unit = normalise(X)
    assert np.array_equal(X, before)
    assert np.abs(out).max() == 1.0 and np.allclose(out.mean(axis=0), 0, atol=1e-12)
    assert np.allclose(out * unit, X - X.mean(axis=0), rtol=1e-9)
    zeros, unit = normalise(np.zeros((4, 2)))
    assert unit == 1.0 and not zeros.any()


def test_knn_hop_matrix():
    X = circle(50)
    D = ts.knn_hop_matrix(X, k=3, max_hops=2).toarray()
    # k=3 joins each point to its two neighbours on the circle: a cycle graph.
    assert D[0, 1] == 1 and D[0, 49] == 1 and D[0, 2] == 2 and D[0, 3] == 0 and D[0, 0] == 0
    assert np.array_equal(D, D.T)
    full = ts.knn_hop_matrix(X, k=3, max_hops=None).toarray()
    assert full[0, 25] == 25


@settings(max_examples=30, deadline=None)
@given(st.integers(5, 120), st.sampled_from([2, 3, 40]), st.integers(2, 12), st.integers(1, 4), st.integers(0, 2**32))
def test_hop_matrix_and_graph_match_breadth_first_search(n, d, k, hops, seed):
    # d = 40 takes the brute-force kNN branch, d <= 32 the k-d tree.
    X = np.random.default_rng(seed).normal(size=(n, d))
    k = min(k, n)
    dist = np.linalg.norm(X[:, None] - X[None], axis=-1)
    near = np.argsort(dist, axis=1)[:, :k]
    A = np.zeros((n, n), bool)
    A[np.repeat(np.arange(n), k), near.ravel()] = True
    A = (A | A.T) & ~np.eye(n, dtype=bool)
    bfs = shortest_path(A.astype(float), unweighted=True, directed=False)
    within = np.where(bfs <= hops, bfs, 0)
    np.fill_diagonal(within, 0)
    assert np.array_equal(ts.knn_hop_matrix(X, k=k, max_hops=hops).toarray(), within)
    graph = ts.knn_hop_graph(X, k=k, hops=hops)
    assert np.all(graph.row < graph.col)
    assert np.array_equal(graph.toarray() != 0, np.triu(within > 0))


def test_hop_graphs_of_huge_coordinates_and_few_points():
    # distances of 1e308-sized points overflow unless the cloud is normalised first
    X = np.array([[1e308, 0.0], [-1e308, 0.0], [0.0, 1e308], [0.0, -1e308]])
    assert ts.knn_hop_graph(X, k=2, hops=1).nnz == ts.knn_hop_graph(X / 1e308, k=2, hops=1).nnz > 0
    assert np.array_equal(ts.knn_hop_matrix(X, k=3).toarray(), ts.knn_hop_matrix(X / 1e308, k=3).toarray())
    with pytest.warns(UserWarning, match="using k=4"):
        assert ts.knn_hop_graph(X, k=9).nnz == 6  # every pair


def test_knn_hop_graph_rejects_bad_hops():
    for hops in (0, 1.5, -2):
        with pytest.raises(ValueError, match="hops must be a positive integer; got"):
            ts.knn_hop_graph(circle(20), k=3, hops=hops)


def test_persistence_diagrams_for_persim():
    dgms = ts.persistence(circle(), maxdim=1)
    assert len(dgms) == 2 and dgms[1].shape[1] == 2
    long_bars = dgms[1][dgms[1][:, 1] - dgms[1][:, 0] > 0.5]
    assert len(long_bars) == 1
    hops = ts.persistence(circle(), metric="knn", thresh=2)
    assert np.isinf(hops[1][:, 1]).sum() == 1


@pytest.mark.parametrize(
    ("X", "error", "match"),
    [
        (np.array([[0.0, 1.0], [np.nan, 1.0], [2.0, 2.0]]), ValueError, "NaN or inf"),
        (np.array([[0.0, 1.0], [np.inf, 1.0]]), ValueError, "NaN or inf"),
        (np.arange(10.0), ValueError, "2-D array"),
        (np.zeros((1, 3)), ValueError, "at least 2 points"),
        (np.array([["a", "b"], ["c", "d"]]), TypeError, "real numbers"),
        (np.zeros((3, 2), dtype=complex), TypeError, "real numbers"),
    ],
)
def test_bad_clouds(X, error, match):
    with pytest.raises(error, match=match):
        ts.betti_numbers(X)


def test_bad_parameters():
    X = circle()
    with pytest.raises(ValueError, match="method must be one of"):
        ts.betti_numbers(X, method="alpha")
    with pytest.raises(ValueError, match="needs a positive, finite scale"):
        ts.betti_numbers(X, method="rips")
    with pytest.raises(ValueError, match="needs min_persistence"):
        ts.betti_numbers(X, method="persistence")
    with pytest.raises(ValueError, match="number of hops"):
        ts.betti_numbers(X, scale=1.5)
    with pytest.raises(ValueError, match="k \\(neighbours"):
        ts.betti_numbers(X, k=1)
    with pytest.raises(ValueError, match="maxdim"):
        ts.betti_numbers(X, maxdim=-1)
    with pytest.raises(ValueError, match="sampling must be one of"):
        ts.betti_numbers(X, max_points=10, sampling="grid")


def test_k_larger_than_cloud_warns():
    with pytest.warns(UserWarning, match="k=14 is more than the 5 points"):
        r = ts.betti_numbers(circle(5))
    assert r.betti == (1, 0) and r.params["k"] == 5


def test_barcode_plot_draws_one_bar_per_class():
    dgms = ts.persistence(circle(60), maxdim=1)
    ax = ts.plot_barcode(dgms, max_bars=5)
    bars = [line for line in ax.lines if len(line.get_xdata()) == 2]
    assert len(bars) == min(5, len(dgms[0])) + min(5, len(dgms[1]))


@pytest.mark.parametrize("method", ["knn", "rips", "persistence"])
def test_cloud_collapsed_to_one_point(method):
    # A ReLU layer can map a whole class to one point: that is one component, no holes.
    X = np.zeros((50, 4))
    kwargs = {"knn": {}, "rips": {"scale": 1.0}, "persistence": {"min_persistence": 0.1}}[method]
    r = ts.betti_numbers(X, maxdim=2, method=method, **kwargs)
    assert r.betti == (1, 0, 0) and r.n_points == 1 and r.n_input == 50


@given(st.integers(1, 30), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_unique_rows_matches_numpy_unique(n, d, seed):
    rng = np.random.default_rng(seed)
    X = rng.integers(-2, 3, size=(n, d)).astype(float)  # few values: many duplicate rows
    X[rng.random(X.shape) < 0.2] = -0.0
    rows = unique_rows(X)
    assert len(rows) == len(np.unique(X + 0.0, axis=0))
    assert {tuple(r) for r in rows} == {tuple(r) for r in X + 0.0}


def test_betti_sensitivity_reads_every_size_and_k():
    cloud = circle(200)
    table = ts.betti_sensitivity(cloud, ks=[4, 8], sizes=[100, 200])
    assert len(table) == 2 * 2 * 2 and set(table.columns) == {"n", "k", "dim", "betti"}
    full = table[table.n == 200].pivot_table(index="k", columns="dim", values="betti")
    assert full.loc[8].tolist() == [1, 1]  # an evenly sampled circle: one piece, one loop
    again = ts.betti_sensitivity(cloud, ks=[4, 8], sizes=[100, 200])
    pd.testing.assert_frame_equal(table, again)  # seeded draws
    with pytest.raises(ValueError, match="sizes must lie between 2 and the 200 points"):
        ts.betti_sensitivity(cloud, sizes=[500])
    with pytest.raises(ValueError, match="ks must be integers >= 2"):
        ts.betti_sensitivity(cloud, ks=[1], sizes=[100])


def test_stable_k_finds_where_the_answer_stops_moving():
    table = pd.DataFrame(
        [{"n": n, "k": k, "dim": d, "betti": (1 if d == 0 else (n // 10 if k == 4 else 0))}
         for n in (50, 100) for k in (4, 8, 14) for d in (0, 1)]
    )  # fmt: skip
    assert ts.stable_k(table) == 8
    table.loc[(table.k == 14) & (table.n == 100) & (table.dim == 1), "betti"] = 3
    assert ts.stable_k(table) is None  # the largest k still moves with n


def test_pandas_frames_with_nullable_columns_are_point_clouds():
    import pandas as pd

    from toposcope.shapes import circle

    X = circle(60)
    frame = pd.DataFrame(X, columns=["x", "y"]).astype("Float64")
    assert ts.betti_numbers(frame).betti == ts.betti_numbers(X).betti == (1, 1)
    ints = pd.DataFrame({"a": pd.array([0, 1, 2, 3], dtype="Int64"), "b": pd.array([0, 1, 0, 1], dtype="Int64")})
    assert ts.betti_numbers(ints, maxdim=0).betti == (1,)
    holes = frame.copy()
    holes.iloc[3, 0] = pd.NA
    with pytest.raises(ValueError, match="NaN or inf in 1 of 60 points"):
        ts.betti_numbers(holes)
    with pytest.raises(TypeError, match="not numeric"):
        ts.betti_numbers(pd.DataFrame({"x": ["a", "b"], "y": [1.0, 2.0]}))


def test_betti_curve_equals_betti_numbers_at_each_k():
    rng = np.random.default_rng(0)
    t = np.linspace(0, 2 * np.pi, 200, endpoint=False)
    circle = np.c_[np.cos(t), np.sin(t)]
    wide = np.c_[circle, np.zeros((200, 40))] + 1e-3 * rng.standard_normal((200, 42))  # above the k-d tree's 32 dims
    torus = ts.shapes.torus(24, 12)
    jitter = 1e-6 * rng.standard_normal(torus.shape)  # evenly sampled shapes tie exactly; jitter breaks the ties
    for cloud in (circle + 1e-6 * rng.standard_normal(circle.shape), wide, torus + jitter):
        ks = [4, 8, 14, 30]
        curve = ts.betti_curve(cloud, ks)
        assert [r.betti for r in curve] == [ts.betti_numbers(cloud, k=k).betti for k in ks]
        assert [r.params["k"] for r in curve] == ks
    assert ts.betti_curve(circle, [14])[0].betti == (1, 1)
    assert ts.betti_curve(np.ones((5, 3)), [4, 6])[1].betti == (1, 0)  # every point the same: one point


def test_betti_curve_bad_input():
    circle = np.c_[np.cos(np.arange(50)), np.sin(np.arange(50))]
    for ks in ([], 5, "14", [1], [2.5]):
        with pytest.raises(ValueError, match=r"ks must|each k"):
            ts.betti_curve(circle, ks)
    with pytest.raises(ValueError, match="hops"):
        ts.betti_curve(circle, [5], scale=0)
