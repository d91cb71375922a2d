"""The Betti score of conv filters: the topology of each filter's feature maps over sample images.

A score table has one row per filter (``layer, filter, ..., score``); ``score`` is
the removal priority: higher is removed first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from scipy import sparse
from torch import nn
from torch.utils.data import TensorDataset
from tqdm.auto import tqdm

from .._torch import capture_outputs, forward_batches
from ..memory import budget
from ..topology import DEFAULT_K, betti_numbers, flag_complex_betti

__all__ = ["check_scores_match", "conv_layers", "feature_maps", "model_fingerprint", "score_filters", "score_table"]

SCORES = ("b0", "b1", "b0+b1", "sum")


def conv_layers(model: nn.Module) -> list[str]:
    """Names of the ``nn.Conv2d`` modules of ``model``, in registration order."""
    return [name for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]


def check_layers(model: nn.Module, layers: Sequence[str] | None) -> list[str]:
    """The conv layers to work on: ``layers`` checked against the model, or all of them."""
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


def check_scores(scores: pd.DataFrame) -> None:
    """Raise unless ``scores`` is a non-empty table with ``layer, filter, score`` columns, one row per filter."""
    if not isinstance(scores, pd.DataFrame) or not {"layer", "filter", "score"} <= set(scores.columns):
        raise TypeError("scores must be a DataFrame with columns layer, filter, score (see score_filters)")
    if scores.empty:
        raise ValueError("scores is empty")
    repeated = scores[scores.duplicated(["layer", "filter"], keep=False)]
    if len(repeated):
        first = repeated.iloc[0]
        raise ValueError(f"scores list filter {first['filter']} of {first['layer']!r} more than once "
                         f"({len(repeated)} repeated rows): one row per filter")  # fmt: skip


def model_fingerprint(model: nn.Module) -> str:
    """A short hash of a model's conv layers (names, shapes and weights): which model a score table scores."""
    digest = hashlib.sha1()
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d):
            weight = module.weight.detach().cpu().contiguous()
            digest.update(f"{name}{tuple(weight.shape)}".encode())
            digest.update(weight.numpy().tobytes())
    return digest.hexdigest()[:16]


def score_table(rows: list[dict], model: nn.Module) -> pd.DataFrame:
    """A score table of ``model``: its rows, stamped with the model's fingerprint (``attrs["model"]``)."""
    table = pd.DataFrame(rows)
    table.attrs["model"] = model_fingerprint(model)
    return table


def check_scores_match(model: nn.Module, scores: pd.DataFrame) -> None:
    """Raise ``ValueError`` unless ``scores`` scores exactly the filters of ``model``'s conv layers.

    Every layer it names is a conv layer of the model, with one row for each of
    its filters ``0 .. out_channels - 1`` (missing, extra or repeated rows are
    named), and a table stamped by :func:`score_table` was computed on this model
    (a table of the unpruned model on a pruned one, or of another model, is refused).
    """
    check_scores(scores)
    stamp = scores.attrs.get("model")
    if stamp is not None and stamp != model_fingerprint(model):
        raise ValueError("these scores were computed on another model (its fingerprint differs: other weights, "
                         "or filters removed since); score this model again")  # fmt: skip
    modules = dict(model.named_modules())
    for layer, table in scores.groupby("layer", sort=False):
        if not isinstance(modules.get(layer), nn.Conv2d):
            raise ValueError(f"scores name {layer!r}, which is not a conv layer of this model")
        n = modules[layer].out_channels
        have = set(table["filter"].astype(int))
        missing, extra = sorted(set(range(n)) - have), sorted(have - set(range(n)))
        if missing or extra:
            raise ValueError(f"scores of {layer!r} do not match its {n} filters: missing {missing[:10]}, "
                             f"extra {extra[:10]} (a table of another, or an unpruned, model?)")  # fmt: skip


def _images_and_labels(images: Any, labels: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
    if isinstance(images, TensorDataset):
        images, labels = images.tensors[0], images.tensors[1] if labels is None else labels
    images = torch.as_tensor(images)
    if images.ndim != 4:
        raise ValueError(f"images must be a batch (n, channels, height, width); got shape {tuple(images.shape)}")
    if len(images) < 2:
        raise ValueError(f"need at least 2 sample images to score filters; got {len(images)}")
    if images.is_floating_point() and not torch.isfinite(images).all():
        bad = int((~torch.isfinite(images.flatten(1))).any(dim=1).sum())
        raise ValueError(f"images hold NaN or inf in {bad} of {len(images)} images: every filter would score alike")
    if labels is not None:
        labels = torch.as_tensor(labels)
        if labels.shape != (len(images),):
            raise ValueError(f"need one label per image: {len(images)} images, labels of shape {tuple(labels.shape)}")
    return images, labels


def _check_options(method: str, scale: str | float, score: str, maxdim: int, n_samples: int) -> None:
    if score not in SCORES:
        raise ValueError(f"score must be one of {SCORES}; got {score!r}")
    if score in ("b1", "b0+b1") and maxdim < 1:
        raise ValueError(f"score {score!r} needs maxdim >= 1")
    if method not in ("rips", "knn"):
        raise ValueError(f"method must be 'rips' or 'knn'; got {method!r}")
    if method == "rips" and not (scale in ("layer", "filter") or (isinstance(scale, float | int) and scale > 0)):
        raise ValueError(f"scale must be 'layer', 'filter' or a positive number; got {scale!r}")
    if n_samples < 2:
        raise ValueError(f"n_samples must be at least 2; got {n_samples}")


def feature_maps(
    model: nn.Module, images: torch.Tensor, layers: Sequence[str], batch_size: int = 256
) -> dict[str, torch.Tensor]:
    """Each conv filter's point cloud: layer -> tensor ``(filters, images, H * W)``.

    One forward pass (eval mode, no gradients) feeds every layer; a filter's cloud
    holds one point per image, its ``H x W`` feature map before the activation.
    """
    with capture_outputs(model, layers) as store:
        forward_batches(model, images, batch_size)
    return {name: torch.cat(store[name]).flatten(2).transpose(0, 1).contiguous() for name in layers}


def _spacing(D: torch.Tensor) -> torch.Tensor:
    """Each filter's median nearest-neighbour distance, from its distance matrices ``(filters, n, n)``."""
    nearest = D + torch.diag(torch.full((D.shape[1],), float("inf"), dtype=D.dtype))
    return nearest.min(dim=-1).values.median(dim=-1).values


def _filter_chunks(clouds: torch.Tensor) -> list[slice]:
    """Slices of a layer's filters whose distance matrices fit the memory budget together (at least one filter).

    Raises ``MemoryError`` where one filter's matrix alone does not fit: lower ``n_samples``.
    """
    n_filters, n = clouds.shape[0], clouds.shape[1]
    per_filter = 3 * 8 * n * n  # the float64 matrix and torch.cdist's work space
    fits = budget() // per_filter
    if fits < 1:
        raise MemoryError(f"one filter's distance matrix over {n:,} images needs about {per_filter / 2**30:.1f} GiB; "
                          f"the budget is {budget() / 2**30:.1f} GiB: lower n_samples")  # fmt: skip
    step = int(min(n_filters, fits))
    return [slice(i, i + step) for i in range(0, n_filters, step)]


def _distances(clouds: torch.Tensor) -> torch.Tensor:
    return torch.cdist(clouds.double(), clouds.double())


def _radii(spacing: torch.Tensor, method: str, scale: str | float) -> torch.Tensor:
    """The Rips radius of every filter of a layer, from each filter's spacing (:func:`_spacing`)."""
    if method == "knn":
        return torch.full_like(spacing, float("nan"))
    if scale == "layer":
        return spacing.median().expand_as(spacing)
    if scale == "filter":
        return spacing
    return torch.full_like(spacing, float(scale))


def _edges(D: torch.Tensor, eps: float) -> sparse.coo_matrix:
    """The graph of pairs at distance <= eps (upper triangle), from a square distance matrix."""
    i, j = torch.nonzero(torch.triu(D <= eps, diagonal=1), as_tuple=True)
    return sparse.coo_matrix((np.ones(len(i)), (i.numpy(), j.numpy())), shape=D.shape)


def _filter_betti(D: torch.Tensor, cloud: torch.Tensor, masks: list, method: str, eps: float, k: int,
                  maxdim: int) -> tuple[np.ndarray, int]:  # fmt: skip
    """Betti numbers of one filter's cloud (summed over the class masks) and its distinct points."""
    total, n_points = np.zeros(maxdim + 1, dtype=int), 0
    for mask in masks:
        if mask is not None and int(mask.sum()) < 2:
            continue
        Df = D if mask is None else D[mask][:, mask]
        points = cloud if mask is None else cloud[mask]
        if method == "knn":
            result = betti_numbers(points, maxdim=maxdim, k=k, max_points=None)
            betti, n = np.asarray(result.betti), result.n_points
        else:
            betti, n = np.asarray(flag_complex_betti(_edges(Df, eps), maxdim)), len(torch.unique(points, dim=0))
        total, n_points = total + betti, n_points + n
    return total, n_points


def _score_value(betti: Sequence[int], score: str) -> int:
    return {"b0": betti[0], "b1": betti[1] if len(betti) > 1 else 0, "b0+b1": sum(betti[:2])}.get(score, sum(betti))


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
    every layer (:func:`feature_maps`), and each filter's distance matrix is
    computed once (batched, ``torch.cdist``) and serves both the choice of scale
    and the complex.

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
    _check_options(method, scale, score, maxdim, n_samples)
    layers = check_layers(model, layers)
    images, labels = _images_and_labels(images, labels)
    if per_class and labels is None:
        raise ValueError("per_class=True needs labels")
    if len(images) > n_samples:
        keep = np.sort(np.random.default_rng(seed).choice(len(images), n_samples, replace=False))
        images, labels = images[keep], (labels[keep] if labels is not None else None)
    clouds_by_layer = feature_maps(model, images, layers, batch_size)
    masks = [labels == c for c in torch.unique(labels).tolist()] if per_class else [None]
    rows = []
    bar = tqdm(total=sum(len(c) for c in clouds_by_layer.values()), desc="scoring filters", disable=not progress)
    for name, clouds in clouds_by_layer.items():
        chunks = _filter_chunks(clouds)  # all filters at once where the budget allows, else in slices
        D = _distances(clouds[chunks[0]]) if len(chunks) == 1 else None  # (filters, samples, samples)
        spacing = _spacing(D) if D is not None else torch.cat([_spacing(_distances(clouds[c])) for c in chunks])
        radii = _radii(spacing, method, scale)
        for chunk in chunks:
            Dc = D if D is not None else _distances(clouds[chunk])
            for j, f in enumerate(range(chunk.start, min(chunk.stop, len(clouds)))):
                betti, n_points = _filter_betti(Dc[j], clouds[f], masks, method, float(radii[f]), k, maxdim)
                rows.append({"layer": name, "filter": f, **{f"b{d}": int(b) for d, b in enumerate(betti)},
                             "score": _score_value(betti.tolist(), score), "n_points": n_points,
                             "scale": float(radii[f])})  # fmt: skip
                bar.update()
    bar.close()
    return score_table(rows, model)
