"""The rules that turn a measurement into a verdict, the one interval method they use, and every threshold.

Every claim (:mod:`toposcope.claims.verdicts`) is judged in its parts (:data:`PARTS`:
is the effect there at all, is it as large as the paper says, does the stated
mechanism show, do networks die), and each part gets one :class:`Verdict` with a
verdict word (:data:`VERDICTS`) and a reason in words.

The verdict words
-----------------
* ``"holds"`` / ``"contradicted"``: the 95% interval lies wholly on one side of
  the claim's bound (below), never on a point estimate alone;
* ``"inconclusive"``: the interval straddles the bound, or a guard stopped the
  judgement (too few units, too many censored runs, a design that cannot test
  the claim); the reason says which;
* ``"not measurable here"``: the reading the claim needs cannot change (every
  run reads the same value at the scale the rule uses), so no data of this kind
  can judge it, however many runs; distinct from *inconclusive*, whose reading
  can move;
* ``"not yet measured"``: no committed runs.

The rules
---------
* **Guards first** (:func:`check_guards`): fewer independent units than the
  claim's minimum (:data:`MIN_SEEDS`), or more than :data:`MAX_CENSORED` of an
  arm's runs censored: *inconclusive*, whatever the estimate says.
* **Direction** (:func:`direction_rule`, "is it faster at all"): *holds* if the
  interval of the ratio lies strictly below 1, *contradicted* strictly above 1;
  an interval touching 1 is inconclusive.
* **Magnitude** (:func:`size_rule`, "1.5 to 2 times", or a harm within a
  tolerance): *holds* if the interval lies at or below the bound (an upper end
  equal to the bound holds), *contradicted* if it lies strictly above it.
* **Dying** (:func:`death_rule`): Fisher's exact test of the death counts;
  *holds* if the sine layout dies less often at p < :data:`ALPHA`,
  *contradicted* if more often at p < :data:`ALPHA`.
* **Mechanism** (:func:`correlation_rule`): a rank correlation with its 95%
  interval; *holds* if wholly above 0 (the stated direction), *contradicted* if
  wholly below.

The interval method (chosen once)
---------------------------------
Every interval is a Student-t interval over **independent units** (training
seeds, or trained models), exact for normal data at any number of units, where
the percentile bootstrap the report used before covered 73%, 84% and 89% of
the time at 3, 5 and 10 normal units (2,000 simulations each).  The coverage of
each function below is tested at n = 3, 5, 10 and 25 on synthetic data with a
known answer (``tests/test_rules.py``, 2,000 simulations each):

* :func:`mean_interval`: the mean of per-unit values (paired differences,
  per-seed slopes, per-seed log spreads), ``mean +- t(n-1) s / sqrt(n)``;
* :func:`ratio_interval`: a ratio of two means, by Fieller's theorem (the set
  of ratios ``r`` whose t-test of ``mean(a - r b) = 0`` is not rejected;
  paired, or two independent samples with Welch's degrees of freedom); it is
  unbounded where the denominator's mean is not clearly above 0.

Restricted mean times (epochs to a target, censored at the budget) enter as
plain means: every committed run of one comparison shares its budget ``tau``
and is censored only there, so the restricted mean (the area under the
Kaplan-Meier curve to ``tau``) equals the mean of ``min(time, tau)``
(:func:`capped_times`, which refuses runs censored before ``tau``).

Provenance of every threshold
-----------------------------
:data:`PROVENANCE` says, for each threshold, why it has its value and whether
it was set before or after the data it judges, with the commit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .intervals import LEVEL, correlation_interval, exact_rate_interval, mean_interval, ratio_interval
from .survival import capped_times

__all__ = [
    "ALPHA",
    "CLAIMED_RATIO",
    "DEATH_MARGIN",
    "LEVEL",
    "MAX_CENSORED",
    "MIN_SEEDS",
    "PARTS",
    "PROVENANCE",
    "VERDICTS",
    "Provenance",
    "Verdict",
    "capped_times",
    "check_guards",
    "correlation_interval",
    "correlation_rule",
    "dead_runs",
    "death_rule",
    "direction_reason",
    "direction_rule",
    "exact_rate_interval",
    "make_verdict",
    "mean_interval",
    "not_yet_measured",
    "ratio_interval",
    "runs_of",
    "size_reason",
    "size_rule",
    "tolerance_reason",
]

VERDICTS = ("holds", "contradicted", "inconclusive", "not measurable here", "not yet measured")
"""Every verdict word, from the strongest to "no runs"."""
PARTS = ("direction", "magnitude", "mechanism", "dying", "tolerance")
"""The parts a claim is judged in (a claim has those of them the paper asserts)."""

MIN_SEEDS = {"mlp": 10, "betti": 5, "fashion": 5, "pruning": 3, "cnn": 3, "mechanism": 10}
"""Fewest independent units (seeds, trained models or runs) a claim needs before its estimate is judged."""
MAX_CENSORED = 0.25
"""Largest share of censored runs (never at target) either arm may have."""
CLAIMED_RATIO = 2 / 3
"""The paper's "1.5 to 2 times fewer epochs": a ratio of at most 2/3."""
DEATH_MARGIN = 0.01
"""A run is dead if its training accuracy never rises more than this above the majority class's share."""
ALPHA = 0.05
"""Level of the tests whose p-value a rule reads (Fisher's exact test of deaths)."""


@dataclass(frozen=True)
class Provenance:
    """Why a threshold has its value, and whether it was fixed before the data it judges (with the commit)."""

    value: object
    reason: str
    fixed: str
    """``"before the data"`` or ``"after the data"`` (with which data), and the commit that fixed it."""


PROVENANCE: dict[str, Provenance] = {
    "CLAIMED_RATIO": Provenance(
        CLAIMED_RATIO, "the paper's own words, '1.5 to 2 times fewer epochs': 1/1.5", "before the data (the paper)"),
    "MAX_CENSORED": Provenance(
        MAX_CENSORED, "a quarter of an arm censored leaves the restricted mean dominated by the budget, not the runs",
        "after the first MLP runs (88c694e) existed, before the longer-budget and Naitzat runs (6c2ab4e)"),
    "MIN_SEEDS": Provenance(
        MIN_SEEDS, "what each experiment's budget allowed on 2 cores; t intervals are exact at any n, so a "
        "minimum guards against overreading, not against wrong coverage",
        "after the first MLP runs (88c694e), before every later run (6c2ab4e); 'mechanism' with this commit"),
    "DEATH_MARGIN": Provenance(
        DEATH_MARGIN, "one point of accuracy above always predicting the majority class: a network that never "
        "gets there has learned nothing (the definition the report issue proposed)",
        "before looking at which runs it catches (this rule's commit)"),
    "ALPHA": Provenance(ALPHA, "the conventional 5% level", "before the data (convention)"),
    "STUCK_TOLERANCE": Provenance(
        0.005, "accuracy flat within half a point over a run's second half (survival.STUCK_TOLERANCE)",
        "after the spheres runs showed flat runs (b8070d6)"),
    "separation reading": Provenance(
        "share of k=10 nearest-neighbour edges between classes at the dense layer (act3), the most images a class",
        "the paper's target (its figure 5) is a last layer whose components are the classes; the dense layer is "
        "the last hidden one (the logits are what the loss separates); k=10 as in the first look of issue 27. "
        "Counts as a reading only below its shuffled-label null and with a ratio that does not move with the "
        "sample (no numeric threshold: both are judged by 95% intervals)",
        "before the data: committed before data/results/cnn_readings.jsonl was run"),
    "merge reading": Provenance(
        "median scale at which a point's class stops being the majority of its single-linkage component, in "
        "within-class nearest-neighbour spacings, at the dense layer (act3), the most images a class",
        "issue 27's 'persistence of the union's H0, in units of the within-class spacing', read per point so that "
        "stray points (a network at 88% accuracy has many) do not join classes that are otherwise apart; same "
        "layer, guards and intervals as the separation reading (no numeric threshold)",
        "before the data: committed before data/results/cnn_readings.jsonl was rerun with merge scales"),
    "long bars": Provenance(
        3.0, "tau: bars longer than 3 nearest-neighbour spacings (toposcope.long_bars' default, tested stable in N "
        "on evenly sampled shapes); not measurable where no reading differs from its Gaussian null, or where the "
        "ratio at the fewest points a class lies outside the interval at the most",
        "before the data: tau and the null guard committed before data/results/cnn_readings.jsonl was run; the "
        "stable-in-N guard before it was rerun at two sizes"),
    "overfitting tolerance": Provenance(
        0.02, "two points of extra train-test gap", "after the data: chosen after chapter 3 had printed a gap of "
        "about one and a half points (6c2ab4e); its verdicts say so"),
    "CNN accuracy tolerance": Provenance(
        0.01, "one point of test accuracy, the paper's 'at par'", "after the first CNN runs (6c2ab4e)"),
    "pruning accuracy tolerance": Provenance(
        0.01, "one point of test accuracy, the paper's 'no significant loss'",
        "after the first pruning runs (6c2ab4e)"),
}  # fmt: skip
"""Every threshold the rules use: its value, why, and when it was fixed relative to the data."""


@dataclass(frozen=True)
class Verdict:
    """One part of one claim of the paper, what was measured, the rule's verdict and its reason in words."""

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
    part: str = "direction"
    """Which part of the claim (:data:`PARTS`)."""
    family: str = ""
    """The paper's claim this part belongs to (rows of one family share a forest plot)."""
    setting: str = ""
    """The setting this row judges (data set, layout, budget), short enough for a plot label."""


# -- the rules --------------------------------------------------------------------------------------------


def size_rule(low: float, high: float, bound: float) -> str:
    """A claim "value <= bound" (an effect size, or a harm within a tolerance), judged from a 95% interval.

    *holds* if ``high <= bound`` (an interval ending at the bound holds), *contradicted*
    if ``low > bound``, else *inconclusive*.
    """
    if high <= bound:
        return "holds"
    if low > bound:
        return "contradicted"
    return "inconclusive"


def direction_rule(low: float, high: float) -> str:
    """Direction claim "ratio < 1": *holds* if ``high < 1``, *contradicted* if ``low > 1``; touching 1: inconclusive."""
    if high < 1:
        return "holds"
    if low > 1:
        return "contradicted"
    return "inconclusive"


def correlation_rule(low: float, high: float) -> str:
    """Mechanism claim "correlation > 0": *holds* if ``low > 0``, *contradicted* if ``high < 0``."""
    if low > 0:
        return "holds"
    if high < 0:
        return "contradicted"
    return "inconclusive"


def death_rule(dead_sine: int, n_sine: int, dead_ref: int, n_ref: int) -> tuple[str, float]:
    """Claim "the sine layout keeps networks from dying": the verdict and Fisher's exact two-sided p-value.

    *holds* if the sine layout's death rate is lower at ``p < ALPHA``, *contradicted* if
    higher at ``p < ALPHA``, else *inconclusive* (also when no run of either arm died).
    """
    table = [[dead_sine, n_sine - dead_sine], [dead_ref, n_ref - dead_ref]]
    p = float(stats.fisher_exact(table).pvalue)
    if p < ALPHA and dead_sine / n_sine < dead_ref / n_ref:
        return "holds", p
    if p < ALPHA and dead_sine / n_sine > dead_ref / n_ref:
        return "contradicted", p
    return "inconclusive", p


def check_guards(pairs: int, minimum: int, censored: tuple[float, ...] = ()) -> str | None:
    """The reason a claim cannot be judged yet (``"not yet measured"`` or ``"inconclusive: ..."``), or None."""
    if pairs == 0:
        return "not yet measured"
    if pairs < minimum:
        return f"inconclusive: {pairs} independent units, fewer than the {minimum} this claim needs"
    worst = max(censored, default=0.0)
    if worst > MAX_CENSORED:
        return f"inconclusive: {worst:.0%} of an arm's runs never reached the target (more than {MAX_CENSORED:.0%})"
    return None


def make_verdict(claim: str, paper: str, measured: str, guard: str | None, rule: str, why: str, section: str,
                 numbers: tuple[float, float, float, float] = (np.nan,) * 4, **labels: str) -> Verdict:  # fmt: skip
    """The :class:`Verdict` of one part: the guard's, where a guard stopped it, else the rule's with ``why``.

    ``labels``: ``part``, ``family`` and ``setting`` of :class:`Verdict`.
    """
    if guard == "not yet measured":
        return not_yet_measured(claim, paper, section, **labels)
    if guard is not None:
        verdict = "not measurable here" if guard.startswith("not measurable here") else "inconclusive"
        reason = guard.removeprefix("inconclusive: ").removeprefix("not measurable here: ")
        return Verdict(claim, paper, measured, verdict, reason, section, *numbers, **labels)
    return Verdict(claim, paper, measured, rule, why, section, *numbers, **labels)


def not_yet_measured(claim: str, paper: str, section: str, **labels: str) -> Verdict:
    """The :class:`Verdict` of a claim with no committed runs to judge it on."""
    return Verdict(claim, paper, "no committed results", "not yet measured", "no runs", section, **labels)


def direction_reason(verdict: str, holds: str, contradicted: str, inconclusive: str) -> str:
    """The reason in words of a direction verdict (its interval against 1), from the three phrasings."""
    return {"holds": f"{holds} (whole interval below 1)", "contradicted": f"{contradicted} (whole interval above 1)",
            "inconclusive": f"{inconclusive} (interval contains 1)"}[verdict]  # fmt: skip


def size_reason(verdict: str, direction: str, bound: float, size: str, reference: str = "ReLU") -> str:
    """The reason in words of a magnitude verdict, read with its direction verdict (``size``: e.g. "1.5x faster")."""
    if verdict == "holds":
        return f"{size} or more (whole interval at or below {bound:.2f})"
    if verdict == "contradicted":
        lead = f"faster than {reference}, but not " if direction == "holds" else "not "
        return f"{lead}{size} (whole interval above {bound:.2f})"
    lead = f"faster than {reference}; whether " if direction == "holds" else "whether "
    return f"{lead}{size} is undecided (interval straddles {bound:.2f})"


def tolerance_reason(verdict: str, what: str, tolerance: float) -> str:
    """The reason in words of a tolerance verdict (``what``: the harm, e.g. "the accuracy drop")."""
    return {"holds": f"{what} stays within {tolerance:g} (whole interval)",
            "contradicted": f"{what} exceeds {tolerance:g} (whole interval)",
            "inconclusive": f"{what} may or may not exceed {tolerance:g} (interval straddles it)"}[verdict]  # fmt: skip


# -- runs, times and deaths -------------------------------------------------------------------------------


RUN_COLUMNS = ["experiment", "dataset", "activation", "seed", "batch_size", "lr", "width", "curve", "max_epochs",
                "target", "betti", "final_train_acc", "final_test_acc"]  # fmt: skip


def runs_of(mlp: pd.DataFrame | None, experiment: str) -> pd.DataFrame:
    """The runs of one experiment, with every column the rules read (empty when there are none)."""
    if mlp is None or mlp.empty or "experiment" not in mlp:
        return pd.DataFrame(columns=RUN_COLUMNS)
    return mlp[mlp.experiment == experiment].reindex(columns=sorted(set(RUN_COLUMNS) | set(mlp.columns)))


def dead_runs(frame: pd.DataFrame, majority: float) -> pd.Series:
    """Per run of ``frame`` (same index): True if it died.

    A run is **dead** if its training accuracy at every evaluated epoch of its
    whole budget stays at most ``majority + DEATH_MARGIN`` (``majority``: the share
    of the training set's largest class): it never learned more than always
    answering the majority class.  The stored curves start after the first epoch of
    training, so the untrained network's accuracy does not count.
    """
    best = frame.curve.map(lambda c: max(v for v in c["train_acc"] if v is not None))
    return best <= majority + DEATH_MARGIN
