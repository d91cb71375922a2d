import pytest
import torch
from torch import nn

import toposcope as ts


def test_mlp_layout_and_names():
    m = ts.MLP(3)
    names = [n for n, _ in m.named_children()]
    assert names[:2] == ["fc1", "act1"] and names[-1] == "logits" and len(names) == 19
    assert m(torch.zeros(5, 3)).shape == (5, 2)
    assert ts.activation_layers(m) == [f"act{i}" for i in range(1, 10)]


def test_mlp_per_layer_activations():
    m = ts.MLP(3, hidden=[4, 4, 4], activations={"act2": "topo_sine"})
    assert isinstance(m.act1, nn.ReLU) and isinstance(m.act2, ts.TopoSine) and isinstance(m.act3, nn.ReLU)
    m = ts.MLP(3, hidden=[4, 4], activation="tanh", activations=[None, ts.TopoSine(negative="relu")])
    assert isinstance(m.act1, nn.Tanh) and m.act2.negative == "relu"
    shared = ts.MLP(3, hidden=[4, 4], activation=ts.TopoSine(cut=2.0))
    assert shared.act1 is not shared.act2 and shared.act2.cut == 2.0
    assert ts.activation_layers(shared) == ["act1", "act2"]


def test_mlp_bad_arguments():
    with pytest.raises(ValueError, match="unknown slots"):
        ts.MLP(3, hidden=[4], activations={"act7": "relu"})
    with pytest.raises(ValueError, match="1 slots"):
        ts.MLP(3, hidden=[4], activations=["relu", "tanh"])
    with pytest.raises(ValueError, match="unknown activation"):
        ts.MLP(3, activation="swish")
    with pytest.raises(ValueError, match="positive"):
        ts.MLP(0)


@pytest.mark.parametrize(("size", "channels"), [(28, 1), (32, 1), (32, 3)])
def test_paper_cnn_shapes(size, channels):
    m = ts.PaperCNN(in_channels=channels, image_size=size, activations={"act1": "topo_sine"})
    assert m(torch.zeros(2, channels, size, size)).shape == (2, 10)
    assert [n for n, _ in m.named_children()] == [
        "conv0", "act0", "pool0", "conv1", "act1", "pool1", "conv2", "act2", "flatten", "dense0", "act3", "logits"
    ]  # fmt: skip
    assert isinstance(m.act1, ts.TopoSine)
    with pytest.raises(ValueError, match="too small"):
        ts.PaperCNN(image_size=12)


def _run(seed: int):
    data = ts.nine_rings(800, 200, seed=0)
    torch.manual_seed(seed)
    model = ts.MLP(3, hidden=[16] * 3)
    return ts.fit(model, data.train, data.test, epochs=3, batch_size=64, lr=1e-2, seed=seed, device="cpu",
                  progress=False)  # fmt: skip


def test_fit_is_deterministic_on_cpu():
    a, b, c = _run(0), _run(0), _run(1)
    for key in ("loss", "train_acc", "test_acc"):
        assert a.column(key) == b.column(key)
    assert a.column("loss") != c.column("loss")
    assert a.device == "cpu"


def test_fit_learns_and_reports_target():
    data = ts.nine_rings(2000, 200, seed=0)
    torch.manual_seed(0)
    model = ts.MLP(3, hidden=[32] * 3)
    h = ts.fit(model, data.train, data.test, epochs=40, batch_size=64, lr=1e-2, target_accuracy=0.8,
               stop_at_target=True, progress=False)  # fmt: skip
    assert h.epoch_reached is not None and len(h.records) == h.epoch_reached
    assert h.records[-1]["train_acc"] >= 0.8
    assert list(h.to_frame().columns) == ["epoch", "loss", "train_acc", "test_acc", "time"]


def test_fit_calls_callbacks():
    seen = []
    data = ts.nine_rings(200, 0, seed=0)
    ts.fit(ts.MLP(3, hidden=[4]), data.train, epochs=2, progress=False, callbacks=[lambda m, e, r: seen.append(e)])
    assert seen == [0, 1, 2]


def test_fit_bad_input():
    model = ts.MLP(3, hidden=[4])
    X = torch.zeros(10, 3)
    with pytest.raises(ValueError, match="10 inputs but 9 labels"):
        ts.fit(model, (X, torch.zeros(9, dtype=torch.long)), progress=False)
    with pytest.raises(TypeError, match="integer class indices"):
        ts.fit(model, (X, torch.zeros(10)), progress=False)
    with pytest.raises(ValueError, match="optimizer"):
        ts.fit(model, (X, torch.zeros(10, dtype=torch.long)), optimizer="lbfgs", progress=False)
    with pytest.raises(ValueError, match="target_accuracy"):
        ts.fit(model, (X, torch.zeros(10, dtype=torch.long)), target_accuracy=95, progress=False)


@pytest.mark.parametrize("patience", [1, 3])
def test_fit_with_patience_stops_and_keeps_the_best_epoch(patience):
    """Held-out labels that are pure noise: the held-out accuracy soon stops improving."""
    data = ts.nine_rings(400, 0, seed=0)
    X = torch.randn(200, 3, generator=torch.Generator().manual_seed(1))
    noise = (X, torch.randint(0, 2, (200,), generator=torch.Generator().manual_seed(2)))
    torch.manual_seed(0)
    model = ts.MLP(3, hidden=[16] * 2)
    before = ts.evaluate(model, noise)
    h = ts.fit(model, data.train, noise, epochs=60, lr=1e-2, patience=patience, progress=False)
    accs = [before, *h.column("test_acc")]
    assert len(h.records) < 60
    assert h.best_epoch == accs.index(max(accs))  # the first epoch of the best held-out accuracy
    assert len(h.records) == h.best_epoch + patience  # stopped `patience` epochs after it
    assert ts.evaluate(model, noise) == max(accs)  # and the model holds that epoch's weights
    with pytest.raises(ValueError, match="patience needs held-out data"):
        ts.fit(model, data.train, epochs=1, patience=2, progress=False)
    with pytest.raises(ValueError, match="patience must be a positive integer"):
        ts.fit(model, data.train, noise, epochs=1, patience=0, progress=False)


def test_fit_refuses_test_labels_the_training_set_lacks_and_takes_numpy_numbers():
    import numpy as np

    X, y = torch.randn(20, 2), torch.arange(20) % 2
    model = nn.Linear(2, 3)
    with pytest.raises(ValueError, match=r"labels the training set lacks: \[2\]"):
        ts.fit(model, (X, y), (X[:4], torch.tensor([0, 1, 2, 1])), epochs=1, progress=False)
    history = ts.fit(model, (X, y), epochs=np.int64(2), batch_size=np.int32(8), lr=np.float32(0.01),
                     target_accuracy=np.float64(0.9), progress=False, device="cpu")  # fmt: skip
    assert len(history.records) == 2
    for bad in ({"epochs": np.float32(2)}, {"lr": np.bool_(True)}, {"batch_size": np.int64(0)}):
        with pytest.raises(ValueError):
            ts.fit(model, (X, y), progress=False, **bad)


def test_fit_trains_in_train_mode_even_from_eval_mode():
    """A model handed over in eval mode: batch-norm statistics must still move and dropout must be active."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 2))
    model.eval()
    seen_training = []
    model[3].register_forward_hook(lambda module, inputs, output: seen_training.append(module.training))
    X, y = torch.randn(64, 2) + 3.0, torch.arange(64) % 2
    ts.fit(model, (X, y), epochs=1, batch_size=16, progress=False, device="cpu")
    assert not torch.allclose(model[1].running_mean, torch.zeros(16))  # statistics updated: trained in train mode
    assert True in seen_training  # dropout saw training batches
    assert seen_training[-1] is False  # and the accuracy after the epoch was measured in eval mode
