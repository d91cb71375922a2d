"""Betti profile of a trained PaperCNN on Fashion-MNIST: every tracked layer, 10 classes x 500 images.

Times, in one run: the forward pass that collects the layer outputs (the baseline
the ratios are taken against), the Betti numbers of every (layer, class) cloud
with the default kNN recipe (k = 14, 2 hops), and, on the widest layer, the old
duplicate removal (``np.unique(axis=0)``, which sorts rows of 21,632 numbers)
against toposcope's hash-based ``unique_rows``.

    python benchmarks/cnn_profile.py [--epochs 2] [--per-class 500]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch

import toposcope as ts
from toposcope.clouds import unique_rows
from toposcope.experiments.cnn import LAYER_LABELS, TRACKED_LAYERS, build_cnn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--per-class", type=int, default=500)
    parser.add_argument("--train-images", type=int, default=12_000)
    args = parser.parse_args()

    train = ts.fashion_mnist(split="train", limit=args.train_images)
    model = build_cnn("relu", seed=0)
    history = ts.fit(model, train, epochs=args.epochs, lr=1e-3, progress=False)
    print(f"PaperCNN, {args.epochs} epochs on {len(train)} images: train accuracy "
          f"{history.records[-1]['train_acc']:.3f}; torch threads {torch.get_num_threads()}")  # fmt: skip

    X, y = ts.fashion_mnist(split="train").tensors
    tracker = ts.BettiTracker(model, list(TRACKED_LAYERS), samples_per_class=args.per_class)
    start = time.perf_counter()
    chosen = tracker.draw(X, y)
    acts, _ = tracker.activations(X[chosen])
    forward = time.perf_counter() - start
    labels = y[chosen]
    print(f"forward pass of {len(chosen)} images, {len(TRACKED_LAYERS)} layers kept: {forward:.2f} s (baseline)")

    total = 0.0
    print(f"\n{'layer':8} {'dims':>6} {'seconds':>8} {'x forward':>10}  (b0, b1) per class")
    for name in TRACKED_LAYERS:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            betti = [ts.betti_numbers(acts[name][labels == c]).betti for c in range(10)]
        seconds = time.perf_counter() - start
        total += seconds
        print(f"{LAYER_LABELS[name]:8} {acts[name].shape[1]:6d} {seconds:8.2f} {seconds / forward:10.2f}  "
              f"{sorted(set(betti))}")  # fmt: skip
    print(f"all {len(TRACKED_LAYERS) * 10} clouds: {total:.2f} s = {total / forward:.1f} x the forward pass")

    widest = max(TRACKED_LAYERS, key=lambda n: acts[n].shape[1])
    cloud = acts[widest][labels == 0].double().numpy()
    timings = {}
    for label, fn in (("np.unique(axis=0)", lambda a: np.unique(a, axis=0)), ("unique_rows", unique_rows)):
        start = time.perf_counter()
        for _ in range(5):
            fn(cloud)
        timings[label] = (time.perf_counter() - start) / 5
    print(f"\nduplicate removal on {LAYER_LABELS[widest]} ({cloud.shape[0]} x {cloud.shape[1]}): "
          f"np.unique {timings['np.unique(axis=0)']:.3f} s, unique_rows {timings['unique_rows']:.3f} s "
          f"({timings['np.unique(axis=0)'] / timings['unique_rows']:.1f}x)")  # fmt: skip


if __name__ == "__main__":
    main()
