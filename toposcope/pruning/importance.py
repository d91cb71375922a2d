"""Torch-Pruning's importances as score tables (the L1 and random baselines).

Torch-Pruning calls an importance with a group of coupled layers and expects one
value per channel, low values pruned first; a score table (``layer, filter,
score``) holds removal priorities, high values pruned first.  This module turns
importances into score tables; :mod:`~toposcope.pruning.tp_importance` turns a
score table into an importance.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import torch
from torch import nn

from .._torch import model_device
from .scores import check_layers, score_table

__all__ = ["example_inputs_for", "importance_scores", "l1_scores", "random_scores"]


def example_inputs_for(model: nn.Module, example_inputs: torch.Tensor | None) -> torch.Tensor:
    """``example_inputs``, or a zero batch of the model's ``input_shape`` (as :class:`toposcope.PaperCNN` has)."""
    if example_inputs is not None:
        return example_inputs
    shape = getattr(model, "input_shape", None)
    if shape is None:
        raise ValueError("pass example_inputs (e.g. images[:1]): the model has no input_shape attribute")
    return torch.zeros(1, *shape, device=model_device(model))


def importance_scores(
    model: nn.Module,
    importance: Any,
    layers: Sequence[str] | None = None,
    *,
    example_inputs: torch.Tensor | None = None,
) -> pd.DataFrame:
    """Score every filter with a Torch-Pruning importance (low importance = removed first).

    Parameters
    ----------
    model : nn.Module
        Left unchanged.
    importance : torch_pruning.pruner.importance.Importance
        E.g. ``tp.importance.MagnitudeImportance(p=2)``.
    layers : sequence of str, optional
        Conv layers to score; default all.
    example_inputs : tensor, optional
        A batch the model accepts; default a zero batch of ``model.input_shape``.

    Returns
    -------
    pandas.DataFrame
        ``layer, filter, importance, score`` with ``score = -importance``.
    """
    import torch_pruning as tp

    layers = check_layers(model, layers)
    modules = dict(model.named_modules())
    graph = tp.DependencyGraph().build_dependency(model, example_inputs=example_inputs_for(model, example_inputs))
    rows = []
    for name in layers:
        conv = modules[name]
        group = graph.get_pruning_group(conv, tp.prune_conv_out_channels, idxs=list(range(conv.out_channels)))
        values = importance(group).detach().cpu().double()
        rows += [{"layer": name, "filter": f, "importance": float(v), "score": -float(v)} for f, v in enumerate(values)]
    return score_table(rows, model)


def l1_scores(
    model: nn.Module, layers: Sequence[str] | None = None, *, example_inputs: torch.Tensor | None = None
) -> pd.DataFrame:
    """The L1-norm criterion of Li et al. (2017), from Torch-Pruning: small filters are removed first.

    ``MagnitudeImportance(p=1, normalizer=None, group_reduction="first")``: the L1
    norm of each filter's own weights.

    Returns
    -------
    pandas.DataFrame
        ``layer, filter, l1, score`` with ``score = -l1``.
    """
    import torch_pruning as tp

    importance = tp.importance.MagnitudeImportance(p=1, normalizer=None, group_reduction="first")
    table = importance_scores(model, importance, layers, example_inputs=example_inputs)
    return table.rename(columns={"importance": "l1"})


def random_scores(
    model: nn.Module,
    layers: Sequence[str] | None = None,
    seed: int = 0,
    *,
    example_inputs: torch.Tensor | None = None,
) -> pd.DataFrame:
    """Random removal priorities from Torch-Pruning's ``RandomImportance``, seeded: the trivial baseline."""
    import torch_pruning as tp

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        table = importance_scores(model, tp.importance.RandomImportance(), layers, example_inputs=example_inputs)
    return table.drop(columns="importance")
