"""Torch plumbing shared by training, tracking and pruning: devices, eval mode, batched forward passes."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn
from torch.utils.data import TensorDataset

__all__ = [
    "TrainingDivergedError",
    "as_xy",
    "capture_outputs",
    "check_label_sets",
    "check_training_args",
    "eval_mode",
    "forward_batches",
    "model_device",
    "output_tensor",
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


def output_tensor(output: object) -> torch.Tensor:
    """The one tensor a model's (or module's) output stands for: the rule every reader of outputs uses.

    * a tensor: itself;
    * a dict (or any mapping): its ``"logits"`` entry; a dict without one raises,
      naming its keys, since taking "the first value" silently picks whichever key
      came first (e.g. features instead of logits);
    * a tuple or list: its first tensor (the convention of models that return
      ``(logits, extras...)``).

    ``evaluate``, the tracker's ``"logits"`` pseudo-layer, its hooks and the pruner's
    hooks all read outputs through this function.
    """
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, Mapping):
        if isinstance(output.get("logits"), torch.Tensor):
            return output["logits"]
        raise TypeError(f"the output is a dict with keys {list(output)} and no 'logits' tensor; return the "
                        "logits tensor, or a dict with a 'logits' key (wrap the model so that it "
                        "does)")  # fmt: skip
    if isinstance(output, (tuple, list)):
        for value in output:
            if isinstance(value, torch.Tensor):
                return value
    raise TypeError(f"the output is a {type(output).__name__} holding no tensor")


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
            batch = X[i : i + batch_size].to(device)
            if batch.untyped_storage().data_ptr() == X.untyped_storage().data_ptr():
                batch = batch.clone()  # an in-place first layer must not write into the caller's X
            outputs.append(_detached_copy(output_tensor(model(batch))))
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
    if isinstance(epochs, bool | np.bool_) or not isinstance(epochs, numbers.Integral) or epochs < 0:
        raise ValueError(f"epochs must be an integer >= 0; got {epochs!r}")
    if isinstance(batch_size, bool | np.bool_) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1; got {batch_size!r}")
    if isinstance(lr, bool | np.bool_) or not (isinstance(lr, numbers.Real) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive, finite number; got {lr!r}")
    if target_accuracy is not None and not (isinstance(target_accuracy, numbers.Real) and 0 < target_accuracy <= 1):
        raise ValueError(f"target_accuracy is a fraction in (0, 1] (0.99, not 99); got {target_accuracy!r}")


def check_label_sets(train_y: torch.Tensor, test_y: torch.Tensor | None) -> None:
    """Raise ``ValueError`` if the test labels hold a class the training labels lack (it could never be learned)."""
    if test_y is None:
        return
    unknown = set(test_y.unique().tolist()) - set(train_y.unique().tolist())
    if unknown:
        raise ValueError(f"the test set has labels the training set lacks: {sorted(unknown)}")


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
        leaving it, also when the forward pass raises.  Each output is copied as
        the module returns it, so a later in-place operation (``ReLU(inplace=True)``)
        cannot change what was recorded; a dict or tuple output is read by
        :func:`output_tensor`.

    Raises
    ------
    ValueError
        For an unknown name; and, during the forward pass, for a recorded module
        that runs twice in one forward pass of ``model`` (its two call sites would be
        mixed in one cloud: give each call its own module).
    """
    modules = dict(model.named_modules())
    unknown = [n for n in names if n not in modules]
    if unknown:
        raise ValueError(f"model has no module(s) {unknown}")
    store: dict[str, list[torch.Tensor]] = {name: [] for name in names}
    seen: set[str] = set()  # modules recorded in the current forward pass of the model

    def save(name: str):
        def hook(module, inputs, output):
            if name in seen:
                raise ValueError(f"module {name!r} ran twice in one forward pass; its outputs would mix two call "
                                 "sites in one cloud: give each call its own module")  # fmt: skip
            seen.add(name)
            store[name].append(_detached_copy(output_tensor(output)))

        return hook

    handles = [model.register_forward_pre_hook(lambda module, inputs: seen.clear())]
    try:
        for name in names:
            handles.append(modules[name].register_forward_hook(save(name)))
        yield store
    finally:
        for h in handles:
            h.remove()


def _detached_copy(tensor: torch.Tensor) -> torch.Tensor:
    """A float32 CPU copy that no later in-place operation on ``tensor`` can change."""
    return tensor.detach().to(device="cpu", dtype=torch.float32, copy=True)


def random_subset(data: TensorDataset, n: int, seed: int) -> TensorDataset:
    """``n`` rows of a ``TensorDataset`` drawn without replacement under ``seed`` (all, shuffled, if fewer)."""
    idx = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[:n]
    return TensorDataset(*(t[idx] for t in data.tensors))
