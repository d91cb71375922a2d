"""How long the committed MLP sweeps would take spread over 1, 8 and 64 workers (Ray tasks), from their own times.

Every training group of the committed results files recorded how long it took
(``group_seconds``; Betti runs ``seconds``).  Each group is one Ray task, so the
sweep's wall time on ``w`` workers is the makespan of scheduling those durations
on ``w`` machines (longest first, each to the least loaded worker -- within 4/3 of
the best schedule).  The CPU times are those of the machine that made the results
(a 2-core CPU).

The GPU column is an estimate from one measured GPU run: the committed
``mlp_spheres_500.jsonl`` (75 networks trained together on one H100) gives the
seconds of one optimiser step of a batched group.  Batched training of these
small MLPs is bound by kernel launches, not arithmetic, so a group of up to 75
networks is taken to cost that much per step whatever its size (a larger one
proportionally more): its GPU time is its steps (epochs trained x batches an epoch)
times the measured step.  Betti runs stay
at their CPU time (the homology runs on the CPU wherever the network trains).

    python benchmarks/sweep_estimate.py [--workers 1 8 64] [files...]
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
from pathlib import Path

from toposcope.experiments.profiles import FULL_BATCH, MLP

FILES = ["data/results/mlp_full.jsonl", "data/results/mlp_naitzat.jsonl"]
# made by python -m toposcope.experiments.mlp --profile spheres_500 --device cuda
GPU_FILE = "data/results/mlp_spheres_500.jsonl"


def _steps(params: dict, result: dict) -> int:
    """Optimiser steps of one training group: epochs trained x batches an epoch."""
    settings = MLP[params["profile"]]
    if params["experiment"] == "fashion":
        n_train = settings["fashion"]["train"]
    else:
        n_train = settings["sizes"][params["dataset"]][0]
    batches = 1 if params["batch_size"] == FULL_BATCH else math.ceil(n_train / params["batch_size"])
    return result["curve"]["epoch"][-1] * batches


def tasks(path: str | Path) -> list[tuple[float, int | None, int]]:
    """(CPU seconds, optimiser steps, networks) per training group of a results file; Betti runs have no steps."""
    found = {}
    for line in Path(path).read_text().splitlines():
        record = json.loads(line)
        params, result = record["params"], record["result"]
        if "group_seconds" in result:
            key = (params["experiment"], params["dataset"], params.get("width"), params["batch_size"],
                   params["lr"], result["group_seconds"])  # fmt: skip
            found[key] = (result["group_seconds"], _steps(params, result), result["group_size"])
        elif "seconds" in result:
            found[json.dumps(params, sort_keys=True)] = (result["seconds"], None, 1)
    return list(found.values())


def makespan(durations: list[float], workers: int) -> float:
    """Wall time of the longest-first greedy schedule of ``durations`` on ``workers`` workers."""
    loads = [0.0] * workers
    for d in sorted(durations, reverse=True):
        heapq.heappush(loads, heapq.heappop(loads) + d)
    return max(loads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", default=FILES)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 8, 64])
    args = parser.parse_args()
    found = [t for f in args.files if Path(f).exists() for t in tasks(f)]
    ((gpu_seconds, gpu_steps, gpu_group),) = tasks(GPU_FILE)
    step = gpu_seconds / gpu_steps
    cpu = [seconds for seconds, _, _ in found]
    # a group larger than the measured one is taken to cost proportionally more per step
    gpu = [seconds if steps is None else steps * step * max(1.0, size / gpu_group) for seconds, steps, size in found]
    print(f"{len(found)} tasks from {', '.join(args.files)}; longest {max(cpu) / 60:.1f} min on the CPU")
    print(f"GPU step of a batched group, measured in {GPU_FILE}: {step * 1000:.2f} ms "
          f"({gpu_steps:,} steps in {gpu_seconds:.0f} s); longest task on a GPU {max(gpu) / 60:.1f} min")  # fmt: skip
    print("  workers   2-core CPUs   GPUs (estimate)")
    for w in args.workers:
        print(f"  {w:>7}   {makespan(cpu, w) / 3600:9.2f} h   {makespan(gpu, w) / 3600:9.2f} h")


if __name__ == "__main__":
    main()
