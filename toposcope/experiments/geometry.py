"""What the Betti recipe reads on the two geometries of nine rings and nine spheres, and why.

The clean geometry is built so that the kNN recipe reads the true topology of each
class.  Naitzat et al.'s own geometry (:mod:`toposcope.datasets.naitzat`) is
noisier: :func:`readings` tabulates the fixed-scale Betti numbers of each class
over the noise level, ``k``, and the number of points (the full class, or the
draws a :class:`~toposcope.BettiTracker` profiles), and :func:`band_gaps` gives the
geometric reason when the answer is not the nominal one.

    python -m toposcope.experiments.geometry --out data/results/geometry_readings.csv
"""

from __future__ import annotations

import argparse
import itertools
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from ..clouds import SmallCloudWarning, SubsampleWarning, subsample
from ..datasets import GEOMETRIES, nine_rings, nine_spheres
from ..datasets import naitzat as nz
from ..topology import betti_numbers
from .profiles import check_names

__all__ = ["NOMINAL", "band_gap_summary", "band_gaps", "knn_ceiling", "load_readings", "readings"]

NOMINAL = {"rings": {0: (9, 9), 1: (9, 9)}, "spheres": {0: (9, 0, 9), 1: (18, 0, 18)}}
"""The Betti numbers each class is built to have: nine loops; nine or eighteen shells."""

_MAKERS = {"rings": nine_rings, "spheres": nine_spheres}


def readings(
    dataset: str = "rings",
    geometry: str = "naitzat",
    *,
    noises: Sequence[float | None] = (None,),
    ks: Sequence[int] = (8, 14, 30),
    sizes: Sequence[int | None] = (1000, None),
    samplings: Sequence[str] = ("random",),
    n_points: int = 16_000,
    seed: int = 0,
) -> pd.DataFrame:
    """Betti numbers of each class of a data set, over noise, ``k``, size and sampling.

    Parameters
    ----------
    dataset : {"rings", "spheres"}
    geometry : {"clean", "naitzat"}
    noises : sequence of float or None
        Values of the data set's ``noise`` argument; ``None`` is its default.
    ks : sequence of int
        Neighbours of the kNN recipe (2 hops).
    sizes : sequence of int or None
        Points drawn from each class; ``None`` reads the whole class.
    samplings : sequence of {"random", "maxmin"}
        How a size is drawn: uniformly (as the tracker does) or farthest-point.
    n_points : int, default 16,000
        Points generated in all (the paper's training set).
    seed : int, default 0
        Seed of the data and of the draws.

    Returns
    -------
    pandas.DataFrame
        One row per (noise, class, size, sampling, k): ``dataset, geometry, noise,
        label, n, sampling, k, betti`` (a tuple), ``nominal`` (the tuple the class
        is built to have) and ``matches``.
    """
    check_names("data set", [dataset], _MAKERS)
    check_names("geometry", [geometry], GEOMETRIES)
    check_names("sampling(s)", samplings, ("random", "maxmin"))
    maxdim = 1 if dataset == "rings" else 2
    rows = []
    for noise in noises:
        X, y = _MAKERS[dataset](n_points, 0, geometry=geometry, noise=noise, seed=seed).train.tensors
        for label in (0, 1):
            cloud = X[y == label].numpy().astype(np.float64)
            draws = [(len(cloud), "all", cloud)]
            for n, how in itertools.product([s for s in sizes if s is not None], samplings):
                if n < len(cloud):
                    draws.append((n, how, cloud[subsample(cloud, n, how, seed)]))
            if None not in sizes:
                draws = draws[1:]
            for (n, how, draw), k in itertools.product(draws, ks):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", SmallCloudWarning)
                    warnings.simplefilter("ignore", SubsampleWarning)
                    betti = betti_numbers(draw, maxdim=maxdim, k=min(k, n), max_points=None).betti
                rows.append({"dataset": dataset, "geometry": geometry, "noise": noise, "label": label, "n": n,
                             "sampling": how, "k": k, "betti": betti, "nominal": NOMINAL[dataset][label]})  # fmt: skip
    frame = pd.DataFrame(rows)
    frame["matches"] = [b == t for b, t in zip(frame.betti, frame.nominal, strict=True)]
    return frame


def band_gaps(noise: float = nz.RING_NOISE, n_points: int = 16_000, k: int = 14, seed: int = 0) -> pd.DataFrame:
    """Why Naitzat et al.'s rings read fewer than nine components: the gaps between the bands of a class.

    For each class, the smallest distance between two of its bands that belong to
    different groups, without noise and with it, next to the noise's half-width
    along the narrowest axis and the length of one hop of the kNN recipe (the
    median distance to the ``k``-th neighbour).  Where the noisy gap is shorter
    than a hop, the recipe joins the two bands: the class does not read as nine
    loops at that ``k``, and as the noise closes the gap it reads so at no ``k``.

    Parameters
    ----------
    noise : float, default 0.7
        Half-width of the uniform noise (before scaling).
    n_points : int, default 16,000
        Points generated in all (both classes).
    k : int, default 14
    seed : int, default 0

    Returns
    -------
    pandas.DataFrame
        One row per class: ``label, groups`` (the closest two groups),
        ``gap_clean, gap_noisy, reach, hop`` (all in the scaled coordinates of
        the data set) and ``joined`` (``gap_noisy < hop``).
    """
    if not (isinstance(noise, int | float) and np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0; got {noise!r}")
    raw, y = nz.rings_points(n_points, 0.0, np.random.default_rng(seed), scale=False)
    noisy, _ = nz.rings_points(n_points, noise, np.random.default_rng(seed), scale=False)
    group = nz.ring_groups(n_points)
    extent = np.abs(noisy).max(axis=0)  # the scaling of the noisy data set, applied to both
    rows = []
    for label in (0, 1):
        mine = y == label
        gaps = {}
        for name, cloud in (("gap_clean", raw / extent), ("gap_noisy", noisy / extent)):
            pairs = [(float(cKDTree(cloud[mine & (group == a)]).query(cloud[mine & (group == b)])[0].min()), (a, b))
                     for a, b in itertools.combinations(range(9), 2)]  # fmt: skip
            gaps[name] = min(pairs)
        hop = float(np.median(cKDTree(noisy[mine] / extent).query(noisy[mine] / extent, k=k)[0][:, -1]))
        rows.append({"label": label, "groups": gaps["gap_clean"][1], "gap_clean": gaps["gap_clean"][0],
                     "gap_noisy": gaps["gap_noisy"][0], "reach": float((noise / extent).min()), "hop": hop,
                     "joined": gaps["gap_noisy"][0] < hop})  # fmt: skip
    return pd.DataFrame(rows)


def band_gap_summary(noises: Sequence[float] = (0.0, 0.1, 0.2, 0.3, 0.7), paper: float = nz.RING_NOISE
                     ) -> tuple[pd.DataFrame, list[str]]:  # fmt: skip
    """:func:`band_gaps` at each noise (one table, index ``noise, label``) and one line per class saying
    from which noise its bands join, how many hops apart they are without noise and how far at ``paper``'s.

    ``noises`` must hold 0 and ``paper``.
    """
    gaps = pd.concat([band_gaps(noise).assign(noise=noise) for noise in noises])
    lines = []
    for label, part in gaps.groupby("label"):
        clean, noisy = part[part.noise == 0.0].iloc[0], part[part.noise == paper].iloc[0]
        lines.append(f"class {label}: bands joined from noise {part[part.joined].noise.min():g} on; closest bands "
                     f"{clean.gap_clean / clean.hop:.1f} hops apart without noise, {noisy.gap_noisy:.4f} apart at "
                     f"{paper:g} (one hop: {noisy.hop:.4f})")  # fmt: skip
    return gaps.set_index(["noise", "label"]), lines


def knn_ceiling(dataset: str = "rings", geometry: str = "naitzat", k: int = 15, seed: int = 0) -> float:
    """Test accuracy of a ``k``-nearest-neighbour classifier fitted on the paper-sized training split.

    A rough ceiling of what any classifier can reach where the classes overlap
    (1.0 on the clean geometry; about 0.98 on Naitzat et al.'s rings).
    """
    from sklearn.neighbors import KNeighborsClassifier

    check_names("data set", [dataset], _MAKERS)
    split = _MAKERS[dataset](geometry=geometry, seed=seed)
    (X, y), (Xt, yt) = split.train.tensors, split.test.tensors
    return float(KNeighborsClassifier(k).fit(X.numpy(), y.numpy()).score(Xt.numpy(), yt.numpy()))


def load_readings(path: str | Path) -> pd.DataFrame:
    """A table written by this module's command line, with ``betti`` and ``nominal`` as tuples again."""
    table = pd.read_csv(path)
    for column in ("betti", "nominal"):
        table[column] = table[column].map(lambda text: tuple(int(v) for v in text.strip("()").split(",") if v))
    table["noise"] = table["noise"].astype(object).where(table["noise"].notna(), None)
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="data/results/geometry_readings.csv")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    draws = {"sizes": (1000, None), "samplings": ("random", "maxmin")}
    noises = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
    frames = [
        readings("rings", "clean", **draws),
        readings("rings", "naitzat", noises=noises, **draws),
        readings("spheres", "clean", **draws),
        readings("spheres", "naitzat", **draws),
    ]
    table = pd.concat(frames, ignore_index=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    print(f"{args.out}: {len(table)} readings in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
