"""Chapter 1's figures and tables: complexes, persistence, the kNN-hop recipe, the two data sets.

One call per figure (each returns the matplotlib Figure) or table (a DataFrame).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .datasets import nine_rings, nine_spheres
from .hops import knn_hop_matrix
from .plotting import panels, plot_barcode
from .shapes import circle, clusters, sphere, torus
from .topology import betti_numbers, persistence

__all__ = [
    "betti_table",
    "class_betti_table",
    "example_shapes",
    "plot_b0_grid",
    "plot_datasets",
    "plot_knn_hops",
    "plot_persistence",
    "plot_rips",
    "sampling_table",
]


def _draw_rips(ax, X: np.ndarray, scale: float) -> None:
    D = np.linalg.norm(X[:, None] - X[None], axis=-1)
    for i, j, k in itertools.combinations(range(len(X)), 3):
        if max(D[i, j], D[i, k], D[j, k]) <= scale:
            ax.fill(*X[[i, j, k]].T, color="C0", alpha=0.15, lw=0)
    for i, j in itertools.combinations(range(len(X)), 2):
        if D[i, j] <= scale:
            ax.plot(*X[[i, j]].T, color="C0", lw=1)
    ax.scatter(*X.T, color="k", s=12, zorder=3)
    ax.set_aspect("equal")
    ax.set_xticks([]), ax.set_yticks([])


def plot_rips(X: np.ndarray, scales: Sequence[float]):
    """The Vietoris-Rips complex of a planar cloud at each scale (edges and filled triangles), with its b0, b1."""

    fig, axes = panels(len(scales), 3, 3.2)
    for ax, scale in zip(axes[0], scales, strict=True):
        _draw_rips(ax, np.asarray(X), scale)
        b = betti_numbers(X, method="rips", scale=scale).betti
        ax.set_title(rf"$\varepsilon$ = {scale}:  $b_0$={b[0]}, $b_1$={b[1]}")
    fig.tight_layout()
    return fig


def plot_persistence(X: np.ndarray, max_bars: int = 25):
    """A planar cloud, its persistence diagram (H0, H1) and its barcode, side by side."""
    import matplotlib.pyplot as plt
    import persim

    dgms = persistence(X, maxdim=1)
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
    axes[0].scatter(*np.asarray(X).T, s=8)
    axes[0].set_aspect("equal")
    axes[0].set_title(f"{len(X)} points")
    persim.plot_diagrams(dgms, ax=axes[1], show=False)
    axes[1].set_title("persistence diagram")
    plot_barcode(dgms, ax=axes[2], max_bars=max_bars)
    fig.tight_layout()
    return fig


def example_shapes() -> dict[str, tuple[np.ndarray, int]]:
    """Evenly sampled shapes of known topology: name -> (points, the highest dimension to count)."""
    return {"circle": (circle(200), 1), "two circles": (np.r_[circle(200), circle(200, centre=(5, 0))], 1),
            "three clusters": (clusters(3, 100), 1), "sphere": (sphere(400), 2), "torus": (torus(), 2)}  # fmt: skip


def betti_table(shapes: Mapping[str, tuple[np.ndarray, int]], **options) -> pd.DataFrame:
    """What the kNN recipe reads on each named cloud: points and Betti numbers (``options``: of betti_numbers)."""
    rows = []
    for name, (X, maxdim) in shapes.items():
        result = betti_numbers(X, maxdim=maxdim, **options)
        rows.append({"shape": name, "points": result.n_points, "Betti numbers": result.betti})
    return pd.DataFrame(rows).set_index("shape")


def sampling_table(sizes: Sequence[int], ks: Sequence[int] = (6, 10, 14, 20, 30), seed: int = 0) -> pd.DataFrame:
    """Betti numbers of a sphere sampled evenly and at random, per number of points (rows) and ``k`` (columns)."""
    def random_sphere(n):
        v = np.random.default_rng(seed).normal(size=(n, 3))
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    records = [{"sampling": sampling, "points": n, "k": k, "betti": betti_numbers(make(n), maxdim=2, k=k).betti}
               for sampling, make in (("even", sphere), ("random", random_sphere)) for n in sizes
               for k in ks]  # fmt: skip
    return pd.DataFrame(records).pivot(index=["sampling", "points"], columns="k", values="betti")


def plot_knn_hops(X: np.ndarray, k: int = 8, hops: int = 2):
    """A planar cloud's k-nearest-neighbour graph and the Betti numbers the recipe reads at ``hops`` hops."""
    import matplotlib.pyplot as plt

    X = np.asarray(X)
    fig, ax = plt.subplots(figsize=(6, 3.2))
    graph = knn_hop_matrix(X, k=k, max_hops=1)
    for i, j in zip(graph.row, graph.col, strict=True):
        if i < j:
            ax.plot(*X[[i, j]].T, color="C0", lw=0.6, alpha=0.6)
    ax.scatter(*X.T, s=10, color="k", zorder=3)
    b = betti_numbers(X, k=k, scale=hops).betti
    ax.set_title(f"k = {k}, {hops} hop(s):  b0 = {b[0]}, b1 = {b[1]}")
    ax.set_aspect("equal")
    ax.axis("off")
    return fig


def plot_datasets(points: int, seed: int = 0):
    """Nine rings and nine spheres, clean and with Naitzat et al.'s geometry: ``points`` of each, by class (3-D)."""
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(10, 9.5))
    for row, geometry in enumerate(["clean", "naitzat"]):
        for col, make in enumerate([nine_rings, nine_spheres]):
            X, y = make(geometry=geometry).train.tensors
            keep = np.random.default_rng(seed).choice(len(X), points, replace=False)
            ax = fig.add_subplot(2, 2, 2 * row + col + 1, projection="3d")
            for label, colour in [(0, "tab:green"), (1, "tab:red")]:
                chosen = keep[y[keep].numpy() == label]
                ax.scatter(*X[chosen].T, s=2, color=colour, label=f"class {label}", alpha=0.5)
            if make is nine_spheres:  # cut the spheres open to show the nesting
                ax.set_ylim(None, 0.15)
            ax.set_title(f"{make.__name__}, geometry={geometry!r}")
            ax.legend(markerscale=5, loc="upper left")
    fig.tight_layout()
    return fig


def class_betti_table() -> pd.DataFrame:
    """What the recipe reads on every training point of each class of nine rings and nine spheres."""
    rows = []
    for name, data, maxdim in [("nine rings", nine_rings(), 1), ("nine spheres", nine_spheres(), 2)]:
        X, y = data.train.tensors
        for label in (0, 1):
            result = betti_numbers(X[y == label], maxdim=maxdim)
            rows.append({"data set": name, "class": label, "points": result.n_points, "Betti numbers": result.betti})
    return pd.DataFrame(rows).set_index(["data set", "class"])


def plot_b0_grid(readings: pd.DataFrame, title: str = "", nominal: int = 9):
    """b0 of each class's whole cloud per ``k`` (rows) and noise (columns), one heat map per class.

    ``readings``: rows of one data set and geometry with ``label, k, noise, betti``
    (``toposcope.experiments.geometry.readings``, sampling ``"all"``).
    """

    labels = sorted(readings.label.unique())
    fig, axes = panels(len(labels), 5, 3.6, sharey=True)
    for ax, label in zip(axes[0], labels, strict=True):
        part = readings[readings.label == label]
        b0 = part.assign(b0=[b[0] for b in part.betti]).pivot(index="k", columns="noise", values="b0")
        image = ax.imshow(b0, cmap="viridis", vmin=1, vmax=nominal, aspect="auto")
        for (i, j), value in np.ndenumerate(b0.to_numpy()):
            ax.text(j, i, int(value), ha="center", va="center", color="w" if value < 2 * nominal / 3 else "k")
        ax.set_xticks(range(b0.shape[1]), [f"{v:g}" for v in b0.columns])
        ax.set_yticks(range(b0.shape[0]), b0.index)
        ax.set(xlabel="noise half-width (paper: 0.7)", title=f"{title} class {label}: $b_0$ of all points".strip())
    axes[0][0].set_ylabel("k")
    fig.colorbar(image, ax=axes[0].tolist(), label=f"$b_0$ (nominal {nominal})")
    return fig
