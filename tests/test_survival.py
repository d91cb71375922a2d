"""Censoring-aware epochs-to-target statistics on small synthetic sets with known answers."""

import numpy as np
import pandas as pd
import pytest

from toposcope.claims import survival
from toposcope.claims.survival import kaplan_meier, km_median, restricted_mean, time_table, times_to_target


def curve(reach_at, epochs=40):
    train = [1.0 if reach_at is not None and e >= reach_at else 0.5 for e in range(1, epochs + 1)]
    return {"epoch": list(range(1, epochs + 1)), "loss": [0.1] * epochs, "train_acc": train, "test_acc": train}


def runs(reach: dict[str, list], epochs=40) -> pd.DataFrame:
    rows = [{"activation": a, "seed": s, "curve": curve(at, epochs), "max_epochs": epochs, "target": 0.99}
            for a, ats in reach.items() for s, at in enumerate(ats)]  # fmt: skip
    return pd.DataFrame(rows)


def test_times_to_target_censors_runs_that_never_reach():
    times = times_to_target(runs({"relu": [5, None]}))
    assert times.time.tolist() == [5.0, 40.0] and times.reached.tolist() == [True, False]


def test_flat_censored_runs_are_stuck_and_rising_ones_are_not():
    rising = {"epoch": list(range(1, 41)), "loss": [0.1] * 40, "train_acc": [0.5 + 0.01 * e for e in range(40)],
              "test_acc": [0.5] * 40}  # fmt: skip
    frame = pd.concat([runs({"relu": [5, None]}), pd.DataFrame([{"activation": "relu", "seed": 2, "curve": rising,
                                                                  "max_epochs": 40, "target": 0.99}])])  # fmt: skip
    times = times_to_target(frame)
    assert times.reached.tolist() == [True, False, False] and times.stuck.tolist() == [False, True, False]


def test_kaplan_meier_without_censoring_is_the_empirical_curve():
    km = kaplan_meier(np.array([2.0, 4.0, 6.0, 8.0]), np.ones(4, bool))
    assert km.survival.tolist() == [1.0, 0.75, 0.5, 0.25, 0.0]
    assert km_median(np.array([2.0, 4.0, 6.0, 8.0]), np.ones(4, bool))[0] == 4.0


def test_median_is_infinite_when_most_runs_are_censored():
    median, _, high = km_median(np.array([3.0, 40, 40, 40]), np.array([True, False, False, False]))
    assert median == high == float("inf")


def test_all_censored_and_rmst_equals_mean_of_capped_times():
    assert kaplan_meier(np.array([40.0, 40.0]), np.zeros(2, bool)).survival.tolist() == [1.0, 1.0]
    assert restricted_mean(np.array([40.0, 40.0]), np.zeros(2, bool), 40) == 40
    t, r = np.array([3.0, 10, 40, 17]), np.array([True, True, False, True])
    assert restricted_mean(t, r, 40) == pytest.approx(np.minimum(t, 40).mean())


def test_rmst_handles_censoring_before_the_budget():
    # one run lost at epoch 5 (censored early): KM redistributes its weight to later runs
    t, r = np.array([2.0, 5, 10, 20]), np.array([True, False, True, True])
    assert restricted_mean(t, r, 40) == pytest.approx(2 * 1 + 8 * 0.75 + 10 * 0.375)


def test_time_table_pairs_seeds_and_judges_no_data_honestly():
    frame = runs({"relu": [20, 21, 20, 22, 19, 20], "topo_sine": [10, 11, 10, 11, 10, 9]})
    table = time_table(frame)
    assert table.loc["topo_sine", "ratio"] == pytest.approx(np.mean([10, 11, 10, 11, 10, 9]) / np.mean(
        [20, 21, 20, 22, 19, 20]))  # fmt: skip
    assert table.loc["topo_sine", "high"] < 1 and table.loc["topo_sine", "logrank_p"] < 0.01
    assert table.loc["relu", "censored"] == 0 and table.loc["relu", "pairs"] == 6
    censored = time_table(runs({"relu": [None, None], "tanh": [None, None]}))
    assert censored.loc["tanh", "ratio"] == 1.0 and censored.loc["tanh", "km_median"] == float("inf")
    assert time_table(runs({}).reindex(columns=["activation", "seed", "curve", "max_epochs", "target"])).empty


def test_km_curves_are_tidy():
    km = survival.km_curves(runs({"relu": [5, 10], "tanh": [None, None]}))
    assert set(km.activation) == {"relu", "tanh"} and km.groupby("activation").time.first().eq(0).all()
    relu = km[km.activation == "relu"]
    assert relu.time.tolist() == [0, 5, 10] and relu.survival.tolist() == [1.0, 0.5, 0.0]
    assert km[km.activation == "tanh"].survival.tolist() == [1.0, 1.0]


def test_kaplan_meier_by_hand_on_five_runs():
    """Five runs, two censored (at 4 and at the budget 8): S = 1, 4/5, then x 2/3 at 6 (3 at risk), x 1/2 at 7."""
    curve = kaplan_meier(np.array([2.0, 4, 6, 7, 8]), np.array([True, False, True, True, False]))
    assert curve.time.tolist()[:5] == [0, 2, 4, 6, 7]
    assert curve.survival.tolist()[:5] == pytest.approx([1, 0.8, 0.8, 0.8 * 2 / 3, 0.8 * 2 / 3 / 2])
    assert restricted_mean(np.array([2.0, 4, 6, 7, 8]), np.array([True, False, True, True, False]), 8) == (
        pytest.approx(2 * 1 + 4 * 0.8 + 1 * 0.8 * 2 / 3 + 1 * 0.8 / 3))  # fmt: skip
