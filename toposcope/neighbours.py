"""Exact k nearest neighbours in torch, in blocks, on the device the data (or the model) is on.

The CPU path of the kNN recipe (:func:`toposcope.knn_hop_graph`) uses a k-d tree
or scikit-learn's brute force; :func:`knn_indices` is the same search as blocked
matrix products and ``torch.topk``, so that a model on a GPU reads its layers'
neighbours there, and so that several ``k`` share one search (the ``k`` nearest
are the first ``k`` of the ``max(k)`` nearest).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from .memory import budget

__all__ = ["knn_indices", "pairwise_distances"]


def knn_indices(X: Any, k: int, *, device: str | torch.device | None = None, block: int = 2048,
                dtype: torch.dtype = torch.float64, check_finite: bool = True) -> np.ndarray:  # fmt: skip
    """Indices of each point's ``k`` nearest points, the point itself first, nearest first.

    Exact up to ties (two neighbours at the same distance may come in either
    order) and rounding (``dtype``, default float64, the precision of the CPU path).

    Parameters
    ----------
    X : (n, d) array or tensor
        Distinct, finite points.
    k : int
        Neighbours per point, the point itself counted: ``1 <= k <= n``.
    device : str or torch.device, optional
        Where to compute; default: where ``X`` is (the CPU for a numpy array).
    block : int, default 2048
        Rows of the distance matrix held at once (memory: ``block * n`` numbers).
    dtype : torch.dtype, default torch.float64
    check_finite : bool, default True
        Check that the cloud holds no NaN or inf (as scipy's ``check_finite``).
        ``False`` skips a pass over the cloud for callers that checked it already;
        a non-finite cloud then gives meaningless neighbours.

    Returns
    -------
    numpy.ndarray
        ``(n, k)`` int64.

    Raises
    ------
    ValueError
        On a cloud that is not 2-D or not finite, a ``k`` out of range, or a ``block`` below 1.
    """
    points = _points(X, device, dtype, check_finite)
    n = len(points)
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= n:
        raise ValueError(f"k must be an integer from 1 to the {n} points; got {k!r}")
    out = []
    for start, distances in _squared_blocks(points, block):
        rows = torch.arange(len(distances))
        distances[rows, rows + start] = -torch.inf  # itself first
        out.append(torch.topk(distances, k, dim=1, largest=False, sorted=True).indices.cpu())
    return torch.cat(out).numpy().astype(np.int64)


def pairwise_distances(X: Any, *, device: str | torch.device | None = None, block: int = 2048,
                       dtype: torch.dtype = torch.float32) -> torch.Tensor:  # fmt: skip
    """The ``(n, n)`` matrix of Euclidean distances between the points, computed in blocks on ``device``.

    The diagonal is exactly 0; rounding (``dtype``, default float32) can leave a
    distance between two distinct points near each other at 0.

    Parameters
    ----------
    X : (n, d) array or tensor
        Finite points.
    device : str or torch.device, optional
        Where to compute and keep the matrix; default: where ``X`` is.
    block : int, default 2048
        Rows computed at once.
    dtype : torch.dtype, default torch.float32

    Returns
    -------
    torch.Tensor
        ``(n, n)``, on ``device``.

    Raises
    ------
    ValueError
        On a cloud that is not 2-D or not finite, or a ``block`` below 1.
    MemoryError
        When the matrix would take more than :func:`toposcope.memory.budget` (on the CPU; by
        default half the memory available).
    """
    points = _points(X, device, dtype)
    n = len(points)
    size, limit = n * n * points.element_size(), budget()
    if points.device.type == "cpu" and size > limit:
        raise MemoryError(f"a distance matrix of {n:,} points takes {size / 2**30:.1f} GiB, more than the "
                          f"{limit / 2**30:.1f} GiB budget (toposcope.memory.MEMORY_BUDGET; default half the "
                          "available memory): use fewer points")  # fmt: skip
    out = torch.empty((n, n), dtype=dtype, device=points.device)
    for start, distances in _squared_blocks(points, block):
        out[start : start + len(distances)] = distances.clamp_(min=0).sqrt_()
    out.fill_diagonal_(0)
    return out


def _points(X: Any, device: str | torch.device | None, dtype: torch.dtype, check_finite: bool = True) -> torch.Tensor:
    """``X`` as a checked 2-D tensor on ``device`` (default: where it is), finite unless ``check_finite`` is False."""
    points = X if isinstance(X, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(X))
    points = points.detach().to(device=device or points.device, dtype=dtype)
    if points.ndim != 2 or len(points) < 1:
        raise ValueError(f"need a 2-D cloud of at least one point; got shape {tuple(points.shape)}")
    if check_finite and not torch.isfinite(points).all():
        raise ValueError("the cloud holds NaN or inf: no neighbours to find")
    return points


def _squared_blocks(points: torch.Tensor, block: int) -> Iterator[tuple[int, torch.Tensor]]:
    """``(start, squared distances of rows start .. start + block to every point)``, block by block."""
    if isinstance(block, bool) or not isinstance(block, int) or block < 1:
        raise ValueError(f"block must be a positive integer; got {block!r}")
    squares = (points * points).sum(1)
    for start in range(0, len(points), block):
        rows = points[start : start + block]
        yield start, squares[start : start + block, None] + squares[None, :] - 2 * rows @ points.T
