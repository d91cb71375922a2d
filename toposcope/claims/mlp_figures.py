"""Chapter 3's figures and the tables beside them: training curves, times to target, Betti profiles.

One call per figure; each returns the matplotlib Figure (and, where the chapter
prints them, the tables it drew from).  Colours are fixed per layout
(:data:`LAYOUT_COLOURS`), so a layout has one colour on every page.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ..layouts import LAYOUTS
from ..plotting import panels
from .analysis import betti_layer_totals, betti_run_totals, curve_bands, input_readings, rerun_agreement, sweep_table
from .figures import plot_sweep
from .survival import km_curves, time_table, times_to_target

__all__ = [
    "LAYOUT_COLOURS",
    "TIME_COLUMNS",
    "budget_tables",
    "input_table",
    "null_totals",
    "plot_betti_profiles",
    "plot_betti_totals",
    "plot_budgets",
    "plot_sweeps",
    "plot_time_to_target",
    "plot_training_curves",
    "rerun_lines",
    "target_ratios",
    "time_tables",
]

LAYOUT_COLOURS = {name: f"C{i}" for i, name in enumerate(LAYOUTS)}
"""One colour per layout, in the order of :data:`toposcope.LAYOUTS`."""
TIME_COLUMNS = ["runs", "reached", "km_median", "km_low", "km_high", "rmst", "ratio", "low", "high", "logrank_p"]
"""The columns of :func:`~toposcope.claims.survival.time_table` the chapter shows."""


def _layouts(frame: pd.DataFrame) -> list[str]:
    return [name for name in LAYOUTS if name in set(frame.activation)]


def plot_training_curves(runs: pd.DataFrame, title: str = ""):
    """Per data set, each layout's training accuracy per epoch: median over seeds, quartile band, the target.

    ``runs``: convergence runs (``dataset, activation, curve, target``).
    """
    datasets = list(dict.fromkeys(runs.dataset))
    fig, axes = panels(len(datasets), 6, 4)
    for ax, dataset in zip(axes[0], datasets, strict=True):
        bands = curve_bands(runs[runs.dataset == dataset])
        for layout in _layouts(runs):
            band, colour = bands.loc[layout], LAYOUT_COLOURS[layout]
            ax.plot(band.index, band[0.5], color=colour, label=layout)
            ax.fill_between(band.index, band[0.25], band[0.75], color=colour, alpha=0.15)
        ax.axhline(runs["target"].iloc[0], color="k", ls=":", lw=1)
        ax.set(ylim=(0.45, 1.005), xlabel="epoch", ylabel="training accuracy",
               title=f"{dataset}: median and quartiles over seeds")  # fmt: skip
    axes[0][0].legend(ncol=2)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_time_to_target(runs: pd.DataFrame, target: float | None = None, title: str = ""):
    """Per data set, the Kaplan-Meier share of each layout's runs at ``target`` by each epoch (95% band).

    ``target``: default, the runs' own training target.
    """
    target = float(runs["target"].iloc[0]) if target is None else target
    datasets = list(dict.fromkeys(runs.dataset))
    fig, axes = panels(len(datasets), 6, 4)
    for ax, dataset in zip(axes[0], datasets, strict=True):
        km = km_curves(runs[runs.dataset == dataset], target)
        for layout in _layouts(runs):
            curve, colour = km[km.activation == layout], LAYOUT_COLOURS[layout]
            ax.step(curve.time, 1 - curve.survival, where="post", color=colour, label=layout)
            ax.fill_between(curve.time, 1 - curve.high, 1 - curve.low, step="post", color=colour, alpha=0.1)
        ax.set(xlabel="epoch", ylabel=f"share of runs at {target:.0%} training accuracy",
               title=f"{dataset}: Kaplan-Meier, 95% band {title}".strip())  # fmt: skip
    axes[0][0].legend(ncol=2)
    fig.tight_layout()
    return fig


def time_tables(runs: pd.DataFrame, targets: Sequence[float]) -> dict[tuple[str, str, float], pd.DataFrame]:
    """Per data set, metric (train and test accuracy) and target: each layout's time table, in layout order."""
    order = _layouts(runs)
    return {(dataset, metric, target): time_table(group, target, metric).loc[order, TIME_COLUMNS]
            for dataset, group in runs.groupby("dataset", sort=False) for target in targets
            for metric in ("train_acc", "test_acc")}  # fmt: skip


def target_ratios(tables: dict[tuple[str, str, float], pd.DataFrame]) -> pd.DataFrame:
    """The restricted-mean ratio to ReLU with its interval, one column per data set and target, as text."""
    summary = pd.concat({(dataset, f"{metric} {target:.0%}"): table for (dataset, metric, target), table
                         in tables.items()}, names=["data", "target"])  # fmt: skip
    text = summary.apply(lambda r: f"{r.ratio:.2f} [{r.low:.2f}-{r.high:.2f}]", axis=1)
    return text.unstack(["data", "target"])


def plot_budgets(budgets: Sequence[tuple[pd.DataFrame, str]], budget: int = 60):
    """Kaplan-Meier curves of the longer budgets, one panel each, with the full profile's ``budget`` marked.

    ``budgets``: ``(runs, where they ran)`` per panel, runs on the clean spheres.
    """
    fig, axes = panels(len(budgets), 6, 4, sharey=True)
    for ax, (runs, where) in zip(axes[0], budgets, strict=True):
        target = float(runs["target"].iloc[0])
        km = km_curves(runs, target)
        for layout in _layouts(runs):
            curve = km[km.activation == layout]
            ax.step(curve.time, 1 - curve.survival, where="post", color=LAYOUT_COLOURS[layout], label=layout)
        ax.axvline(budget, color="k", ls=":", lw=1, label="the full profile's budget")
        ax.set(xlabel="epoch", ylabel=f"share of runs at {target:.0%} training accuracy",
               title=f"clean spheres, {where}")  # fmt: skip
        ax.legend()
    fig.tight_layout()
    return fig


def budget_tables(runs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One budget's time table (layout order) and, per layout, its runs, censored runs and stuck runs."""
    times = times_to_target(runs).groupby("activation", sort=False)
    counts = times.agg(runs=("seed", "size"), censored=("reached", lambda r: int((~r).sum())), stuck=("stuck", "sum"))
    return time_table(runs).loc[_layouts(runs), TIME_COLUMNS], counts


def rerun_lines(pairs: Sequence[tuple[pd.DataFrame | None, pd.DataFrame | None, int, str]]) -> list[str]:
    """For each ``(first runs, second runs, budget, what)``: how many same-seed runs reach the target alike."""
    lines = []
    for first, second, budget, what in pairs:
        if first is not None and second is not None:
            same = rerun_agreement(first, second, budget=budget)
            lines.append(f"Same seed, {what} epochs: {int(same.same.sum())} of {int(same.pairs.sum())} runs reach "
                         f"the target at the same epoch within the first {budget} (or both miss it).")  # fmt: skip
    return lines


def input_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per data set and class: points read, the nominal Betti numbers, those read, runs, runs that match."""
    readings = input_readings(runs)
    return readings.groupby(["dataset", "class"]).agg(points=("n_points", "first"), nominal=("nominal", "first"),
                                                       read=("betti", lambda b: sorted(set(b))),
                                                       runs=("seed", "size"), matching=("matches", "sum"))  # fmt: skip


def plot_betti_profiles(runs: pd.DataFrame):
    """Per data set and layout, one seed's Betti total per layer (both classes), one line per checkpoint epoch.

    ``runs``: Betti runs; the lowest seed of each data set is drawn.
    """
    import matplotlib.pyplot as plt

    datasets = list(dict.fromkeys(runs.dataset))
    first = runs[runs.seed == runs.groupby("dataset").seed.transform("min")]
    columns = first.groupby("dataset").size().max()
    fig, axes = panels(columns, 4, 3.9, rows=len(datasets), sharey="row")
    for row, dataset in zip(axes, datasets, strict=True):
        part = first[first.dataset == dataset]
        for ax, record in zip(row, part.itertuples(), strict=False):
            total = betti_layer_totals(record.betti)
            epochs = sorted(total.epoch.unique())
            cmap = plt.get_cmap("viridis", len(epochs))
            for i, epoch in enumerate(epochs):
                line = total[total.epoch == epoch].sort_values("layer_index")
                ax.plot(line.layer_index, line.betti, marker="o", ms=3, color=cmap(i), label=f"epoch {epoch}")
            ax.set_xticks(line.layer_index, line.layer, rotation=60)
            ax.set_title(f"{dataset}, {record.activation} (seed {record.seed})")
        top = pd.DataFrame(part.betti.iloc[0]).dim.max()
        row[0].set_ylabel(f"b0 + ... + b{top}, both classes")
        row[len(part) - 1].legend()
    fig.tight_layout()
    return fig


def plot_betti_totals(runs: pd.DataFrame):
    """Per data set, each layout's hidden-layer Betti total per epoch: every seed (thin) and their mean (thick)."""
    totals = betti_run_totals(runs)
    datasets = list(dict.fromkeys(totals.dataset))
    fig, axes = panels(len(datasets), 6, 3.8)
    for ax, dataset in zip(axes[0], datasets, strict=True):
        part = totals[totals.dataset == dataset]
        for layout, group in part.groupby("activation", sort=False):
            colour = LAYOUT_COLOURS.get(layout)
            for _, run in group.groupby("seed"):
                ax.plot(run.epoch, run.total, color=colour, lw=0.6, alpha=0.5)
            mean = group.groupby("epoch").total.mean()
            ax.plot(mean.index, mean, color=colour, lw=2.2, label=layout)
        ax.set(yscale="log", xlabel="epoch", ylabel="hidden-layer Betti total", title=f"nine {dataset}")
    axes[0][0].legend()
    fig.tight_layout()
    return fig


def null_totals(runs: pd.DataFrame) -> pd.DataFrame:
    """Per layout and seed, the hidden-layer Betti total at the last checkpoint and its Gaussian nulls' total.

    ``runs``: Betti runs read with ``BettiTracker(null=True)``.
    """
    totals = pd.concat([betti_layer_totals(run.betti).assign(activation=run.activation, seed=run.seed)
                        for run in runs.itertuples()])  # fmt: skip
    hidden = totals[~totals.layer.isin(["input", "logits"]) & (totals.epoch == totals.epoch.max())]
    table = hidden.groupby(["activation", "seed"], sort=False)[["betti", "null_betti"]].sum()
    return table.rename(columns={"betti": "hidden-layer total", "null_betti": "its Gaussian nulls"})


def plot_sweeps(sweeps: Sequence[tuple[pd.DataFrame, str]], experiment: str, by: str, xlabel: str):
    """One panel per ``(runs, label)`` sweep of ``experiment`` over ``by``; returns the figure and its tables."""
    fig, axes = panels(len(sweeps), 6, 3.6)
    tables = []
    for ax, (runs, label) in zip(axes[0], sweeps, strict=True):
        tables.append(sweep_table(runs[runs.experiment == experiment], by))
        plot_sweep(tables[-1], xlabel, ax, label, LAYOUT_COLOURS)
    fig.tight_layout()
    return fig, [table[TIME_COLUMNS] for table in tables]
