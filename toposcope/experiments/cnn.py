"""Betti numbers through a trained CNN, ReLU against the sine activation: the paper's figures 7-9.

For each image set whose files are present (Fashion-MNIST, CIFAR-10 grayscale,
cats vs dogs), each activation layout and each seed: train ``PaperCNN``, and at
checkpoint epochs compute the Betti numbers ``b0, b1`` of every tracked layer's
output, per class, on a fixed draw of training images, at several ``k`` of the
kNN recipe.  One JSON line per finished run (resumable), with the training curve.

The layouts (:data:`CNN_LAYOUTS`) put the sine activation in the slots after
``conv1`` and ``conv2`` (:data:`MIDDLE_SLOTS`, the paper's "few hidden layers" in
the middle); ``act0`` (after ``conv0``) and ``act3`` (the dense layer) stay ReLU.
The same seed gives every layout the same initial weights of the shared layers,
the same data order and the same images to profile.

    python -m toposcope.experiments.cnn --profile full --out data/results/cnn_full.jsonl
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import TensorDataset

from .._torch import model_device
from ..datasets import cats_vs_dogs, cifar10, fashion_mnist
from ..layouts import get_layout
from ..models import PaperCNN
from ..readings import layer_readings
from ..tracker import BettiTracker, draw_per_class
from ..training import fit
from .backends import Cell, add_backend_arguments, run_cells
from .profiles import CNN as PROFILES
from .profiles import check_names
from .store import ResultStore, stored_note

__all__ = ["CNN_LAYOUTS", "DATASETS", "MIDDLE_SLOTS", "PROFILES", "TRACKED_LAYERS", "build_cnn", "load", "run"]

CNN_LAYOUTS = ("relu", "topo_sine_mid", "topo_sine_mid_relu")
"""ReLU everywhere; the sine activation (negative half by the formula, or zero as in ReLU) in the middle slots."""
SLOTS = ("act0", "act1", "act2", "act3")
MIDDLE_SLOTS = ("act1", "act2")
"""The slots that take the middle activation: the outputs of ``conv1`` and ``conv2``."""
TRACKED_LAYERS = ("input", "act0", "pool0", "act1", "pool1", "act2", "act3", "logits")
"""The layers profiled, in the order of the paper's figures: input, conv0, max pool, conv1, max pool,
conv2, dense, output (each conv and dense layer read after its activation; flatten is conv2 again)."""
LAYER_LABELS = {"input": "input", "act0": "conv0", "pool0": "pool0", "act1": "conv1", "pool1": "pool1",
                "act2": "conv2", "act3": "dense", "logits": "logits"}  # fmt: skip
"""How the chapter labels the tracked layers."""
DATASETS = ("fashion_mnist", "cifar10", "cats_vs_dogs")


def build_cnn(layout: str, seed: int, *, in_channels: int = 1, num_classes: int = 10, image_size: int = 28,
              channels: Sequence[int] = (32, 64, 64), dense: int = 64) -> PaperCNN:  # fmt: skip
    """``PaperCNN`` with a layout of :data:`~toposcope.LAYOUTS`, its middle activation in :data:`MIDDLE_SLOTS`.

    Initialised under ``torch.manual_seed(seed)``: the activations hold no
    parameters, so every layout of one seed starts from the same weights.
    """
    torch.manual_seed(seed)
    return PaperCNN(in_channels, num_classes, image_size, channels, dense,
                    activations=get_layout(layout).for_slots(SLOTS, MIDDLE_SLOTS))  # fmt: skip


def load(dataset: str, cfg: dict[str, Any], data_root: str | None = None) -> tuple[TensorDataset, TensorDataset]:
    """The train and test splits of ``dataset`` at the profile's sizes.

    Raises
    ------
    FileNotFoundError
        When the data set's files are absent (CIFAR-10 and cats vs dogs cannot be
        downloaded on the build machines).
    """
    n_train, n_test = cfg["train_images"], cfg["test_images"]
    if dataset == "fashion_mnist":
        return (fashion_mnist(data_root, "train", limit=n_train), fashion_mnist(data_root, "test", limit=n_test))
    if dataset == "cifar10":
        return cifar10(data_root, "train", limit=n_train), cifar10(data_root, "test", limit=n_test)
    if dataset == "cats_vs_dogs":
        n_train, n_test = min(n_train, 8000), min(n_test, 2000)
        return (cats_vs_dogs(data_root, "train", n_train=n_train, n_test=n_test),
                cats_vs_dogs(data_root, "test", n_train=n_train, n_test=n_test))  # fmt: skip
    raise ValueError(f"unknown data set {dataset!r}; choose from {DATASETS}")


def betti_checkpoint(model: torch.nn.Module, X: torch.Tensor, y: torch.Tensor, epoch: int, cfg: dict[str, Any],
                     seed: int) -> list[dict[str, Any]]:  # fmt: skip
    """Betti rows (with a ``k`` column) of every tracked layer and class, at each ``k`` of the profile.

    One forward pass and one neighbour search per cloud serve every ``k``;
    ``cfg["n_jobs"]`` (default 1) worker processes compute a checkpoint's clouds.
    """
    tracker = BettiTracker(model, list(TRACKED_LAYERS), samples_per_class=cfg["samples_per_class"], seed=seed,
                           maxdim=1, k=list(cfg["ks"]), n_jobs=cfg.get("n_jobs", 1))  # fmt: skip
    return tracker.profile(X, y, epoch=epoch).to_dict("records")


def readings_checkpoint(model: torch.nn.Module, X: torch.Tensor, y: torch.Tensor, epoch: int,
                        cfg: dict[str, Any], seed: int) -> list[dict[str, Any]]:  # fmt: skip
    """The readings that can move (:func:`toposcope.layer_readings`) of every tracked layer, with an ``epoch`` column.

    One forward pass of ``max(sizes)`` training images a class (a fixed draw under
    ``seed``); the neighbour searches run on the model's device.
    """
    spec = cfg["readings"]
    tracker = BettiTracker(model, list(TRACKED_LAYERS))
    chosen = draw_per_class(y, max(spec["sizes"]), seed)
    acts, _ = tracker.activations(X[chosen])
    device = model_device(model)
    rows = layer_readings(acts, y[chosen], sizes=spec["sizes"], k=spec["k"], tau=spec["tau"],
                          bar_points=spec["bar_points"], pairs=[tuple(p) for p in spec.get("pairs", ())], seed=seed,
                          device=device)  # fmt: skip
    return [{**row, "epoch": epoch} for row in rows]


def train_run(params: dict[str, Any], train: TensorDataset, test: TensorDataset, cfg: dict[str, Any], *,
              device: str = "auto", progress: bool = False) -> dict[str, Any]:  # fmt: skip
    """Train one CNN of ``params`` (dataset, activation, seed), profiling it at the checkpoints; return its result."""
    X, y = train.tensors
    model = build_cnn(params["activation"], params["seed"], in_channels=X.shape[1],
                      num_classes=int(y.max()) + 1, image_size=X.shape[-1], channels=cfg["channels"],
                      dense=cfg["dense"])  # fmt: skip
    betti: list[dict[str, Any]] = []
    readings: list[dict[str, Any]] = []
    checkpoints = set(cfg["betti_epochs"])

    def record(m, epoch, _record):
        if epoch in checkpoints:
            if cfg["ks"]:
                betti.extend(betti_checkpoint(m, X, y, epoch, cfg, params["seed"]))
            if "readings" in cfg:
                readings.extend(readings_checkpoint(m, X, y, epoch, cfg, params["seed"]))

    start = time.perf_counter()
    history = fit(model, train, test, epochs=cfg["epochs"], batch_size=cfg["batch_size"], lr=cfg["lr"],
                  seed=params["seed"], device=device, progress=progress, callbacks=[record])  # fmt: skip
    last = history.records[-1]
    return {
        "curve": {key: history.column(key) for key in ("epoch", "loss", "train_acc", "test_acc")},
        "final_train_acc": last["train_acc"], "final_test_acc": last["test_acc"], "betti": betti,
        **({"readings": readings} if "readings" in cfg else {}),
        "seconds": time.perf_counter() - start, "device": str(model_device(model)),
    }  # fmt: skip


def _run_work(todo: list[dict[str, Any]], *, train, test, cfg: dict[str, Any], device: str,
              progress: bool) -> list[dict[str, Any]]:  # fmt: skip
    """One grid cell: train and profile the one run of ``todo``; its result."""
    (params,) = todo
    result = train_run(params, train, test, cfg, device=device, progress=False)
    if progress:
        print(f"  {params['dataset']} {params['activation']} seed {params['seed']}: test accuracy "
              f"{result['final_test_acc']:.3f}, {result['seconds']:.0f} s", flush=True)  # fmt: skip
    return [result]


def run(profile: str = "smoke", out: str | Path | None = None, *, datasets: Sequence[str] = DATASETS,
        device: str = "auto", progress: bool = True, data_root: dict[str, str | None] | None = None,
        backend: str = "local", address: str | None = None, num_cpus: float = 1,
        num_gpus: float = 0) -> ResultStore:  # fmt: skip
    """Run (or resume) the CNN experiment of a profile on every data set whose files are present.

    Parameters
    ----------
    profile : {"smoke", "full"}
    out : path, optional
        Results file; default ``data/results/cnn_<profile>.jsonl``.
    datasets : sequence of str
        A subset of :data:`DATASETS`.  A data set whose files are absent is
        skipped with one printed line saying so.
    device : str, default "auto"
    progress : bool, default True
    data_root : dict, optional
        Folder per data set name (default: each loader's own default).
    backend, address, num_cpus, num_gpus
        Where the runs go (see :func:`~toposcope.experiments.backends.run_cells`).
    """
    check_names("profile", [profile], PROFILES)
    check_names("data set(s)", datasets, DATASETS)
    cfg = PROFILES[profile]
    store = ResultStore(out or f"data/results/cnn_{profile}.jsonl")
    cells = []
    for dataset in datasets:
        try:
            train, test = load(dataset, cfg, (data_root or {}).get(dataset))
        except FileNotFoundError as err:
            print(f"{dataset}: files absent, not run. {err}", flush=True)
            continue
        base = {"experiment": "cnn", "profile": profile, "dataset": dataset, "epochs": cfg["epochs"],
                "lr": cfg["lr"], "batch_size": cfg["batch_size"], "train_images": len(train)}  # fmt: skip
        work = partial(_run_work, train=train, test=test, cfg=cfg, device=device, progress=progress)
        cells += [Cell([{**base, "activation": layout, "seed": seed}], work)
                  for seed in cfg["seeds"] for layout in cfg["layouts"]]  # fmt: skip
    run_cells(store, cells, backend, address=address, num_cpus=num_cpus, num_gpus=num_gpus)
    return store


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="smoke")
    parser.add_argument("--out", help="results file (.jsonl); default data/results/cnn_<profile>.jsonl")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS))
    for name in DATASETS:
        parser.add_argument(f"--{name.replace('_', '-')}-root", help=f"folder of the {name} files")
    add_backend_arguments(parser)
    args = parser.parse_args(argv)
    roots = {name: getattr(args, f"{name}_root") for name in DATASETS}
    store = run(args.profile, args.out, datasets=args.datasets, device=args.device, data_root=roots,
                backend=args.backend, address=args.address, num_cpus=args.num_cpus,
                num_gpus=args.num_gpus)  # fmt: skip
    print(stored_note(store))


if __name__ == "__main__":
    main()
