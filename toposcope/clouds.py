"""Point clouds: validation, duplicate removal and subsampling, before any homology is computed."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch

__all__ = ["SmallCloudWarning", "SubsampleWarning", "as_point_cloud", "check_labels", "prepare", "subsample",
           "unique_rows"]

SAMPLINGS = ("maxmin", "random")
DEFAULT_MAX_POINTS = 12_000


class SubsampleWarning(UserWarning):
    """Issued when a point cloud is larger than ``max_points`` and is subsampled."""


class SmallCloudWarning(UserWarning):
    """Issued when a cloud has too few points per component for the kNN recipe to see its loops.

    The rule: with ``k`` neighbours (itself counted) and ``h`` hops, the complex
    joins points up to about ``h (k - 1) / 2`` neighbours apart along a curve.  The
    Vietoris-Rips complex of ``m`` evenly spaced points on a circle, joining
    points up to ``r`` steps apart, is a circle only while ``r / m < 1/3``
    (Adamaszek & Adams 2017); past that the loop fills in.  So a component of
    fewer than ``1.5 h (k - 1)`` points (39 for the defaults) cannot show a loop,
    and the warning fires when the cloud's points per component fall below that.
    """


def as_point_cloud(X: Any, name: str = "X") -> np.ndarray:
    """Validate a point cloud and return it as a float64 ``(n, d)`` array.

    Raises
    ------
    TypeError
        If ``X`` is not an array-like of real numbers.
    ValueError
        If ``X`` is not 2-D, has fewer than 2 points or holds NaN or inf.
    """
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    if hasattr(X, "to_numpy") and hasattr(X, "dtypes"):  # a pandas frame, nullable Float64/Int64 columns too
        try:
            X = X.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError) as err:
            raise TypeError(f"{name} must hold real numbers; a column is not numeric ({err})") from None
    try:
        arr = np.asarray(X)
    except Exception as err:  # ragged lists and other odd inputs
        raise TypeError(f"{name} must be an (n, d) array of numbers: {err}") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must hold real numbers; got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must hold real numbers; got complex values")
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_points, n_features); got shape {arr.shape}. "
            "Reshape a 1-D array with X.reshape(-1, 1); flatten feature maps with X.reshape(len(X), -1)."
        )
    if arr.shape[0] < 2:
        raise ValueError(f"{name} needs at least 2 points; got {arr.shape[0]}")
    if arr.shape[1] < 1:
        raise ValueError(f"{name} has no coordinates (shape {arr.shape})")
    arr = arr.astype(np.float64, copy=False)
    if not np.isfinite(arr).all():
        bad = int((~np.isfinite(arr)).any(axis=1).sum())
        raise ValueError(f"{name} holds NaN or inf in {bad} of {arr.shape[0]} points")
    return arr


def subsample(X: np.ndarray, n: int, method: str = "maxmin", seed: int = 0) -> np.ndarray:
    """Choose ``n`` points of a cloud; return their indices (sorted).

    Parameters
    ----------
    X : (N, d) array
    n : int
        Number of points to keep; all are kept when ``n >= N``.
    method : {"maxmin", "random"}
        ``"maxmin"`` is the greedy farthest-point sample: it starts at a seeded
        random point and adds, one at a time, the point farthest from those
        chosen, which covers the cloud evenly (good for topology).
        ``"random"`` draws uniformly without replacement.
    seed : int
        Seed of the random start or draw.
    """
    X = np.asarray(X, dtype=np.float64)
    X = X - X.mean(axis=0)  # far from the origin, squared norms would swamp the differences
    N = len(X)
    if method not in SAMPLINGS:
        raise ValueError(f"sampling must be one of {SAMPLINGS}; got {method!r}")
    if n < 1:
        raise ValueError(f"cannot subsample to {n} points")
    if n >= N:
        return np.arange(N)
    rng = np.random.default_rng(seed)
    if method == "random":
        return np.sort(rng.choice(N, size=n, replace=False))
    chosen = np.empty(n, dtype=np.int64)
    chosen[0] = rng.integers(N)
    sq_norms = np.einsum("ij,ij->i", X, X)
    mind = np.full(N, np.inf)
    for i in range(1, n):
        c = X[chosen[i - 1]]
        d = sq_norms - 2.0 * (X @ c) + c @ c
        np.minimum(mind, d, out=mind)
        chosen[i] = int(np.argmax(mind))
    return np.sort(chosen)


def unique_rows(arr: np.ndarray) -> np.ndarray:
    """The distinct rows of a 2-D array, in the order they first appear (``-0.0`` equals ``0.0``).

    Rows are compared by their bytes through a hash table: linear in the size of
    the array, where ``np.unique(axis=0)`` sorts rows of thousands of coordinates.
    """
    arr = np.ascontiguousarray(arr + 0.0)  # + 0.0 maps -0.0 to 0.0, so equal numbers have equal bytes
    first: dict[bytes, int] = {}
    for i, row in enumerate(arr):
        first.setdefault(row.tobytes(), i)
    return arr if len(first) == len(arr) else arr[sorted(first.values())]


def check_labels(y: Any, n: int) -> np.ndarray:
    """``y`` as an array of one label per point of an ``n``-point cloud; else a ``ValueError``."""
    labels = np.asarray(y)
    if labels.shape != (n,):
        raise ValueError(f"need one label per point: {n} points, labels of shape {labels.shape}")
    return labels


def normalise(arr: np.ndarray) -> tuple[np.ndarray, float]:
    """A finite cloud centred and divided by its largest absolute coordinate; return it and that ``unit``.

    Scaled first, so that centring cannot overflow near the float limits; then
    every distance is at most ``2 sqrt(d)`` and none overflows.
    """
    size = max(float(arr.max()), -float(arr.min()))  # the largest absolute coordinate, without a temporary
    if size == 0:  # every coordinate is 0: nothing to centre or scale
        return arr, 1.0
    out = arr / size  # the one copy: ``arr`` may be the caller's array
    out -= out.mean(axis=0)
    spread = max(float(out.max()), -float(out.min()))
    if spread > 0:
        out /= spread
    return out, size * (spread if spread > 0 else 1.0)


def prepare(X: Any, max_points: int | None, sampling: str, seed: int) -> tuple[np.ndarray, int, float]:
    """Validate, drop duplicate points, normalise, subsample with a warning; return (cloud, n_input, unit).

    The cloud is centred and divided by ``unit``, its largest absolute
    coordinate, so that clouds at any magnitude (1e-200 or 1e200, or far from the
    origin) are computed at the same precision; a Euclidean scale ``s`` of the
    original cloud is ``s / unit`` in the returned one.
    """
    arr = as_point_cloud(X)
    n_input = len(arr)
    arr, unit = normalise(unique_rows(arr))  # a layer that maps several inputs to one point leaves one point
    if max_points is not None and len(arr) > max_points:
        warnings.warn(
            f"point cloud has {len(arr)} distinct points, more than max_points={max_points}: "
            f"computing on a {sampling} subsample of {max_points} points (seed={seed})",
            SubsampleWarning,
            stacklevel=3,
        )
        arr = arr[subsample(arr, max_points, sampling, seed)]
    return arr, n_input, unit
