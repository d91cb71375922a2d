"""Plots of Betti-number tables recorded by :class:`toposcope.BettiTracker`."""

from __future__ import annotations

import pandas as pd

__all__ = ["plot_betti_epochs", "plot_betti_profile"]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(7, 3.5))
    return ax


def _check(frame: pd.DataFrame) -> None:
    missing = {"epoch", "layer", "layer_index", "class", "dim", "betti"} - set(frame.columns)
    if missing:
        raise ValueError(f"not a Betti table: missing columns {sorted(missing)}")
    if frame.empty:
        raise ValueError("the Betti table is empty: profile something first")


def plot_betti_profile(frame: pd.DataFrame, epoch: int | None = None, ax=None, title: str | None = None):
    """Betti number against layer, one line per (dimension, class).

    Parameters
    ----------
    frame : DataFrame
        Rows from :meth:`BettiTracker.profile` or :attr:`BettiTracker.frame`.
    epoch : int, optional
        Which epoch to show; default the last recorded one.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    _check(frame)
    if frame["epoch"].notna().any():
        epoch = frame["epoch"].max() if epoch is None else epoch
        frame = frame[frame["epoch"] == epoch]
        if frame.empty:
            raise ValueError(f"no rows for epoch {epoch}")
    ax = _axes(ax)
    styles = ["-", "--", ":", "-."]
    for (dim, cls), g in frame.groupby(["dim", "class"], sort=True):
        g = g.sort_values("layer_index")
        ax.plot(g["layer_index"], g["betti"], styles[int(dim) % 4], marker="o", label=f"b{dim}, class {cls}")
    layers = frame.drop_duplicates("layer_index").sort_values("layer_index")
    ax.set_xticks(layers["layer_index"], layers["layer"], rotation=45, ha="right")
    ax.set_ylabel("Betti number")
    ax.set_title(title or ("Betti numbers across layers" + (f" (epoch {epoch})" if epoch is not None else "")))
    ax.legend(fontsize="small", ncol=2)
    return ax


def plot_betti_epochs(frame: pd.DataFrame, layer: str, ax=None, title: str | None = None):
    """Betti numbers of one layer against epoch, one line per (dimension, class).

    Returns
    -------
    matplotlib Axes
    """
    _check(frame)
    sub = frame[frame["layer"] == layer]
    if sub.empty:
        raise ValueError(f"no rows for layer {layer!r}; layers are {sorted(frame['layer'].unique())}")
    ax = _axes(ax)
    for (dim, cls), g in sub.groupby(["dim", "class"], sort=True):
        g = g.sort_values("epoch")
        ax.plot(g["epoch"], g["betti"], marker="o", label=f"b{dim}, class {cls}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("Betti number")
    ax.set_title(title or f"Betti numbers of {layer} during training")
    ax.legend(fontsize="small", ncol=2)
    return ax
