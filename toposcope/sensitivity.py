"""How a fixed-scale Betti number moves with the recipe's ``k`` and the number of points drawn."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .clouds import SmallCloudWarning, as_point_cloud
from .topology import betti_numbers

__all__ = ["betti_sensitivity", "stable_k"]


def betti_sensitivity(
    X: Any,
    ks: Sequence[int] = (4, 6, 8, 14, 20, 30),
    sizes: Sequence[int] = (50, 100, 200, 300, 500),
    *,
    maxdim: int = 1,
    seed: int = 0,
) -> pd.DataFrame:
    """Betti numbers of seeded random draws of ``n`` points of a cloud, for every ``k`` of the kNN recipe.

    A network's layer is profiled on a random draw of inputs, so this is what a
    reader of a Betti profile should know: how much the answer depends on the
    two choices the recipe leaves open.  Each size ``n`` is one draw (nested:
    the first ``n`` points of one seeded permutation), read at every ``k``.

    Parameters
    ----------
    X : (N, d) array or tensor
        The cloud (e.g. one class's outputs of one layer, flattened).
    ks : sequence of int
        Neighbours per point (itself counted), each at least 2.
    sizes : sequence of int
        Numbers of points drawn, each between 2 and ``N``.
    maxdim : int, default 1
    seed : int, default 0
        Seed of the permutation the draws are taken from.

    Returns
    -------
    pandas.DataFrame
        Columns ``n, k, dim, betti``: one row per (size, k, dimension).
        :class:`~toposcope.SmallCloudWarning` is silenced here: small draws at large
        ``k`` are part of what the table shows.
    """
    cloud = as_point_cloud(X)
    sizes, ks = [int(n) for n in sizes], [int(k) for k in ks]
    bad = [n for n in sizes if not 2 <= n <= len(cloud)]
    if bad or not sizes:
        raise ValueError(f"sizes must lie between 2 and the {len(cloud)} points of the cloud; got {sizes}")
    if not ks or min(ks) < 2:
        raise ValueError(f"ks must be integers >= 2; got {ks}")
    order = np.random.default_rng(seed).permutation(len(cloud))
    rows = []
    for n in sizes:
        draw = cloud[order[:n]]
        for k in ks:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SmallCloudWarning)
                betti = betti_numbers(draw, maxdim=maxdim, k=min(k, n)).betti
            rows += [{"n": n, "k": k, "dim": dim, "betti": b} for dim, b in enumerate(betti)]
    return pd.DataFrame(rows, columns=["n", "k", "dim", "betti"])


def stable_k(table: pd.DataFrame) -> int | None:
    """The smallest ``k`` of a :func:`betti_sensitivity` table from which the answer stops moving.

    That is, the smallest ``k`` such that at it and at every larger ``k`` of the
    table, every dimension reads the same Betti number for every size ``n``;
    ``None`` if even the largest ``k`` depends on ``n``.
    """
    readings = table.pivot_table(index="k", columns=["dim", "n"], values="betti")
    stable = None
    for k in sorted(readings.index, reverse=True):
        row = readings.loc[k]
        same_over_n = all(row[dim].nunique() == 1 for dim in row.index.get_level_values("dim").unique())
        if not same_over_n or (stable is not None and not row.equals(readings.loc[stable])):
            break
        stable = k
    return None if stable is None else int(stable)
