"""A small, deterministic training loop with a history and callbacks."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils.data import TensorDataset
from tqdm.auto import tqdm

from ._torch import TrainingDivergedError, as_xy, check_label_sets, check_training_args, resolve_device
from .measure import evaluate

__all__ = ["History", "fit"]

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
    best_epoch : int or None
        With ``patience``: the epoch of highest test accuracy, whose weights the
        model holds at the end (0: the weights before training).
    """

    records: list[dict[str, Any]] = field(default_factory=list)
    target_accuracy: float | None = None
    epoch_reached: int | None = None
    test_epoch_reached: int | None = None
    device: str = "cpu"
    best_epoch: int | None = None

    def log(self, record: dict[str, Any]) -> None:
        """Append one evaluated epoch's record and note the first epochs that reach the target.

        ``record`` holds at least ``epoch`` and ``train_acc``; ``test_acc`` may be ``None``.
        """
        self.records.append(record)
        if self.target_accuracy is None:
            return
        if self.epoch_reached is None and record["train_acc"] >= self.target_accuracy:
            self.epoch_reached = record["epoch"]
        test_acc = record.get("test_acc")
        if self.test_epoch_reached is None and test_acc is not None and test_acc >= self.target_accuracy:
            self.test_epoch_reached = record["epoch"]

    def column(self, key: str) -> list[Any]:
        """One field of every record, e.g. ``history.column("train_acc")``."""
        return [r[key] for r in self.records]

    def to_frame(self):
        """The records as a pandas ``DataFrame``."""
        import pandas as pd

        return pd.DataFrame.from_records(self.records)


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
    patience: int | None = None,
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
    patience : int, optional
        Train to convergence: stop once the test accuracy (of ``test``, which is
        then required: pass held-out data, not the data you report on) has not
        improved for ``patience`` epochs in a row, and give the model back the
        weights of its best epoch (``History.best_epoch``; 0 when training never
        beat the starting weights).  ``epochs`` is then the most it trains.

    Returns
    -------
    History
    """
    check_training_args(epochs, batch_size, lr, target_accuracy)
    if patience is not None and (isinstance(patience, bool) or not isinstance(patience, int) or patience < 1):
        raise ValueError(f"patience must be a positive integer; got {patience!r}")
    if patience is not None and test is None:
        raise ValueError("patience needs held-out data to watch: pass test=")
    if optimizer not in _OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(_OPTIMIZERS)}; got {optimizer!r}")
    dev = resolve_device(device)
    X, y = _model_dtype(model, *as_xy(train, "train"))
    test_t = _model_dtype(model, *as_xy(test, "test")) if test is not None else None
    check_label_sets(y, test_t[1] if test_t is not None else None)
    on_device = X.element_size() * X.nelement() <= _ON_DEVICE_LIMIT
    if on_device:
        X, y = X.to(dev), y.to(dev)
    model.to(dev)
    opt = _OPTIMIZERS[optimizer](model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    history = History(target_accuracy=target_accuracy, device=str(dev))
    for cb in callbacks:
        cb(model, 0, {})
    if patience is not None:
        best = (evaluate(model, test_t, device=dev), 0, copy.deepcopy(model.state_dict()))
    start = time.perf_counter()
    bar = tqdm(range(1, epochs + 1), desc="training", unit="epoch", disable=not progress, leave=False)
    for epoch in bar:
        loss = _train_epoch(model, opt, X, y, batch_size, gen, dev, epoch)
        record = {
            "epoch": epoch,
            "loss": loss,
            "train_acc": evaluate(model, (X, y), device=dev),
            "test_acc": evaluate(model, test_t, device=dev) if test_t is not None else None,
            "time": time.perf_counter() - start,
        }
        history.log(record)
        bar.set_postfix(loss=f"{record['loss']:.4f}", acc=f"{record['train_acc']:.3f}")
        for cb in callbacks:
            cb(model, epoch, record)
        if stop_at_target and history.epoch_reached == epoch:
            break
        if patience is not None:
            if record["test_acc"] > best[0]:
                best = (record["test_acc"], epoch, copy.deepcopy(model.state_dict()))
            elif epoch - best[1] >= patience:
                break
    bar.close()
    if patience is not None:
        model.load_state_dict(best[2])
        history.best_epoch = best[1]
    return history


def _model_dtype(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Floating-point features cast to the model's floating dtype (float64 numpy data into a float32 model)."""
    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), None)
    return (X.to(dtype) if dtype is not None and X.is_floating_point() else X), y


def _train_epoch(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    X: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    gen: torch.Generator,
    dev: torch.device,
    epoch: int,
) -> float:
    """One pass over (X, y) in a seeded random order; return the mean training loss.

    Raises :class:`TrainingDivergedError` naming the first batch whose loss was not
    finite (checked once, at the end of the epoch: no host sync per batch).
    """
    model.train()
    order = torch.randperm(len(X), generator=gen).to(X.device)
    total = torch.zeros((), device=dev)
    first_bad = torch.full((), -1, dtype=torch.long, device=dev)
    for batch, i in enumerate(range(0, len(X), batch_size)):
        idx = order[i : i + batch_size]
        xb, yb = X[idx].to(dev, non_blocking=True), y[idx].to(dev, non_blocking=True)
        opt.zero_grad(set_to_none=True)
        loss = nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        total += loss.detach() * len(idx)
        first_bad = torch.where((first_bad < 0) & ~torch.isfinite(loss.detach()), batch, first_bad)
    if int(first_bad) >= 0:
        raise TrainingDivergedError(
            f"the training loss is not finite in epoch {epoch}, batch {int(first_bad)} (0-based); the model's "
            "weights are no longer usable. Lower the learning rate or check the data."
        )
    return float(total) / len(X)
