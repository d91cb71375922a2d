"""Does the topology-designed activation train MLPs faster?  Nine rings, nine spheres, Fashion-MNIST.

Five experiments, each a grid of runs stored one JSON line per finished run
(resumable), all with the paper's 9 x 25 MLP unless said otherwise:

``convergence``
    every activation x seed on nine rings and nine spheres: epochs until the
    training (and test) accuracy reaches the target;
``batch_size``
    ReLU vs the sine activation at several batch sizes (full batch included);
``learning_rate``
    the same at several learning rates;
``betti``
    Betti numbers of every layer, per class, at several epochs (the tracker);
``fashion``
    train and test accuracy on Fashion-MNIST, narrow and wide MLPs.

The same seed gives every activation the same initial weights and data order.

    python -m toposcope.experiments.mlp --profile full --out data/results/mlp_full.jsonl
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from torch.utils.data import TensorDataset

from ..batched import ModelSpec, train_many
from ..datasets import fashion_mnist, nine_rings, nine_spheres
from ..tracker import BettiTracker
from ..training import fit
from .store import ResultStore

__all__ = ["ACTIVATIONS", "PROFILES", "bootstrap_ratio", "epochs_table", "epochs_to_reach", "run", "spec_for"]


def _middle(n_layers: int) -> tuple[int, ...]:
    """The middle third of the hidden layers (act4..act6 of nine), 1-based."""
    third = max(1, n_layers // 3)
    start = (n_layers - third) // 2 + 1
    return tuple(range(start, start + third))


ACTIVATIONS: dict[str, str] = {
    "relu": "ReLU in every hidden layer",
    "leaky_relu_0.01": "leaky ReLU, slope 0.01",
    "leaky_relu_0.1": "leaky ReLU, slope 0.1",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "topo_sine": 'topo_sine (c = 3π/4, negative="formula") in every hidden layer',
    "topo_sine_mid": "topo_sine in the middle third of the hidden layers (act4-act6 of 9), ReLU elsewhere",
    "topo_sine_relu": 'topo_sine with negative="relu" in every hidden layer',
}
"""The activation layouts compared, by name."""


def spec_for(name: str, seed: int, n_layers: int = 9) -> ModelSpec:
    """The :class:`~toposcope.batched.ModelSpec` of an activation layout of :data:`ACTIVATIONS`."""
    if name == "topo_sine_mid":
        overrides = tuple((f"act{i}", "topo_sine", ()) for i in _middle(n_layers))
        return ModelSpec("relu", overrides=overrides, seed=seed)
    if name.startswith("leaky_relu_"):
        return ModelSpec("leaky_relu", kwargs=(("slope", float(name.rsplit("_", 1)[1])),), seed=seed)
    if name == "topo_sine_relu":
        return ModelSpec("topo_sine", kwargs=(("negative", "relu"),), seed=seed)
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation layout {name!r}; choose from {list(ACTIVATIONS)}")
    return ModelSpec(name, seed=seed)


FULL_BATCH = "full"
PROFILES: dict[str, dict[str, Any]] = {
    "smoke": {
        "sizes": {"rings": (4000, 1000)}, "seeds": [0, 1], "epochs": 20, "target": 0.9, "lr": 3e-3,
        "batch_size": 128, "activations": list(ACTIVATIONS),
        "batch_sweep": {"datasets": ["rings"], "sizes": {32: 8, 256: 30, FULL_BATCH: 150}, "eval_every": 5},
        "lr_sweep": {"datasets": ["rings"], "rates": [1e-3, 3e-3, 1e-2]},
        "sweep_activations": ["relu", "topo_sine", "topo_sine_mid"],
        "betti": {"datasets": ["rings"], "epochs": [0, 5, 10, 20], "seeds": [0], "samples_per_class": 500},
        "fashion": {"train": 2000, "test": 1000, "epochs": 2, "seeds": [0],
                    "widths": {"narrow": [25] * 9, "wide": [128] * 3}},
    },
    "full": {
        "sizes": {"rings": (16_000, 2000), "spheres": (16_000, 2000)}, "seeds": [0, 1, 2, 3, 4],
        "convergence_seeds": list(range(10)), "epochs": 60,
        "target": 0.99, "lr": 3e-3, "batch_size": 128, "activations": list(ACTIVATIONS),
        "batch_sweep": {"datasets": ["rings"], "sizes": {32: 40, 256: 100, FULL_BATCH: 1500}, "eval_every": 10},
        "lr_sweep": {"datasets": ["rings"], "rates": [1e-3, 3e-3, 1e-2]},
        "sweep_activations": ["relu", "topo_sine", "topo_sine_mid"],
        "betti": {"datasets": ["rings", "spheres"], "epochs": [0, 5, 10, 20, 40, 60], "seeds": [0],
                  "samples_per_class": 1000},
        "fashion": {"train": 20_000, "test": 10_000, "epochs": 10, "seeds": [0, 1, 2],
                    "widths": {"narrow": [25] * 9, "wide": [500] * 3}},
    },
}  # fmt: skip


def _datasets(cfg: dict[str, Any]) -> dict[str, Any]:
    makers = {"rings": nine_rings, "spheres": nine_spheres}
    return {name: makers[name](n_train, n_test, seed=0) for name, (n_train, n_test) in cfg["sizes"].items()}


def _curve(history) -> list[list[float]]:
    return [[r["epoch"], r["loss"], r["train_acc"], r["test_acc"]] for r in history.records]


def _train_group(store, base, names, seeds, train, test, hidden, *, epochs, batch_size, lr, target, eval_every,
                 device, progress) -> None:  # fmt: skip
    """Train every (activation, seed) of one setting not yet in the store, together, and record them."""
    todo = [(a, s) for a in names for s in seeds if {**base, "activation": a, "seed": s} not in store]
    if not todo:
        return
    specs = [spec_for(a, s, len(hidden)) for a, s in todo]
    bs = len(train) if batch_size == FULL_BATCH else batch_size
    start = time.perf_counter()
    histories = train_many(specs, train, test, hidden=hidden, epochs=epochs, batch_size=bs, lr=lr,
                           target_accuracy=target, eval_every=eval_every, device=device, progress=progress)  # fmt: skip
    seconds = time.perf_counter() - start
    for (a, s), h in zip(todo, histories, strict=True):
        last = h.records[-1]
        store.add(
            {**base, "activation": a, "seed": s},
            {"epochs_to_train_target": h.epoch_reached, "epochs_to_test_target": h.test_epoch_reached,
             "final_train_acc": last["train_acc"], "final_test_acc": last["test_acc"], "max_epochs": epochs,
             "target": target, "curve": _curve(h), "group_seconds": seconds, "group_size": len(todo)},
        )  # fmt: skip
    if progress:
        print(f"  {base} x {len(todo)} runs: {seconds:.0f} s", flush=True)


def _settings(cfg: dict[str, Any], experiments: tuple[str, ...]):
    """(experiment, dataset, activations, seeds, batch size, lr, epochs, eval_every) of every training group."""
    if "convergence" in experiments:
        seeds = cfg.get("convergence_seeds", cfg["seeds"])
        for name in cfg["sizes"]:
            yield "convergence", name, cfg["activations"], seeds, cfg["batch_size"], cfg["lr"], cfg["epochs"], 1
    sweep = cfg["batch_sweep"]
    if "batch_size" in experiments:
        for name in sweep["datasets"]:
            for bs, epochs in sweep["sizes"].items():
                every = sweep["eval_every"] if bs == FULL_BATCH else 1
                yield "batch_size", name, cfg["sweep_activations"], cfg["seeds"], bs, cfg["lr"], epochs, every
    if "learning_rate" in experiments:
        for name in cfg["lr_sweep"]["datasets"]:
            for lr in cfg["lr_sweep"]["rates"]:
                yield (
                    "learning_rate",
                    name,
                    cfg["sweep_activations"],
                    cfg["seeds"],
                    cfg["batch_size"],
                    lr,
                    cfg["epochs"],
                    1,
                )


def run(profile: str = "smoke", out: str | Path | None = None, *, device: str = "auto", progress: bool = True,
        experiments: tuple[str, ...] = ("convergence", "batch_size", "learning_rate", "betti", "fashion"),
        data_root: str | None = None) -> ResultStore:  # fmt: skip
    """Run (or resume) the experiments of a profile; return the :class:`ResultStore`."""
    cfg = PROFILES[profile]
    store = ResultStore(out or f"data/results/mlp_{profile}.jsonl")
    data = _datasets(cfg)
    for experiment, name, activations, seeds, batch_size, lr, epochs, every in _settings(cfg, experiments):
        base = {"experiment": experiment, "profile": profile, "dataset": name, "batch_size": batch_size, "lr": lr}
        split = data[name]
        _train_group(store, base, activations, seeds, split.train, split.test, [25] * 9, epochs=epochs,
                     batch_size=batch_size, lr=lr, target=cfg["target"], eval_every=every, device=device,
                     progress=progress)  # fmt: skip
    if "betti" in experiments:
        _betti(store, profile, cfg, data, progress)
    if "fashion" in experiments:
        _fashion(store, profile, cfg, device, progress, data_root)
    return store


def _betti(store: ResultStore, profile: str, cfg: dict[str, Any], data: dict[str, Any], progress: bool) -> None:
    settings = cfg["betti"]
    checkpoints = settings["epochs"]
    for name in settings["datasets"]:
        X, y = data[name].train.tensors
        for activation in cfg["sweep_activations"]:
            for seed in settings["seeds"]:
                params = {"experiment": "betti", "profile": profile, "dataset": name, "activation": activation,
                          "seed": seed, "batch_size": cfg["batch_size"], "lr": cfg["lr"]}  # fmt: skip
                if params in store:
                    continue
                spec = spec_for(activation, seed)
                model = spec.build(3, [25] * 9, 2)
                tracker = BettiTracker(model, samples_per_class=settings["samples_per_class"], seed=seed)

                def record(m, epoch, _record, tracker=tracker, X=X, y=y):
                    if epoch in checkpoints:
                        tracker.profile(X, y, epoch=epoch)

                start = time.perf_counter()
                history = fit(model, data[name].train, data[name].test, epochs=max(checkpoints),
                              batch_size=cfg["batch_size"], lr=cfg["lr"], seed=seed, progress=progress,
                              callbacks=[record])  # fmt: skip
                store.add(params, {"betti": tracker.frame.to_dict("records"), "curve": _curve(history),
                                   "seconds": time.perf_counter() - start})  # fmt: skip
                if progress:
                    print(f"  betti {name} {activation} seed {seed}: {time.perf_counter() - start:.0f} s", flush=True)


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


# ----------------------------------------------------------------------------- analysis


def bootstrap_ratio(
    numerator: np.ndarray, denominator: np.ndarray, n_boot: int = 5000, seed: int = 0
) -> tuple[float, float, float]:
    """Ratio of medians and its 95% paired-bootstrap interval.

    ``numerator[i]`` and ``denominator[i]`` come from the same seed (same initial
    weights, same data order), so seeds are resampled jointly.

    Returns
    -------
    (ratio, low, high)
    """
    numerator, denominator = np.asarray(numerator, float), np.asarray(denominator, float)
    if numerator.shape != denominator.shape or numerator.ndim != 1 or len(numerator) == 0:
        raise ValueError("need two equal-length, non-empty 1-D samples (paired by seed)")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(numerator), size=(n_boot, len(numerator)))
    ratios = np.median(numerator[idx], axis=1) / np.median(denominator[idx], axis=1)
    return (
        float(np.median(numerator) / np.median(denominator)),
        float(np.percentile(ratios, 2.5)),
        float(np.percentile(ratios, 97.5)),
    )


def epochs_to_reach(frame: pd.DataFrame, target: float, metric: str = "train_acc") -> pd.Series:
    """First recorded epoch whose ``metric`` reached ``target``, per run (NaN if never), from the stored curves.

    Any target at or below the one the runs were trained with can be read off afterwards.
    """
    col = {"train_acc": 2, "test_acc": 3}[metric]

    def first(curve):
        return next((point[0] for point in curve if point[col] is not None and point[col] >= target), np.nan)

    return frame["curve"].map(first).astype(float)


def epochs_table(
    frame: pd.DataFrame, target: float | None = None, metric: str = "train_acc", reference: str = "relu"
) -> pd.DataFrame:
    """Median epochs to a target accuracy per activation, with spread and the ratio to ``reference``.

    Parameters
    ----------
    frame : DataFrame
        Runs of one setting (one data set, batch size and learning rate).
    target : float, optional
        Accuracy to reach; default each run's own training target.
    metric : {"train_acc", "test_acc"}
    reference : str
        Layout the ratios are taken against.

    Runs that never reached the target count as ``max_epochs + 1`` (a lower bound:
    the true number is larger), and ``reached`` says how many did.  Ratios below
    1 mean faster than the reference.
    """
    frame = frame.copy()
    if target is None:
        target = float(frame["target"].iloc[0])
    reached = epochs_to_reach(frame, target, metric)
    frame["epochs"] = reached.fillna(frame["max_epochs"] + 1)
    ref = frame[frame.activation == reference].set_index("seed")["epochs"]
    rows = []
    for activation, group in frame.groupby("activation", sort=False):
        epochs = group.set_index("seed")["epochs"]
        paired = epochs.index.intersection(ref.index)
        ratio, low, high = bootstrap_ratio(epochs[paired].to_numpy(), ref[paired].to_numpy())
        rows.append({
            "activation": activation, "runs": len(group), "reached": int(reached[group.index].notna().sum()),
            "median": float(epochs.median()), "q25": float(epochs.quantile(0.25)),
            "q75": float(epochs.quantile(0.75)), f"ratio to {reference}": ratio, "95% CI low": low,
            "95% CI high": high,
        })  # fmt: skip
    return pd.DataFrame(rows).set_index("activation")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="smoke")
    parser.add_argument("--out", help="results file (.jsonl); default data/results/mlp_<profile>.jsonl")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--only", nargs="+", choices=["convergence", "batch_size", "learning_rate", "betti", "fashion"])
    parser.add_argument("--data-root", help="folder with the Fashion-MNIST .gz files")
    args = parser.parse_args(argv)
    kwargs = {"experiments": tuple(args.only)} if args.only else {}
    store = run(args.profile, args.out, device=args.device, data_root=args.data_root, **kwargs)
    frame = store.frame()
    conv = frame[frame.experiment == "convergence"]
    with pd.option_context("display.width", 160):
        for name, group in conv.groupby("dataset"):
            print(f"\n{name}: epochs to {PROFILES[args.profile]['target']:.0%} training accuracy")
            print(epochs_table(group).round(2).to_string())


if __name__ == "__main__":
    main()
