"""The judge's rules and intervals: coverage on synthetic data with a known answer, boundaries, deaths, guards."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from toposcope.claims import rules
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
