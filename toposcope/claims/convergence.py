"""Claim 1 in its parts: does the sine activation reach the target accuracy in fewer epochs than ReLU, and why.

The paper says "1.5 to 2 times fewer epochs".  That can mean several things, and
each is its own row:

* **direction**: is the sine faster at all (the interval of the restricted-mean
  ratio against 1);
* **magnitude**: is it 1.5x or more (the same interval against 2/3);
* **dying**: does the sine keep networks from dying (a dead run never learns more
  than the majority class, :func:`~toposcope.claims.rules.dead_runs`); dead runs
  count at the full budget in the restricted mean, so a layout that dies less
  looks faster however fast its learners are, and more so the longer the budget;
* **among runs that learn**: the ratio with every dead run left out, unpaired
  (each layout's learners), and paired on the seeds where both learn (biased
  toward the layout that dies less: the seeds its rival lost are often the hard ones).

:func:`horizon_curve` shows the restricted-mean ratio over the horizon, not one number.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from .rules import (
    CLAIMED_RATIO,
    MAX_CENSORED,
    MIN_SEEDS,
    Verdict,
    capped_times,
    check_guards,
    dead_runs,
    death_rule,
    direction_reason,
    direction_rule,
    exact_rate_interval,
    make_verdict,
    not_yet_measured,
    ratio_interval,
    runs_of,
    size_reason,
    size_rule,
)
from .survival import times_to_target

__all__ = [
    "LEGACY",
    "SINE_LAYOUTS",
    "convergence_claims",
    "death_table",
    "geometry_table",
    "horizon_curve",
    "legacy_claims",
    "majority_share",
]

SINE_LAYOUTS = ("topo_sine_mid", "topo_sine_mid_relu", "topo_sine")
LEGACY = ("leaky_relu_0.01", "leaky_relu_0.1", "tanh", "sigmoid")
"""The paper's other "legacy activations" the committed runs hold (beside ReLU)."""
SECTION = "03_mlp: Claim 1"


@functools.cache
def majority_share(dataset: str) -> float:
    """Share of the largest class in the training split the MLP experiments use for ``dataset`` (16,000, seed 0)."""
    from ..experiments.mlp import DATASETS

    labels = DATASETS[dataset](16_000, 2000, seed=0).train.tensors[1].numpy()
    return float(np.bincount(labels).max() / len(labels))


def dataset_title(dataset: str) -> str:
    """``"rings"`` -> ``"nine rings"``; ``"rings_naitzat"`` -> ``"nine rings (Naitzat geometry)"``."""
    base, _, geometry = dataset.partition("_")
    return f"nine {base}" + (f" ({geometry.capitalize()} geometry)" if geometry else "")


def _arm(runs: pd.DataFrame, layout: str) -> pd.DataFrame:
    """One layout's runs: ``seed, time, reached, dead`` (time to the runs' own target), sorted by seed."""
    group = runs[runs.activation == layout]
    times = times_to_target(group).set_index("seed")
    times["dead"] = dead_runs(group, majority_share(group.dataset.iloc[0])).to_numpy() if len(group) else []
    return times.sort_index()


def _setting(dataset: str, note: str) -> str:
    return dataset_title(dataset) + note


def convergence_claims(mlp: pd.DataFrame | None, layouts: tuple[str, ...] = SINE_LAYOUTS,
                       datasets: tuple[str, ...] = ("rings", "spheres"), note: str = "",
                       reference: str = "relu", family: str = "fewer epochs than ReLU") -> list[Verdict]:  # fmt: skip
    """Claim 1 per data set and layout against ``reference``: direction, magnitude; where runs die, dying and learners.

    The target is the runs' own (99%, or 95% on Naitzat et al.'s rings, whose
    classes overlap).  ``note`` is appended to the setting (e.g. the epoch budget).
    """
    verdicts = []
    conv = runs_of(mlp, "convergence")
    for dataset in datasets:
        runs = conv[conv.dataset == dataset]
        setting = _setting(dataset, note)
        for layout in layouts:
            labels = {"family": family, "setting": f"{layout}, {setting}"}
            claim = f"{layout} needs fewer epochs than {reference} on {setting}"
            if runs.empty or not (runs.activation == layout).any():
                verdicts += [not_yet_measured(f"{claim}: {part}", "", SECTION, part=part, **labels)
                             for part in ("direction", "magnitude")]
                continue
            verdicts += _speed_rows(runs, layout, reference, claim, labels)
            verdicts += _dying_rows(runs, layout, reference, claim, labels)
    return verdicts


def _speed_rows(runs: pd.DataFrame, layout: str, reference: str, claim: str, labels: dict) -> list[Verdict]:
    """Direction and magnitude of the restricted-mean ratio, every run counted (dead ones at the budget)."""
    target = f"{runs.target.iloc[0]:.0%}"
    tau = float(runs.max_epochs.max())
    a, b = _arm(runs, layout), _arm(runs, reference)
    seeds = a.index.intersection(b.index)
    a, b = a.loc[seeds], b.loc[seeds]
    censored = (float(1 - b.reached.mean()), float(1 - a.reached.mean()))
    guard = check_guards(len(seeds), MIN_SEEDS["mlp"])
    if guard is None and max(censored) > MAX_CENSORED:
        arm, share = max(zip((reference, layout), censored, strict=True), key=lambda c: c[1])
        guard = f"inconclusive: {share:.0%} of {arm}'s runs never reached the target (more than {MAX_CENSORED:.0%})"
    ratio, low, high = ratio_interval(capped_times(a.time, a.reached, tau), capped_times(b.time, b.reached, tau))
    dead = f"; dead {reference} {int(b.dead.sum())}, {layout} {int(a.dead.sum())}" if (a.dead | b.dead).any() else ""
    measured = (f"restricted-mean epochs to {target} ratio {ratio:.2f} [95% CI {low:.2f}-{high:.2f}], "
                f"{len(seeds)} seeds, budget {tau:g} epochs, censored {reference} {censored[0]:.0%} / {layout} "
                f"{censored[1]:.0%}{dead}")  # fmt: skip
    if guard and guard.startswith("inconclusive"):
        side = "faster" if high < 1 else "slower" if low > 1 else "undecided"
        guard += f"; the estimate alone says {side} ({ratio:.2f} [{low:.2f}-{high:.2f}])"
    numbers = (ratio, low, high)
    direction = direction_rule(low, high)
    size = size_rule(low, high, CLAIMED_RATIO)
    return [
        make_verdict(f"{claim}: direction", "fewer epochs than ReLU", measured, guard, direction,
                     direction_reason(direction, f"faster than {reference}", f"slower than {reference}",
                                      f"not clearly faster or slower than {reference}"), SECTION, (*numbers, 1.0),
                     part="direction", **labels),
        make_verdict(f"{claim}: magnitude", "1.5-2x fewer epochs (ratio <= 0.67)", measured, guard, size,
                     size_reason(size, direction, CLAIMED_RATIO, "1.5x faster", reference), SECTION,
                     (*numbers, CLAIMED_RATIO),
                     part="magnitude", **labels),
    ]  # fmt: skip


def _dying_rows(runs: pd.DataFrame, layout: str, reference: str, claim: str, labels: dict) -> list[Verdict]:
    """Where any run of either arm died: the dying row and the speed of the runs that learn."""
    tau = float(runs.max_epochs.max())
    a, b = _arm(runs, layout), _arm(runs, reference)
    if not (a.dead.any() or b.dead.any()):
        return []
    (lo_a, hi_a) = exact_rate_interval(int(a.dead.sum()), len(a))
    (lo_b, hi_b) = exact_rate_interval(int(b.dead.sum()), len(b))
    verdict, p = death_rule(int(a.dead.sum()), len(a), int(b.dead.sum()), len(b))
    measured = (f"dead {layout} {int(a.dead.sum())}/{len(a)} ({lo_a:.0%}-{hi_a:.0%}), {reference} "
                f"{int(b.dead.sum())}/{len(b)} ({lo_b:.0%}-{hi_b:.0%}; Clopper-Pearson 95%); "
                f"Fisher exact p = {p:.3f}")  # fmt: skip
    reason = {"holds": f"{layout} dies less often than {reference}",
              "contradicted": f"{layout} dies more often than {reference}",
              "inconclusive": "no clear difference in how often they die (p >= 0.05)"}[verdict]  # fmt: skip
    rows = [make_verdict(f"{layout} dies less often than {reference} on {labels['setting'].split(', ', 1)[1]}",
                         "(implied) the sine avoids dead networks", measured, None, verdict, reason, SECTION,
                         part="dying", **labels)]  # fmt: skip
    learn_a, learn_b = a[~a.dead], b[~b.dead]
    ratio, low, high = ratio_interval(capped_times(learn_a.time, learn_a.reached, tau),
                                      capped_times(learn_b.time, learn_b.reached, tau), paired=False)  # fmt: skip
    rule = direction_rule(low, high)
    rows.append(make_verdict(
        f"{claim}: among runs that learn", "fewer epochs than ReLU",
        f"ratio {ratio:.2f} [95% CI {low:.2f}-{high:.2f}] over {len(learn_a)} and {len(learn_b)} learning runs "
        "(unpaired)", _learner_guard(len(learn_a), len(learn_b), layout, reference), rule,
        direction_reason(rule, f"faster than {reference} among runs that learn",
                         f"slower than {reference} among runs that learn", "not clearly faster among runs that learn"),
        SECTION, (ratio, low, high, 1.0),
        part="direction", family=labels["family"], setting=labels["setting"] + ", learners"))  # fmt: skip
    both = learn_a.index.intersection(learn_b.index)
    ratio, low, high = ratio_interval(capped_times(learn_a.time[both], learn_a.reached[both], tau),
                                      capped_times(learn_b.time[both], learn_b.reached[both], tau))  # fmt: skip
    rule = direction_rule(low, high)
    lost = a.loc[b.dead & ~a.dead]
    bias = (f"; where {reference} died, {layout} needed {lost.time.mean():.0f} epochs on average against "
            f"{learn_a.time[both].mean():.0f} on the shared seeds" if len(lost) else "")  # fmt: skip
    rows.append(make_verdict(
        f"{claim}: paired where both learn", "fewer epochs than ReLU",
        f"ratio {ratio:.2f} [95% CI {low:.2f}-{high:.2f}] on the {len(both)} seeds where both learn{bias}",
        _learner_guard(len(both), len(both), layout, reference), rule,
        direction_reason(rule, f"faster than {reference} on the seeds where both learn (biased toward the layout "
                         "that dies less)", f"slower than {reference} where both learn",
                         "not clearly faster where both learn"),
        SECTION, (ratio, low, high, 1.0), part="direction", family=labels["family"],
        setting=labels["setting"] + ", both learn"))  # fmt: skip
    return rows


def _learner_guard(n_a: int, n_b: int, layout: str, reference: str) -> str | None:
    """The guard of a comparison among learning runs: an arm with no learner is inconclusive, not unmeasured."""
    if min(n_a, n_b) == 0:
        return f"inconclusive: no {reference if n_b == 0 else layout} run learned, so there is no speed to compare"
    return check_guards(min(n_a, n_b), MIN_SEEDS["mlp"])


def death_table(
    mlp: pd.DataFrame | None, dataset: str, layouts: tuple[str, ...] = ("relu", *SINE_LAYOUTS)
) -> pd.DataFrame:
    """Dead runs per layout on one data set: ``runs, dead, rate, low, high`` (Clopper-Pearson 95%)."""
    runs = runs_of(mlp, "convergence")
    runs = runs[runs.dataset == dataset]
    rows = []
    for layout in layouts:
        if not (runs.activation == layout).any():
            continue
        arm = _arm(runs, layout)
        k, n = int(arm.dead.sum()), len(arm)
        low, high = exact_rate_interval(k, n)
        rows.append({"layout": layout, "runs": n, "dead": k, "rate": k / n, "low": low, "high": high})
    return pd.DataFrame(rows).set_index("layout") if rows else pd.DataFrame()


def horizon_curve(mlp: pd.DataFrame | None, dataset: str, layout: str, reference: str = "relu",
                  horizons: np.ndarray | None = None) -> pd.DataFrame:  # fmt: skip
    """The restricted-mean ratio ``layout / reference`` at horizons up to the budget: ``horizon, ratio, low, high``.

    Dead runs count at the horizon, so a layout that dies less looks faster the
    further the horizon reaches; the curve shows how much of a ratio is the horizon.
    """
    runs = runs_of(mlp, "convergence")
    runs = runs[runs.dataset == dataset]
    a, b = _arm(runs, layout), _arm(runs, reference)
    seeds = a.index.intersection(b.index)
    a, b = a.loc[seeds], b.loc[seeds]
    tau = float(runs.max_epochs.max())
    horizons = np.unique(np.linspace(10, tau, 50).round()) if horizons is None else np.asarray(horizons, float)
    rows = []
    for h in horizons:
        ratio, low, high = ratio_interval(np.minimum(a.time, h), np.minimum(b.time, h))
        rows.append({"horizon": float(h), "ratio": ratio, "low": low, "high": high})
    return pd.DataFrame(rows)


def legacy_claims(mlp: pd.DataFrame | None, layout: str = "topo_sine_mid") -> list[Verdict]:
    """The sine against the paper's other legacy activations (leaky ReLU, tanh, sigmoid), per data set."""
    conv = runs_of(mlp, "convergence")
    verdicts = []
    for legacy in LEGACY:
        if not (conv.activation == legacy).any():
            continue
        verdicts += convergence_claims(mlp, layouts=(layout,), reference=legacy,
                                       family="fewer epochs than legacy activations")  # fmt: skip
    return verdicts


def geometry_table(mlp: pd.DataFrame | None, naitzat: pd.DataFrame | None) -> pd.DataFrame:
    """The convergence claim on both geometries side by side, so a reader sees whether it depends on easy data.

    One row per sine layout; columns ``(data set, geometry)``; each cell is the
    restricted-mean epochs ratio to ReLU with its 95% interval and the direction
    and magnitude verdicts.
    """
    cells = {}
    for frame, geometry, suffix in ((mlp, "clean", ""), (naitzat, "Naitzat", "_naitzat")):
        for base in ("rings", "spheres"):
            for layout in SINE_LAYOUTS:
                rows = convergence_claims(frame, layouts=(layout,), datasets=(base + suffix,))
                direction, magnitude = rows[0], rows[1]
                text = (direction.verdict if np.isnan(direction.estimate) else
                        f"{direction.estimate:.2f} [{direction.low:.2f}-{direction.high:.2f}]: faster "
                        f"{direction.verdict}, 1.5x {magnitude.verdict}")  # fmt: skip
                cells.setdefault(layout, {})[(f"nine {base}", geometry)] = text
    order = [(f"nine {b}", g) for b in ("rings", "spheres") for g in ("clean", "Naitzat")]
    table = pd.DataFrame.from_dict(cells, orient="index")[order]
    table.columns = pd.MultiIndex.from_tuples(order, names=["data", "geometry"])
    return table.rename_axis("layout")
