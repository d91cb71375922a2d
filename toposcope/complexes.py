"""Betti numbers of one flag complex, given its graph: ripser, or gudhi after an exact edge collapse.

Every fixed-scale recipe of :mod:`toposcope.topology` ends here: a sparse graph
whose flag (clique) complex is the complex at the chosen scale.  Two engines give
the same numbers:

* ``"ripser"`` (scikit-tda): every edge gets the same value, so ripser reduces one
  complex rather than a filtration;
* ``"gudhi"``: the graph is first shrunk by edge collapses (Boissonnat & Pritam,
  SoCG 2020; gudhi's ``flag_filtration.edge_collapse.reduce_graph``), which remove edges whose
  removal leaves the flag complex's homology unchanged, and the much smaller
  complex is then expanded and reduced.  On a 2-hop kNN complex the collapse
  keeps a few percent of the edges.

``"auto"`` takes gudhi for complexes large and sparse enough to repay the collapse
(see :data:`AUTO_GUDHI_MAX_DEGREE`).
Homology is over the field with two elements in both.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from ripser import ripser
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from .memory import check_ripser_memory, clique_bound

__all__ = [
    "ENGINES",
    "MAX_MAXDIM",
    "auto_engine",
    "check_complex_memory",
    "check_maxdim",
    "flag_complex_betti",
    "graph_betti",
    "ripser_diagrams",
]

ENGINES = ("auto", "ripser", "gudhi")
AUTO_GUDHI_EDGES = 1_000
AUTO_GUDHI_MAX_DEGREE = 64
"""``"auto"`` collapses with gudhi graphs of at least ``AUTO_GUDHI_EDGES`` edges and a mean
degree of at most ``AUTO_GUDHI_MAX_DEGREE`` (and every graph when ``maxdim >= 2``, where the
collapse keeps ripser's clique count in bounds); other graphs go to ripser alone.

Measured on 2-hop kNN complexes (2 cores; ``benchmarks/betti_speed.py`` and the random
clouds of ``benchmarks/engine_choice.py``): on the sparse graphs of an MLP's layers
(mean degree 30-60) collapse-then-ripser is 1.3x faster than ripser alone at 100 points
and 2-4x at 1,000; on the dense graphs of high-dimensional layers (mean degree 120 and
up, where the kNN graph has hubs) the collapse is 2-25x slower than ripser alone."""

_COLLAPSE_ROUNDS = 2  # the fastest to a Betti number on 2-hop kNN complexes (1,000 and 8,000 points)


MAX_MAXDIM = 64
"""Highest dimension asked for: above it ripser's simplex index overflows for any cloud of more than 130
points, and smaller clouds have no simplices there (the answer would be zeros)."""


def check_maxdim(maxdim: object) -> int:
    """``maxdim`` as an int, or a ``ValueError`` unless it is an integer from 0 to :data:`MAX_MAXDIM`."""
    if isinstance(maxdim, bool) or not isinstance(maxdim, int | np.integer) or maxdim < 0:
        raise ValueError(f"maxdim must be a non-negative integer; got {maxdim!r}")
    if maxdim > MAX_MAXDIM:
        raise ValueError(f"maxdim must be at most {MAX_MAXDIM}; got {maxdim} (no cloud of more than 130 points "
                         "has a computable complex in that dimension, and smaller ones have none)")  # fmt: skip
    return int(maxdim)


def ripser_diagrams(X: Any, maxdim: int, **kwargs: Any) -> list[np.ndarray]:
    """``ripser(X, maxdim, **kwargs)["dgms"]``, asking ripser for no dimension the cloud cannot have.

    A complex on ``n`` points has no simplex above dimension ``n - 1``: the
    diagrams of those dimensions are empty, and are added without calling ripser
    for them (it allocates for every dimension asked).
    """
    n = X.shape[0]
    asked = min(maxdim, max(n - 1, 0))
    with warnings.catch_warnings():  # a cloud of more dimensions than points is what layers give; not a transpose
        warnings.filterwarnings("ignore", message="The input point cloud has more columns than rows")
        dgms = ripser(X, maxdim=asked, **kwargs)["dgms"]
    return [*dgms, *(np.empty((0, 2)) for _ in range(maxdim - asked))]


def _graph(edges: sparse.spmatrix) -> sparse.coo_matrix:
    """The simple undirected graph of a sparse matrix's non-zero pattern: upper triangle, no loops."""
    if not sparse.issparse(edges) or edges.ndim != 2 or edges.shape[0] != edges.shape[1]:
        raise ValueError(f"edges must be a square scipy sparse matrix; got {type(edges).__name__}")
    pattern = (edges != 0).astype(np.int8).tocsr()
    return sparse.triu(pattern + pattern.T, k=1).tocoo()


def check_complex_memory(edges: sparse.spmatrix, maxdim: int) -> None:
    """ripser's memory model for a sparse complex: its edges, and for ``maxdim >= 2`` a clique bound.

    Raises ``MemoryError`` (see :func:`toposcope.memory.check_ripser_memory`).
    """
    _check_graph_memory(_graph(edges), maxdim)


def _check_graph_memory(graph: sparse.coo_matrix, maxdim: int) -> None:
    """:func:`check_complex_memory` of a graph already in :func:`_graph`'s form."""
    n = graph.shape[0]
    if maxdim < 2:
        check_ripser_memory(n, graph.nnz, 0.0, maxdim, dense=False)
        return
    degrees = np.bincount(graph.row, minlength=n) + np.bincount(graph.col, minlength=n)
    check_ripser_memory(n, graph.nnz, clique_bound(degrees, maxdim + 1), maxdim, dense=False)


def _ripser_betti(graph: sparse.coo_matrix, maxdim: int) -> tuple[int, ...]:
    ones = sparse.coo_matrix((np.ones(graph.nnz), (graph.row, graph.col)), shape=graph.shape)
    dgms = ripser_diagrams(ones, maxdim, distance_matrix=True, thresh=1.0)
    return tuple(int(np.isinf(d[:, 1]).sum()) for d in dgms)


def _collapsed(graph: sparse.coo_matrix) -> sparse.coo_matrix:
    """The graph after gudhi's edge collapses (same flag-complex homology, far fewer edges).

    Every edge enters at filtration value 0, so the collapse keeps the homology of
    the one flag complex.  gudhi's ``reduce_graph`` works on the edge arrays
    directly (no simplex tree is built; 1.6x faster than ``SimplexTree.collapse_edges``
    on 1,000-point 2-hop complexes).
    """
    from gudhi.flag_filtration.edge_collapse import reduce_graph

    rows, cols = graph.row.astype(np.int64), graph.col.astype(np.int64)
    reduced = reduce_graph(sparse.coo_matrix((np.zeros(graph.nnz), (rows, cols)), shape=graph.shape),
                           _COLLAPSE_ROUNDS)  # fmt: skip
    return sparse.coo_matrix((np.ones(reduced.nnz, np.int8), (reduced.row, reduced.col)), shape=graph.shape)


def _gudhi_available() -> bool:
    try:
        import gudhi  # noqa: F401
    except ImportError:
        return False
    return True


def flag_complex_betti(edges: sparse.spmatrix, maxdim: int, engine: str = "auto") -> tuple[int, ...]:
    """Betti numbers ``b0..b_maxdim`` of the flag complex whose 1-skeleton is the graph ``edges``.

    Parameters
    ----------
    edges : (n, n) scipy sparse matrix
        Its non-zero entries (either triangle) are the edges; the vertices are
        ``0..n-1``.
    maxdim : int
        Highest homology dimension.
    engine : {"auto", "ripser", "gudhi"}, default "auto"
        See the module's description; ``"gudhi"`` needs the ``gudhi`` package.

    Returns
    -------
    tuple of int

    Raises
    ------
    ValueError
        On a non-square or non-sparse ``edges``, a bad ``maxdim`` or ``engine``.
    ImportError
        ``engine="gudhi"`` without gudhi installed.
    MemoryError
        When the complex would need more memory than :mod:`toposcope.memory`'s budget.
    """
    maxdim = check_maxdim(maxdim)
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}; got {engine!r}")
    return graph_betti(_graph(edges), maxdim, engine)


def auto_engine(graph: sparse.spmatrix, maxdim: int) -> str:
    """The engine ``"auto"`` picks for a graph: ``"gudhi"`` or ``"ripser"`` (see :data:`AUTO_GUDHI_MAX_DEGREE`)."""
    sparse_enough = 2 * graph.nnz <= AUTO_GUDHI_MAX_DEGREE * graph.shape[0]
    collapse = maxdim >= 2 or (graph.nnz >= AUTO_GUDHI_EDGES and sparse_enough)
    return "gudhi" if collapse and maxdim >= 1 and _gudhi_available() else "ripser"


def graph_betti(graph: sparse.coo_matrix, maxdim: int, engine: str) -> tuple[int, ...]:
    """:func:`flag_complex_betti` of a graph already simple: the upper triangle (``row < col``), no repeats.

    For callers that build such a graph themselves (:func:`toposcope.knn_hop_graph`)
    and have checked ``maxdim`` and ``engine``; it skips the normalisation pass.

    A component with a vertex joined to every other vertex of it is a cone (every
    clique of it plus that vertex is a clique): contractible, it adds one to b0 and
    nothing above, and no complex is built for it.  The dense 2-hop graphs of
    high-dimensional layers, whose kNN graphs have hubs, are often such cones.
    """
    if engine == "gudhi" and not _gudhi_available():
        raise ImportError("engine='gudhi' needs the gudhi package: pip install gudhi")
    parts, part = connected_components(graph, directed=False)
    if maxdim == 0:  # the connected components of the graph: no complex to build
        return (int(parts),)
    degrees = np.bincount(graph.row, minlength=graph.shape[0]) + np.bincount(graph.col, minlength=graph.shape[0])
    cones = np.zeros(parts, dtype=bool)
    cones[part[degrees == np.bincount(part)[part] - 1]] = True
    if cones.all():
        return (int(parts),) + (0,) * maxdim
    if cones.any():  # the rest: the components that are not cones, renumbered
        kept = ~cones[part]
        number = np.cumsum(kept) - 1
        edges = kept[graph.row]  # a component is kept whole: both ends or neither
        graph = sparse.coo_matrix((graph.data[edges], (number[graph.row[edges]], number[graph.col[edges]])),
                                  shape=(int(kept.sum()),) * 2)  # fmt: skip
    if engine == "auto":
        engine = auto_engine(graph, maxdim)
    if engine == "gudhi":
        _check_graph_memory(graph, 1)  # the collapse holds the graph only
        graph = _collapsed(graph)
    _check_graph_memory(graph, maxdim)
    betti = _ripser_betti(graph, maxdim)
    return (betti[0] + int(cones.sum()), *betti[1:])
