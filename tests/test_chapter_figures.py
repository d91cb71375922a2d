"""The chapters' figure and table calls draw what their data hold (checked against independent computations)."""

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch
from test_report_figures import assert_nothing_cut

import toposcope as ts
from toposcope import activation_figures, shapes, topology_figures
from toposcope.claims import analysis, cnn_figures, mlp_figures, pruning_figures
from toposcope.claims.pruning_tables import pruning_accuracy
from toposcope.datasets import formats

RESULTS = Path(__file__).resolve().parents[1] / "data" / "results"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def titles(fig) -> list[str]:
    return [ax.get_title() for ax in fig.axes]


# -- chapter 1 ---------------------------------------------------------------------------------------------


def test_rips_panels_read_the_complex_they_draw():
    X = shapes.circle(12, noise=0.08, seed=1)
    fig = topology_figures.plot_rips(X, [0.3, 1.1])
    small, ring = (ts.betti_numbers(X, method="rips", scale=s).betti for s in (0.3, 1.1))
    assert small[0] == 12 and ring == (1, 1)
    assert f"$b_0$={small[0]}" in titles(fig)[0] and "$b_0$=1, $b_1$=1" in titles(fig)[1]
    edges = sum(1 for i in range(12) for j in range(i + 1, 12) if np.linalg.norm(X[i] - X[j]) <= 1.1)
    assert len(fig.axes[1].lines) == edges  # one line per edge of the complex


def test_example_shapes_read_their_known_topology():
    table = topology_figures.betti_table(topology_figures.example_shapes())
    assert table.loc["circle", "Betti numbers"] == (1, 1)
    assert table.loc["two circles", "Betti numbers"] == (2, 2)
    assert table.loc["three clusters", "Betti numbers"][0] == 3
    assert table.loc["sphere", "Betti numbers"] == (1, 0, 1)
    assert table.loc["torus", "Betti numbers"] == (1, 2, 1)


def test_sampling_table_rows_and_the_evenly_sampled_sphere():
    table = topology_figures.sampling_table([300], ks=[14])
    assert list(table.index) == [("even", 300), ("random", 300)]
    assert table.loc[("even", 300), 14] == (1, 0, 1)


def test_knn_hops_draws_the_graph_and_titles_the_reading():
    X = np.r_[shapes.circle(40), shapes.circle(40, centre=(5, 0))]
    fig = topology_figures.plot_knn_hops(X, k=5, hops=2)
    graph = ts.knn_hop_matrix(X, k=5, max_hops=1)
    assert len(fig.axes[0].lines) == int(np.sum(graph.row < graph.col))
    b = ts.betti_numbers(X, k=5, scale=2).betti
    assert titles(fig)[0] == f"k = 5, 2 hop(s):  b0 = {b[0]}, b1 = {b[1]}" and b == (2, 2)


def test_persistence_panel_shows_the_cloud_diagram_and_barcode():
    X = shapes.circle(60, noise=0.05, seed=0)
    fig = topology_figures.plot_persistence(X, max_bars=10)
    assert len(fig.axes) == 3 and titles(fig)[0] == "60 points"
    assert np.allclose(fig.axes[0].collections[0].get_offsets(), X)


def test_b0_grid_shows_each_reading():
    readings = pd.DataFrame([{"label": label, "k": k, "noise": noise, "betti": (label + k + int(10 * noise), 0)}
                             for label in (0, 1) for k in (8, 14) for noise in (0.0, 0.7)])  # fmt: skip
    fig = topology_figures.plot_b0_grid(readings, title="rings")
    image = fig.axes[1].images[0].get_array()
    assert image.tolist() == [[9, 16], [15, 22]]  # class 1: k 8 / 14 rows, noise 0 / 0.7 columns
    assert titles(fig)[0] == "rings class 0: $b_0$ of all points"


# -- chapter 2 ---------------------------------------------------------------------------------------------


def test_construction_draws_the_activation_and_its_ramp():
    fig = activation_figures.plot_construction()
    x = activation_figures.window()
    third = fig.axes[2].lines
    assert np.allclose(third[0].get_ydata(), ts.topo_sine(x).numpy())
    assert np.allclose(third[1].get_ydata(), (x / (3 * math.pi / 4) * math.sin(3 * math.pi / 4)).numpy())
    fourth = fig.axes[3].lines[0].get_ydata()
    assert np.all(fourth[x.numpy() < 0] == 0)  # negative="relu"
    assert_nothing_cut(fig)


def test_literal_reading_of_eq1_jumps_and_ours_does_not():
    fig = activation_figures.plot_readings_of_eq1()
    ours, literal = (np.abs(np.diff(line.get_ydata())).max() for line in fig.axes[0].lines)
    assert ours < 0.01 < 0.5 < literal


def test_preimage_counts():
    levels = np.array([-2.0, 0.0, 0.5, 2.0])
    assert activation_figures.preimage_counts(torch.tanh, levels).tolist() == [0, 1, 1, 0]
    # the paper's sine: every level inside a period's many-to-one band is taken twice, and never fewer than once
    counts = activation_figures.preimage_counts(ts.topo_sine, np.linspace(0.8, 3.0, 50))
    assert counts.min() >= 1 and counts.max() >= 2
    fig = activation_figures.plot_preimages()
    assert len(fig.axes[0].lines) == len(activation_figures.CUTS)  # 4 cut-offs and the one-to-one reference


def test_family_draws_one_member_per_cut():
    fig = activation_figures.plot_family()
    lines = fig.axes[0].lines
    assert len(lines) == len(activation_figures.CUTS)
    x = activation_figures.window()
    for line, cut in zip(lines, activation_figures.CUTS.values(), strict=True):
        assert np.allclose(line.get_ydata(), ts.topo_sine(x, cut=cut).numpy())


def test_derivatives_are_the_autograd_slopes():
    fig = activation_figures.plot_derivatives()
    relu = fig.axes[1].lines[0]
    x = relu.get_xdata()
    assert np.array_equal(relu.get_ydata(), (x > 0).astype(float))
    assert len(fig.axes[0].lines) == len(activation_figures.DERIVATIVE_NAMES)


def test_ring_images_title_their_betti_numbers():
    fig = activation_figures.plot_ring_images(("identity", "relu"))
    assert titles(fig)[0] == "identity: b0 = 1, b1 = 1"
    fig = activation_figures.plot_cut(cut=2.0, negative="relu")
    assert "x < 0: relu" in titles(fig)[0] and titles(fig)[1].startswith("the ring through it: b0 = ")


def test_loop_loss_table_counts_every_layer_and_homeomorphisms_keep_most_loops():
    table = activation_figures.loop_loss_table(6)
    assert len(table) == 2 * len(activation_figures.LOOP_LOSS_NAMES)
    assert (table["random layers"] == 6).all()
    assert table["fraction losing the loop"].between(0, 1).all()
    identity_like = table.xs("leaky_relu", level="activation")["fraction losing the loop"]
    assert (identity_like <= 0.5).all()


def test_live_explorer_has_one_control_per_parameter():
    pytest.importorskip("ipywidgets")
    drawn = []

    def draw(k, hops):
        drawn.append((k, hops))
        return plt.figure()

    explorer = ts.live_explorer(draw, {"k": [3, 8], "hops": ["one", "two"]})
    kinds = [type(child).__name__ for child in explorer.children[:2]]
    assert kinds == ["SelectionSlider", "ToggleButtons"]
    explorer.children[0].value = 8
    assert drawn[-1] == (8, "one")
    with pytest.raises(ValueError, match="at least 2 values"):
        ts.live_explorer(draw, {"k": [3]})


# -- chapter 3 ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def full():
    return analysis.runs(RESULTS / "mlp_full.jsonl")


def test_training_curves_draw_each_layouts_median(full):
    conv = full[full.experiment == "convergence"]
    fig = mlp_figures.plot_training_curves(conv, "committed")
    datasets = list(dict.fromkeys(conv.dataset))
    assert len(fig.axes) == len(datasets) and fig._suptitle.get_text() == "committed"
    bands = analysis.curve_bands(conv[conv.dataset == datasets[0]])
    first = fig.axes[0].lines[0]
    assert first.get_label() == mlp_figures._layouts(conv)[0]
    assert np.allclose(first.get_ydata(), bands.loc[first.get_label()][0.5])


def test_time_tables_and_ratios_hold_every_target_and_metric(full):
    conv = full[full.experiment == "convergence"]
    tables = mlp_figures.time_tables(conv, [0.99, 0.95])
    assert len(tables) == conv.dataset.nunique() * 2 * 2
    ratios = mlp_figures.target_ratios(tables)
    key = next(iter(tables))
    table = tables[key]
    row = table.index[1]
    expected = f"{table.loc[row, 'ratio']:.2f} [{table.loc[row, 'low']:.2f}-{table.loc[row, 'high']:.2f}]"
    assert ratios.loc[row, (key[0], f"{key[1]} {key[2]:.0%}")] == expected


def test_betti_totals_thick_line_is_the_mean_over_seeds():
    topology = analysis.runs(RESULTS / "mlp_topology.jsonl")
    runs = topology[topology.experiment == "betti"]
    fig = mlp_figures.plot_betti_totals(runs)
    totals = analysis.betti_run_totals(runs)
    dataset = next(iter(dict.fromkeys(totals.dataset)))
    thick = [line for line in fig.axes[0].lines if line.get_linewidth() == 2.2]
    part = totals[totals.dataset == dataset]
    assert [line.get_label() for line in thick] == list(dict.fromkeys(part.activation))
    mean = part[part.activation == thick[0].get_label()].groupby("epoch").total.mean()
    assert np.allclose(thick[0].get_ydata(), mean)


def test_null_totals_sum_the_hidden_layers():
    runs = analysis.runs(RESULTS / "mlp_topology_null.jsonl")
    runs = runs[runs.experiment == "betti"]
    table = mlp_figures.null_totals(runs)
    first = runs.iloc[0]
    frame = pd.DataFrame(first.betti)
    hidden = frame[~frame.layer.isin(["input", "logits"]) & (frame.epoch == frame.epoch.max())]
    assert table.loc[(first.activation, first.seed), "hidden-layer total"] == hidden.betti.sum()
    assert table.loc[(first.activation, first.seed), "its Gaussian nulls"] == hidden.null_betti.sum()


def test_chapter_runs_prefers_committed_results(tmp_path, monkeypatch):
    from toposcope.experiments import ResultStore, mlp

    def fake_run(profile, out, progress=False):
        store = ResultStore(out)
        store.add({"experiment": "convergence", "seed": 0}, {"final_train_acc": 0.5})
        return store

    monkeypatch.setattr(mlp, "run", fake_run)
    absent = tmp_path / "absent.jsonl"
    recomputed, main, label, profile = mlp.chapter_runs("smoke", absent)
    assert main is recomputed and label == "smoke profile (computed on this page)" and profile == "smoke"
    committed = RESULTS / "mlp_full.jsonl"
    recomputed, main, label, profile = mlp.chapter_runs("smoke", committed)
    assert len(main) == len(analysis.runs(committed)) and profile == "full" and "committed" in label
    resumed = tmp_path / "resumed.jsonl"  # the full profile resumes into the committed file: its runs are the main
    recomputed, main, label, profile = mlp.chapter_runs("full", resumed)
    assert main is recomputed and len(main) == 1 and profile == "full" and "committed" in label


# -- chapter 4 ---------------------------------------------------------------------------------------------


def test_pruning_bars_are_the_mean_accuracies():
    runs = analysis.runs(RESULTS / "pruning_fashion_mnist.jsonl")
    fig = pruning_figures.plot_pruning_accuracy(runs)
    pruned = runs[runs.criterion != "unpruned"]
    rule, epochs = next(iter(dict.fromkeys(pruned.rule))), sorted(pruned.finetune_epochs.unique())[0]
    stats = pruning_accuracy(pruned, rule, epochs, ["betti", "betti_filter", "random", "l1"])
    heights = [bar.get_height() for bar in fig.axes[0].containers[0]]
    assert np.allclose(heights, stats["mean"])
    assert titles(fig)[0] == rule


def test_sparsity_curves_one_panel_per_layout_scope_and_tuning():
    rows = analysis.sparsity_rows(analysis.runs(RESULTS / "sparsity_converged.jsonl"))
    fig = pruning_figures.plot_sparsity_curves(rows)
    panels = rows.activation.nunique() * 2 * rows.finetune_epochs.nunique()
    assert len(fig.axes) == panels
    assert_nothing_cut(fig)


def test_filter_scores_hold_every_criterion_per_filter():
    torch.manual_seed(0)
    model = ts.PaperCNN()
    images = torch.rand(20, 1, 28, 28)
    data = torch.utils.data.TensorDataset(images, torch.arange(20) % 2)
    filters = pruning_figures.filter_scores(model, data, per_class=10)
    literal = ts.pruning.shape_scores(model, data, criterion="literal", per_class=10)
    assert len(filters) == len(literal) == sum(m.out_channels for m in model.modules()
                                               if isinstance(m, torch.nn.Conv2d))  # fmt: skip
    assert filters.literal.tolist() == literal.score.tolist()
    assert {"l1_norm", "rms", *ts.pruning.CRITERIA} <= set(filters.columns)


# -- chapter 5 ---------------------------------------------------------------------------------------------


def test_separation_table_is_the_last_checkpoint_mean():
    from toposcope.experiments.cnn import LAYER_LABELS, TRACKED_LAYERS

    runs = analysis.runs(RESULTS / "cnn_readings.jsonl")
    readings = analysis.cnn_readings(runs[runs.experiment == "cnn"])
    readings = readings[readings.dataset == "fashion_mnist"]
    table = cnn_figures.separation_table(readings, TRACKED_LAYERS, LAYER_LABELS)
    assert list(table.index) == [LAYER_LABELS[layer] for layer in TRACKED_LAYERS]
    last = readings[(readings.reading == "cross_share") & (readings["class"] == "all")
                    & (readings.epoch == readings.epoch.max()) & (readings.activation == "relu")
                    & (readings.layer == TRACKED_LAYERS[-1])]  # fmt: skip
    n = last.n.max()
    assert table.iloc[-1][("relu", n)] == pytest.approx(last[last.n == n].value.mean())


def test_run_inventory_counts_runs_and_seeds():
    runs = analysis.runs(RESULTS / "cnn_readings.jsonl")
    runs = runs[runs.experiment == "cnn"]
    inventory, sizes = cnn_figures.run_inventory({"readings": (runs, "readings"), "other": (None, "full")})
    mine = runs[runs.dataset == "fashion_mnist"]
    assert inventory.loc["readings", "fashion_mnist"].startswith(f"{len(mine)} runs, seeds [0, ")
    assert inventory.loc["other", "fashion_mnist"] == "not run (files absent)"
    assert "seeds" not in sizes.index


def test_cifar10_folder_is_read_by_the_loader(tmp_path):
    root = formats.write_cifar10_folder(tmp_path / "cifar10", per_batch=4)
    train = ts.cifar10(root, "train")
    assert tuple(train.tensors[0].shape) == (20, 1, 32, 32)  # grey, as the loader gives by default
    assert set(train.tensors[1].tolist()) <= set(range(10))
