"""Does the topology-designed activation train MLPs faster?  Nine rings, nine spheres, Fashion-MNIST.

Five experiments, each a grid of runs stored one JSON line per finished run
(resumable), all with the paper's 9 x 25 MLP unless said otherwise:

``convergence``
    every activation layout x seed on nine rings and nine spheres: epochs until
    the training (and test) accuracy reaches the target (profile ``"naitzat"``:
    the same on Naitzat et al.'s own geometry of both data sets);
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
test_acc``); :mod:`toposcope.claims.analysis` reads the results.

    python -m toposcope.experiments.mlp --profile full --out data/results/mlp_full.jsonl
    python -m toposcope.experiments.mlp --profile naitzat --only convergence
    python -m toposcope.experiments.mlp --profile topology --out data/results/mlp_topology.jsonl
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
from torch.utils.data import TensorDataset

from ..batched import ModelSpec, train_many
from ..datasets import fashion_mnist, nine_rings, nine_spheres
from ..layouts import get_layout
from ..tracker import BettiTracker
from ..training import History, fit
from .backends import BACKENDS, Cell, add_backend_arguments, run_cells
from .profiles import FULL_BATCH, check_names
from .profiles import MLP as PROFILES
from .store import ResultStore, stored_note

__all__ = ["DATASETS", "EXPERIMENTS", "PROFILES", "TrainingGroup", "chapter_runs", "run"]

EXPERIMENTS = ("convergence", "batch_size", "learning_rate", "betti", "fashion")

DATASETS: dict[str, Callable[..., Any]] = {
    "rings": nine_rings,
    "spheres": nine_spheres,
    "rings_naitzat": partial(nine_rings, geometry="naitzat"),
    "spheres_naitzat": partial(nine_spheres, geometry="naitzat"),
}
"""The synthetic data sets a profile's ``sizes`` may name: ``maker(n_train, n_test, seed=...)``."""


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
    target: float | None = None


def curve(history: History) -> dict[str, list]:
    """A training history as named columns: ``epoch, loss, train_acc, test_acc``."""
    return {key: history.column(key) for key in ("epoch", "loss", "train_acc", "test_acc")}


def _datasets(cfg: dict[str, Any]) -> dict[str, Any]:
    check_names("data set(s)", cfg["sizes"], DATASETS)
    return {name: DATASETS[name](n_train, n_test, seed=0) for name, (n_train, n_test) in cfg["sizes"].items()}


def target_of(cfg: dict[str, Any], dataset: str) -> float:
    """A profile's training-accuracy target on one data set (``targets`` overrides ``target``)."""
    return cfg.get("targets", {}).get(dataset, cfg["target"])


def _group_work(todo: list[dict[str, Any]], *, train: TensorDataset, test: TensorDataset, hidden: Sequence[int],
                epochs: int, batch_size: int | str, lr: float, target: float | None, eval_every: int, device: str,
                progress: bool) -> list[dict[str, Any]]:  # fmt: skip
    """Train the (layout, seed) runs of ``todo`` of one setting together, in one batched model; their results."""
    specs = [ModelSpec(get_layout(p["activation"]), p["seed"]) for p in todo]
    bs = len(train) if batch_size == FULL_BATCH else batch_size
    start = time.perf_counter()
    histories = train_many(specs, train, test, hidden=hidden, epochs=epochs, batch_size=bs, lr=lr,
                           target_accuracy=target, eval_every=eval_every, device=device, progress=progress)  # fmt: skip
    seconds = time.perf_counter() - start
    if progress:
        print(f"  {todo[0]['experiment']} {todo[0]['dataset']} x {len(todo)} runs: {seconds:.0f} s", flush=True)
    return [{
        "epochs_to_train_target": h.epoch_reached, "epochs_to_test_target": h.test_epoch_reached,
        "final_train_acc": h.records[-1]["train_acc"], "final_test_acc": h.records[-1]["test_acc"],
        "max_epochs": epochs, "target": target, "curve": curve(h), "group_seconds": seconds, "group_size": len(todo),
    } for h in histories]  # fmt: skip


def _group_cell(base: dict[str, Any], layouts: Sequence[str], seeds: Sequence[int], **work: Any) -> Cell:
    """The cell of one setting: every (layout, seed) of it, trained together."""
    return Cell([{**base, "activation": a, "seed": s} for a in layouts for s in seeds], partial(_group_work, **work))


def training_groups(cfg: dict[str, Any], experiments: Sequence[str]) -> Iterator[TrainingGroup]:
    """The training groups of the convergence, batch-size and learning-rate experiments of a profile."""
    if "convergence" in experiments:
        seeds = tuple(cfg.get("convergence_seeds", cfg["seeds"]))
        extra = cfg.get("convergence_extra")
        for name in cfg["sizes"]:
            epochs, target = cfg.get("epochs_by_dataset", {}).get(name, cfg["epochs"]), target_of(cfg, name)
            yield TrainingGroup("convergence", name, tuple(cfg["activations"]), seeds, cfg["batch_size"],
                                cfg["lr"], epochs, target=target)  # fmt: skip
            if extra:  # more seeds for the layouts the headline claim compares
                yield TrainingGroup("convergence", name, tuple(extra["layouts"]), tuple(extra["seeds"]),
                                    cfg["batch_size"], cfg["lr"], epochs, target=target)  # fmt: skip
    seeds = tuple(cfg.get("seeds", ()))
    if "batch_size" in experiments:
        sweep = cfg["batch_sweep"]
        for name in sweep["datasets"]:
            for bs, epochs in sweep["sizes"].items():
                every = sweep["eval_every"] if bs == FULL_BATCH else 1
                yield TrainingGroup("batch_size", name, tuple(cfg["sweep_activations"]), seeds, bs, cfg["lr"],
                                    epochs, every, target_of(cfg, name))  # fmt: skip
    if "learning_rate" in experiments:
        for name in cfg["lr_sweep"]["datasets"]:
            for lr in cfg["lr_sweep"]["rates"]:
                epochs = cfg["lr_sweep"].get("epochs", {}).get(lr, cfg["epochs"])
                yield TrainingGroup("learning_rate", name, tuple(cfg["sweep_activations"]), seeds,
                                    cfg["batch_size"], lr, epochs, target=target_of(cfg, name))  # fmt: skip


def chapter_runs(profile: str, committed: str | Path) -> tuple[pd.DataFrame, pd.DataFrame, str, str]:
    """The runs chapter 3 reads: ``(recomputed, main, label, main profile)``.

    ``recomputed``: the page's own runs of ``profile`` (``"smoke"``: a scratch file;
    ``"full"``: resumed into ``committed``).  ``main``: the committed full results
    where they exist, else the recomputed runs; ``label`` says which, for titles.
    """
    import tempfile

    out = Path(tempfile.mkdtemp()) / "mlp_smoke.jsonl" if profile == "smoke" else committed
    recomputed = run(profile, out, progress=False).frame()
    if profile == "full":  # the runs were resumed into the committed file: it is read already
        full = recomputed
    else:
        full = ResultStore(committed).frame() if Path(committed).exists() else None
    if full is not None and not full.empty:
        return recomputed, full, "full profile (committed results)", "full"
    return recomputed, recomputed, f"{profile} profile (computed on this page)", profile


def run(profile: str = "smoke", out: str | Path | None = None, *, device: str = "auto", progress: bool = True,
        experiments: Sequence[str] | None = None, data_root: str | None = None, backend: str = "local",
        address: str | None = None, num_cpus: float = 1, num_gpus: float = 0) -> ResultStore:  # fmt: skip
    """Run (or resume) the experiments of a profile; return the :class:`ResultStore`.

    Parameters
    ----------
    profile : {"smoke", "full", "naitzat", "topology"}
        Sizes from :data:`PROFILES`.
    out : path, optional
        Results file; default ``data/results/mlp_<profile>.jsonl``.
    device : str, default "auto"
    progress : bool, default True
    experiments : sequence of str, optional
        A subset of :data:`EXPERIMENTS`; default: those the profile holds (its
        ``experiments`` entry, else all).
    data_root : str, optional
        Folder of the Fashion-MNIST files (see :func:`toposcope.fashion_mnist`).
    backend, address, num_cpus, num_gpus
        Where the grid's cells run (see :func:`~toposcope.experiments.backends.run_cells`):
        ``"local"`` in this process, ``"ray"`` as Ray tasks asking for ``num_cpus``
        CPUs and ``num_gpus`` GPUs each, on a local instance or the cluster at ``address``.
    """
    check_names("profile", [profile], PROFILES)
    cfg = PROFILES[profile]
    experiments = cfg.get("experiments", EXPERIMENTS) if experiments is None else experiments
    check_names("experiment(s)", experiments, cfg.get("experiments", EXPERIMENTS))
    check_names("backend", [backend], BACKENDS)
    store = ResultStore(out or f"data/results/mlp_{profile}.jsonl")
    data = _datasets(cfg)
    cells = []
    for group in training_groups(cfg, experiments):
        base = {"experiment": group.experiment, "profile": profile, "dataset": group.dataset,
                "batch_size": group.batch_size, "lr": group.lr}  # fmt: skip
        split = data[group.dataset]
        cells.append(_group_cell(base, group.layouts, group.seeds, train=split.train, test=split.test,
                                 hidden=[25] * 9, epochs=group.epochs, batch_size=group.batch_size, lr=group.lr,
                                 target=group.target, eval_every=group.eval_every, device=device,
                                 progress=progress))  # fmt: skip
    if "betti" in experiments:
        cells += _betti_cells(profile, cfg, data, progress)
    if "fashion" in experiments:
        cells += _fashion_cells(profile, cfg, device, progress, data_root)
    run_cells(store, cells, backend, address=address, num_cpus=num_cpus, num_gpus=num_gpus)
    return store


def _betti_cells(profile: str, cfg: dict[str, Any], data: dict[str, Any], progress: bool) -> list[Cell]:
    settings, cells = cfg["betti"], []
    for name in settings["datasets"]:
        seeds = settings["seeds"][name] if isinstance(settings["seeds"], dict) else settings["seeds"]
        for activation in cfg["sweep_activations"]:
            for seed in seeds:
                params = {"experiment": "betti", "profile": profile, "dataset": name, "activation": activation,
                          "seed": seed, "batch_size": cfg["batch_size"], "lr": cfg["lr"]}  # fmt: skip
                work = partial(_betti_work, split=data[name], settings=settings, cfg=cfg, progress=progress)
                cells.append(Cell([params], work))
    return cells


def _betti_work(todo: list[dict[str, Any]], *, split, settings: dict[str, Any], cfg: dict[str, Any],
                progress: bool) -> list[dict[str, Any]]:  # fmt: skip
    """Train one network, profiling its Betti numbers at the checkpoint epochs; its result."""
    (params,) = todo
    checkpoints = settings["epochs"]
    X, y = split.train.tensors
    model = ModelSpec(get_layout(params["activation"]), params["seed"]).build(3, [25] * 9, 2)
    maxdim = settings.get("maxdim", {}).get(params["dataset"], 1)
    tracker = BettiTracker(model, samples_per_class=settings["samples_per_class"], seed=params["seed"],
                           maxdim=maxdim, n_jobs=settings.get("n_jobs", 1),
                           null=settings.get("null", False))  # fmt: skip

    def record(m, epoch, _record):
        if epoch in checkpoints:
            tracker.profile(X, y, epoch=epoch)

    start = time.perf_counter()
    history = fit(model, split.train, split.test, epochs=max(checkpoints), batch_size=cfg["batch_size"],
                  lr=cfg["lr"], seed=params["seed"], progress=progress, callbacks=[record])  # fmt: skip
    seconds = time.perf_counter() - start
    if progress:
        print(f"  betti {params['dataset']} {params['activation']} seed {params['seed']}: {seconds:.0f} s", flush=True)
    return [{"betti": tracker.frame.to_dict("records"), "curve": curve(history), "seconds": seconds}]


def _fashion_cells(profile, cfg, device, progress, data_root) -> list[Cell]:
    settings = cfg["fashion"]
    train = fashion_mnist(data_root, split="train", limit=settings["train"])
    test = fashion_mnist(data_root, split="test", limit=settings["test"])
    train = TensorDataset(train.tensors[0].flatten(1), train.tensors[1])
    test = TensorDataset(test.tensors[0].flatten(1), test.tensors[1])
    cells = []
    for width, hidden in settings["widths"].items():
        base = {"experiment": "fashion", "profile": profile, "dataset": "fashion_mnist", "width": width,
                "batch_size": cfg["batch_size"], "lr": 1e-3}  # fmt: skip
        cells.append(_group_cell(base, ["relu", "topo_sine_mid", "topo_sine"], settings["seeds"], train=train,
                                 test=test, hidden=hidden, epochs=settings["epochs"], batch_size=cfg["batch_size"],
                                 lr=1e-3, target=None, eval_every=1, device=device, progress=progress))  # fmt: skip
    return cells


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="smoke")
    parser.add_argument("--out", help="results file (.jsonl); default data/results/mlp_<profile>.jsonl")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--only", nargs="+", choices=EXPERIMENTS)
    parser.add_argument("--data-root", help="folder with the Fashion-MNIST .gz files")
    add_backend_arguments(parser)
    args = parser.parse_args(argv)
    store = run(args.profile, args.out, device=args.device, data_root=args.data_root,
                experiments=args.only, backend=args.backend, address=args.address,
                num_cpus=args.num_cpus, num_gpus=args.num_gpus)  # fmt: skip
    print(stored_note(store))


if __name__ == "__main__":
    main()
