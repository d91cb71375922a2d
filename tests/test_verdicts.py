"""The verdict rules, on synthetic result sets, and README's findings against the committed results."""

import re
from pathlib import Path

import pandas as pd
import pytest

from toposcope.claims import convergence as convergence_module
from toposcope.claims import verdicts
from toposcope.claims.convergence import geometry_table as convergence_claims_table
from toposcope.claims.verdicts import report

ROOT = Path(__file__).resolve().parents[1]


def curve(reach_at, epochs=60):
    train = [1.0 if reach_at is not None and e >= reach_at else 0.5 for e in range(1, epochs + 1)]
    return {"epoch": list(range(1, epochs + 1)), "loss": [0.1] * epochs, "train_acc": train, "test_acc": train}


def convergence(reach: dict[str, list], dataset="rings", epochs=60) -> pd.DataFrame:
    rows = [{"experiment": "convergence", "dataset": dataset, "activation": a, "seed": s, "curve": curve(at, epochs),
             "max_epochs": epochs, "target": 0.99} for a, ats in reach.items() for s, at in enumerate(ats)]  # fmt: skip
    return pd.DataFrame(rows)


def verdict_of(frame, layout="topo_sine_mid", dataset="rings", part="direction", **reports):
    table = report(frame, None, **reports)
    return table.set_index("claim").loc[f"{layout} needs fewer epochs than relu on nine {dataset}: {part}"]


def test_direction_and_magnitude_are_judged_apart():
    relu = [30, 31, 29, 30, 32, 30, 31, 29, 30, 30]
    fast = convergence({"relu": relu, "topo_sine_mid": [15, 16] * 5})
    assert verdict_of(fast).verdict == "holds" and verdict_of(fast, part="magnitude").verdict == "holds"
    modest = convergence({"relu": relu, "topo_sine_mid": [25, 26] * 5})  # faster, but not 1.5x
    assert verdict_of(modest).verdict == "holds"
    size = verdict_of(modest, part="magnitude")
    assert size.verdict == "contradicted" and size.reason.startswith("faster than relu, but not 1.5x faster")
    slower = convergence({"relu": relu, "topo_sine_mid": [40, 41] * 5})
    assert verdict_of(slower).verdict == "contradicted" and "ratio 1.3" in verdict_of(slower).measured
    assert verdict_of(slower, part="magnitude").reason.startswith("not 1.5x faster")
    wide = verdict_of(convergence({"relu": relu, "topo_sine_mid": [5, 50] * 5}))
    assert wide.verdict == "inconclusive" and "interval contains 1" in wide.reason


def test_guards_too_few_seeds_too_many_censored_no_data():
    few = verdict_of(convergence({"relu": [30, 31] * 2, "topo_sine_mid": [10, 11] * 2}))
    assert few.verdict == "inconclusive" and "4 independent units" in few.reason
    censored = verdict_of(convergence({"relu": [None] * 5 + [30] * 5, "topo_sine_mid": [10, 11] * 5}))
    assert censored.verdict == "inconclusive" and "50% of relu's runs" in censored.reason
    assert "the estimate alone says faster" in censored.reason
    all_censored = verdict_of(convergence({"relu": [None] * 10, "topo_sine_mid": [None] * 10}))
    assert all_censored.verdict == "inconclusive"
    nothing = report(pd.DataFrame(), None)
    assert set(nothing.verdict) == {"not yet measured"}
    assert verdict_of(convergence({"relu": [30] * 10}), dataset="rings").verdict == "not yet measured"


def test_dying_is_its_own_outcome_and_learners_are_judged_apart():
    """Dead ReLU runs (flat at the majority share) make the sine 'faster' counted at the budget; the learners
    are no faster, and the rows say so."""
    relu = [20, 22, 21, 23, 20, 22] + [None] * 4  # four dead runs (accuracy 0.5 = the rings' majority share)
    sine = [21, 22, 20, 23, 21, 22, 20, 21, 23, 22]
    table = report(convergence({"relu": relu, "topo_sine_mid": sine}), None).set_index("claim")
    base = "topo_sine_mid needs fewer epochs than relu on nine rings"
    assert table.loc[f"{base}: direction"].verdict == "inconclusive"  # 40% censored: the guard
    dying = table.loc["topo_sine_mid dies less often than relu on nine rings"]
    assert dying.part == "dying" and "dead topo_sine_mid 0/10" in dying.measured and "relu 4/10" in dying.measured
    assert dying.verdict == "inconclusive"  # 0/10 vs 4/10: Fisher p = 0.087
    learners = table.loc[f"{base}: among runs that learn"]
    assert learners.verdict == "inconclusive" and "over 10 and 6 learning runs" in learners.measured
    both = table.loc[f"{base}: paired where both learn"]
    assert "6 independent units" in both.reason
    clear = report(convergence({"relu": [20] * 4 + [None] * 16, "topo_sine_mid": [20, 21] * 10}), None)
    assert clear.set_index("claim").loc["topo_sine_mid dies less often than relu on nine rings"].verdict == "holds"
    alive = report(convergence({"relu": [20, 21] * 5, "topo_sine_mid": [20, 21] * 5}), None)
    assert "dying" not in set(alive.part)  # no run died: no dying rows


def test_load_results_picks_names_and_rejects_unknown_ones(tmp_path):
    picked = verdicts.load_results(ROOT, ["long", "naitzat"])
    assert list(picked) == ["long", "naitzat"] and all(frame is not None for frame in picked.values())
    assert verdicts.load_results(tmp_path, ["long"]) == {"long": None}  # absent: None, not an error
    with pytest.raises(ValueError, match="unknown result name"):
        verdicts.load_results(ROOT, ["lonnng"])


def test_readme_findings_are_the_computed_verdicts():
    """README's findings block must be what the rules compute from the committed results."""
    expected = verdicts.findings_markdown(report(**verdicts.load_results(ROOT)))
    block = re.search(r"<!-- verdicts:start -->\n(.*?)<!-- verdicts:end -->", (ROOT / "README.md").read_text(), re.S)
    assert block, "README.md lacks the <!-- verdicts:start/end --> block"
    assert block.group(1) == expected, "stale README: run python -m toposcope.claims.verdicts --readme"


def test_naitzat_geometry_claims_and_side_by_side_table():
    relu = [30, 31, 29, 30, 32, 30, 31, 29, 30, 30]
    naitzat = convergence({"relu": relu, "topo_sine_mid": [40, 41] * 5}, dataset="rings_naitzat")
    naitzat["target"] = 0.95
    clean = convergence({"relu": relu, "topo_sine_mid": [15, 16] * 5})
    row = verdict_of(clean, dataset="rings (Naitzat geometry)", naitzat=naitzat)
    assert row.verdict == "contradicted" and "to 95%" in row.measured
    assert verdict_of(clean, naitzat=naitzat).verdict == "holds"
    assert verdict_of(clean, dataset="spheres (Naitzat geometry)", naitzat=naitzat).verdict == "not yet measured"
    side = convergence_claims_table(clean, naitzat)
    assert side.loc["topo_sine_mid", ("nine rings", "clean")].endswith("faster holds, 1.5x holds")
    assert side.loc["topo_sine_mid", ("nine rings", "Naitzat")].startswith("1.3")
    assert side.loc["topo_sine", ("nine spheres", "Naitzat")] == "not yet measured"


def test_long_budget_claims_are_named_by_their_budget():
    reach = {"relu": [30, 31] * 4 + [None] * 2, "topo_sine_mid": [15, 16] * 5, "topo_sine_mid_relu": [15, 16] * 5}
    long = convergence(reach, dataset="spheres")
    table = report(None, None, long=long).set_index("claim")
    row = table.loc["topo_sine_mid needs fewer epochs than relu on nine spheres (60-epoch budget): direction"]
    assert row.verdict == "holds" and "censored relu 20%" in row.measured
    assert not any(c.startswith("topo_sine needs") and "60-epoch" in c for c in table.index)
    both = report(None, None, long=long, longer=convergence(reach, "spheres", epochs=500)).set_index("claim")
    assert both.loc["topo_sine_mid needs fewer epochs than relu on nine spheres (500-epoch budget): magnitude"].verdict
    assert len(both) > len(table)


def test_horizon_curve_and_death_table():
    frame = convergence({"relu": [20, 22] * 3 + [None] * 4, "topo_sine_mid": [21, 22] * 5})
    curve = convergence_module.horizon_curve(frame, "rings", "topo_sine_mid", horizons=[10, 30, 60])
    assert curve.horizon.tolist() == [10, 30, 60]
    assert curve.ratio.iloc[0] == pytest.approx(1.0)  # nobody reached by epoch 10
    assert curve.ratio.iloc[2] < curve.ratio.iloc[1] < 1  # dead runs weigh more the longer the horizon
    deaths = convergence_module.death_table(frame, "rings")
    assert deaths.loc["relu", "dead"] == 4 and deaths.loc["topo_sine_mid", "dead"] == 0
    assert deaths.loc["relu", "low"] < 0.4 < deaths.loc["relu", "high"]


def betti_runs(totals: dict[str, list[float]], dataset: str, inputs: tuple[tuple[int, ...], ...],
               early: dict[str, list[float]] | None = None) -> pd.DataFrame:  # fmt: skip
    """Betti runs whose input layer reads ``inputs`` (one tuple per class) and whose one hidden layer reads a total
    at epoch 5 (and ``early[activation][seed]`` at epoch 1, where given)."""
    rows = []
    for activation, values in totals.items():
        for seed, value in enumerate(values):
            records = [{"epoch": 0, "layer": "input", "layer_index": 0, "class": c, "dim": d, "betti": b,
                        "n_points": 5000} for c, read in enumerate(inputs) for d, b in enumerate(read)]  # fmt: skip
            records.append({"epoch": 5, "layer": "act1", "layer_index": 1, "class": 0, "dim": 0, "betti": value,
                            "n_points": 5000})  # fmt: skip
            if early is not None:
                records.append({"epoch": 1, "layer": "act1", "layer_index": 1, "class": 0, "dim": 0,
                                "betti": early[activation][seed], "n_points": 5000})  # fmt: skip
            rows.append({"experiment": "betti", "dataset": dataset, "activation": activation, "seed": seed,
                         "betti": records})  # fmt: skip
    return pd.DataFrame(rows)


def test_betti_claim_on_whole_class_runs_says_what_the_input_read():
    totals = {"relu": [10] * 5, "topo_sine_mid": [5] * 5, "topo_sine_mid_relu": [12] * 5}
    topology = pd.concat([betti_runs(totals, "spheres", ((9, 0, 9), (18, 0, 18))),
                          betti_runs(totals, "rings", ((9, 9), (9, 10)))])  # fmt: skip
    table = report(None, None, topology=topology).set_index("claim")
    mid = table.loc["Betti numbers fall faster: topo_sine_mid on nine spheres"]
    assert mid.verdict == "holds" and "b0..b2" in mid.measured
    assert mid.reason == "lower Betti numbers than ReLU (whole interval below 1)"
    assert "the input reads the true topology in 20/20 class clouds (5,000 points)" in mid.measured
    assert table.loc["Betti numbers fall faster: topo_sine_mid_relu on nine spheres"].verdict == "contradicted"
    assert "true topology in 10/20" in table.loc["Betti numbers fall faster: topo_sine_mid on nine rings"].measured
    few = report(None, None, topology=topology[topology.seed < 4]).set_index("claim")
    assert few.loc["Betti numbers fall faster: topo_sine_mid on nine rings"].verdict == "inconclusive"


def test_report_names_every_claim_and_its_parts():
    """With no results, every claim of the paper is listed, each with its parts, and none is judged."""
    table = report(pd.DataFrame(), None)
    parts = table.groupby("family").part.agg(set).to_dict()
    assert parts["fewer epochs than ReLU"] == {"direction", "magnitude"}
    assert parts["Betti numbers fall faster"] == {"direction", "mechanism"}
    assert parts["Betti > 300 pruning"] == {"tolerance", "direction", "mechanism"}
    assert {"gain grows with batch size", "less learning-rate tuning", "no extra overfitting",
            "Betti numbers fall further in a CNN", "at-par trainability (CNN)"} <= set(parts)  # fmt: skip
    assert set(table.verdict) == {"not yet measured"}
    assert table.claim.is_unique and (table.setting != "").all()


def sparsity_runs(betti_accuracy: float, random_accuracy: float, seeds: int = 3,
                  global_accuracy: float | None = None) -> pd.DataFrame:  # fmt: skip
    """Sparsity results where, after fine-tuning, the relative criterion and random keep the given accuracies
    (and, with ``global_accuracy``, a global scope where the relative criterion keeps that much)."""
    runs = []
    for seed in range(seeds):
        rows = [
            {
                "criterion": c,
                "fraction": f,
                "finetune_epochs": 1,
                "accuracy": acc + 0.001 * seed,
                "latency_ms_b256": 5.0 * (1 - f / 2),
            }
            for c, acc in (("relative", betti_accuracy), ("random", random_accuracy))
            for f in (0.5, 1.0)
        ]
        rows += [{**r, "finetune_epochs": 0} for r in rows]
        rows = [{**r, "scope": "layer"} for r in rows]
        if global_accuracy is not None:
            rows += [{**r, "scope": "global", "accuracy": global_accuracy + 0.001 * seed}
                     for r in rows if r["criterion"] == "relative"]  # fmt: skip
            rows += [{**r, "scope": "global"} for r in rows if r["criterion"] == "random" and r["scope"] == "layer"]
        rows += [{"criterion": "literal", "scope": "layer", "fraction": 0.5, "finetune_epochs": 0, "accuracy": 0.5,
                  "latency_ms_b256": 2.5 + 0.1 * seed}]  # fmt: skip
        runs.append({"experiment": "sparsity", "activation": "relu", "seed": seed, "rows": rows,
                     "unpruned": {"accuracy": 0.9, "latency_ms_b256": 5.0}})  # fmt: skip
    return pd.DataFrame(runs)


def test_criterion_and_speed_claims_from_sparsity_results():
    table = report(None, None, None, sparsity_runs(0.8, 0.6)).set_index("claim")
    assert table.loc["relative Betti criterion keeps more accuracy than random pruning"].verdict == "holds"
    worse = report(None, None, None, sparsity_runs(0.5, 0.7)).set_index("claim")
    assert worse.loc["relative Betti criterion keeps more accuracy than random pruning"].verdict == "contradicted"
    few = report(None, None, None, sparsity_runs(0.8, 0.6, seeds=2)).set_index("claim")
    assert few.loc["relative Betti criterion keeps more accuracy than random pruning"].verdict == "inconclusive"
    assert few.loc["relative Betti criterion keeps more accuracy than l1 pruning"].verdict == "not yet measured"
    scoped = report(None, None, None, sparsity_runs(0.8, 0.6, global_accuracy=0.5)).set_index("claim")
    assert scoped.loc["relative Betti criterion keeps more accuracy than random pruning"].verdict == "holds"
    assert scoped.loc["relative Betti criterion keeps more accuracy than random pruning, global"].verdict == (
        "contradicted"
    )
    rows = table.loc[["relative Betti criterion keeps more accuracy than random pruning",
                      "relative Betti criterion keeps more accuracy than l1 pruning",
                      "correlation Betti criterion keeps more accuracy than l1 pruning"],
                     ["verdict", "reason", "paper", "section", "family", "setting"]].values.tolist()  # fmt: skip
    paper = "(extension) Betti-chosen filters matter less than others"
    assert rows == [  # a criterion without runs, or without its baseline, is not yet measured (later ones too)
        ["holds", "relative keeps more accuracy than random (whole interval below 1)", paper, "04_pruning",
         "shape criteria beat random pruning", "relative, per layer"],
        ["not yet measured", "no runs", paper, "04_pruning", "shape criteria beat l1 pruning", "relative, per layer"],
        ["not yet measured", "no runs", paper, "04_pruning", "shape criteria beat l1 pruning",
         "correlation, per layer"],
    ]  # fmt: skip
    assert worse.loc["relative Betti criterion keeps more accuracy than random pruning"].reason == (
        "relative keeps less accuracy than random (whole interval above 1)")


def pruning_runs(latency_betti: list[float], latency_random: list[float], drop: float = 0.005, bytes_betti: int = 400,
                 bytes_random: int = 400) -> pd.DataFrame:  # fmt: skip
    """Pruning results of three training seeds: unpruned, the Betti > 300 rule and random removal of as many."""
    rows = []
    for seed, (betti, random) in enumerate(zip(latency_betti, latency_random, strict=True)):
        base = {"seed": seed, "random_seed": None, "params": 100, "removed": {}}
        rows.append({**base, "rule": "none", "criterion": "unpruned", "finetune_epochs": 0, "accuracy": 0.9,
                     "bytes": 1000, "latency_ms_b256": 10.0 + seed})  # fmt: skip
        for epochs in (0, 1):
            rows.append({**base, "rule": "threshold=300", "criterion": "betti", "finetune_epochs": epochs,
                         "accuracy": 0.9 - drop - 0.001 * seed, "bytes": bytes_betti,
                         "latency_ms_b256": betti})  # fmt: skip
            rows += [{**base, "rule": "threshold=300", "criterion": "random", "random_seed": r,
                      "finetune_epochs": epochs, "accuracy": 0.85, "bytes": bytes_random,
                      "latency_ms_b256": random + 0.01 * r} for r in range(3)]  # fmt: skip
    return pd.DataFrame(rows)


def test_pruning_rule_models_against_random_removal():
    table = report(None, pruning_runs([5.0, 5.5, 6.1], [5.1, 5.4, 6.2])).set_index("claim")
    assert table.loc["Betti > 300 pruning: keeps accuracy"].verdict == "holds"
    assert table.loc["Betti > 300 pruning: smaller"].verdict == "holds"
    same = table.loc["Betti > 300 pruning: smaller beyond removing filters"]
    assert same.verdict == "contradicted" and same.reason.startswith("follows from removing filters")
    assert table.loc["Betti > 300 pruning: faster"].verdict == "holds"
    beyond = table.loc["Betti > 300 pruning: faster beyond removing filters"]
    assert beyond.verdict == "inconclusive" and beyond.reason.startswith("follows from removing filters")
    quicker = report(None, pruning_runs([3.0, 3.2, 3.1], [5.1, 5.4, 6.2])).set_index("claim")
    assert quicker.loc["Betti > 300 pruning: faster beyond removing filters"].verdict == "holds"
    lossy = report(None, pruning_runs([5.0, 5.5, 6.1], [5.1, 5.4, 6.2], drop=0.1)).set_index("claim")
    assert lossy.loc["Betti > 300 pruning: keeps accuracy"].verdict == "contradicted"
    two = pruning_runs([5.0, 5.5, 6.1], [5.1, 5.4, 6.2])
    two = two[~((two.seed == 2) & (two.criterion == "betti"))]  # seed 2 unpruned only: two pruned models
    for name in ("keeps accuracy", "smaller", "faster", "faster beyond removing filters"):
        kept = report(None, two).set_index("claim").loc[f"Betti > 300 pruning: {name}"]
        assert (kept.verdict, kept.reason) == ("inconclusive", "2 independent units, fewer than the 3 this claim needs")
    old = report(None, pruning_runs([5.0, 5.5, 6.1], [5.1, 5.4, 6.2]).drop(columns="latency_ms_b256"))
    assert old.set_index("claim").loc["Betti > 300 pruning: faster"].verdict == "not yet measured"


def sweep(experiment: str, by: str, values: dict, budgets: dict) -> pd.DataFrame:
    """Sweep runs: ``values[value][layout]`` lists each seed's epoch to target (None: censored)."""
    rows = []
    for value, layouts in values.items():
        for layout, ats in layouts.items():
            for seed, at in enumerate(ats):
                rows.append({"experiment": experiment, "dataset": "rings", by: value, "activation": layout,
                             "seed": seed, "curve": curve(at, budgets[value]), "max_epochs": budgets[value],
                             "target": 0.99})  # fmt: skip
    return pd.DataFrame(rows)


def test_batch_trend_over_every_batch_size():
    relu = {b: [30 + s for s in range(10)] for b in (32, 64, 128, 256)}
    falling = {b: {"relu": relu[b], "topo_sine_mid": [int((30 + s) * 0.9 ** i) for s in range(10)]}
               for i, b in enumerate(relu)}  # fmt: skip
    row = verdicts.batch_claim(sweep("batch_size", "batch_size", falling, dict.fromkeys(relu, 100)))[0]
    assert row.verdict == "holds" and row.estimate == pytest.approx(0.9, abs=0.02)  # per doubling
    rising = {b: {"relu": relu[b], "topo_sine_mid": [int((20 + s) * 1.1 ** i) for s in range(10)]}
              for i, b in enumerate(relu)}  # fmt: skip
    assert verdicts.batch_claim(sweep("batch_size", "batch_size", rising, dict.fromkeys(relu, 100)))[0].verdict == (
        "contradicted")  # fmt: skip
    unequal = verdicts.batch_claim(sweep("batch_size", "batch_size", falling, {32: 40, 64: 100, 128: 100, 256: 100}))
    assert (unequal[0].verdict, unequal[0].reason) == ("inconclusive", "the batch sizes had different budgets (40, "
                                                       "100, 100, 100 epochs), so each ratio is truncated differently "
                                                       "and the trend mixes batch size with budget; it needs one "
                                                       "equal budget")  # fmt: skip
    assert row.reason == "the ratio falls as the batch grows (whole interval below 1)"
    assert row.claim == "the gain of topo_sine_mid over ReLU grows with the batch size"
    up = verdicts.batch_claim(sweep("batch_size", "batch_size", rising, dict.fromkeys(relu, 100)), setting="long")[0]
    assert up.reason == "the ratio rises as the batch grows (whole interval above 1)" and up.claim.endswith(" (long)")
    two = {b: falling[b] for b in (32, 64)}  # two batch sizes are enough for a trend
    assert verdicts.batch_claim(sweep("batch_size", "batch_size", two, dict.fromkeys(two, 100)))[0].verdict == "holds"
    one = verdicts.batch_claim(sweep("batch_size", "batch_size", {32: falling[32]}, {32: 100}))[0]
    assert (one.verdict, one.paper, one.section) == ("not yet measured", "ratio to ReLU falls as the batch grows",
                                                     "03_mlp: Claim 3")  # fmt: skip


def test_learning_rate_spread_and_best_rate():
    steady = [20 + s for s in range(10)]
    values = {1e-3: {"relu": [3 * t for t in steady], "topo_sine_mid": steady},
              3e-3: {"relu": steady, "topo_sine_mid": [t - 5 for t in steady]}}  # fmt: skip
    less, best = verdicts.lr_claims(sweep("learning_rate", "lr", values, {1e-3: 100, 3e-3: 100}))
    assert less.verdict == "holds" and best.verdict == "holds"
    assert "topo_sine_mid at 0.003 over ReLU at 0.003" in best.measured
    values[1e-2] = {"relu": [None] * 5 + steady[:5], "topo_sine_mid": steady}
    guarded = verdicts.lr_claims(sweep("learning_rate", "lr", values, {1e-3: 100, 3e-3: 100, 1e-2: 100}))
    assert all(v.verdict == "inconclusive" and "learning rate 0.01 (relu) has 50%" in v.reason for v in guarded)


def test_learning_rate_claims_reasons_guards_and_unmeasured_rows():
    steady = [20 + s for s in range(10)]
    values = {1e-3: {"relu": [3 * t for t in steady], "topo_sine_mid": steady},
              3e-3: {"relu": steady, "topo_sine_mid": [t - 5 for t in steady]}}  # fmt: skip
    budgets = {1e-3: 100, 3e-3: 100}
    rows = verdicts.lr_claims(sweep("learning_rate", "lr", values, budgets))
    assert [(v.verdict, v.reason, v.part, v.family, v.setting) for v in rows] == [
        ("holds", "topo_sine_mid's epochs vary less over learning rates than ReLU's (whole interval below 1)",
         "direction", "less learning-rate tuning", "topo_sine_mid"),
        ("holds", "faster than ReLU, each at its best rate (whole interval below 1)", "direction",
         "less learning-rate tuning", "topo_sine_mid, best")]  # fmt: skip
    turned = {lr: {"relu": arms["topo_sine_mid"], "topo_sine_mid": arms["relu"]} for lr, arms in values.items()}
    assert [v.reason for v in verdicts.lr_claims(sweep("learning_rate", "lr", turned, budgets))] == [
        "topo_sine_mid's epochs vary more over learning rates than ReLU's (whole interval above 1)",
        "slower than ReLU, each at its best rate (whole interval above 1)"]  # fmt: skip
    up, down = ([round(t * 1.1) if s % 2 == odd else t for s, t in enumerate(steady)] for odd in (0, 1))
    even = {1e-3: {"relu": steady, "topo_sine_mid": steady}, 3e-3: {"relu": up, "topo_sine_mid": down}}
    assert [v.reason for v in verdicts.lr_claims(sweep("learning_rate", "lr", even, budgets))] == [
        "no clear difference in sensitivity (interval contains 1)",
        "not clearly faster at the best rates (interval contains 1)"]  # fmt: skip
    few = verdicts.lr_claims(sweep("learning_rate", "lr", {lr: {a: t[:5] for a, t in arms.items()}
                                                           for lr, arms in values.items()}, budgets))  # fmt: skip
    assert [v.reason for v in few] == ["5 independent units, fewer than the 10 this claim needs"] * 2
    quarter = {lr: {a: t + t[:2] for a, t in arms.items()} for lr, arms in values.items()}  # 12 seeds
    quarter[1e-2] = {"relu": [None] * 3 + steady[:9], "topo_sine_mid": steady + steady[:2]}  # 25%: not more
    budgets[1e-2] = 100
    assert [v.verdict for v in verdicts.lr_claims(sweep("learning_rate", "lr", quarter, budgets))] == ["holds"] * 2
    one_rate = sweep("learning_rate", "lr", {1e-3: values[1e-3]}, budgets)
    for frame, setting in ((None, ""), (one_rate, "long")):
        rows = verdicts.lr_claims(frame, setting=setting)
        suffix = f" ({setting})" if setting else ""
        assert [(v.claim, v.paper, v.verdict, v.section, v.part, v.setting) for v in rows] == [
            (f"topo_sine_mid needs less learning-rate tuning than ReLU{suffix}", "less sensitive to the learning rate",
             "not yet measured", "03_mlp: Claim 4", "direction", setting or "topo_sine_mid"),
            (f"topo_sine_mid at its best learning rate is faster than ReLU at its best{suffix}",
             "(implied) tuned for each, the sine is faster", "not yet measured", "03_mlp: Claim 4", "direction",
             setting or "topo_sine_mid")]  # fmt: skip


def test_committed_report_matches_its_snapshot():
    """Every field of every row of the report of the committed results, against data/results/report.csv.

    A change to a verdict, reason, label or number shows here first.  If it is meant, regenerate with
    ``python -m toposcope.claims.verdicts --csv data/results/report.csv`` and read the diff.
    """
    computed = verdicts.report_csv(report(**verdicts.load_results(ROOT)))
    committed = (ROOT / "data" / "results" / "report.csv").read_text()
    assert computed.splitlines() == committed.splitlines()


# -- edges the mutation run found untested (benchmarks/mutation.py) ---------------------------------------


def test_death_table_counts_rates_and_exact_intervals():
    from scipy import stats

    frame = convergence({"relu": [20, 22] * 3 + [None] * 4, "topo_sine_mid": [21, 22] * 5})
    deaths = convergence_module.death_table(frame, "rings", layouts=("relu", "topo_sine", "topo_sine_mid"))
    assert list(deaths.index) == ["relu", "topo_sine_mid"]  # an absent layout is skipped, not the end
    assert list(deaths.columns) == ["runs", "dead", "rate", "low", "high"]
    assert deaths.loc["relu", ["runs", "dead", "rate"]].tolist() == [10, 4, 0.4]
    ci = stats.binomtest(4, 10).proportion_ci(method="exact")
    assert deaths.loc["relu", ["low", "high"]].tolist() == pytest.approx([ci.low, ci.high])
    assert convergence_module.death_table(frame, "spheres").empty


def test_horizon_curve_default_grid():
    import numpy as np

    frame = convergence({"relu": [20, 22] * 3 + [None] * 4, "topo_sine_mid": [21, 22] * 5})
    curve = convergence_module.horizon_curve(frame, "rings", "topo_sine_mid")
    assert curve.horizon.tolist() == np.unique(np.linspace(10, 60, 50).round()).tolist()
    assert list(curve.columns) == ["horizon", "ratio", "low", "high"]
    assert (curve.low <= curve.ratio).all() and (curve.ratio <= curve.high).all()


def test_speed_rows_at_the_censoring_bound_and_their_reasons():
    relu = [30, 31, 29] * 5 + [None] * 5  # 5 of 20 never reach the target: 25%, the bound itself
    at_bound = verdict_of(convergence({"relu": relu, "topo_sine_mid": [10, 11] * 10}))
    assert at_bound.verdict == "holds" and at_bound.part == "direction"  # only more than 25% is guarded
    slower = verdict_of(convergence({"relu": [30, 31] * 5, "topo_sine_mid": [40, 41] * 5}))
    assert slower.reason.startswith("slower than relu")


def test_dying_rows_both_ways_and_the_learners_guard():
    table = report(convergence({"relu": [20, 21] * 5, "topo_sine_mid": [None] * 8 + [20, 21]}), None)
    rows = table.set_index("claim")
    base = "topo_sine_mid needs fewer epochs than relu on nine rings"
    dying = rows.loc["topo_sine_mid dies less often than relu on nine rings"]
    assert dying.verdict == "contradicted" and dying.reason == "topo_sine_mid dies more often than relu"
    learners = rows.loc[f"{base}: among runs that learn"]
    assert learners.part == rows.loc[f"{base}: paired where both learn"].part == "direction"
    assert learners.reason.startswith("2 independent units, fewer than the 10")  # two sine learners
    none = report(convergence({"relu": [20, 21] * 5, "topo_sine_mid": [None] * 10}), None).set_index("claim")
    assert none.loc[f"{base}: among runs that learn"].reason == (
        "no topo_sine_mid run learned, so there is no speed to compare")
    none = report(convergence({"relu": [None] * 10, "topo_sine_mid": [20, 21] * 5}), None).set_index("claim")
    assert none.loc[f"{base}: among runs that learn"].reason.startswith("no relu run learned")
    fast = report(convergence({"relu": [30, 31] * 5 + [None] * 4, "topo_sine_mid": [10, 11] * 7}), None)
    learners = fast.set_index("claim").loc[f"{base}: among runs that learn"]
    assert learners.verdict == "holds" and learners.reason.startswith("faster than relu among runs that learn")


def test_geometry_table_cells_are_each_layouts_own():
    relu = [30, 31, 29, 30, 32, 30, 31, 29, 30, 30]
    clean = convergence({"relu": relu, "topo_sine_mid": [25, 26] * 5, "topo_sine": [15, 16] * 5})
    side = convergence_claims_table(clean, None)
    assert side.columns.names == ["data", "geometry"] and side.index.name == "layout"
    assert side.loc["topo_sine_mid", ("nine rings", "clean")].endswith("faster holds, 1.5x contradicted")
    assert side.loc["topo_sine", ("nine rings", "clean")].endswith("faster holds, 1.5x holds")


def test_sweep_cells_keep_each_seed_on_its_row():
    from toposcope.claims.sweeps import sweep_cells

    runs = sweep("batch_size", "batch_size", {32: {"relu": [30, 40, 50], "topo_sine_mid": [10, 20, 30]}}, {32: 100})
    runs["seed"] += 10  # seeds 10, 11, 12
    table, censored, budgets = sweep_cells(runs, "batch_size", ["relu", "topo_sine_mid"])
    assert table.index.tolist() == [10, 11, 12] and table[("32", "relu")].tolist() == [30, 40, 50]
    assert censored.to_dict() == {("32", "relu"): 0.0, ("32", "topo_sine_mid"): 0.0} and budgets == {"32": 100.0}


def test_a_ratio_on_the_edge_of_its_interval_does_not_move_with_the_sample():
    from toposcope.claims.reading_claims import _moves_with_sample

    one, two = pd.Series([1.0]), pd.Series([2.0])
    for low, high in ((2.0, 3.0), (1.0, 2.0)):  # the ratio 2.0 at either end: inside
        assert _moves_with_sample(two, one, 250, low, high, 1000) == ("; at 250 images a class the ratio is 2.00",
                                                                      None)  # fmt: skip
    assert _moves_with_sample(two, one, 250, 2.1, 3.0, 1000)[1] == (
        "not measurable here: the ratio moves with the sample (2.00 at 250 images a class, outside the 95% interval "
        "at 1000), so it reads the sample, not the layer")



def fashion_runs(extra: list[float], width: str = "narrow", relu_seeds: int = 5) -> pd.DataFrame:
    """Fashion-MNIST MLP runs: ReLU's train-test gap 0.02 on each seed, the sine's 0.02 + ``extra[seed]``."""
    rows = [{"experiment": "fashion", "dataset": "fashion_mnist", "width": width, "activation": "relu", "seed": s,
             "final_train_acc": 0.92, "final_test_acc": 0.90} for s in range(relu_seeds)]  # fmt: skip
    rows += [{"experiment": "fashion", "dataset": "fashion_mnist", "width": width, "activation": "topo_sine_mid",
              "seed": s, "final_train_acc": 0.92 + e, "final_test_acc": 0.90} for s, e in enumerate(extra)]  # fmt: skip
    return pd.DataFrame(rows)


def test_overfitting_claim_per_width_with_its_reasons():
    from toposcope.claims.image_claims import overfitting_claims

    empty = overfitting_claims(None)
    assert [v.claim for v in empty] == ["no extra overfitting: topo_sine_mid, narrow MLP",
                                        "no extra overfitting: topo_sine_mid, wide MLP"]  # fmt: skip
    assert {v.verdict for v in empty} == {"not yet measured"}
    level = overfitting_claims(fashion_runs([-0.002, 0.002, 0.001, -0.001, 0.0]))[0]
    assert (level.verdict, level.reason) == ("holds", "the extra gap stays within 0.02 (whole interval); tolerance "
                                                      "set after the data")  # fmt: skip
    above = overfitting_claims(fashion_runs([0.005, 0.006, 0.004, 0.005, 0.006], width="wide"))[0]
    assert above.claim.endswith("wide MLP") and above.verdict == "holds"
    assert above.reason.endswith("tolerance set after the data, and the extra gap is above 0 (whole interval): "
                                 "some extra overfitting, within the tolerance")  # fmt: skip
    few = overfitting_claims(fashion_runs([0.0] * 4))[0]  # ReLU has a fifth seed the sine lacks: 4 pairs
    assert (few.verdict, few.reason) == ("inconclusive", "4 independent units, fewer than the 5 this claim needs")


def test_an_arm_of_one_run_or_none():
    base = "topo_sine_mid needs fewer epochs than relu on nine rings: direction"
    alone = report(convergence({"topo_sine_mid": [20] * 10}), None).set_index("claim").loc[base]
    assert (alone.verdict, alone.reason) == ("not yet measured", "no runs")  # no ReLU run to compare with
    one = report(convergence({"relu": [20], "topo_sine_mid": [20]}), None).set_index("claim").loc[base]
    assert (one.verdict, one.reason.split(";")[0]) == ("inconclusive", "1 independent units, fewer than the 10 this "
                                                                        "claim needs")  # fmt: skip


def test_pruning_rule_sizes_speed_and_unmeasured_rows():
    from toposcope.claims.image_claims import pruning_claims

    def rows(frame):
        return {v.claim.removeprefix("Betti > 300 pruning: "): v for v in pruning_claims(frame)}

    none = rows(None)
    assert [(v.verdict, v.paper, v.section, v.part) for v in none.values()] == [
        ("not yet measured", "no significant accuracy loss (drop <= 1% after fine-tuning)", "04_pruning", "tolerance"),
        ("not yet measured", "a smaller model", "04_pruning", "direction"),
        ("not yet measured", "(implied) the filters Betti picks make it smaller", "04_pruning", "mechanism"),
        ("not yet measured", "faster prediction", "04_pruning", "direction"),
        ("not yet measured", "(implied) the filters Betti picks make it faster", "04_pruning", "mechanism")]
    unpruned_size = rows(pruning_runs([5.0, 5.5, 6.1], [5.1, 5.4, 6.2], bytes_betti=1000))
    assert (unpruned_size["smaller"].verdict, unpruned_size["smaller"].reason) == (
        "contradicted", "a pruned model is not smaller than its unpruned model")
    smaller = rows(pruning_runs([5.0, 5.5, 6.1], [5.1, 5.4, 6.2], bytes_random=500))
    assert (smaller["smaller"].verdict, smaller["smaller"].reason) == (
        "holds", "every pruned model is smaller than its unpruned model")
    beyond = smaller["smaller beyond removing filters"]
    assert (beyond.verdict, beyond.reason) == ("holds", "sizes differ from random removal of as many filters")
    bigger = rows(pruning_runs([5.0, 5.5, 6.1], [5.1, 5.4, 6.2], bytes_random=300))["smaller beyond removing filters"]
    assert bigger.verdict == "inconclusive"
    assert smaller["faster"].reason == "faster than the unpruned model (whole interval below 1)"
    quicker = rows(pruning_runs([3.0, 3.2, 3.1], [5.1, 5.4, 6.2]))["faster beyond removing filters"]
    assert quicker.reason == "faster than random removal of as many filters (whole interval below 1)"
    slow = rows(pruning_runs([15.0, 16.5, 17.1], [5.1, 5.4, 6.2]))
    assert slow["faster"].reason == "slower than the unpruned model (whole interval above 1)"
    assert slow["faster beyond removing filters"].reason == ("slower than random removal of as many filters (whole "
                                                             "interval above 1)")  # fmt: skip
    mixed = rows(pruning_runs([8.0, 13.5, 11.0], [5.1, 5.4, 6.2]))["faster"]
    assert mixed.reason == "no clear speed-up over the unpruned model (interval contains 1)"
    old = rows(pruning_runs([5.0, 5.5, 6.1], [5.1, 5.4, 6.2]).drop(columns="latency_ms_b256"))
    assert [(v.verdict, v.paper, v.section, v.part) for v in list(old.values())[3:]] == [
        ("not yet measured", "faster prediction", "04_pruning", "direction"),
        ("not yet measured", "(implied) the filters Betti picks make it faster", "04_pruning", "mechanism")]


def test_betti_claim_averages_every_checkpoint_after_the_first_and_pairs_seeds():
    """Level at epoch 5, the sine lower at epoch 1: the mean over epochs 1 and 5 reads it; ReLU's sixth seed has no
    sine run to pair with."""
    totals = {"relu": [10] * 6, "topo_sine_mid": [10] * 5}
    early = {"relu": [10] * 6, "topo_sine_mid": [2, 3, 2, 3, 2]}
    runs = betti_runs(totals, "rings", ((9, 9),), early=early)
    row = report(None, None, topology=runs).set_index("claim").loc["Betti numbers fall faster: topo_sine_mid on nine "
                                                                    "rings"]  # fmt: skip
    assert row.verdict == "holds" and ", 5 seeds;" in row.measured


def test_legacy_claims_read_every_legacy_activation_present():
    frame = convergence({"topo_sine_mid": [15, 16] * 5, "sigmoid": [30, 31] * 5})  # the last legacy only
    rows = convergence_module.legacy_claims(frame)
    assert {v.claim for v in rows} >= {"topo_sine_mid needs fewer epochs than sigmoid on nine rings: direction"}


def mechanism_runs(early: dict[str, list[int]], reach: dict[str, list], dataset="rings", epochs=60) -> pd.DataFrame:
    """Betti runs with training curves: a hidden-layer total of 50 at epoch 0, ``early`` at epoch 1 (the first
    checkpoint after 0) and 7 at epoch 5; each run reaches the target at ``reach`` (None: never)."""
    rows = []
    for activation, values in early.items():
        for seed, value in enumerate(values):
            records = [{"epoch": e, "layer": "act1", "layer_index": 1, "class": 0, "dim": 0, "betti": b,
                        "n_points": 500} for e, b in ((0, 50), (1, value), (5, 7))]  # fmt: skip
            rows.append({"experiment": "betti", "dataset": dataset, "activation": activation, "seed": seed,
                         "betti": records, "curve": curve(reach[activation][seed], epochs), "max_epochs": epochs,
                         "target": 0.99})  # fmt: skip
    return pd.DataFrame(rows)


def mechanism_rows(frame):
    from toposcope.claims.betti import mechanism_claims

    return {v.setting: v for v in mechanism_claims(frame)}


def test_mechanism_claim_reads_within_layouts_at_the_first_checkpoint():
    early = {"relu": [10, 11, 12, 13, 14, 15], "topo_sine_mid": [5, 6, 7, 8, 9, 10]}
    reach = {"relu": [20, 21, 22, 23, 24, 25], "topo_sine_mid": [10, 11, 12, 13, 14, 15]}
    rows = mechanism_rows(mechanism_runs(early, reach, dataset="spheres"))
    unmeasured, held = rows["mechanism, nine rings"], rows["mechanism, nine spheres"]  # rings first, and empty
    assert (unmeasured.verdict, unmeasured.paper, unmeasured.section) == (
        "not yet measured", "the reduction in Betti numbers directly translates to faster training convergence",
        "03_mlp: Claim 2")  # fmt: skip
    assert (held.verdict, held.reason) == ("holds", "runs with more early topology need more epochs")
    assert "total at epoch 1 and its epochs to 99% (12 runs, 2 layouts); between layouts' means +1.00 (2 points" \
        in held.measured  # fmt: skip
    turned = {a: list(reversed(r)) for a, r in reach.items()}
    against = mechanism_rows(mechanism_runs(early, turned))["mechanism, nine rings"]
    assert (against.verdict, against.reason) == (
        "contradicted", "runs with more early topology need fewer epochs (the opposite of the mechanism)")
    flat = mechanism_rows(mechanism_runs(early, {a: [20, 21] * 3 for a in reach}))["mechanism, nine rings"]
    assert flat.reason == "the early Betti total does not clearly predict the epochs to target (interval contains 0)"
    one = mechanism_rows(mechanism_runs({"relu": early["relu"] * 2}, {"relu": reach["relu"] * 2}))
    assert "(12 runs, 1 layouts); between layouts' means +nan (1 points" in one["mechanism, nine rings"].measured
    few = mechanism_rows(mechanism_runs({a: e[:4] for a, e in early.items()}, reach))["mechanism, nine rings"]
    assert few.reason == "8 independent units, fewer than the 10 this claim needs"


def test_mechanism_table_caps_at_the_budget_and_refuses_runs_censored_early():
    from toposcope.claims.betti import mechanism_table

    table = mechanism_table(mechanism_runs({"relu": [10, 11]}, {"relu": [20, None]}))
    assert table[["seed", "epoch", "early", "time", "reached"]].values.tolist() == [[0, 1, 10, 20.0, True],
                                                                                   [1, 1, 11, 60.0, False]]
    short = pd.concat([mechanism_runs({"relu": [10]}, {"relu": [20]}),
                       mechanism_runs({"topo_sine_mid": [10]}, {"topo_sine_mid": [None]}, epochs=30)])  # fmt: skip
    with pytest.raises(ValueError, match="censored before the budget 60"):
        mechanism_table(short)


def test_betti_claim_pairs_only_seeds_relu_has():
    runs = betti_runs({"relu": [10] * 5, "topo_sine_mid": [5] * 6}, "rings", ((9, 9),))
    row = report(None, None, topology=runs).set_index("claim").loc["Betti numbers fall faster: topo_sine_mid on nine "
                                                                    "rings"]  # fmt: skip
    assert row.verdict == "holds" and ", 5 seeds" in row.measured
