"""Batched vs sequential training of an activation x seed sweep of 9 x 25 MLPs on nine rings.

The same networks (same initial weights, same data order) are trained once one at a time with
``toposcope.fit`` and once all together with ``toposcope.batched.train_many``; the script prints
both times, their ratio, and the largest difference between the two loss curves.

    python benchmarks/batched_training.py [--seeds 4] [--epochs 2] [--device auto]
"""

from __future__ import annotations

import argparse
import time

import torch

import toposcope as ts
from toposcope._torch import resolve_device
from toposcope.batched import train_many


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    data = ts.nine_rings()
    specs = [ts.ModelSpec(layout, s) for s in range(args.seeds) for layout in ts.LAYOUTS.values()]
    device = resolve_device(args.device)
    train_many(specs[:2], data.train, epochs=1, device=device, progress=False)  # warm-up (imports, kernels)

    start = time.perf_counter()
    sequential = [
        ts.fit(spec.build(3, [25] * 9, 2), data.train, data.test, epochs=args.epochs, batch_size=128, lr=3e-3,
               seed=spec.seed, device=device, progress=False)
        for spec in specs
    ]  # fmt: skip
    t_seq = time.perf_counter() - start

    start = time.perf_counter()
    batched = train_many(specs, data.train, data.test, epochs=args.epochs, batch_size=128, lr=3e-3, device=device,
                         progress=False)  # fmt: skip
    t_bat = time.perf_counter() - start

    gap = max(
        abs(a - b)
        for s, m in zip(sequential, batched, strict=True)
        for a, b in zip(s.column("loss"), m.column("loss"), strict=True)
    )
    print(f"{len(specs)} models ({len(ts.LAYOUTS)} activation layouts x {args.seeds} seeds), {args.epochs} epochs, "
          f"batch 128, device {device}, {torch.get_num_threads()} CPU threads")  # fmt: skip
    print(f"sequential (toposcope.fit, one model at a time): {t_seq:.1f} s")
    print(f"batched (train_many, all models together):       {t_bat:.1f} s")
    print(f"speed-up: {t_seq / t_bat:.1f}x")
    print(f"largest final-loss difference between the two: {gap:.2e} (summation order, amplified by training "
          "for kinked activations; see toposcope.batched)")  # fmt: skip


if __name__ == "__main__":
    main()
