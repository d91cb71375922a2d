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
measure test accuracy before and after a short fine-tuning.

    python -m toposcope.experiments.pruning --profile full \\
        --out data/results/pruning_fashion_mnist.jsonl
"""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch.utils.data import TensorDataset

from .. import pruning as P
from .._torch import random_subset
from ..datasets import fashion_mnist
from ..measure import evaluate, state_dict_bytes
from ..models import PaperCNN
from ..training import fit
from . import analysis
from .profiles import PRUNING as PROFILES
from .profiles import experiment_parser
from .store import ResultStore

__all__ = ["PROFILES", "run"]

def _rule(rule: str) -> dict[str, float]:
    name, value = rule.split("=")
    return {name: float(value)}


def _measure(model: torch.nn.Module, test: TensorDataset, plan: dict[str, list[int]] | None) -> dict[str, Any]:
    return {
        "accuracy": evaluate(model, test),
        "params": sum(p.numel() for p in model.parameters()),
        "bytes": state_dict_bytes(model),
        "removed": {layer: len(idxs) for layer, idxs in (plan or {}).items()},
    }


def run(profile: str = "smoke", out: str | Path | None = None, data_root: str | None = None,
        progress: bool = True) -> ResultStore:  # fmt: skip
    """Run (or resume) the experiment of a profile (sizes from :data:`PROFILES`); return the store."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose from {sorted(PROFILES)}")
    cfg = PROFILES[profile]
    store = ResultStore(Path(out) if out else Path(f"data/results/pruning_{profile}.jsonl"))
    train_all = fashion_mnist(data_root, split="train")
    test = random_subset(fashion_mnist(data_root, split="test"), cfg["test_images"], seed=0)
    for seed in cfg["seeds"]:
        base = {"profile": profile, "seed": seed}
        train = random_subset(train_all, cfg["train_images"], seed=seed)
        tune = random_subset(train_all, cfg["finetune_images"], seed=1000 + seed)
        model, tables = _train_and_score(cfg, train, seed, progress)
        _record_unpruned(store, base, model, tables, test)
        images = train.tensors[0]
        for rule in cfg["rules"]:
            for criterion, random_seed, chosen in _plans(model, tables, rule, cfg["random_seeds"]):
                pruned = P.remove_filters(model, chosen, images[:1])
                runs = [{**base, "rule": rule, "criterion": criterion, "random_seed": random_seed,
                         "finetune_epochs": epochs} for epochs in (0, cfg["finetune_epochs"])]  # fmt: skip
                with store.claim(runs) as todo:
                    for params in todo:
                        tuned = copy.deepcopy(pruned)
                        if params["finetune_epochs"]:
                            fit(tuned, tune, epochs=params["finetune_epochs"], batch_size=128, lr=5e-4, seed=seed,
                                progress=False)  # fmt: skip
                            tuned = tuned.cpu()
                        result = _measure(tuned, test, chosen)
                        store.add(params, result)
                        print(f"  {rule:>13} {criterion:>12} {random_seed!s:>4} ft={params['finetune_epochs']}: "
                              f"accuracy {result['accuracy']:.4f}", flush=True)  # fmt: skip
    return store


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


def _record_unpruned(store: ResultStore, base: dict[str, Any], model, tables, test: TensorDataset) -> None:
    """The unpruned model's accuracy and size, and how its Betti scores relate to L1 norms."""
    params = {**base, "rule": "none", "criterion": "unpruned", "random_seed": None, "finetune_epochs": 0}
    with store.claim([params]) as todo:
        if todo:
            store.add(params, _unpruned_result(model, tables, test))


def _unpruned_result(model, tables, test: TensorDataset) -> dict[str, Any]:
    result = _measure(model, test, None)
    merged = tables["betti"].merge(tables["l1"][["layer", "filter", "l1"]], on=["layer", "filter"])
    result["spearman_betti_l1"] = analysis.score_correlations(merged, "l1").to_dict()
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
    args = experiment_parser(__doc__, PROFILES, "pruning").parse_args(argv)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    store = run(args.profile, args.out, args.data_root)
    with pd.option_context("display.width", 150, "display.max_rows", 200):
        print(analysis.pruning_summary(store.frame()))


if __name__ == "__main__":
    main()
