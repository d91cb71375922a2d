"""Chapter 5's figures: the CNN's readings through its layers, against their nulls, and its training curves.

Fixed-scale Betti numbers as the paper drew them (:func:`plot_fixed_scale`), the readings
that can move (:func:`plot_separation`, :func:`plot_long_bars`, from :func:`reading_bands`),
each class over the epochs (:func:`plot_class_epochs`) and accuracy (:func:`plot_accuracy_curves`).
Legend labels are wrapped, never cut.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..plotting import panels
from .intervals import mean_interval

__all__ = [
    "LAYOUT_STYLE",
    "SEPARATION_AXIS",
    "plot_accuracy_curves",
    "plot_class_epochs",
    "plot_fixed_scale",
    "plot_long_bars",
    "plot_separation",
    "reading_bands",
    "run_inventory",
    "separation_table",
]

SEPARATION_AXIS = {"cross_share": ("share of kNN edges between classes", (0, 1)),
                   "merge_scale": ("merge scale (within-class spacings)", (0, None))}  # fmt: skip
"""Axis label and limits of each class-separation reading."""

LAYOUT_STYLE = {"relu": ("C0", "ReLU"), "topo_sine_mid": ("C3", "sine in conv1, conv2"),
                "topo_sine_mid_relu": ("C2", "sine (negative = 0) in conv1, conv2")}  # fmt: skip
"""Colour and legend label of each CNN layout."""


def reading_bands(readings: pd.DataFrame, reading: str) -> pd.DataFrame:
    """Per (activation, epoch, n, layer, class): the mean reading over seeds with its t 95% interval, and the null's
    mean and range over seeds.  Per-class long-bar readings are first averaged over classes (``class`` = ``"mean"``).

    ``readings``: :func:`toposcope.claims.analysis.cnn_readings` of one data set.
    """
    rows = readings[readings.reading == reading]
    if reading.startswith("long_"):
        rows = rows.groupby(["activation", "seed", "epoch", "n", "layer"], as_index=False)[["value", "null"]].mean()
        rows["class"] = "mean"
    out = []
    for key, group in rows.groupby(["activation", "epoch", "n", "layer", "class"]):
        mean, low, high = mean_interval(group.value.to_numpy())
        out.append(dict(zip(["activation", "epoch", "n", "layer", "class"], key, strict=True), mean=mean, low=low,
                        high=high, null=group.null.mean(), null_low=group.null.min(), null_high=group.null.max(),
                        seeds=len(group)))  # fmt: skip
    return pd.DataFrame(out)


def _layer_axis(ax, layers: Sequence[str], labels: Mapping[str, str]) -> None:
    ax.set_xticks(range(len(layers)), [labels.get(layer, layer) for layer in layers], rotation=30)


def _bands_by_layer(bands: pd.DataFrame, layers: Sequence[str]) -> pd.DataFrame:
    return bands.set_index("layer").reindex([layer for layer in layers if layer in set(bands.layer)])


def plot_separation(readings: pd.DataFrame, layers: Sequence[str], labels: Mapping[str, str],
                    groups: Mapping[str, str] | None = None, reading: str = "cross_share"):  # fmt: skip
    """Class separation through the layers, per layout, against its null: a reading of :data:`SEPARATION_AXIS`.

    One panel per group of classes (default: all ten).  Solid lines: the trained
    networks on the most images a class (mean over seeds, bars: t 95% interval);
    dashed: the same on the fewest (a reading stable in the sample keeps its
    place); grey dotted: ReLU untrained (epoch 0); grey band: shuffled labels,
    the null (range over runs).

    Parameters
    ----------
    readings : DataFrame
        :func:`toposcope.claims.analysis.cnn_readings` of one data set.
    layers : sequence of str
        The layers in order; ``labels`` names them on the axis.
    groups : mapping, optional
        ``class`` value (``"all"``, ``"0-6"``...) -> panel title.
    reading : {"cross_share", "merge_scale"}
        The share of kNN edges between classes, or the merge scale (:func:`toposcope.merge_scale`).

    Returns
    -------
    matplotlib Figure
    """

    if reading not in SEPARATION_AXIS:
        raise ValueError(f"reading must be one of {sorted(SEPARATION_AXIS)}; got {reading!r}")
    groups = groups or {"all": "all ten classes"}
    bands = reading_bands(readings, reading)
    label, limits = SEPARATION_AXIS[reading]
    shared = limits[1] is not None  # a reading without a fixed top: each panel scales to its own values
    fig, axes = panels(len(groups), 3.3, 3.6, sharey=shared)
    last, big, small = bands.epoch.max(), bands.n.max(), bands.n.min()
    x = np.arange(len(layers))
    for ax, (group, title) in zip(axes[0], groups.items(), strict=True):
        mine = bands[bands["class"] == group]
        trained = mine[(mine.epoch == last) & (mine.n == big)]
        null = trained.groupby("layer").agg(null_low=("null_low", "min"), null_high=("null_high", "max"))
        null = null.reindex([layer for layer in layers if layer in null.index])
        ax.fill_between(x[: len(null)], null.null_low, null.null_high, color="0.85", label="shuffled labels (null)")
        untrained = _bands_by_layer(mine[(mine.epoch == 0) & (mine.n == big) & (mine.activation == "relu")], layers)
        ax.plot(x[: len(untrained)], untrained["mean"], ":", color="0.4", marker=".", label="ReLU, untrained")
        for layout, (colour, name) in LAYOUT_STYLE.items():
            for n, style in ((big, "-"), (small, "--")):
                b = _bands_by_layer(mine[(mine.activation == layout) & (mine.epoch == last) & (mine.n == n)], layers)
                if b.empty or (n == small and small == big):
                    continue
                errors = np.vstack([b["mean"] - b.low, b.high - b["mean"]])
                ax.errorbar(x[: len(b)], b["mean"], yerr=np.nan_to_num(errors), fmt=style, color=colour, marker="o",
                            ms=3, capsize=2, label=f"{name}, {n} a class" if n == big else f"{n} a class")  # fmt: skip
        _layer_axis(ax, layers, labels)
        ax.set_title(title)
        ax.set_ylim(*limits)
    axes[0][0].set_ylabel(label)
    fig.tight_layout()
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, [textwrap.fill(n, 34) for n in names], loc="upper center", bbox_to_anchor=(0.5, 0.0),
               ncol=min(3, len(groups) + 1), fontsize="small")  # fmt: skip
    return fig


def plot_long_bars(readings: pd.DataFrame, layers: Sequence[str], labels: Mapping[str, str]):
    """Long persistence bars (H0, H1) per layer and layout, averaged over classes, against the Gaussian null.

    Mean over seeds at the last checkpoint on the most images a class (dots, bars:
    t 95% interval) and on the fewest (dashes: a reading stable in the sample keeps
    its place); grey band: the Gaussian clouds of the same mean, covariance and
    size (range over runs).

    Returns
    -------
    matplotlib Figure
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), sharex=True)
    x = np.arange(len(layers))
    for dim, ax in enumerate(axes):
        bands = reading_bands(readings, f"long_h{dim}")
        last = bands[bands.epoch == bands.epoch.max()]
        null = _bands_by_layer(last[(last.activation == "relu") & (last.n == last.n.max())], layers)
        ax.fill_between(x[: len(null)], null.null_low, null.null_high, color="0.85", label="Gaussian cloud (null)",
                        step="mid")  # fmt: skip
        big, small = last.n.max(), last.n.min()
        for offset, (layout, (colour, name)) in zip((-0.1, 0, 0.1), LAYOUT_STYLE.items(), strict=True):
            b = _bands_by_layer(last[(last.activation == layout) & (last.n == big)], layers)
            if b.empty:
                continue
            errors = np.vstack([b["mean"] - b.low, b.high - b["mean"]])
            ax.errorbar(x[: len(b)] + offset, b["mean"], yerr=np.nan_to_num(errors), fmt="o", color=colour, ms=4,
                        capsize=2, label=f"{name}, {big} a class")  # fmt: skip
            few = _bands_by_layer(last[(last.activation == layout) & (last.n == small)], layers)
            if small != big and not few.empty:
                ax.plot(x[: len(few)] + offset + 0.05, few["mean"], "_", color=colour, ms=9, mew=2,
                        label=f"dashes: {small} a class" if layout == "relu" else None)  # fmt: skip
        _layer_axis(ax, layers, labels)
        ax.set_title(f"long H{dim} bars per class (> 3 spacings)")
    fig.tight_layout()
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, [textwrap.fill(n, 34) for n in names], loc="upper center", bbox_to_anchor=(0.5, 0.0),
               ncol=3, fontsize="small")  # fmt: skip
    return fig


def plot_fixed_scale(betti: pd.DataFrame, dataset: str, k: int, layers: Sequence[str], labels: Mapping[str, str]):
    """The paper's kind of figure: the fixed-scale Betti numbers (kNN recipe at ``k``) per layer and layout.

    Class mean per run, then mean over seeds (bars: standard deviation over seeds);
    grey dotted: ReLU untrained (epoch 0).

    Parameters
    ----------
    betti : DataFrame
        :func:`toposcope.claims.analysis.cnn_betti`.
    dataset : str
    k : int
    layers, labels
        The layers in order and their axis names.

    Returns
    -------
    matplotlib Figure
    """
    import matplotlib.pyplot as plt

    from .analysis import cnn_betti_bands

    rows = betti[betti.dataset == dataset]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for ax, dim in zip(axes, (0, 1), strict=True):
        for epoch, style in ((0, ":"), (None, "-")):
            bands = cnn_betti_bands(rows, k=k, epoch=epoch)
            for layout, (colour, name) in LAYOUT_STYLE.items():
                b = bands[(bands.activation == layout) & (bands.dim == dim)].set_index("layer").reindex(layers)
                if b["mean"].isna().all() or (epoch == 0 and layout != "relu"):
                    continue
                ax.errorbar(range(len(b)), b["mean"], yerr=b["std"].fillna(0), fmt=style, marker="o", ms=3,
                            capsize=2, color="0.4" if epoch == 0 else colour,
                            label="ReLU, untrained" if epoch == 0 else f"{name}, trained")  # fmt: skip
        _layer_axis(ax, layers, labels)
        ax.set_title(f"b{dim} per layer at k = {k} (class mean; bars: sd over seeds)")
    axes[0].legend(fontsize="small")
    fig.tight_layout()
    return fig


def plot_class_epochs(betti: pd.DataFrame, dataset: str, layout: str, k: int, layer: str,
                      labels: Mapping[str, str]):  # fmt: skip
    """The fixed-scale Betti numbers of each class at one layer over the checkpoint epochs (mean over seeds).

    Returns
    -------
    matplotlib Figure
    """
    import matplotlib.pyplot as plt

    rows = betti[(betti.dataset == dataset) & (betti.activation == layout) & (betti.layer == layer) & (betti.k == k)]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    for ax, dim in zip(axes, (0, 1), strict=True):
        per_class = rows[rows.dim == dim].groupby(["epoch", "class"]).betti.mean().unstack("class")
        per_class.plot(ax=ax, marker="o", ms=3, legend=False)
        ax.set_title(f"b{dim} at {labels.get(layer, layer)}, {layout}, k = {k}")
        ax.set_xlabel("epoch")
    axes[1].legend(title="class", ncol=2, loc="upper right", fontsize="small")
    fig.tight_layout()
    return fig


def plot_accuracy_curves(runs: pd.DataFrame, dataset: str):
    """Training and test accuracy per epoch of one data set's CNN runs: median and quartiles over seeds per layout.

    Returns
    -------
    matplotlib Figure
    """
    import matplotlib.pyplot as plt

    from .analysis import curve_bands

    group = runs[runs.dataset == dataset]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.4), sharey=True)
    for ax, metric in zip(axes, ("train_acc", "test_acc"), strict=True):
        bands = curve_bands(group, metric)
        for layout, (colour, name) in LAYOUT_STYLE.items():
            if layout not in bands.index.get_level_values("activation"):
                continue
            b = bands.loc[layout]
            ax.plot(b.index, b[0.5], color=colour, marker="o", ms=3, label=name)
            ax.fill_between(b.index, b[0.25], b[0.75], color=colour, alpha=0.2)
        ax.set_xlabel("epoch")
        ax.set_title(f"{dataset}: {metric.removesuffix('_acc')} accuracy (median, quartiles)")
    axes[0].legend(fontsize="small")
    fig.tight_layout()
    return fig


def separation_table(readings: pd.DataFrame, layers: Sequence[str], labels: Mapping[str, str],
                     reading: str = "cross_share") -> pd.DataFrame:  # fmt: skip
    """Mean class-separation reading (all classes; default the share of kNN edges between classes) at the last
    checkpoint: one row per layer (in ``layers`` order, named by ``labels``), one column per (layout, images a
    class)."""
    bands = reading_bands(readings, reading)
    last = bands[(bands.epoch == bands.epoch.max()) & (bands["class"] == "all")]
    table = last.pivot_table(index="layer", columns=["activation", "n"], values="mean").reindex(list(layers))
    table.index = [labels[layer] for layer in table.index]
    return table


def run_inventory(parts: Mapping[str, tuple[pd.DataFrame | None, str]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What committed CNN results a page reads: per results set and data set, its runs and seeds ("not run" where
    absent), and each set's profile sizes (seeds aside).

    ``parts``: title -> (runs or None, the profile of :data:`toposcope.experiments.cnn.PROFILES` that made them).
    """
    from ..experiments.cnn import DATASETS, PROFILES

    done, sizes = {}, {}
    for title, (runs, profile) in parts.items():
        for dataset in DATASETS:
            mine = runs[runs.dataset == dataset] if runs is not None else pd.DataFrame()
            seeds = sorted(int(seed) for seed in mine.seed.unique()) if len(mine) else []
            done[(title, dataset)] = f"{len(mine)} runs, seeds {seeds}" if len(mine) else "not run (files absent)"
        sizes[title] = {key: str(value) for key, value in PROFILES[profile].items() if key != "seeds"}
    inventory = pd.Series(done).unstack().rename_axis(index="results", columns="data set")
    return inventory, pd.DataFrame(sizes).fillna("")
