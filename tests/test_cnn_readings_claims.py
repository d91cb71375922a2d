"""The CNN claims judged on the readings that can move: every verdict reachable, on synthetic runs."""

import numpy as np
import pandas as pd

from toposcope.claims.reading_claims import cnn_reading_claims


def runs(share, null=0.9, small_factor=1.0, bars=(1, 0), bars_null=(1, 0), seeds=5, merge=None, merge_null=1.0,
         merge_small_factor=1.0):
    """Synthetic CNN runs: per layout a dense-layer share (and merge scale) at 500 images a class (times the small
    factors at 250), and long bars at 50 and 100 points a class."""
    rng = np.random.default_rng(0)
    merge = merge or dict.fromkeys(share, 2.0)
    out = []
    for layout, level in share.items():
        for seed in range(seeds):
            noise = 1 + 0.02 * rng.standard_normal()
            rows = []
            for reading, base, at_null, small in (("cross_share", level, null, small_factor),
                                                  ("merge_scale", merge[layout], merge_null, merge_small_factor)):
                factor = small if layout != "relu" else 1.0
                rows += [
                    {
                        "epoch": 3,
                        "layer": "act3",
                        "reading": reading,
                        "class": "all",
                        "n": n,
                        "value": base * noise * (factor if n == 250 else 1.0),
                        "null": at_null,
                    }
                    for n in (250, 500)
                ]
            rows += [
                {
                    "epoch": 3,
                    "layer": layer,
                    "reading": f"long_h{d}",
                    "class": c,
                    "n": n,
                    "value": bars[d],
                    "null": bars_null[d],
                }
                for layer in ("act0", "act3")
                for c in range(3)
                for d in (0, 1)
                for n in (50, 100)
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
    assert verdict(runs({"relu": 0.3, "topo_sine_mid": 0.2}), "classes separate").verdict == "holds"
    assert verdict(runs({"relu": 0.2, "topo_sine_mid": 0.3}), "classes separate").verdict == "contradicted"
    assert verdict(runs({"relu": 0.3, "topo_sine_mid": 0.3}), "classes separate").verdict == "inconclusive"
    at_null = verdict(runs({"relu": 0.9, "topo_sine_mid": 0.6}), "classes separate")
    assert at_null.verdict == "not measurable here" and "relu reading is not clearly below" in at_null.reason
    moving = verdict(runs({"relu": 0.3, "topo_sine_mid": 0.2}, small_factor=1.5), "classes separate")
    assert moving.verdict == "not measurable here" and "moves with the sample" in moving.reason
    few = verdict(runs({"relu": 0.3, "topo_sine_mid": 0.2}, seeds=2), "classes separate")
    assert few.verdict == "inconclusive" and "fewer than the 3" in few.reason
    assert verdict(None, "classes separate").verdict == "not yet measured"
    assert few.reason == "2 independent units, fewer than the 3 this claim needs"


def test_unmeasured_reading_rows_keep_their_claim_paper_and_section():
    table = pd.DataFrame([v.__dict__ for v in cnn_reading_claims(None)])
    rows = table[table.claim.str.contains("topo_sine_mid on Fashion-MNIST")]
    assert rows[["claim", "paper", "verdict", "section", "part"]].values.tolist() == [
        ["classes separate further in a CNN: topo_sine_mid on Fashion-MNIST", "the classes apart by the last layer "
         "(figure 5's goal), further than with ReLU", "not yet measured", "05_cnn", "direction"],
        ["classes stay apart longer in a CNN: topo_sine_mid on Fashion-MNIST", "the classes apart by the last layer "
         "(figure 5's goal), further than with ReLU", "not yet measured", "05_cnn", "direction"],
        ["Betti numbers fall further in a CNN: topo_sine_mid on Fashion-MNIST, long bars", "lower Betti numbers "
         "through the CNN than ReLU (figures 7, 9)", "not yet measured", "05_cnn", "direction"]]


def _set(frame, layout, reading, value, n=None):
    """Set each ``reading`` row of ``layout``'s runs (at ``n`` images a class, if given) to ``value(row, seed)``,
    in place."""
    for run in frame.itertuples():
        if run.activation == layout:
            for row in run.readings:
                if row["reading"] == reading and n in (None, row["n"]):
                    row["value"] = value(row, run.seed)


def test_long_bars_verdicts():
    frozen = verdict(runs({"relu": 0.3, "topo_sine_mid": 0.2}), "Betti")
    assert frozen.verdict == "not measurable here" and "equals that of a Gaussian" in frozen.reason
    moving = runs({"relu": 0.3, "topo_sine_mid": 0.2}, bars=(1, 2), bars_null=(1, 0))
    _set(moving, "topo_sine_mid", "long_h1", lambda row, seed: 1 if row["class"] != 2 or seed % 2 else 0)  # fewer
    held = verdict(moving, "Betti")
    assert (held.verdict, held.reason) == ("holds", "fewer long bars than ReLU (whole interval below 1)")
    _set(moving, "topo_sine_mid", "long_h1", lambda row, seed: 2, n=50)  # at 50 points a class as many as ReLU
    small = verdict(moving, "Betti")
    assert small.verdict == "not measurable here" and "1.00 at 50 images a class" in small.reason


def test_merge_verdicts_read_apart_as_higher():
    share = {"relu": 0.3, "topo_sine_mid": 0.3}
    longer = verdict(runs(share, merge={"relu": 2.0, "topo_sine_mid": 3.0}), "classes stay")
    assert longer.verdict == "holds" and "whole interval above 1" in longer.reason
    assert verdict(runs(share, merge={"relu": 3.0, "topo_sine_mid": 2.0}), "classes stay").verdict == "contradicted"
    assert verdict(runs(share, merge={"relu": 2.0, "topo_sine_mid": 2.0}), "classes stay").verdict == "inconclusive"
    at_null = verdict(runs(share, merge={"relu": 1.0, "topo_sine_mid": 3.0}), "classes stay")
    assert at_null.verdict == "not measurable here" and "relu reading is not clearly above" in at_null.reason
    moving = verdict(runs(share, merge={"relu": 2.0, "topo_sine_mid": 3.0}, merge_small_factor=0.6), "classes stay")
    assert moving.verdict == "not measurable here" and "moves with the sample" in moving.reason
    assert verdict(None, "classes stay").verdict == "not yet measured"


def _edit(frame, layout, keep):
    """``frame`` with the readings of ``layout``'s runs filtered by ``keep(row)`` (a copy)."""
    frame = frame.copy()
    frame["readings"] = [[row for row in run.readings if keep(row)] if run.activation == layout else run.readings
                         for run in frame.itertuples()]  # fmt: skip
    return frame


def test_reading_claims_without_both_arms_are_not_yet_measured_whole():
    share = {"relu": 0.3, "topo_sine_mid": 0.2}
    no_share = _edit(runs(share), "topo_sine_mid", lambda row: row["reading"] != "cross_share")
    unmeasured = verdict(no_share, "classes separate")
    assert (unmeasured.verdict, unmeasured.claim, unmeasured.section, unmeasured.part, unmeasured.family,
            unmeasured.setting) == ("not yet measured", "classes separate further in a CNN: topo_sine_mid on "
                                    "Fashion-MNIST", "05_cnn", "direction", "classes separate further in a CNN",
                                    "topo_sine_mid, Fashion-MNIST")  # fmt: skip
    assert unmeasured.paper == "the classes apart by the last layer (figure 5's goal), further than with ReLU"
    no_bars = _edit(runs(share), "topo_sine_mid", lambda row: not row["reading"].startswith("long"))
    bars = verdict(no_bars, "Betti")
    assert (bars.verdict, bars.claim, bars.section, bars.setting, bars.paper) == (
        "not yet measured", "Betti numbers fall further in a CNN: topo_sine_mid on Fashion-MNIST, long bars",
        "05_cnn", "topo_sine_mid, Fashion-MNIST, long bars",
        "lower Betti numbers through the CNN than ReLU (figures 7, 9)")  # fmt: skip
    apart = runs(share)  # both arms read, but on different seeds: nothing to pair
    apart.loc[apart.activation == "topo_sine_mid", "seed"] += 10
    assert verdict(apart, "classes separate").verdict == "not yet measured"


def test_separation_reasons_in_words():
    held = verdict(runs({"relu": 0.3, "topo_sine_mid": 0.2}), "classes separate")
    assert held.reason == "classes further apart than with ReLU (whole interval below 1)"
    against = verdict(runs({"relu": 0.2, "topo_sine_mid": 0.3}), "classes separate")
    assert against.reason == "classes closer together than with ReLU (whole interval above 1)"
    same = {"relu": 0.3, "topo_sine_mid": 0.3}
    even = verdict(runs(same, merge={"relu": 2.0, "topo_sine_mid": 2.0}), "classes stay")
    assert even.reason == "no clear difference from ReLU (interval contains 1)"
    both = verdict(runs({"relu": 0.9, "topo_sine_mid": 0.9}), "classes separate")
    assert both.reason == ("the relu and topo_sine_mid reading is not clearly below its "
                           "shuffled-label null, so it shows no class structure to compare")  # fmt: skip


def test_a_reading_equal_to_its_null_shows_no_class_structure():
    frame = runs({"relu": 0.3, "topo_sine_mid": 0.2})
    _set(frame, "relu", "cross_share", lambda row, seed: row["null"])  # exactly its null: a gap of 0, no spread
    equal = verdict(frame, "classes separate")
    assert equal.verdict == "not measurable here" and "the relu reading is not clearly below" in equal.reason


def test_long_bars_reasons_and_guards():
    more = runs({"relu": 0.3, "topo_sine_mid": 0.2}, bars=(1, 2), bars_null=(1, 0))
    _set(more, "topo_sine_mid", "long_h1", lambda row, seed: 3 if row["class"] != 2 or seed % 2 else 2)  # more
    against = verdict(more, "Betti")
    assert (against.verdict, against.reason) == ("contradicted", "more long bars than ReLU (whole interval above 1)")
    few = verdict(more[more.seed < 2], "Betti")
    assert few.reason == "2 independent units, fewer than the 3 this claim needs"
    _set(more, "topo_sine_mid", "long_h1", lambda row, seed: 2, n=50)  # at 50 points a class as many as ReLU
    moving = verdict(more, "Betti")
    assert moving.reason == ("the ratio moves with the sample (1.00 at 50 images a class, "
                             "outside the 95% interval at 100), so it reads the sample, not the layer")  # fmt: skip


# -- the fixed-scale CNN Betti claim (image_claims), on synthetic runs: every verdict and guard ----------------


def fixed_scale_runs(act3_b1: dict, seeds=3, k=14, input_b1=0) -> pd.DataFrame:
    """CNN runs whose only moving reading is b1 at act3: ``act3_b1[layout][epoch]`` lists it per seed; every other
    hidden layer reads (1, 0), the input (1, ``input_b1``)."""
    from toposcope.claims.analysis import HIDDEN_CNN_LAYERS

    rows = []
    for layout, epochs in act3_b1.items():
        for seed in range(seeds):
            records = [{"epoch": epoch, "k": k, "layer": layer, "layer_index": i, "class": 0, "dim": dim,
                        "betti": 1 if dim == 0 else {"act3": values[seed], "input": input_b1}.get(layer, 0)}
                       for epoch, values in epochs.items() for i, layer in enumerate(("input", *HIDDEN_CNN_LAYERS))
                       for dim in (0, 1)]  # fmt: skip
            rows.append({"experiment": "cnn", "dataset": "fashion_mnist", "activation": layout, "seed": seed,
                         "betti": records})  # fmt: skip
    return pd.DataFrame(rows)


def fixed_scale_verdict(frame):
    from toposcope.claims.analysis import cnn_betti
    from toposcope.claims.image_claims import _cnn_betti_verdict

    return _cnn_betti_verdict(cnn_betti(frame), "fashion_mnist", "Fashion-MNIST", "topo_sine_mid", 14)


def test_fixed_scale_betti_claim_reads_the_last_checkpoint_and_says_why():
    falls = fixed_scale_runs({"relu": {0: [2, 3, 2], 2: [10, 11, 12]},
                              "topo_sine_mid": {0: [10, 11, 12], 2: [2, 3, 2]}})  # the order turns by epoch 2
    row = fixed_scale_verdict(falls)
    assert (row.verdict, row.reason) == ("holds", "fewer Betti numbers than ReLU (whole interval below 1)")
    assert (row.claim, row.section, row.part) == ("Betti numbers fall further in a CNN: topo_sine_mid on "
                                                  "Fashion-MNIST", "05_cnn", "direction")  # fmt: skip
    assert "hidden-layer Betti total 8.3 vs ReLU 17.0 (kNN k=14, epoch 2)" in row.measured
    rises = fixed_scale_runs({"relu": {2: [2, 3, 2]}, "topo_sine_mid": {2: [10, 11, 12]}})
    assert fixed_scale_verdict(rises).reason == "more Betti numbers than ReLU (whole interval above 1)"
    level = fixed_scale_runs({"relu": {2: [2, 9, 5]}, "topo_sine_mid": {2: [9, 2, 5]}})
    assert fixed_scale_verdict(level).reason == "no clear difference from ReLU (interval contains 1)"


def test_fixed_scale_betti_claim_guards():
    frozen = fixed_scale_verdict(fixed_scale_runs({"relu": {0: [0] * 3, 2: [0] * 3},
                                                   "topo_sine_mid": {0: [0] * 3, 2: [0] * 3}}))  # fmt: skip
    assert frozen.verdict == "not measurable here"
    assert frozen.reason.startswith("at k=14 every one of 72 hidden-layer readings and every input reading is (b0, "
                                    "b1) = (1, 0), in every run, layout and epoch")  # fmt: skip
    moving_input = fixed_scale_runs({"relu": {2: [0] * 3}, "topo_sine_mid": {2: [0] * 3}}, input_b1=4)
    assert fixed_scale_verdict(moving_input).verdict == "inconclusive"  # the input reads something else: not frozen
    alone = fixed_scale_verdict(fixed_scale_runs({"relu": {2: [1, 2, 3]}}))
    assert (alone.verdict, alone.section, alone.part) == ("not yet measured", "05_cnn", "direction")
    assert alone.claim == "Betti numbers fall further in a CNN: topo_sine_mid on Fashion-MNIST"
    assert alone.paper == "lower Betti numbers through the CNN than ReLU (figures 7, 9)"
    few = fixed_scale_verdict(fixed_scale_runs({"relu": {2: [9, 9]}, "topo_sine_mid": {2: [1, 2]}}, seeds=2))
    assert (few.verdict, few.reason) == ("inconclusive", "2 independent units, fewer than the 3 this claim needs")


def test_cnn_accuracy_claim_pairs_seeds_and_guards():
    from toposcope.claims.image_claims import _cnn_accuracy_verdict

    def group(sine, relu):
        return pd.DataFrame([{"activation": a, "seed": s, "final_test_acc": acc}
                             for a, accs in (("relu", relu), ("topo_sine_mid", sine)) for s, acc in enumerate(accs)])

    par = _cnn_accuracy_verdict(group([0.899, 0.901, 0.900], [0.900, 0.901, 0.899]), "Fashion-MNIST", "topo_sine_mid",
                                0.01)  # fmt: skip
    assert (par.verdict, par.part) == ("holds", "tolerance") and "3 seeds" in par.measured
    few = _cnn_accuracy_verdict(group([0.9, 0.9], [0.9, 0.9]), "Fashion-MNIST", "topo_sine_mid", 0.01)
    assert (few.verdict, few.reason) == ("inconclusive", "2 independent units, fewer than the 3 this claim needs")
    alone = _cnn_accuracy_verdict(group([], [0.9, 0.9, 0.9]), "Fashion-MNIST", "topo_sine_mid", 0.01)
    assert alone.verdict == "not yet measured"
