"""Exact k nearest neighbours in torch, in blocks, on the device the data (or the model) is on.

The CPU path of the kNN recipe (:func:`toposcope.knn_hop_graph`) uses a k-d tree
or scikit-learn's brute force; :func:`knn_indices` is the same search as blocked
matrix products and ``torch.topk``, so that a model on a GPU reads its layers'
neighbours there, and so that several ``k`` share one search (the ``k`` nearest
are the first ``k`` of the ``max(k)`` nearest).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = ["knn_indices"]


def knn_indices(X: Any, k: int, *, device: str | torch.device | None = None, block: int = 2048,
                dtype: torch.dtype = torch.float64) -> np.ndarray:  # fmt: skip
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

    Returns
    -------
    numpy.ndarray
        ``(n, k)`` int64.

    Raises
    ------
    ValueError
        On a cloud that is not 2-D or not finite, a ``k`` out of range, or a ``block`` below 1.
    """
    points = X if isinstance(X, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(X))
    points = points.detach().to(device=device or points.device, dtype=dtype)
    if points.ndim != 2 or len(points) < 1:
        raise ValueError(f"need a 2-D cloud of at least one point; got shape {tuple(points.shape)}")
    if not torch.isfinite(points).all():
        raise ValueError("the cloud holds NaN or inf: no neighbours to find")
    n = len(points)
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= n:
        raise ValueError(f"k must be an integer from 1 to the {n} points; got {k!r}")
    if isinstance(block, bool) or not isinstance(block, int) or block < 1:
        raise ValueError(f"block must be a positive integer; got {block!r}")
    squares = (points * points).sum(1)
    out = []
    for start in range(0, n, block):
        rows = points[start : start + block]
        distances = squares[start : start + block, None] + squares[None, :] - 2 * rows @ points.T
        distances[torch.arange(len(rows)), torch.arange(start, start + len(rows))] = -torch.inf  # itself first
        out.append(torch.topk(distances, k, dim=1, largest=False, sorted=True).indices.cpu())
    return torch.cat(out).numpy().astype(np.int64)
