"""Claims 3 and 4: the gain over ReLU grows with the batch size; the sine needs less learning-rate tuning.

Both are judged on one number per seed (the independent unit), with a t interval:

* **batch size** (:func:`batch_claim`): per seed, the slope of ``log(ratio)``
  against ``log2(batch size)`` over *every* batch size of the sweep (a trend test,
  not its two ends), where ``ratio`` is the seed's epochs to target with the sine
  over ReLU's, both capped at the budget; ``exp(slope)`` is the factor by which
  the ratio changes per doubling of the batch.  The claim holds if the interval of
  that factor lies below 1.  Budgets must be equal across batch sizes, else the
  ratios are truncated differently and the trend is *inconclusive*.
* **learning rate** (:func:`lr_claims`): per seed and layout, the spread
  ``worst / best`` of its epochs to target over the rates (capped at each rate's
  budget); the claim ("less tuning") holds if the interval of the sine's spread
  over ReLU's lies below 1.  And the two layouts each at their own best rate
  (the rate of lowest mean epochs): a Fieller ratio, direction rule.
  A cell (rate x layout) with more than :data:`~toposcope.claims.rules.MAX_CENSORED`
  of its runs censored makes both *inconclusive*: a censored cell's spread is the budget's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .rules import (
    MAX_CENSORED,
    MIN_SEEDS,
    Verdict,
    capped_times,
    check_guards,
    direction_reason,
    direction_rule,
    make_verdict,
    mean_interval,
    not_yet_measured,
    ratio_interval,
    runs_of,
)
from .survival import paired_times

__all__ = ["batch_claim", "lr_claims", "sweep_cells"]

SECTION_BATCH, SECTION_LR = "03_mlp: Claim 3", "03_mlp: Claim 4"


def sweep_cells(runs: pd.DataFrame, by: str, layouts: list[str]) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Capped epochs to target per seed (rows) and (value, layout) (columns); the censored share per cell; budgets.

    ``by``: ``"batch_size"`` or ``"lr"``.  Seeds missing from any cell are dropped.
    """
    times, censored, budgets = {}, {}, {}
    for value, group in runs.groupby(runs[by].astype(str), sort=False):
        tau = float(group.max_epochs.max())
        budgets[value] = tau
        wide = paired_times(group, layouts).set_index("seed")
        for layout in layouts:
            times[(value, layout)] = pd.Series(capped_times(wide[f"t_{layout}"], wide[f"r_{layout}"], tau),
                                               index=wide.index)  # fmt: skip
            censored[(value, layout)] = float(1 - wide[f"r_{layout}"].mean())
    table = pd.DataFrame(times).dropna()
    return table, pd.Series(censored), budgets


def _batch_value(value: str, n_train: int) -> float:
    return float(n_train if value == "full" else value)


def batch_claim(runs_frame: pd.DataFrame | None, layout: str = "topo_sine_mid", setting: str = "",
                n_train: int = 16_000) -> list[Verdict]:  # fmt: skip
    """Claim 3: the sine's ratio to ReLU falls as the batch grows (trend over every batch size, per seed)."""
    runs = runs_of(runs_frame, "batch_size")
    claim = f"the gain of {layout} over ReLU grows with the batch size" + (f" ({setting})" if setting else "")
    labels = {"part": "direction", "family": "gain grows with batch size", "setting": setting or layout}
    paper = "ratio to ReLU falls as the batch grows"
    if runs.empty or runs.batch_size.nunique() < 2:
        return [not_yet_measured(claim, paper, SECTION_BATCH, **labels)]
    table, censored, budgets = sweep_cells(runs, "batch_size", ["relu", layout])
    values = list(budgets)
    x = np.log2([_batch_value(v, n_train) for v in values])
    logratio = np.column_stack([np.log(table[(v, layout)] / table[(v, "relu")]) for v in values])
    slopes = np.polyfit(x, logratio.T, 1)[0]  # one slope per seed
    mean, low, high = mean_interval(slopes)
    guard = check_guards(len(table), MIN_SEEDS["mlp"], tuple(censored))
    if guard is None and len(set(budgets.values())) > 1:
        spans = ", ".join(f"{b:g}" for b in budgets.values())
        guard = (f"inconclusive: the batch sizes had different budgets ({spans} epochs), so each ratio is truncated "
                 "differently and the trend mixes batch size with budget; it needs one equal budget")  # fmt: skip
    ratios = ", ".join(f"{table[(v, layout)].mean() / table[(v, 'relu')].mean():.2f} at {v}" for v in values)
    factor, f_low, f_high = np.exp([mean, low, high])
    measured = (f"ratio to ReLU {ratios}; per doubling of the batch the ratio changes by x{factor:.2f} "
                f"[95% CI {f_low:.2f}-{f_high:.2f}], {len(table)} seeds, budget "
                f"{'/'.join(f'{b:g}' for b in sorted(set(budgets.values())))} epochs")  # fmt: skip
    rule = direction_rule(f_low, f_high)
    why = direction_reason(rule, "the ratio falls as the batch grows", "the ratio rises as the batch grows",
                           "no clear trend with the batch size")  # fmt: skip
    return [make_verdict(claim, paper, measured, guard, rule, why, SECTION_BATCH, (factor, f_low, f_high, 1.0),
                         **labels)]  # fmt: skip


def lr_claims(runs_frame: pd.DataFrame | None, layout: str = "topo_sine_mid", setting: str = "") -> list[Verdict]:
    """Claim 4: less learning-rate tuning (spread worst/best per seed), and each layout at its own best rate."""
    runs = runs_of(runs_frame, "learning_rate")
    note = f" ({setting})" if setting else ""
    family = "less learning-rate tuning"
    claims = [(f"{layout} needs less learning-rate tuning than ReLU{note}", "less sensitive to the learning rate",
               "direction"),
              (f"{layout} at its best learning rate is faster than ReLU at its best{note}",
               "(implied) tuned for each, the sine is faster", "direction")]  # fmt: skip
    if runs.empty or runs.lr.nunique() < 2:
        return [not_yet_measured(c, p, SECTION_LR, part=part, family=family, setting=setting or layout)
                for c, p, part in claims]
    table, censored, budgets = sweep_cells(runs, "lr", ["relu", layout])
    guard = check_guards(len(table), MIN_SEEDS["mlp"])
    worst = censored.idxmax()
    if guard is None and censored.max() > MAX_CENSORED:
        guard = (f"inconclusive: the cell at learning rate {worst[0]} ({worst[1]}) has {censored.max():.0%} of its "
                 f"runs censored (more than {MAX_CENSORED:.0%}), so its spread is the budget's, "
                 "not the runs'")  # fmt: skip
    values = list(budgets)
    spread = {x: np.log(table[[(v, x) for v in values]].max(axis=1) / table[[(v, x) for v in values]].min(axis=1))
              for x in (layout, "relu")}  # fmt: skip
    mean, low, high = np.exp(mean_interval((spread[layout] - spread["relu"]).to_numpy()))
    rule = direction_rule(low, high)
    measured = (f"worst/best learning rate per seed, {layout} over ReLU: x{mean:.2f} [95% CI {low:.2f}-{high:.2f}] "
                f"(geometric mean), rates {', '.join(values)}, {len(table)} seeds; most censored cell "
                f"{worst[1]} at {worst[0]}: {censored.max():.0%}")  # fmt: skip
    rows = [make_verdict(claims[0][0], claims[0][1], measured, guard, rule, direction_reason(
        rule, f"{layout}'s epochs vary less over learning rates than ReLU's",
        f"{layout}'s epochs vary more over learning rates than ReLU's", "no clear difference in sensitivity"),
        SECTION_LR, (mean, low, high, 1.0), part="direction", family=family, setting=setting or layout)]  # fmt: skip
    best = {x: min(values, key=lambda v, x=x: table[(v, x)].mean()) for x in (layout, "relu")}
    ratio, low, high = ratio_interval(
        table[(best[layout], layout)].to_numpy(), table[(best["relu"], "relu")].to_numpy()
    )
    rule = direction_rule(low, high)
    rows.append(make_verdict(
        claims[1][0], claims[1][1],
        f"{layout} at {best[layout]} over ReLU at {best['relu']}: {ratio:.2f} [95% CI {low:.2f}-{high:.2f}], "
        f"{len(table)} seeds (each best rate chosen on the same runs)", guard, rule,
        direction_reason(rule, "faster than ReLU, each at its best rate", "slower than ReLU, each at its best rate",
                         "not clearly faster at the best rates"),
        SECTION_LR, (ratio, low, high, 1.0), part="direction", family=family,
        setting=(setting or layout) + ", best"))  # fmt: skip
    return rows
