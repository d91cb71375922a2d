"""A memory guard for ripser: estimate what a homology computation needs and refuse clearly, never abort.

ripser (C++) allocates without limit; past the machine's memory it dies with
``std::bad_alloc`` and takes the Python process (a notebook's kernel) with it.
:func:`check_ripser_memory` estimates the bytes from the size of the complex and
raises a :class:`MemoryError` that says what to lower before ripser is called.

The model, measured with ripser.py 0.6.15 on random clouds (peak resident
memory above the interpreter's): about 200 bytes per edge for ``maxdim <= 1``
(166-200 measured at 1,000-4,000 points), plus about 70 bytes per
``maxdim``-simplex for ``maxdim >= 2`` (11 GB measured for the full 2-D Rips
filtration of 1,000 points, 1.7e8 triangles), plus ``8 n^2`` bytes for a dense
distance matrix.  :func:`check_hop_graph_memory` guards the step before: the sparse
graph of pairs within a few kNN hops, bounded by its walk count before it is built.
"""

from __future__ import annotations

import math
import os

import numpy as np

__all__ = ["MEMORY_BUDGET", "available_bytes", "check_hop_graph_memory", "check_ripser_memory", "clique_bound"]

MEMORY_BUDGET: int | None = None
"""Bytes a single homology computation may use; ``None`` (default): half the available memory."""

BYTES_PER_EDGE = 200
BYTES_PER_TOP_SIMPLEX = 70
BYTES_PER_PAIR = 20
"""Peak bytes per stored pair while a kNN hop graph is built (19 measured with tracemalloc on
8,000-point MLP layers and 2,000-3,000-point random clouds in 64 and 784 dimensions)."""


def available_bytes() -> int:
    """Memory available now (``MemAvailable`` of ``/proc/meminfo``; 8 GiB where that cannot be read)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 8 * 2**30


def budget() -> int:
    """Bytes one computation may use: MEMORY_BUDGET, else $TOPOSCOPE_MEMORY_BUDGET, else half the free memory."""
    if MEMORY_BUDGET is not None:
        return int(MEMORY_BUDGET)
    if os.environ.get("TOPOSCOPE_MEMORY_BUDGET"):
        return int(float(os.environ["TOPOSCOPE_MEMORY_BUDGET"]))
    return available_bytes() // 2


def clique_bound(degrees: np.ndarray, size: int) -> float:
    """Upper bound on the number of ``size``-cliques of a graph: sum over vertices of C(deg, size - 1) / size."""
    degrees = np.asarray(degrees, dtype=float)
    return float(sum(math.comb(int(d), size - 1) for d in degrees) / size) if size > 1 else float(len(degrees))


def check_ripser_memory(n_points: int, n_edges: float, n_top_simplices: float, maxdim: int, dense: bool) -> int:
    """Raise ``MemoryError`` if ripser would need more than the budget; return the estimate in bytes.

    Parameters
    ----------
    n_points : int
    n_edges : float
        Edges of the complex (pairs within the threshold).
    n_top_simplices : float
        Simplices of dimension ``maxdim`` (an upper bound is fine); ignored for ``maxdim < 2``.
    maxdim : int
    dense : bool
        Whether ripser gets the points (and builds an ``n x n`` distance matrix).
    """
    need = BYTES_PER_EDGE * n_edges + (BYTES_PER_TOP_SIMPLEX * n_top_simplices if maxdim >= 2 else 0)
    need += 8 * n_points**2 if dense else 0
    limit = budget()
    if need > limit:
        raise MemoryError(
            f"this homology computation would need about {need / 2**30:.1f} GiB ({n_points} points, "
            f"{n_edges:.3g} edges, maxdim={maxdim}); the budget is {limit / 2**30:.1f} GiB. Lower max_points "
            "(subsample), maxdim or the threshold/scale, or raise toposcope.memory.MEMORY_BUDGET if the "
            "machine really has the memory."
        )
    return int(need)


def check_hop_graph_memory(n_points: int, max_pairs: float, hops: int | None) -> int:
    """Raise ``MemoryError`` if a kNN hop graph (:func:`toposcope.knn_hop_graph`) could outgrow the budget.

    ``max_pairs`` is an upper bound on the stored pairs (walk counts, at most
    ``n_points ** 2``); ``hops`` is the scale, ``None`` for every connected pair.
    Returns the estimate in bytes.
    """
    need = BYTES_PER_PAIR * max_pairs
    limit = budget()
    if need > limit:
        scale = "every connected pair" if hops is None else f"the pairs within {hops} hops"
        raise MemoryError(
            f"the graph of {scale} of {n_points} points could hold {max_pairs:.3g} pairs, about "
            f"{need / 2**30:.1f} GiB; the budget is {limit / 2**30:.1f} GiB. Lower max_points (subsample), k or "
            "the scale, or raise toposcope.memory.MEMORY_BUDGET if the machine really has the memory."
        )
    return int(need)
