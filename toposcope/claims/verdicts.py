"""The paper's claims, each judged in its parts from the committed results by a rule of :mod:`~toposcope.claims.rules`.

:func:`report` lists every part of every claim with what was measured, its verdict
and the reason in words; :func:`summary` gives one row per claim of the paper; the
replication report chapter shows both, and README's findings are
:func:`findings_markdown` of it (``python -m toposcope.claims.verdicts --readme``).
The claim families live in :mod:`~toposcope.claims.convergence`,
:mod:`~toposcope.claims.betti`, :mod:`~toposcope.claims.sweeps` and
:mod:`~toposcope.claims.image_claims`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from .betti import betti_claims, mechanism_claims
from .convergence import convergence_claims, legacy_claims
from .image_claims import (
    cnn_claims,
    criterion_claims,
    overfitting_claims,
    pruning_claims,
    sparsity_table,
)
from .reading_claims import cnn_reading_claims
from .rules import PARTS, VERDICTS
from .sweeps import batch_claim, lr_claims

__all__ = ["RESULTS", "findings_markdown", "load_results", "meanings", "report", "report_csv", "summary"]


def _budget_claims(frame: pd.DataFrame | None) -> list:
    """Claim 1 on the clean spheres from runs with a longer budget, the budget named in the setting."""
    conv = frame[frame.experiment == "convergence"] if frame is not None and "experiment" in frame else None
    if conv is None or conv.empty:
        return []
    budget = int(conv.max_epochs.max())
    return convergence_claims(frame, layouts=("topo_sine_mid", "topo_sine_mid_relu"), datasets=("spheres",),
                              note=f" ({budget}-epoch budget)")  # fmt: skip


def report(mlp: pd.DataFrame | None, pruning: pd.DataFrame | None, cnn: pd.DataFrame | None = None,
           sparsity: pd.DataFrame | None = None, naitzat: pd.DataFrame | None = None,
           topology: pd.DataFrame | None = None, long: pd.DataFrame | None = None,
           longer: pd.DataFrame | None = None, sweeps: pd.DataFrame | None = None,
           cnn_readings: pd.DataFrame | None = None) -> pd.DataFrame:  # fmt: skip
    """Every part of every claim of the paper with its measurement, verdict and reason: one row per :class:`Verdict`.

    ``naitzat`` holds the convergence runs on Naitzat et al.'s geometry; ``topology``
    the Betti runs on whole-class clouds (they replace ``mlp``'s 1,000-point ones
    for Claim 2 and its mechanism); ``long`` and ``longer`` the clean spheres'
    convergence runs with longer budgets (200 and 500 epochs); ``sweeps`` the
    batch-size and learning-rate designs that can test their claims (judged beside
    ``mlp``'s first sweeps); ``cnn_readings`` the CNN runs that recorded the readings
    that can move (class separation, long bars; judged beside ``cnn``'s fixed-scale ones).
    """
    betti_runs = topology if topology is not None else mlp
    betti = [*betti_claims(betti_runs), *betti_claims(betti_runs, "topo_sine_mid_relu"), *mechanism_claims(betti_runs)]
    sweep_rows = [*batch_claim(mlp, setting="first sweep"), *lr_claims(mlp, setting="first sweep")]
    if sweeps is not None:
        sweep_rows += [*batch_claim(sweeps, setting="equal budget"), *lr_claims(sweeps, setting="training grid")]
    verdicts = [
        *convergence_claims(mlp), *convergence_claims(naitzat, datasets=("rings_naitzat", "spheres_naitzat")),
        *_budget_claims(long), *_budget_claims(longer), *legacy_claims(mlp), *betti, *sweep_rows,
        *overfitting_claims(mlp), *cnn_claims(cnn), *cnn_reading_claims(cnn_readings),
        *pruning_claims(pruning),
        *criterion_claims(sparsity_table(sparsity)),
    ]  # fmt: skip
    return pd.DataFrame([asdict(v) for v in verdicts])


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """One row per claim of the paper (``family``): for each of its parts, how many settings got each verdict.

    Returns
    -------
    pandas.DataFrame
        Index ``family``; one column per part present (``"holds 3, inconclusive 2"``),
        and ``settings`` (rows judged).
    """
    rows = {}
    for family, group in table.groupby("family", sort=False):
        row = {}
        for part in [p for p in PARTS if p in set(group.part)]:
            counts = group[group.part == part].verdict.value_counts()
            row[part] = ", ".join(f"{word} {counts[word]}" for word in VERDICTS if word in counts)
        row["settings"] = len(group)
        rows[family] = row
    columns = [p for p in PARTS if any(p in r for r in rows.values())] + ["settings"]
    return pd.DataFrame.from_dict(rows, orient="index", columns=columns).fillna("").rename_axis("claim")


MEANINGS = {
    "faster at all, every run counted (dead ones at the budget)": lambda t: (t.part == "direction") & ~_learners(t),
    "1.5x faster or more, every run counted": lambda t: t.part == "magnitude",
    "the sine keeps networks from dying": lambda t: t.part == "dying",
    "faster among the runs that learn (unpaired)": lambda t: t.setting.str.endswith(", learners"),
    "faster on the seeds where both learn (paired; biased)": lambda t: t.setting.str.endswith(", both learn"),
}
"""What the paper's "1.5 to 2 times fewer epochs" can mean, each a selection of Claim 1's rows."""


def _learners(table: pd.DataFrame) -> pd.Series:
    return table.setting.str.endswith(", learners") | table.setting.str.endswith(", both learn")


def meanings(table: pd.DataFrame, family: str = "fewer epochs than ReLU") -> pd.DataFrame:
    """Claim 1's headline: for each meaning of "1.5 to 2 times fewer epochs" (:data:`MEANINGS`), its verdicts.

    Returns
    -------
    pandas.DataFrame
        Index ``meaning``; one column per verdict word (settings with it), and
        ``holds in`` (the settings where it holds).
    """
    rows = table[table.family == family]
    out = {}
    for meaning, pick in MEANINGS.items():
        chosen = rows[pick(rows)]
        counts = chosen.verdict.value_counts()
        held = chosen[chosen.verdict == "holds"].setting.str.removesuffix(", learners").str.removesuffix(", both learn")
        out[meaning] = {**{w: int(counts.get(w, 0)) for w in VERDICTS[:-1]},
                        "holds in": "; ".join(held) or "nowhere"}  # fmt: skip
    return pd.DataFrame.from_dict(out, orient="index").rename_axis("meaning")


def findings_markdown(table: pd.DataFrame) -> str:
    """The report as the Markdown README.md shows between its ``verdicts`` markers.

    Per claim of the paper: a line with its parts' verdict counts (:func:`summary`), then
    one line per part and setting: the claim, its verdict, the reason in words, what was measured.
    """
    counts = summary(table)
    lines = []
    for family, group in table.groupby("family", sort=False):
        parts = "; ".join(f"{part}: {counts.loc[family, part]}" for part in PARTS
                          if part in counts.columns and counts.loc[family, part])  # fmt: skip
        lines += [f"**{family}** ({parts})", ""]
        for row in group.itertuples():
            part = "" if row.claim.endswith(row.part) else f" ({row.part})"
            why = f": {row.reason}" if row.reason else ""
            measured = f". Measured: {row.measured}" if row.measured else ""
            lines.append(f"- {row.claim}{part} → **{row.verdict}**{why}{measured}")
        lines.append("")
    return "\n".join(lines)


README_BLOCK = ("<!-- verdicts:start -->\n", "<!-- verdicts:end -->")
RESULTS = {
    "mlp": "data/results/mlp_full.jsonl",
    "pruning": "data/results/pruning_fashion_mnist.jsonl",
    "cnn": "data/results/cnn_full.jsonl",
    "cnn_readings": "data/results/cnn_readings.jsonl",
    "sparsity": "data/results/sparsity_converged.jsonl",
    "naitzat": "data/results/mlp_naitzat.jsonl",
    "topology": "data/results/mlp_topology.jsonl",
    "long": "data/results/mlp_spheres_long.jsonl",
    "longer": "data/results/mlp_spheres_500.jsonl",
    "sweeps": "data/results/mlp_sweeps.jsonl",
}


def load_results(root: str | os.PathLike = ".", names: Sequence[str] | None = None) -> dict[str, pd.DataFrame | None]:
    """The committed results under ``root`` (the repository), by name of :data:`RESULTS`; ``None`` where absent.

    ``names`` picks some of :data:`RESULTS` (default: all).
    ``report(**load_results())`` is the report of the committed results.
    """
    from .analysis import runs

    chosen = list(RESULTS) if names is None else list(names)
    unknown = sorted(set(chosen) - set(RESULTS))
    if unknown:
        raise ValueError(f"unknown result name(s) {unknown}; choose among {sorted(RESULTS)}")
    files = {name: Path(root) / RESULTS[name] for name in chosen}
    return {name: runs(path) if path.exists() else None for name, path in files.items()}


def report_csv(table: pd.DataFrame) -> str:
    """The report as CSV text, every field of every row (numbers to 6 significant digits): what
    ``data/results/report.csv`` holds for the committed results, so a change to any verdict, reason or
    label shows in a diff."""
    return table.to_csv(index=False, float_format="%.6g", lineterminator="\n")


def main(argv: list[str] | None = None) -> None:
    """Print the report of the committed results, or (``--readme``) write its findings into README.md,
    or (``--csv PATH``) write the whole report as CSV."""
    import argparse

    parser = argparse.ArgumentParser(description="the paper's claims, judged from the committed results")
    parser.add_argument("--readme", action="store_true", help="rewrite the findings block of README.md")
    parser.add_argument("--csv", type=Path, help="write every field of the report to this CSV file")
    args = parser.parse_args(argv)
    table = report(**load_results())
    if args.csv:
        args.csv.write_text(report_csv(table))
        print(f"{args.csv}: {len(table)} rows written")
        return
    if not args.readme:
        with pd.option_context("display.max_colwidth", 200, "display.width", 250):
            print(summary(table).to_string())
            print(table[["verdict", "claim", "reason"]].to_string())
        return
    readme = Path("README.md")
    text = readme.read_text()
    start, end = text.index(README_BLOCK[0]) + len(README_BLOCK[0]), text.index(README_BLOCK[1])
    readme.write_text(text[:start] + findings_markdown(table) + text[end:])
    print(f"README.md: {len(table)} findings written")


if __name__ == "__main__":
    main()
