"""Accuracy against the fraction of filters removed: Betti criteria against Torch-Pruning's importances.

For each activation layout and training seed, train ``PaperCNN`` on Fashion-MNIST
(or CIFAR-10 from a user's copy), score every conv filter with every criterion,
and for each fraction of filters removed prune, measure test accuracy, fine-tune,
and measure again.  Filters are removed per layer (the same fraction of every conv
layer, so every criterion gets the same parameter budget) and, where the profile
asks (``scopes``), globally (the highest scores of the whole network).  Fine-tuning
runs a fixed number of epochs, or to convergence on held-out training images
(``patience``).  Criteria (higher score = removed first):

* ``literal``, ``relative``, ``correlation``: the Betti criteria of
  :func:`toposcope.pruning.shape_scores`;
* ``l1``, ``l2``: ``MagnitudeImportance(p=1)``, ``(p=2)`` (per filter);
* ``taylor``: ``TaylorImportance`` (gradients of the loss on a training batch);
* ``fpgm``: ``FPGMImportance`` (filters near the layer's geometric median go first);
* ``random``: ``RandomImportance`` (one seed per training seed);
* ``lamp``: ``LAMPImportance``, at the global scope only.

One JSON line per (layout, seed), holding every criterion x scope x fraction x
fine-tuning row, the unpruned model's accuracy, and the score tables' correlations
with L1 and the filters' output RMS.  Size and latency of each pruned model come
from one :func:`toposcope.measure.compare` call.

    python -m toposcope.experiments.sparsity --profile converged --out data/results/sparsity_converged.jsonl
    python -m toposcope.experiments.sparsity --profile full --out data/results/sparsity_fashion_mnist.jsonl
    python -m toposcope.experiments.sparsity --profile converged --dataset cifar10 --data-root ~/cifar10 \\
        --out data/results/sparsity_cifar10.jsonl
"""

from __future__ import annotations

import copy
import time
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch.nn import functional as F
from torch.utils.data import TensorDataset

from .. import pruning as P
from .._torch import random_subset
from ..datasets import cifar10, fashion_mnist
from ..measure import compare
from ..training import fit
from .backends import Cell, add_backend_arguments, run_cells
from .cnn import build_cnn
from .profiles import SPARSITY as PROFILES
from .profiles import check_names, experiment_parser
from .store import ResultStore, stored_note

__all__ = ["BETTI_CRITERIA", "DATASETS", "GLOBAL_CRITERIA", "PROFILES", "TP_CRITERIA", "criterion_scores", "run"]

DATASETS = ("fashion_mnist", "cifar10")
"""Data sets the grid runs on (CIFAR-10 in grayscale, as the paper converts every image set, from a
user's copy of the binary distribution: the build machines cannot download it)."""

BETTI_CRITERIA = ("literal", "relative", "correlation")
TP_CRITERIA = ("l1", "l2", "taylor", "fpgm", "random")
"""Torch-Pruning's importances compared at both scopes."""
GLOBAL_CRITERIA = ("lamp",)
"""Compared at the global scope only: within one layer ``LAMPImportance`` ranks filters exactly as
L2 does (it rescales a layer's magnitudes monotonically), so at a per-layer budget it is L2 again;
across layers it is the standard fix for magnitudes that differ from layer to layer."""


def _tp_importance(name: str):
    import torch_pruning as tp

    per_filter = {"normalizer": None, "group_reduction": "first"}  # each filter's own weights, as Li et al.
    return {
        "l1": lambda: tp.importance.MagnitudeImportance(p=1, **per_filter),
        "l2": lambda: tp.importance.MagnitudeImportance(p=2, **per_filter),
        "taylor": lambda: tp.importance.TaylorImportance(**per_filter),
        "fpgm": lambda: tp.importance.FPGMImportance(**per_filter),
        "lamp": lambda: tp.importance.LAMPImportance(p=2, group_reduction="first"),  # its own normaliser
        "random": lambda: tp.importance.RandomImportance(),
    }[name]()


def criterion_scores(model: torch.nn.Module, train: TensorDataset, criterion: str, cfg: dict[str, Any],
                     seed: int) -> pd.DataFrame:  # fmt: skip
    """The score table (``layer, filter, score``; higher removed first) of one criterion."""
    if criterion in BETTI_CRITERIA:
        return P.shape_scores(model, train, criterion=criterion, per_class=cfg["per_class"], tau=cfg["tau"],
                              seed=seed)  # fmt: skip
    X, y = train.tensors
    example = X[:1]
    if criterion == "taylor":  # Taylor reads the gradients of the loss
        model.zero_grad()
        batch = torch.randperm(len(X), generator=torch.Generator().manual_seed(seed))[:512]
        F.cross_entropy(model(X[batch]), y[batch]).backward()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        table = P.importance_scores(model, _tp_importance(criterion), example_inputs=example)
    model.zero_grad()
    return table


def _prune_and_measure(model, scores: pd.DataFrame, fraction: float, scope: str, tune: TensorDataset,
                       held_out: TensorDataset | None, test: TensorDataset, cfg: dict[str, Any],
                       seed: int) -> list[dict[str, Any]]:  # fmt: skip
    """Rows for one criterion, fraction and scope: before and after fine-tuning, with size and latency.

    With ``cfg["patience"]`` the fine-tuning runs to convergence on ``held_out`` (at most
    ``finetune_epochs``, best epoch kept); otherwise it runs ``finetune_epochs`` epochs.
    """
    X = test.tensors[0]
    pruned = P.prune(model, scores, X[:1], ratio=fraction, scope=scope)
    tuned = copy.deepcopy(pruned)
    history = fit(tuned, tune, held_out, epochs=cfg["finetune_epochs"], lr=5e-4, seed=seed, progress=False,
                  device="cpu", patience=cfg.get("patience"))  # fmt: skip
    kept = history.best_epoch if history.best_epoch is not None else len(history.records)
    table = compare({"pruned": pruned, "tuned": tuned}, test, repeats=cfg["latency_repeats"])
    runs = {
        "pruned": {"finetune_epochs": 0, "epochs_run": 0, "epoch_kept": 0},
        "tuned": {"finetune_epochs": cfg["finetune_epochs"], "epochs_run": len(history.records), "epoch_kept": kept},
    }
    return [{"scope": scope, **tuning, "accuracy": float(table.loc[name, "accuracy"]),
             "params": int(table.loc[name, "params"]), "bytes": int(table.loc[name, "bytes"]),
             "latency_ms_b1": float(table.loc[name, "latency_ms_b1"]),
             "latency_ms_b256": float(table.loc[name, "latency_ms_b256"])}
            for name, tuning in runs.items()]  # fmt: skip


def _correlations(tables: dict[str, pd.DataFrame]) -> list[dict[str, Any]]:
    """Every criterion's score table joined with the filters' L1 norm and output RMS (for partial correlations)."""
    base = tables["l1"][["layer", "filter"]].assign(l1_norm=-tables["l1"]["score"])
    rms = tables["relative"][["layer", "filter", "rms"]]
    base = base.merge(rms, on=["layer", "filter"])
    for name, table in tables.items():
        base = base.merge(table[["layer", "filter", "score"]].rename(columns={"score": name}), on=["layer", "filter"])
    return base.to_dict("records")


def _run_one(layout: str, seed: int, cfg: dict[str, Any], train: TensorDataset, tune: TensorDataset,
             held_out: TensorDataset | None, test: TensorDataset, progress: bool) -> dict[str, Any]:  # fmt: skip
    X = train.tensors[0]
    model = build_cnn(layout, seed, in_channels=X.shape[1], image_size=X.shape[-1])
    start = time.perf_counter()
    fit(model, train, epochs=cfg["epochs"], lr=1e-3, seed=seed, progress=False, device="cpu")
    trained = time.perf_counter() - start
    model.eval()
    base = compare({"unpruned": model}, test, repeats=cfg["latency_repeats"]).loc["unpruned"]
    if progress:
        print(f"  {layout} seed {seed}: trained in {trained:.0f} s, test accuracy {base.accuracy:.4f}", flush=True)
    tables, seconds = {}, {}
    scopes = cfg.get("scopes", ["layer"])
    for criterion in (*BETTI_CRITERIA, *TP_CRITERIA, *(GLOBAL_CRITERIA if "global" in scopes else ())):
        start = time.perf_counter()
        tables[criterion] = criterion_scores(model, train, criterion, cfg, seed)
        seconds[criterion] = time.perf_counter() - start
    rows = []
    for criterion, scores in tables.items():
        for scope in scopes:
            if scope == "layer" and criterion in GLOBAL_CRITERIA:
                continue
            for fraction in cfg["fractions"]:
                for row in _prune_and_measure(model, scores, fraction, scope, tune, held_out, test, cfg, seed):
                    rows.append({"criterion": criterion, "fraction": fraction, **row})
            if progress:
                tuned = [r["accuracy"] for r in rows[-2 * len(cfg["fractions"]) :] if r["finetune_epochs"]]
                print(f"    {criterion:>11} ({scope}): tuned accuracy {' '.join(f'{a:.3f}' for a in tuned)}",
                      flush=True)  # fmt: skip
    return {"unpruned": {k: float(base[k]) for k in ("accuracy", "params", "bytes", "latency_ms_b1",
                                                     "latency_ms_b256")},
            "rows": rows, "filters": _correlations(tables), "scoring_seconds": seconds,
            "train_seconds": trained}  # fmt: skip


def _run_work(todo: list[dict[str, Any]], *, cfg: dict[str, Any], train, tune, held_out, test,
              progress: bool) -> list[dict[str, Any]]:  # fmt: skip
    """One grid cell: the one (layout, seed) run of ``todo``; its result."""
    (params,) = todo
    return [_run_one(params["activation"], params["seed"], cfg, train, tune, held_out, test, progress)]


def run(profile: str = "smoke", out: str | Path | None = None, *, dataset: str = "fashion_mnist",
        data_root: str | None = None, progress: bool = True, backend: str = "local", address: str | None = None,
        num_cpus: float = 1, num_gpus: float = 0) -> ResultStore:  # fmt: skip
    """Run (or resume) the sparsity experiment of a profile; return the store (one line per layout and seed).

    ``dataset`` is one of :data:`DATASETS`, read from ``data_root`` (each loader's default
    folder when ``None``; a missing file raises ``FileNotFoundError`` naming it).
    ``backend``, ``address``, ``num_cpus`` and ``num_gpus`` say where the runs go (see
    :func:`~toposcope.experiments.backends.run_cells`).
    """
    check_names("profile", [profile], PROFILES)
    check_names("data set", [dataset], DATASETS)
    cfg = PROFILES[profile]
    store = ResultStore(Path(out) if out else Path(f"data/results/sparsity_{profile}.jsonl"))
    loader = {"fashion_mnist": fashion_mnist, "cifar10": cifar10}[dataset]
    train_all = loader(data_root, split="train")
    test = random_subset(loader(data_root, split="test"), cfg["test_images"], seed=0)
    cells = []
    for seed in cfg["seeds"]:
        pool, held_out = train_all, None
        if cfg.get("held_out_images"):  # the fine-tuning's stopping data: neither trained on nor reported on
            shuffled = random_subset(train_all, len(train_all), seed=2000 + seed)
            n = cfg["held_out_images"]
            held_out = TensorDataset(*(t[:n] for t in shuffled.tensors))
            pool = TensorDataset(*(t[n:] for t in shuffled.tensors))
        train = random_subset(pool, cfg["train_images"], seed=seed)
        tune = random_subset(pool, cfg["finetune_images"], seed=1000 + seed)
        work = partial(_run_work, cfg=cfg, train=train, tune=tune, held_out=held_out, test=test, progress=progress)
        for layout in cfg["layouts"]:
            params = {"experiment": "sparsity", "profile": profile, "dataset": dataset,
                      "activation": layout, "seed": seed, "epochs": cfg["epochs"],
                      "train_images": cfg["train_images"]}  # fmt: skip
            cells.append(Cell([params], work))
    run_cells(store, cells, backend, address=address, num_cpus=num_cpus, num_gpus=num_gpus)
    return store


def main(argv: list[str] | None = None) -> None:
    parser = experiment_parser(__doc__, PROFILES, "sparsity")
    parser.add_argument("--dataset", choices=DATASETS, default="fashion_mnist",
                        help="--data-root is then that data set's folder")  # fmt: skip
    add_backend_arguments(parser)
    args = parser.parse_args(argv)
    store = run(args.profile, args.out, dataset=args.dataset, data_root=args.data_root, backend=args.backend,
                address=args.address, num_cpus=args.num_cpus, num_gpus=args.num_gpus)  # fmt: skip
    print(stored_note(store))


if __name__ == "__main__":
    main()
