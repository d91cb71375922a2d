"""The report's figures: one forest plot per claim of the paper, and the restricted-mean ratio over the horizon.

Labels are wrapped, never cut; a row whose interval runs off the axis (an
unbounded Fieller interval) ends in an arrow.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .intervals import mean_interval

__all__ = [
    "LAYOUT_STYLE",
    "forest_panels",
    "plot_accuracy_curves",
    "plot_class_epochs",
    "plot_fixed_scale",
    "plot_forest",
    "plot_horizon",
    "plot_long_bars",
    "plot_null_profiles",
    "plot_separation",
    "plot_sweep",
    "reading_bands",
    "wrapped",
]

COLOURS = {"holds": "tab:green", "contradicted": "tab:red", "inconclusive": "tab:olive",
           "not measurable here": "tab:gray"}  # fmt: skip
LAYOUT_STYLE = {"relu": ("C0", "ReLU"), "topo_sine_mid": ("C3", "sine in conv1, conv2"),
                "topo_sine_mid_relu": ("C2", "sine (negative = 0) in conv1, conv2")}  # fmt: skip
"""Colour and legend label of each CNN layout."""
LABEL_WIDTH = 34
"""Characters per line of a row label (wrapped, never cut)."""


def forest_panels(rows: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The rows of one claim with an estimate, merged where parts share one interval, by kind of scale.

    Returns ``{"ratio": ..., "difference": ..., "correlation": ...}`` (kinds present
    only); each frame has ``label, estimate, low, high, threshold, verdict, marks``
    (``marks``: the values to draw as vertical lines).
    """
    shown = rows[np.isfinite(rows.estimate.astype(float))]
    panels: dict[str, list[dict]] = {}
    for _, group in shown.groupby(["setting", "estimate", "low", "high"], sort=False, dropna=False):
        first = group.iloc[0]
        kind = "correlation" if first.part == "mechanism" and first.threshold == 0 else (
            "difference" if first.part == "tolerance" else "ratio")  # fmt: skip
        verdicts = "; ".join(f"{row.part} {row.verdict}" for row in group.itertuples())
        label = textwrap.fill(f"{first.setting} ({verdicts})", LABEL_WIDTH)
        strongest = group.verdict.iloc[0]
        panels.setdefault(kind, []).append({"label": label, "estimate": first.estimate, "low": first.low,
                                            "high": first.high, "threshold": first.threshold, "verdict": strongest,
                                            "marks": tuple(sorted(set(group.threshold)))})  # fmt: skip
    return {kind: pd.DataFrame(items) for kind, items in panels.items()}


AXIS_LABELS = {"ratio": "ratio (sine / reference, pruned / unpruned, baseline / criterion)",
               "difference": "difference (harm: accuracy drop, extra gap, ReLU's lead)",
               "correlation": "rank correlation (early Betti total vs epochs to target)"}  # fmt: skip


def plot_forest(rows: pd.DataFrame, title: str = ""):
    """One forest plot of one claim: every setting's 95% interval and estimate, its verdicts in the label.

    Parameters
    ----------
    rows : DataFrame
        Rows of :func:`toposcope.claims.verdicts.report` (one ``family``).
    title : str

    Returns
    -------
    matplotlib Figure, or None where no row has an estimate.
    """
    import matplotlib.pyplot as plt

    panels = forest_panels(rows)
    if not panels:
        return None
    heights = [max(len(p), 1) for p in panels.values()]
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 0.62 * sum(heights) + 1.3 * len(panels)),
                             gridspec_kw={"height_ratios": heights}, squeeze=False)  # fmt: skip
    for ax, (kind, panel) in zip(axes[:, 0], panels.items(), strict=True):
        finite = np.concatenate([panel.estimate, panel.low[np.isfinite(panel.low)], panel.high[np.isfinite(panel.high)],
                                 [m for marks in panel.marks for m in marks]])  # fmt: skip
        lo, hi = finite.min(), finite.max()
        pad = 0.08 * (hi - lo or 1)
        lo, hi = lo - pad, hi + pad
        for y, row in enumerate(panel.itertuples()):
            colour = COLOURS.get(row.verdict, "tab:olive")
            left = max(row.low, lo) if np.isfinite(row.low) else lo
            right = min(row.high, hi) if np.isfinite(row.high) else hi
            ax.plot([left, right], [y, y], color=colour, lw=2.5)
            for end, inside in ((left, np.isfinite(row.low)), (right, np.isfinite(row.high))):
                if not inside:
                    ax.annotate("", (end, y), (end + (0.04 if end == hi else -0.04) * (lo - hi), y),
                                arrowprops={"arrowstyle": "->", "color": colour})  # fmt: skip
            ax.plot(row.estimate, y, "o", color=colour)
        marks = sorted({m for ms in panel.marks for m in ms} | ({1.0} if kind == "ratio" else set()))
        for m in marks:
            ax.axvline(m, color="k", lw=1, ls="--" if m in (0.0, 1.0) else ":")
        ax.set_xlim(lo, hi)
        ax.set_yticks(range(len(panel)), panel.label)
        ax.set_ylim(len(panel) - 0.5, -0.5)
        ax.set_xlabel(AXIS_LABELS[kind] + ("; dotted: the claimed value" if len(marks) > 1 else ""))
    if title:
        axes[0, 0].set_title(title)
    fig.tight_layout()
    return fig


def plot_horizon(curves: dict[str, pd.DataFrame], claimed: float = 2 / 3, ax=None, title: str = ""):
    """Restricted-mean ratios against the horizon they are computed to, each with its 95% band.

    Parameters
    ----------
    curves : dict
        Label -> :func:`toposcope.claims.convergence.horizon_curve` table.
    claimed : float
        The claimed ratio, drawn dotted beside 1 (dashed).
    ax : matplotlib Axes, optional
    title : str

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3.8))
    for label, curve in curves.items():
        finite = curve[np.isfinite(curve.low) & np.isfinite(curve.high)]
        (line,) = ax.plot(curve.horizon, curve.ratio, label=f"{label} (95% band)")
        ax.fill_between(finite.horizon, finite.low, finite.high, alpha=0.2, color=line.get_color())
    ax.axhline(1, color="k", ls="--", lw=1)
    ax.axhline(claimed, color="k", ls=":", lw=1, label=f"claimed ratio {claimed:.2f}")
    ax.set_xlabel("horizon (epochs)")
    ax.set_ylabel("restricted-mean ratio")
    ax.set_title(title)
    ax.legend()
    ax.figure.tight_layout()
    return ax


def plot_sweep(table: pd.DataFrame, xlabel: str, ax=None, title: str = "", colours: dict | None = None):
    """Restricted-mean epochs to target of each layout against a swept value (batch size or learning rate).

    Parameters
    ----------
    table : DataFrame
        :func:`toposcope.claims.analysis.sweep_table` of one sweep (index ``(value, activation)``).
    xlabel, title : str
    ax : matplotlib Axes, optional
    colours : dict, optional
        Layout -> colour.

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.6))
    for activation, group in table.groupby(level="activation", sort=False):
        group = group.droplevel("activation")
        ax.plot(range(len(group)), group["rmst"], marker="o", label=activation,
                color=(colours or {}).get(activation))  # fmt: skip
        ax.set_xticks(range(len(group)), [str(v) for v in group.index])
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("restricted-mean epochs to target")
    ax.set_title(title)
    ax.legend()
    return ax


def wrapped(table: pd.DataFrame, index: bool = True):
    """A table for the book's page: cells wrap their text, so the table fits the column instead of scrolling."""
    cells = "white-space: normal; overflow-wrap: anywhere; font-size: 0.9em"
    styler = table.style.set_table_styles([{"selector": "td, th", "props": cells}])
    return styler if index else styler.hide(axis="index")


def reading_bands(readings: pd.DataFrame, reading: str) -> pd.DataFrame:
    """Per (activation, epoch, n, layer, class): the mean reading over seeds with its t 95% interval, and the null's
    mean and range over seeds.  Per-class long-bar readings are first averaged over classes (``class`` = ``"mean"``).

    ``readings``: :func:`toposcope.claims.analysis.cnn_readings` of one data set.
    """
    rows = readings[readings.reading == reading]
    if reading != "cross_share":
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
                    groups: Mapping[str, str] | None = None):  # fmt: skip
    """Class separation through the layers: the share of kNN edges between classes, per layout, against its null.

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

    Returns
    -------
    matplotlib Figure
    """
    import matplotlib.pyplot as plt

    groups = groups or {"all": "all ten classes"}
    bands = reading_bands(readings, "cross_share")
    fig, axes = plt.subplots(1, len(groups), figsize=(3.3 * len(groups), 3.6), sharey=True, squeeze=False)
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
        ax.set_ylim(0, 1)
    axes[0][0].set_ylabel("share of kNN edges between classes")
    fig.tight_layout()
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, [textwrap.fill(n, 34) for n in names], loc="upper center", bbox_to_anchor=(0.5, 0.0),
               ncol=min(3, len(groups) + 1), fontsize="small")  # fmt: skip
    return fig


def plot_long_bars(readings: pd.DataFrame, layers: Sequence[str], labels: Mapping[str, str]):
    """Long persistence bars (H0, H1) per layer and layout, averaged over classes, against the Gaussian null.

    Mean over seeds at the last checkpoint (bars: t 95% interval); grey band: the
    Gaussian clouds of the same mean, covariance and size (range over runs).

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
        null = _bands_by_layer(last[last.activation == "relu"], layers)
        ax.fill_between(x[: len(null)], null.null_low, null.null_high, color="0.85", label="Gaussian cloud (null)",
                        step="mid")  # fmt: skip
        for offset, (layout, (colour, name)) in zip((-0.1, 0, 0.1), LAYOUT_STYLE.items(), strict=True):
            b = _bands_by_layer(last[last.activation == layout], layers)
            if b.empty:
                continue
            errors = np.vstack([b["mean"] - b.low, b.high - b["mean"]])
            ax.errorbar(x[: len(b)] + offset, b["mean"], yerr=np.nan_to_num(errors), fmt="o", color=colour, ms=4,
                        capsize=2, label=name)  # fmt: skip
        _layer_axis(ax, layers, labels)
        ax.set_title(f"long H{dim} bars per class (> 3 spacings)")
    axes[0].legend(fontsize="small")
    fig.tight_layout()
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


def plot_null_profiles(runs: pd.DataFrame, colours: Mapping[str, str] | None = None):
    """Per layout, the Betti total per layer (both classes, every dimension) against its Gaussian null's.

    ``runs``: Betti runs whose records hold ``null_betti`` (``BettiTracker(null=True)``),
    one data set.  Solid: the trained networks at the last checkpoint (one line a seed);
    grey dashed: the null clouds of those layers (mean; band: range over seeds); dotted: untrained.

    Returns
    -------
    matplotlib Figure
    """
    import matplotlib.pyplot as plt

    from .analysis import betti_layer_totals

    layouts = list(dict.fromkeys(runs.activation))
    fig, axes = plt.subplots(1, len(layouts), figsize=(4.2 * len(layouts), 3.6), sharey=True, squeeze=False)
    for ax, layout in zip(axes[0], layouts, strict=True):
        totals = pd.concat([betti_layer_totals(r.betti).assign(seed=r.seed)
                            for r in runs[runs.activation == layout].itertuples()])  # fmt: skip
        last = totals[totals.epoch == totals.epoch.max()]
        null = last.groupby("layer_index").null_betti.agg(["min", "mean", "max"])
        ax.fill_between(null.index, null["min"], null["max"], color="0.8")
        ax.plot(null.index, null["mean"], "--", color="0.5", marker="s", ms=3, label="its Gaussian null")
        colour = (colours or {}).get(layout)
        for seed, run in last.groupby("seed"):
            label = f"trained (epoch {int(totals.epoch.max())})" if seed == last.seed.min() else None
            ax.plot(run.layer_index, run.betti, color=colour, marker="o", ms=3, lw=1, label=label)
        first = totals[(totals.epoch == totals.epoch.min()) & (totals.seed == totals.seed.min())]
        ax.plot(first.layer_index, first.betti, ":", color="0.3", label=f"untrained (epoch {int(first.epoch.min())})")
        ax.set_xticks(first.layer_index, first.layer, rotation=60)
        ax.set_title(layout)
        ax.set_yscale("symlog")
    axes[0][0].set_ylabel("Betti total, both classes")
    axes[0][0].legend(fontsize="small")
    fig.tight_layout()
    return fig
