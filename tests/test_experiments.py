import numpy as np
import pandas as pd
import pytest

from toposcope.claims import analysis
from toposcope.datasets import DEBIAN_FASHION_MNIST
from toposcope.experiments import pruning as pruning_experiment


@pytest.mark.skipif(not DEBIAN_FASHION_MNIST.is_dir(), reason="needs apt-get install dataset-fashion-mnist")
def test_pruning_experiment_smoke_and_resume(tmp_path):
    out = tmp_path / "pruning.jsonl"
    store = pruning_experiment.run("smoke", out, progress=False)
    cfg = pruning_experiment.PROFILES["smoke"]
    per_rule = (3 + len(cfg["random_seeds"])) * 2  # criteria x (no fine-tuning, fine-tuning)
    assert len(store) == 1 + len(cfg["rules"]) * per_rule
    frame = store.frame()
    pruned = frame[frame.criterion != "unpruned"]
    # equal budget: every criterion removes the same filters per layer under one rule
    for _, runs in pruned.groupby("rule"):
        assert runs["removed"].map(lambda r: tuple(sorted(r.items()))).nunique() == 1
    assert (pruned["params"] < frame.loc[frame.criterion == "unpruned", "params"].iloc[0]).all()
    lines = out.read_text().count("\n")
    pruning_experiment.run("smoke", out, progress=False)  # resumes: nothing recomputed
    assert out.read_text().count("\n") == lines
    assert set(analysis.pruning_summary(frame).index.get_level_values("criterion")) >= {"betti", "l1", "random"}


def test_mlp_experiment_resumes(tmp_path, monkeypatch):
    from toposcope.experiments import mlp

    tiny = dict(mlp.PROFILES["smoke"], sizes={"rings": (600, 200)}, seeds=[0], epochs=2,
                activations=["relu", "topo_sine"])  # fmt: skip
    monkeypatch.setitem(mlp.PROFILES, "smoke", tiny)
    out = tmp_path / "mlp.jsonl"
    store = mlp.run("smoke", out, device="cpu", progress=False, experiments=("convergence",))
    assert len(store) == 2
    record = store.frame().iloc[0]
    assert record["curve"]["epoch"] == [1, 2] and record["max_epochs"] == 2
    assert set(record["curve"]) == {"epoch", "loss", "train_acc", "test_acc"}
    mlp.run("smoke", out, device="cpu", progress=False, experiments=("convergence",))
    assert out.read_text().count("\n") == 2


def test_topology_profile_runs_only_betti_on_whole_classes_with_maxdim_per_data_set(tmp_path, monkeypatch):
    from toposcope.experiments import mlp

    tiny = dict(mlp.PROFILES["topology"], sizes={"rings": (300, 100), "spheres": (300, 100)},
                sweep_activations=["relu"])  # fmt: skip
    tiny["betti"] = dict(tiny["betti"], epochs=[0, 1], seeds=[0], n_jobs=1)
    monkeypatch.setitem(mlp.PROFILES, "topology", tiny)
    with pytest.raises(ValueError, match="unknown experiment"):
        mlp.run("topology", tmp_path / "x.jsonl", experiments=("convergence",))
    with pytest.warns(UserWarning):  # 100-200 points a class: small clouds are warned about
        store = mlp.run("topology", tmp_path / "topology.jsonl", device="cpu", progress=False)
    frame = store.frame()
    assert set(frame.experiment) == {"betti"} and sorted(frame.dataset) == ["rings", "spheres"]
    for run in frame.itertuples():
        records = pd.DataFrame(run.betti)
        assert records.dim.max() == {"rings": 1, "spheres": 2}[run.dataset]
        counts = records[records.layer == "input"].groupby("class").n_points.first()
        assert counts.sum() == 300  # every training point, none drawn away
    readings = analysis.input_readings(frame)
    assert len(readings) == 4 and readings.nominal.map(len).tolist() == [2, 2, 3, 3]


@pytest.mark.skipif(not DEBIAN_FASHION_MNIST.is_dir(), reason="needs apt-get install dataset-fashion-mnist")
@pytest.mark.filterwarnings("ignore::UserWarning")  # ten images per class: small clouds, warned about
def test_sparsity_experiment_smoke_and_resume(tmp_path):
    from toposcope.experiments import sparsity

    out = tmp_path / "sparsity.jsonl"
    store = sparsity.run("smoke", out, progress=False)
    cfg = sparsity.PROFILES["smoke"]
    rows = analysis.sparsity_rows(store.frame())
    pruned = rows[rows.criterion != "unpruned"]
    layer, spread = pruned[pruned.scope == "layer"], pruned[pruned.scope == "global"]
    assert set(layer.criterion) == set(sparsity.BETTI_CRITERIA) | set(sparsity.TP_CRITERIA)
    assert set(spread.criterion) == set(layer.criterion) | set(sparsity.GLOBAL_CRITERIA)
    assert len(pruned) == (len(set(layer.criterion)) + len(set(spread.criterion))) * len(cfg["fractions"]) * 2
    # equal budget: at one fraction every criterion leaves the same number of parameters (per layer)
    assert (layer.groupby(["fraction", "finetune_epochs"]).params.nunique() == 1).all()
    tuned = pruned[pruned.finetune_epochs > 0]  # to convergence: at most the budget, best epoch kept
    assert (tuned.epochs_run <= cfg["finetune_epochs"]).all() and (tuned.epoch_kept <= tuned.epochs_run).all()
    auc = analysis.sparsity_auc(rows)
    assert auc["mean"].between(0, 1).all()
    filters = pd.DataFrame(store.frame().iloc[0]["filters"])
    table = analysis.partial_correlations(filters, list(sparsity.BETTI_CRITERIA))
    ranks = filters.groupby("layer")[["literal", "l1_norm"]].rank()
    assert np.isclose(table.loc["literal", "rho l1_norm"], ranks.corr().iloc[0, 1])
    sparsity.run("smoke", out, progress=False)
    assert out.read_text().count("\n") == 1  # resumed


@pytest.mark.filterwarnings("ignore::UserWarning")  # a few images per class: small clouds, warned about
def test_sparsity_experiment_on_cifar_format_files(tmp_path, monkeypatch):
    from formats import write_cifar

    from toposcope.experiments import sparsity

    write_cifar(tmp_path / "cifar", per_batch=16)  # 80 training images, 8 per class; 6 test images
    tiny = {**sparsity.PROFILES["smoke"], "train_images": 60, "held_out_images": 10, "finetune_images": 30,
            "per_class": 3, "fractions": [0.5], "scopes": ["global"]}  # fmt: skip
    monkeypatch.setitem(sparsity.PROFILES, "tiny", tiny)
    out = tmp_path / "cifar.jsonl"
    store = sparsity.run("tiny", out, dataset="cifar10", data_root=str(tmp_path / "cifar"), progress=False)
    frame = store.frame()
    assert frame.dataset.tolist() == ["cifar10"] and frame.train_images.tolist() == [60]
    rows = analysis.sparsity_rows(frame)
    assert set(rows.scope) == {"global"} and rows.accuracy.between(0, 1).all()
    with pytest.raises(FileNotFoundError):
        sparsity.run("tiny", tmp_path / "x.jsonl", dataset="cifar10", data_root=str(tmp_path / "absent"))
    with pytest.raises(ValueError, match="unknown data set"):
        sparsity.run("tiny", tmp_path / "x.jsonl", dataset="mnist")
