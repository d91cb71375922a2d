"""A small, deterministic training loop with a history and callbacks."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils.data import TensorDataset
from tqdm.auto import tqdm

from .tracker import model_device

__all__ = ["History", "evaluate", "fit", "resolve_device"]

DataLike = TensorDataset | tuple[torch.Tensor, torch.Tensor]
Callback = Callable[[nn.Module, int, dict[str, Any]], None]
_OPTIMIZERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}
_ON_DEVICE_LIMIT = 2 * 2**30  # data sets up to 2 GiB are copied to the device once


@dataclass
class History:
    """What :func:`fit` measured, one record per epoch.

    Attributes
    ----------
    records : list of dict
        Per epoch: ``epoch`` (1-based), ``loss`` (mean training loss),
        ``train_acc``, ``test_acc`` (``None`` without test data) and ``time``
        (seconds since the start of training).
    target_accuracy : float or None
        The target given to :func:`fit`.
    epoch_reached : int or None
        First epoch whose training accuracy reached ``target_accuracy``.
    test_epoch_reached : int or None
        First epoch whose test accuracy reached ``target_accuracy``.
    device : str
        Where the model was trained.
    """

    records: list[dict[str, Any]] = field(default_factory=list)
    target_accuracy: float | None = None
    epoch_reached: int | None = None
    test_epoch_reached: int | None = None
    device: str = "cpu"

    def column(self, key: str) -> list[Any]:
        """One field of every record, e.g. ``history.column("train_acc")``."""
        return [r[key] for r in self.records]

    def to_frame(self):
        """The records as a pandas ``DataFrame``."""
        import pandas as pd

        return pd.DataFrame.from_records(self.records)


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` picks CUDA when available, else the CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _tensors(data: DataLike, name: str) -> tuple[torch.Tensor, torch.Tensor]:
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
    return X, y.long()


@torch.no_grad()
def evaluate(
    model: nn.Module, data: DataLike, batch_size: int = 4096, device: str | torch.device | None = None
) -> float:
    """Accuracy of ``model`` on ``data`` (eval mode, no gradients)."""
    X, y = _tensors(data, "data")
    device = model_device(model) if device is None else torch.device(device)
    was_training = model.training
    model.eval()
    correct = 0
    for i in range(0, len(X), batch_size):
        out = model(X[i : i + batch_size].to(device))
        correct += int((out.argmax(1) == y[i : i + batch_size].to(device)).sum())
    model.train(was_training)
    return correct / len(X)


def fit(
    model: nn.Module,
    train: DataLike,
    test: DataLike | None = None,
    *,
    epochs: int = 10,
    batch_size: int = 128,
    lr: float = 1e-3,
    optimizer: str = "adam",
    target_accuracy: float | None = None,
    stop_at_target: bool = False,
    device: str | torch.device = "auto",
    seed: int = 0,
    progress: bool = True,
    callbacks: Sequence[Callback] = (),
) -> History:
    """Train a classifier with cross-entropy and return its history.

    Parameters
    ----------
    model : nn.Module
        Trained in place (and moved to ``device``).
    train, test : TensorDataset or (X, y)
        Integer class labels.  ``test`` is optional.
    epochs, batch_size, lr : int, int, float
        ``batch_size >= len(train)`` trains full-batch.
    optimizer : {"adam", "sgd"}
    target_accuracy : float, optional
        Record the first epoch whose training accuracy reaches it
        (``History.epoch_reached``), and likewise for the test accuracy
        (``History.test_epoch_reached``).
    stop_at_target : bool, default False
        Stop training at that epoch.
    device : "auto", str or torch.device
        ``"auto"`` uses CUDA when available.  Data sets under 2 GiB are copied
        to the device once, not batch by batch.
    seed : int
        Seeds the shuffling (a private ``torch.Generator``).  Seed the model's
        initialisation yourself (``torch.manual_seed``) before building it.
        On the CPU the same seeds give the same history.
    progress : bool, default True
        Show a tqdm progress bar over epochs.
    callbacks : sequence of callables
        Each is called as ``callback(model, epoch, record)`` after every epoch
        (epoch 0 is called once before training), e.g. a
        :meth:`toposcope.BettiTracker.callback`.

    Returns
    -------
    History
    """
    if epochs < 0 or batch_size < 1 or lr <= 0:
        raise ValueError(f"need epochs >= 0, batch_size >= 1, lr > 0; got {epochs}, {batch_size}, {lr}")
    if optimizer not in _OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(_OPTIMIZERS)}; got {optimizer!r}")
    if target_accuracy is not None and not 0 < target_accuracy <= 1:
        raise ValueError(f"target_accuracy must lie in (0, 1]; got {target_accuracy}")
    dev = resolve_device(device)
    X, y = _tensors(train, "train")
    test_t = _tensors(test, "test") if test is not None else None
    on_device = X.element_size() * X.nelement() <= _ON_DEVICE_LIMIT
    if on_device:
        X, y = X.to(dev), y.to(dev)
    model.to(dev)
    opt = _OPTIMIZERS[optimizer](model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(seed)
    history = History(target_accuracy=target_accuracy, device=str(dev))
    for cb in callbacks:
        cb(model, 0, {})
    start = time.perf_counter()
    bar = tqdm(range(1, epochs + 1), desc="training", unit="epoch", disable=not progress, leave=False)
    for epoch in bar:
        model.train()
        order = torch.randperm(len(X), generator=gen).to(X.device)
        total = torch.zeros((), device=dev)
        for i in range(0, len(X), batch_size):
            idx = order[i : i + batch_size]
            xb, yb = X[idx].to(dev, non_blocking=True), y[idx].to(dev, non_blocking=True)
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.detach() * len(idx)
        record = {
            "epoch": epoch,
            "loss": float(total) / len(X),
            "train_acc": evaluate(model, (X, y), device=dev),
            "test_acc": evaluate(model, test_t, device=dev) if test_t is not None else None,
            "time": time.perf_counter() - start,
        }
        history.records.append(record)
        bar.set_postfix(loss=f"{record['loss']:.4f}", acc=f"{record['train_acc']:.3f}")
        for cb in callbacks:
            cb(model, epoch, record)
        if target_accuracy is not None and history.test_epoch_reached is None and test_t is not None:
            if record["test_acc"] >= target_accuracy:
                history.test_epoch_reached = epoch
        reached = target_accuracy is not None and record["train_acc"] >= target_accuracy
        if reached and history.epoch_reached is None:
            history.epoch_reached = epoch
            if stop_at_target:
                break
    bar.close()
    return history
