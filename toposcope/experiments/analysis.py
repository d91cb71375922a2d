"""Every table, statistic and verdict the book shows, computed from stored results.

The chapters call these functions and plot what they return; nothing here plots.
Results come from a :class:`~toposcope.experiments.ResultStore` (one row per run);
a run's training curve is a dict of named columns (``epoch, loss, train_acc,
test_acc``), never a list read by position.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from .store import ResultStore

__all__ = [
    "CURVE_FIELDS",
    "betti_layer_totals",
    "betti_totals",
    "bootstrap_ratio",
    "convergence_verdicts",
    "curve_bands",
    "curves",
    "epochs_table",
    "epochs_to_reach",
    "fashion_table",
    "lr_spread",
    "pruning_accuracy",
    "pruning_summary",
    "runs",
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


def bootstrap_ratio(
    numerator: np.ndarray, denominator: np.ndarray, n_boot: int = 5000, seed: int = 0
) -> tuple[float, float, float]:
    """Ratio of medians and its 95% paired-bootstrap interval.

    ``numerator[i]`` and ``denominator[i]`` come from the same seed (same initial
    weights, same data order), so seeds are resampled jointly.

    Returns
    -------
    (ratio, low, high)
    """
    numerator, denominator = np.asarray(numerator, float), np.asarray(denominator, float)
    if numerator.shape != denominator.shape or numerator.ndim != 1 or len(numerator) == 0:
        raise ValueError("need two equal-length, non-empty 1-D samples (paired by seed)")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(numerator), size=(n_boot, len(numerator)))
    ratios = np.median(numerator[idx], axis=1) / np.median(denominator[idx], axis=1)
    return (
        float(np.median(numerator) / np.median(denominator)),
        float(np.percentile(ratios, 2.5)),
        float(np.percentile(ratios, 97.5)),
    )


def epochs_to_reach(frame: pd.DataFrame, target: float, metric: str = "train_acc") -> pd.Series:
    """First recorded epoch whose ``metric`` reached ``target``, per run (NaN if never), from the stored curves.

    Any target at or below the one the runs were trained with can be read off afterwards.
    """
    if metric not in ("train_acc", "test_acc"):
        raise ValueError(f"metric must be 'train_acc' or 'test_acc'; got {metric!r}")

    def first(curve: dict) -> float:
        hits = (e for e, v in zip(curve["epoch"], curve[metric], strict=True) if v is not None and v >= target)
        return next(hits, np.nan)

    return frame["curve"].map(first).astype(float)


def epochs_table(
    frame: pd.DataFrame, target: float | None = None, metric: str = "train_acc", reference: str = "relu"
) -> pd.DataFrame:
    """Median epochs to a target accuracy per activation, with spread and the ratio to ``reference``.

    Parameters
    ----------
    frame : DataFrame
        Runs of one setting (one data set, batch size and learning rate).
    target : float, optional
        Accuracy to reach; default each run's own training target.
    metric : {"train_acc", "test_acc"}
    reference : str
        Layout the ratios are taken against.

    Runs that never reached the target count as ``max_epochs + 1`` (a lower bound:
    the true number is larger), and ``reached`` says how many did.  Ratios below
    1 mean faster than the reference.
    """
    frame = frame.copy()
    if target is None:
        target = float(frame["target"].iloc[0])
    reached = epochs_to_reach(frame, target, metric)
    frame["epochs"] = reached.fillna(frame["max_epochs"] + 1)
    ref = frame[frame.activation == reference].set_index("seed")["epochs"]
    rows = []
    for activation, group in frame.groupby("activation", sort=False):
        epochs = group.set_index("seed")["epochs"]
        paired = epochs.index.intersection(ref.index)
        ratio, low, high = bootstrap_ratio(epochs[paired].to_numpy(), ref[paired].to_numpy())
        rows.append({
            "activation": activation, "runs": len(group), "reached": int(reached[group.index].notna().sum()),
            "median": float(epochs.median()), "q25": float(epochs.quantile(0.25)),
            "q75": float(epochs.quantile(0.75)), f"ratio to {reference}": ratio, "95% CI low": low,
            "95% CI high": high,
        })  # fmt: skip
    return pd.DataFrame(rows).set_index("activation")


def _convergence_word(table: pd.DataFrame, layout: str) -> str:
    low, high = table.loc[layout, ["95% CI low", "95% CI high"]]
    if table.loc["relu", "reached"] == 0 and table.loc[layout, "reached"] == 0:
        return "neither reached the target: no conclusion"
    if high < 1 / 1.5:
        return "at least 1.5x faster than ReLU (claim holds)"
    if high < 1:
        return "faster than ReLU, but not clearly by 1.5x"
    if low > 1:
        return "slower than ReLU (claim fails)"
    return "not distinguishable from ReLU"


def convergence_verdicts(
    frame: pd.DataFrame, layouts: list[str], targets: list[float], metric: str = "train_acc"
) -> pd.DataFrame:
    """The convergence claim per (data set, target, layout): ratio to ReLU, its CI and the verdict.

    Returns
    -------
    pandas.DataFrame
        Columns ``dataset, target, layout, ratio, low, high, verdict, sentence``;
        layouts absent from ``frame`` are left out.
    """
    rows = []
    for dataset, group in frame.groupby("dataset", sort=False):
        for target in targets:
            table = epochs_table(group, target, metric)
            for layout in (name for name in layouts if name in table.index):
                ratio, low, high = table.loc[layout, ["ratio to relu", "95% CI low", "95% CI high"]]
                word = _convergence_word(table, layout)
                sentence = (f"{dataset}, {target:.0%}: {layout} needs {ratio:.2f}x ReLU's epochs "
                            f"[95% CI {low:.2f}-{high:.2f}]: {word}.")  # fmt: skip
                rows.append({"dataset": dataset, "target": target, "layout": layout, "ratio": ratio,
                             "low": low, "high": high, "verdict": word, "sentence": sentence})  # fmt: skip
    return pd.DataFrame(rows, columns=["dataset", "target", "layout", "ratio", "low", "high", "verdict", "sentence"])


def sweep_table(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """:func:`epochs_table` for every value of a swept parameter (``"batch_size"`` or ``"lr"``).

    Returns
    -------
    pandas.DataFrame
        Index ``(by, activation)``, in the order the values appear; batch sizes as text
        (``"32"``, ..., ``"full"``).
    """
    values = frame[by].astype(str) if by == "batch_size" else frame[by]
    parts = {value: epochs_table(group) for value, group in frame.groupby(values, sort=by != "batch_size")}
    if not parts:
        return pd.DataFrame()
    return pd.concat(parts, names=[by, "activation"])


def lr_spread(by_lr: pd.DataFrame) -> pd.DataFrame:
    """Per activation, the best and worst median epochs over learning rates and their ratio."""
    spread = by_lr["median"].groupby(level="activation").agg(["min", "max"])
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


def pruning_accuracy(frame: pd.DataFrame, rule: str, finetune_epochs: int, criteria: list[str]) -> pd.DataFrame:
    """Test accuracy (mean, min, max) of each criterion under one rule and fine-tuning length."""
    runs_ = frame[(frame.rule == rule) & (frame.finetune_epochs == finetune_epochs)]
    return runs_.groupby("criterion").accuracy.agg(["mean", "min", "max"]).reindex(criteria)


def spearman_range(frame: pd.DataFrame) -> pd.DataFrame:
    """Range over training seeds of the per-layer Spearman correlation of Betti score and L1 norm."""
    unpruned = frame.loc[frame.criterion == "unpruned", "spearman_betti_l1"]
    return pd.DataFrame(unpruned.tolist()).agg(["min", "max"])
