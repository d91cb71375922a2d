"""Every table, statistic and verdict the book shows, computed from stored results.

The chapters call these functions and plot what they return; nothing here plots.
Results come from a :class:`~toposcope.experiments.ResultStore` (one row per run);
a run's training curve is a dict of named columns (``epoch, loss, train_acc,
test_acc``), never a list read by position.
"""

from __future__ import annotations

import os

import pandas as pd

from ..experiments.pruning import score_correlations
from ..experiments.store import ResultStore
from .pruning_tables import (
    criterion_ranking,
    finetune_summary,
    partial_correlations,
    pruning_accuracy,
    pruning_summary,
    sparsity_areas,
    sparsity_auc,
    sparsity_rows,
    spearman_range,
)
from .survival import time_table

__all__ = [
    "CURVE_FIELDS",
    "HIDDEN_CNN_LAYERS",
    "betti_layer_totals",
    "betti_run_totals",
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
    "finetune_summary",
    "input_readings",
    "lr_spread",
    "partial_correlations",
    "pruning_accuracy",
    "pruning_summary",
    "rerun_agreement",
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
    """:func:`~toposcope.claims.survival.time_table` for every value of a swept parameter.

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
    """One Betti run's records summed over classes and dimensions: ``epoch, layer_index, layer, betti``
    (and ``null_betti``, the Gaussian nulls' sum, where the run read them)."""
    frame = pd.DataFrame(betti)
    values = ["betti", "null_betti"] if "null_betti" in frame and frame.null_betti.notna().all() else ["betti"]
    return frame.groupby(["epoch", "layer_index", "layer"], as_index=False)[values].sum()


def rerun_agreement(first: pd.DataFrame, second: pd.DataFrame, budget: float) -> pd.DataFrame:
    """How often the same run (layout and seed) stored twice, with different budgets, gives the same time to target.

    Up to ``budget`` epochs (the shorter budget) both runs saw the same epochs, so
    a run trained independently of its batch group (see
    :func:`toposcope.batched.train_many`) reaches its target at the same epoch
    in both, or in neither.

    Returns
    -------
    pandas.DataFrame
        Index ``activation``; columns ``pairs`` and ``same`` (pairs whose epoch to
        target within ``budget``, or its absence, agree).
    """
    from .survival import times_to_target

    def within(frame: pd.DataFrame) -> pd.DataFrame:
        times = times_to_target(frame)
        times["epoch"] = times.time.where(times.reached & (times.time <= budget))
        return times[["activation", "seed", "epoch"]]

    both = within(first).merge(within(second), on=["activation", "seed"])
    both["same"] = (both.epoch_x == both.epoch_y) | (both.epoch_x.isna() & both.epoch_y.isna())
    return both.groupby("activation", sort=False).agg(pairs=("seed", "size"), same=("same", "sum"))


def betti_run_totals(frame: pd.DataFrame) -> pd.DataFrame:
    """Total Betti number over the hidden layers (both classes, all dimensions) of each run at each epoch.

    Returns
    -------
    pandas.DataFrame
        ``dataset, activation, seed, epoch, total``, one row per run and checkpoint.
    """
    rows = []
    for run in frame.itertuples():
        records = pd.DataFrame(run.betti)
        hidden = records[records.layer.str.startswith("act")]
        for epoch, group in hidden.groupby("epoch"):
            rows.append({"dataset": run.dataset, "activation": run.activation, "seed": run.seed, "epoch": epoch,
                         "total": int(group.betti.sum())})  # fmt: skip
    return pd.DataFrame(rows, columns=["dataset", "activation", "seed", "epoch", "total"])


def betti_totals(frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`betti_run_totals` averaged over seeds.

    Returns
    -------
    pandas.DataFrame
        Index ``(dataset, epoch)``, one column per activation (mean over seeds).
    """
    totals = betti_run_totals(frame)
    if totals.empty:
        return pd.DataFrame()
    return totals.pivot_table(index=["dataset", "epoch"], columns="activation", values="total")


def input_readings(frame: pd.DataFrame) -> pd.DataFrame:
    """What the input layer of each Betti run reads, against the topology its data set is built to have.

    A profile's later layers can only be read against a true start: where the
    input cloud does not read the nominal numbers (too few points, too small a
    ``maxdim``), the recipe, not the network, sets the profile.

    Returns
    -------
    pandas.DataFrame
        One row per run and class: ``dataset, activation, seed, class, n_points,
        betti`` (tuple ``b0..b_maxdim``), ``nominal`` (from
        :data:`toposcope.experiments.geometry.NOMINAL`; ``None`` for other data
        sets), ``matches``.
    """
    from ..experiments.geometry import NOMINAL

    rows = []
    for run in frame.itertuples():
        records = pd.DataFrame(run.betti)
        start = records[(records.layer == "input") & (records.epoch == records.epoch.min())]
        for label, group in start.groupby("class"):
            betti = tuple(int(b) for b in group.sort_values("dim").betti)
            nominal = NOMINAL.get(run.dataset, {}).get(label)
            rows.append({"dataset": run.dataset, "activation": run.activation, "seed": run.seed, "class": label,
                         "n_points": int(group.n_points.iloc[0]), "betti": betti, "nominal": nominal,
                         "matches": betti == nominal})  # fmt: skip
    columns = ["dataset", "activation", "seed", "class", "n_points", "betti", "nominal", "matches"]
    return pd.DataFrame(rows, columns=columns)


def fashion_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Final train and test accuracy on Fashion-MNIST per (width, activation): mean, std and the gap."""
    table = frame.groupby(["width", "activation"])[["final_train_acc", "final_test_acc"]].agg(["mean", "std"])
    table[("gap (train - test)", "")] = table[("final_train_acc", "mean")] - table[("final_test_acc", "mean")]
    return table


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


def cnn_readings(frame: pd.DataFrame) -> pd.DataFrame:
    """Every reading of the CNN runs (:func:`toposcope.layer_readings`) as one tidy table, the run's
    ``dataset, activation, seed`` added; empty where no run recorded readings."""
    has = frame[frame.experiment == "cnn"] if "readings" in frame else frame.iloc[:0]
    parts = [pd.DataFrame(run.readings).assign(dataset=run.dataset, activation=run.activation, seed=run.seed)
             for run in has.itertuples() if isinstance(run.readings, list) and run.readings]  # fmt: skip
    columns = ["dataset", "activation", "seed", "epoch", "layer", "reading", "class", "n", "value", "null"]
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
