"""Chapter 2's figures: how the many-to-one sine is built, its family, and what it does to a loop.

One call per figure; each returns the matplotlib Figure.  The inputs are the
chapter's: a window ``[-6, 12]`` of the real line, the paper's cut-off ``3*pi/4``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import torch

from .activations import DEFAULT_CUT, get_activation, topo_sine
from .plotting import panels
from .shapes import circle
from .topology import betti_numbers

__all__ = [
    "CUTS",
    "DERIVATIVE_NAMES",
    "LOOP_LOSS_NAMES",
    "loop_loss_table",
    "plot_construction",
    "plot_cut",
    "plot_derivatives",
    "plot_family",
    "plot_preimages",
    "plot_readings_of_eq1",
    "plot_ring_images",
    "preimage_counts",
    "window",
]

CUTS = {"π/2 + 0.05": math.pi / 2 + 0.05, "2π/3": 2 * math.pi / 3, "3π/4 (paper)": DEFAULT_CUT,
        "5π/6": 5 * math.pi / 6, "π": math.pi}  # fmt: skip
"""Members of the family the chapter draws, by name."""


def window(low: float = -6.0, high: float = 12.0, points: int = 4001) -> torch.Tensor:
    """Evenly spaced inputs on ``[low, high]`` (float64), where the chapter draws its functions."""
    return torch.linspace(low, high, points, dtype=torch.float64)


def plot_construction(cut: float = DEFAULT_CUT):
    """The four steps: a piece of sine, the cut at ``cut``, the pieces repeated on a ramp, zero for x < 0."""
    x, t = window(), torch.linspace(0, math.pi, 400, dtype=torch.float64)
    fig, axes = panels(4, 3, 3.3)
    axes = axes[0]
    axes[0].plot(t, torch.sin(t))
    axes[0].set_title("1. sin on [0, π]")
    axes[1].plot(t, torch.sin(t), color="lightgray")
    axes[1].plot(t[t <= cut], torch.sin(t[t <= cut]))
    axes[1].axvline(cut, ls=":", color="k")
    axes[1].axhspan(math.sin(cut), 1, color="C1", alpha=0.15)
    axes[1].set_title(f"2. cut at c = {cut / math.pi:.2f}π\n(shaded: taken twice)")
    axes[2].plot(x, topo_sine(x, cut=cut))
    axes[2].plot(x, x / cut * math.sin(cut), ls="--", color="gray", label="ramp  x·sin(c)/c")
    axes[2].set_title("3. repeated on a ramp")
    axes[2].legend()
    axes[3].plot(x, topo_sine(x, cut=cut, negative="relu"))
    axes[3].set_title('4. negative="relu"')
    for ax in axes[2:]:
        for k in range(-2, 6):
            ax.axvline(k * cut, color="gray", lw=0.4)
    fig.tight_layout()
    return fig


def plot_readings_of_eq1(cut: float = DEFAULT_CUT):
    """The continuous reading of the paper's eq. (1), ``k sin c + sin(x - kc)``, against the literal ``sin(x - c)``."""
    import matplotlib.pyplot as plt

    xs = window(-3, 9, 3001)
    k = torch.floor(xs / cut)
    fig, ax = plt.subplots(figsize=(8, 3.3))
    ax.plot(xs, topo_sine(xs, cut=cut), label="toposcope: k·sin c + sin(x − k·c)  (continuous)")
    ax.plot(xs, k * math.sin(cut) + torch.sin(xs - cut), label="printed literally: k·sin c + sin(x − c)  (jumps)",
            alpha=0.8)  # fmt: skip
    ax.legend()
    ax.set_title("The two readings of eq. (1)")
    return fig


def plot_family(cuts: Mapping[str, float] = CUTS):
    """``topo_sine`` at each named cut-off (the paper's drawn thicker)."""
    import matplotlib.pyplot as plt

    x = window()
    fig, ax = plt.subplots(figsize=(9, 3.8))
    for name, cut in cuts.items():
        ax.plot(x, topo_sine(x, cut=cut), label=f"c = {name}", lw=2.2 if cut == DEFAULT_CUT else 1.2)
    ax.legend(ncol=2)
    ax.set_title("The many-to-one sine family")
    return fig


def preimage_counts(f, levels: np.ndarray, xs: torch.Tensor | None = None) -> np.ndarray:
    """For each output level y: how many times ``f``'s graph over ``xs`` (default :func:`window`) crosses y."""
    fx = f(window() if xs is None else xs).numpy()
    return np.array([np.count_nonzero(np.diff(np.sign(fx - y)) != 0) for y in levels])


def plot_preimages(cuts: Mapping[str, float] | None = None):
    """Inputs mapped to each output value, for ``topo_sine`` at each cut-off and for a one-to-one function.

    ``cuts``: default, :data:`CUTS` from 2π/3 on (at π/2 + 0.05 the counts crowd the others).
    """
    import matplotlib.pyplot as plt

    cuts = dict(list(CUTS.items())[1:]) if cuts is None else cuts
    levels = np.linspace(-2.5, 5, 1500)
    fig, ax = plt.subplots(figsize=(9, 3.3))
    for name, cut in cuts.items():
        counts = preimage_counts(lambda t, cut=cut: topo_sine(t, cut=cut), levels)
        ax.plot(levels, counts, label=f"topo_sine, c = {name}", drawstyle="steps-mid")
    ax.plot(levels, preimage_counts(torch.tanh, levels), label="tanh, leaky ReLU", color="k", ls="--",
            drawstyle="steps-mid")  # fmt: skip
    ax.set(xlabel="output value y", ylabel="inputs mapped to y", ylim=(0, 4.5))
    ax.legend()
    return fig


DERIVATIVE_NAMES = {"relu": ("relu", {}), "leaky_relu (0.1)": ("leaky_relu", {"slope": 0.1}), "tanh": ("tanh", {}),
                    "sigmoid": ("sigmoid", {}), "topo_sine": ("topo_sine", {}),
                    'topo_sine, negative="relu"': ("topo_sine", {"negative": "relu"})}  # fmt: skip
"""The activations of :func:`plot_derivatives`: label -> (name, options of :func:`get_activation`)."""


def plot_derivatives():
    """The usual activations and the sine family side by side, with their derivatives (by autograd)."""
    x = torch.linspace(-4, 6, 2001, dtype=torch.float64, requires_grad=True)
    fig, axes = panels(2, 6, 3.8)
    for i, (name, (activation, options)) in enumerate(DERIVATIVE_NAMES.items()):
        y = get_activation(activation, **options)(x)
        (grad,) = torch.autograd.grad(y.sum(), x)
        style = {"lw": 2.2} if name.startswith("topo") else {"lw": 1.2, "ls": "--"}
        axes[0][0].plot(x.detach(), y.detach(), label=name, color=f"C{i}", **style)
        axes[0][1].plot(x.detach(), grad, label=name, color=f"C{i}", **style)
    axes[0][0].set_title("activation")
    axes[0][1].set_title("derivative (autograd)")
    axes[0][0].legend()
    fig.tight_layout()
    return fig


def _ring() -> torch.Tensor:
    return torch.as_tensor(circle(200, radius=0.7, centre=(math.pi / 2, math.pi / 2)))


def plot_ring_images(names: Sequence[str] = ("identity", "relu", "tanh", "topo_sine")):
    """A ring centred at (π/2, π/2) and its image under each activation, titled with the image's Betti numbers."""
    ring = _ring()
    fig, axes = panels(len(names), 3, 3.4)
    for ax, name in zip(axes[0], names, strict=True):
        image = ring if name == "identity" else get_activation(name)(ring)
        b = betti_numbers(image).betti
        ax.scatter(*image.T, c=np.linspace(0, 1, len(ring)), cmap="twilight", s=10)
        ax.set_title(f"{name}: b0 = {b[0]}, b1 = {b[1]}")
        ax.set_aspect("equal")
    fig.tight_layout()
    return fig


def plot_cut(cut: float = DEFAULT_CUT, negative: str = "formula"):
    """One member of the family (left) and the ring of :func:`plot_ring_images` through it (right)."""
    f, x, ring = get_activation("topo_sine", cut=cut, negative=negative), window(), _ring()
    fig, axes = panels(2, 5.5, 3.3)
    axes[0][0].plot(x, f(x))
    axes[0][0].set_title(f"topo_sine, c = {cut:.3f} ({cut / math.pi:.3f} π), x < 0: {negative}")
    image = f(ring)
    b = betti_numbers(image).betti
    axes[0][1].scatter(*image.T, c=np.linspace(0, 1, len(ring)), cmap="twilight", s=8)
    axes[0][1].set_title(f"the ring through it: b0 = {b[0]}, b1 = {b[1]}")
    fig.tight_layout()
    return fig


LOOP_LOSS_NAMES = {name: (name, {}) for name in ("relu", "leaky_relu", "tanh", "sigmoid", "topo_sine")} | {
    "topo_sine (negative=relu)": ("topo_sine", {"negative": "relu"})}
"""The activations of :func:`loop_loss_table`: label -> (name, options of :func:`get_activation`)."""


def loop_loss_table(layers: int, scales: Sequence[float] = (1.0, 3.0), seed: int = 0) -> pd.DataFrame:
    """How often one random layer ``z -> f(Wz + b)`` removes the loop of a unit circle (its b1 reads 0).

    ``layers`` random layers per weight scale ``s`` (``W``, ``b`` with N(0, s^2)
    entries), each activation on the same layers.  One row per (scale, activation):
    the fraction losing the loop, the layers tried, and its binomial standard error.
    """
    rng, base = np.random.default_rng(seed), circle(200)
    modules = {label: get_activation(name, **options) for label, (name, options) in LOOP_LOSS_NAMES.items()}
    rows = []
    for scale in scales:
        for _ in range(layers):
            weight, bias = rng.normal(scale=scale, size=(2, 2)), rng.normal(scale=scale, size=2)
            z = torch.as_tensor(base @ weight.T + bias)
            rows += [{"weight scale s": scale, "activation": name, "lost": betti_numbers(f(z)).betti[1] == 0}
                     for name, f in modules.items()]  # fmt: skip
    table = pd.DataFrame(rows).groupby(["weight scale s", "activation"], sort=False).lost.agg(["mean", "count"])
    table["± (1 s.e.)"] = np.sqrt(table["mean"] * (1 - table["mean"]) / table["count"])
    return table.rename(columns={"mean": "fraction losing the loop", "count": "random layers"})
