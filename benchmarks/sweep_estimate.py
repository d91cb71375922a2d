"""How long the committed MLP sweeps would take spread over 1, 8 and 64 workers (Ray tasks), from their own times.

Every training group of the committed results files recorded how long it took
(``group_seconds``; Betti runs ``seconds``).  Each group is one Ray task, so the
sweep's wall time on ``w`` workers is the makespan of scheduling those durations
on ``w`` machines (longest first, each to the least loaded worker -- within 4/3 of
the best schedule).  The times are those of the machine that made the results (a
2-core CPU); a GPU changes every duration, not the schedule.

    python benchmarks/sweep_estimate.py [--workers 1 8 64] [files...]
"""

from __future__ import annotations

import argparse
import heapq
import json
from pathlib import Path

FILES = ["data/results/mlp_full.jsonl", "data/results/mlp_naitzat.jsonl"]


def task_seconds(path: str | Path) -> list[float]:
    """One duration per training group (or per Betti run) of a results file."""
    groups = {}
    for line in Path(path).read_text().splitlines():
        record = json.loads(line)
        params, result = record["params"], record["result"]
        if "group_seconds" in result:
            key = (params["experiment"], params["dataset"], params.get("width"), params["batch_size"],
                   params["lr"], result["group_seconds"])  # fmt: skip
            groups[key] = result["group_seconds"]
        elif "seconds" in result:
            groups[json.dumps(params, sort_keys=True)] = result["seconds"]
    return list(groups.values())


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
    durations = [d for f in args.files if Path(f).exists() for d in task_seconds(f)]
    print(f"{len(durations)} tasks from {', '.join(args.files)}; longest {max(durations) / 60:.1f} min")
    for w in args.workers:
        print(f"  {w:>3} worker(s): {makespan(durations, w) / 3600:6.2f} h")


if __name__ == "__main__":
    main()
