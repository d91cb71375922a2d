"""Evenly sampled shapes of known topology, shared by the tests."""

import numpy as np
import pytest


def circle(n: int = 200, radius: float = 1.0, centre=(0.0, 0.0)) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.c_[np.cos(t), np.sin(t)] * radius + np.asarray(centre)


def torus(n_major: int = 60, n_minor: int = 24, R: float = 2.0, r: float = 0.8) -> np.ndarray:
    u, v = np.meshgrid(
        np.linspace(0, 2 * np.pi, n_major, endpoint=False), np.linspace(0, 2 * np.pi, n_minor, endpoint=False)
    )
    u, v = u.ravel(), v.ravel()
    return np.c_[(R + r * np.cos(v)) * np.cos(u), (R + r * np.cos(v)) * np.sin(u), r * np.sin(v)]


def sphere(n: int = 400) -> np.ndarray:
    i = np.arange(n) + 0.5
    z = 1 - 2 * i / n
    phi = i * np.pi * (3 - np.sqrt(5))
    r = np.sqrt(1 - z**2)
    return np.c_[r * np.cos(phi), r * np.sin(phi), z]


@pytest.fixture
def shapes():
    return {"circle": circle, "torus": torus, "sphere": sphere}
