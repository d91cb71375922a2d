"""Every table, statistic and verdict the book shows, computed from stored results.

The chapters call these functions and plot what they return; nothing here plots.
Results come from a :class:`~toposcope.experiments.ResultStore` (one row per run);
a run's training curve is a dict of named columns (``epoch, loss, train_acc,
test_acc``), never a list read by position.
"""

from __future__ import annotations

import os

import pandas as pd

from .store import ResultStore
from .survival import time_table

__all__ = [
    "CURVE_FIELDS",
    "HIDDEN_CNN_LAYERS",
    "betti_layer_totals",
    "betti_totals",
    "cnn_accuracy",
    "cnn_betti",
    "cnn_betti_bands",
    "cnn_betti_totals",
    "cnn_trivial_share",
    "criterion_ranking",
    "curve_bands",
    "curves",
    "fashion_table",
    "lr_spread",
    "partial_correlations",
    "pruning_accuracy",
    "pruning_summary",
    "runs",
    "score_correlations",
    "sparsity_areas",
    "sparsity_auc",
    "sparsity_rows",
    "spearman_range",
    "sweep_table",
]

CURVE_FIELDS = ("epoch", "loss", "train_acc", "test_acc")
RUN_FIELDS = ("experiment", "dataset", "activation", "seed", "batch_size", "lr", "width")


def runs(source: ResultStore | str | os.PathLike) -> pd.DataFrame:
    """All runs of a results file (or store) as a table: parameter columns, then result columns."""
    store = source if isinstance(source, ResultStore) else ResultStore(source)
    return store.frame()


def curves(frame: pd.DataFrame) -> pd.DataFrame:
    """The training curves of the runs in ``frame`` as one tidy table.

    Returns
    -------
    pandas.DataFrame
        One row per (run, evaluated epoch): the run's identifying columns (those of
        ``experiment, dataset, activation, seed, batch_size, lr, width`` present),
        then ``epoch, loss, train_acc, test_acc``.
    """
    keys = [c for c in RUN_FIELDS if c in frame.columns]
    parts = []
    for _, run in frame.iterrows():
        points = pd.DataFrame({field: run["curve"][field] for field in CURVE_FIELDS})
        parts.append(points.assign(**{key: run[key] for key in keys}))
    if not parts:
        return pd.DataFrame(columns=[*keys, *CURVE_FIELDS])
    return pd.concat(parts, ignore_index=True)[[*keys, *CURVE_FIELDS]]


def curve_bands(frame: pd.DataFrame, metric: str = "train_acc") -> pd.DataFrame:
    """Median and quartiles of a curve metric per (activation, epoch), over the runs in ``frame``.

    Returns
    -------
    pandas.DataFrame
        Index ``(activation, epoch)``, columns ``0.25, 0.5, 0.75``.
    """
    if metric not in CURVE_FIELDS[1:]:
        raise ValueError(f"metric must be one of {CURVE_FIELDS[1:]}; got {metric!r}")
    points = curves(frame)
    return points.groupby(["activation", "epoch"])[metric].quantile([0.25, 0.5, 0.75]).unstack()


def sweep_table(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """:func:`~toposcope.experiments.survival.time_table` for every value of a swept parameter.

    Parameters
    ----------
    frame : DataFrame
        Runs of one sweep.
    by : {"batch_size", "lr"}

    Returns
    -------
    pandas.DataFrame
        Index ``(by, activation)``, in the order the values appear; batch sizes as text
        (``"32"``, ..., ``"full"``).
    """
    values = frame[by].astype(str) if by == "batch_size" else frame[by]
    parts = {value: time_table(group) for value, group in frame.groupby(values, sort=by != "batch_size")}
    if not parts:
        return pd.DataFrame()
    return pd.concat(parts, names=[by, "activation"])


def lr_spread(by_lr: pd.DataFrame) -> pd.DataFrame:
    """Per activation, the best and worst restricted-mean epochs over learning rates and their ratio."""
    spread = by_lr["rmst"].groupby(level="activation").agg(["min", "max"])
    spread["worst / best learning rate"] = spread["max"] / spread["min"]
    return spread


def betti_layer_totals(betti: list[dict]) -> pd.DataFrame:
    """One Betti run's records summed over classes and dimensions: ``epoch, layer_index, layer, betti``."""
    frame = pd.DataFrame(betti)
    return frame.groupby(["epoch", "layer_index", "layer"], as_index=False)["betti"].sum()


def betti_totals(frame: pd.DataFrame) -> pd.DataFrame:
    """Total Betti number over the hidden layers (both classes, all dimensions) per run and epoch.

    Returns
    -------
    pandas.DataFrame
        Index ``(dataset, epoch)``, one column per activation (mean over seeds).
    """
    rows = []
    for run in frame.itertuples():
        records = pd.DataFrame(run.betti)
        hidden = records[records.layer.str.startswith("act")]
        for epoch, group in hidden.groupby("epoch"):
            rows.append({"dataset": run.dataset, "activation": run.activation, "epoch": epoch,
                         "total Betti (hidden layers)": int(group.betti.sum())})  # fmt: skip
    if not rows:
        return pd.DataFrame()
    return pd.DataFrame(rows).pivot_table(
        index=["dataset", "epoch"], columns="activation", values="total Betti (hidden layers)"
    )


def fashion_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Final train and test accuracy on Fashion-MNIST per (width, activation): mean, std and the gap."""
    table = frame.groupby(["width", "activation"])[["final_train_acc", "final_test_acc"]].agg(["mean", "std"])
    table[("gap (train - test)", "")] = table[("final_train_acc", "mean")] - table[("final_test_acc", "mean")]
    return table


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


def score_correlations(scores: pd.DataFrame, other: str) -> pd.Series:
    """Spearman correlation, per layer, of the filters' ``score`` with another column (e.g. ``"l1"``)."""
    from scipy.stats import spearmanr

    return scores.groupby("layer", sort=False).apply(lambda t: float(spearmanr(t["score"], t[other]).statistic))


def spearman_range(frame: pd.DataFrame) -> pd.DataFrame:
    """Range over training seeds of the per-layer Spearman correlation of Betti score and L1 norm."""
    unpruned = frame.loc[frame.criterion == "unpruned", "spearman_betti_l1"]
    return pd.DataFrame(unpruned.tolist()).agg(["min", "max"])


# -- CNN experiment (toposcope.experiments.cnn) -------------------------------------------------------------

HIDDEN_CNN_LAYERS = ("act0", "pool0", "act1", "pool1", "act2", "act3")
"""The tracked CNN layers between input and logits: conv0, pool0, conv1, pool1, conv2, dense."""


def cnn_accuracy(frame: pd.DataFrame) -> pd.DataFrame:
    """Final train and test accuracy per (dataset, activation): mean, std, min, max and number of seeds."""
    runs_ = frame[frame.experiment == "cnn"]
    table = runs_.groupby(["dataset", "activation"])[["final_train_acc", "final_test_acc"]]
    return table.agg(["mean", "std", "min", "max", "count"])


def cnn_betti(frame: pd.DataFrame) -> pd.DataFrame:
    """Every Betti record of the CNN runs as one tidy table: the run's ``dataset, activation, seed`` added."""
    parts = [pd.DataFrame(run.betti).assign(dataset=run.dataset, activation=run.activation, seed=run.seed)
             for run in frame[frame.experiment == "cnn"].itertuples() if run.betti]  # fmt: skip
    columns = ["dataset", "activation", "seed", "epoch", "k", "layer", "layer_index", "class", "dim", "betti"]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def cnn_betti_bands(betti: pd.DataFrame, k: int, epoch: int | None = None) -> pd.DataFrame:
    """Betti number per layer averaged over classes, then its mean, std and range over seeds.

    Parameters
    ----------
    betti : DataFrame
        From :func:`cnn_betti`.
    k : int
        The kNN recipe's ``k`` to read.
    epoch : int, optional
        Default: each run's last checkpoint.

    Returns
    -------
    pandas.DataFrame
        One row per ``(dataset, activation, dim, layer_index, layer)``: ``mean, std, min, max, seeds``.
    """
    rows = betti[betti.k == k]
    if epoch is None:
        last = rows.groupby(["dataset", "activation", "seed"]).epoch.transform("max")
        rows = rows[rows.epoch == last]
    else:
        rows = rows[rows.epoch == epoch]
    per_seed = rows.groupby(["dataset", "activation", "dim", "layer_index", "layer", "seed"]).betti.mean()
    bands = per_seed.groupby(level=["dataset", "activation", "dim", "layer_index", "layer"])
    return bands.agg(["mean", "std", "min", "max"]).assign(seeds=bands.size()).reset_index()


def cnn_betti_totals(betti: pd.DataFrame, k: int) -> pd.DataFrame:
    """Per run and checkpoint, the hidden layers' Betti numbers (b0 + b1) summed over layers, averaged over classes.

    Returns
    -------
    pandas.DataFrame
        Columns ``dataset, activation, seed, epoch, total``.
    """
    rows = betti[(betti.k == k) & betti.layer.isin(HIDDEN_CNN_LAYERS)]
    per_class = rows.groupby(["dataset", "activation", "seed", "epoch", "class"]).betti.sum()
    return per_class.groupby(level=["dataset", "activation", "seed", "epoch"]).mean().rename("total").reset_index()


def cnn_trivial_share(betti: pd.DataFrame, k: int) -> pd.DataFrame:
    """Per data set and epoch, the share of clouds (run x layer x class) that read one piece and no loop at ``k``."""
    rows = betti[betti.k == k].pivot_table(index=["dataset", "epoch", "activation", "seed", "layer", "class"],
                                           columns="dim", values="betti")  # fmt: skip
    trivial = (rows[0] == 1) & (rows.get(1, 0) == 0)
    table = trivial.groupby(level=["dataset", "epoch"]).agg(["mean", "size"])
    return table.rename(columns={"mean": "share (1, 0)", "size": "clouds"})


# -- sparsity experiment (toposcope.experiments.sparsity) -----------------------------------------------------


def sparsity_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Every pruned model of the sparsity runs, one row each, with the unpruned accuracy of its run.

    Returns
    -------
    pandas.DataFrame
        ``activation, seed, criterion, fraction, finetune_epochs, accuracy, params, bytes,
        latency_ms_b1, latency_ms_b256, unpruned_accuracy``; the unpruned model of each run
        appears as criterion ``"unpruned"`` at fraction 0.
    """
    parts = []
    for run in frame[frame.experiment == "sparsity"].itertuples():
        ids = {"activation": run.activation, "seed": run.seed, "unpruned_accuracy": run.unpruned["accuracy"]}
        base = {**run.unpruned, "criterion": "unpruned", "fraction": 0.0, "finetune_epochs": 0, **ids}
        parts += [pd.DataFrame(run.rows).assign(**ids), pd.DataFrame([base])]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def sparsity_areas(rows: pd.DataFrame) -> pd.DataFrame:
    """Area under accuracy-vs-fraction-removed of every (activation, seed, fine-tuning, criterion) curve.

    Each curve starts at its run's unpruned model (fraction 0) and is integrated with the
    trapezoid rule, divided by the largest fraction: the mean accuracy over the range of
    fractions.  Higher is better; every criterion is measured at the same fractions (the
    same parameter budget).

    Returns
    -------
    pandas.DataFrame
        ``activation, seed, finetune_epochs, criterion, auc``.
    """
    import numpy as np

    pruned = rows[rows.criterion != "unpruned"]
    records = []
    for (activation, seed, epochs, criterion), curve in pruned.groupby(
        ["activation", "seed", "finetune_epochs", "criterion"]
    ):
        start = rows[(rows.criterion == "unpruned") & (rows.activation == activation) & (rows.seed == seed)]
        curve = pd.concat([start, curve]).sort_values("fraction")
        x, y = curve.fraction.to_numpy(float), curve.accuracy.to_numpy(float)
        area = float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2) / x.max())
        records.append({"activation": activation, "seed": seed, "finetune_epochs": epochs, "criterion": criterion,
                        "auc": area})  # fmt: skip
    return pd.DataFrame(records, columns=["activation", "seed", "finetune_epochs", "criterion", "auc"])


def sparsity_auc(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean, std and count over seeds of :func:`sparsity_areas` per (activation, fine-tuning, criterion), best first."""
    table = sparsity_areas(rows).groupby(["activation", "finetune_epochs", "criterion"]).auc
    return table.agg(["mean", "std", "count"]).sort_values(["activation", "finetune_epochs", "mean"],
                                                            ascending=[True, True, False])  # fmt: skip


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
    import numpy as np

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
