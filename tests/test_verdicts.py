"""The verdict rules, on synthetic result sets, and README's findings against the committed results."""

import re
from pathlib import Path

import pandas as pd
import pytest

from toposcope.claims import verdicts
from toposcope.claims.rules import direction_rule, size_rule
from toposcope.claims.verdicts import report

ROOT = Path(__file__).resolve().parents[1]


def curve(reach_at, epochs=60):
    train = [1.0 if reach_at is not None and e >= reach_at else 0.5 for e in range(1, epochs + 1)]
    return {"epoch": list(range(1, epochs + 1)), "loss": [0.1] * epochs, "train_acc": train, "test_acc": train}


def convergence(reach: dict[str, list], dataset="rings") -> pd.DataFrame:
    rows = [{"experiment": "convergence", "dataset": dataset, "activation": a, "seed": s, "curve": curve(at),
             "max_epochs": 60, "target": 0.99} for a, ats in reach.items() for s, at in enumerate(ats)]  # fmt: skip
    return pd.DataFrame(rows)


def verdict_of(frame, layout="topo_sine_mid", dataset="rings"):
    table = report(frame, None)
    return table.set_index("claim").loc[f"faster convergence: {layout} on nine {dataset}"]


def test_rules():
    assert size_rule(0.4, 0.6, 2 / 3) == "holds"
    assert size_rule(0.7, 0.9, 2 / 3) == "contradicted"
    assert size_rule(0.5, 0.9, 2 / 3) == "inconclusive"
    assert direction_rule(0.5, 0.9) == "holds" and direction_rule(1.1, 2) == "contradicted"
    assert direction_rule(0.9, 1.1) == "inconclusive"
    assert size_rule(0.0, 0.005, 0.01) == "holds" and size_rule(0.02, 0.05, 0.01) == "contradicted"


def test_convergence_claim_holds_is_contradicted_or_inconclusive():
    relu = [30, 31, 29, 30, 32, 30, 31, 29, 30, 30]
    assert verdict_of(convergence({"relu": relu, "topo_sine_mid": [15] * 10})).verdict == "holds"
    assert verdict_of(convergence({"relu": relu, "topo_sine_mid": [28, 29] * 5})).verdict == "contradicted"
    slower = verdict_of(convergence({"relu": relu, "topo_sine_mid": [40] * 10}))
    assert slower.verdict == "contradicted" and "ratio 1.3" in slower.measured
    wide = verdict_of(convergence({"relu": relu, "topo_sine_mid": [5, 40] * 5}))
    assert wide.verdict == "inconclusive"


def test_guards_too_few_seeds_too_many_censored_no_data():
    few = verdict_of(convergence({"relu": [30] * 4, "topo_sine_mid": [10] * 4}))
    assert few.verdict == "inconclusive" and "4 paired seeds" in few.reason
    censored = verdict_of(convergence({"relu": [None] * 5 + [30] * 5, "topo_sine_mid": [10] * 10}))
    assert censored.verdict == "inconclusive" and "50%" in censored.reason
    all_censored = verdict_of(convergence({"relu": [None] * 10, "topo_sine_mid": [None] * 10}))
    assert all_censored.verdict == "inconclusive"
    nothing = report(pd.DataFrame(), None)
    assert set(nothing.verdict) == {"not yet measured"}
    assert verdict_of(convergence({"relu": [30] * 10}), dataset="rings").verdict == "not yet measured"


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
    naitzat = convergence({"relu": relu, "topo_sine_mid": [40] * 10}, dataset="rings_naitzat")
    naitzat["target"] = 0.95
    table = report(convergence({"relu": relu, "topo_sine_mid": [15] * 10}), None, naitzat=naitzat).set_index("claim")
    row = table.loc["faster convergence: topo_sine_mid on nine rings (Naitzat geometry)"]
    assert row.verdict == "contradicted" and "to 95%" in row.measured
    assert table.loc["faster convergence: topo_sine_mid on nine rings"].verdict == "holds"
    assert table.loc["faster convergence: topo_sine_mid on nine spheres (Naitzat geometry)"].verdict == (
        "not yet measured"
    )
    side = verdicts.geometry_table(convergence({"relu": relu, "topo_sine_mid": [15] * 10}), naitzat)
    assert side.loc["topo_sine_mid", ("nine rings", "clean")].endswith("holds")
    assert side.loc["topo_sine_mid", ("nine rings", "Naitzat")].startswith("1.3")
    assert side.loc["topo_sine", ("nine spheres", "Naitzat")] == "not yet measured"


def test_long_budget_claims_are_named_by_their_budget_and_count_stuck_runs():
    long = convergence({"relu": [30] * 8 + [None] * 2, "topo_sine_mid": [15] * 10, "topo_sine_mid_relu": [15] * 10},
                       dataset="spheres")  # fmt: skip
    table = report(None, None, long=long).set_index("claim")
    row = table.loc["faster convergence: topo_sine_mid on nine spheres (60-epoch budget)"]
    assert row.verdict == "holds" and "censored ReLU 20%" in row.measured
    assert "stuck (flat accuracy) among the censored: relu 2/2, topo_sine_mid 0/0" in row.measured
    assert "faster convergence: topo_sine on nine spheres (60-epoch budget)" not in table.index
    assert len(report(None, None)) == len(table) - 2  # no long-budget rows without long-budget runs
    both = report(None, None, long=long, longer=long.assign(max_epochs=500)).set_index("claim")
    assert both.loc["faster convergence: topo_sine_mid on nine spheres (500-epoch budget)"].verdict == "holds"
    assert len(both) == len(table) + 2


def betti_runs(totals: dict[str, list[float]], dataset: str, inputs: tuple[tuple[int, ...], ...]) -> pd.DataFrame:
    """Betti runs whose input layer reads ``inputs`` (one tuple per class) and whose one hidden layer reads a total."""
    rows = []
    for activation, values in totals.items():
        for seed, value in enumerate(values):
            records = [{"epoch": 0, "layer": "input", "layer_index": 0, "class": c, "dim": d, "betti": b,
                        "n_points": 5000} for c, read in enumerate(inputs) for d, b in enumerate(read)]  # fmt: skip
            records.append({"epoch": 5, "layer": "act1", "layer_index": 1, "class": 0, "dim": 0, "betti": value,
                            "n_points": 5000})  # fmt: skip
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
    assert "the input reads the true topology in 20/20 class clouds (5,000 points)" in mid.measured
    assert table.loc["Betti numbers fall faster: topo_sine_mid_relu on nine spheres"].verdict == "contradicted"
    assert "true topology in 10/20" in table.loc["Betti numbers fall faster: topo_sine_mid on nine rings"].measured
    few = report(None, None, topology=topology[topology.seed < 4]).set_index("claim")
    assert few.loc["Betti numbers fall faster: topo_sine_mid on nine rings"].verdict == "inconclusive"


@pytest.mark.parametrize("claim_count", [33])
def test_report_lists_every_claim(claim_count):
    assert len(report(pd.DataFrame(), None)) == claim_count


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
    assert table.loc["Betti pruning gives a faster model"].verdict == "holds"
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
    assert scoped.loc["Betti pruning gives a faster model"].verdict == "holds"  # read at the per-layer scope
