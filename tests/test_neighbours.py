import numpy as np
import pytest
import torch
from sklearn.neighbors import NearestNeighbors

from toposcope.hops import _knn_graph
from toposcope.neighbours import knn_indices


@pytest.mark.parametrize("dim", [3, 50, 800])
def test_same_neighbours_as_the_cpu_search(dim):
    X = np.random.default_rng(dim).standard_normal((300, dim))
    _, expected = NearestNeighbors(n_neighbors=12).fit(X).kneighbors(X)
    got = knn_indices(X, 12, block=64)  # several blocks, the last one short
    np.testing.assert_array_equal(got, expected)
    assert (got[:, 0] == np.arange(300)).all()


def test_same_graph_as_the_cpu_path():
    X = np.random.default_rng(1).standard_normal((200, 40))
    for k in (2, 5, 14):
        cpu = _knn_graph(X, k)
        given = _knn_graph(X, k, knn_indices(X, 20))
        assert (cpu != given).nnz == 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU here")
def test_gpu_search_equals_cpu_search():
    X = np.random.default_rng(2).standard_normal((1000, 256))
    np.testing.assert_array_equal(knn_indices(X, 10, device="cuda"), knn_indices(X, 10))


def test_bad_input():
    X = np.zeros((4, 2))
    with pytest.raises(ValueError, match="k must be"):
        knn_indices(X, 5)
    with pytest.raises(ValueError, match="k must be"):
        knn_indices(X, True)
    with pytest.raises(ValueError, match="NaN"):
        knn_indices(np.array([[0.0, np.nan], [1, 1]]), 1)
    assert knn_indices(np.array([[0.0, np.nan], [1, 1]]), 1, check_finite=False).shape == (2, 1)  # not checked
    with pytest.raises(ValueError, match="2-D"):
        knn_indices(np.zeros(3), 1)
    with pytest.raises(ValueError, match="block"):
        knn_indices(X, 2, block=0)
    with pytest.raises(ValueError, match="at least 4 neighbours"):
        _knn_graph(X + np.arange(4)[:, None], 4, np.zeros((4, 3), dtype=int))
