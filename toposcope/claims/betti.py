"""Claim 2 and its mechanism: hidden-layer Betti numbers fall faster with the sine, and that speeds up training.

* **direction** (:func:`betti_claims`): the hidden-layer Betti total, averaged over
  the checkpoints after epoch 0, sine over ReLU per seed (Fieller interval);
* **mechanism** (:func:`mechanism_claims`): the paper's "the reduction in Betti
  numbers directly translates to faster training convergence".  Across runs, does
  a run's early hidden-layer Betti total (its first checkpoint after epoch 0)
  predict its epochs to the target?  Within layouts (both sides centred on each
  layout's mean, so only run-to-run variation counts; the interval spends one
  degree of freedom per extra layout) the claim holds if the rank correlation's
  interval lies above 0; between layouts (the layouts' means) there are too few
  units for an interval, and the correlation is shown, not judged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .analysis import betti_run_totals, input_readings
from .rules import (
    MIN_SEEDS,
    Verdict,
    capped_times,
    check_guards,
    correlation_interval,
    correlation_rule,
    direction_reason,
    direction_rule,
    make_verdict,
    not_yet_measured,
    ratio_interval,
    runs_of,
)
from .survival import times_to_target

__all__ = ["betti_claims", "mechanism_claims", "mechanism_table"]

SECTION = "03_mlp: Claim 2"
MECHANISM_TARGET = 0.99
"""Training accuracy the mechanism's epochs are counted to (the clean data's convergence target)."""


def betti_claims(mlp: pd.DataFrame | None, layout: str = "topo_sine_mid") -> list[Verdict]:
    """Claim 2 per data set: the hidden layers' Betti numbers are lower with ``layout`` than with ReLU.

    ``mlp`` holds the ``"betti"`` runs.  The measurement says in how many of the
    runs' input clouds the recipe read the data set's true topology
    (:func:`~toposcope.claims.analysis.input_readings`).
    """
    runs = runs_of(mlp, "betti")
    verdicts = []
    for dataset in ("rings", "spheres"):
        ours = runs[(runs.dataset == dataset) & runs.activation.isin(["relu", layout])]
        per_epoch = betti_run_totals(ours)
        totals = per_epoch[per_epoch.epoch > 0].groupby(["activation", "seed"]).total.mean().to_dict()
        seeds = sorted({s for a, s in totals if a == "relu"} & {s for a, s in totals if a == layout})
        guard = check_guards(len(seeds), MIN_SEEDS["betti"])
        measured, rule, why, numbers = "", "", "", (np.nan,) * 4
        if seeds:
            a = np.array([totals[(layout, s)] for s in seeds])
            b = np.array([totals[("relu", s)] for s in seeds])
            ratio, low, high = ratio_interval(a, b)
            rule = direction_rule(low, high)
            why = direction_reason(rule, "lower Betti numbers than ReLU", "higher Betti numbers than ReLU",
                                   "no clear difference from ReLU")  # fmt: skip
            numbers = (ratio, low, high, 1.0)
            inputs = input_readings(ours[ours.seed.isin(seeds)])
            dims = max(len(b) for b in inputs.betti) - 1
            sizes = sorted({int(inputs.n_points.min()), int(inputs.n_points.max())})
            measured = (f"hidden-layer Betti total (b0..b{dims}, mean over checkpoints after epoch 0) ratio "
                        f"{ratio:.2f} [95% CI {low:.2f}-{high:.2f}], {len(seeds)} seeds; the input reads the "
                        f"true topology in {int(inputs.matches.sum())}/{len(inputs)} class clouds "
                        f"({'-'.join(f'{n:,}' for n in sizes)} points)")  # fmt: skip
        verdicts.append(make_verdict(
            f"Betti numbers fall faster: {layout} on nine {dataset}", "lower Betti numbers through the layers",
            measured, guard, rule, why, SECTION, numbers, part="direction", family="Betti numbers fall faster",
            setting=f"{layout}, nine {dataset}"))  # fmt: skip
    return verdicts


def mechanism_table(mlp: pd.DataFrame | None) -> pd.DataFrame:
    """Per Betti run: ``dataset, activation, seed, early`` (hidden-layer total at the first checkpoint after 0),
    ``epoch`` (that checkpoint), ``time`` (epochs to :data:`MECHANISM_TARGET`, capped at the run's last epoch),
    ``reached``."""
    runs = runs_of(mlp, "betti")
    runs = runs[runs.curve.map(lambda c: isinstance(c, dict))]
    columns = ["dataset", "activation", "seed", "epoch", "early", "time", "reached"]
    if runs.empty:
        return pd.DataFrame(columns=columns)
    totals = betti_run_totals(runs)
    first = totals[totals.epoch > 0].sort_values("epoch").groupby(["dataset", "activation", "seed"]).first()
    parts = []
    for dataset, group in runs.groupby("dataset"):
        times = times_to_target(group, MECHANISM_TARGET).assign(dataset=dataset)
        tau = max(c["epoch"][-1] for c in group.curve)
        times["time"] = capped_times(times.time, times.reached, tau)
        parts.append(times)
    times = pd.concat(parts).set_index(["dataset", "activation", "seed"])
    table = first.rename(columns={"total": "early"}).join(times[["time", "reached"]], how="inner")
    return table.reset_index()[columns]


def mechanism_claims(mlp: pd.DataFrame | None) -> list[Verdict]:
    """The mechanism row per data set: does a run's early Betti total predict its epochs to target (within layouts)?"""
    table = mechanism_table(mlp)
    verdicts = []
    for dataset in ("rings", "spheres"):
        group = table[table.dataset == dataset]
        claim = f"lower early Betti numbers mean fewer epochs to {MECHANISM_TARGET:.0%}: nine {dataset}"
        paper = "the reduction in Betti numbers directly translates to faster training convergence"
        labels = {"part": "mechanism", "family": "Betti numbers fall faster", "setting": f"mechanism, nine {dataset}"}
        if group.empty:
            verdicts.append(not_yet_measured(claim, paper, SECTION, **labels))
            continue
        layouts = group.activation.nunique()
        centred = group.assign(
            early=np.log(group.early) - np.log(group.early).groupby(group.activation).transform("mean"),
            time=np.log(group.time) - np.log(group.time).groupby(group.activation).transform("mean"),
        )
        rho, low, high = correlation_interval(centred.early, centred.time, removed=layouts - 1)
        means = group.groupby("activation")[["early", "time"]].mean()
        between = correlation_interval(means.early, means.time)[0] if layouts > 1 else float("nan")
        guard = check_guards(len(group), MIN_SEEDS["mechanism"])
        rule = correlation_rule(low, high)
        measured = (f"within layouts Spearman {rho:+.2f} [95% CI {low:+.2f} to {high:+.2f}] between a run's "
                    f"hidden-layer Betti total at epoch {int(group.epoch.min())} and its epochs to "
                    f"{MECHANISM_TARGET:.0%} ({len(group)} runs, {layouts} layouts); between layouts' means "
                    f"{between:+.2f} ({layouts} points, no interval)")  # fmt: skip
        why = {"holds": "runs with more early topology need more epochs", "contradicted": "runs with more early "
               "topology need fewer epochs (the opposite of the mechanism)", "inconclusive": "the early Betti total "
               "does not clearly predict the epochs to target (interval contains 0)"}[rule]  # fmt: skip
        verdicts.append(make_verdict(claim, paper, measured, guard, rule, why, SECTION, (rho, low, high, 0.0),
                                     **labels))  # fmt: skip
    return verdicts
