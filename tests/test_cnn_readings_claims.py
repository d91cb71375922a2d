"""The CNN claims judged on the readings that can move: every verdict reachable, on synthetic runs."""

import numpy as np
import pandas as pd

from toposcope.claims.reading_claims import cnn_reading_claims


def runs(share, null=0.9, small_factor=1.0, bars=(1, 0), bars_null=(1, 0), seeds=5):
    """Synthetic CNN runs: per layout a dense-layer share at 500 images a class (times ``small_factor`` at 250)."""
    rng = np.random.default_rng(0)
    out = []
    for layout, level in share.items():
        for seed in range(seeds):
            value = level * (1 + 0.02 * rng.standard_normal())
            factor = small_factor if layout != "relu" else 1.0
            rows = [
                {
                    "epoch": 3,
                    "layer": "act3",
                    "reading": "cross_share",
                    "class": "all",
                    "n": n,
                    "value": value * (factor if n == 250 else 1.0),
                    "null": null,
                }
                for n in (250, 500)
            ]
            rows += [
                {
                    "epoch": 3,
                    "layer": layer,
                    "reading": f"long_h{d}",
                    "class": c,
                    "n": 100,
                    "value": bars[d],
                    "null": bars_null[d],
                }
                for layer in ("act0", "act3")
                for c in range(3)
                for d in (0, 1)
            ]
            out.append(
                {"experiment": "cnn", "dataset": "fashion_mnist", "activation": layout, "seed": seed, "readings": rows}
            )
    return pd.DataFrame(out)


def verdict(frame, kind):
    table = pd.DataFrame([v.__dict__ for v in cnn_reading_claims(frame)])
    row = table[table.claim.str.startswith(kind) & table.claim.str.contains("topo_sine_mid on Fashion")]
    return row.iloc[0]


def test_separation_verdicts():
    assert verdict(runs({"relu": 0.3, "topo_sine_mid": 0.2}), "classes").verdict == "holds"
    assert verdict(runs({"relu": 0.2, "topo_sine_mid": 0.3}), "classes").verdict == "contradicted"
    assert verdict(runs({"relu": 0.3, "topo_sine_mid": 0.3}), "classes").verdict == "inconclusive"
    at_null = verdict(runs({"relu": 0.9, "topo_sine_mid": 0.6}), "classes")
    assert at_null.verdict == "not measurable here" and "relu reading is not clearly below" in at_null.reason
    moving = verdict(runs({"relu": 0.3, "topo_sine_mid": 0.2}, small_factor=1.5), "classes")
    assert moving.verdict == "not measurable here" and "moves with the sample" in moving.reason
    few = verdict(runs({"relu": 0.3, "topo_sine_mid": 0.2}, seeds=2), "classes")
    assert few.verdict == "inconclusive" and "fewer than the 3" in few.reason
    assert verdict(None, "classes").verdict == "not yet measured"


def test_long_bars_verdicts():
    frozen = verdict(runs({"relu": 0.3, "topo_sine_mid": 0.2}), "Betti")
    assert frozen.verdict == "not measurable here" and "equals that of a Gaussian" in frozen.reason
    moving = runs({"relu": 0.3, "topo_sine_mid": 0.2}, bars=(1, 2), bars_null=(1, 0))
    for run in moving.itertuples():  # the sine layout reads fewer long loops
        if run.activation == "topo_sine_mid":
            for row in run.readings:
                if row["reading"] == "long_h1":
                    row["value"] = 1 if row["class"] != 2 or run.seed % 2 else 0
    assert verdict(moving, "Betti").verdict == "holds"
