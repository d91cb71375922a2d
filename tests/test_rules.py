"""The judge's rules and intervals: coverage on synthetic data with a known answer, boundaries, deaths, guards."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from toposcope.claims import rules, survival
from toposcope.claims.intervals import correlation_interval, exact_rate_interval, mean_interval, ratio_interval
from toposcope.claims.survival import capped_times

ROOT = Path(__file__).resolve().parents[1]
SIMULATIONS = 2000
"""Simulations per coverage check: the coverage's standard error is about 0.5 points at 95%."""


def coverage(interval_of_draw, truth: float, seed: int, simulations: int = SIMULATIONS) -> float:
    """Share of ``simulations`` draws whose interval (``interval_of_draw(rng) -> (low, high)``) holds ``truth``."""
    rng = np.random.default_rng(seed)
    hits = [low <= truth <= high for low, high in (interval_of_draw(rng) for _ in range(simulations))]
    return float(np.mean(hits))


@pytest.mark.parametrize("n", [3, 5, 10, 25])
def test_mean_interval_covers_95_percent(n):
    assert 0.92 <= coverage(lambda rng: mean_interval(rng.normal(0.3, 2.0, n))[1:], 0.3, n) <= 0.97


def paired_draw(rng, n):
    """Paired (correlated) positive quantities with a ratio of means of 0.6, as epochs to target are."""
    shared = rng.normal(0, 4, n)
    return 24 + 0.6 * shared + rng.normal(0, 4, n), 40 + shared + rng.normal(0, 6, n)


@pytest.mark.parametrize("n", [3, 5, 10, 25])
def test_paired_ratio_interval_covers_95_percent(n):
    assert 0.92 <= coverage(lambda rng: ratio_interval(*paired_draw(rng, n))[1:], 0.6, 100 + n) <= 0.97


@pytest.mark.parametrize("n", [3, 5, 10, 25])
def test_unpaired_ratio_interval_covers_95_percent(n):
    def draw(rng):
        return ratio_interval(rng.normal(30, 6, n), rng.normal(50, 10, n + 2), paired=False)[1:]

    assert 0.92 <= coverage(draw, 0.6, 200 + n) <= 0.97


@pytest.mark.parametrize("n", [10, 25])
def test_correlation_interval_covers_95_percent(n):
    """Spearman's rho of a bivariate normal with correlation 0.5 is 6/pi asin(0.25)."""
    cov = [[1, 0.5], [0.5, 1]]

    def draw(rng):
        return correlation_interval(*rng.multivariate_normal([0, 0], cov, n).T)[1:]

    assert 0.92 <= coverage(draw, 6 / np.pi * np.arcsin(0.25), 300 + n) <= 0.97


def test_correlation_interval_refuses_too_few_units():
    rho, low, high = correlation_interval([1, 2, 3, 4, 5], [2, 1, 4, 3, 5], removed=2)
    assert np.isfinite(rho) and np.isnan(low) and np.isnan(high)


@pytest.mark.parametrize("n", [3, 5, 10, 25])
def test_exact_rate_interval_covers_at_least_95_percent(n):
    """Clopper-Pearson is conservative by construction: at least 95%, more at small n."""
    assert coverage(lambda rng: exact_rate_interval(int(rng.binomial(n, 0.24)), n), 0.24, 400 + n) >= 0.95


def test_percentile_bootstrap_undercovers_at_few_units():
    """Why the rules left the bootstrap: at 3 units its 95% interval of a mean covers far less."""
    def draw(rng):
        x = rng.normal(0, 1, 3)
        return np.percentile(x[rng.integers(0, 3, (1000, 3))].mean(1), [2.5, 97.5])

    assert coverage(draw, 0.0, 0, simulations=500) < 0.85


def test_ratio_interval_is_unbounded_where_the_denominator_may_be_zero():
    _, low, high = ratio_interval(np.array([1.0, 2.0, 3.0]), np.array([-1.0, 0.5, 1.0]))
    assert (low, high) == (-np.inf, np.inf)


def test_ratio_interval_changes_when_one_arm_alone_is_reordered():
    """Paired: reordering one arm breaks the pairing, so the interval must move."""
    a = np.array([10.0, 20, 30, 40, 50])
    b = np.array([12.0, 21, 33, 41, 55])
    paired = ratio_interval(a, b)
    shuffled = ratio_interval(a, b[::-1])
    assert paired[0] == pytest.approx(shuffled[0])
    assert shuffled[2] - shuffled[1] > 3 * (paired[2] - paired[1])


def test_paired_samples_must_match():
    with pytest.raises(ValueError, match="one value per unit"):
        ratio_interval(np.ones(3), np.ones(4))


# -- rule boundaries: the documented "at or beyond" sides -------------------------------------------------


def test_size_rule_boundaries():
    assert rules.size_rule(0.5, 2 / 3, 2 / 3) == "holds"  # an interval ending at the bound holds
    assert rules.size_rule(0.5, 0.6667, 2 / 3) == "inconclusive"
    assert rules.size_rule(2 / 3, 0.9, 2 / 3) == "inconclusive"  # starting at the bound is not beyond it
    assert rules.size_rule(0.6667, 0.9, 2 / 3) == "contradicted"


def test_direction_rule_boundaries():
    assert rules.direction_rule(0.5, 0.999) == "holds"
    assert rules.direction_rule(0.5, 1.0) == "inconclusive"  # touching 1 is not below it
    assert rules.direction_rule(1.0, 1.5) == "inconclusive"
    assert rules.direction_rule(1.001, 1.5) == "contradicted"


def test_correlation_rule_boundaries():
    assert rules.correlation_rule(0.01, 0.5) == "holds"
    assert rules.correlation_rule(0.0, 0.5) == "inconclusive"
    assert rules.correlation_rule(-0.5, 0.0) == "inconclusive"
    assert rules.correlation_rule(-0.5, -0.01) == "contradicted"


def test_death_rule_reaches_every_verdict():
    assert rules.death_rule(0, 25, 6, 25)[0] == "holds"
    assert rules.death_rule(6, 25, 0, 25)[0] == "contradicted"
    assert rules.death_rule(6, 25, 6, 25) == ("inconclusive", 1.0)
    assert rules.death_rule(0, 25, 0, 25)[0] == "inconclusive"
    assert rules.death_rule(0, 25, 6, 25)[1] == pytest.approx(0.0223, abs=1e-4)


def test_guards_and_verdict_words():
    assert rules.check_guards(0, 10) == "not yet measured"
    assert "fewer than the 10" in rules.check_guards(9, 10)
    assert rules.check_guards(10, 10, (0.25,)) is None  # at the limit: judged
    assert "more than 25%" in rules.check_guards(10, 10, (0.26,))
    frozen = rules.make_verdict("c", "p", "m", "not measurable here: nothing moves", "holds", "", "s")
    assert (frozen.verdict, frozen.reason) == ("not measurable here", "nothing moves")
    assert set(rules.VERDICTS) >= {frozen.verdict, "holds", "contradicted", "inconclusive", "not yet measured"}


def test_every_threshold_has_provenance():
    for name in ("CLAIMED_RATIO", "MAX_CENSORED", "MIN_SEEDS", "DEATH_MARGIN", "ALPHA"):
        entry = rules.PROVENANCE[name]
        assert entry.value == getattr(rules, name)
        assert entry.reason and ("before" in entry.fixed or "after" in entry.fixed)


def test_capped_times_refuse_censoring_before_the_budget():
    assert capped_times([5, 60, 70], [True, False, True], 60).tolist() == [5, 60, 60]
    with pytest.raises(ValueError, match="censored before the budget"):
        capped_times([5, 30], [True, False], 60)


# -- dead runs -----------------------------------------------------------------------------------------


def run(train_acc, activation="relu", seed=0):
    return {"activation": activation, "seed": seed, "curve": {"epoch": list(range(1, len(train_acc) + 1)),
                                                              "train_acc": train_acc}}  # fmt: skip


def test_dead_runs_are_those_never_above_the_majority_share():
    frame = pd.DataFrame([run([0.667, 0.6674, 0.676]), run([0.667, 0.678, 0.6674]), run([0.5, 0.99, 0.2])])
    assert rules.dead_runs(frame, majority=2 / 3).tolist() == [True, False, False]


def test_dead_runs_catch_every_relu_death_of_the_500_epoch_runs():
    """The definition was written before looking (see PROVENANCE); it must catch the six flat ReLU runs."""
    from toposcope.claims.convergence import majority_share
    from toposcope.experiments import ResultStore

    frame = ResultStore(ROOT / "data/results/mlp_spheres_500.jsonl").frame()
    dead = rules.dead_runs(frame, majority_share("spheres"))
    flat = frame.curve.map(lambda c: max(c["train_acc"]) < 0.67)
    assert majority_share("spheres") == pytest.approx(2 / 3, abs=0.01)
    assert dead[frame.activation == "relu"].sum() == 6
    assert dead.equals(flat)
    assert dead[frame.activation == "topo_sine_mid"].sum() == 0


# -- edges the mutation run found untested (benchmarks/mutation.py) ---------------------------------------


def test_intervals_at_the_fewest_units():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no mean of an empty array is taken
        assert all(np.isnan(mean_interval([])))
        assert all(np.isnan(ratio_interval([], [])))
        assert np.isnan(ratio_interval([1.0], [], paired=False)[0])
    mean, low, high = mean_interval([3.0])
    assert mean == 3.0 and np.isnan(low) and np.isnan(high)
    # two units: the t quantile at 1 degree of freedom (12.706) times sd / sqrt(2) = 12.706
    assert mean_interval([1.0, 3.0]) == pytest.approx((2.0, 2.0 - 12.7062, 2.0 + 12.7062), abs=1e-3)
    assert ratio_interval([2.0], [1.0])[0] == 2.0 and np.isnan(ratio_interval([2.0], [1.0])[1])
    ratio, low, high = ratio_interval([2.0, 2.2], [1.0, 1.1])  # two units: a finite interval
    assert ratio == pytest.approx(2.0) and np.isfinite(low) and np.isfinite(high)


def test_ratio_interval_zero_denominator_and_zero_spread():
    ratio, low, high = ratio_interval([1.0, 2.0, 3.0], [-1.0, 0.0, 1.0])
    assert np.isnan(ratio) and (low, high) == (-np.inf, np.inf)
    # no spread in either arm: the interval closes on the ratio, whatever the degrees of freedom
    assert ratio_interval([2.0, 2.0, 2.0], [1.0, 1.0, 1.0], paired=False) == pytest.approx((2.0, 2.0, 2.0))


def test_unpaired_ratio_interval_uses_welch_degrees_of_freedom():
    """At each end of the interval the Welch t statistic of mean(a) - r mean(b) equals the t quantile."""
    from scipy import stats

    a, b = np.array([1.0, 1.2, 0.9, 1.1]), np.array([2.0, 2.3, 1.8, 2.2, 2.1])
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    t = stats.t.ppf(0.975, df)
    _, low, high = ratio_interval(a, b, paired=False)
    for r in (low, high):
        assert abs(a.mean() - r * b.mean()) / np.sqrt(va + r**2 * vb) == pytest.approx(t, rel=1e-6)


def test_correlation_interval_at_four_units_and_at_perfect_correlation():
    assert np.isfinite(correlation_interval([1, 2, 3, 4], [1, 3, 2, 4])[1])
    x = np.arange(10.0)
    rho, low, high = correlation_interval(x, x)
    assert rho == pytest.approx(1.0) and 0.999 < low < 1.0  # clipped below 1: a finite Fisher z
    rho, low, high = correlation_interval(x, -x)
    assert rho == pytest.approx(-1.0) and -1.0 < high < -0.999


def test_death_rule_contradicted_with_deaths_in_both_arms():
    verdict, p = rules.death_rule(8, 10, 1, 10)
    assert verdict == "contradicted" and p < rules.ALPHA
    assert rules.death_rule(1, 10, 8, 10)[0] == "holds"


def test_death_rule_at_alpha_is_not_significant(monkeypatch):
    class AtAlpha:
        pvalue = rules.ALPHA

    monkeypatch.setattr(rules.stats, "fisher_exact", lambda table: AtAlpha)
    assert rules.death_rule(0, 25, 6, 25) == ("inconclusive", rules.ALPHA)
    assert rules.death_rule(6, 25, 0, 25) == ("inconclusive", rules.ALPHA)


def test_make_verdict_keeps_every_field():
    numbers = (1.5, 1.2, 1.9, 10.0)
    judged = rules.make_verdict("c", "p", "m", None, "holds", "why", "s", numbers, part="direction")
    assert (judged.paper, judged.section, judged.verdict, judged.reason, judged.part) == ("p", "s", "holds", "why",
                                                                                           "direction")
    assert (judged.estimate, judged.low, judged.high, judged.threshold) == numbers
    guarded = rules.make_verdict("c", "p", "m", "inconclusive: 3 units", "holds", "why", "s", numbers)
    assert (guarded.paper, guarded.section, guarded.verdict, guarded.reason) == ("p", "s", "inconclusive", "3 units")
    assert (guarded.estimate, guarded.threshold) == (1.5, 10.0)
    empty = rules.make_verdict("c", "p", "m", "not yet measured", "holds", "why", "s", numbers)
    assert (empty.paper, empty.section, empty.measured, empty.reason) == ("p", "s", "no committed results", "no runs")


def test_size_reason_words():
    held = rules.size_reason("holds", "holds", 0.67, "1.5x faster")
    assert held == "1.5x faster or more (whole interval at or below 0.67)"
    assert rules.size_reason("contradicted", "holds", 0.67, "1.5x faster").startswith("faster than ReLU, but not")
    assert rules.size_reason("inconclusive", "holds", 0.67, "1.5x faster").startswith("faster than ReLU; whether")
    assert rules.size_reason("inconclusive", "inconclusive", 0.67, "1.5x faster").startswith("whether 1.5x")


def test_runs_of_without_an_experiment_column_is_empty():
    assert rules.runs_of(pd.DataFrame({"seed": [0]}), "spheres").empty
    assert list(rules.runs_of(None, "spheres").columns) == rules.RUN_COLUMNS


def test_dead_runs_at_exactly_the_margin_are_dead():
    frame = pd.DataFrame([run([0.5, 0.5 + rules.DEATH_MARGIN]), run([0.5, 0.5 + rules.DEATH_MARGIN + 1e-9])])
    assert rules.dead_runs(frame, majority=0.5).tolist() == [True, False]


def test_paired_times_one_row_per_shared_seed_at_the_given_target():
    frame = pd.DataFrame([run([0.5, 0.8, 0.95], "relu", 0), run([0.9, 0.95, 0.96], "sine", 0),
                          run([0.5, 0.5, 0.5], "relu", 1), run([0.5, 0.5, 0.97], "sine", 1),
                          run([0.9, 0.9, 0.9], "sine", 2)])  # fmt: skip
    frame["target"] = 0.99
    wide = survival.paired_times(frame, ["relu", "sine"], target=0.9)
    assert wide.seed.tolist() == [0, 1]  # seed 2 has no ReLU run
    assert wide.t_relu.tolist() == [3, 3] and wide.r_relu.tolist() == [True, False]
    assert wide.t_sine.tolist() == [1, 3] and wide.r_sine.tolist() == [True, True]
    assert wide.s_relu.tolist() == [False, True]  # seed 1's ReLU run is flat: stuck
    assert survival.paired_times(frame, []).empty
