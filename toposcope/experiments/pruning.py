"""Does the Betti criterion prune better than trivial ones?  PaperCNN on Fashion-MNIST.

For each training seed: train ``PaperCNN``, score every conv filter with the
Betti criterion (per-layer scale, the default, and per-filter scale), then, for
each pruning rule (the paper's "Betti number > 300", or a fraction of each
layer), remove filters by

* ``betti``: highest Betti score (per-layer scale) first,
* ``betti_filter``: highest Betti score at each filter's own scale,
* ``l1``: smallest L1 norm first (Li et al. 2017),
* ``random``: at random (several seeds),

always the **same number of filters per layer** as the Betti rule removes, and
measure test accuracy before and after a short fine-tuning, size, and CPU latency
at a batch of 256 (so the Betti rule's models can be compared with random removal
of as many filters).

    python -m toposcope.experiments.pruning --profile full \\
        --out data/results/pruning_fashion_mnist.jsonl
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch.utils.data import TensorDataset

from .. import pruning as P
from .._torch import random_subset
from ..datasets import fashion_mnist
from ..measure import evaluate, latency_ms, state_dict_bytes
from ..models import PaperCNN
from ..training import fit
from .backends import Cell, add_backend_arguments, run_cells
from .profiles import PRUNING as PROFILES
from .profiles import experiment_parser
from .store import ResultStore, stored_note

__all__ = ["PROFILES", "run", "score_correlations"]


def _rule(rule: str) -> dict[str, float]:
    name, value = rule.split("=")
    return {name: float(value)}


def _measure(model: torch.nn.Module, test: TensorDataset, plan: dict[str, list[int]] | None,
             repeats: int) -> dict[str, Any]:  # fmt: skip
    """Accuracy, size and CPU latency (a batch of 256 test images, median of ``repeats``) of one model."""
    return {
        "accuracy": evaluate(model, test),
        "params": sum(p.numel() for p in model.parameters()),
        "bytes": state_dict_bytes(model),
        "latency_ms_b256": latency_ms(model.cpu(), test.tensors[0][:256], repeats=repeats),
        "removed": {layer: len(idxs) for layer, idxs in (plan or {}).items()},
    }


def run(profile: str = "smoke", out: str | Path | None = None, data_root: str | None = None,
        progress: bool = True, *, backend: str = "local", address: str | None = None, num_cpus: float = 1,
        num_gpus: float = 0) -> ResultStore:  # fmt: skip
    """Run (or resume) the experiment of a profile (sizes from :data:`PROFILES`); return the store.

    Each training seed is one grid cell (its unpruned model and every rule, criterion and
    fine-tuning of it); ``backend``, ``address``, ``num_cpus`` and ``num_gpus`` say where the
    cells run (see :func:`~toposcope.experiments.backends.run_cells`).
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose from {sorted(PROFILES)}")
    cfg = PROFILES[profile]
    store = ResultStore(Path(out) if out else Path(f"data/results/pruning_{profile}.jsonl"))
    train_all = fashion_mnist(data_root, split="train")
    test = random_subset(fashion_mnist(data_root, split="test"), cfg["test_images"], seed=0)
    cells = []
    for seed in cfg["seeds"]:
        train = random_subset(train_all, cfg["train_images"], seed=seed)
        tune = random_subset(train_all, cfg["finetune_images"], seed=1000 + seed)
        work = partial(_run_work, cfg=cfg, train=train, tune=tune, test=test, progress=progress)
        cells.append(Cell(_candidates(cfg, profile, seed), work))
    run_cells(store, cells, backend, address=address, num_cpus=num_cpus, num_gpus=num_gpus)
    return store


def _candidates(cfg: dict[str, Any], profile: str, seed: int) -> list[dict[str, Any]]:
    """Every run of one training seed: the unpruned model, then each rule x criterion x fine-tuning."""
    base = {"profile": profile, "seed": seed}
    runs = [{**base, "rule": "none", "criterion": "unpruned", "random_seed": None, "finetune_epochs": 0}]
    criteria = [("betti", None), ("betti_filter", None), ("l1", None), *(("random", r) for r in cfg["random_seeds"])]
    for rule in cfg["rules"]:
        runs += [{**base, "rule": rule, "criterion": criterion, "random_seed": random_seed, "finetune_epochs": epochs}
                 for criterion, random_seed in criteria for epochs in (0, cfg["finetune_epochs"])]  # fmt: skip
    return runs


def _run_work(todo: list[dict[str, Any]], *, cfg: dict[str, Any], train: TensorDataset, tune: TensorDataset,
              test: TensorDataset, progress: bool) -> list[dict[str, Any]]:  # fmt: skip
    """One grid cell: train and score the seed's model, then make the runs of ``todo``; their results, in order."""
    model, tables = _train_and_score(cfg, train, todo[0]["seed"], progress)
    images = train.tensors[0]
    plans: dict[str, dict[tuple[str, int | None], dict]] = {}
    results = []
    for params in todo:
        if params["criterion"] == "unpruned":
            results.append(_unpruned_result(model, tables, test, cfg["latency_repeats"]))
            continue
        rule, criterion, random_seed = params["rule"], params["criterion"], params["random_seed"]
        if rule not in plans:
            plans[rule] = {(c, r): chosen for c, r, chosen in _plans(model, tables, rule, cfg["random_seeds"])}
        chosen = plans[rule][(criterion, random_seed)]
        tuned = P.remove_filters(model, chosen, images[:1])
        if params["finetune_epochs"]:
            fit(tuned, tune, epochs=params["finetune_epochs"], batch_size=128, lr=5e-4, seed=params["seed"],
                progress=False)  # fmt: skip
            tuned = tuned.cpu()
        results.append(_measure(tuned, test, chosen, cfg["latency_repeats"]))
        print(f"  {rule:>13} {criterion:>12} {random_seed!s:>4} ft={params['finetune_epochs']}: "
              f"accuracy {results[-1]['accuracy']:.4f}", flush=True)  # fmt: skip
    return results


def _train_and_score(cfg: dict[str, Any], train: TensorDataset, seed: int, progress: bool):
    """Train PaperCNN under ``seed``; return it (on the CPU) and its score tables per criterion."""
    torch.manual_seed(seed)
    model = PaperCNN(channels=cfg["channels"], dense=cfg["dense"])
    start = time.perf_counter()
    fit(model, train, epochs=cfg["epochs"], batch_size=128, lr=2e-3, seed=seed, progress=progress)
    model = model.cpu()
    print(f"seed {seed}: trained in {time.perf_counter() - start:.0f} s", flush=True)
    images = train.tensors[0]
    start = time.perf_counter()
    tables = {
        "betti": P.score_filters(model, images, n_samples=cfg["n_samples"], seed=seed),
        "betti_filter": P.score_filters(model, images, n_samples=cfg["n_samples"], seed=seed, scale="filter"),
        "l1": P.l1_scores(model),
    }
    tables["seconds"] = time.perf_counter() - start
    return model, tables


def score_correlations(scores: pd.DataFrame, other: str) -> pd.Series:
    """Spearman correlation, per layer, of the filters' ``score`` with another column (e.g. ``"l1"``)."""
    from scipy.stats import spearmanr

    return scores.groupby("layer", sort=False).apply(lambda t: float(spearmanr(t["score"], t[other]).statistic))


def _unpruned_result(model, tables, test: TensorDataset, repeats: int) -> dict[str, Any]:
    result = _measure(model, test, None, repeats)
    merged = tables["betti"].merge(tables["l1"][["layer", "filter", "l1"]], on=["layer", "filter"])
    result["spearman_betti_l1"] = score_correlations(merged, "l1").to_dict()
    result["betti_scores"] = {layer: t["score"].tolist() for layer, t in tables["betti"].groupby("layer")}
    result["scoring_seconds"] = tables["seconds"]
    return result


def _plans(model, tables, rule: str, random_seeds: list[int]) -> list[tuple[str, int | None, dict]]:
    """(criterion, random seed, plan) of every criterion, each removing as many filters per layer as Betti."""
    plan = P.select_filters(tables["betti"], **_rule(rule))
    counts = {layer: len(idxs) for layer, idxs in plan.items()}
    plans = [("betti", None, plan)]
    plans.append(("betti_filter", None, P.select_filters(tables["betti_filter"], counts=counts)))
    plans.append(("l1", None, P.select_filters(tables["l1"], counts=counts)))
    for r in random_seeds:
        plans.append(("random", r, P.select_filters(P.random_scores(model, seed=r), counts=counts)))
    return plans


def main(argv: list[str] | None = None) -> None:
    parser = experiment_parser(__doc__, PROFILES, "pruning")
    add_backend_arguments(parser)
    args = parser.parse_args(argv)
    store = run(args.profile, args.out, args.data_root, backend=args.backend, address=args.address,
                num_cpus=args.num_cpus, num_gpus=args.num_gpus)  # fmt: skip
    print(stored_note(store))


if __name__ == "__main__":
    main()
