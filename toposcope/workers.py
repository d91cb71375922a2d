"""Betti numbers of many clouds at once, in worker processes (a profile's clouds, a sweep's layers)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from .topology import BettiResult, betti_curve, betti_numbers

__all__ = ["betti_numbers_many"]


def check_n_jobs(n_jobs: Any) -> None:
    """Raise a ``ValueError`` unless ``n_jobs`` is a positive integer or -1 (joblib's "every core")."""
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"n_jobs must be a positive integer or -1; got {n_jobs!r}")


def _betti_recording_warnings(cloud: Any, kwargs: dict[str, Any]) -> tuple[Any, list]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = betti_curve(cloud, **kwargs) if "ks" in kwargs else betti_numbers(cloud, **kwargs)
    return result, [(w.message, w.category) for w in caught]


def betti_numbers_many(clouds: Sequence[Any], *, n_jobs: int = 1, progress: bool = False,
                       **kwargs: Any) -> list[BettiResult] | list[list[BettiResult]]:  # fmt: skip
    """:func:`betti_numbers` of several clouds, in worker processes when ``n_jobs > 1``.

    With ``ks=`` (several ``k``), :func:`betti_curve` of each cloud instead: one
    neighbour search per cloud, on ``device=`` if given (a GPU's search runs in this
    process, whatever ``n_jobs``).

    Parameters
    ----------
    clouds : sequence of (n, d) arrays or tensors
    n_jobs : int, default 1
        Worker processes (joblib's loky backend, which also limits each worker's
        BLAS threads so that the workers do not oversubscribe the cores); ``-1``
        uses every core.  1 computes in this process.
    progress : bool, default False
        A progress bar over the clouds.
    **kwargs
        Passed to :func:`betti_numbers` (``maxdim``, ``k``, ``engine``...), or to
        :func:`betti_curve` when ``ks`` is among them.

    Returns
    -------
    list of BettiResult, or of lists of BettiResult (one per ``k``) with ``ks``
        In the order of ``clouds``.  Warnings raised in the workers (such as
        :class:`SmallCloudWarning`) are raised again here.
    """
    from joblib import Parallel, delayed
    from tqdm.auto import tqdm

    check_n_jobs(n_jobs)
    if str(kwargs.get("device") or "cpu") != "cpu":
        n_jobs = 1  # one process holds the accelerator
    arrays = [c.detach().cpu().numpy() if hasattr(c, "detach") else np.asarray(c) for c in clouds]
    tasks = (delayed(_betti_recording_warnings)(cloud, kwargs) for cloud in arrays)
    runner = Parallel(n_jobs=n_jobs, return_as="generator")
    out = []
    for result, caught in tqdm(runner(tasks), total=len(arrays), desc="Betti numbers", disable=not progress,
                               leave=False):  # fmt: skip
        for message, category in caught:
            warnings.warn(message, category, stacklevel=2)
        out.append(result)
    return out
