"""The tables of the pruning experiments: the equal-budget rule comparison and the sparsity curves.

Re-exported by :mod:`toposcope.claims.analysis`, the one place the chapters read tables from.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "criterion_ranking",
    "finetune_summary",
    "partial_correlations",
    "pruning_accuracy",
    "pruning_summary",
    "sparsity_areas",
    "sparsity_auc",
    "sparsity_rows",
    "spearman_range",
]


def pruning_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean and spread of test accuracy per (rule, fine-tuning, criterion), over seeds."""
    table = frame.groupby(["rule", "finetune_epochs", "criterion"])["accuracy"]
    return table.agg(["mean", "std", "min", "max", "count"]).round(4)


def criterion_ranking(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean test accuracy of each pruning criterion per (rule, fine-tuning), with the best criterion and Betti's rank.

    Returns
    -------
    pandas.DataFrame
        Index ``(rule, finetune_epochs)``; one column per criterion, then ``best``
        (the criterion of highest mean accuracy) and ``betti rank`` (1 = best).
    """
    pruned = frame[frame.criterion != "unpruned"]
    table = pruned.groupby(["rule", "finetune_epochs", "criterion"]).accuracy.mean().unstack("criterion")
    table["best"] = table.idxmax(axis=1)
    table["betti rank"] = table.drop(columns="best").rank(axis=1, ascending=False)["betti"].astype(int)
    return table


def pruning_accuracy(frame: pd.DataFrame, rule: str, finetune_epochs: int, criteria: list[str]) -> pd.DataFrame:
    """Test accuracy (mean, min, max) of each criterion under one rule and fine-tuning length."""
    runs_ = frame[(frame.rule == rule) & (frame.finetune_epochs == finetune_epochs)]
    return runs_.groupby("criterion").accuracy.agg(["mean", "min", "max"]).reindex(criteria)


def spearman_range(frame: pd.DataFrame) -> pd.DataFrame:
    """Range over training seeds of the per-layer Spearman correlation of Betti score and L1 norm."""
    unpruned = frame.loc[frame.criterion == "unpruned", "spearman_betti_l1"]
    return pd.DataFrame(unpruned.tolist()).agg(["min", "max"])


def sparsity_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Every pruned model of the sparsity runs, one row each, with the unpruned accuracy of its run.

    Returns
    -------
    pandas.DataFrame
        ``activation, seed, criterion, scope, fraction, finetune_epochs, accuracy, params, bytes,
        latency_ms_b1, latency_ms_b256, unpruned_accuracy`` (and ``epochs_run, epoch_kept`` where
        the fine-tuning ran to convergence); the unpruned model of each run appears as criterion
        ``"unpruned"`` at fraction 0, once per scope.  Runs that pruned each layer alike only
        (the ``"full"`` profile) read as scope ``"layer"``.
    """
    parts = []
    for run in frame[frame.experiment == "sparsity"].itertuples():
        ids = {"activation": run.activation, "seed": run.seed, "unpruned_accuracy": run.unpruned["accuracy"]}
        rows = pd.DataFrame(run.rows)
        if "scope" not in rows:
            rows["scope"] = "layer"
        base = [{**run.unpruned, "criterion": "unpruned", "scope": scope, "fraction": 0.0, "finetune_epochs": 0, **ids}
                for scope in rows.scope.unique()]  # fmt: skip
        parts += [rows.assign(**ids), pd.DataFrame(base)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def finetune_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """How far the fine-tuning of the pruned models went, per scope (rows of :func:`sparsity_rows`).

    Returns
    -------
    pandas.DataFrame
        Index ``scope``: ``models``, mean ``epochs_run`` and ``epoch_kept``, and
        ``still_improving``, the share of models whose best epoch was the last one
        allowed (``finetune_epochs``): those stopped at the cap, not at convergence.
        Empty when the runs did not fine-tune to convergence.
    """
    tuned = rows[(rows.finetune_epochs > 0) & (rows.criterion != "unpruned")] if "epochs_run" in rows else rows[:0]
    if tuned.empty:
        return pd.DataFrame(columns=["models", "epochs_run", "epoch_kept", "still_improving"])
    capped = tuned.epoch_kept == tuned.finetune_epochs
    return tuned.assign(still_improving=capped).groupby("scope").agg(
        models=("epochs_run", "size"), epochs_run=("epochs_run", "mean"), epoch_kept=("epoch_kept", "mean"),
        still_improving=("still_improving", "mean"))  # fmt: skip


def sparsity_areas(rows: pd.DataFrame) -> pd.DataFrame:
    """Area under accuracy-vs-fraction-removed of every (activation, seed, scope, fine-tuning, criterion) curve.

    Each curve starts at its run's unpruned model (fraction 0) and is integrated with the
    trapezoid rule, divided by the largest fraction: the mean accuracy over the range of
    fractions.  Higher is better; every criterion is measured at the same fractions: at
    scope ``"layer"`` the same parameter budget, at scope ``"global"`` the same number of
    filters (each criterion chooses which layers lose them; ``params`` says what remains).

    Returns
    -------
    pandas.DataFrame
        ``activation, seed, scope, finetune_epochs, criterion, auc``.
    """
    keys = ["activation", "seed", "scope", "finetune_epochs", "criterion"]
    pruned = rows[rows.criterion != "unpruned"]
    records = []
    for (activation, seed, scope, epochs, criterion), curve in pruned.groupby(keys):
        start = rows[(rows.criterion == "unpruned") & (rows.activation == activation) & (rows.seed == seed)
                     & (rows.scope == scope)]  # fmt: skip
        curve = pd.concat([start, curve]).sort_values("fraction")
        x, y = curve.fraction.to_numpy(float), curve.accuracy.to_numpy(float)
        area = float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2) / x.max())
        records.append(dict(zip(keys, (activation, seed, scope, epochs, criterion), strict=True)) | {"auc": area})
    return pd.DataFrame(records, columns=[*keys, "auc"])


def sparsity_auc(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean, std and count over seeds of :func:`sparsity_areas` per (activation, scope, fine-tuning, criterion),
    best first."""
    keys = ["activation", "scope", "finetune_epochs"]
    table = sparsity_areas(rows).groupby([*keys, "criterion"]).auc
    return table.agg(["mean", "std", "count"]).sort_values([*keys, "mean"], ascending=[True, True, True, False])


def partial_correlations(filters: pd.DataFrame, criteria: list[str], controls: tuple[str, str] = ("l1_norm", "rms")
                         ) -> pd.DataFrame:  # fmt: skip
    """Spearman correlation of each criterion's score with each control, and partial given the other control.

    Ranks are taken within each conv layer (scores are compared within a layer), then
    pooled.  The partial correlation of a score with ``l1_norm`` given ``rms`` is the
    correlation of the two after the rank of ``rms`` is regressed out of both.

    Returns
    -------
    pandas.DataFrame
        One row per criterion: ``rho <control>`` and ``partial <control> | <other>``.
    """
    ranked = filters.groupby("layer")[[*criteria, *controls]].rank()

    def residual(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        design = np.column_stack([np.ones_like(b), b])
        return a - design @ np.linalg.lstsq(design, a, rcond=None)[0]

    rows = []
    for name in criteria:
        row = {"criterion": name}
        for control, other in (controls, controls[::-1]):
            x, c, o = (ranked[k].to_numpy(float) for k in (name, control, other))
            row[f"rho {control}"] = float(np.corrcoef(x, c)[0, 1])
            row[f"partial {control} | {other}"] = float(np.corrcoef(residual(x, o), residual(c, o))[0, 1])
        rows.append(row)
    return pd.DataFrame(rows).set_index("criterion")
