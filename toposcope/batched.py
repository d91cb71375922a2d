"""Train many small MLPs at once: one stacked set of weights, batched matrix products.

A sweep over activations and seeds trains dozens of 9 x 25 networks.  One at a
time, each step is a handful of tiny matrix products and the time goes to Python
and kernel-launch overhead.  :class:`BatchedMLP` holds ``K`` networks of the same
widths as stacked tensors (``(K, in, out)`` weights) and runs them together with
``torch.baddbmm``; each network keeps its own activation per layer, its own
initialisation (copied from :class:`toposcope.MLP` built under its seed, so it
starts exactly where a sequential run would) and its own data order.  The loss is
the sum of the networks' losses, so gradients do not mix, and Adam's update is
elementwise, so :func:`train_many` trains each network as :func:`toposcope.fit`
would, up to floating-point summation order: batched and sequential matrix
products round differently, and training amplifies those last bits for kinked
activations (ReLU, the sine family: up to about 1e-2 in the loss after two
epochs on nine rings), so a batched run and a sequential run of the same seed are
two equally valid draws, not bit-identical copies.

A run's result does **not** depend on which other runs share its batch (tested
bitwise, on the CPU and on CUDA): on the CPU the loss is computed model by model,
and transcendental activations run model by model, because a kernel split
between threads rounds the elements at the split differently (before this, the
same seed gave ReLU epochs-to-99% of 36, 34, 16, 28, 32 in one group and 27, 28,
30, 23, 22 in another).  A CUDA kernel computes each element alike wherever it
sits, so on a GPU the activations run on all models at once and the loss is one
fused cross-entropy whose per-model mean is a fixed pairwise sum of elementwise
additions: one step of a few dozen kernels for any number of models, instead of
a few per model.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import TensorDataset
from tqdm.auto import tqdm

from ._torch import TrainingDivergedError, as_xy, check_label_sets, check_training_args, resolve_device
from .layouts import Layout
from .models import MLP
from .training import History

__all__ = ["BatchedMLP", "ModelSpec", "train_many"]


@dataclass(frozen=True)
class ModelSpec:
    """One network of a batch: its activation layout and its seed.

    Attributes
    ----------
    layout : Layout
        The activation of each hidden layer (e.g. ``LAYOUTS["topo_sine_mid"]`` or
        ``Layout.uniform("tanh")``).
    seed : int
        Initialisation seed (``torch.manual_seed`` before building the MLP) and
        shuffling seed.
    """

    layout: Layout
    seed: int = 0

    def build(self, in_dim: int, hidden: Sequence[int], out_dim: int) -> MLP:
        """The equivalent sequential :class:`toposcope.MLP`, initialised under ``seed``."""
        torch.manual_seed(self.seed)
        activations = [spec.build() for spec in self.layout.per_layer(len(hidden))]
        return MLP(in_dim, hidden, out_dim, activations=activations)


class BatchedMLP(nn.Module):
    """``K`` MLPs of equal widths, evaluated together on inputs of shape ``(K, batch, in_dim)``.

    Parameters
    ----------
    specs : sequence of ModelSpec
        One per network.
    in_dim, hidden, out_dim
        As in :class:`toposcope.MLP`.
    """

    def __init__(self, specs: Sequence[ModelSpec], in_dim: int, hidden: Sequence[int], out_dim: int) -> None:
        super().__init__()
        if not specs:
            raise ValueError("need at least one model spec")
        self.specs = list(specs)
        self.hidden = list(hidden)
        singles = [spec.build(in_dim, hidden, out_dim) for spec in self.specs]
        linears = [[m for m in single if isinstance(m, nn.Linear)] for single in singles]
        self.weights = nn.ParameterList(
            [nn.Parameter(torch.stack([ls[i].weight.detach().T for ls in linears])) for i in range(len(hidden) + 1)]
        )
        self.biases = nn.ParameterList(
            [nn.Parameter(torch.stack([ls[i].bias.detach() for ls in linears])) for i in range(len(hidden) + 1)]
        )
        # Per layer: runs of consecutive models sharing an activation, as (module, count).
        # train_many orders the models by layout, so that the runs are few and long.
        self.segments: list[list[tuple[nn.Module, int]]] = []
        self._activations = nn.ModuleList()
        for layer in range(len(hidden)):
            runs: list[list] = []
            for spec in self.specs:
                key = spec.layout.per_layer(len(hidden))[layer]
                if runs and runs[-1][0] == key:
                    runs[-1][1] += 1
                else:
                    runs.append([key, 1])
            segments = []
            for activation, count in runs:
                module = activation.build()
                self._activations.append(module)
                segments.append((module, count))
            self.segments.append(segments)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer, (W, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            x = torch.baddbmm(b.unsqueeze(1), x, W)
            if layer < len(self.segments):
                segments = self.segments[layer]
                x = _apply_segments(segments, x)
        return x


_EXACT = (nn.ReLU, nn.LeakyReLU)
"""Piecewise-linear activations: correctly rounded elementwise, the same bits in any batch layout."""


def _apply_segments(segments: list[tuple[nn.Module, int]], x: torch.Tensor) -> torch.Tensor:
    """Each model's activation on its slice of ``x`` (K, b, width).

    Transcendental activations (the sine family, tanh, sigmoid) run model by
    model: on a tensor split between threads, the elements at a split point take
    a scalar code path that rounds differently from the vectorised one, so a
    slice's result would depend on which other models share the batch.  CUDA
    kernels round every element alike, so there a segment runs at once.
    """
    outputs = []
    for (module, _), part in zip(segments, x.split([c for _, c in segments]), strict=True):
        whole = x.is_cuda or isinstance(module, _EXACT)
        outputs.extend([module(part)] if whole else [module(p) for p in part.split(1)])
    return outputs[0] if len(outputs) == 1 else torch.cat(outputs)


@torch.no_grad()
def _accuracy(model: BatchedMLP, X: torch.Tensor, y: torch.Tensor, chunk: int = 8192) -> torch.Tensor:
    """Accuracy of every network on (X, y): shape (K,)."""
    K = len(model.specs)
    correct = torch.zeros(K, device=X.device)
    for i in range(0, len(X), chunk):
        xb = X[i : i + chunk].unsqueeze(0).expand(K, -1, -1)
        correct += (model(xb).argmax(-1) == y[i : i + chunk]).sum(1)
    return correct / len(X)


def train_many(
    specs: Sequence[ModelSpec],
    train: TensorDataset,
    test: TensorDataset | None = None,
    *,
    hidden: Sequence[int] = (25,) * 9,
    epochs: int = 100,
    batch_size: int = 128,
    lr: float = 3e-3,
    target_accuracy: float | None = None,
    stop_when_all_reached: bool = False,
    eval_every: int = 1,
    device: str | torch.device = "auto",
    progress: bool = True,
) -> list[History]:
    """Train one MLP per spec, all at once, with Adam and cross-entropy.

    Parameters
    ----------
    specs : sequence of ModelSpec
        The networks; each is initialised and shuffled under its own seed.
    train, test : TensorDataset
        ``(X, y)`` with ``X`` of shape ``(n, in_dim)``.
    hidden : sequence of int
        Hidden widths (shared by all networks).
    epochs, batch_size, lr
        As in :func:`toposcope.fit`; ``batch_size >= len(train)`` is full batch.
    target_accuracy : float, optional
        Record the first evaluated epoch whose training accuracy reaches it.
    stop_when_all_reached : bool, default False
        Stop once every network reached ``target_accuracy`` on the training set
        (and on the test set, when given).
    eval_every : int, default 1
        Evaluate accuracies every this many epochs (and at the last).
    device : "auto", str or torch.device
    progress : bool

    Returns
    -------
    list of History
        One per spec, in order; ``records`` hold ``epoch, loss, train_acc,
        test_acc, time`` at the evaluated epochs (``time``: seconds since the
        start, shared by the batch).
    """
    if not specs:
        raise ValueError("need at least one model spec")
    check_training_args(epochs, batch_size, lr, target_accuracy)
    if isinstance(eval_every, bool) or not isinstance(eval_every, int) or eval_every < 1:
        raise ValueError(f"eval_every must be a positive number of epochs; got {eval_every!r}")
    train_xy = as_xy(train, "train")
    test_xy = as_xy(test, "test") if test is not None else None
    check_label_sets(train_xy[1], test_xy[1] if test_xy is not None else None)
    # Models of one layout side by side: few, long activation segments.
    order = sorted(range(len(specs)), key=lambda k: (repr(specs[k].layout.per_layer(len(hidden))), k))
    histories = _train_sorted(
        [specs[k] for k in order], train_xy, test_xy, hidden=hidden, epochs=epochs, batch_size=batch_size, lr=lr,
        target_accuracy=target_accuracy, stop_when_all_reached=stop_when_all_reached, eval_every=eval_every,
        dev=resolve_device(device), progress=progress,
    )  # fmt: skip
    return [histories[order.index(k)] for k in range(len(specs))]


def _train_epoch(model: BatchedMLP, opt: torch.optim.Optimizer, X: torch.Tensor, y: torch.Tensor,
                 batch_size: int, gens: list[torch.Generator], epoch: int) -> torch.Tensor:  # fmt: skip
    """One pass of every network over (X, y), each in its own seeded order; mean losses, shape (K,).

    Raises :class:`TrainingDivergedError` naming the networks whose loss was not
    finite (checked once, at the end of the epoch).
    """
    model.train()
    n = len(X)
    order = torch.stack([torch.randperm(n, generator=g) for g in gens]).to(X.device)  # (K, n)
    total = torch.zeros(len(gens), device=X.device)
    first_bad = torch.full((len(gens),), -1, dtype=torch.long, device=X.device)
    for batch, i in enumerate(range(0, n, batch_size)):
        idx = order[:, i : i + batch_size]
        logits = model(X[idx])  # (K, b, out)
        loss = _losses(logits, y[idx])
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        opt.step()
        total += loss.detach() * idx.shape[1]
        first_bad = torch.where((first_bad < 0) & ~torch.isfinite(loss.detach()), batch, first_bad)
    bad = {k: b for k, b in enumerate(first_bad.tolist()) if b >= 0}
    if bad:
        specs = model.specs
        names = ", ".join(f"{specs[k].layout.name} seed {specs[k].seed} (batch {b})" for k, b in bad.items())
        raise TrainingDivergedError(f"the training loss is not finite in epoch {epoch} for {names}; "
                                    "lower the learning rate or check the data")  # fmt: skip
    return total / n


def _losses(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Each model's mean cross-entropy on its batch: logits (K, b, C), targets (K, b); shape (K,).

    On the CPU, model by model, as :func:`toposcope.fit` computes it: a softmax over
    the stacked batch would round each row by its position in the stack, and a run
    would depend on its neighbours.  On CUDA, one fused cross-entropy per row and a
    per-model mean summed pairwise by elementwise additions (the same order for every
    model, whatever ``K``).
    """
    if not logits.is_cuda:
        return torch.stack([F.cross_entropy(lk, tk) for lk, tk in zip(logits, targets, strict=True)])
    K, b, C = logits.shape
    return _pairwise_mean(F.cross_entropy(logits.reshape(K * b, C), targets.reshape(-1), reduction="none").view(K, b))


def _pairwise_mean(rows: torch.Tensor) -> torch.Tensor:
    """The mean of each row of ``rows`` (K, b), summed pairwise by elementwise additions.

    Every row is summed in the same order whatever ``K``, so a row's mean does not
    depend on the rows beside it (a reduction kernel may split rows differently
    for different ``K``).
    """
    b = rows.shape[1]
    rows = F.pad(rows, (0, (1 << (b - 1).bit_length()) - b))
    while rows.shape[1] > 1:
        half = rows.shape[1] // 2
        rows = rows[:, :half] + rows[:, half:]
    return rows[:, 0] / b


def _train_sorted(
    specs: Sequence[ModelSpec],
    train: tuple[torch.Tensor, torch.Tensor],
    test: tuple[torch.Tensor, torch.Tensor] | None,
    *,
    hidden: Sequence[int],
    epochs: int,
    batch_size: int,
    lr: float,
    target_accuracy: float | None,
    stop_when_all_reached: bool,
    eval_every: int,
    dev: torch.device,
    progress: bool,
) -> list[History]:
    """:func:`train_many` on specs grouped by layout and checked ``(X, y)`` data; one History per spec, in order."""
    X, y = (t.to(dev) for t in train)
    Xt, yt = (t.to(dev) for t in test) if test is not None else (None, None)
    out_dim = int(y.max()) + 1 if test is None else max(int(y.max()), int(yt.max())) + 1
    model = BatchedMLP(specs, X.shape[1], hidden, out_dim).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gens = [torch.Generator().manual_seed(spec.seed) for spec in specs]
    histories = [History(target_accuracy=target_accuracy, device=str(dev)) for _ in specs]
    start = time.perf_counter()
    bar = tqdm(range(1, epochs + 1), desc=f"training {len(specs)} models", unit="epoch", disable=not progress,
               leave=False)  # fmt: skip
    for epoch in bar:
        losses = _train_epoch(model, opt, X, y, batch_size, gens, epoch)
        if epoch % eval_every and epoch != epochs:
            continue
        mean_loss = losses.tolist()
        model.eval()
        train_acc = _accuracy(model, X, y).tolist()
        test_acc = _accuracy(model, Xt, yt).tolist() if Xt is not None else [None] * len(specs)
        elapsed = time.perf_counter() - start
        for k, history in enumerate(histories):
            history.log({"epoch": epoch, "loss": mean_loss[k], "train_acc": train_acc[k], "test_acc": test_acc[k],
                         "time": elapsed})  # fmt: skip
        bar.set_postfix(reached=sum(h.epoch_reached is not None for h in histories), of=len(specs))
        if stop_when_all_reached and target_accuracy is not None and all(
            h.epoch_reached is not None and (Xt is None or h.test_epoch_reached is not None) for h in histories
        ):
            break
    bar.close()
    return histories
