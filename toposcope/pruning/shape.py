"""Betti criteria that measure the shape of a filter's outputs, not their size.

The paper removes filters whose feature maps have a large Betti number, because
"large Betti numbers scatter the samples of a class".  Read literally, with one
Euclidean radius for a whole layer (:func:`~toposcope.pruning.score_filters`, kept
here as ``criterion="literal"``), the count mostly says how *large* a filter's
outputs are: a filter whose maps are twice as big has points twice as far apart
and breaks into more pieces at the same radius.

The criteria here read each filter's clouds at a scale taken from the cloud
itself, so that multiplying a filter's output by any positive number leaves its
score unchanged:

``"relative"``
    per class, the cloud of the filter's post-activation maps (one point per
    image); its scale ``s`` is its median nearest-neighbour distance; the score
    counts the persistence bars longer than ``tau * s``: pieces that stay apart
    (H0) and loops that stay open (H1) well beyond the cloud's own spacing.
``"correlation"``
    the same with the correlation distance ``1 - r`` between two maps, which is
    blind to each map's own brightness and contrast as well.

The score of a filter is the sum over classes: high means the filter scatters
the images of a class into pieces and loops at its own scale, and is removed first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from joblib import Parallel, delayed
from ripser import ripser
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from torch import nn
from tqdm.auto import tqdm

from .._torch import capture_outputs, forward_batches
from ..memory import check_ripser_memory
from ..tracker import activation_layers, draw_per_class
from ..workers import check_n_jobs
from .scores import _images_and_labels, check_layers, score_filters, score_table

__all__ = ["CRITERIA", "output_modules", "shape_scores"]

CRITERIA = ("literal", "relative", "correlation")


def output_modules(model: nn.Module, layers: Sequence[str]) -> dict[str, str]:
    """For each conv layer, the module whose output is its filters' output space: the first activation after it.

    Modules are taken in registration order; a conv with no activation before the
    next conv (or the end) is read at its own output.
    """
    order = [name for name, _ in model.named_modules() if name]
    acts = set(activation_layers(model))
    convs = {name for name, m in model.named_modules() if isinstance(m, nn.Conv2d)}
    out = {}
    for layer in layers:
        out[layer] = layer
        for name in order[order.index(layer) + 1 :]:
            if name in convs:
                break
            if name in acts:
                out[layer] = name
                break
    return out


def _distances(cloud: torch.Tensor, criterion: str) -> torch.Tensor:
    """Pairwise distances of one filter's maps ``(n, H*W)``: Euclidean, or ``1 - correlation``."""
    x = cloud.double()
    if criterion == "correlation":
        x = x - x.mean(dim=1, keepdim=True)
        norms = x.norm(dim=1, keepdim=True)
        x = torch.where(norms > 0, x / norms.clamp_min(1e-300), torch.zeros_like(x))
        return (1.0 - x @ x.T).clamp_min(0.0).fill_diagonal_(0.0)
    return torch.cdist(x, x)


def relative_bars(D: np.ndarray, tau: float) -> tuple[int, int, float]:
    """Bars of a cloud longer than ``tau`` times its median nearest-neighbour distance: ``(h0, h1, scale)``.

    ``h0`` counts the pieces still apart at radius ``tau * s`` (the connected
    components of the graph of distances ``<= tau * s``, which is one plus the
    minimum-spanning-tree edges longer than it), ``h1`` the loops whose
    persistence exceeds it.  A cloud of one repeated point has ``(1, 0, 0.0)``.

    Exact shortcut: from the enclosing radius (the smallest ``max_j D[i, j]``) on,
    the Rips complex is a cone over that point, so every loop has died by then;
    when ``tau * s`` is at least the enclosing radius no loop can be longer, and
    ripser is not called.
    """
    n = len(D)
    off = D + np.diag(np.full(n, np.inf))
    nearest = off.min(axis=1)
    positive = nearest[nearest > 0]
    if len(positive) == 0:
        return 1, 0, 0.0
    scale = float(np.median(nearest))
    if scale == 0:  # over half the points are duplicates: take the spacing of the distinct ones
        scale = float(np.median(positive))
    cut = tau * scale
    h0 = int(connected_components(sparse.csr_matrix(D <= cut), directed=False)[0])
    enclosing = float(D.max(axis=1).min())
    if cut >= enclosing:
        return h0, 0, scale
    check_ripser_memory(n, n * (n - 1) / 2, 0, 1, dense=True)
    bars = ripser(D, maxdim=1, distance_matrix=True, thresh=enclosing)["dgms"][1]
    h1 = int(np.sum(bars[:, 1] - bars[:, 0] > cut))
    return h0, h1, scale


def _filter_scores(maps: np.ndarray, labels: np.ndarray, classes: list[int], criterion: str,
                   tau: float) -> tuple[int, int, float, float]:  # fmt: skip
    """One filter's ``(h0, h1, mean scale, rms)`` summed over its per-class clouds (``maps``: images x H*W)."""
    maps = torch.tensor(maps)  # a copy: joblib hands large arrays to workers read-only
    h0 = h1 = 0
    scales = []
    for c in classes:
        b0, b1, s = relative_bars(_distances(maps[torch.from_numpy(labels == c)], criterion).numpy(), tau)
        h0, h1 = h0 + b0, h1 + b1
        scales.append(s)
    return h0, h1, float(np.mean(scales)), float(maps.double().pow(2).mean().sqrt())


def shape_scores(
    model: nn.Module,
    images: Any,
    labels: Any = None,
    layers: Sequence[str] | None = None,
    *,
    criterion: str = "relative",
    per_class: int = 50,
    tau: float = 3.0,
    seed: int = 0,
    batch_size: int = 256,
    progress: bool = False,
    n_jobs: int = 1,
) -> pd.DataFrame:
    """Score every conv filter by the topology of its per-class output clouds, at each cloud's own scale.

    Parameters
    ----------
    model : nn.Module
        A trained CNN (unchanged, run in eval mode).
    images : tensor (n, c, h, w) or TensorDataset
    labels : tensor (n,), optional
        Required (a ``TensorDataset`` provides them): the clouds are per class.
    layers : sequence of str, optional
        Conv layers to score; default all.
    criterion : {"relative", "correlation", "literal"}, default "relative"
        See the module docstring.  ``"literal"`` is the paper's reading, one
        Euclidean radius per layer on the conv outputs of all images
        (:func:`score_filters` with its defaults, ``per_class * n_classes`` images).
    per_class : int, default 50
        Images drawn per class (seeded).
    tau : float, default 3.0
        Bars longer than ``tau`` times the cloud's median nearest-neighbour
        distance count.
    seed : int, default 0
    batch_size : int, default 256
    progress : bool, default False
    n_jobs : int, default 1
        Worker processes over the filters (joblib; ``-1``: every core).  The
        literal reading ignores it.

    Returns
    -------
    pandas.DataFrame
        ``layer, filter, h0, h1, score, scale, rms``: one row per filter; ``score
        = h0 + h1`` summed over classes (higher is removed first), ``scale`` the
        mean over classes of the cloud's own spacing, ``rms`` the root mean square
        of the filter's outputs (to check that the score is not a norm in disguise).
    """
    if criterion not in CRITERIA:
        raise ValueError(f"criterion must be one of {CRITERIA}; got {criterion!r}")
    if not (isinstance(tau, int | float) and np.isfinite(tau) and tau > 0):
        raise ValueError(f"tau must be a positive number; got {tau!r}")
    if isinstance(per_class, bool) or not isinstance(per_class, int) or per_class < 3:
        raise ValueError(f"per_class must be an integer >= 3; got {per_class!r}")
    check_n_jobs(n_jobs)
    layers = check_layers(model, layers)
    images, labels = _images_and_labels(images, labels)
    if labels is None:
        raise ValueError("shape_scores needs labels (per-class clouds): pass labels or a TensorDataset")
    chosen = draw_per_class(labels, per_class, seed)
    images, labels = images[chosen], labels[chosen]
    if criterion == "literal":
        table = score_filters(model, images, layers=layers, n_samples=len(images), seed=seed, batch_size=batch_size)
        literal = table.rename(columns={"b0": "h0", "b1": "h1"})[["layer", "filter", "h0", "h1", "score", "scale"]]
        literal.attrs = dict(table.attrs)
        return literal
    outputs = output_modules(model, layers)
    with capture_outputs(model, list(dict.fromkeys(outputs.values()))) as store:
        forward_batches(model, images, batch_size)
    classes = torch.unique(labels).tolist()
    jobs = []  # numpy rows, so that a worker receives one filter's maps, not the whole layer's
    for layer in layers:
        maps = torch.cat(store[outputs[layer]]).flatten(2).transpose(0, 1).contiguous().numpy()  # filter, image, pixel
        jobs += [(layer, f, cloud) for f, cloud in enumerate(maps)]
    store.clear()
    label_array = labels.numpy()
    tasks = (delayed(_filter_scores)(cloud, label_array, classes, criterion, tau) for _, _, cloud in jobs)
    rows = []
    bar = tqdm(total=len(jobs), disable=not progress, desc=f"{criterion} scores")
    for (layer, f, _), (h0, h1, scale, rms) in zip(jobs, Parallel(n_jobs=n_jobs, return_as="generator")(tasks),
                                                   strict=True):  # fmt: skip
        rows.append({"layer": layer, "filter": f, "h0": h0, "h1": h1, "score": h0 + h1, "scale": scale, "rms": rms})
        bar.update()
    bar.close()
    return score_table(rows, model)
