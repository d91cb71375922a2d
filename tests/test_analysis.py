"""The statistics and verdicts the chapters show, on small synthetic result sets."""

import numpy as np
import pandas as pd
import pytest

from toposcope.claims import analysis
from toposcope.experiments import ResultStore


def curve(reach_at, epochs=40, test=0.5):
    """Training accuracy 0.5 until the epoch it jumps to 1.0 (never, for None)."""
    train = [1.0 if reach_at is not None and e >= reach_at else 0.5 for e in range(1, epochs + 1)]
    return {"epoch": list(range(1, epochs + 1)), "loss": [0.1] * epochs, "train_acc": train,
            "test_acc": [test] * epochs}  # fmt: skip


def runs(reach: dict[str, list], dataset="rings", **extra) -> pd.DataFrame:
    rows = []
    for activation, epochs in reach.items():
        for seed, at in enumerate(epochs):
            rows.append({"dataset": dataset, "activation": activation, "seed": seed, "curve": curve(at),
                         "max_epochs": 40, "target": 0.99, **extra})  # fmt: skip
    return pd.DataFrame(rows)


def test_curves_are_tidy_and_bands_are_quartiles():
    frame = runs({"relu": [2, 4, 6]})
    points = analysis.curves(frame)
    assert list(points.columns) == ["dataset", "activation", "seed", "epoch", "loss", "train_acc", "test_acc"]
    assert len(points) == 3 * 40
    bands = analysis.curve_bands(frame)
    assert bands.loc[("relu", 3), 0.5] == 0.5 and bands.loc[("relu", 4), 0.5] == 1.0
    assert bands.loc[("relu", 5), 0.25] == 0.75  # seeds at 1.0, 1.0, 0.5
    with pytest.raises(ValueError, match="metric"):
        analysis.curve_bands(frame, "epoch")


def test_sweep_table_and_lr_spread():
    frame = pd.concat([
        runs({"relu": [20, 22], "topo_sine": [10, 11]}, lr=1e-3, batch_size=32),
        runs({"relu": [10, 11], "topo_sine": [5, 6]}, lr=3e-3, batch_size="full"),
    ], ignore_index=True)  # fmt: skip
    by_batch = analysis.sweep_table(frame, "batch_size")
    assert list(by_batch.index.get_level_values("batch_size").unique()) == ["32", "full"]
    by_lr = analysis.sweep_table(frame, "lr")
    spread = analysis.lr_spread(by_lr)
    assert spread.loc["relu", "worst / best learning rate"] == pytest.approx(21 / 10.5)  # restricted means
    assert by_lr.loc[(1e-3, "topo_sine"), "ratio"] == pytest.approx(10.5 / 21)


def test_rerun_agreement_compares_within_the_shorter_budget():
    short = runs({"relu": [5, None, None, 12]})
    longer = runs({"relu": [5, 30, None, 13]})  # seed 1 reached later than the short budget: agrees
    table = analysis.rerun_agreement(short, longer, budget=20)
    assert table.loc["relu", "pairs"] == 4 and table.loc["relu", "same"] == 3  # seed 3 differs


def test_betti_totals_sum_hidden_layers_only():
    betti = [
        {"epoch": 0, "layer": "input", "layer_index": 0, "class": 0, "dim": 0, "betti": 9},
        {"epoch": 0, "layer": "act1", "layer_index": 1, "class": 0, "dim": 0, "betti": 3},
        {"epoch": 0, "layer": "act1", "layer_index": 1, "class": 1, "dim": 1, "betti": 2},
        {"epoch": 5, "layer": "act1", "layer_index": 1, "class": 0, "dim": 0, "betti": 1},
    ]
    frame = pd.DataFrame([{"dataset": "rings", "activation": "relu", "seed": 0, "betti": betti}])
    totals = analysis.betti_totals(frame)
    assert totals.loc[("rings", 0), "relu"] == 5 and totals.loc[("rings", 5), "relu"] == 1
    per_layer = analysis.betti_layer_totals(betti)
    assert per_layer[per_layer.epoch == 0].betti.tolist() == [9, 5]
    two = pd.concat([frame, frame.assign(seed=1, betti=[[dict(r, betti=r["betti"] * 3) for r in betti]])])
    runs = analysis.betti_run_totals(two)
    assert runs[runs.epoch == 0].total.tolist() == [5, 15]
    assert analysis.betti_totals(two).loc[("rings", 0), "relu"] == 10  # the mean over seeds


def test_fashion_and_pruning_tables(tmp_path):
    store = ResultStore(tmp_path / "r.jsonl")
    store.add({"criterion": "unpruned", "rule": "none", "finetune_epochs": 0, "seed": 0},
              {"accuracy": 0.9, "spearman_betti_l1": {"conv0": 0.5, "conv1": 0.7}})  # fmt: skip
    store.add({"criterion": "unpruned", "rule": "none", "finetune_epochs": 0, "seed": 1},
              {"accuracy": 0.8, "spearman_betti_l1": {"conv0": 0.3, "conv1": 0.9}})  # fmt: skip
    for seed, acc in ((0, 0.5), (1, 0.7)):
        store.add({"criterion": "l1", "rule": "ratio=0.5", "finetune_epochs": 1, "seed": seed}, {"accuracy": acc})
    frame = analysis.runs(tmp_path / "r.jsonl")
    accuracy = analysis.pruning_accuracy(frame, "ratio=0.5", 1, ["l1", "betti"])
    assert accuracy.loc["l1", "mean"] == pytest.approx(0.6) and np.isnan(accuracy.loc["betti", "mean"])
    assert analysis.spearman_range(frame).loc["min", "conv0"] == 0.3
    assert analysis.pruning_summary(frame).loc[("ratio=0.5", 1, "l1"), "count"] == 2
    fashion = pd.DataFrame({"width": ["narrow"] * 2, "activation": ["relu"] * 2, "final_train_acc": [0.9, 0.8],
                            "final_test_acc": [0.85, 0.75]})  # fmt: skip
    table = analysis.fashion_table(fashion)
    assert table.loc[("narrow", "relu"), ("gap (train - test)", "")] == pytest.approx(0.05)


def test_score_correlations_per_layer():
    scores = pd.DataFrame({"layer": ["a"] * 4 + ["b"] * 4, "score": [1, 2, 3, 4, 1, 2, 3, 4],
                           "l1": [10, 20, 30, 40, 4, 3, 2, 1]})  # fmt: skip
    rho = analysis.score_correlations(scores, "l1")
    assert rho["a"] == pytest.approx(1.0) and rho["b"] == pytest.approx(-1.0)


def test_criterion_ranking():
    frame = pd.DataFrame({"criterion": ["unpruned", "betti", "l1", "random", "betti", "l1", "random"],
                          "rule": ["none"] + ["ratio=0.5"] * 6, "finetune_epochs": [0, 0, 0, 0, 1, 1, 1],
                          "accuracy": [0.9, 0.2, 0.8, 0.5, 0.85, 0.7, 0.6]})  # fmt: skip
    table = analysis.criterion_ranking(frame)
    assert table.loc[("ratio=0.5", 0), "best"] == "l1" and table.loc[("ratio=0.5", 0), "betti rank"] == 3
    assert table.loc[("ratio=0.5", 1), "best"] == "betti" and table.loc[("ratio=0.5", 1), "betti rank"] == 1


def test_sparsity_auc_is_the_mean_accuracy_over_the_fractions():
    rows = pd.DataFrame([
        {"activation": "relu", "seed": 0, "criterion": "unpruned", "fraction": 0.0, "finetune_epochs": 0,
         "accuracy": 0.9},
        {"activation": "relu", "seed": 0, "criterion": "a", "fraction": 0.5, "finetune_epochs": 0, "accuracy": 0.7},
        {"activation": "relu", "seed": 0, "criterion": "a", "fraction": 1.0, "finetune_epochs": 0, "accuracy": 0.5},
    ])  # fmt: skip
    both = pd.concat([rows.assign(scope="layer"), rows.assign(scope="global", accuracy=rows.accuracy - 0.1)])
    auc = analysis.sparsity_auc(both)
    assert np.isclose(auc.loc[("relu", "layer", 0, "a"), "mean"], (0.8 * 0.5 + 0.6 * 0.5) / 1.0)
    assert np.isclose(auc.loc[("relu", "global", 0, "a"), "mean"], (0.7 * 0.5 + 0.5 * 0.5) / 1.0)  # own start


def test_partial_correlation_removes_a_shared_cause():
    rng = np.random.default_rng(0)
    size = rng.normal(size=400)
    filters = pd.DataFrame({"layer": "conv0", "rms": size, "l1_norm": size + 0.1 * rng.normal(size=400),
                            "disguised": size + 0.3 * rng.normal(size=400), "shape": rng.normal(size=400)})  # fmt: skip
    table = analysis.partial_correlations(filters, ["disguised", "shape"])
    assert table.loc["disguised", "rho rms"] > 0.9 and abs(table.loc["shape", "rho rms"]) < 0.15
    assert abs(table.loc["disguised", "partial l1_norm | rms"]) < 0.3  # the norm explains it: nothing left


def test_finetune_summary_counts_the_models_stopped_at_the_cap():
    rows = pd.DataFrame({"scope": ["layer"] * 3 + ["global"], "criterion": ["a", "b", "unpruned", "a"],
                         "finetune_epochs": [6, 6, 0, 6], "epochs_run": [6, 5, 0, 6],
                         "epoch_kept": [6, 3, 0, 4]})  # fmt: skip
    table = analysis.finetune_summary(rows)
    assert table.loc["layer", "models"] == 2 and table.loc["layer", "still_improving"] == 0.5
    assert table.loc["global", "still_improving"] == 0.0 and table.loc["layer", "epochs_run"] == 5.5
    assert analysis.finetune_summary(rows.drop(columns=["epochs_run", "epoch_kept"])).empty  # one-epoch runs


def test_speed_claim_at_the_censoring_bound():
    """A quarter of an arm censored is still read (the bound is 'more than' MAX_CENSORED); one run more is not, and
    the guard then says which way the estimate alone points."""
    from toposcope.claims.convergence import convergence_claims
    from toposcope.claims.rules import MAX_CENSORED

    assert MAX_CENSORED == 0.25
    fast = [5, 6] * 6
    slow = [20, 22, 21, 23, 20, 22, 21, 23, 20]

    def speed(sine, relu):
        frame = runs({"relu": relu, "topo_sine_mid": sine}, experiment="convergence")
        claims = convergence_claims(frame, layouts=("topo_sine_mid",), datasets=("rings",))
        return {v.claim.rsplit(": ", 1)[-1]: v for v in claims}

    at_bound = speed(fast, slow + [None] * 3)  # 3 of 12 relu runs censored: 25%
    assert at_bound["direction"].verdict == "holds" and "censored relu 25% / topo_sine_mid 0%" in at_bound[
        "direction"].measured  # fmt: skip
    over = speed(fast, slow[:8] + [None] * 4)  # 4 of 12: 33%
    assert over["direction"].verdict == "inconclusive"
    assert over["direction"].reason.startswith("33% of relu's runs never reached the target (more than 25%); the "
                                               "estimate alone says faster (")  # fmt: skip
    slower = speed(slow[:8] + [None] * 4, fast)  # the sine arm censored, and slower
    assert "33% of topo_sine_mid's runs never reached" in slower["direction"].reason
    assert "the estimate alone says slower (" in slower["direction"].reason
