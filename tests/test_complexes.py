"""The two engines of flag_complex_betti agree; many clouds at once give what one at a time gives."""

import os
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

import toposcope as ts
from toposcope import shapes
from toposcope.complexes import flag_complex_betti

KNOWN = [
    (shapes.circle(300, noise=0.02), 1, (1, 1)),
    (np.r_[shapes.circle(200), shapes.circle(200, centre=(5, 0))], 1, (2, 2)),
    (shapes.clusters(4, 150, 3), 1, (4, 0)),
    (shapes.sphere(800), 2, (1, 0, 1)),
    (shapes.torus(), 2, (1, 2, 1)),
]


@pytest.mark.parametrize(("X", "maxdim", "expected"), KNOWN)
@pytest.mark.parametrize("engine", ["ripser", "gudhi", "auto"])
def test_engines_read_known_shapes(X, maxdim, expected, engine):
    assert ts.betti_numbers(X, maxdim=maxdim, engine=engine).betti == expected


@settings(max_examples=25, deadline=None)
@given(st.integers(30, 400), st.integers(2, 5), st.integers(3, 16), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_gudhi_collapse_gives_ripser_numbers(n, d, k, hops, seed):
    # Random clouds make complexes with spurious loops and voids: a good test of exactness.
    X = np.random.default_rng(seed).normal(size=(n, d))
    edges = ts.knn_hop_matrix(X, k=min(k, n), max_hops=hops)
    assert flag_complex_betti(edges, 2, "gudhi") == flag_complex_betti(edges, 2, "ripser")


def test_auto_engine_collapses_large_sparse_graphs_only():
    from toposcope.complexes import AUTO_GUDHI_EDGES, AUTO_GUDHI_MAX_DEGREE, auto_engine

    def ring(n, reach):  # each vertex joined to the next `reach` ones: mean degree 2 * reach
        rows = np.repeat(np.arange(n), reach)
        cols = (rows + np.tile(np.arange(1, reach + 1), n)) % n
        return sparse.coo_matrix((np.ones(len(rows)), (np.minimum(rows, cols), np.maximum(rows, cols))), shape=(n, n))

    sparse_large = ring(AUTO_GUDHI_EDGES, AUTO_GUDHI_MAX_DEGREE // 2)
    dense = ring(AUTO_GUDHI_EDGES, AUTO_GUDHI_MAX_DEGREE // 2 + 1)
    small = ring(AUTO_GUDHI_EDGES // 8 - 1, 4)
    assert auto_engine(sparse_large, 1) == "gudhi"
    assert auto_engine(dense, 1) == "ripser" and auto_engine(small, 1) == "ripser"
    assert auto_engine(dense, 2) == "gudhi" and auto_engine(small, 2) == "gudhi"
    assert auto_engine(sparse_large, 0) == "ripser"
    for graph in (sparse_large, dense, small):
        assert flag_complex_betti(graph, 1, "auto") == flag_complex_betti(graph, 1, "ripser")


def test_graph_without_edges_and_dimension_zero():
    empty = sparse.coo_matrix((5, 5))
    for engine in ("ripser", "gudhi"):
        assert flag_complex_betti(empty, 1, engine) == (5, 0)
    path = sparse.coo_matrix((np.ones(3), ([0, 1, 2], [1, 2, 3])), shape=(5, 5))
    assert flag_complex_betti(path, 0) == (2,)


def test_bad_arguments():
    edges = sparse.coo_matrix((np.ones(1), ([0], [1])), shape=(2, 2))
    with pytest.raises(ValueError, match="engine"):
        flag_complex_betti(edges, 1, "dionysus")
    with pytest.raises(ValueError, match="square scipy sparse"):
        flag_complex_betti(np.ones((2, 2)), 1)
    with pytest.raises(ValueError, match="maxdim"):
        flag_complex_betti(edges, -1)
    with pytest.raises(ValueError, match="engine"):
        ts.betti_numbers(shapes.circle(50), engine="fast")


def test_many_clouds_in_workers_match_one_by_one():
    clouds = [X for X, _, _ in KNOWN]
    serial = [ts.betti_numbers(X, maxdim=2).betti for X in clouds]
    assert [r.betti for r in ts.betti_numbers_many(clouds, maxdim=2, n_jobs=2)] == serial
    with pytest.raises(ValueError, match="n_jobs"):
        ts.betti_numbers_many(clouds, n_jobs=0)


def test_warnings_of_workers_reach_the_caller():
    small = [shapes.circle(20), shapes.circle(25)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ts.betti_numbers_many(small, n_jobs=2)
    assert sum(issubclass(w.category, ts.SmallCloudWarning) for w in caught) == 2


def test_tracker_in_workers_gives_the_serial_profile():
    import torch

    X, y = ts.nine_rings(1200, 0, seed=0).train.tensors
    torch.manual_seed(0)
    model = ts.MLP(3, hidden=[8, 8])
    serial = ts.BettiTracker(model, samples_per_class=300).profile(X, y)
    parallel = ts.BettiTracker(model, samples_per_class=300, n_jobs=2).profile(X, y)
    assert serial.equals(parallel)


# -- edges the mutation run found untested (benchmarks/mutation.py) ---------------------------------------


def test_k_is_checked_at_its_bounds():
    import warnings

    from toposcope.hops import _check_k

    assert _check_k(2, 5) == 2
    with pytest.raises(ValueError, match=r"^k \(neighbours per point, the point itself counted\) must be an integer "
                                         r">= 2; got 1$"):  # fmt: skip
        _check_k(1, 5)
    with pytest.raises(ValueError, match=r"got 2\.5"):
        _check_k(2.5, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _check_k(5, 5) == 5  # k equal to the cloud's size is no warning
    with pytest.warns(UserWarning, match=r"^k=6 is more than the 5 points of the cloud: using k=5$"):
        assert _check_k(6, 5) == 5


def test_hop_matrix_holds_each_pair_once_with_its_hop_count():
    X = shapes.circle(30)
    M = ts.knn_hop_matrix(X, k=3, max_hops=2).tocsr()
    assert M.shape == (30, 30) and M.diagonal().sum() == 0  # no point is a hop from itself
    assert set(np.unique(M.data)) == {1.0, 2.0}
    assert (abs(M - M.T) > 0).nnz == 0  # symmetric: hops do not depend on the direction
    one = ts.knn_hop_matrix(X, k=3, max_hops=1).tocsr()
    assert sparse.csr_matrix(M == 1).nnz == one.nnz  # the one-hop pairs are the kNN graph
    full = ts.knn_hop_matrix(X, k=3, max_hops=None).tocsr()
    assert full.max() == 15 and full.nnz == 30 * 29  # every pair, the farthest 15 hops round the circle


def test_components_of_a_flag_complex_ignore_edge_direction():
    # a path 0-1-2 stored with edges pointing both ways, and a lone point 3
    edges = sparse.coo_matrix((np.ones(2), ([1, 1], [0, 2])), shape=(4, 4))
    assert flag_complex_betti(edges, maxdim=0) == (2,)
    with pytest.raises(ValueError, match=r"^edges must be a square scipy sparse matrix; got coo_matrix"):
        flag_complex_betti(sparse.coo_matrix((3, 4)), maxdim=0)


def test_both_engines_read_the_same_numbers():
    graph = ts.knn_hop_matrix(shapes.torus(20, 8), k=6, max_hops=2)
    assert flag_complex_betti(graph, 2, engine="gudhi") == flag_complex_betti(graph, 2, engine="ripser")


def test_memory_guards_are_asked_about_the_complex_that_is_built(monkeypatch):
    """The guards see the sizes of what ripser and the hop product will hold, computed here by hand."""
    from toposcope import complexes, hops
    from toposcope.memory import clique_bound

    asked = []
    monkeypatch.setattr(complexes, "check_ripser_memory", lambda *args, **kw: asked.append((args, kw)) or 0)
    pentagon = sparse.coo_matrix(([1] * 6, ([0, 1, 2, 3, 0, 0], [1, 2, 3, 4, 4, 2])), shape=(5, 5))  # and a chord
    assert flag_complex_betti(pentagon, 1, engine="ripser") == (1, 1)
    assert asked[-1] == ((5, 6, 0.0, 1), {"dense": False})  # 5 points, 6 edges; no top simplices below maxdim 2
    assert flag_complex_betti(pentagon, 2, engine="ripser") == (1, 1, 0)
    assert asked[-1] == ((5, 6, clique_bound(np.array([3, 2, 3, 2, 2]), 3), 2), {"dense": False})
    assert asked[-1][0][2] == pytest.approx((3 + 1 + 3 + 1 + 1) / 3)  # sum of C(degree, 2) / 3

    pairs = []
    monkeypatch.setattr(hops, "check_hop_graph_memory", lambda *args: pairs.append(args) or 0)
    ring = shapes.circle(30)
    ts.knn_hop_graph(ring, k=3, hops=2)
    # each point: itself and its two neighbours (degree 3); one more hop walks 30 * 3 * 3 = 270 ways at most
    assert pairs == [(30, 270.0, 2)]
    ts.knn_hop_matrix(ring, k=3, max_hops=None)
    assert pairs[-1] == (30, 2.0 * 30**2, None)  # every connected pair: a dense matrix and its indices


def test_cones_are_read_without_a_complex(monkeypatch):
    """A component with a vertex joined to all its others is contractible: (1, 0, ...), and ripser never sees it."""
    from toposcope import complexes

    seen = []
    real = complexes._ripser_betti
    monkeypatch.setattr(complexes, "_ripser_betti",
                        lambda graph, maxdim: seen.append(graph.shape[0]) or real(graph, maxdim))  # fmt: skip
    complete = sparse.coo_matrix(np.triu(np.ones((40, 40)), 1))
    assert flag_complex_betti(complete, 2, engine="ripser") == (1, 0, 0)
    wheel = [(i, (i + 1) % 12) for i in range(12)] + [(12, i) for i in range(12)]  # a 12-cycle coned from a hub
    rows, cols = zip(*wheel, strict=True)
    assert flag_complex_betti(sparse.coo_matrix(([1] * 24, (rows, cols)), shape=(13, 13)), 1) == (1, 0)
    assert flag_complex_betti(sparse.coo_matrix((3, 3)), 1) == (3, 0)  # three lone points
    assert seen == []
    # a cone, seven lone points (13..19) and a square: only the square's 4 vertices reach ripser, renumbered 0..3
    square = [(20, 21), (21, 22), (22, 23), (23, 20)]
    rows, cols = zip(*(wheel + square), strict=True)
    for engine in ("ripser", "gudhi"):
        assert flag_complex_betti(sparse.coo_matrix(([1] * 28, (rows, cols)), shape=(24, 24)), 1, engine) == (
            1 + 7 + 1, 1)  # fmt: skip
    assert seen == [4, 4]


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 14), st.floats(0.05, 0.95), st.integers(0, 2**16), st.booleans())
def test_the_cone_shortcut_reads_what_ripser_reads(n, density, seed, hub):
    """On random graphs, some with a hub joined to every vertex, the shortcut equals ripser on the whole graph."""
    from toposcope.complexes import _ripser_betti, graph_betti

    rng = np.random.default_rng(seed)
    upper = np.triu(rng.random((n, n)) < density, 1)
    if hub:
        upper[0, 1:] = True
    graph = sparse.coo_matrix(upper.astype(float))
    assert graph_betti(graph, 2, "ripser") == _ripser_betti(graph, 2)


def test_without_gudhi_only_its_engine_is_refused(monkeypatch):
    from toposcope import complexes

    monkeypatch.setattr(complexes, "_gudhi_available", lambda: False)
    square = sparse.coo_matrix(([1] * 4, ([0, 1, 2, 0], [1, 2, 3, 3])), shape=(4, 4))
    with pytest.raises(ImportError, match=r"^engine='gudhi' needs the gudhi package: pip install gudhi$"):
        flag_complex_betti(square, 1, engine="gudhi")
    assert flag_complex_betti(square, 1, engine="ripser") == (1, 1)
    assert flag_complex_betti(square, 1, engine="auto") == (1, 1)


def test_hop_matrix_checks_max_hops_and_guards_each_hop(monkeypatch):
    from toposcope import hops

    with pytest.raises(ValueError, match=r"^max_hops must be a positive integer; got 0$"):
        ts.knn_hop_matrix(shapes.circle(30), k=3, max_hops=0)
    pairs = []
    monkeypatch.setattr(hops, "check_hop_graph_memory", lambda *args: pairs.append(args) or 0)
    ts.knn_hop_matrix(shapes.circle(30), k=3, max_hops=2)
    assert pairs == [(30, 270.0, 2)]  # the hop about to be added, with its walk bound


def test_loops_in_the_edges_are_ignored():
    """A diagonal entry is not an edge: a 5-cycle with one stays a loop (counted as a neighbour of itself, vertex 0
    would look joined to all four others, and the cone shortcut would fill the cycle)."""
    cycle = sparse.coo_matrix(([1] * 6, ([0, 1, 2, 3, 4, 0], [1, 2, 3, 4, 0, 0])), shape=(5, 5))
    for engine in ("ripser", "gudhi"):
        assert flag_complex_betti(cycle, 1, engine) == (1, 1)


def test_memory_guards_of_the_collapse_and_of_a_dense_hop(monkeypatch):
    from toposcope import complexes, hops

    asked = []
    monkeypatch.setattr(complexes, "check_ripser_memory", lambda *args, **kw: asked.append(args) or 0)
    pentagon = sparse.coo_matrix(([1] * 6, ([0, 1, 2, 3, 0, 0], [1, 2, 3, 4, 4, 2])), shape=(5, 5))  # and a chord
    assert flag_complex_betti(pentagon, 1, engine="gudhi") == (1, 1)
    assert asked[0] == (5, 6, 0.0, 1)  # the collapse holds the graph only: its edges, no cliques
    pairs = []
    monkeypatch.setattr(hops, "check_hop_graph_memory", lambda *args: pairs.append(args) or 0)
    ts.knn_hop_graph(shapes.circle(6), k=6, hops=2)  # every point its own neighbour and the five others'
    assert pairs == [(6, 36.0, 2)]  # 6 x 6 x 6 walks, but at most n^2 = 36 pairs


def test_knn_graph_checks_the_neighbours_it_is_given():
    from toposcope.hops import _knn_graph

    X = shapes.circle(5)
    ring = np.array([[i, (i + 1) % 5, (i + 4) % 5] for i in range(5)])  # itself and its two neighbours
    assert (_knn_graph(X, 3, ring) != _knn_graph(X, 3)).nnz == 0  # the same graph as a search finds
    with pytest.raises(ValueError, match=r"^k must be between 2 and the 5 points; got 6$"):
        _knn_graph(X, 6)
    for shape in ((5,), (4, 3), (5, 2)):
        with pytest.raises(ValueError, match=rf"^need at least 3 neighbours for each of the 5 points; got shape "
                                             rf"{re.escape(str(shape))}$"):  # fmt: skip
            _knn_graph(X, 3, np.zeros(shape, dtype=int))
    for bad in (5, -1):  # one past the last point; negative
        wrong = ring.copy()
        wrong[2, 1] = bad
        with pytest.raises(ValueError, match=r"^neighbour indices must lie in 0\.\.4$"):
            _knn_graph(X, 3, wrong)


def test_a_k_past_the_cloud_warns_where_it_was_asked(recwarn):
    if "MUTANT_UNDER_TEST" in os.environ:
        pytest.skip("mutmut's trampolines add stack frames: where a warning points cannot be seen under it")
    ts.knn_hop_graph(shapes.circle(5), k=6)
    assert [w.filename for w in recwarn if "more than the 5 points" in str(w.message)] == [__file__]


def test_check_maxdim_edges():
    from toposcope.complexes import MAX_MAXDIM, check_maxdim

    assert check_maxdim(np.int64(2)) == 2 and check_maxdim(MAX_MAXDIM) == MAX_MAXDIM
    for bad in (True, -1, 1.0, "1"):
        with pytest.raises(ValueError, match=rf"^maxdim must be a non-negative integer; got {re.escape(repr(bad))}$"):
            check_maxdim(bad)
    with pytest.raises(ValueError, match=r"^maxdim must be at most 64; got 65 \(no cloud of more than 130 points has a "
                                         r"computable complex in that dimension, and smaller ones have none\)$"):
        check_maxdim(MAX_MAXDIM + 1)


def test_ripser_diagrams_asks_only_for_dimensions_a_cloud_can_have(monkeypatch):
    from toposcope import complexes

    asked = []
    real = complexes.ripser
    monkeypatch.setattr(complexes, "ripser", lambda X, maxdim, **kw: asked.append(maxdim) or real(X, maxdim, **kw))
    wide = np.random.default_rng(0).normal(size=(3, 5))  # 3 points in 5 dimensions: at most 2-simplices
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "more columns than rows" is what layers give: not reported
        dgms = complexes.ripser_diagrams(wide, 4)
    assert asked == [2] and [d.shape for d in dgms[3:]] == [(0, 2), (0, 2)] and len(dgms) == 5
    assert len(complexes.ripser_diagrams(wide[:1], 1)) == 2 and asked[-1] == 0  # one point: H0 only asked
    with pytest.warns(UserWarning, match="distance_matrix flag is off"):  # ripser's other warnings pass through
        complexes.ripser_diagrams(np.eye(3) + np.arange(3)[:, None], 0)


def test_a_cloud_whose_distances_overflow_is_refused():
    from toposcope.hops import _knn_graph

    far = np.array([[0.0, 0.0], [1e308, 1e308], [-1e308, -1e308], [1.0, 1.0]])
    with pytest.raises(ValueError, match=r"^the k-d tree found no neighbour for some point: distances overflow; "
                                         r"normalise the cloud$"):  # fmt: skip
        _knn_graph(far, 3)


def test_the_clique_bound_sees_an_isolated_last_vertex():
    from toposcope.complexes import check_complex_memory

    pentagon = sparse.coo_matrix(([1] * 5, ([0, 1, 2, 3, 0], [1, 2, 3, 4, 4])), shape=(6, 6))  # vertex 5 alone
    check_complex_memory(pentagon, 2)  # degrees of all 6 vertices, the last 0
    assert flag_complex_betti(pentagon, 2, engine="ripser") == (2, 1, 0)
