"""The rules that turn a measurement into a verdict, and the paired-bootstrap helpers they use.

Every claim (:mod:`toposcope.claims.verdicts`) gets one :class:`Verdict`: ``"holds"``, ``"contradicted"``,
``"inconclusive"`` or ``"not yet measured"``.  The rules:

* **Guards first.** No runs: *not yet measured*.  Fewer paired seeds than the
  claim's minimum (:data:`MIN_SEEDS`), or more than :data:`MAX_CENSORED` of either
  arm's runs censored (never reaching the target): *inconclusive*, whatever the
  estimate says.
* **Effect-size claims** (the paper gives a size, e.g. "1.5 to 2 times fewer
  epochs": a ratio at most 2/3): *holds* if the whole 95% interval lies at or
  beyond the claimed size, *contradicted* if the whole interval lies short of it
  (which includes "slower"), *inconclusive* otherwise.
* **Direction claims** ("falls faster", "grows", "less tuning"): *holds* if the
  95% interval of the ratio lies below 1, *contradicted* if it lies above 1,
  *inconclusive* if it contains 1.
* **Tolerance claims** ("no extra overfitting", "no significant accuracy loss"):
  *holds* if the interval of the harm lies within the tolerance, *contradicted*
  if it lies wholly beyond it, *inconclusive* otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .survival import times_to_target

__all__ = [
    "CLAIMED_RATIO",
    "MAX_CENSORED",
    "MIN_SEEDS",
    "Verdict",
    "check_guards",
    "direction_rule",
    "interval",
    "make_verdict",
    "paired_mean_difference",
    "paired_mean_ratio",
    "paired_times",
    "runs_of",
    "size_rule",
]

MIN_SEEDS = {"mlp": 10, "betti": 5, "fashion": 5, "pruning": 3, "cnn": 3}
"""Fewest paired seeds a claim needs before its estimate is judged."""
MAX_CENSORED = 0.25
"""Largest share of censored runs (never at target) either arm may have."""
CLAIMED_RATIO = 2 / 3
"""The paper's "1.5 to 2 times fewer epochs": a ratio of at most 2/3."""
N_BOOT = 2000


@dataclass(frozen=True)
class Verdict:
    """One claim of the paper, what was measured, and the rule's verdict."""

    claim: str
    paper: str
    measured: str
    verdict: str
    reason: str
    section: str
    estimate: float = float("nan")
    low: float = float("nan")
    high: float = float("nan")
    threshold: float = float("nan")
    """The value the rule compares the interval with (the claimed ratio, 1, or the tolerance)."""


def size_rule(low: float, high: float, bound: float) -> str:
    """A claim "value <= bound" (an effect size, or a harm within a tolerance), judged from a 95% interval."""
    if high <= bound:
        return "holds"
    if low > bound:
        return "contradicted"
    return "inconclusive"


def direction_rule(low: float, high: float) -> str:
    """Direction claim "ratio < 1"."""
    if high < 1:
        return "holds"
    if low > 1:
        return "contradicted"
    return "inconclusive"


def check_guards(pairs: int, minimum: int, censored: tuple[float, ...] = ()) -> str | None:
    if pairs == 0:
        return "not yet measured"
    if pairs < minimum:
        return f"inconclusive: {pairs} paired seeds, fewer than {minimum}"
    worst = max(censored, default=0.0)
    if worst > MAX_CENSORED:
        return f"inconclusive: {worst:.0%} of an arm's runs never reached the target (more than {MAX_CENSORED:.0%})"
    return None


def make_verdict(claim: str, paper: str, measured: str, guard: str | None, rule: str, why: str, section: str,
             numbers: tuple[float, float, float, float] = (np.nan,) * 4) -> Verdict:  # fmt: skip
    if guard == "not yet measured":
        return Verdict(claim, paper, "no committed results", "not yet measured", "no runs", section)
    if guard is not None:
        return Verdict(claim, paper, measured, "inconclusive", guard.removeprefix("inconclusive: "), section, *numbers)
    return Verdict(claim, paper, measured, rule, why, section, *numbers)


RUN_COLUMNS = ["experiment", "dataset", "activation", "seed", "batch_size", "lr", "width", "curve", "max_epochs",
                "target", "betti", "final_train_acc", "final_test_acc"]  # fmt: skip


def runs_of(mlp: pd.DataFrame | None, experiment: str) -> pd.DataFrame:
    """The runs of one experiment, with every column the rules read (empty when there are none)."""
    if mlp is None or mlp.empty or "experiment" not in mlp:
        return pd.DataFrame(columns=RUN_COLUMNS)
    return mlp[mlp.experiment == experiment].reindex(columns=sorted(set(RUN_COLUMNS) | set(mlp.columns)))


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


def paired_mean_ratio(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Ratio of the means of paired samples ``a`` and ``b``, with its paired-bootstrap 95% interval."""
    idx = np.random.default_rng(0).integers(0, len(a), (N_BOOT, len(a)))
    with np.errstate(divide="ignore", invalid="ignore"):
        low, high = interval(a[idx].mean(1) / b[idx].mean(1))
    return a.mean() / b.mean(), low, high


def paired_mean_difference(diff: np.ndarray) -> tuple[float, float, float]:
    """Mean of paired differences, with its bootstrap 95% interval."""
    idx = np.random.default_rng(0).integers(0, len(diff), (N_BOOT, len(diff)))
    low, high = interval(diff[idx].mean(1))
    return diff.mean(), low, high


def interval(samples: np.ndarray) -> tuple[float, float]:
    return float(np.percentile(samples, 2.5)), float(np.percentile(samples, 97.5))
