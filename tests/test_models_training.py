import copy
import re

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
    # the test accuracy reported is the model's on the test set, computed here by hand
    X_test, y_test = data.test.tensors
    model.eval()
    with torch.no_grad():
        by_hand = (model(X_test).argmax(dim=1) == y_test).float().mean().item()
    assert h.records[-1]["test_acc"] == pytest.approx(by_hand) and by_hand > 0.7


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


# -- edges the mutation run found untested (benchmarks/mutation.py) ---------------------------------------


def _blobs(n=20, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    return torch.randn(n, 2, generator=g) + 2.0 * y[:, None], y


def test_recorded_loss_is_the_sample_weighted_mean_over_the_epoch():
    """Frozen weights (the one trained parameter has a zero gradient): the epoch's loss is the model's mean
    cross-entropy on every sample, whatever the batches (20 samples in batches of 7, 7 and 6)."""

    class Frozen(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(2, 2).requires_grad_(False)
            self.unused = nn.Parameter(torch.zeros(2))

        def forward(self, x):
            return self.linear(x) + 0 * self.unused

    X, y = _blobs()
    torch.manual_seed(0)
    model = Frozen()
    expected = nn.functional.cross_entropy(model(X), y).item()
    history = ts.fit(model, (X, y), epochs=1, batch_size=7, lr=0.1, progress=False, device="cpu")
    assert history.records[0]["loss"] == pytest.approx(expected, rel=1e-6)
    assert 0 <= history.records[0]["time"] < 60


def test_fit_defaults_are_the_documented_ones():
    X, y = _blobs(300)
    weights = []
    for options in ({}, {"epochs": 10, "batch_size": 128, "lr": 1e-3, "seed": 0, "stop_at_target": False}):
        torch.manual_seed(0)
        model = nn.Linear(2, 2)
        history = ts.fit(model, (X, y), target_accuracy=0.01, progress=False, device="cpu", **options)
        weights.append(model.weight.detach().clone())
        assert len(history.records) == 10 and history.device == "cpu"
    assert torch.equal(*weights)


def test_shuffling_uses_fits_own_generator_not_the_global_one():
    X, y = _blobs(64)
    weights = []
    for disturbance in (1, 2):
        torch.manual_seed(0)
        model = nn.Linear(2, 2)
        torch.manual_seed(disturbance)  # the global generator differs; fit's seed does not
        ts.fit(model, (X, y), epochs=2, batch_size=8, lr=0.1, seed=3, progress=False, device="cpu")
        weights.append(model.weight.detach().clone())
    assert torch.equal(*weights)


def test_history_reaches_the_target_at_or_above_it_once():
    history = ts.training.History(target_accuracy=0.9)
    history.log({"epoch": 1, "train_acc": 0.9, "test_acc": 0.8})
    history.log({"epoch": 2, "train_acc": 0.95, "test_acc": 0.9})
    history.log({"epoch": 3, "train_acc": 0.99, "test_acc": 0.99})
    assert (history.epoch_reached, history.test_epoch_reached) == (1, 2)


def test_callbacks_receive_the_model_and_each_record():
    X, y = _blobs()
    model, seen = nn.Linear(2, 2), []
    ts.fit(model, (X, y), epochs=1, progress=False, callbacks=[lambda m, e, r: seen.append((m, e, dict(r)))])
    assert seen[0] == (model, 0, {}) and seen[1][0] is model and seen[1][2]["epoch"] == 1


def test_patience_restores_a_deep_copy_of_the_best_epoch(monkeypatch):
    """Held-out accuracy rises for two epochs, then falls: the model must end with epoch 2's weights."""
    X, y = _blobs(40)
    model = nn.Linear(2, 2)
    states = {}
    scripted = iter([0.5, 0.7, 0.8, 0.6, 0.6, 0.6])  # epoch 0 (before training), then epochs 1-5

    def evaluate(model, data, device=None):
        return next(scripted) if len(data[0]) == 10 else 0.5

    held_out = (X[:10], y[:10])
    monkeypatch.setattr(ts.training, "evaluate", evaluate)
    history = ts.fit(model, (X, y), held_out, epochs=5, lr=0.1, patience=2, progress=False, device="cpu",
                     callbacks=[lambda m, e, r: states.setdefault(e, copy.deepcopy(m.state_dict()))])
    assert history.best_epoch == 2 and len(history.records) == 4
    assert torch.equal(model.weight, states[2]["weight"]) and not torch.equal(model.weight, states[4]["weight"])


def test_patience_with_no_improvement_restores_the_starting_weights(monkeypatch):
    X, y = _blobs(40)
    torch.manual_seed(0)
    model = nn.Linear(2, 2)
    start = copy.deepcopy(model.state_dict())
    monkeypatch.setattr(ts.training, "evaluate", lambda model, data, device=None: 0.5)  # never beats the start
    history = ts.fit(model, (X, y), (X[:10], y[:10]), epochs=5, lr=0.1, patience=2, progress=False, device="cpu")
    assert history.best_epoch == 0 and len(history.records) == 2
    assert torch.equal(model.weight, start["weight"]) and torch.equal(model.bias, start["bias"])


def test_sgd_takes_one_step_of_the_given_learning_rate():
    X, y = _blobs()
    torch.manual_seed(0)
    model = nn.Linear(2, 2)
    before = model.weight.detach().clone()
    loss = nn.functional.cross_entropy(model(X), y)
    (grad,) = torch.autograd.grad(loss, model.weight)
    ts.fit(model, (X, y), epochs=1, batch_size=20, lr=0.5, optimizer="sgd", progress=False, device="cpu")
    assert torch.allclose(model.weight, before - 0.5 * grad, atol=1e-6)


def test_fit_casts_float_features_to_the_models_dtype_and_leaves_integer_ones():
    import numpy as np

    X, y = _blobs()
    model = nn.Linear(2, 2)
    ts.fit(model, (X.double().numpy(), y.numpy()), epochs=1, progress=False, device="cpu")
    assert model.weight.dtype == torch.float32
    wide = nn.Linear(2, 2).double()
    ts.fit(wide, (X, y), epochs=1, progress=False, device="cpu")
    assert wide.weight.dtype == torch.float64
    tokens = torch.randint(0, 5, (20, 1))
    embed = nn.Sequential(nn.Embedding(5, 2), nn.Flatten())
    ts.fit(embed, (tokens, y), epochs=1, progress=False, device="cpu")  # integer inputs stay integers
    assert np.isfinite(embed[0].weight.detach().numpy()).all()


def test_a_non_finite_loss_in_the_first_batch_names_it():
    X, y = _blobs()
    X[:] = 3e38  # finite, but the logits overflow: every batch's loss is non-finite, the first is named
    model = nn.Linear(2, 2)
    nn.init.ones_(model.weight)
    with pytest.raises(FloatingPointError, match=r"^the training loss is not finite in epoch 1, batch 0 \(0-based\); "
                                                 r"the model's weights are no longer usable\. Lower the learning rate "
                                                 r"or check the data\.$"):  # fmt: skip
        ts.fit(model, (X, y), epochs=1, batch_size=5, progress=False, device="cpu")


def test_fit_names_the_bad_argument():
    X, y = _blobs()
    with pytest.raises(TypeError, match=r"^train must be"):
        ts.fit(nn.Linear(2, 2), "data", progress=False)
    with pytest.raises(TypeError, match=r"^test must be"):
        ts.fit(nn.Linear(2, 2), (X, y), "data", progress=False)
    with pytest.raises(ValueError, match="patience must be a positive integer; got True"):
        ts.fit(nn.Linear(2, 2), (X, y), (X, y), patience=True, progress=False)
    with pytest.raises(ValueError, match=r"^patience needs held-out data to watch: pass test=$"):
        ts.fit(nn.Linear(2, 2), (X, y), patience=2, progress=False)


def test_progress_bar_shows_only_when_asked(capsys):
    X, y = _blobs()
    ts.fit(nn.Linear(2, 2), (X, y), epochs=2, progress=False, device="cpu")
    assert capsys.readouterr().err == ""
    ts.fit(nn.Linear(2, 2), (X, y), epochs=2, device="cpu")  # shown by default
    err = capsys.readouterr().err
    assert "training:" in err and re.search(r"epoch/s|s/epoch", err)
    assert re.search(r"loss=\d", err) and re.search(r"acc=\d", err)


def test_a_model_without_parameters_gets_the_optimizers_message():
    X, y = _blobs()
    with pytest.raises(ValueError, match="empty parameter list"):
        ts.fit(nn.Flatten(), (X, y), epochs=1, progress=False, device="cpu")
