"""The CNN claims judged on the readings that can move (:func:`toposcope.layer_readings`): class separation
(two readings) and long persistence bars, each against its null.

Their rules were committed before the runs they judge (see :data:`~toposcope.claims.rules.PROVENANCE`);
:func:`toposcope.claims.verdicts.report` lists them beside the fixed-scale CNN claims of
:mod:`~toposcope.claims.image_claims`.
"""

from __future__ import annotations

import pandas as pd

from .analysis import HIDDEN_CNN_LAYERS, cnn_readings
from .image_claims import CNN_DATASETS, sine_layouts
from .rules import (
    MIN_SEEDS,
    Verdict,
    check_guards,
    direction_reason,
    direction_rule,
    make_verdict,
    mean_interval,
    not_yet_measured,
    ratio_interval,
    runs_of,
)

__all__ = ["SEPARATION", "SEPARATION_LAYER", "cnn_reading_claims"]

SEPARATION_LAYER = "act3"
"""The layer whose class separation judges the claim: the dense layer, the last hidden one (see PROVENANCE)."""


SEPARATION = {
    "cross_share": {
        "family": "classes separate further in a CNN", "apart": "lower",
        "what": "share of kNN edges between classes at the dense layer", "format": "{:.3f}", "null": "{:.2f}; k=10,",
        "words": ("classes further apart than with ReLU", "classes closer together than with ReLU"),
    },
    "merge_scale": {
        "family": "classes stay apart longer in a CNN", "apart": "higher",
        "what": "median scale at which a point's class merges, in within-class spacings, at the dense layer",
        "format": "{:.2f}", "null": "{:.2f};",
        "words": ("classes stay apart longer than with ReLU", "classes merge sooner than with ReLU"),
    },
}  # fmt: skip
"""The class-separation readings that judge a claim each, and which way is "apart" (see PROVENANCE)."""


def cnn_reading_claims(cnn: pd.DataFrame | None) -> list[Verdict]:
    """The CNN claims judged on the readings that can move (:func:`toposcope.layer_readings`), per data set and layout.

    * *Classes separate further in a CNN* (direction): the share of kNN edges
      between classes at :data:`SEPARATION_LAYER`, all classes, the most images a
      class, the last checkpoint; paired Fieller ratio sine / ReLU over seeds,
      *holds* below 1.
    * *Classes stay apart longer in a CNN* (direction): the same on the merge
      scale (:func:`toposcope.merge_scale`, the union's H0 read class by class),
      *holds* above 1.
    * Both are *not measurable here* where either layout's reading is not clearly
      on the apart side of its shuffled-label null (t interval over seeds of the
      difference not clear of 0), or where the ratio moves with the sample: its
      value at the fewest images a class falls outside the 95% interval at the most.
    * *Betti numbers fall further in a CNN*, on long bars (direction): the hidden
      layers' long H0 + H1 bars (averaged over classes, summed over layers) at the
      last checkpoint and the most points a class, sine / ReLU.  *Not measurable
      here* where no hidden-layer reading of either layout differs from its
      Gaussian null (no topology to fall), or where the ratio at the fewest points
      a class falls outside the 95% interval at the most.
    """
    readings = cnn_readings(runs_of(cnn, "cnn"))
    verdicts = []
    for dataset, label in CNN_DATASETS.items():
        part = readings[readings.dataset == dataset]
        for layout in sine_layouts(part.activation):
            verdicts += [_separation_verdict(part, label, layout, reading) for reading in SEPARATION]
            verdicts.append(_long_bars_verdict(part, label, layout))
    return verdicts


def _moves_with_sample(sine: pd.Series, relu: pd.Series, small: int, low: float, high: float,
                       big: int) -> tuple[str, str | None]:  # fmt: skip
    """The ratio of means at the fewest images a class, as text for ``measured``, and the guard of a ratio that
    reads the sample: that ratio outside the 95% interval ``[low, high]`` at the most."""
    at_small = sine.mean() / relu.mean()
    said = f"; at {small} images a class the ratio is {at_small:.2f}"
    if low <= at_small <= high:
        return said, None
    return said, (f"not measurable here: the ratio moves with the sample ({at_small:.2f} at {small} images a class, "
                  f"outside the 95% interval at {big}), so it reads the sample, not the layer")  # fmt: skip


def _separation_verdict(readings: pd.DataFrame, label: str, layout: str, reading: str) -> Verdict:
    spec = SEPARATION[reading]
    claim = f"{spec['family']}: {layout} on {label}"
    paper = "the classes apart by the last layer (figure 5's goal), further than with ReLU"
    labels = {"part": "direction", "family": spec["family"], "setting": f"{layout}, {label}"}
    rows = readings[(readings.reading == reading) & (readings["class"] == "all")
                    & (readings.layer == SEPARATION_LAYER) & readings.activation.isin(["relu", layout])]  # fmt: skip
    if rows.empty:
        return not_yet_measured(claim, paper, "05_cnn", **labels)
    rows = rows[rows.epoch == rows.epoch.max()]
    value = rows.pivot_table(index="seed", columns=["activation", "n"], values="value")
    null = rows.pivot_table(index="seed", columns=["activation", "n"], values="null")
    big, small = int(rows.n.max()), int(rows.n.min())
    both = {"relu", layout} <= set(rows.activation)
    seeds = value[[("relu", big), (layout, big)]].dropna().index if both else []
    guard = check_guards(len(seeds), MIN_SEEDS["cnn"])
    if len(seeds) == 0:
        return not_yet_measured(claim, paper, "05_cnn", **labels)
    sine, relu = value.loc[seeds, (layout, big)].to_numpy(), value.loc[seeds, ("relu", big)].to_numpy()
    ratio, low, high = ratio_interval(sine, relu)
    number = spec["format"].format
    measured = (f"{spec['what']}: {number(sine.mean())} vs ReLU {number(relu.mean())} (shuffled labels "
                f"{spec['null'].format(null.loc[seeds, ('relu', big)].mean())} {big} images a class, epoch "
                f"{int(rows.epoch.max())}): ratio {ratio:.2f} [95% CI {low:.2f}-{high:.2f}], "
                f"{len(seeds)} seeds")  # fmt: skip
    lower = spec["apart"] == "lower"
    if guard is None:
        gap = {arm: (null.loc[seeds, (arm, big)] - value.loc[seeds, (arm, big)]).to_numpy() * (1 if lower else -1)
               for arm in ("relu", layout)}  # fmt: skip
        off = [arm for arm, apart in gap.items() if mean_interval(apart)[1] <= 0]
        if off:
            guard = (f"not measurable here: the {' and '.join(off)} reading is not clearly "
                     f"{'below' if lower else 'above'} its shuffled-label null, so it shows no class structure to "
                     "compare")  # fmt: skip
    if guard is None and small != big:
        said, guard = _moves_with_sample(value.loc[seeds, (layout, small)], value.loc[seeds, ("relu", small)], small,
                                         low, high, big)  # fmt: skip
        measured += said
    apart, together = spec["words"]
    if lower:
        rule = direction_rule(low, high)
        why = direction_reason(rule, apart, together, "no clear difference from ReLU")
    else:  # the claim is "ratio > 1": the rule read on the inverse ratio, the reason on the ratio itself
        rule = direction_rule(1 / high, 1 / low)
        why = {"holds": f"{apart} (whole interval above 1)", "contradicted": f"{together} (whole interval below 1)",
               "inconclusive": "no clear difference from ReLU (interval contains 1)"}[rule]  # fmt: skip
    return make_verdict(claim, paper, measured, guard, rule, why, "05_cnn", (ratio, low, high, 1.0), **labels)


def _long_bars_verdict(readings: pd.DataFrame, label: str, layout: str) -> Verdict:
    claim = f"Betti numbers fall further in a CNN: {layout} on {label}, long bars"
    paper = "lower Betti numbers through the CNN than ReLU (figures 7, 9)"
    labels = {"part": "direction", "family": "Betti numbers fall further in a CNN",
              "setting": f"{layout}, {label}, long bars"}  # fmt: skip
    rows = readings[readings.reading.isin(["long_h0", "long_h1"]) & readings.layer.isin(HIDDEN_CNN_LAYERS)
                    & readings.activation.isin(["relu", layout])]  # fmt: skip
    if rows.empty:
        return not_yet_measured(claim, paper, "05_cnn", **labels)
    rows = rows[rows.epoch == rows.epoch.max()]
    per_layer = rows.groupby(["activation", "n", "seed", "layer", "class"]).value.sum().groupby(
        ["activation", "n", "seed", "layer"]).mean()  # fmt: skip
    totals = per_layer.groupby(["activation", "n", "seed"]).sum().unstack("activation")
    big, small = int(rows.n.max()), int(rows.n.min())
    at_big = totals.loc[big]
    pairs = at_big[["relu", layout]].dropna() if {"relu", layout} <= set(at_big.columns) else pd.DataFrame()
    guard = check_guards(len(pairs), MIN_SEEDS["cnn"])
    if pairs.empty:
        return not_yet_measured(claim, paper, "05_cnn", **labels)
    ratio, low, high = ratio_interval(pairs[layout].to_numpy(), pairs["relu"].to_numpy())
    measured = (f"hidden layers' long H0 + H1 bars (longer than 3 nearest-neighbour spacings, {big} images a "
                f"class) {pairs[layout].mean():.2f} vs ReLU {pairs['relu'].mean():.2f}: ratio {ratio:.2f} [95% CI "
                f"{low:.2f}-{high:.2f}], {len(pairs)} seeds")  # fmt: skip
    differ = int((rows.value != rows.null).sum())
    if guard is None and differ == 0:
        guard = (f"not measurable here: every one of {len(rows):,} hidden-layer long-bar readings equals that of a "
                 "Gaussian cloud of the same mean, covariance and size, in every run: no topology to fall")  # fmt: skip
    if guard is None and small != big:
        few = totals.loc[small]
        said, guard = _moves_with_sample(few[layout], few["relu"], small, low, high, big)
        measured += said
    rule = direction_rule(low, high)
    why = direction_reason(rule, "fewer long bars than ReLU", "more long bars than ReLU",
                           "no clear difference from ReLU")  # fmt: skip
    return make_verdict(claim, paper, measured, guard, rule, why, "05_cnn", (ratio, low, high, 1.0), **labels)
