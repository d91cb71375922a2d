"""Which engine reads a flag complex faster: gudhi's edge collapse then ripser, or ripser alone, by graph density.

Random clouds (cubed Gaussian coordinates, so high dimensions grow hubs in the kNN
graph) of 300 and 1,000 points, in 3 to 784 dimensions, with k = 8, 14 and 30; for
each, the 2-hop kNN graph is read both ways (the Betti numbers must agree) and the
row prints ripser's time over gudhi's (above 1: the collapse pays) and the engine
``"auto"`` picks (:func:`toposcope.complexes.auto_engine`).

    python benchmarks/engine_choice.py [--repeats 2]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from betti_speed import best_of  # this folder is on the path when a benchmark runs

from toposcope import complexes, knn_hop_graph
from toposcope.clouds import prepare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    warnings.simplefilter("ignore")  # small-cloud warnings: the readings are not the point here
    complexes.graph_betti(knn_hop_graph(rng.normal(size=(50, 2)), 8, 2), 1, "gudhi")  # import gudhi untimed
    print(f"{'points':>6} {'dims':>5} {'k':>3} {'edges':>8} {'mean deg':>8} {'gudhi s':>8} {'ripser s':>8} "
          f"{'ripser/gudhi':>12}  auto")  # fmt: skip
    for n in (300, 1000):
        for d in (3, 10, 64, 784):
            for k in (8, 14, 30):
                graph = knn_hop_graph(prepare(rng.normal(size=(n, d)) ** 3, None, "maxmin", 0)[0], k, 2)
                degree = 2 * graph.nnz / n
                if n * degree > 3e5 and degree < 500:  # the collapse takes several seconds here (7 s measured)
                    continue
                t_gudhi, b_gudhi = best_of(args.repeats, lambda g=graph: complexes.graph_betti(g, 1, "gudhi"))
                t_ripser, b_ripser = best_of(args.repeats, lambda g=graph: complexes.graph_betti(g, 1, "ripser"))
                if b_gudhi != b_ripser:
                    raise SystemExit(f"engines disagree: {b_gudhi} vs {b_ripser}")
                auto = complexes.auto_engine(graph, 1)
                print(f"{n:>6} {d:>5} {k:>3} {graph.nnz:>8,} {degree:>8.0f} {t_gudhi:>8.3f} {t_ripser:>8.3f} "
                      f"{t_ripser / t_gudhi:>12.2f}  {auto}")  # fmt: skip


if __name__ == "__main__":
    main()
