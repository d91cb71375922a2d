"""The shared torch plumbing: devices, eval mode, batched forward passes, training bookkeeping."""

import pytest
import torch
from torch import nn

import toposcope as ts
from toposcope._torch import (
    as_xy,
    capture_outputs,
    eval_mode,
    forward_batches,
    model_device,
    output_tensor,
    resolve_device,
)


class Pair(nn.Module):
    """A model returning a tuple, as many detection/segmentation models do."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 2)

    def forward(self, x):
        return self.linear(x), "aux"


def test_eval_mode_restores_the_mode_even_when_the_forward_raises():
    model = nn.Sequential(nn.Linear(3, 2), nn.Dropout())
    model.train()
    with pytest.raises(RuntimeError), eval_mode(model):
        assert not model.training
        model(torch.zeros(1, 5))  # wrong width
    assert model.training
    with pytest.raises(RuntimeError):
        ts.evaluate(model, (torch.zeros(4, 5), torch.zeros(4, dtype=torch.long)))
    assert model.training


def test_forward_batches_concatenates_and_takes_the_first_tensor_of_a_tuple():
    torch.manual_seed(0)
    model, X = Pair(), torch.randn(10, 3)
    out = forward_batches(model, X, batch_size=3)
    assert out.shape == (10, 2) and torch.allclose(out, model.linear(X).detach())
    with pytest.raises(ValueError, match="batch_size"):
        forward_batches(model, X, batch_size=0)


def test_devices():
    assert model_device(nn.ReLU()) == torch.device("cpu")
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in ("cpu", "cuda")
    assert resolve_device() == resolve_device("auto")  # the documented default


def test_as_xy_errors():
    with pytest.raises(TypeError, match="TensorDataset or an"):
        as_xy(torch.zeros(3), "train")
    with pytest.raises(ValueError, match="2 inputs but 3 labels"):
        as_xy((torch.zeros(2, 1), torch.zeros(3, dtype=torch.long)), "train")
    with pytest.raises(TypeError, match="integer class indices"):
        as_xy((torch.zeros(2, 1), torch.zeros(2)), "train")


def test_history_log_records_the_first_epochs_reaching_the_target():
    history = ts.History(target_accuracy=0.9)
    for epoch, train, test in [(1, 0.5, 0.4), (2, 0.95, 0.85), (3, 0.8, 0.92), (4, 0.99, 0.99)]:
        history.log({"epoch": epoch, "train_acc": train, "test_acc": test})
    assert history.epoch_reached == 2 and history.test_epoch_reached == 3
    assert history.column("epoch") == [1, 2, 3, 4]
    untargeted = ts.History()
    untargeted.log({"epoch": 1, "train_acc": 1.0, "test_acc": None})
    assert untargeted.epoch_reached is None


class Identity2(nn.Module):
    """An identity Linear (weights 1, no bias) followed by an in-place ReLU, as a user might write it."""

    def __init__(self, first_inplace: bool = False):
        super().__init__()
        self.pre = nn.ReLU(inplace=True) if first_inplace else nn.Identity()
        self.fc = nn.Linear(2, 2, bias=False)
        self.act = nn.ReLU(inplace=True)
        with torch.no_grad():
            self.fc.weight.copy_(torch.eye(2))

    def forward(self, x):
        return self.act(self.fc(self.pre(x)))


def test_captured_outputs_are_what_each_layer_returned_despite_in_place_ops():
    model, x = Identity2(), torch.randn(50, 2)
    with capture_outputs(model, ["fc", "act"]) as store:
        forward_batches(model, x, batch_size=16)
    fc, act = torch.cat(store["fc"]), torch.cat(store["act"])
    assert torch.equal(fc, x) and (fc < 0).any()  # the Linear's output, before the ReLU overwrote it
    assert torch.equal(act, torch.relu(x)) and (act >= 0).all()


def test_the_tracker_reads_each_layer_and_the_input_as_they_were():
    circle = torch.as_tensor(ts.shapes.circle(200), dtype=torch.float32)
    labels = torch.zeros(200, dtype=torch.long)
    tracker = ts.BettiTracker(Identity2(), layers=["fc", "act"])
    frame = tracker.profile(circle, labels)
    assert frame[frame.layer == "fc"].sort_values("dim").betti.tolist() == [1, 1]  # a circle, not a half-plane
    first = ts.BettiTracker(Identity2(first_inplace=True), layers=["input"])
    before = circle.clone()
    assert first.profile(circle, labels).sort_values("dim").betti.tolist() == [1, 1]
    assert torch.equal(circle, before)  # the caller's data is not written into


def test_dict_and_tuple_outputs_follow_one_rule():
    z = torch.eye(4)
    y = torch.arange(4)

    class Dict(nn.Module):
        def forward(self, x):
            return {"features": -x, "logits": x}

    class Unnamed(nn.Module):
        def forward(self, x):
            return {"features": -x, "scores": x}

    assert ts.evaluate(Dict(), (z, y)) == 1.0  # the "logits" entry, not the first value
    with pytest.raises(TypeError, match=r"keys \['features', 'scores'\] and no 'logits'"):
        ts.evaluate(Unnamed(), (z, y))
    assert torch.equal(output_tensor((z, -z)), z)
    whole = (r"^the output is a dict with keys \['features'\] and no 'logits' tensor; return the logits tensor, or a "
             r"dict with a 'logits' key \(wrap the model so that it does\)$")  # fmt: skip
    with pytest.raises(TypeError, match=whole):
        output_tensor({"features": z})
    with pytest.raises(TypeError, match=r"^the output is a str holding no tensor$"):
        output_tensor("logits")
    with pytest.raises(TypeError, match=r"^the output is a tuple holding no tensor$"):
        output_tensor((1, "a"))


def test_a_module_run_twice_is_refused_and_once_per_pass_is_fine():
    class Twice(nn.Module):
        def __init__(self, calls):
            super().__init__()
            self.act, self.calls = nn.Tanh(), calls

        def forward(self, x):
            for _ in range(self.calls):
                x = self.act(x)
            return x

    model = Twice(1)
    with capture_outputs(model, ["act"]) as store:
        forward_batches(model, torch.zeros(5, 2), batch_size=2)  # three forward passes, one call each
    assert len(store["act"]) == 3
    twice = Twice(2)
    with pytest.raises(ValueError, match="'act' ran twice in one forward pass"), capture_outputs(twice, ["act"]):
        forward_batches(twice, torch.zeros(5, 2))


def test_tracker_checks_labels_and_names_each_layer_once():
    model = nn.Sequential()
    model.add_module("fc", nn.Linear(2, 2))
    model.add_module("logits", nn.Linear(2, 2))
    with pytest.raises(ValueError, match=r"choose among \['input', 'logits', 'fc'\]"):
        ts.BettiTracker(model, layers=["nope"])
    with pytest.raises(TypeError, match="integer class indices"):
        ts.BettiTracker(model).profile(torch.randn(10, 2), torch.zeros(10))


# -- edges the mutation run found untested (benchmarks/mutation.py) ---------------------------------------


def test_forward_batches_edges():
    from toposcope._torch import forward_batches

    calls = []
    model = nn.Linear(3, 2)
    model.register_forward_hook(lambda module, inputs, output: calls.append(len(inputs[0])))
    X = torch.randn(4097, 3, dtype=torch.float64)  # float64 data, float32 model: cast, not refused
    out = forward_batches(model, X)
    assert calls == [4096, 1] and out.dtype == torch.float32 and out.shape == (4097, 2)  # the default batch: 4096
    calls.clear()
    forward_batches(model, X[:3], batch_size=1)
    assert calls == [1, 1, 1]
    with pytest.raises(ValueError, match="batch_size must be a positive integer; got 0"):
        forward_batches(model, X, batch_size=0)
    assert forward_batches(model, X[:0]).shape == (0,)
    tokens = torch.tensor([[1], [3]])
    embed = nn.Sequential(nn.Embedding(5, 2), nn.Flatten())
    assert torch.equal(forward_batches(embed, tokens), embed(tokens).detach())  # integer inputs are not cast
    negative = -torch.ones(4, 3)
    forward_batches(nn.ReLU(inplace=True), negative)
    assert (negative == -1).all()  # an in-place first layer never writes into the caller's inputs


def test_captured_outputs_are_float32_cpu_copies():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU()).double()
    with capture_outputs(model, ["1"]) as seen:
        model(torch.randn(5, 3, dtype=torch.float64))
    assert seen["1"][0].dtype == torch.float32 and seen["1"][0].device.type == "cpu"


def test_random_subset_is_seeded():
    from torch.utils.data import TensorDataset

    from toposcope._torch import random_subset

    data = TensorDataset(torch.arange(100), torch.arange(100) % 2)
    a, b, c = (random_subset(data, 10, seed).tensors[0].tolist() for seed in (0, 0, 1))
    assert a == b != c and len(a) == 10
    expected = torch.randperm(100, generator=torch.Generator().manual_seed(0))[:10].tolist()
    assert a == expected


def test_training_arguments_are_checked_with_named_messages():
    from toposcope._torch import check_label_sets, check_training_args

    good = {"epochs": 1, "batch_size": 1, "lr": 0.1, "target_accuracy": None}
    check_training_args(**good)
    check_training_args(**{**good, "epochs": 0, "target_accuracy": 1.0})
    cases = [("epochs", -1, "epochs must be an integer >= 0; got -1"), ("epochs", True, "epochs must be an integer"),
             ("epochs", 1.0, "epochs must be an integer"), ("batch_size", 0, "batch_size must be an integer >= 1"),
             ("batch_size", True, "batch_size must be"), ("batch_size", 2.0, "batch_size must be"),
             ("lr", 0.0, "lr must be a positive, finite number; got 0.0"), ("lr", True, "lr must be"),
             ("lr", float("inf"), "lr must be"), ("lr", "0.1", "lr must be"),
             ("target_accuracy", 95, r"target_accuracy is a fraction in \(0, 1\] \(0.99, not 99\); got 95"),
             ("target_accuracy", 0.0, "target_accuracy is a fraction"),
             ("target_accuracy", 1.5, "target_accuracy is a fraction"),
             ("target_accuracy", "0.9", "target_accuracy is a fraction")]  # fmt: skip
    for name, value, message in cases:
        with pytest.raises(ValueError, match=message):
            check_training_args(**{**good, name: value})
    check_label_sets(torch.tensor([0, 1, 2]), torch.tensor([2, 0]))
    with pytest.raises(ValueError, match=r"^the test set has labels the training set lacks: \[3, 4\]$"):
        check_label_sets(torch.tensor([0, 1]), torch.tensor([4, 3, 0]))


def test_as_xy_accepts_one_sample_and_names_each_fault():
    X, y = torch.zeros(1, 2), torch.zeros(1, dtype=torch.long)
    assert as_xy((X, y), "train")[0].shape == (1, 2)
    with pytest.raises(ValueError, match=r"^train must hold exactly two tensors"):
        as_xy((X, y, y), "train")
    with pytest.raises(ValueError, match=r"^train is empty$"):
        as_xy((X[:0], y[:0]), "train")
    with pytest.raises(ValueError, match=r"^test: labels must be a 1-D tensor of class indices >= 0; got shape "
                                         r"\(1, 1\), min 0$"):  # fmt: skip
        as_xy((X, y[:, None]), "test")
    with pytest.raises(ValueError, match=r"got shape \(1,\), min -1$"):
        as_xy((X, y - 1), "test")
    bad = torch.zeros(5, 2)
    bad[3, 1] = float("nan")
    with pytest.raises(ValueError, match=r"^train holds NaN or inf in 1 of 5 inputs \(first: row 3\)"):
        as_xy((bad, torch.zeros(5, dtype=torch.long)), "train")
    with pytest.raises(TypeError, match=r"got str$"):
        as_xy("data", "train")


def test_draw_per_class_leaves_the_generator_alone_for_small_classes():
    import numpy as np

    from toposcope.tracker import draw_per_class

    y = torch.tensor([0] * 3 + [1] * 10)
    drawn = draw_per_class(y, 3, seed=5).tolist()
    expected = sorted(np.random.default_rng(5).choice(np.arange(3, 13), size=3, replace=False).tolist())
    assert drawn == [0, 1, 2, *expected]


def test_topo_sine_modules_are_activation_layers():
    model = ts.MLP(2, hidden=[4, 4], activations={"act1": "topo_sine"})
    assert isinstance(model.get_submodule("act1"), ts.TopoSine)
    assert ts.activation_layers(model) == ["act1", "act2"]
