"""The shared torch plumbing: devices, eval mode, batched forward passes, training bookkeeping."""

import pytest
import torch
from torch import nn

import toposcope as ts
from toposcope._torch import as_xy, eval_mode, forward_batches, model_device, resolve_device


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
