"""Betti profile of a trained nine-rings MLP: toposcope's default against a dense full filtration.

Both sides get the same clouds (11 layers x 2 classes, 1,000 inputs per class)
and the same k-nearest-neighbour hop metric.  toposcope hands ripser the sparse
flag complex at 2 hops; the baseline hands ripser.py the dense matrix of all hop
distances, computes the whole filtration and counts the bars alive at 2 hops.

    python benchmarks/betti_speed.py [--epochs 20] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from ripser import ripser
from scipy.sparse.csgraph import shortest_path
from sklearn.neighbors import kneighbors_graph

import toposcope as ts


def dense_full_filtration(cloud: np.ndarray, k: int = 14, scale: int = 2, maxdim: int = 1) -> tuple[int, ...]:
    """The baseline: every hop distance, the full Rips filtration, bars alive at ``scale``."""
    cloud = np.unique(cloud.astype(np.float64), axis=0)
    A = kneighbors_graph(cloud, n_neighbors=min(k, len(cloud)) - 1, include_self=False)
    D = shortest_path(A, method="D", unweighted=True, directed=False)
    D[np.isinf(D)] = D[np.isfinite(D)].max() + 1  # disconnected pairs: beyond every finite distance
    dgms = ripser(D, maxdim=maxdim, distance_matrix=True)["dgms"]
    return tuple(int(np.sum((d[:, 0] <= scale) & (d[:, 1] > scale))) for d in dgms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats of the toposcope profile")
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))

    data = ts.nine_rings()
    torch.manual_seed(0)
    model = ts.MLP(3)
    history = ts.fit(model, data.train, epochs=args.epochs, batch_size=128, lr=3e-3, progress=False)
    print(f"trained 9x25 ReLU MLP for {args.epochs} epochs: train accuracy {history.records[-1]['train_acc']:.4f}")

    X, y = data.train.tensors
    tracker = ts.BettiTracker(model, samples_per_class=1000)
    chosen = tracker.draw(y)
    acts, _ = tracker.activations(X[chosen])
    labels = y[chosen]
    clouds = [(name, c, acts[name][labels == c].numpy()) for name in tracker.layers for c in (0, 1)]
    print(f"{len(clouds)} clouds of {len(clouds[0][2])} points ({len(tracker.layers)} layers x 2 classes)")

    fast_times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        fast = [ts.betti_numbers(cloud).betti for _, _, cloud in clouds]
        fast_times.append(time.perf_counter() - start)
    fast_time = min(fast_times)

    start = time.perf_counter()
    slow = [dense_full_filtration(cloud) for _, _, cloud in clouds]
    slow_time = time.perf_counter() - start

    profile_times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        ts.BettiTracker(model, samples_per_class=1000).profile(X, y)
        profile_times.append(time.perf_counter() - start)

    print(f"{'layer':>8} {'class':>5}  {'toposcope':>10} {'dense':>10}")
    for (name, c, _), a, b in zip(clouds, fast, slow, strict=True):
        print(f"{name:>8} {c:>5}  {a!s:>10} {b!s:>10}{'' if a == b else '  <-- differ'}")
    agree = sum(a == b for a, b in zip(fast, slow, strict=True))
    print(f"\nBetti numbers agree on {agree}/{len(clouds)} clouds")
    print(f"toposcope (sparse complex at 2 hops): {fast_time:.3f} s  (best of {args.repeats})")
    print(f"ripser.py dense full filtration:       {slow_time:.3f} s")
    print(f"speed-up: {slow_time / fast_time:.1f}x")
    print(f"whole tracker profile (draw, forward pass, 22 clouds): {min(profile_times):.3f} s "
          f"(best of {args.repeats}; {torch.get_num_threads()} torch threads)")  # fmt: skip


if __name__ == "__main__":
    main()
