"""Epochs to a target accuracy as time-to-event data: runs that never reach the target are censored.

A run that has not reached the target after its epoch budget is not "max + 1
epochs": its time is unknown beyond the budget.  Everything here treats it as
right-censored at the last epoch it was evaluated:

* :func:`times_to_target` turns stored curves into ``(time, reached)`` per run,
* :func:`kaplan_meier` gives the Kaplan-Meier curve (``scipy.stats.ecdf`` on
  ``scipy.stats.CensoredData``, Greenwood 95% bands) and :func:`km_median` its
  median with the interval read off the bands (``inf`` where never reached);
* :func:`restricted_mean` is the area under the Kaplan-Meier curve up to ``tau``
  (the restricted mean time, RMST): the mean epochs to target when every run is
  stopped at ``tau``, well defined however many runs are censored;
* :func:`paired_rmst_ratio` compares two layouts trained on the same seeds: the
  ratio of restricted means with its Fieller interval over paired seeds
  (:mod:`~toposcope.claims.intervals`; every run is censored at the budget, so a
  restricted mean is the mean of :func:`capped_times`);
* :func:`time_table` collects all of it per layout, with the log-rank test
  (``scipy.stats.logrank``) against the reference.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from .intervals import ratio_interval

__all__ = [
    "STUCK_TOLERANCE",
    "capped_times",
    "kaplan_meier",
    "km_curves",
    "km_median",
    "paired_rmst_ratio",
    "paired_times",
    "restricted_mean",
    "time_table",
    "times_to_target",
]


STUCK_TOLERANCE = 0.005
"""Widest spread of accuracy over a run's second half for :func:`times_to_target` to call it stuck."""


def times_to_target(frame: pd.DataFrame, target: float | None = None, metric: str = "train_acc") -> pd.DataFrame:
    """Per run: the first evaluated epoch whose ``metric`` reached ``target``, or the last epoch (censored).

    Parameters
    ----------
    frame : DataFrame
        Runs with ``activation, seed, curve`` (and ``target`` when ``target`` is None).
    target : float, optional
        Default: each run's own training target.
    metric : {"train_acc", "test_acc"}

    Returns
    -------
    pandas.DataFrame
        ``activation, seed, time, reached`` (``reached`` False: censored at
        ``time``), ``stuck``: censored with a flat curve (``metric`` within
        :data:`STUCK_TOLERANCE` over the second half of the run's epochs), a run no
        longer budget would bring to the target (e.g. one predicting the majority
        class throughout).
    """
    if metric not in ("train_acc", "test_acc"):
        raise ValueError(f"metric must be 'train_acc' or 'test_acc'; got {metric!r}")
    rows = []
    for run in frame.itertuples():
        goal = float(run.target) if target is None else target
        curve = run.curve
        points = zip(curve["epoch"], curve[metric], strict=True)
        hit = next((e for e, v in points if v is not None and v >= goal), None)
        time = float(hit if hit is not None else curve["epoch"][-1])
        late = [v for v in curve[metric][len(curve[metric]) // 2 :] if v is not None]
        stuck = hit is None and len(late) > 1 and max(late) - min(late) < STUCK_TOLERANCE
        rows.append({"activation": run.activation, "seed": run.seed, "time": time, "reached": hit is not None,
                     "stuck": stuck})  # fmt: skip
    return pd.DataFrame(rows, columns=["activation", "seed", "time", "reached", "stuck"])


def kaplan_meier(times: np.ndarray, reached: np.ndarray) -> pd.DataFrame:
    """The Kaplan-Meier curve of "not yet at target": ``time, survival, low, high`` (95% Greenwood band).

    Starts at ``time = 0, survival = 1``.  With no run reaching the target the
    curve stays at 1.
    """
    times, reached = np.asarray(times, float), np.asarray(reached, bool)
    if len(times) == 0:
        raise ValueError("no runs")
    start = pd.DataFrame({"time": [0.0], "survival": [1.0], "low": [1.0], "high": [1.0]})
    if not reached.any():
        end = pd.DataFrame({"time": [times.max()], "survival": [1.0], "low": [1.0], "high": [1.0]})
        return pd.concat([start, end], ignore_index=True)
    result = stats.ecdf(stats.CensoredData(uncensored=times[reached], right=times[~reached]))
    with warnings.catch_warnings():  # Greenwood's band is undefined where the curve reaches 0: NaN, then 0
        warnings.filterwarnings("ignore", "The confidence interval is undefined", RuntimeWarning)
        band = result.sf.confidence_interval(0.95)
    curve = pd.DataFrame({"time": result.sf.quantiles, "survival": result.sf.probabilities,
                          "low": band.low.probabilities, "high": band.high.probabilities})  # fmt: skip
    return pd.concat([start, curve.fillna({"low": 0.0, "high": 1.0})], ignore_index=True)


def km_curves(frame: pd.DataFrame, target: float | None = None, metric: str = "train_acc") -> pd.DataFrame:
    """Kaplan-Meier curves per layout, for plotting: ``activation, time, survival, low, high``."""
    times = times_to_target(frame, target, metric)
    parts = [kaplan_meier(g.time, g.reached).assign(activation=a) for a, g in times.groupby("activation", sort=False)]
    columns = ["activation", "time", "survival", "low", "high"]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def km_median(times: np.ndarray, reached: np.ndarray) -> tuple[float, float, float]:
    """Kaplan-Meier median epochs to target and its 95% interval; ``inf`` where the curve never falls to 1/2."""
    curve = kaplan_meier(times, reached)

    def first_at_half(column: str) -> float:
        below = curve.loc[curve[column] <= 0.5, "time"]
        return float(below.iloc[0]) if len(below) else float("inf")

    return first_at_half("survival"), first_at_half("low"), first_at_half("high")


def restricted_mean(times: np.ndarray, reached: np.ndarray, tau: float) -> float:
    """Area under the Kaplan-Meier curve from 0 to ``tau``: the restricted mean epochs to target."""
    curve = kaplan_meier(times, reached)
    inside = curve[curve.time < tau]
    edges = np.append(inside.time.to_numpy(), tau)
    return float(np.sum(np.diff(edges) * inside.survival.to_numpy()))


def paired_rmst_ratio(a: pd.DataFrame, b: pd.DataFrame, tau: float) -> tuple[float, float, float, int]:
    """Ratio of restricted means, ``a`` over ``b``, with its Fieller 95% interval over paired seeds.

    ``a`` and ``b`` are :func:`times_to_target` rows of two layouts; only seeds
    present in both count; every run censored only at ``tau`` (:func:`capped_times`).
    Returns ``(ratio, low, high, n_pairs)``; NaNs when no seed is shared.
    """
    pairs = a.merge(b, on="seed", suffixes=("_a", "_b"))
    if pairs.empty:
        return float("nan"), float("nan"), float("nan"), 0
    ratio, low, high = ratio_interval(capped_times(pairs.time_a, pairs.reached_a, tau),
                                      capped_times(pairs.time_b, pairs.reached_b, tau))  # fmt: skip
    return ratio, low, high, len(pairs)


def _censored(times: pd.DataFrame) -> stats.CensoredData:
    return stats.CensoredData(uncensored=times.time[times.reached], right=times.time[~times.reached])


def time_table(
    frame: pd.DataFrame,
    target: float | None = None,
    metric: str = "train_acc",
    reference: str = "relu",
) -> pd.DataFrame:
    """Censoring-aware epochs to target per layout, and the paired comparison with ``reference``.

    Returns
    -------
    pandas.DataFrame
        Index ``activation``; columns ``runs, reached, censored`` (fraction),
        ``km_median, km_low, km_high`` (Kaplan-Meier median and 95% CI, ``inf``:
        not reached), ``rmst`` (restricted mean up to the epoch budget ``tau``),
        ``ratio, low, high, pairs`` (paired RMST ratio to ``reference``, 95%
        interval, Fieller) and ``logrank_p``.
    """
    times = times_to_target(frame, target, metric)
    if times.empty:
        return pd.DataFrame()
    tau = float(frame["max_epochs"].max())
    ref = times[times.activation == reference]
    rows = []
    for activation, group in times.groupby("activation", sort=False):
        median, low_m, high_m = km_median(group.time, group.reached)
        ratio, low, high, n = paired_rmst_ratio(group, ref, tau) if len(ref) else (np.nan,) * 3 + (0,)
        p = np.nan
        if len(ref) and activation != reference and (group.reached.any() or ref.reached.any()):
            p = float(stats.logrank(_censored(group), _censored(ref)).pvalue)
        rows.append({"activation": activation, "runs": len(group), "reached": int(group.reached.sum()),
                     "censored": float(1 - group.reached.mean()), "km_median": median, "km_low": low_m,
                     "km_high": high_m, "rmst": restricted_mean(group.time, group.reached, tau), "ratio": ratio,
                     "low": low, "high": high, "pairs": n, "logrank_p": p})  # fmt: skip
    return pd.DataFrame(rows).set_index("activation")


def capped_times(times: np.ndarray, reached: np.ndarray, tau: float) -> np.ndarray:
    """``min(time, tau)`` per run, whose mean is the restricted mean time to ``tau``.

    Raises ``ValueError`` for a run censored before ``tau`` (its restricted mean
    would need the Kaplan-Meier curve, which no committed comparison needs).
    """
    times, reached = np.asarray(times, float), np.asarray(reached, bool)
    early = ~reached & (times < tau)
    if early.any():
        raise ValueError(f"{int(early.sum())} run(s) censored before the budget {tau:g} (at {times[early].min():g}); "
                         "a restricted mean of such runs needs the Kaplan-Meier curve")  # fmt: skip
    return np.minimum(times, tau)


def paired_times(frame: pd.DataFrame, layouts: list[str], target: float | None = None) -> pd.DataFrame:
    """Times to target of the given layouts, one row per seed present in all: columns t_, r_, s_<layout>.

    ``t_`` the epoch reached (or censored at), ``r_`` reached, ``s_`` stuck (see
    :func:`~toposcope.claims.survival.times_to_target`).
    """
    times = times_to_target(frame, target)
    wide = None
    for layout in layouts:
        part = times[times.activation == layout][["seed", "time", "reached", "stuck"]]
        part = part.rename(columns={"time": f"t_{layout}", "reached": f"r_{layout}", "stuck": f"s_{layout}"})
        wide = part if wide is None else wide.merge(part, on="seed")
    return wide if wide is not None else pd.DataFrame()
