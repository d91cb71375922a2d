"""The image-data claims: CNN figures 7-9 (Betti numbers and trainability) and filter pruning.

Judged by the rules of :mod:`~toposcope.claims.rules`; :func:`toposcope.claims.verdicts.report`
lists them with the MLP claims.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..topology import DEFAULT_K
from .analysis import cnn_betti, cnn_betti_totals, sparsity_areas, sparsity_rows
from .rules import (
    MIN_SEEDS,
    Verdict,
    check_guards,
    direction_rule,
    make_verdict,
    paired_mean_difference,
    paired_mean_ratio,
    runs_of,
    size_rule,
)

__all__ = ["cnn_claims", "criterion_claims", "faster_claim", "pruning_claims", "sparsity_table"]


def sparsity_table(sparsity: pd.DataFrame | None) -> pd.DataFrame:
    """The pruned models of the sparsity runs in ``sparsity`` (:func:`sparsity_rows`); empty when there are none."""
    return sparsity_rows(runs_of(sparsity, "sparsity"))


CNN_DATASETS = {"fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10", "cats_vs_dogs": "cats vs dogs"}
CNN_SINE_LAYOUTS = ("topo_sine_mid", "topo_sine_mid_relu")


def cnn_claims(cnn: pd.DataFrame | None, k: int = DEFAULT_K, tolerance: float = 0.01) -> list[Verdict]:
    """The CNN claims (figures 7-9), per data set and sine layout, against ReLU with the same seeds.

    * *Betti numbers fall further*: the hidden layers' Betti total (b0 + b1 summed over
      conv0, pool0, conv1, pool1, conv2 and dense, averaged over classes) at the last
      checkpoint, kNN recipe with ``k``; direction rule on the paired ratio.
    * *At-par or better trainability*: final test accuracy of ReLU minus the sine
      layout's; tolerance rule (holds if the 95% interval of the loss is at most ``tolerance``).
    """
    runs = runs_of(cnn, "cnn")
    betti = cnn_betti(runs) if len(runs) else None
    verdicts = []
    for dataset, label in CNN_DATASETS.items():
        group = runs[runs.dataset == dataset]
        layouts = [x for x in CNN_SINE_LAYOUTS if (group.activation == x).any()] or [CNN_SINE_LAYOUTS[0]]
        for layout in layouts:
            verdicts += [_cnn_betti_verdict(betti, dataset, label, layout, k),
                         _cnn_accuracy_verdict(group, label, layout, tolerance)]  # fmt: skip
    return verdicts


def _cnn_betti_verdict(betti: pd.DataFrame | None, dataset: str, label: str, layout: str, k: int) -> Verdict:
    claim = f"Betti numbers fall further in a CNN: {layout} on {label}"
    paper = "lower Betti numbers through the CNN than ReLU (figures 7, 9)"
    why = "rule: CI below 1 holds, above 1 contradicted"
    totals = cnn_betti_totals(betti[betti.dataset == dataset], k) if betti is not None else pd.DataFrame()
    if totals.empty:
        return make_verdict(claim, paper, "", "not yet measured", "", "", "05_cnn")
    last = totals[totals.epoch == totals.epoch.max()].pivot_table(index="seed", columns="activation", values="total")
    pairs = last[["relu", layout]].dropna() if {"relu", layout} <= set(last.columns) else pd.DataFrame()
    guard = check_guards(len(pairs), MIN_SEEDS["cnn"])
    if pairs.empty:
        return make_verdict(claim, paper, "", guard, "", why, "05_cnn")
    ratio, low, high = paired_mean_ratio(pairs[layout].to_numpy(), pairs["relu"].to_numpy())
    if guard is None and (pairs[layout] == pairs["relu"]).all():
        guard = (f"inconclusive: both layouts read the same Betti numbers in every run (kNN k={k}), so nothing "
                 "falls further; the recipe cannot tell them apart at this scale")  # fmt: skip
    measured = (f"hidden-layer Betti total {pairs[layout].mean():.1f} vs ReLU {pairs['relu'].mean():.1f} (kNN k={k}, "
                f"epoch {int(totals.epoch.max())}): ratio {ratio:.2f} [95% CI {low:.2f}-{high:.2f}], "
                f"{len(pairs)} seeds")  # fmt: skip
    return make_verdict(claim, paper, measured, guard, direction_rule(low, high), why, "05_cnn",
                        (ratio, low, high, 1.0))  # fmt: skip


def _cnn_accuracy_verdict(group: pd.DataFrame, label: str, layout: str, tolerance: float) -> Verdict:
    claim = f"at-par or better trainability (CNN): {layout} on {label}"
    paper = f"test accuracy at par with ReLU (drop at most {tolerance:.0%})"
    why = f"rule: CI of ReLU's lead <= {tolerance} holds, wholly above contradicted"
    acc = group.pivot_table(index="seed", columns="activation", values="final_test_acc")
    pairs = acc[["relu", layout]].dropna() if {"relu", layout} <= set(acc.columns) else pd.DataFrame()
    guard = check_guards(len(pairs), MIN_SEEDS["cnn"])
    if pairs.empty:
        return make_verdict(claim, paper, "", guard, "", why, "05_cnn")
    lead, low, high = paired_mean_difference((pairs["relu"] - pairs[layout]).to_numpy())
    measured = (f"test accuracy {pairs[layout].mean():.3f} vs ReLU {pairs['relu'].mean():.3f}: ReLU ahead by "
                f"{lead:+.3f} [95% CI {low:+.3f} to {high:+.3f}], {len(pairs)} seeds")  # fmt: skip
    return make_verdict(claim, paper, measured, guard, size_rule(low, high, tolerance), why, "05_cnn",
                        (lead, low, high, tolerance))  # fmt: skip


def pruning_claims(pruning: pd.DataFrame | None, tolerance: float = 0.01,
                   rows: pd.DataFrame | None = None) -> list[Verdict]:  # fmt: skip
    """Betti > 300 pruning keeps accuracy (within ``tolerance`` after fine-tuning) and gives a smaller model;
    and (from the sparsity ``rows`` of :func:`sparsity_rows`) a faster one."""
    section = "04_pruning"
    paper = f"no significant accuracy loss (drop <= {tolerance:.0%} after fine-tuning)"
    faster = faster_claim(rows if rows is not None else pd.DataFrame())
    if pruning is None or pruning.empty:
        return [make_verdict("Betti > 300 pruning keeps accuracy", paper, "", "not yet measured", "", "", section),
                make_verdict("Betti pruning gives a smaller model", "smaller model", "", "not yet measured", "", "",
                         section), faster]  # fmt: skip
    base = pruning[pruning.criterion == "unpruned"].set_index("seed")
    pruned = pruning[(pruning.criterion == "betti") & (pruning.rule == "threshold=300")]
    tuned = pruned[pruned.finetune_epochs == pruned.finetune_epochs.max()].set_index("seed")
    seeds = sorted(set(base.index) & set(tuned.index))
    drop = np.array([base.accuracy[s] - tuned.accuracy[s] for s in seeds])
    guard = check_guards(len(seeds), MIN_SEEDS["pruning"])
    low, high = paired_mean_difference(drop)[1:] if len(drop) else (np.nan, np.nan)
    accuracy = make_verdict(
        "Betti > 300 pruning keeps accuracy", paper,
        f"accuracy drop {drop.mean():.3f} [95% CI {low:.3f}-{high:.3f}], {len(seeds)} seeds" if seeds else "",
        guard, size_rule(low, high, tolerance), f"rule: drop CI <= {tolerance} holds, above contradicted",
        section, (drop.mean() if seeds else np.nan, low, high, tolerance),
    )  # fmt: skip
    size = np.array([tuned.bytes[s] / base.bytes[s] for s in seeds])
    smaller = make_verdict(
        "Betti pruning gives a smaller model", "smaller model",
        f"saved size {size.min():.2f}-{size.max():.2f}x of the unpruned model, {len(seeds)} seeds" if seeds else "",
        None if seeds else "not yet measured", "holds" if seeds and size.max() < 1 else "contradicted",
        "rule: every pruned model smaller (a measurement, not an estimate)", section,
    )  # fmt: skip
    return [accuracy, smaller, faster]


def faster_claim(rows: pd.DataFrame, fraction: float = 0.5) -> Verdict:
    """Pruning half the filters of each layer by the literal Betti rule makes prediction faster (batch 256).

    ``rows``: the sparsity results as :func:`sparsity_rows` gives them (empty: not yet measured).
    """
    claim, paper = "Betti pruning gives a faster model", "faster prediction"
    why = "rule: CI of pruned / unpruned latency (batch 256) below 1 holds, above 1 contradicted"
    if rows.empty:
        return make_verdict(claim, paper, "", "not yet measured", "", "", "04_pruning")
    rows = rows[rows.scope == "layer"]
    base = rows[rows.criterion == "unpruned"].set_index(["activation", "seed"]).latency_ms_b256
    cut = rows[(rows.criterion == "literal") & (rows.fraction == fraction) & (rows.finetune_epochs == 0)]
    ratio = (cut.set_index(["activation", "seed"]).latency_ms_b256 / base).dropna().to_numpy()
    guard = check_guards(len(ratio), MIN_SEEDS["pruning"])
    mean, low, high = paired_mean_difference(ratio)
    measured = (f"latency at batch 256 {mean:.2f}x of the unpruned model [95% CI {low:.2f}-{high:.2f}] with "
                f"{fraction:.0%} of each layer's filters removed, {len(ratio)} trained models (CPU)")  # fmt: skip
    return make_verdict(claim, paper, measured, guard, direction_rule(low, high), why, "04_pruning",
                        (mean, low, high, 1.0))  # fmt: skip


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
            why = f"rule: CI of AUC({baseline}) / AUC({criterion}) below 1 holds, above 1 contradicted"
            if areas.empty:
                verdicts.append(make_verdict(claim, paper, "", "not yet measured", "", "", "04_pruning"))
                continue
            pairs = tuned.pivot_table(index=["activation", "seed"], columns="criterion", values="auc")
            pairs = pairs[[baseline, criterion]].dropna() if {baseline, criterion} <= set(pairs) else pd.DataFrame()
            guard = check_guards(len(pairs), MIN_SEEDS["pruning"])
            if pairs.empty:
                verdicts.append(make_verdict(claim, paper, "", guard, "", why, "04_pruning"))
                continue
            ratio, low, high = paired_mean_ratio(pairs[baseline].to_numpy(), pairs[criterion].to_numpy())
            measured = (f"AUC after fine-tuning {pairs[criterion].mean():.3f} vs {baseline} "
                        f"{pairs[baseline].mean():.3f}: ratio {ratio:.3f} [95% CI {low:.3f}-{high:.3f}], "
                        f"{len(pairs)} trained models")  # fmt: skip
            verdicts.append(make_verdict(claim, paper, measured, guard, direction_rule(low, high), why,
                                         "04_pruning", (ratio, low, high, 1.0)))  # fmt: skip
    return verdicts
