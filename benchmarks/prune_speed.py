"""Betti filter pruning: scoring time, and latency of unpruned vs Betti-pruned vs L1-pruned PaperCNN.

Trains PaperCNN briefly on Fashion-MNIST, times the scoring of every conv filter
on 500 images with the literal reading and with the shape criteria (per class), prunes with
the paper's rule (Betti number > 300) and with L1 norm
at the same number of filters per layer, and times all three models in one run
at batch sizes 1 and 256 (CPU, and CUDA when available).

    python benchmarks/prune_speed.py [--train-images 6000] [--threshold 300]
"""

from __future__ import annotations

import argparse
import time

import pandas as pd
import torch
from torch.utils.data import TensorDataset

import toposcope as ts
from toposcope import pruning as P


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-images", type=int, default=6000)
    parser.add_argument("--threshold", type=float, default=300)
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats of the scoring")
    parser.add_argument("--per-class", type=int, nargs="+", default=[50, 100],
                        help="images per class for the shape criteria")  # fmt: skip
    parser.add_argument("--n-jobs", type=int, default=2, help="worker processes for the shape criteria")
    args = parser.parse_args()

    train = ts.fashion_mnist(split="train", limit=args.train_images)
    test = ts.fashion_mnist(split="test", limit=2000)
    torch.manual_seed(0)
    model = ts.PaperCNN()
    ts.fit(model, train, epochs=1, batch_size=128, lr=2e-3, progress=False, device="cpu")
    images = train.tensors[0]

    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        scores = P.score_filters(model, images, n_samples=500)
        times.append(time.perf_counter() - start)
    n_filters = len(scores)
    literal = min(times)
    print(f"scoring {n_filters} filters of PaperCNN on 500 images (literal reading): {literal:.2f} s "
          f"(best of {args.repeats}; {torch.get_num_threads()} threads)")  # fmt: skip
    for criterion in ("relative", "correlation"):
        for per_class in args.per_class:
            start = time.perf_counter()
            P.shape_scores(model, train, criterion=criterion, per_class=per_class, n_jobs=args.n_jobs)
            seconds = time.perf_counter() - start
            print(f"  {criterion:>11}, {per_class:3d} images per class x 10 classes, {args.n_jobs} workers: "
                  f"{seconds:.2f} s ({seconds / literal:.1f}x the literal reading)")  # fmt: skip

    models, plan = P.prune_at_equal_budget(model, scores, images[:1], threshold=args.threshold)
    removed = {layer: len(idxs) for layer, idxs in plan.items()}
    print(f"Betti number > {args.threshold:g} removes {sum(removed.values())} of {n_filters} filters: {removed}")
    candidates = {"unpruned": model, "betti": models["betti"], "l1": models["l1"]}
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    columns = ["params", "bytes", "accuracy", "latency_ms_b1", "latency_ms_b256", "size_ratio",
               "latency_ratio_b1", "latency_ratio_b256"]  # fmt: skip
    for device in devices:
        table = P.compare(candidates, TensorDataset(*test.tensors), device=device, repeats=50, warmup=10)
        with pd.option_context("display.width", 160, "display.float_format", "{:.4g}".format):
            print(f"\n{device} (no fine-tuning; ratios against the unpruned model, same run):")
            print(table[columns].to_string())


if __name__ == "__main__":
    main()
