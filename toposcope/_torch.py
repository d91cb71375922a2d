"""Torch plumbing shared by training, tracking and pruning: devices, eval mode, batched forward passes."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn
from torch.utils.data import TensorDataset

__all__ = [
    "TrainingDivergedError",
    "as_xy",
    "capture_outputs",
    "check_training_args",
    "eval_mode",
    "forward_batches",
    "model_device",
    "random_subset",
    "resolve_device",
]


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter (the CPU for a model without parameters)."""
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` picks CUDA when available, else the CPU; anything else is passed to ``torch.device``."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put ``model`` in eval mode for the ``with`` block; restore its mode on leaving, also on an error."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def _first_tensor(output: object) -> torch.Tensor:
    """A model's output, or the first tensor of a tuple, list or dict output."""
    if isinstance(output, torch.Tensor):
        return output
    values = list(output.values()) if isinstance(output, dict) else output
    if isinstance(values, (tuple, list)):
        for value in values:
            if isinstance(value, torch.Tensor):
                return value
    raise TypeError(f"the model returned a {type(output).__name__} holding no tensor")


def forward_batches(
    model: nn.Module, X: torch.Tensor, batch_size: int = 4096, device: str | torch.device | None = None
) -> torch.Tensor:
    """Run ``X`` through ``model`` batch by batch, in eval mode and without gradients.

    Parameters
    ----------
    model : nn.Module
        Its train/eval mode is restored afterwards, also when the forward pass raises.
    X : tensor (n, ...)
        Inputs, moved batch by batch to ``device``.
    batch_size : int, default 4096
    device : str or torch.device, optional
        Default: the model's device.

    Returns
    -------
    torch.Tensor
        The outputs, concatenated, detached, as float32 on the CPU.  Forward
        hooks registered on the model see every batch.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size}")
    device = model_device(model) if device is None else torch.device(device)
    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), None)
    if dtype is not None and X.is_floating_point():
        X = X.to(dtype)  # float64 data into a float32 model
    outputs = []
    with eval_mode(model), torch.no_grad():
        for i in range(0, len(X), batch_size):
            out = _first_tensor(model(X[i : i + batch_size].to(device)))
            outputs.append(out.detach().float().cpu())
    return torch.cat(outputs) if outputs else torch.empty(0)


def as_xy(data: object, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``(X, y)`` from a ``TensorDataset`` or a pair, checked: equal lengths, not empty, integer labels."""
    from torch.utils.data import TensorDataset

    if isinstance(data, TensorDataset):
        tensors = data.tensors
    elif isinstance(data, (tuple, list)):
        tensors = tuple(data)
    else:
        raise TypeError(f"{name} must be a TensorDataset or an (X, y) pair; got {type(data).__name__}")
    if len(tensors) != 2:
        raise ValueError(f"{name} must hold exactly two tensors (X, y); got {len(tensors)}")
    X, y = (torch.as_tensor(t) for t in tensors)
    if len(X) != len(y):
        raise ValueError(f"{name}: {len(X)} inputs but {len(y)} labels")
    if len(X) == 0:
        raise ValueError(f"{name} is empty")
    if y.dtype not in (torch.int64, torch.int32, torch.int16, torch.uint8):
        raise TypeError(f"{name}: labels must be integer class indices; got {y.dtype}")
    if y.ndim != 1 or int(y.min()) < 0:
        raise ValueError(f"{name}: labels must be a 1-D tensor of class indices >= 0; got shape {tuple(y.shape)}, "
                         f"min {int(y.min())}")  # fmt: skip
    if X.is_floating_point():
        bad = ~torch.isfinite(X.reshape(len(X), -1)).all(dim=1)
        if bad.any():
            raise ValueError(f"{name} holds NaN or inf in {int(bad.sum())} of {len(X)} inputs (first: row "
                             f"{int(torch.nonzero(bad)[0])}); clean the data before training")  # fmt: skip
    return X, y.long()


def check_training_args(epochs: int, batch_size: int, lr: float, target_accuracy: float | None) -> None:
    """Raise a clear ``ValueError`` for training arguments that cannot work."""
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs must be an integer >= 0; got {epochs!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1; got {batch_size!r}")
    if not (isinstance(lr, int | float) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive, finite number; got {lr!r}")
    if target_accuracy is not None and not (isinstance(target_accuracy, int | float) and 0 < target_accuracy <= 1):
        raise ValueError(f"target_accuracy is a fraction in (0, 1] (0.99, not 99); got {target_accuracy!r}")


class TrainingDivergedError(FloatingPointError):
    """The training loss became NaN or infinite: the run is stopped, no accuracy is reported for it."""


@contextmanager
def capture_outputs(model: nn.Module, names: Sequence[str]) -> Iterator[dict[str, list[torch.Tensor]]]:
    """Record the outputs of named modules while the model runs; always remove the hooks.

    Parameters
    ----------
    model : nn.Module
    names : sequence of str
        Module names, as in ``model.named_modules()``.

    Yields
    ------
    dict
        ``name -> list of output batches`` (detached, float32, on the CPU), filled
        by every forward pass inside the ``with`` block.  The hooks are removed on
        leaving it, also when the forward pass raises.
    """
    modules = dict(model.named_modules())
    unknown = [n for n in names if n not in modules]
    if unknown:
        raise ValueError(f"model has no module(s) {unknown}")
    store: dict[str, list[torch.Tensor]] = {name: [] for name in names}
    handles = []

    def save(name: str):
        def hook(module, inputs, output):
            store[name].append(_first_tensor(output).detach().float().cpu())

        return hook

    try:
        for name in names:
            handles.append(modules[name].register_forward_hook(save(name)))
        yield store
    finally:
        for h in handles:
            h.remove()


def random_subset(data: TensorDataset, n: int, seed: int) -> TensorDataset:
    """``n`` rows of a ``TensorDataset`` drawn without replacement under ``seed`` (all, shuffled, if fewer)."""
    idx = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[:n]
    return TensorDataset(*(t[idx] for t in data.tensors))
