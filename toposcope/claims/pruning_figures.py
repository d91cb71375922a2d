"""Chapter 4's figures and its filter table: criteria against the filter's output, accuracy as filters go.

One call per figure; each returns the matplotlib Figure.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..plotting import panels
from ..pruning import CRITERIA, l1_scores, shape_scores
from .pruning_tables import pruning_accuracy

__all__ = ["filter_scores", "plot_pruning_accuracy", "plot_scores_against_rms", "plot_sparsity_curves"]


def filter_scores(model, data, per_class: int) -> pd.DataFrame:
    """One row per conv filter: ``layer, filter``, its L1 norm, its output's RMS and every shape criterion's score."""
    tables = {name: shape_scores(model, data, criterion=name, per_class=per_class) for name in CRITERIA}
    filters = l1_scores(model)[["layer", "filter", "l1"]].rename(columns={"l1": "l1_norm"})
    filters = filters.merge(tables["relative"][["layer", "filter", "rms"]], on=["layer", "filter"])
    for name, table in tables.items():
        filters = filters.merge(table[["layer", "filter", "score"]].rename(columns={"score": name}),
                                on=["layer", "filter"])  # fmt: skip
    return filters


def plot_scores_against_rms(filters: pd.DataFrame, criteria: Sequence[str] = CRITERIA):
    """Each criterion's score of every filter against the RMS of the filter's output, coloured by layer."""

    fig, axes = panels(len(criteria), 4, 3.6)
    for ax, name in zip(axes[0], criteria, strict=True):
        for layer, part in filters.groupby("layer"):
            ax.scatter(part.rms, part[name], s=12, label=layer)
        ax.set(xlabel="RMS of the filter's output", ylabel=f"{name} score")
        ax.set_xscale("symlog", linthresh=1e-2)
    axes[0][0].legend()
    fig.tight_layout()
    return fig


def plot_sparsity_curves(rows: pd.DataFrame):
    """Test accuracy against the fraction of filters removed, per layout and scope (rows), before and after
    fine-tuning (columns): each criterion's mean over seeds with a one-s.d. band; dashed: the field's baselines.

    ``rows``: :func:`toposcope.claims.pruning_tables.sparsity_rows`.
    """
    import matplotlib.pyplot as plt

    panels = list(itertools.product(sorted(rows.activation.unique()), ["layer", "global"]))
    tunings = sorted(rows.finetune_epochs.unique())
    criteria = [c for c in rows.criterion.unique() if c != "unpruned"]
    colour = {c: f"C{n}" for n, c in enumerate(criteria)}
    style = {c: "-" if c in CRITERIA else "--" for c in criteria}
    fig, axes = plt.subplots(len(panels), len(tunings), figsize=(10, 3.2 * len(panels)), sharey=True, squeeze=False)
    for (i, (layout, scope)), (j, epochs) in itertools.product(enumerate(panels), enumerate(tunings)):
        ax = axes[i, j]
        mine = rows[(rows.activation == layout) & (rows.scope == scope)]
        start = mine[mine.criterion == "unpruned"].accuracy.mean()
        for criterion in criteria:
            curve = mine[(mine.criterion == criterion) & (mine.finetune_epochs == epochs)]
            if curve.empty:
                continue
            stats = curve.groupby("fraction").accuracy.agg(["mean", "std"])
            ax.plot([0.0, *stats.index], [start, *stats["mean"]], ls=style[criterion], marker="o", ms=3,
                    color=colour[criterion])  # fmt: skip
            spread = stats["std"].fillna(0)
            ax.fill_between(stats.index, stats["mean"] - spread, stats["mean"] + spread, color=colour[criterion],
                            alpha=0.15)  # fmt: skip
        ax.set_title(f"{layout}, {scope}: {'fine-tuned' if epochs else 'before fine-tuning'}")
    for ax in axes[-1]:
        ax.set_xlabel("fraction of filters removed")
    for row in axes:
        row[0].set_ylabel("test accuracy")
    handles = [plt.Line2D([], [], color=colour[c], ls=style[c]) for c in criteria]
    fig.tight_layout()
    fig.legend(handles, criteria, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=5)
    return fig


def plot_pruning_accuracy(runs: pd.DataFrame, criteria: Sequence[str] = ("betti", "betti_filter", "random", "l1")):
    """Per pruning rule, each criterion's test accuracy after pruning (mean bar, range line) per fine-tuning length,
    against the unpruned models' mean (dotted)."""

    pruned = runs[runs.criterion != "unpruned"]
    base = runs.loc[runs.criterion == "unpruned", "accuracy"].mean()
    rules = list(dict.fromkeys(pruned.rule))
    fig, axes = panels(len(rules), 4, 3.8, sharey=True)
    for ax, rule in zip(axes[0], rules, strict=True):
        for j, epochs in enumerate(sorted(pruned.finetune_epochs.unique())):
            stats = pruning_accuracy(pruned, rule, epochs, list(criteria))
            x = np.arange(len(criteria)) + 0.2 * (2 * j - 1)
            ax.bar(x, stats["mean"], width=0.4, label=f"fine-tuned {epochs} epoch(s)")
            ax.vlines(x, stats["min"], stats["max"], color="k")
        ax.axhline(base, color="gray", ls=":", label="unpruned")
        ax.set_xticks(range(len(criteria)), criteria)
        ax.set_title(rule)
    axes[0][0].set_ylabel("test accuracy (mean, range)")
    axes[0][0].legend()
    fig.tight_layout()
    return fig
