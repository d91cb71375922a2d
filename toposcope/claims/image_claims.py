"""The image-data claims: CNN figures 7-9 (Betti numbers and trainability) and filter pruning.

Judged by the rules of :mod:`~toposcope.claims.rules`; :func:`toposcope.claims.verdicts.report`
lists them with the MLP claims.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..topology import DEFAULT_K
from .analysis import HIDDEN_CNN_LAYERS, cnn_betti, cnn_betti_totals, sparsity_areas, sparsity_rows
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
    size_rule,
    tolerance_reason,
)

__all__ = [
    "CNN_DATASETS",
    "cnn_claims",
    "criterion_claims",
    "overfitting_claims",
    "pruning_claims",
    "sine_layouts",
    "sparsity_table",
]


def sparsity_table(sparsity: pd.DataFrame | None) -> pd.DataFrame:
    """The pruned models of the sparsity runs in ``sparsity`` (:func:`sparsity_rows`); empty when there are none."""
    return sparsity_rows(runs_of(sparsity, "sparsity"))


CNN_DATASETS = {"fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10", "cats_vs_dogs": "cats vs dogs"}
CNN_SINE_LAYOUTS = ("topo_sine_mid", "topo_sine_mid_relu")


def sine_layouts(activations: pd.Series) -> list[str]:
    """The sine layouts among a data set's runs, in :data:`CNN_SINE_LAYOUTS` order; the first where none ran
    (so that its claims read "not yet measured")."""
    return [x for x in CNN_SINE_LAYOUTS if (activations == x).any()] or [CNN_SINE_LAYOUTS[0]]


def cnn_claims(cnn: pd.DataFrame | None, k: int = DEFAULT_K, tolerance: float = 0.01) -> list[Verdict]:
    """The CNN claims (figures 7-9), per data set and sine layout, against ReLU with the same seeds.

    * *Betti numbers fall further* (direction): the hidden layers' Betti total (b0 + b1
      summed over conv0, pool0, conv1, pool1, conv2 and dense, averaged over classes)
      at the last checkpoint, kNN recipe with ``k``; Fieller ratio over seeds.  Where
      every reading of every run, input and hidden layers, is the same, the reading
      cannot change and the claim is *not measurable here*.
    * *At-par or better trainability* (tolerance): final test accuracy of ReLU minus
      the sine layout's; t interval over seeds within ``tolerance``.
    """
    runs = runs_of(cnn, "cnn")
    betti = cnn_betti(runs) if len(runs) else None
    verdicts = []
    for dataset, label in CNN_DATASETS.items():
        group = runs[runs.dataset == dataset]
        for layout in sine_layouts(group.activation):
            verdicts += [_cnn_betti_verdict(betti, dataset, label, layout, k),
                         _cnn_accuracy_verdict(group, label, layout, tolerance)]  # fmt: skip
    return verdicts


def _frozen_reading(betti: pd.DataFrame, k: int) -> str | None:
    """Where every reading of the input and hidden layers (every class, run and epoch) at ``k`` is one and the same:
    why nothing can move; None where readings differ."""
    at_k = betti[(betti.k == k) & betti.layer.isin(["input", *HIDDEN_CNN_LAYERS])]
    if at_k.empty:
        return None
    per_cloud = at_k.pivot_table(index=["activation", "seed", "epoch", "layer", "class"], columns="dim",
                                 values="betti", aggfunc="first")  # fmt: skip
    values = {tuple(int(v) for v in row) for row in per_cloud.to_numpy()}
    if len(values) != 1:
        return None
    (reading,) = values
    hidden = int(per_cloud.index.get_level_values("layer").isin(HIDDEN_CNN_LAYERS).sum())
    named = ", ".join(f"b{d}" for d in per_cloud.columns)
    return (f"not measurable here: at k={k} every one of {hidden:,} hidden-layer readings and every input reading "
            f"is ({named}) = {reading}, in every run, layout and epoch, so no layout can read lower (chapter 5 "
            "shows from which k the readings stop moving with the number of images, and what they read "
            "there)")  # fmt: skip


def _cnn_betti_verdict(betti: pd.DataFrame | None, dataset: str, label: str, layout: str, k: int) -> Verdict:
    claim = f"Betti numbers fall further in a CNN: {layout} on {label}"
    paper = "lower Betti numbers through the CNN than ReLU (figures 7, 9)"
    labels = {"part": "direction", "family": "Betti numbers fall further in a CNN", "setting": f"{layout}, {label}"}
    part = betti[betti.dataset == dataset] if betti is not None else pd.DataFrame()
    totals = cnn_betti_totals(part, k) if len(part) else pd.DataFrame()
    if totals.empty:
        return not_yet_measured(claim, paper, "05_cnn", **labels)
    last = totals[totals.epoch == totals.epoch.max()].pivot_table(index="seed", columns="activation", values="total")
    pairs = last[["relu", layout]].dropna() if {"relu", layout} <= set(last.columns) else pd.DataFrame()
    guard = check_guards(len(pairs), MIN_SEEDS["cnn"])
    if pairs.empty:
        return not_yet_measured(claim, paper, "05_cnn", **labels)
    ratio, low, high = ratio_interval(pairs[layout].to_numpy(), pairs["relu"].to_numpy())
    guard = guard or _frozen_reading(part[part.activation.isin(["relu", layout])], k)
    measured = (f"hidden-layer Betti total {pairs[layout].mean():.1f} vs ReLU {pairs['relu'].mean():.1f} (kNN k={k}, "
                f"epoch {int(totals.epoch.max())}): ratio {ratio:.2f} [95% CI {low:.2f}-{high:.2f}], "
                f"{len(pairs)} seeds")  # fmt: skip
    rule = direction_rule(low, high)
    why = direction_reason(rule, "fewer Betti numbers than ReLU", "more Betti numbers than ReLU",
                           "no clear difference from ReLU")  # fmt: skip
    return make_verdict(claim, paper, measured, guard, rule, why, "05_cnn", (ratio, low, high, 1.0), **labels)


def _cnn_accuracy_verdict(group: pd.DataFrame, label: str, layout: str, tolerance: float) -> Verdict:
    claim = f"at-par or better trainability (CNN): {layout} on {label}"
    paper = f"test accuracy at par with ReLU (drop at most {tolerance:.0%})"
    labels = {"part": "tolerance", "family": "at-par trainability (CNN)", "setting": f"{layout}, {label}"}
    acc = group.pivot_table(index="seed", columns="activation", values="final_test_acc")
    pairs = acc[["relu", layout]].dropna() if {"relu", layout} <= set(acc.columns) else pd.DataFrame()
    guard = check_guards(len(pairs), MIN_SEEDS["cnn"])
    if pairs.empty:
        return not_yet_measured(claim, paper, "05_cnn", **labels)
    lead, low, high = mean_interval((pairs["relu"] - pairs[layout]).to_numpy())
    measured = (f"test accuracy {pairs[layout].mean():.3f} vs ReLU {pairs['relu'].mean():.3f}: ReLU ahead by "
                f"{lead:+.3f} [95% CI {low:+.3f} to {high:+.3f}], {len(pairs)} seeds")  # fmt: skip
    rule = size_rule(low, high, tolerance)
    return make_verdict(claim, paper, measured, guard, rule, tolerance_reason(rule, "ReLU's lead", tolerance),
                        "05_cnn", (lead, low, high, tolerance), **labels)  # fmt: skip


def overfitting_claims(
    mlp: pd.DataFrame | None, layout: str = "topo_sine_mid", tolerance: float = 0.02
) -> list[Verdict]:
    """Claim 5: no extra overfitting on image data: the train-test gap at most ``tolerance`` above ReLU's.

    The tolerance was set after the data (see :data:`~toposcope.claims.rules.PROVENANCE`), and each verdict says so.
    """
    runs = runs_of(mlp, "fashion")
    verdicts = []
    for width in sorted(runs.width.dropna().unique()) or ["narrow", "wide"]:
        group = runs[runs.width == width]
        gap = (group.final_train_acc - group.final_test_acc).groupby([group.activation, group.seed]).mean()
        seeds = sorted(set(gap.get("relu", pd.Series()).index) & set(gap.get(layout, pd.Series()).index))
        guard = check_guards(len(seeds), MIN_SEEDS["fashion"])
        measured, rule, numbers = "", "", (np.nan,) * 4
        if seeds:
            diff = np.array([gap[(layout, s)] - gap[("relu", s)] for s in seeds])
            mean, low, high = mean_interval(diff)
            rule = size_rule(low, high, tolerance)
            numbers = (mean, low, high, tolerance)
            measured = (f"train-test gap minus ReLU's {mean:+.3f} [95% CI {low:+.3f} to {high:+.3f}], "
                        f"{len(seeds)} seeds, Fashion-MNIST, {width} MLP")  # fmt: skip
        why = (tolerance_reason(rule, "the extra gap", tolerance) + "; tolerance set after the data") if rule else ""
        if rule == "holds" and numbers[1] > 0:
            why += ", and the extra gap is above 0 (whole interval): some extra overfitting, within the tolerance"
        verdicts.append(make_verdict(
            f"no extra overfitting: {layout}, {width} MLP", f"train-test gap within {tolerance:.0%} of ReLU's",
            measured, guard, rule, why, "03_mlp: Claim 5", numbers, part="tolerance", family="no extra overfitting",
            setting=f"{layout}, {width} MLP"))  # fmt: skip
    return verdicts


def pruning_claims(pruning: pd.DataFrame | None, tolerance: float = 0.01) -> list[Verdict]:
    """The paper's pruning rule (Betti > 300) on its own models: accuracy kept, smaller, faster, and why.

    * *keeps accuracy* (tolerance): the drop in test accuracy after fine-tuning, per
      trained model, within ``tolerance`` (t interval over training seeds);
    * *smaller* (direction): every pruned model's saved size below the unpruned one's;
      *beyond removal*: its size against random removal of as many filters per layer
      (the same architecture, so equal sizes mean the gain follows from removing filters);
    * *faster* (direction): CPU latency at batch 256, pruned / unpruned, Fieller interval
      over training seeds below 1; *beyond removal*: latency against the random models
      of the same seed (averaged over random seeds), below 1 holds, above 1 contradicted,
      otherwise the speed follows from removing filters.
    """
    section, family = "04_pruning", "Betti > 300 pruning"
    labels = {"family": family, "setting": "Fashion-MNIST, PaperCNN"}
    claims = [
        ("keeps accuracy", f"no significant accuracy loss (drop <= {tolerance:.0%} after fine-tuning)", "tolerance"),
        ("smaller", "a smaller model", "direction"),
        ("smaller beyond removing filters", "(implied) the filters Betti picks make it smaller", "mechanism"),
        ("faster", "faster prediction", "direction"),
        ("faster beyond removing filters", "(implied) the filters Betti picks make it faster", "mechanism"),
    ]
    if pruning is None or pruning.empty:
        return [not_yet_measured(f"Betti > 300 pruning: {name}", paper, section, part=part, **labels)
                for name, paper, part in claims]
    base = pruning[pruning.criterion == "unpruned"].set_index("seed")
    rule = pruning[pruning.rule == "threshold=300"]
    tuned = rule[(rule.criterion == "betti") & (rule.finetune_epochs == rule.finetune_epochs.max())].set_index("seed")
    cut = rule[(rule.criterion == "betti") & (rule.finetune_epochs == 0)].set_index("seed")
    rand = rule[(rule.criterion == "random") & (rule.finetune_epochs == 0)].groupby("seed")
    seeds = sorted(set(base.index) & set(tuned.index))
    guard = check_guards(len(seeds), MIN_SEEDS["pruning"])
    drop = np.array([base.accuracy[s] - tuned.accuracy[s] for s in seeds])
    mean, low, high = mean_interval(drop)
    verdicts = [make_verdict(
        f"Betti > 300 pruning: {claims[0][0]}", claims[0][1],
        f"accuracy drop {mean:.3f} [95% CI {low:.3f} to {high:.3f}], {len(seeds)} training seeds" if seeds else "",
        guard, size_rule(low, high, tolerance),
        tolerance_reason(size_rule(low, high, tolerance), "the accuracy drop", tolerance), section,
        (mean, low, high, tolerance), part="tolerance", **labels)]  # fmt: skip
    size = np.array([cut.bytes[s] / base.bytes[s] for s in seeds])
    size_random = np.array([cut.bytes[s] / rand.bytes.mean()[s] for s in seeds])
    smaller = "holds" if seeds and size.max() < 1 else "contradicted"
    verdicts.append(make_verdict(
        f"Betti > 300 pruning: {claims[1][0]}", claims[1][1],
        f"saved size {size.min():.2f}-{size.max():.2f}x of the unpruned model, {len(seeds)} training seeds",
        guard, smaller, "every pruned model is smaller than its unpruned model" if smaller == "holds"
        else "a pruned model is not smaller than its unpruned model", section, part="direction", **labels))  # fmt: skip
    same = bool(np.allclose(size_random, 1))
    verdicts.append(make_verdict(
        f"Betti > 300 pruning: {claims[2][0]}", claims[2][1],
        f"saved size {size_random.min():.3f}-{size_random.max():.3f}x of random removal of as many filters",
        guard, "contradicted" if same else ("holds" if size_random.max() < 1 else "inconclusive"),
        "follows from removing filters: random removal of as many filters per layer gives the same size" if same
        else "sizes differ from random removal of as many filters", section, part="mechanism", **labels))  # fmt: skip
    if "latency_ms_b256" not in pruning or base.latency_ms_b256.isna().all():
        return verdicts + [not_yet_measured(f"Betti > 300 pruning: {name}", paper, section, part=part, **labels)
                           for name, paper, part in claims[3:]]
    lat = np.array([cut.latency_ms_b256[s] for s in seeds])
    ratio, low, high = ratio_interval(lat, np.array([base.latency_ms_b256[s] for s in seeds]))
    rule_ = direction_rule(low, high)
    verdicts.append(make_verdict(
        f"Betti > 300 pruning: {claims[3][0]}", claims[3][1],
        f"CPU latency at batch 256 {ratio:.2f}x of the unpruned model [95% CI {low:.2f}-{high:.2f}], "
        f"{len(seeds)} training seeds", guard, rule_, direction_reason(rule_, "faster than the unpruned model",
        "slower than the unpruned model", "no clear speed-up over the unpruned model"), section,
        (ratio, low, high, 1.0), part="direction", **labels))  # fmt: skip
    ratio, low, high = ratio_interval(lat, np.array([rand.latency_ms_b256.mean()[s] for s in seeds]))
    rule_ = direction_rule(low, high)
    verdicts.append(make_verdict(
        f"Betti > 300 pruning: {claims[4][0]}", claims[4][1],
        f"CPU latency {ratio:.2f}x of random removal of as many filters [95% CI {low:.2f}-{high:.2f}], "
        f"{len(seeds)} training seeds", guard, rule_, direction_reason(
            rule_, "faster than random removal of as many filters", "slower than random removal of as many filters",
            "follows from removing filters: random removal of as many filters is not measurably slower"),
        section, (ratio, low, high, 1.0), part="mechanism", **labels))  # fmt: skip
    return verdicts


def criterion_claims(rows: pd.DataFrame) -> list[Verdict]:
    """Extension: does each Betti criterion keep more accuracy than random (and than L1) at equal budget?

    Paired over trained models (layout x seed): the area under accuracy-vs-fraction-removed after
    fine-tuning; the ratio baseline / Betti criterion below 1 (CI) holds, above 1 contradicted.
    One claim per criterion and baseline at the per-layer budget, and again (named "..., global")
    where the runs also pruned the network globally.
    ``rows``: the sparsity results as :func:`sparsity_rows` gives them.
    """
    areas = sparsity_areas(rows) if len(rows) else pd.DataFrame(columns=["scope", "finetune_epochs"])
    verdicts = []
    for scope in ["layer", *sorted(set(areas.scope) - {"layer"})]:
        verdicts += _criterion_claims(areas[areas.scope == scope], "" if scope == "layer" else f", {scope}")
    return verdicts


def _criterion_claims(areas: pd.DataFrame, suffix: str) -> list[Verdict]:
    """:func:`criterion_claims` of one scope (``areas`` from :func:`sparsity_areas`)."""
    tuned = areas[areas.finetune_epochs == areas.finetune_epochs.max()]
    verdicts = []
    for criterion in ("literal", "relative", "correlation"):
        for baseline in ("random", "l1"):
            claim = f"{criterion} Betti criterion keeps more accuracy than {baseline} pruning{suffix}"
            paper = "(extension) Betti-chosen filters matter less than others"
            labels = {
                "part": "direction",
                "family": f"shape criteria beat {baseline} pruning",
                "setting": f"{criterion}, {'per layer' if not suffix else suffix.removeprefix(', ')}",
            }
            pairs = pd.DataFrame()  # no runs, or none of this criterion and its baseline on the same model
            if not areas.empty:
                pairs = tuned.pivot_table(index=["activation", "seed"], columns="criterion", values="auc")
                pairs = pairs[[baseline, criterion]].dropna() if {baseline, criterion} <= set(pairs) else pairs[:0]
            if pairs.empty:
                verdicts.append(not_yet_measured(claim, paper, "04_pruning", **labels))
                continue
            guard = check_guards(len(pairs), MIN_SEEDS["pruning"])
            ratio, low, high = ratio_interval(pairs[baseline].to_numpy(), pairs[criterion].to_numpy())
            measured = (f"AUC after fine-tuning {pairs[criterion].mean():.3f} vs {baseline} "
                        f"{pairs[baseline].mean():.3f}: ratio {ratio:.3f} [95% CI {low:.3f}-{high:.3f}], "
                        f"{len(pairs)} trained models")  # fmt: skip
            rule = direction_rule(low, high)
            why = direction_reason(
                rule,
                f"{criterion} keeps more accuracy than {baseline}",
                f"{criterion} keeps less accuracy than {baseline}",
                "no clear difference",
            )
            verdicts.append(make_verdict(claim, paper, measured, guard, rule, why, "04_pruning",
                                         (ratio, low, high, 1.0),
                                         **labels))  # fmt: skip
    return verdicts
