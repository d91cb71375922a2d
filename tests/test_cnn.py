"""The CNN experiment: layouts in the CNN's slots, Betti profiles of every layer, results, analysis and verdicts."""

import numpy as np
import pandas as pd
import pytest
import torch
from formats import write_cifar

from toposcope import LAYOUTS, BettiTracker, PaperCNN, TopoSine
from toposcope.claims import analysis
from toposcope.claims.verdicts import cnn_claims
from toposcope.experiments import cnn


def test_layout_for_slots_puts_the_middle_activation_where_asked():
    mods = LAYOUTS["topo_sine_mid_relu"].for_slots(["a", "b", "c"], ["b"])
    assert isinstance(mods["b"], TopoSine) and mods["b"].negative == "relu"
    assert isinstance(mods["a"], torch.nn.ReLU) and mods["a"] is not mods["c"]
    assert all(isinstance(m, torch.nn.ReLU) for m in LAYOUTS["relu"].for_slots(["a", "b"], ["b"]).values())
    with pytest.raises(ValueError, match="not among the slots"):
        LAYOUTS["relu"].for_slots(["a"], ["z"])


def test_build_cnn_same_seed_same_weights_across_layouts():
    relu = cnn.build_cnn("relu", 3, channels=(4, 4, 4), dense=8)
    sine = cnn.build_cnn("topo_sine_mid", 3, channels=(4, 4, 4), dense=8)
    assert [type(getattr(sine, s)).__name__ for s in cnn.SLOTS] == ["ReLU", "TopoSine", "TopoSine", "ReLU"]
    for a, b in zip(relu.state_dict().values(), sine.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_tracker_profiles_every_cnn_layer_per_class():
    torch.manual_seed(0)
    model = PaperCNN(channels=(4, 8, 8), dense=16, num_classes=3)
    X = torch.randn(90, 1, 28, 28)
    y = torch.arange(90) % 3
    frame = BettiTracker(model, list(cnn.TRACKED_LAYERS), samples_per_class=20, k=5).profile(X, y)
    assert set(frame.layer) == set(cnn.TRACKED_LAYERS) and set(frame["class"]) == {0, 1, 2}
    assert (frame.n_points == 20).all() and len(frame) == len(cnn.TRACKED_LAYERS) * 3 * 2
    assert (frame[frame.dim == 0].betti >= 1).all()


TINY = {"train_images": 16, "test_images": 6, "epochs": 1, "lr": 1e-3, "batch_size": 8, "seeds": [0],
        "layouts": ["relu", "topo_sine_mid"], "channels": (4, 4, 4), "dense": 8, "betti_epochs": [0, 1],
        "samples_per_class": 3, "ks": [2, 3]}  # fmt: skip


@pytest.mark.filterwarnings("ignore::UserWarning")  # three images per class: tiny clouds, warned about
def test_experiment_runs_on_cifar_format_files_and_resumes(tmp_path, monkeypatch, capsys):
    write_cifar(tmp_path / "cifar", per_batch=4)
    monkeypatch.setitem(cnn.PROFILES, "smoke", TINY)
    out = tmp_path / "cnn.jsonl"
    roots = {"cifar10": str(tmp_path / "cifar"), "cats_vs_dogs": str(tmp_path / "absent")}
    store = cnn.run("smoke", out, datasets=["cifar10", "cats_vs_dogs"], device="cpu", data_root=roots)
    assert "cats_vs_dogs: files absent, not run" in capsys.readouterr().out  # said, never silent
    frame = store.frame()
    assert len(frame) == 2 and set(frame.activation) == {"relu", "topo_sine_mid"}
    assert frame.iloc[0]["curve"]["epoch"] == [1]
    betti = analysis.cnn_betti(frame)
    assert set(betti.k) == {2, 3} and set(betti.epoch) == {0, 1} and set(betti.layer) == set(cnn.TRACKED_LAYERS)
    cnn.run("smoke", out, datasets=["cifar10"], device="cpu", data_root=roots, progress=False)
    assert out.read_text().count("\n") == 2  # resumed: nothing recomputed


def fake_runs(relu_total, sine_total, relu_acc, sine_acc, dataset="fashion_mnist", fill=0):
    """CNN results whose hidden layer act1 reads the given Betti totals (b0 of one class; every other layer
    reads ``fill``) and accuracies."""
    rows = []
    for seed, (rt, st, ra, sa) in enumerate(zip(relu_total, sine_total, relu_acc, sine_acc, strict=True)):
        for layout, total, acc in (("relu", rt, ra), ("topo_sine_mid", st, sa)):
            betti = [{"epoch": 2, "layer": layer, "layer_index": i, "class": 0, "dim": 0, "n_points": 50,
                      "k": 14, "betti": total if layer == "act1" else fill}
                     for i, layer in enumerate(cnn.TRACKED_LAYERS)]  # fmt: skip
            rows.append({"experiment": "cnn", "dataset": dataset, "activation": layout, "seed": seed,
                         "betti": betti, "final_train_acc": acc, "final_test_acc": acc})  # fmt: skip
    return pd.DataFrame(rows)


def verdicts_of(frame):
    table = pd.DataFrame([v.__dict__ for v in cnn_claims(frame)]).set_index("claim")
    return (table.loc["Betti numbers fall further in a CNN: topo_sine_mid on Fashion-MNIST"].verdict,
            table.loc["at-par or better trainability (CNN): topo_sine_mid on Fashion-MNIST"].verdict)  # fmt: skip


def test_cnn_verdicts_hold_contradict_and_guard():
    same = [0.90, 0.91, 0.89]
    assert verdicts_of(fake_runs([10, 12, 11], [5, 6, 5], same, same)) == ("holds", "holds")
    assert verdicts_of(fake_runs([5, 6, 5], [10, 12, 11], same, [0.80, 0.81, 0.79])) == ("contradicted",
                                                                                        "contradicted")
    # equal totals whose readings differ between layers: a ratio of 1, inconclusive
    assert verdicts_of(fake_runs([1, 1, 1], [1, 1, 1], same, same))[0] == "inconclusive"
    # every cloud of every layer and run reads the same: the reading cannot move, so not measurable here
    frozen = fake_runs([1, 1, 1], [1, 1, 1], same, same, fill=1)
    assert verdicts_of(frozen)[0] == "not measurable here"
    reasons = {v.claim: v.reason for v in cnn_claims(frozen)}
    reason = reasons["Betti numbers fall further in a CNN: topo_sine_mid on Fashion-MNIST"]
    assert reason.startswith("at k=14 every one of") and "(b0) = (1,)" in reason
    two = verdicts_of(fake_runs([10, 12], [5, 6], same[:2], same[:2]))
    assert two == ("inconclusive", "inconclusive")  # two seeds: fewer than the minimum of 3
    missing = {v.claim: v.verdict for v in cnn_claims(None)}
    assert set(missing.values()) == {"not yet measured"} and len(missing) == 6


def test_betti_bands_average_classes_then_spread_over_seeds():
    frame = fake_runs([10, 20, 30], [1, 1, 1], [0.9] * 3, [0.9] * 3)
    bands = analysis.cnn_betti_bands(analysis.cnn_betti(frame), k=14)
    row = bands[(bands.activation == "relu") & (bands.layer == "act1")].iloc[0]
    assert row["mean"] == 20 and row["min"] == 10 and row["max"] == 30 and row["seeds"] == 3
    assert np.isclose(row["std"], 10)


def test_trivial_share_counts_clouds_reading_one_piece_no_loop():
    frame = fake_runs([1, 1, 1], [1, 1, 1], [0.9] * 3, [0.9] * 3)
    share = analysis.cnn_trivial_share(analysis.cnn_betti(frame), k=14)
    # b0 is stored only: layers other than act1 read b0 = 0, act1 reads 1 with no b1 row (counted as 0)
    row = share.loc[("fashion_mnist", 2)]
    assert row["clouds"] == 2 * 3 * len(cnn.TRACKED_LAYERS) and row["share (1, 0)"] == 1 / len(cnn.TRACKED_LAYERS)
