"""Is 50 images a class enough?  How each shape criterion's filter ranking moves with the images it reads.

The pruning experiments score every conv filter of a trained ``PaperCNN`` on 50
images a class (:func:`toposcope.pruning.shape_scores`).  This experiment trains
one model, scores its filters with each criterion on ``small`` and on ``large``
images a class (same draw seed), and on ``small`` images of a second draw, and
stores, per criterion and conv layer, the Spearman correlation of the filters'
scores between the small and the large reading, and between the two small draws
(the noise of the draw alone)::

    python -m toposcope.experiments.ranking --profile full --out data/results/ranking_stability.csv
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from .. import pruning as P
from .._torch import random_subset
from ..datasets import fashion_mnist
from ..models import PaperCNN
from ..training import fit
from .profiles import experiment_parser

__all__ = ["PROFILES", "run"]

PROFILES: dict[str, dict[str, Any]] = {
    "smoke": {"train_images": 1024, "epochs": 1, "channels": (8, 16, 16), "dense": 32, "small": 5, "large": 20,
              "criteria": ["relative", "correlation", "literal"], "seed": 0, "n_jobs": 1},
    "full": {"train_images": 20_000, "epochs": 3, "channels": (32, 64, 64), "dense": 64, "small": 50,
             "large": 500, "criteria": ["relative", "correlation", "literal"], "seed": 0, "n_jobs": 2},
}  # fmt: skip
"""Sizes: the pruning experiment's model (``"full"``: 20,000 images, 3 epochs); ``small`` and ``large``
images a class."""


def run(profile: str = "smoke", out: str | Path | None = None, data_root: str | None = None,
        progress: bool = True) -> pd.DataFrame:  # fmt: skip
    """Train, score at both sizes and two small draws, and write (and return) the per-layer correlations.

    Returns
    -------
    pandas.DataFrame
        ``criterion, layer, filters, small, large, spearman_small_large, spearman_small_draws,
        seconds_small, seconds_large``.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose from {sorted(PROFILES)}")
    cfg = PROFILES[profile]
    train = random_subset(fashion_mnist(data_root, split="train"), cfg["train_images"], seed=cfg["seed"])
    torch.manual_seed(cfg["seed"])
    model = PaperCNN(channels=cfg["channels"], dense=cfg["dense"])
    fit(model, train, epochs=cfg["epochs"], batch_size=128, lr=2e-3, seed=cfg["seed"], progress=progress,
        device="cpu")  # fmt: skip
    rows = []
    for criterion in cfg["criteria"]:
        readings, seconds = {}, {}
        for name, per_class, seed in (("small", cfg["small"], 0), ("other", cfg["small"], 1),
                                      ("large", cfg["large"], 0)):  # fmt: skip
            start = time.perf_counter()
            readings[name] = P.shape_scores(model, train, criterion=criterion, per_class=per_class, seed=seed,
                                            n_jobs=cfg["n_jobs"]).set_index(["layer", "filter"]).score  # fmt: skip
            seconds[name] = time.perf_counter() - start
        for layer, small in readings["small"].groupby(level="layer", sort=False):
            rows.append({"criterion": criterion, "layer": layer, "filters": len(small), "small": cfg["small"],
                         "large": cfg["large"],
                         "spearman_small_large": small.corr(readings["large"][small.index], method="spearman"),
                         "spearman_small_draws": small.corr(readings["other"][small.index], method="spearman"),
                         "seconds_small": seconds["small"], "seconds_large": seconds["large"]})  # fmt: skip
        if progress:
            print(f"{criterion}: {seconds['small']:.0f} s at {cfg['small']}, {seconds['large']:.0f} s at "
                  f"{cfg['large']} images a class", flush=True)  # fmt: skip
    table = pd.DataFrame(rows)
    path = Path(out) if out else Path(f"data/results/ranking_{profile}.csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False)
    return table


def main(argv: list[str] | None = None) -> None:
    args = experiment_parser(__doc__, PROFILES, "ranking").parse_args(argv)
    table = run(args.profile, args.out, args.data_root)
    print(table.round(3).to_string(index=False))


if __name__ == "__main__":
    main()
