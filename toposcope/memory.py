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

Memory is not the only way ripser dies: it numbers simplices with binomial
coefficients in 55 bits (a 64-bit index less 8 bits of coefficient and a sign
bit) and throws ``std::overflow_error`` past them, which its binding does not
translate.  :func:`check_simplex_index` refuses such a computation first.

The available memory is the smallest of what ``/proc/meminfo`` shows, what the
process's address-space limit (``RLIMIT_AS``) leaves, and what its cgroup's limit
(a container's; v2 ``memory.max`` or v1 ``memory.limit_in_bytes``) leaves.
"""

from __future__ import annotations

import math
import os
import resource

import numpy as np

__all__ = [
    "MAX_SIMPLEX_INDEX",
    "MEMORY_BUDGET",
    "available_bytes",
    "check_hop_graph_memory",
    "check_ripser_memory",
    "check_simplex_index",
    "clique_bound",
]

MEMORY_BUDGET: int | None = None
"""Bytes a single homology computation may use; ``None`` (default): half the available memory."""

BYTES_PER_EDGE = 200
BYTES_PER_TOP_SIMPLEX = 70
MAX_SIMPLEX_INDEX = 2**55 - 1
"""Largest simplex index ripser can hold (64-bit index, 8 coefficient bits, sign bit)."""
BYTES_PER_PAIR = 20
"""Peak bytes per stored pair while a kNN hop graph is built (19 measured with tracemalloc on
8,000-point MLP layers and 2,000-3,000-point random clouds in 64 and 784 dimensions)."""


def _read_kib(path: str, key: str) -> int | None:
    """The value in bytes of a ``key: N kB`` line of a /proc file, or None."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _read_int(path: str) -> int | None:
    """The integer in a cgroup file (``max`` and unreadable files: None)."""
    try:
        text = open(path).read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _cgroup_room() -> int | None:
    """What the process's cgroup still allows: limit minus usage (v2, else v1), or None without a limit."""
    for limit, usage in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                         ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                          "/sys/fs/cgroup/memory/memory.usage_in_bytes")):  # fmt: skip
        cap, used = _read_int(limit), _read_int(usage)
        if cap is not None and cap < 2**60:  # v1 reports "no limit" as a huge number
            return max(cap - (used or 0), 0)
    return None


def available_bytes() -> int:
    """Memory available now: the least of ``MemAvailable``, the room ``RLIMIT_AS`` leaves and the cgroup's room.

    8 GiB where none of them can be read.
    """
    candidates = [_read_kib("/proc/meminfo", "MemAvailable:"), _cgroup_room()]
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        candidates.append(max(soft - (_read_kib("/proc/self/status", "VmSize:") or 0), 0))
    known = [c for c in candidates if c is not None]
    return min(known) if known else 8 * 2**30


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


def check_simplex_index(n_points: int, maxdim: int) -> None:
    """Raise ``ValueError`` where ripser's simplex index would overflow (it would abort the process).

    ripser tabulates the binomial coefficients ``C(i, j)`` for ``i <= n_points`` and
    ``j <= maxdim + 2``; each must fit :data:`MAX_SIMPLEX_INDEX`.  ``maxdim`` counts
    up to ``n_points - 1``, the most ripser is asked for
    (:func:`toposcope.complexes.ripser_diagrams`).
    """
    maxdim = min(maxdim, max(n_points - 1, 0))
    k = min(maxdim + 2, n_points // 2)
    if math.comb(n_points, k) > MAX_SIMPLEX_INDEX:
        fits = max((n for n in _powers_below(n_points) if math.comb(n, min(maxdim + 2, n // 2)) <= MAX_SIMPLEX_INDEX),
                   default=0)  # fmt: skip
        raise ValueError(f"{n_points:,} points with maxdim={maxdim} overflow ripser's simplex index "
                         f"(C({n_points}, {maxdim + 2}) > 2^55): lower maxdim, or subsample to about {fits:,} "
                         "points (max_points)")  # fmt: skip


def _powers_below(n: int) -> list[int]:
    """Candidate sizes below ``n`` (halving, then 10% steps), for a hint of a size that fits."""
    sizes, size = [], n
    while size > 2:
        size = int(size * 0.9)
        sizes.append(size)
    return sizes


def check_ripser_memory(n_points: int, n_edges: float, n_top_simplices: float, maxdim: int, dense: bool) -> int:
    """Raise ``MemoryError`` if ripser would need more than the budget; return the estimate in bytes.

    Checks :func:`check_simplex_index` first (``ValueError``).

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
    check_simplex_index(n_points, maxdim)
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
