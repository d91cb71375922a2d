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


# -- edges the mutation run found untested (benchmarks/mutation.py) ---------------------------------------


def one_run(train, test=None, activation="relu", seed=0, target=0.99):
    epochs = list(range(1, len(train) + 1))
    return {"activation": activation, "seed": seed, "max_epochs": len(train), "target": target,
            "curve": {"epoch": epochs, "train_acc": train, "test_acc": test or train}}  # fmt: skip


def test_times_to_target_metric_target_and_columns():
    frame = pd.DataFrame([one_run([0.5, 0.9, 0.99], test=[0.5, 0.5, 0.9])])
    assert times_to_target(frame).time.tolist() == [3.0]  # its own target; reaching it exactly counts
    assert times_to_target(frame, target=0.9).time.tolist() == [2.0]
    assert times_to_target(frame, target=0.9, metric="test_acc").time.tolist() == [3.0]
    with pytest.raises(ValueError, match="metric must be 'train_acc' or 'test_acc'; got 'loss'"):
        times_to_target(frame, metric="loss")
    empty = times_to_target(frame.iloc[:0])
    assert list(empty.columns) == ["activation", "seed", "time", "reached", "stuck"]
    ragged = pd.DataFrame([one_run([0.5, 0.6])])
    ragged.curve.iloc[0]["epoch"].append(3)
    with pytest.raises(ValueError):
        times_to_target(ragged)


def test_stuck_reads_the_second_half_only_and_needs_two_values(monkeypatch):
    def stuck(train):
        return bool(times_to_target(pd.DataFrame([one_run(train)])).stuck.iloc[0])

    assert stuck([0.5, 0.5, 0.6, 0.7, 0.7, 0.7])  # rising in the first half, flat in the second
    assert stuck([0.5, 0.5, 0.5, 0.5])  # two flat values in the second half
    assert not stuck([0.5, 0.5])  # one value is no evidence of a flat curve
    monkeypatch.setattr(survival, "STUCK_TOLERANCE", 0.5)
    assert not stuck([0.25, 0.25, 0.25, 0.75])  # a spread of exactly the tolerance is not flat


def test_kaplan_meier_edges_and_greenwood_band():
    with pytest.raises(ValueError, match=r"^no runs$"):
        kaplan_meier([], [])
    lost = kaplan_meier([40.0, 30.0], [False, False])
    assert lost.to_dict("list") == {"time": [0.0, 40.0], "survival": [1.0] * 2, "low": [1.0] * 2, "high": [1.0] * 2}
    single = kaplan_meier([3.0], [True])
    assert single.time.tolist() == [0.0, 3.0] and single.survival.tolist() == [1.0, 0.0]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the undefined band at S = 0 is expected, not reported
        km = kaplan_meier([2.0, 4.0, 6.0, 8.0], [True] * 4)
    assert list(km.index) == list(range(5)) and (km.iloc[0, 2:] == 1.0).all()
    # Greenwood: S = 3/4 at 2, var = S^2 * 1/(4 * 3); the band clipped to [0, 1]; at S = 0: (0, 1)
    half = 1.959964 * 0.75 * np.sqrt(1 / 12)
    assert km.low.iloc[1] == pytest.approx(0.75 - half, abs=1e-5) and km.high.iloc[1] == 1.0
    assert (km.low.iloc[-1], km.high.iloc[-1]) == (0.0, 1.0)


def test_km_curves_keep_the_frames_layout_order_target_and_metric():
    frame = pd.DataFrame([one_run([0.5, 0.9, 0.95], [0.5, 0.5, 0.9], "tanh"), one_run([0.9, 0.99, 0.99])])
    km = survival.km_curves(frame)
    assert km.activation.unique().tolist() == ["tanh", "relu"] and list(km.index) == list(range(len(km)))
    assert km[km.activation == "tanh"].survival.tolist() == [1.0, 1.0]  # 0.99 never reached
    assert km[km.activation == "tanh"].survival.tolist() != survival.km_curves(frame, 0.9)[
        lambda k: k.activation == "tanh"].survival.tolist()  # fmt: skip
    test_curve = survival.km_curves(frame, 0.9, metric="test_acc")
    assert test_curve[test_curve.activation == "tanh"].time.tolist() == [0.0, 3.0]
    assert list(survival.km_curves(frame.iloc[:0]).columns) == ["activation", "time", "survival", "low", "high"]


def test_paired_ratio_without_shared_seeds():
    a = times_to_target(pd.DataFrame([one_run([0.99], seed=0)]))
    b = times_to_target(pd.DataFrame([one_run([0.99], seed=1)]))
    ratio, low, high, n = survival.paired_rmst_ratio(a, b, 1)
    assert np.isnan([ratio, low, high]).all() and n == 0


def test_capped_times_names_the_fix():
    with pytest.raises(ValueError, match="a restricted mean of such runs needs the Kaplan-Meier curve"):
        survival.capped_times([5, 30], [True, False], 60)


def test_time_table_every_column_by_hand():
    """Two layouts, 4 seeds, budget 10; tanh reaches at 2, 4, 6 and misses once, ReLU at 8 once only."""
    rows = [one_run([0.5] * (t - 1) + [0.99] * (11 - t) if t else [0.5] * 10, activation=a, seed=s)
            for a, times in (("tanh", [2, 4, 6, None]), ("relu", [8, None, None, None]))
            for s, t in enumerate(times)]  # fmt: skip
    table = time_table(pd.DataFrame(rows))
    assert list(table.index) == ["tanh", "relu"]
    tanh, relu = table.loc["tanh"], table.loc["relu"]
    assert (tanh.runs, tanh.reached, tanh.censored, tanh.pairs) == (4, 3, 0.25, 4)
    assert tanh.km_median == 4.0 and relu.km_median == float("inf")
    assert tanh.rmst == pytest.approx(np.mean([2, 4, 6, 10])) and relu.rmst == pytest.approx(np.mean([8, 10, 10, 10]))
    from toposcope.claims.intervals import ratio_interval

    expected = ratio_interval([2, 4, 6, 10], [8, 10, 10, 10])
    assert (tanh.ratio, tanh.low, tanh.high) == pytest.approx(expected)
    from scipy import stats

    by_hand = stats.logrank(stats.CensoredData(uncensored=[2, 4, 6], right=[10]),
                            stats.CensoredData(uncensored=[8], right=[10, 10, 10])).pvalue  # fmt: skip
    assert tanh.logrank_p == pytest.approx(by_hand) and np.isnan(relu.logrank_p)
    km = kaplan_meier([2.0, 4, 6, 10], [True, True, True, False])
    assert (tanh.km_low, tanh.km_high) == km_median([2.0, 4, 6, 10], [True, True, True, False])[1:]
    assert km.survival.iloc[2] == 0.5


def test_time_table_without_the_reference_and_with_a_reference_that_never_reaches():
    rows = [one_run([0.5, 0.99], activation="tanh", seed=s) for s in range(3)]
    alone = time_table(pd.DataFrame(rows))
    assert np.isnan(alone.loc["tanh", "ratio"]) and alone.loc["tanh", "pairs"] == 0
    assert np.isnan(alone.loc["tanh", "logrank_p"])
    rows += [one_run([0.5, 0.5], activation="relu", seed=s) for s in range(3)]
    table = time_table(pd.DataFrame(rows))
    assert 0 < table.loc["tanh", "logrank_p"] < 0.05  # one arm reaching is enough for the test


def test_reached_flags_may_be_zeros_and_ones():
    as_bool = kaplan_meier([2.0, 4, 6], [True, False, True])
    assert kaplan_meier([2, 4, 6], [1, 0, 1]).equals(as_bool)
    assert survival.capped_times([5, 60], [1, 0], 60).tolist() == [5, 60]
