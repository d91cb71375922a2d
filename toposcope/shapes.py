"""Evenly sampled shapes of known topology, for tests, chapters and sanity checks.

| shape | Betti numbers |
| --- | --- |
| :func:`circle` | (1, 1) |
| :func:`torus` | (1, 2, 1) |
| :func:`sphere` | (1, 0, 1) |
| :func:`clusters` with ``n`` clusters | b0 = n |
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["circle", "clusters", "sphere", "torus"]


def circle(
    n: int = 200,
    radius: float = 1.0,
    centre: tuple[float, float] = (0.0, 0.0),
    noise: float = 0.0,
    seed: int = 0,
) -> np.ndarray:
    """``n`` equally spaced points on a circle in the plane, optionally jittered.

    ``noise`` is the standard deviation of isotropic Gaussian jitter.
    """
    t = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    X = radius * np.c_[np.cos(t), np.sin(t)] + np.asarray(centre, dtype=float)
    if noise:
        X = X + np.random.default_rng(seed).normal(scale=noise, size=X.shape)
    return X


def torus(n_major: int = 60, n_minor: int = 24, R: float = 2.0, r: float = 0.8, noise: float = 0.0,
          seed: int = 0) -> np.ndarray:  # fmt: skip
    """A torus in R^3 sampled on an ``n_major x n_minor`` angular grid, optionally jittered.

    The torus turns about the z axis: its core circle (radius ``R``) lies in the
    xy-plane, and the tube (radius ``r``) goes round it.  ``noise`` is the standard
    deviation of isotropic Gaussian jitter (seeded by ``seed``), as in :func:`circle`.
    """
    u, v = np.meshgrid(
        np.linspace(0.0, 2 * np.pi, n_major, endpoint=False), np.linspace(0.0, 2 * np.pi, n_minor, endpoint=False)
    )
    u, v = u.ravel(), v.ravel()
    X = np.c_[(R + r * np.cos(v)) * np.cos(u), (R + r * np.cos(v)) * np.sin(u), r * np.sin(v)]
    if noise:
        X = X + np.random.default_rng(seed).normal(scale=noise, size=X.shape)
    return X


def sphere(n: int = 400, radius: float = 1.0, rotation: np.ndarray | None = None) -> np.ndarray:
    """``n`` near-evenly spaced points on a 2-sphere (a Fibonacci lattice).

    ``rotation``, a 3x3 orthogonal matrix, turns the lattice (used to vary it).
    """
    i = np.arange(n) + 0.5
    z = 1.0 - 2.0 * i / n
    phi = i * math.pi * (3.0 - math.sqrt(5.0))
    rho = np.sqrt(1.0 - z**2)
    X = np.c_[rho * np.cos(phi), rho * np.sin(phi), z]
    if rotation is not None:
        X = X @ np.asarray(rotation).T
    return radius * X


def clusters(n_clusters: int = 3, n_per: int = 100, dim: int = 2, spread: float = 0.1, seed: int = 0) -> np.ndarray:
    """``n_clusters`` Gaussian blobs of ``n_per`` points, centres 10 apart on a line."""
    rng = np.random.default_rng(seed)
    centres = np.zeros((n_clusters, dim))
    centres[:, 0] = 10.0 * np.arange(n_clusters)
    return np.concatenate([c + spread * rng.normal(size=(n_per, dim)) for c in centres])
