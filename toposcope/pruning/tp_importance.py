"""The Betti score as a Torch-Pruning importance, so that Torch-Pruning's pruners can prune with it.

Importing this module imports Torch-Pruning (about 1.6 s), so ``toposcope.pruning``
loads it only when :class:`BettiImportance` is first used.
"""

from __future__ import annotations

import pandas as pd
import torch
import torch_pruning as tp
from torch import nn

from .scores import check_scores_match

__all__ = ["BettiImportance"]


class BettiImportance(tp.importance.Importance):
    """The Betti score as a Torch-Pruning importance: one value per output channel.

    A subclass of Torch-Pruning's ``Importance``: called with a group of coupled
    layers, it returns one value per channel of the group's root conv layer.
    Torch-Pruning removes the channels of *lowest* importance, so the importance
    is minus the score (a filter with a large Betti number is unimportant).
    Groups whose root layer has no score get ``None`` and are skipped.

    Parameters
    ----------
    model : nn.Module
        The model the pruner works on (scores are matched to its modules by name).
    scores : DataFrame
        From :func:`shape_scores` or :func:`score_filters` (any table with layer,
        filter, score).

    Examples
    --------
    >>> import torch_pruning as tp                                       # doctest: +SKIP
    >>> pruner = tp.pruner.MetaPruner(model, example_inputs, importance=BettiImportance(model, scores),
    ...                               pruning_ratio=0.25, ignored_layers=[model.logits])
    >>> pruner.step()
    """

    def __init__(self, model: nn.Module, scores: pd.DataFrame) -> None:
        check_scores_match(model, scores)
        modules = dict(model.named_modules())
        self._by_module: dict[nn.Module, torch.Tensor] = {}
        for layer, table in scores.groupby("layer", sort=False):
            values = torch.empty(modules[layer].out_channels)
            values[torch.tensor(table["filter"].to_numpy())] = torch.tensor(
                table["score"].to_numpy(), dtype=torch.float32
            )
            self._by_module[modules[layer]] = values

    @torch.no_grad()
    def __call__(self, group, **kwargs) -> torch.Tensor | None:
        dep, idxs = group[0]
        values = self._by_module.get(dep.target.module)
        if values is None:
            return None
        return -values[torch.as_tensor(list(idxs), dtype=torch.long)]
