"""Measuring a trained model: accuracy, size on disk, inference latency, and a table comparing models."""

from __future__ import annotations

import io
import statistics
import time
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import torch
from torch import nn
from torch.utils.data import TensorDataset

from ._torch import as_xy, forward_batches

__all__ = ["compare", "evaluate", "latency_ms", "state_dict_bytes"]


def evaluate(
    model: nn.Module,
    data: TensorDataset | tuple[torch.Tensor, torch.Tensor],
    batch_size: int = 4096,
    device: str | torch.device | None = None,
) -> float:
    """Accuracy of ``model`` on ``data`` (eval mode, no gradients, the model's mode restored after).

    Parameters
    ----------
    model : nn.Module
    data : TensorDataset or (X, y)
        Integer class labels.  A model returning a dict or tuple is read by
        :func:`toposcope._torch.output_tensor` (a dict's ``"logits"``, a tuple's first tensor).
    batch_size : int, default 4096
    device : str or torch.device, optional
        Where the forward passes run; default the model's device.

    Returns
    -------
    float
        The fraction of inputs whose largest output is at their label.

    Raises
    ------
    ValueError
        If the model outputs NaN or inf (never the accuracy of a broken model).
    """
    X, y = as_xy(data, "data")
    outputs = forward_batches(model, X, batch_size, device)
    if not torch.isfinite(outputs).all():
        raise ValueError("the model outputs NaN or inf: its accuracy would be meaningless (diverged weights?)")
    return float((outputs.argmax(1) == y.to(outputs.device)).float().mean())


def state_dict_bytes(model: nn.Module) -> int:
    """Size in bytes of ``torch.save(model.state_dict())``."""
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getbuffer().nbytes


@torch.inference_mode()
def latency_ms(model: nn.Module, batch: torch.Tensor, repeats: int = 30, warmup: int = 5) -> float:
    """Median wall-clock time of one forward pass of ``batch``, in milliseconds (CUDA synchronised)."""
    sync = torch.cuda.synchronize if batch.is_cuda else (lambda: None)
    for _ in range(warmup):
        model(batch)
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model(batch)
        sync()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def compare(
    models: Mapping[str, nn.Module],
    test: TensorDataset | tuple[torch.Tensor, torch.Tensor],
    *,
    batch_sizes: Sequence[int] = (1, 256),
    repeats: int = 30,
    warmup: int = 5,
    device: str | torch.device = "cpu",
    reference: str | None = None,
) -> pd.DataFrame:
    """Size, accuracy and inference latency of several models, measured in one run.

    Parameters
    ----------
    models : mapping name -> model
        E.g. ``{"unpruned": model, "betti": small, "l1": small_l1}``.
    test : TensorDataset or (X, y)
        Accuracy is measured on all of it; latency on its first images.
    batch_sizes : sequence of int, default (1, 256)
        Latency is measured at each batch size.
    repeats, warmup : int
        Timed forward passes (the median is reported) after untimed warm-up ones.
    device : str or torch.device, default "cpu"
        Where every model is timed (the same for all).
    reference : str, optional
        The model ratios are taken against; default the first.

    Returns
    -------
    pandas.DataFrame
        One row per model: ``params``, ``bytes`` (saved state dict), ``accuracy``,
        ``latency_ms_b{n}`` per batch size, and ``size_ratio`` and
        ``latency_ratio_b{n}`` (model / reference).
    """
    if not models:
        raise ValueError("no models to compare")
    reference = reference or next(iter(models))
    if reference not in models:
        raise ValueError(f"reference {reference!r} is not among the models {list(models)}")
    X, y = as_xy(test, "test")
    device = torch.device(device)
    rows = []
    for name, model in models.items():
        model = model.to(device).eval()
        row: dict[str, Any] = {
            "model": name,
            "params": sum(p.numel() for p in model.parameters()),
            "bytes": state_dict_bytes(model),
            "accuracy": evaluate(model, (X, y), device=device),
        }
        for b in batch_sizes:
            row[f"latency_ms_b{b}"] = latency_ms(model, X[:b].to(device), repeats, warmup)
        rows.append(row)
    table = pd.DataFrame(rows).set_index("model")
    table["size_ratio"] = table["bytes"] / table.loc[reference, "bytes"]
    for b in batch_sizes:
        table[f"latency_ratio_b{b}"] = table[f"latency_ms_b{b}"] / table.loc[reference, f"latency_ms_b{b}"]
    return table
