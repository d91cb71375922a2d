"""Choosing filters from a score table, removing them physically, and reloading pruned weights."""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from .._torch import eval_mode
from .importance import example_inputs_for, l1_scores, random_scores
from .scores import check_layers, check_scores, check_scores_match

__all__ = ["load_pruned", "prune", "prune_at_equal_budget", "remove_filters", "select_filters"]

Plan = dict[str, list[int]]


def select_filters(
    scores: pd.DataFrame,
    *,
    threshold: float | None = None,
    ratio: float | None = None,
    counts: Mapping[str, int] | None = None,
    scope: str = "layer",
    max_layer_ratio: float = 0.9,
) -> Plan:
    """Choose the filters to remove, per layer, from a score table.

    Give exactly one of:

    threshold
        Remove every filter whose score is above it (the paper: Betti number > 300).
    ratio
        Remove the ``floor(ratio * n_filters)`` highest-scored filters of each layer
        (``scope="layer"``), or of the whole network ranked together (``scope="global"``:
        the scores must then be comparable across layers).
    counts
        Remove this many highest-scored filters of each named layer (the way to
        remove as many filters as another criterion did).

    Ties are broken by filter index (and, globally, by layer order).  Layers with
    nothing to remove are left out.  A global ratio takes at most ``floor(max_layer_ratio
    * n)`` filters of a layer of ``n`` (the next-ranked filter of another layer is taken
    instead), as Torch-Pruning's ``max_pruning_ratio`` does.

    Raises
    ------
    ValueError
        If the choice would remove every filter of a layer (the network would be
        cut in two); raise the threshold or lower the ratio.
    """
    check_scores(scores)
    if sum(x is not None for x in (threshold, ratio, counts)) != 1:
        raise ValueError("give exactly one of threshold, ratio, counts")
    if ratio is not None and not 0 <= ratio < 1:
        raise ValueError(f"ratio must lie in [0, 1); got {ratio}")
    if scope not in ("layer", "global"):
        raise ValueError(f"scope must be 'layer' or 'global'; got {scope!r}")
    if scope == "global" and ratio is None:
        raise ValueError("scope='global' ranks filters for a ratio: give ratio=")
    if not 0 < max_layer_ratio < 1:
        raise ValueError(f"max_layer_ratio must lie in (0, 1); got {max_layer_ratio}")
    if threshold is not None and not np.isfinite(threshold):
        raise ValueError(f"threshold must be a finite number; got {threshold}")
    bad_counts = {layer: n for layer, n in (counts or {}).items() if int(n) != n or n < 0}
    if bad_counts:
        raise ValueError(f"counts must be non-negative integers; got {bad_counts}")
    if scores["score"].isna().any():
        raise ValueError("scores hold NaN: cannot rank those filters")
    if scope == "global":
        counts, ratio = _global_counts(scores, ratio, max_layer_ratio), None
    plan: Plan = {}
    for layer, table in scores.groupby("layer", sort=False):
        table = table.sort_values(["score", "filter"], ascending=[False, True], kind="stable")
        n = len(table)
        if threshold is not None:
            chosen = table[table["score"] > threshold]["filter"].tolist()
        else:
            k = int(np.floor(ratio * n)) if ratio is not None else int(counts.get(layer, 0))
            chosen = table["filter"].iloc[:k].tolist()
        if len(chosen) >= n:
            raise ValueError(
                f"this choice removes all {n} filters of {layer!r} (scores {table['score'].min()}.."
                f"{table['score'].max()}): keep at least one"
            )
        if chosen:
            plan[str(layer)] = sorted(int(f) for f in chosen)
    if counts is not None:
        unknown = set(counts) - set(scores["layer"])
        if unknown:
            raise ValueError(f"counts names layers without scores: {sorted(unknown)}")
    return plan


def remove_filters(model: nn.Module, plan: Mapping[str, Sequence[int]], example_inputs: torch.Tensor) -> nn.Module:
    """A copy of ``model`` with the planned conv filters physically removed.

    Torch-Pruning's dependency graph (traced with ``example_inputs``) removes,
    with each filter, the matching input channel of the next conv layer, the
    batch-norm channel and the matching slice of a dense layer after a flatten.

    Parameters
    ----------
    model : nn.Module
        Left unchanged.
    plan : mapping layer -> filter indices
        As returned by :func:`select_filters`.
    example_inputs : tensor
        A batch the model accepts (e.g. ``images[:1]``), on the model's device.

    Returns
    -------
    nn.Module
        The smaller model; its conv weights have fewer output channels.
    """
    import torch_pruning as tp

    pruned = copy.deepcopy(model)
    modules = dict(pruned.named_modules())
    check_layers(pruned, list(plan))
    graph = tp.DependencyGraph().build_dependency(pruned, example_inputs=example_inputs)
    for layer, idxs in plan.items():
        idxs = sorted({int(i) for i in idxs})
        conv = modules[layer]
        if not idxs:
            continue
        if idxs[0] < 0 or idxs[-1] >= conv.out_channels:
            raise ValueError(f"{layer} has {conv.out_channels} filters; cannot remove {idxs}")
        if len(idxs) >= conv.out_channels:
            raise ValueError(f"cannot remove all {conv.out_channels} filters of {layer!r}")
        group = graph.get_pruning_group(conv, tp.prune_conv_out_channels, idxs=idxs)
        if not graph.check_pruning_group(group):
            raise ValueError(f"Torch-Pruning refuses to remove filters {idxs} of {layer!r}")
        group.prune()
    return pruned


def _global_counts(scores: pd.DataFrame, ratio: float, max_layer_ratio: float) -> dict[str, int]:
    """Filters to remove per layer when the ``floor(ratio * total)`` highest scores of the network go."""
    layers = list(dict.fromkeys(scores["layer"]))
    ranked = scores.assign(order=scores["layer"].map(layers.index)).sort_values(
        ["score", "order", "filter"], ascending=[False, True, True], kind="stable"
    )
    caps = {layer: int(np.floor(max_layer_ratio * n)) for layer, n in scores["layer"].value_counts().items()}
    counts = dict.fromkeys(layers, 0)
    todo = int(np.floor(ratio * len(scores)))
    for layer in ranked["layer"]:
        if todo == 0:
            break
        if counts[layer] < caps[layer]:
            counts[layer] += 1
            todo -= 1
    return counts


def prune(
    model: nn.Module,
    scores: pd.DataFrame,
    example_inputs: torch.Tensor | None = None,
    *,
    threshold: float | None = None,
    ratio: float | None = None,
    counts: Mapping[str, int] | None = None,
    scope: str = "layer",
) -> nn.Module:
    """Remove the filters that :func:`select_filters` picks from ``scores``; return the smaller copy.

    ``scores`` must score exactly this model's filters (:func:`~toposcope.pruning.check_scores_match`:
    no missing, repeated or extra rows, and not a table of another or an unpruned model).

    Examples
    --------
    >>> scores = score_filters(model, images)                       # doctest: +SKIP
    >>> small = prune(model, scores, images[:1], threshold=300)     # the paper's rule
    >>> small = prune(model, scores, images[:1], ratio=0.25)        # a quarter of each layer
    >>> small = prune(paper_cnn, scores, ratio=0.25)                # inputs shaped from model.input_shape
    >>> small = prune(paper_cnn, scores, ratio=0.25, scope="global")  # a quarter of the network's filters
    """
    check_scores_match(model, scores)
    plan = select_filters(scores, threshold=threshold, ratio=ratio, counts=counts, scope=scope)
    return remove_filters(model, plan, example_inputs_for(model, example_inputs))


def prune_at_equal_budget(
    model: nn.Module,
    betti_scores: pd.DataFrame,
    example_inputs: torch.Tensor,
    *,
    threshold: float | None = None,
    ratio: float | None = None,
    seed: int = 0,
) -> tuple[dict[str, nn.Module], Plan]:
    """Prune by the Betti criterion, and by L1 norm and at random removing as many filters per layer.

    Returns
    -------
    models : dict
        ``{"betti": ..., "l1": ..., "random": ...}``, pruned copies of ``model``.
    plan : dict
        The Betti criterion's plan (layer -> removed filters).
    """
    check_scores_match(model, betti_scores)
    plan = select_filters(betti_scores, threshold=threshold, ratio=ratio)
    counts = {layer: len(idxs) for layer, idxs in plan.items()}
    layers = list(dict.fromkeys(betti_scores["layer"]))
    models = {"betti": remove_filters(model, plan, example_inputs)}
    baselines = {
        "l1": l1_scores(model, layers, example_inputs=example_inputs),
        "random": random_scores(model, layers, seed, example_inputs=example_inputs),
    }
    for name, table in baselines.items():
        models[name] = remove_filters(model, select_filters(table, counts=counts), example_inputs)
    return models, plan


def load_pruned(template: nn.Module, source: str | os.PathLike | Mapping[str, torch.Tensor]) -> nn.Module:
    """Rebuild a pruned model from the unpruned architecture and the pruned weights.

    The architecture is ``template`` (e.g. a fresh ``PaperCNN()``); the channel
    counts come from the weights.  Save a pruned model with
    ``torch.save(pruned.state_dict(), path)``; this loads it with
    ``torch.load(path, weights_only=True)``.

    Parameters
    ----------
    template : nn.Module
        The unpruned architecture (left unchanged).
    source : path or state dict

    Returns
    -------
    nn.Module
        A copy of ``template`` with its conv, linear and batch-norm layers resized
        to the saved weights, which are loaded.
    """
    state = _load_state(source)
    expected = set(template.state_dict())
    if set(state) != expected:
        missing, unexpected = sorted(expected - set(state)), sorted(set(state) - expected)
        raise ValueError(f"the weights do not fit this architecture: missing {missing[:5]}, unexpected "
                         f"{unexpected[:5]} (was it saved from another model?)")  # fmt: skip
    model = copy.deepcopy(template)
    for name, module in model.named_modules():
        prefix = f"{name}." if name else ""
        if isinstance(module, nn.Conv2d | nn.Linear):
            _resize_weighted(module, state, prefix)
        elif isinstance(module, nn.BatchNorm2d):
            n = state[prefix + "running_mean"].shape[0]
            module.num_features = n
            if module.affine:
                module.weight = nn.Parameter(torch.empty(n))
                module.bias = nn.Parameter(torch.empty(n))
            module.running_mean, module.running_var = torch.zeros(n), torch.ones(n)
    model.load_state_dict(state)
    shape = getattr(model, "input_shape", None)
    if shape is not None:
        try:
            with torch.no_grad(), eval_mode(model):
                model(torch.zeros(1, *shape))
        except RuntimeError as err:
            raise ValueError(f"the pruned weights are inconsistent (channel counts do not chain): {err}") from None
    return model


def _load_state(source: str | os.PathLike | Mapping[str, torch.Tensor]) -> Mapping[str, torch.Tensor]:
    """A state dict from a path (``torch.load``, weights only) or a mapping, checked to hold tensors."""
    if isinstance(source, Mapping):
        state = source
    else:
        try:
            state = torch.load(source, map_location="cpu", weights_only=True)
        except Exception as err:  # pickle, zip and unpickling errors all mean "not a saved state dict"
            raise ValueError(f"{source} is not a saved state dict ({type(err).__name__}: {err})") from None
    if not isinstance(state, Mapping) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        what = f"the {type(source).__name__} given" if isinstance(source, Mapping) else str(source)
        raise ValueError(f"{what} does not hold a state dict (name -> tensor)")
    return state


def _resize_weighted(module: nn.Conv2d | nn.Linear, state: Mapping[str, torch.Tensor], prefix: str) -> None:
    """Give a conv or linear layer the shapes of the saved weights (values are loaded afterwards)."""
    weight = state[prefix + "weight"]
    module.weight = nn.Parameter(torch.empty_like(weight))
    if module.bias is not None:
        module.bias = nn.Parameter(torch.empty_like(state[prefix + "bias"]))
    if isinstance(module, nn.Conv2d):
        module.out_channels, module.in_channels = weight.shape[0], weight.shape[1] * module.groups
    else:
        module.out_features, module.in_features = weight.shape
