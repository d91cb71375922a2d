"""Does the topology-designed activation train MLPs faster?  Nine rings, nine spheres, Fashion-MNIST.

Five experiments, each a grid of runs stored one JSON line per finished run
(resumable), all with the paper's 9 x 25 MLP unless said otherwise:

``convergence``
    every activation layout x seed on nine rings and nine spheres: epochs until
    the training (and test) accuracy reaches the target;
``batch_size``
    ReLU vs the sine activation at several batch sizes (full batch included);
``learning_rate``
    the same at several learning rates;
``betti``
    Betti numbers of every layer, per class, at several epochs (the tracker);
``fashion``
    train and test accuracy on Fashion-MNIST, narrow and wide MLPs.

The same seed gives every layout the same initial weights and data order.  A
run's training curve is stored as named columns (``epoch, loss, train_acc,
test_acc``); :mod:`toposcope.experiments.analysis` reads the results.

    python -m toposcope.experiments.mlp --profile full --out data/results/mlp_full.jsonl
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from torch.utils.data import TensorDataset

from ..batched import ModelSpec, train_many
from ..datasets import fashion_mnist, nine_rings, nine_spheres
from ..layouts import get_layout
from ..tracker import BettiTracker
from ..training import History, fit
from . import analysis, survival
from .profiles import FULL_BATCH, check_names
from .profiles import MLP as PROFILES
from .store import ResultStore

__all__ = ["EXPERIMENTS", "PROFILES", "TrainingGroup", "run"]

EXPERIMENTS = ("convergence", "batch_size", "learning_rate", "betti", "fashion")


@dataclass(frozen=True)
class TrainingGroup:
    """One setting of a sweep: every (layout, seed) of it trains together in one batched model."""

    experiment: str
    dataset: str
    layouts: tuple[str, ...]
    seeds: tuple[int, ...]
    batch_size: int | str
    lr: float
    epochs: int
    eval_every: int = 1


def curve(history: History) -> dict[str, list]:
    """A training history as named columns: ``epoch, loss, train_acc, test_acc``."""
    return {key: history.column(key) for key in ("epoch", "loss", "train_acc", "test_acc")}


def _datasets(cfg: dict[str, Any]) -> dict[str, Any]:
    makers = {"rings": nine_rings, "spheres": nine_spheres}
    return {name: makers[name](n_train, n_test, seed=0) for name, (n_train, n_test) in cfg["sizes"].items()}


def _train_group(store: ResultStore, base: dict[str, Any], layouts: Sequence[str], seeds: Sequence[int],
                 train: TensorDataset, test: TensorDataset, hidden: Sequence[int], *, epochs: int,
                 batch_size: int | str, lr: float, target: float | None, eval_every: int, device: str,
                 progress: bool) -> None:  # fmt: skip
    """Train every (layout, seed) of one setting not yet in the store (nor running elsewhere), together."""
    candidates = [{**base, "activation": a, "seed": s} for a in layouts for s in seeds]
    with store.claim(candidates) as todo:
        if not todo:
            return
        specs = [ModelSpec(get_layout(p["activation"]), p["seed"]) for p in todo]
        bs = len(train) if batch_size == FULL_BATCH else batch_size
        start = time.perf_counter()
        histories = train_many(specs, train, test, hidden=hidden, epochs=epochs, batch_size=bs, lr=lr,
                               target_accuracy=target, eval_every=eval_every, device=device,
                               progress=progress)  # fmt: skip
        seconds = time.perf_counter() - start
        for params, h in zip(todo, histories, strict=True):
            last = h.records[-1]
            store.add(params, {
                "epochs_to_train_target": h.epoch_reached, "epochs_to_test_target": h.test_epoch_reached,
                "final_train_acc": last["train_acc"], "final_test_acc": last["test_acc"], "max_epochs": epochs,
                "target": target, "curve": curve(h), "group_seconds": seconds, "group_size": len(todo),
            })  # fmt: skip
    if progress:
        print(f"  {base} x {len(todo)} runs: {seconds:.0f} s", flush=True)


def training_groups(cfg: dict[str, Any], experiments: Sequence[str]) -> Iterator[TrainingGroup]:
    """The training groups of the convergence, batch-size and learning-rate experiments of a profile."""
    if "convergence" in experiments:
        seeds = tuple(cfg.get("convergence_seeds", cfg["seeds"]))
        extra = cfg.get("convergence_extra")
        for name in cfg["sizes"]:
            yield TrainingGroup("convergence", name, tuple(cfg["activations"]), seeds, cfg["batch_size"],
                                cfg["lr"], cfg["epochs"])  # fmt: skip
            if extra:  # more seeds for the layouts the headline claim compares
                yield TrainingGroup("convergence", name, tuple(extra["layouts"]), tuple(extra["seeds"]),
                                    cfg["batch_size"], cfg["lr"], cfg["epochs"])  # fmt: skip
    sweep_layouts, seeds = tuple(cfg["sweep_activations"]), tuple(cfg["seeds"])
    if "batch_size" in experiments:
        sweep = cfg["batch_sweep"]
        for name in sweep["datasets"]:
            for bs, epochs in sweep["sizes"].items():
                every = sweep["eval_every"] if bs == FULL_BATCH else 1
                yield TrainingGroup("batch_size", name, sweep_layouts, seeds, bs, cfg["lr"], epochs, every)
    if "learning_rate" in experiments:
        for name in cfg["lr_sweep"]["datasets"]:
            for lr in cfg["lr_sweep"]["rates"]:
                yield TrainingGroup("learning_rate", name, sweep_layouts, seeds, cfg["batch_size"], lr, cfg["epochs"])


def run(profile: str = "smoke", out: str | Path | None = None, *, device: str = "auto", progress: bool = True,
        experiments: Sequence[str] = EXPERIMENTS, data_root: str | None = None) -> ResultStore:  # fmt: skip
    """Run (or resume) the experiments of a profile; return the :class:`ResultStore`.

    Parameters
    ----------
    profile : {"smoke", "full"}
        Sizes from :data:`PROFILES`.
    out : path, optional
        Results file; default ``data/results/mlp_<profile>.jsonl``.
    device : str, default "auto"
    progress : bool, default True
    experiments : sequence of str
        A subset of :data:`EXPERIMENTS`.
    data_root : str, optional
        Folder of the Fashion-MNIST files (see :func:`toposcope.fashion_mnist`).
    """
    check_names("profile", [profile], PROFILES)
    check_names("experiment(s)", experiments, EXPERIMENTS)
    cfg = PROFILES[profile]
    store = ResultStore(out or f"data/results/mlp_{profile}.jsonl")
    data = _datasets(cfg)
    for group in training_groups(cfg, experiments):
        base = {"experiment": group.experiment, "profile": profile, "dataset": group.dataset,
                "batch_size": group.batch_size, "lr": group.lr}  # fmt: skip
        split = data[group.dataset]
        _train_group(store, base, group.layouts, group.seeds, split.train, split.test, [25] * 9,
                     epochs=group.epochs, batch_size=group.batch_size, lr=group.lr, target=cfg["target"],
                     eval_every=group.eval_every, device=device, progress=progress)  # fmt: skip
    if "betti" in experiments:
        _betti(store, profile, cfg, data, progress)
    if "fashion" in experiments:
        _fashion(store, profile, cfg, device, progress, data_root)
    return store


def _betti(store: ResultStore, profile: str, cfg: dict[str, Any], data: dict[str, Any], progress: bool) -> None:
    settings = cfg["betti"]
    for name in settings["datasets"]:
        seeds = settings["seeds"][name] if isinstance(settings["seeds"], dict) else settings["seeds"]
        for activation in cfg["sweep_activations"]:
            for seed in seeds:
                params = {"experiment": "betti", "profile": profile, "dataset": name, "activation": activation,
                          "seed": seed, "batch_size": cfg["batch_size"], "lr": cfg["lr"]}  # fmt: skip
                with store.claim([params]) as todo:
                    if todo:
                        _betti_run(store, params, data[name], settings, cfg, progress)


def _betti_run(store: ResultStore, params: dict[str, Any], split, settings: dict[str, Any], cfg: dict[str, Any],
               progress: bool) -> None:  # fmt: skip
    """Train one network, profiling its Betti numbers at the checkpoint epochs; store the profile."""
    checkpoints = settings["epochs"]
    X, y = split.train.tensors
    model = ModelSpec(get_layout(params["activation"]), params["seed"]).build(3, [25] * 9, 2)
    tracker = BettiTracker(model, samples_per_class=settings["samples_per_class"], seed=params["seed"])

    def record(m, epoch, _record):
        if epoch in checkpoints:
            tracker.profile(X, y, epoch=epoch)

    start = time.perf_counter()
    history = fit(model, split.train, split.test, epochs=max(checkpoints), batch_size=cfg["batch_size"],
                  lr=cfg["lr"], seed=params["seed"], progress=progress, callbacks=[record])  # fmt: skip
    seconds = time.perf_counter() - start
    store.add(params, {"betti": tracker.frame.to_dict("records"), "curve": curve(history), "seconds": seconds})
    if progress:
        print(f"  betti {params['dataset']} {params['activation']} seed {params['seed']}: {seconds:.0f} s", flush=True)


def _fashion(store, profile, cfg, device, progress, data_root) -> None:
    settings = cfg["fashion"]
    train = fashion_mnist(data_root, split="train", limit=settings["train"])
    test = fashion_mnist(data_root, split="test", limit=settings["test"])
    train = TensorDataset(train.tensors[0].flatten(1), train.tensors[1])
    test = TensorDataset(test.tensors[0].flatten(1), test.tensors[1])
    for width, hidden in settings["widths"].items():
        base = {"experiment": "fashion", "profile": profile, "dataset": "fashion_mnist", "width": width,
                "batch_size": cfg["batch_size"], "lr": 1e-3}  # fmt: skip
        _train_group(store, base, ["relu", "topo_sine_mid", "topo_sine"], settings["seeds"], train, test, hidden,
                     epochs=settings["epochs"], batch_size=cfg["batch_size"], lr=1e-3, target=None, eval_every=1,
                     device=device, progress=progress)  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="smoke")
    parser.add_argument("--out", help="results file (.jsonl); default data/results/mlp_<profile>.jsonl")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--only", nargs="+", choices=EXPERIMENTS)
    parser.add_argument("--data-root", help="folder with the Fashion-MNIST .gz files")
    args = parser.parse_args(argv)
    store = run(args.profile, args.out, device=args.device, data_root=args.data_root,
                experiments=tuple(args.only or EXPERIMENTS))  # fmt: skip
    frame = analysis.runs(store)
    conv = frame[frame.experiment == "convergence"]
    with pd.option_context("display.width", 160):
        for name, group in conv.groupby("dataset"):
            print(f"\n{name}: epochs to {PROFILES[args.profile]['target']:.0%} training accuracy (censoring-aware)")
            print(survival.time_table(group).round(2).to_string())


if __name__ == "__main__":
    main()
