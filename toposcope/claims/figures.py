"""The report's figures: one forest plot per claim of the paper, and the restricted-mean ratio over the horizon.

Labels are wrapped, never cut; a row whose interval runs off the axis (an
unbounded Fieller interval) ends in an arrow.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..plotting import panels

__all__ = [
    "forest_panels",
    "plot_forest",
    "plot_horizon",
    "plot_null_profiles",
    "plot_sweep",
    "wrapped",
]

COLOURS = {"holds": "tab:green", "contradicted": "tab:red", "inconclusive": "tab:olive",
           "not measurable here": "tab:gray"}  # fmt: skip
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


def plot_null_profiles(runs: pd.DataFrame, colours: Mapping[str, str] | None = None):
    """Per layout, the Betti total per layer (both classes, every dimension) against its Gaussian null's.

    ``runs``: Betti runs whose records hold ``null_betti`` (``BettiTracker(null=True)``),
    one data set.  Solid: the trained networks at the last checkpoint (one line a seed);
    grey dashed: the null clouds of those layers (mean; band: range over seeds); dotted: untrained.

    Returns
    -------
    matplotlib Figure
    """

    from .analysis import betti_layer_totals

    layouts = list(dict.fromkeys(runs.activation))
    fig, axes = panels(len(layouts), 4.2, 3.6, sharey=True)
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
