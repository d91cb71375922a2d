"""Betti filter pruning: score conv filters by the topology of their feature maps, remove them.

The replicated paper (section 3.6) argues that a filter whose feature maps, over
many inputs, form a point cloud with a large Betti number scatters samples of
the same class, and can be removed.  This module

* scores every output channel of every ``nn.Conv2d`` (:func:`score_filters`),
  with the baselines :func:`l1_scores` (Li et al. 2017) and :func:`random_scores`;
* exposes the score as a Torch-Pruning importance (:class:`BettiImportance`);
* removes filters physically, with Torch-Pruning's dependency graph so that the
  next layer's input channels, batch-norm channels and the slice of the first
  dense layer after a flatten go too (:func:`select_filters`, :func:`remove_filters`,
  :func:`prune`, :func:`prune_at_equal_budget`);
* reloads pruned weights into the original architecture (:func:`load_pruned`);
* measures size, accuracy and latency (:func:`compare`).

Every score table has one row per filter and a ``score`` column: the **removal
priority** (higher is removed first).  For the Betti criterion it is the Betti
number; for L1 it is minus the filter's L1 norm; for random, a random number.
"""

from __future__ import annotations

import copy
import io
import os
import statistics
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from scipy import sparse
from torch import nn
from torch.utils.data import TensorDataset
from tqdm.auto import tqdm

from .topology import DEFAULT_K, betti_numbers, flag_complex_betti
from .tracker import capture_outputs, model_device
from .training import evaluate

__all__ = [
    "BettiImportance",
    "compare",
    "conv_layers",
    "l1_scores",
    "load_pruned",
    "prune",
    "prune_at_equal_budget",
    "random_scores",
    "remove_filters",
    "score_filters",
    "select_filters",
    "state_dict_bytes",
]

SCORES = ("b0", "b1", "b0+b1", "sum")
Plan = dict[str, list[int]]


def conv_layers(model: nn.Module) -> list[str]:
    """Names of the ``nn.Conv2d`` modules of ``model``, in registration order."""
    return [name for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]


def _check_layers(model: nn.Module, layers: Sequence[str] | None) -> list[str]:
    modules = dict(model.named_modules())
    if layers is None:
        layers = conv_layers(model)
        if not layers:
            raise ValueError("the model has no nn.Conv2d layer to score")
        return layers
    layers = list(layers)
    for name in layers:
        if name not in modules:
            raise ValueError(f"model has no layer {name!r}; its conv layers are {conv_layers(model)}")
        if not isinstance(modules[name], nn.Conv2d):
            raise ValueError(f"layer {name!r} is a {type(modules[name]).__name__}, not an nn.Conv2d")
    return layers


def _images_and_labels(images: Any, labels: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
    if isinstance(images, TensorDataset):
        images, labels = images.tensors[0], images.tensors[1] if labels is None else labels
    images = torch.as_tensor(images)
    if images.ndim != 4:
        raise ValueError(f"images must be a batch (n, channels, height, width); got shape {tuple(images.shape)}")
    if len(images) < 2:
        raise ValueError(f"need at least 2 sample images to score filters; got {len(images)}")
    if labels is not None:
        labels = torch.as_tensor(labels)
        if labels.shape != (len(images),):
            raise ValueError(f"need one label per image: {len(images)} images, labels of shape {tuple(labels.shape)}")
    return images, labels


def _score_value(betti: Sequence[int], score: str) -> int:
    if score == "b0":
        return betti[0]
    if score == "b1":
        return betti[1]
    if score == "b0+b1":
        return betti[0] + betti[1]
    return sum(betti)


def _edges(D: torch.Tensor, eps: float) -> sparse.coo_matrix:
    """The graph of pairs at distance <= eps (upper triangle), from a square distance matrix."""
    i, j = torch.nonzero(torch.triu(D <= eps, diagonal=1), as_tuple=True)
    return sparse.coo_matrix((np.ones(len(i)), (i.numpy(), j.numpy())), shape=D.shape)


def _betti_of_filter(D: torch.Tensor, cloud: torch.Tensor, method: str, eps: float, k: int, maxdim: int):
    """Betti numbers of one filter's cloud, from its distance matrix (rips) or its points (knn)."""
    if method == "knn":
        result = betti_numbers(cloud, maxdim=maxdim, k=k, max_points=None)
        return np.asarray(result.betti), result.n_points
    n_points = len(torch.unique(cloud, dim=0))
    return np.asarray(flag_complex_betti(_edges(D, eps), maxdim)), n_points


def score_filters(
    model: nn.Module,
    images: Any,
    labels: Any = None,
    layers: Sequence[str] | None = None,
    *,
    n_samples: int = 500,
    method: str = "rips",
    scale: str | float = "layer",
    k: int = DEFAULT_K,
    score: str = "b0+b1",
    maxdim: int = 1,
    per_class: bool = False,
    seed: int = 0,
    batch_size: int = 256,
    progress: bool = False,
) -> pd.DataFrame:
    """Betti numbers of every conv filter's feature maps.

    For a filter (one output channel of a conv layer), each sample image gives
    one feature map of ``H x W`` values: one point in ``R^(H W)``.  The filter's
    point cloud is these points for the ``n_samples`` images.  The feature map
    is the conv layer's output, before the activation.  One forward pass feeds
    every layer, and each filter's distance matrix is computed once (batched,
    ``torch.cdist``) and serves both the choice of scale and the complex.

    The paper says only "Betti number" and uses a threshold of 300.  The default
    here, the Euclidean Rips complex at a **per-layer scale** (the median, over the
    layer's filters, of each filter's median nearest-neighbour distance), gives
    Betti numbers of that size on 500 images: a cloud whose points lie farther
    apart than the layer's typical spacing falls into many components, which is
    the "scattering" the paper describes.  Because a fixed scale is used for all
    filters of a layer, filters with larger outputs score higher.

    Parameters
    ----------
    model : nn.Module
        A trained CNN (left unchanged, run in eval mode).
    images : tensor (n, c, h, w) or TensorDataset
        Sample inputs; a ``TensorDataset`` also provides the labels.
    labels : tensor (n,), optional
        Needed with ``per_class=True``.
    layers : sequence of str, optional
        Conv layers to score; default all ``nn.Conv2d`` modules.
    n_samples : int, default 500
        Images drawn (seeded, without replacement) from ``images``; all when fewer.
    method : {"rips", "knn"}, default "rips"
        ``"rips"``: Euclidean Rips complex at ``scale``.  ``"knn"``: the library's
        default recipe (k nearest neighbours, 2 hops), which is scale-free; on
        feature maps it gives ``b0 = 1`` and ``b1`` close to 0 for almost every
        filter, so it hardly separates them.
    scale : "layer", "filter" or float, default "layer"
        For ``"rips"``: ``"layer"`` as above; ``"filter"``: each filter's own median
        nearest-neighbour distance (removes the dependence on output magnitude);
        a number: that Euclidean radius for every filter.
    k : int, default 14
        Neighbours for ``method="knn"``.
    score : {"b0+b1", "b0", "b1", "sum"}, default "b0+b1"
        Which number is the filter's score: both scattered pieces and loops count.
    maxdim : int, default 1
        Highest Betti number computed (``"sum"`` adds them all).
    per_class : bool, default False
        ``False``: one cloud of all samples per filter.  ``True``: one cloud per
        class (the scale still comes from all samples), Betti numbers summed.
    seed : int, default 0
        Seed of the draw of sample images.
    batch_size : int, default 256
        Forward-pass batch size.
    progress : bool, default False
        A progress bar over filters.

    Returns
    -------
    pandas.DataFrame
        Columns ``layer, filter, b0, b1, ..., score, n_points, scale``: one row per
        filter.  ``n_points`` counts distinct feature maps (a dead filter has 1);
        ``scale`` is the radius used (NaN for ``"knn"``).
    """
    if score not in SCORES:
        raise ValueError(f"score must be one of {SCORES}; got {score!r}")
    if score in ("b1", "b0+b1") and maxdim < 1:
        raise ValueError(f"score {score!r} needs maxdim >= 1")
    if method not in ("rips", "knn"):
        raise ValueError(f"method must be 'rips' or 'knn'; got {method!r}")
    if method == "rips" and not (scale in ("layer", "filter") or (isinstance(scale, float | int) and scale > 0)):
        raise ValueError(f"scale must be 'layer', 'filter' or a positive number; got {scale!r}")
    layers = _check_layers(model, layers)
    images, labels = _images_and_labels(images, labels)
    if per_class and labels is None:
        raise ValueError("per_class=True needs labels")
    if n_samples < 2:
        raise ValueError(f"n_samples must be at least 2; got {n_samples}")
    if len(images) > n_samples:
        keep = np.sort(np.random.default_rng(seed).choice(len(images), n_samples, replace=False))
        images = images[keep]
        labels = labels[keep] if labels is not None else None

    device = model_device(model)
    was_training = model.training
    model.eval()
    try:
        with capture_outputs(model, layers) as store, torch.no_grad():
            for i in range(0, len(images), batch_size):
                model(images[i : i + batch_size].to(device))
    finally:
        model.train(was_training)

    masks = [labels == c for c in torch.unique(labels).tolist()] if per_class else [None]
    rows = []
    bar = tqdm(total=sum(store[name][0].shape[1] for name in layers), desc="scoring filters", disable=not progress)
    for name in layers:
        clouds = torch.cat(store[name]).flatten(2).transpose(0, 1).contiguous()  # (filters, samples, H*W)
        D = torch.cdist(clouds.double(), clouds.double())  # (filters, samples, samples)
        nearest = D + torch.diag(torch.full((D.shape[1],), float("inf"), dtype=D.dtype))
        spacing = nearest.min(dim=-1).values.median(dim=-1).values  # per filter
        if method == "knn":
            radii = torch.full_like(spacing, float("nan"))
        elif scale == "layer":
            radii = spacing.median().expand_as(spacing)
        elif scale == "filter":
            radii = spacing
        else:
            radii = torch.full_like(spacing, float(scale))
        for f in range(len(clouds)):
            total, n_points = np.zeros(maxdim + 1, dtype=int), 0
            for mask in masks:
                if mask is not None and int(mask.sum()) < 2:
                    continue
                Df = D[f] if mask is None else D[f][mask][:, mask]
                cloud = clouds[f] if mask is None else clouds[f][mask]
                betti, n = _betti_of_filter(Df, cloud, method, float(radii[f]), k, maxdim)
                total, n_points = total + betti, n_points + n
            row = {"layer": name, "filter": f, **{f"b{d}": int(b) for d, b in enumerate(total)}}
            row.update(score=_score_value(total.tolist(), score), n_points=n_points, scale=float(radii[f]))
            rows.append(row)
            bar.update()
    bar.close()
    return pd.DataFrame(rows)


def l1_scores(model: nn.Module, layers: Sequence[str] | None = None) -> pd.DataFrame:
    """The L1-norm criterion of Li et al. (2017): small filters are removed first.

    Returns
    -------
    pandas.DataFrame
        ``layer, filter, l1, score`` with ``score = -l1``.
    """
    modules = dict(model.named_modules())
    rows = []
    for name in _check_layers(model, layers):
        norms = modules[name].weight.detach().abs().flatten(1).sum(1).cpu()
        rows += [{"layer": name, "filter": f, "l1": float(v), "score": -float(v)} for f, v in enumerate(norms)]
    return pd.DataFrame(rows)


def random_scores(model: nn.Module, layers: Sequence[str] | None = None, seed: int = 0) -> pd.DataFrame:
    """Random removal priorities (uniform on [0, 1), seeded): the trivial baseline."""
    modules = dict(model.named_modules())
    rng = np.random.default_rng(seed)
    rows = []
    for name in _check_layers(model, layers):
        values = rng.random(modules[name].out_channels)
        rows += [{"layer": name, "filter": f, "score": float(v)} for f, v in enumerate(values)]
    return pd.DataFrame(rows)


def _check_scores(scores: pd.DataFrame) -> None:
    if not isinstance(scores, pd.DataFrame) or not {"layer", "filter", "score"} <= set(scores.columns):
        raise TypeError("scores must be a DataFrame with columns layer, filter, score (see score_filters)")
    if scores.empty:
        raise ValueError("scores is empty")


def select_filters(
    scores: pd.DataFrame,
    *,
    threshold: float | None = None,
    ratio: float | None = None,
    counts: Mapping[str, int] | None = None,
) -> Plan:
    """Choose the filters to remove, per layer, from a score table.

    Give exactly one of:

    threshold
        Remove every filter whose score is above it (the paper: Betti number > 300).
    ratio
        Remove the ``floor(ratio * n_filters)`` highest-scored filters of each layer.
    counts
        Remove this many highest-scored filters of each named layer (the way to
        remove as many filters as another criterion did).

    Ties are broken by filter index.  Layers with nothing to remove are left out.

    Raises
    ------
    ValueError
        If the choice would remove every filter of a layer (the network would be
        cut in two); raise the threshold or lower the ratio.
    """
    _check_scores(scores)
    if sum(x is not None for x in (threshold, ratio, counts)) != 1:
        raise ValueError("give exactly one of threshold, ratio, counts")
    if ratio is not None and not 0 <= ratio < 1:
        raise ValueError(f"ratio must lie in [0, 1); got {ratio}")
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
    _check_layers(pruned, list(plan))
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


def prune(
    model: nn.Module,
    scores: pd.DataFrame,
    example_inputs: torch.Tensor,
    *,
    threshold: float | None = None,
    ratio: float | None = None,
    counts: Mapping[str, int] | None = None,
) -> nn.Module:
    """Remove the filters that :func:`select_filters` picks from ``scores``; return the smaller copy.

    Examples
    --------
    >>> scores = score_filters(model, images)                       # doctest: +SKIP
    >>> small = prune(model, scores, images[:1], threshold=300)     # the paper's rule
    >>> small = prune(model, scores, images[:1], ratio=0.25)        # a quarter of each layer
    """
    plan = select_filters(scores, threshold=threshold, ratio=ratio, counts=counts)
    return remove_filters(model, plan, example_inputs)


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
    plan = select_filters(betti_scores, threshold=threshold, ratio=ratio)
    counts = {layer: len(idxs) for layer, idxs in plan.items()}
    layers = list(dict.fromkeys(betti_scores["layer"]))
    models = {"betti": remove_filters(model, plan, example_inputs)}
    for name, table in (("l1", l1_scores(model, layers)), ("random", random_scores(model, layers, seed))):
        models[name] = remove_filters(model, select_filters(table, counts=counts), example_inputs)
    return models, plan


class BettiImportance:
    """The Betti score as a Torch-Pruning importance: one value per output channel.

    Torch-Pruning removes the channels of *lowest* importance, so the importance
    is minus the score (a filter with a large Betti number is unimportant).
    Groups whose root layer has no score get ``None`` and are skipped.

    Parameters
    ----------
    model : nn.Module
        The model the pruner works on (scores are matched to its modules by name).
    scores : DataFrame
        From :func:`score_filters` (or any table with layer, filter, score).

    Examples
    --------
    >>> import torch_pruning as tp                                       # doctest: +SKIP
    >>> pruner = tp.pruner.MetaPruner(model, example_inputs, importance=BettiImportance(model, scores),
    ...                               pruning_ratio=0.25, ignored_layers=[model.logits])
    >>> pruner.step()
    """

    def __init__(self, model: nn.Module, scores: pd.DataFrame) -> None:
        _check_scores(scores)
        modules = dict(model.named_modules())
        self._by_module: dict[nn.Module, torch.Tensor] = {}
        for layer, table in scores.groupby("layer", sort=False):
            if layer not in modules:
                raise ValueError(f"scores name a layer the model lacks: {layer!r}")
            values = torch.full((modules[layer].out_channels,), float("nan"))
            values[torch.tensor(table["filter"].to_numpy())] = torch.tensor(
                table["score"].to_numpy(), dtype=torch.float32
            )
            if torch.isnan(values).any():
                raise ValueError(f"scores for {layer!r} do not cover all its {len(values)} filters")
            self._by_module[modules[layer]] = values

    def __call__(self, group, **kwargs) -> torch.Tensor | None:
        dep, idxs = group[0]
        values = self._by_module.get(dep.target.module)
        if values is None:
            return None
        return -values[torch.as_tensor(list(idxs), dtype=torch.long)]


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
    state = torch.load(source, map_location="cpu", weights_only=True) if not isinstance(source, Mapping) else source
    model = copy.deepcopy(template)
    for name, module in model.named_modules():
        prefix = f"{name}." if name else ""
        if isinstance(module, nn.Conv2d | nn.Linear):
            weight = state[prefix + "weight"]
            module.weight = nn.Parameter(torch.empty_like(weight))
            if module.bias is not None:
                module.bias = nn.Parameter(torch.empty_like(state[prefix + "bias"]))
            if isinstance(module, nn.Conv2d):
                module.out_channels, module.in_channels = weight.shape[0], weight.shape[1] * module.groups
            else:
                module.out_features, module.in_features = weight.shape
        elif isinstance(module, nn.BatchNorm2d):
            n = state[prefix + "running_mean"].shape[0]
            module.num_features = n
            if module.affine:
                module.weight = nn.Parameter(torch.empty(n))
                module.bias = nn.Parameter(torch.empty(n))
            module.running_mean, module.running_var = torch.zeros(n), torch.ones(n)
    model.load_state_dict(state)
    return model


def state_dict_bytes(model: nn.Module) -> int:
    """Size in bytes of ``torch.save(model.state_dict())``."""
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getbuffer().nbytes


@torch.inference_mode()
def _latency_ms(model: nn.Module, batch: torch.Tensor, repeats: int, warmup: int) -> float:
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
    X, y = test.tensors if isinstance(test, TensorDataset) else test
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
            row[f"latency_ms_b{b}"] = _latency_ms(model, X[:b].to(device), repeats, warmup)
        rows.append(row)
    table = pd.DataFrame(rows).set_index("model")
    table["size_ratio"] = table["bytes"] / table.loc[reference, "bytes"]
    for b in batch_sizes:
        table[f"latency_ratio_b{b}"] = table[f"latency_ms_b{b}"] / table.loc[reference, f"latency_ms_b{b}"]
    return table
