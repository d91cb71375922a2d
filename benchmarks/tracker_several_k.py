"""One CNN checkpoint read at several k: one tracker per k (the old way) against one tracker for every k.

A PaperCNN trained briefly on Fashion-MNIST; every tracked layer, 10 classes,
``--per-class`` training images a class, ``--ks`` values of k.  The old way builds
one :class:`toposcope.BettiTracker` per k, so each k repeats the forward pass and
every cloud's neighbour search; the new way (``BettiTracker(k=[...])``) runs one
forward pass and one neighbour search per cloud (on the model's device), then
reads each k from it.  Both run here, in this order, on the same model and draw;
the script prints both times, their ratio, and whether the Betti numbers agree.

    python benchmarks/tracker_several_k.py [--per-class 1000] [--ks 5 14 30] [--device auto]
"""

from __future__ import annotations

import argparse
import time
import warnings

import pandas as pd
import torch

import toposcope as ts
from toposcope._torch import resolve_device
from toposcope.experiments.cnn import TRACKED_LAYERS, build_cnn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=1000)
    parser.add_argument("--ks", type=int, nargs="+", default=[5, 14, 30])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--train-images", type=int, default=6000)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    device = resolve_device(args.device)
    train = ts.fashion_mnist(split="train", limit=args.train_images)
    model = build_cnn("relu", seed=0)
    ts.fit(model, train, epochs=args.epochs, lr=1e-3, device=device, progress=False)
    X, y = ts.fashion_mnist(split="train").tensors
    print(f"PaperCNN on {device}, torch threads {torch.get_num_threads()}: {len(TRACKED_LAYERS)} layers x 10 classes "
          f"x {args.per_class} images, k = {args.ks}")  # fmt: skip

    def tracker(k):
        return ts.BettiTracker(model, list(TRACKED_LAYERS), samples_per_class=args.per_class, k=k)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        old = pd.concat([tracker(k).profile(X, y) for k in args.ks], ignore_index=True)
        t_old = time.perf_counter() - start
        start = time.perf_counter()
        new = tracker(list(args.ks)).profile(X, y)
        t_new = time.perf_counter() - start
    key = ["layer", "class", "k", "dim"]
    same = (old.sort_values(key).betti.to_numpy() == new.sort_values(key).betti.to_numpy()).mean()
    print(f"one tracker per k (baseline): {t_old:7.1f} s")
    print(f"one tracker, every k:         {t_new:7.1f} s   speed-up {t_old / t_new:.1f}x")
    print(f"Betti numbers equal in {same:.1%} of {len(new)} readings (neighbours at equal distance may differ)")


if __name__ == "__main__":
    main()
