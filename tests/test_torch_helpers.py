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
