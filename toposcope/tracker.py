"""Betti numbers of every layer's activations, per class, across training."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from ._torch import as_xy, capture_outputs, forward_batches, model_device
from .activations import TopoSine
from .hops import DEFAULT_K
from .readings import gaussian_null
from .workers import betti_numbers_many, check_n_jobs

__all__ = ["BettiTracker", "activation_layers", "draw_per_class", "maxmin_per_class"]

INPUT, LOGITS = "input", "logits"
COLUMNS = ["epoch", "layer", "layer_index", "class", "k", "dim", "betti", "null_betti", "n_points"]


def _is_activation(module: nn.Module) -> bool:
    if isinstance(module, TopoSine):
        return True
    return type(module).__module__ == "torch.nn.modules.activation" and not isinstance(module, nn.MultiheadAttention)


def activation_layers(model: nn.Module) -> list[str]:
    """Names of the activation modules of ``model``, in registration order."""
    return [name for name, m in model.named_modules() if name and _is_activation(m)]


def draw_per_class(y: torch.Tensor, n: int, seed: int) -> torch.Tensor:
    """Sorted indices of up to ``n`` inputs of each class of labels ``y``, drawn without replacement under ``seed``."""
    rng = np.random.default_rng(seed)
    keep = []
    for c in torch.unique(y).tolist():
        idx = torch.nonzero(y == c).flatten().numpy()
        if len(idx) > n:
            idx = rng.choice(idx, size=n, replace=False)
        keep.append(np.sort(idx))
    return torch.from_numpy(np.concatenate(keep))


def maxmin_per_class(X: torch.Tensor, y: torch.Tensor, n: int, seed: int) -> torch.Tensor:
    """Sorted indices of up to ``n`` inputs of each class, spread evenly over the class's inputs (max-min draw).

    Greedy farthest-point sampling on the flattened inputs: a seeded first point,
    then each next point the one farthest from those already drawn.  An evenly
    spread draw keeps the gaps between drawn points small and even, where a random
    draw of a surface can leave holes that read as spurious loops or voids.
    """
    rng = np.random.default_rng(seed)
    flat = X.reshape(len(X), -1).to(torch.float64)
    keep = []
    for c in torch.unique(y).tolist():
        idx = torch.nonzero(y == c).flatten()
        if len(idx) > n:
            points = flat[idx]
            chosen = [int(rng.integers(len(idx)))]
            nearest = torch.cdist(points, points[chosen]).flatten()
            for _ in range(n - 1):
                chosen.append(int(torch.argmax(nearest)))
                nearest = torch.minimum(nearest, torch.cdist(points, points[chosen[-1:]]).flatten())
            idx = idx[chosen]
        keep.append(np.sort(idx.numpy()))
    return torch.from_numpy(np.concatenate(keep))


class BettiTracker:
    """Record the Betti numbers of a network's layer activations.

    For each chosen layer, the activations of a set of inputs form a point
    cloud (one point per input, flattened); the tracker computes its Betti
    numbers per class with :func:`toposcope.betti_numbers`.

    Parameters
    ----------
    model : nn.Module
    layers : sequence of str, optional
        Module names (as in ``model.named_modules()``) whose outputs to track,
        plus the pseudo-layers ``"input"`` (the model's input) and ``"logits"``
        (the model's output).  Default: ``"input"``, every activation module,
        ``"logits"``.
    maxdim : int, default 1
        Highest Betti number.
    per_class : bool, default True
        One cloud per class; ``False`` uses all points together (class ``"all"``).
    labels : {"true", "predicted"}, default "true"
        Split classes by the true labels or by the model's predictions.
    samples_per_class : int or None, default 1000
        Inputs drawn (seeded, without replacement) from each true class once per
        :meth:`profile` call, so that every layer sees the same inputs.
        ``None`` uses all inputs.  A Betti number at a fixed scale depends on
        which points are drawn: a random draw of a surface can leave gaps that read
        as extra loops or voids (chapter 1 shows how a reading moves with the
        draw); ``draw="maxmin"`` spreads the drawn inputs evenly instead.
    null : bool, default False
        Also read each cloud's null model, a Gaussian cloud with its mean and
        covariance and as many points (:func:`toposcope.gaussian_null`, seeded
        with ``seed``), into the ``null_betti`` column (None otherwise): a count
        the null reads too is not topology of the data.  Doubles the cost.
    draw : {"random", "maxmin"}, default "random"
        How the ``samples_per_class`` inputs are drawn: at random
        (:func:`draw_per_class`), or evenly spread over each class's inputs
        (:func:`maxmin_per_class`, greedy farthest points; slower, O(n x samples)).
    batch_size : int, default 4096
        Forward-pass batch size.
    seed : int, default 0
        Seed of the draw of inputs.
    progress : bool, default False
        A progress bar over the clouds of a profile.
    n_jobs : int, default 1
        Worker processes computing the clouds of a profile at once (see
        :func:`toposcope.betti_numbers_many`); ``-1`` uses every core.
    **betti_kwargs
        Passed to :func:`toposcope.betti_numbers` (``method``, ``k``, ``scale``,
        ``max_points``...).  ``k`` may be a sequence: then every ``k`` is read
        from one forward pass and one neighbour search per cloud
        (:func:`toposcope.betti_curve`), on the device of the model's parameters.

    Attributes
    ----------
    records : list of dict
        Every row recorded so far; :attr:`frame` as a ``DataFrame``.

    Examples
    --------
    >>> tracker = BettiTracker(model)                       # doctest: +SKIP
    >>> df = tracker.profile(X, y)                          # one row per layer, class, dim
    >>> fit(model, train, callbacks=[tracker.callback(X, y, every=5)])
    """

    def __init__(
        self,
        model: nn.Module,
        layers: Sequence[str] | None = None,
        *,
        maxdim: int = 1,
        per_class: bool = True,
        labels: str = "true",
        samples_per_class: int | None = 1000,
        batch_size: int = 4096,
        seed: int = 0,
        progress: bool = False,
        n_jobs: int = 1,
        draw: str = "random",
        null: bool = False,
        **betti_kwargs: Any,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be an nn.Module; got {type(model).__name__}")
        if draw not in ("random", "maxmin"):
            raise ValueError(f"draw must be 'random' or 'maxmin'; got {draw!r}")
        if labels not in ("true", "predicted"):
            raise ValueError(f"labels must be 'true' or 'predicted'; got {labels!r}")
        if samples_per_class is not None and samples_per_class < 2:
            raise ValueError(f"samples_per_class must be at least 2 or None; got {samples_per_class}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}")
        if isinstance(maxdim, bool) or not isinstance(maxdim, int) or maxdim < 0:
            raise ValueError(f"maxdim must be a non-negative integer; got {maxdim!r}")
        check_n_jobs(n_jobs)
        modules = dict(model.named_modules())
        if layers is None:
            layers = [INPUT, *activation_layers(model), LOGITS]
        layers = list(layers)
        unknown = [name for name in layers if name not in modules and name not in (INPUT, LOGITS)]
        if unknown or not layers:
            choices = list(dict.fromkeys([INPUT, LOGITS, *(n for n in modules if n)]))
            raise ValueError(f"unknown layer(s) {unknown}; choose among {choices}")
        self.model = model
        self.layers = layers
        self.maxdim = maxdim
        self.per_class = per_class
        self.labels = labels
        self.samples_per_class = samples_per_class
        self.batch_size = batch_size
        self.seed = seed
        self.sampling = draw
        if not isinstance(null, bool):
            raise ValueError(f"null must be True or False; got {null!r}")
        self.null = null
        self.progress = progress
        self.n_jobs = n_jobs
        k = betti_kwargs.get("k", DEFAULT_K)
        self.ks = list(k) if isinstance(k, list | tuple | range | np.ndarray) else None
        if self.ks is not None:
            if betti_kwargs.get("method", "knn") != "knn":
                raise ValueError("several k need method='knn'")
            betti_kwargs = {key: v for key, v in betti_kwargs.items() if key not in ("k", "method")}
        self.betti_kwargs = betti_kwargs
        self.records: list[dict[str, Any]] = []

    @contextmanager
    def hooked(self) -> Iterator[dict[str, list[torch.Tensor]]]:
        """Hooks on the tracked modules (see :func:`capture_outputs`), plus empty lists for
        the pseudo-layers ``"input"`` and ``"logits"``, which :meth:`activations` fills."""
        modules = [name for name in self.layers if name not in (INPUT, LOGITS)]
        with capture_outputs(self.model, modules) as store:
            for name in self.layers:
                store.setdefault(name, [])
            yield store

    def activations(self, X: torch.Tensor) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """Run ``X`` through the model in eval mode; return (layer -> (n, features), logits)."""
        inputs = X.detach().to(device="cpu", dtype=torch.float32, copy=True)  # before any in-place layer runs
        with self.hooked() as store:
            logits = forward_batches(self.model, X, self.batch_size)
        store[INPUT] = [inputs]
        store[LOGITS] = [logits]
        return {name: torch.cat(store[name]).flatten(1) for name in self.layers}, logits

    def draw(self, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Indices of the inputs a profile uses: up to ``samples_per_class`` per class, seeded (see ``draw``)."""
        if self.samples_per_class is None:
            return torch.arange(len(y))
        if self.sampling == "maxmin":
            return maxmin_per_class(X, y, self.samples_per_class, self.seed)
        return draw_per_class(y, self.samples_per_class, self.seed)

    def profile(self, X: Any, y: Any, epoch: int | None = None) -> pd.DataFrame:
        """Betti numbers of every tracked layer, per class, for inputs ``X``.

        Parameters
        ----------
        X : tensor (n, ...)
            Inputs, in the shape the model takes.
        y : tensor (n,)
            Integer true labels (used to draw samples, and to split classes when
            ``labels="true"``).
        epoch : int, optional
            Stored in the ``epoch`` column.

        Returns
        -------
        pandas.DataFrame
            Columns ``epoch, layer, layer_index, class, k, dim, betti, null_betti, n_points``:
            one row per (layer, class, k, dim) (``k`` is None for methods other
            than ``"knn"``).  The rows are also appended to :attr:`records`.
        """
        X, y = torch.as_tensor(X), torch.as_tensor(y)
        if y.ndim != 1 or len(X) != len(y):
            raise ValueError(f"need one label per input: X has {len(X)} rows, y has shape {tuple(y.shape)}")
        if len(X) < 2:
            raise ValueError(f"need at least 2 inputs; got {len(X)}")
        X, y = as_xy((X, y), "profile")  # integer labels >= 0 and finite inputs, as fit checks them
        chosen = self.draw(X, y)
        acts, logits = self.activations(X[chosen])
        split = y[chosen] if self.labels == "true" else logits.argmax(1)
        groups = [(c, split == c) for c in torch.unique(split).tolist()] if self.per_class else [("all", None)]
        rows, jobs = [], []
        for li, name in enumerate(self.layers):
            for c, mask in groups:
                cloud = acts[name] if mask is None else acts[name][mask]
                if len(cloud) < 2:
                    warnings.warn(f"class {c!r} has {len(cloud)} input(s): no Betti numbers for it", stacklevel=2)
                    continue
                if not np.isfinite(cloud.numpy(force=True)).all():  # numpy's pass: 4x faster than torch's here
                    raise ValueError(f"layer {name!r} outputs NaN or inf for class {c!r}: no topology to compute "
                                     "(diverged weights, or non-finite inputs)")  # fmt: skip
                jobs.append((li, name, c, cloud))
        clouds = [job[3] for job in jobs]
        results = self._betti(clouds)
        nulls = self._betti([gaussian_null(c.numpy(), self.seed) for c in clouds]) if self.null else None
        for i, ((li, name, c, _), per_k) in enumerate(zip(jobs, results, strict=True)):
            for j, result in enumerate(per_k):
                for dim, b in enumerate(result.betti):
                    rows.append(
                        {"epoch": epoch, "layer": name, "layer_index": li, "class": c, "k": result.params.get("k"),
                         "dim": dim, "betti": b, "null_betti": nulls[i][j].betti[dim] if nulls else None,
                         "n_points": result.n_points}
                    )  # fmt: skip
        self.records.extend(rows)
        return pd.DataFrame(rows, columns=COLUMNS)

    def _betti(self, clouds: list) -> list[list]:
        """The Betti results of each cloud, a list per cloud (one per ``k``)."""
        if self.ks is None:
            return [[r] for r in betti_numbers_many(clouds, n_jobs=self.n_jobs, progress=self.progress,
                                                    maxdim=self.maxdim, **self.betti_kwargs)]  # fmt: skip
        device = model_device(self.model)
        device = None if device.type == "cpu" else device  # the CPU path stays as it is
        return betti_numbers_many(clouds, n_jobs=self.n_jobs, progress=self.progress, maxdim=self.maxdim,
                                  ks=self.ks, device=device, **self.betti_kwargs)  # fmt: skip

    def callback(self, X: Any, y: Any, every: int = 1):
        """A :func:`toposcope.fit` callback that profiles ``(X, y)`` every ``every`` epochs (and at epoch 0)."""
        if every < 1:
            raise ValueError(f"every must be a positive number of epochs; got {every}")

        def record(model: nn.Module, epoch: int, _record: dict) -> None:
            if epoch % every == 0:
                self.profile(X, y, epoch=epoch)

        return record

    @property
    def frame(self) -> pd.DataFrame:
        """All recorded rows as a ``DataFrame``."""
        return pd.DataFrame(self.records, columns=COLUMNS)
