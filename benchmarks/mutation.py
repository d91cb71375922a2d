"""Mutation testing of the modules where a wrong answer is silent, one area at a time.

For each area the script copies the working tree to a scratch folder, tells ``mutmut``
(3.x) to mutate only that area's modules and to run only that area's tests, runs it,
and reads back every mutant's outcome.  It prints one row per module: mutants made,
killed (a test failed, or the mutant timed out), survived (every test passed),
no tests (no test of the area calls the mutated function: a survivor too), the
equivalent mutants listed below (a change no test can see because the behaviour is
the same; each with its reason), those a stopped run never reached (not run), and the
kill rate

    kill rate = killed / (mutants - equivalent - not run)

against the target of 90%.  Survivors' diffs go to ``--report`` (one file per area).
On demand, not in CI: all areas take about two hours on 2 cores (claims, ~3,000 mutants,
the longest: about 45 minutes).

    python benchmarks/mutation.py                 # every area
    python benchmarks/mutation.py rules survival  # some areas
    python benchmarks/mutation.py --list          # the areas, their modules and tests
    python benchmarks/mutation.py pruning --survivors  # only the last run's survivors, after adding tests

Every run stores each mutant's outcome and a hash of each mutated module in
``--report/AREA.outcomes.json``.  ``--survivors`` tests again only the mutants that
run did not kill (survivors, and any it never reached) and keeps the others'
outcomes: a mutant a test killed stays killed when tests are only added.  It refuses
when a mutated module has changed since (mutmut's numbering of mutants would no longer
match): run the area in full.  A run stopped with Ctrl-C (SIGINT) keeps what it
measured; ``--survivors`` goes on from there.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 0.90

# area: (modules mutated, tests run).  Tests are the area's own files, not the whole suite.
AREAS: dict[str, tuple[list[str], list[str]]] = {
    "rules": (["toposcope/claims/rules.py", "toposcope/claims/intervals.py"],
              ["tests/test_rules.py", "tests/test_verdicts.py"]),
    "survival": (["toposcope/claims/survival.py"], ["tests/test_survival.py", "tests/test_rules.py"]),
    "claims": (["toposcope/claims/betti.py", "toposcope/claims/convergence.py", "toposcope/claims/image_claims.py",
                "toposcope/claims/reading_claims.py", "toposcope/claims/sweeps.py"],
               ["tests/test_verdicts.py", "tests/test_cnn_readings_claims.py", "tests/test_rules.py"]),
    "complexes": (["toposcope/hops.py", "toposcope/complexes.py"],
                  ["tests/test_complexes.py", "tests/test_topology.py", "tests/test_neighbours.py"]),
    "tracker": (["toposcope/_torch.py", "toposcope/tracker.py"],
                ["tests/test_tracker.py", "tests/test_torch_helpers.py", "tests/test_models_training.py"]),
    "pruning": (["toposcope/pruning/scores.py", "toposcope/pruning/surgery.py"], ["tests/test_pruning.py"]),
    "store": (["toposcope/experiments/store.py"], ["tests/test_store.py"]),
    "training": (["toposcope/training.py"], ["tests/test_models_training.py"]),
}  # fmt: skip

# Mutants no test can kill because they do not change what the code does, by mutmut's name.
# A name here that no longer survives is reported as stale (the source moved under it).
_NAN = 'float("NAN") is float("nan") (Python reads the name case-blind)'
_INF = 'float("INF") is float("inf") (case-blind)'
_ASARRAY = "the values are numbers either way and every later step computes in floating point"
_CPU = "a device move: a no-op on this CPU-only machine (the CUDA tests that would see it skip)"
EQUIVALENT: dict[str, str] = {
    # claims/rules.py: death_rule (p < ALPHA means the two death rates differ)
    "toposcope.claims.rules.x_death_rule__mutmut_10": "'<' -> '<=' between the rates: equal rates give p = 1",
    "toposcope.claims.rules.x_death_rule__mutmut_16": "sine deaths x n: when p < ALPHA and the sine rate is "
    "higher, dead_sine >= 1 makes dead_sine * n_sine >= 1 >= the ReLU rate, so the test reads the same",
    "toposcope.claims.rules.x_death_rule__mutmut_17": "'>' -> '>=' between the rates: equal rates give p = 1",
    **{f"toposcope.claims.survival.x_paired_times__mutmut_{i}": "merging without on='seed' merges on the shared "
       "columns, and seed is the only one" for i in (30, 32)},
    # claims/intervals.py
    **{f"toposcope.claims.intervals.x_mean_interval__mutmut_{i}": _ASARRAY for i in (3, 5)},
    **{f"toposcope.claims.intervals.x_mean_interval__mutmut_{i}": _NAN for i in (13, 18, 21)},
    **{f"toposcope.claims.intervals.x_ratio_interval__mutmut_{i}": _ASARRAY for i in (4, 6, 8, 10)},
    **{f"toposcope.claims.intervals.x_ratio_interval__mutmut_{i}": _NAN for i in (27, 30, 33, 130)},
    **{f"toposcope.claims.intervals.x_ratio_interval__mutmut_{i}": _INF for i in (145, 148)},
    "toposcope.claims.intervals.x_ratio_interval__mutmut_104": "t.ppf((1 - LEVEL) / 2) is minus t.ppf((1 + LEVEL) "
    "/ 2): the squared quantile is the same",
    "toposcope.claims.intervals.x_ratio_interval__mutmut_139": "qa == 0 exactly needs mean(b)^2 == t^2 var(b) / n "
    "to the last bit; no data reach it",
    **{f"toposcope.claims.intervals.x_correlation_interval__mutmut_{i}": _NAN for i in (17, 20)},
    "toposcope.claims.intervals.x_exact_rate_interval__mutmut_4": "scipy's default confidence level is 0.95, "
    "LEVEL's value",
    "toposcope.claims.intervals.x_exact_rate_interval__mutmut_5": "scipy's default method is 'exact'",
    # claims/survival.py
    **{f"toposcope.claims.survival.x_kaplan_meier__mutmut_{i}": _ASARRAY for i in (3, 5)},
    **{f"toposcope.claims.survival.x_capped_times__mutmut_{i}": _ASARRAY for i in (3, 5)},
    "toposcope.claims.survival.x_kaplan_meier__mutmut_60": "the filtered message is only ever a RuntimeWarning",
    "toposcope.claims.survival.x_km_median__mutmut_17": _INF,
    "toposcope.claims.survival.x_restricted_mean__mutmut_7": "'<' -> '<=' tau: a step at tau adds an interval "
    "of width 0",
    **{f"toposcope.claims.survival.x_paired_rmst_ratio__mutmut_{i}": _NAN for i in (16, 19, 22)},
    # training.py: device moves are no-ops where the only device is the CPU (the CUDA tests skip without a GPU)
    **{f"toposcope.training.x_fit__mutmut_{i}": _CPU for i in (69, 70, 71, 73, 74, 75, 100, 103, 139, 158, 161,
                                                                 168, 171)},
    **{f"toposcope.training.x__train_epoch__mutmut_{i}": _CPU for i in (2, 9, 11, 16, 20, 34, 36, 39, 41)},
    **{f"toposcope.training.x__train_epoch__mutmut_{i}": "non_blocking only changes CUDA copies"
       for i in (37, 38, 42, 43)},
    "toposcope.training.x_fit__mutmut_87": "History's default device is 'cpu', the only device here",
    **{f"toposcope.training.x__train_epoch__mutmut_{i}": "the gradients are zeroed either way" for i in (44, 45)},
    **{f"toposcope.training.x__train_epoch__mutmut_{i}": "torch.full((), -1) is a long tensor without the dtype"
       for i in (15, 19)},
    "toposcope.training.x__train_epoch__mutmut_22": "only the sign of the 'no bad batch yet' marker is read",
    **{f"toposcope.training.x_fit__mutmut_{i}": "tqdm's leave= only changes what stays on a terminal"
       for i in (113, 118, 131)},
    # claims: convergence.py, sweeps.py, image_claims.py
    "toposcope.claims.convergence.x__speed_rows__mutmut_2": "the target of the second run: every run of a data set "
    "has the same target",
    **{f"toposcope.claims.convergence.x__speed_rows__mutmut_{i}": "zip's strict: two tuples of two"
       for i in (42, 45, 46)},
    **{f"toposcope.claims.convergence.x__speed_rows__mutmut_{i}": "'<' -> '<=' 1 (or '>' -> '>='): an interval "
       "ending at 1 to the last bit; no data reach it" for i in (86, 92)},
    **{f"toposcope.claims.convergence.x__dying_rows__mutmut_{i}": "the setting is 'layout, data set' and neither "
       "holds ', ' or a space before it: every split gives the data set" for i in (66, 69, 70, 74)},
    "toposcope.claims.convergence.x__dying_rows__mutmut_86": "paired=None is falsy, as False",
    **{f"toposcope.claims.convergence.x_horizon_curve__mutmut_{i}": "the horizons as given or as floats: each is "
       "read through float() and np.minimum" for i in (40, 42)},
    "toposcope.claims.convergence.x_geometry_table__mutmut_50": "pandas reads orient case-blind",
    **{f"toposcope.claims.convergence.x_{name}__mutmut_{i}": "part='direction' is Verdict's default part"
       for name, i in (("_speed_rows", 128), ("_dying_rows", 128), ("_dying_rows", 215))},
    "toposcope.claims.convergence.x__dying_rows__mutmut_223": "both counts are len(both): the guard names the "
    "reference whenever it fires, never the layout",
    "toposcope.claims.convergence.x_horizon_curve__mutmut_35": "numpy's linspace makes 50 points by default",
    **{f"toposcope.claims.reading_claims.x__separation_verdict__mutmut_{i}": "the gap to the null scaled by another "
       "number of the same sign (or divided by +-1): only the sign of its interval's lower end is read"
       for i in (136, 140, 142)},
    **{name: "part='direction' is Verdict's default part" for name in (
        "toposcope.claims.betti.x_betti_claims__mutmut_122", "toposcope.claims.sweeps.x_lr_claims__mutmut_39",
        "toposcope.claims.sweeps.x_lr_claims__mutmut_117", "toposcope.claims.sweeps.x_lr_claims__mutmut_180")},
    **{f"toposcope.claims.betti.x_mechanism_table__mutmut_{i}": "the capped times go to another column: no time "
       "exceeds the budget (each is an epoch of its run's curve), so capping changes none; the call, which refuses "
       "runs censored early, still runs" for i in (59, 60)},
    **{f"toposcope.claims.betti.x_mechanism_claims__mutmut_{i}": "the correlation between layouts' means of one "
       "layout: correlation_interval of one point is nan, as the guarded branch gives" for i in (75, 81)},
    "toposcope.claims.betti.x_mechanism_claims__mutmut_85": _NAN,
    "toposcope.claims.betti.x_mechanism_table__mutmut_81": "a left join of the first checkpoints on the times: every "
    "run with a checkpoint has a time (both come from the same runs), so it is the inner join",
    "toposcope.claims.image_claims.x_cnn_claims__mutmut_11": "cnn_betti of no runs is an empty table, which reads "
    "as no runs as None does",
    "toposcope.claims.sweeps.x_sweep_cells__mutmut_3": "groupby(sort=None): None is falsy, as False",
    **{f"toposcope.claims.betti.x_betti_claims__mutmut_{i}": "the measurement, rule, reason or numbers of a data "
       "set without paired seeds, which make_verdict does not read for a 'not yet measured' verdict"
       for i in (46, 47, 48, 50)},
    "toposcope.claims.image_claims.x_pruning_claims__mutmut_308": "part='direction' is Verdict's default part",
    "toposcope.claims.image_claims.x__frozen_reading__mutmut_15": "one reading per cloud and dimension: the mean of "
    "one value is that value",
    **{f"toposcope.claims.image_claims.x_overfitting_claims__mutmut_{i}": "the measurement, numbers or reason of a "
       "width without paired seeds, which make_verdict does not read for a 'not yet measured' verdict"
       for i in (46, 49, 80)},
    "toposcope.claims.image_claims.x_overfitting_claims__mutmut_86": "'>' -> '>=' 0: an interval starting at 0 to "
    "the last bit; no data reach it",
    # complexes.py: which engine reads a flag complex changes the time, not the numbers (both engines are tested
    # to agree, tests/test_complexes.py::test_both_engines_read_the_same_numbers)
    **{f"toposcope.complexes.x_graph_betti__mutmut_{i}": "engine choice: same Betti numbers" for i in (61,)},
    **{f"toposcope.complexes.x_auto_engine__mutmut_{i}": "engine choice: same Betti numbers" for i in (6, 12)},
    **{f"toposcope.complexes.x_graph_betti__mutmut_{i}": "the components of an upper-triangle graph: scipy's "
       "default weak connectivity for directed=True equals the undirected ones (None is falsy)"
       for i in (11, 13, 14)},
    **{f"toposcope.complexes.x_graph_betti__mutmut_{i}": "shape[0] or shape[1] of a square matrix" for i in (24, 29)},
    "toposcope.complexes.x__graph__mutmut_13": "the pattern as float64 or int8: the same non-zeros",
    "toposcope.complexes.x__ripser_betti__mutmut_17": "every edge is 1: a threshold of 1 or 2 keeps the same complex",
    **{f"toposcope.complexes.x__collapsed__mutmut_{i}": "dtype or shape left to scipy and gudhi (the result is "
       "built with the graph's shape), or gudhi's default rounds: the collapse is exact either way"
       for i in (2, 3, 8, 10, 12, 19)},
    **{f"toposcope.hops.x__hop_graph__mutmut_{i}": "the neighbours recomputed from the same cloud (15) or the "
       "edge values (17, 18): the flag complex reads only the pattern" for i in (12, 15, 17, 18)},
    **{f"toposcope.hops.x__hop_matrix__mutmut_{i}": "shortest paths on a symmetric graph: directed or not, and "
       "scipy's default method, give the same distances" for i in (21, 23, 25, 29)},
    **{f"toposcope.hops.x__hop_matrix__mutmut_{i}": "shape inferred from the indices: every point of a kNN graph "
       "has neighbours, so the largest index is n - 1; float64 either way" for i in (37, 39, 75, 77)},
    "toposcope.hops.x__next_hop__mutmut_2": "shape[1] of a square matrix",
    **{f"toposcope.hops.x__check_k__mutmut_{i}": "stacklevel: not observable under mutmut (tests/test_complexes.py "
       "checks it outside)" for i in (11, 12)},
    **{f"toposcope.hops.x__knn_graph__mutmut_{i}": "the given neighbours' dtype: scipy casts whole-number indices to "
       "its own index type" for i in (19, 21)},
    **{f"toposcope.hops.x__knn_graph__mutmut_{i}": "shape inferred from the indices: each point is its own first "
       "neighbour, so the largest index is n - 1" for i in (31, 33)},
    **{f"toposcope.hops.x__knn_graph__mutmut_{i}": "float64 or float32 ones, a diagonal in csr or dia form: the "
       "sum is csr and the graph is read as a pattern" for i in (35, 37, 67, 69, 95, 98, 100)},
    **{f"toposcope.hops.x__knn_graph__mutmut_{i}": "shape inferred from the indices: each point is its own first "
       "neighbour, so the largest index is n - 1" for i in (63, 65)},
    **{f"toposcope.hops.x__knn_graph__mutmut_{i}": "np.arange(0, n k + 2, k) has the same elements as up to n k + 1 "
       "for every k >= 2" for i in (48, 80)},
    "toposcope.hops.x__knn_graph__mutmut_50": "a k-d tree or brute force at exactly KD_TREE_MAX_DIM dimensions: both "
    "searches are exact, the same graph (ties aside; the test clouds have none)",
    "toposcope.hops.x__knn_graph__mutmut_87": "scikit-learn's default algorithm is exact too: the same neighbours "
    "(ties aside)",
    "toposcope.complexes.x__check_graph_memory__mutmut_2": "shape[1] of a square matrix",
    "toposcope.hops.x__hop_matrix__mutmut_79": "shape inferred from the indices: every point of a kNN graph has "
    "neighbours, so the largest index is n - 1",
    "toposcope.complexes.x__ripser_betti__mutmut_15": "without thresh=1 ripser still reads only the given entries: a "
    "sparse distance matrix's missing pairs are never edges, and every edge is 1",
    **{f"toposcope.complexes.x_graph_betti__mutmut_{i}": "engine choice: same Betti numbers" for i in (69, 70)},
    # pruning/scores.py
    "toposcope.pruning.scores.x_check_scores_match__mutmut_18": "groupby(sort=None): None is falsy, as False",
    **{f"toposcope.pruning.scores.x_{name}__mutmut_{i}": "the batch size changes how many images pass at once, not "
       "the outputs (eval mode: no batch statistics)"
       for name, i in (("feature_maps", 1), ("feature_maps", 11), ("score_filters", 11), ("score_filters", 62))},
    **{f"toposcope.pruning.scores.x__spacing__mutmut_{i}": reason for i, reason in (
        (6, "float32 inf added to a float64 matrix is promoted: inf either way"), (9, "float32 inf: promoted"),
        (10, "shape[2] of a square matrix"), (13, _INF),
        (16, "the minimum over rows or columns of a symmetric matrix"), (17, "rows or columns of a symmetric matrix"),
        (18, "dim +1 of a 2-D tensor is dim -1"))},
    "toposcope.pruning.scores.x__filter_chunks__mutmut_11": "true division: the step is int(min(filters, fits)) "
    "and fits < 1 reads the same, so the slices are the same",
    "toposcope.pruning.scores.x__radii__mutmut_10": _NAN,
    "toposcope.pruning.scores.x__edges__mutmut_9": "with the diagonal the graph gains self-loops, which the flag "
    "complex drops (complexes._graph keeps the strict upper triangle)",
    "toposcope.pruning.scores.x_score_filters__mutmut_39": "'>=' n_samples: a draw of all the images, sorted, is "
    "the images in their order",
    "toposcope.pruning.scores.x_score_filters__mutmut_44": "replace=None is falsy: numpy draws without replacement "
    "as with False",
    **{f"toposcope.pruning.scores.x_score_filters__mutmut_{i}": "the distance matrices recomputed per chunk instead "
       "of reused: the same numbers, twice the work" for i in (82, 83, 90, 105)},
    # pruning/surgery.py
    "toposcope.pruning.surgery.x_select_filters__mutmut_71": "groupby(sort=None): None is falsy, as False",
    **{f"toposcope.pruning.surgery.x_{name}__mutmut_{i}": "the sort's kind: the keys (score, [layer order,] "
       "filter) are unique, so every algorithm gives one order (pandas sorts several keys by lexsort, which "
       "ignores kind)" for name, i in (("select_filters", 80), ("select_filters", 83), ("select_filters", 90),
                                      ("select_filters", 91), ("_global_counts", 9), ("_global_counts", 12),
                                      ("_global_counts", 26), ("_global_counts", 27))},
    "toposcope.pruning.surgery.x__global_counts__mutmut_25": "the filters' order inside a layer: counts per layer "
    "do not depend on which of a layer's filters ranks first",
    **{f"toposcope.pruning.surgery.x_prune_at_equal_budget__mutmut_{i}": "L1 scores of all conv layers: a "
       "filter's L1 norm does not depend on which other layers are scored, and counts name only the Betti "
       "table's layers" for i in (32, 35)},
    **{f"toposcope.pruning.surgery.x__load_state__mutmut_{i}": _CPU for i in (4, 7)},
    **{f"toposcope.pruning.surgery.x__load_state__mutmut_{i}": "weights_only=None or left out is True from torch "
       "2.6 on (requirements.txt pins 2.13); weights_only=False is tested" for i in (5, 8)},
    "toposcope.pruning.surgery.x_load_pruned__mutmut_60": "the chaining check's batch of 1 or 2 zero images: "
    "eval mode, either size finds a mismatch",
    # experiments/store.py: where a warning points (stacklevel) cannot be seen under mutmut, whose trampolines add
    # stack frames; tests/test_store.py::test_store_warnings_point_at_the_caller checks it outside mutmut
    **{f"toposcope.experiments.store.xǁResultStoreǁ_repair__mutmut_{i}": "stacklevel: not observable under mutmut"
       for i in (34, 37)},
    **{f"toposcope.experiments.store.xǁResultStoreǁ_quarantine__mutmut_{i}": "stacklevel: not observable under "
       "mutmut" for i in (25, 26)},
    # _torch.py: the CUDA branch and the moves to the CPU cannot be seen on this CPU-only machine
    **{f"toposcope._torch.x_resolve_device__mutmut_{i}": _CPU for i in (7, 9, 10)},
    **{f"toposcope._torch.x_forward_batches__mutmut_{i}": _CPU for i in (5, 7, 29)},
    **{f"toposcope._torch.x__detached_copy__mutmut_{i}": _CPU for i in (1, 4)},
    # tracker.py
    "toposcope.tracker.x_draw_per_class__mutmut_12": "replace=None is falsy: numpy draws without replacement as "
    "with False",
    **{f"toposcope.tracker.xǁBettiTrackerǁ__init____mutmut_{i}": "the default k only decides whether k is a list; "
       "None and DEFAULT_K are both not one, and betti_numbers applies DEFAULT_K itself" for i in (79, 81)},
    **{f"toposcope.tracker.xǁBettiTrackerǁactivations__mutmut_{i}": _CPU for i in (2, 5)},
    **{f"toposcope.tracker.xǁBettiTrackerǁactivations__mutmut_{i}": "the input's copy: forward_batches clones a "
       "batch that shares the caller's memory, so no layer ever writes into X" for i in (7, 10)},
    "toposcope.tracker.xǁBettiTrackerǁactivations__mutmut_17": "the batch size changes how many inputs pass at "
    "once, not the outputs (eval mode: no batch statistics)",
    **{f"toposcope.tracker.xǁBettiTrackerǁprofile__mutmut_{i}": "stacklevel: not observable under mutmut "
       "(tests/test_tracker.py checks it outside)" for i in (53, 54)},
    **{f"toposcope.tracker.xǁBettiTrackerǁprofile__mutmut_{i}": "zip's strict: every cloud has its result "
       "(betti_numbers_many returns one per cloud), so the check cannot fire" for i in (77, 80, 81)},
}

# What the scratch copy needs besides the package and the tests (committed results, README).
ALSO_COPY = ["data", "README.md", "book", "_toc.yml", "_config.yml", "requirements.txt", ".binder"]
KILLED = {1, 3}  # a failing test, or pytest's internal error
TIMEOUT = {36, 24, -24, 152, 255}  # the tests ran past 15x their clean time: counted as killed, shown apart
SURVIVED, NO_TESTS = 0, {5, 33}
# mutmut forks one child per mutant from a process that has run torch: one thread each, or a forked child can
# wait forever on the parent's thread pool (every mutant then "times out").
# joblib runs its n_jobs work in the test process (JOBLIB_MULTIPROCESSING=0): a worker pool started by a mutant's
# test run outlives it, and in two minutes 54 of them held 14 GB (a run was killed for memory).  The n_jobs tests
# still compare their results with n_jobs=1; that worker processes give the same is checked by the suite itself.
ENVIRONMENT = {"PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "JOBLIB_MULTIPROCESSING": "0"}


def _scratch(area: str, modules: list[str], tests: list[str]) -> Path:
    work = Path(tempfile.mkdtemp(prefix=f"mutation-{area}-"))
    shutil.copytree(ROOT / "toposcope", work / "toposcope", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "tests", work / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", work / "pyproject.toml")
    for name in ALSO_COPY:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, work / name, ignore=shutil.ignore_patterns("_build", "__pycache__"))
        elif source.exists():
            shutil.copy(source, work / name)
    lines = ["[mutmut]", "source_paths=toposcope", "only_mutate=" + "\n    ".join(modules),
             "pytest_add_cli_args_test_selection=" + "\n    ".join(tests),
             "pytest_add_cli_args=-p no:cacheprovider -q",
             # workers forked from a clean server, not from the process that ran the suite (torch, joblib's
             # worker processes: reaping one of those crashed a fork-mode run)
             "process_isolation=forkserver",
             "also_copy=" + "\n    ".join(ALSO_COPY)]  # fmt: skip
    (work / "setup.cfg").write_text("\n".join(lines) + "\n")
    return work


def _outcomes(work: Path, module: str) -> dict[str, int]:
    meta = work / "mutants" / (module + ".meta")
    if not meta.exists():
        return {}
    return {name: code for name, code in json.loads(meta.read_text())["exit_code_by_key"].items()}


def _diff(work: Path, mutmut: str, name: str) -> str:
    shown = subprocess.run([mutmut, "show", name], cwd=work, capture_output=True, text=True)
    return shown.stdout


def _reap(work: Path) -> int:
    """End the processes still running in ``work`` (joblib's worker pools outlive the mutants' test runs that
    started them: two runs left 99 of them, 26 GB, and the next run's fork server was killed for memory)."""
    ended = 0
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if Path(os.readlink(proc / "cwd")).is_relative_to(work) and int(proc.name) != os.getpid():
                os.kill(int(proc.name), signal.SIGKILL)
                ended += 1
        except (OSError, ValueError):  # gone already, or not ours to read
            continue
    return ended


def _source_hashes(modules: list[str]) -> dict[str, str]:
    return {module: hashlib.sha1((ROOT / module).read_bytes()).hexdigest() for module in modules}


def _previous(area: str, modules: list[str], report: Path) -> dict[str, dict[str, int]]:
    """The last run's outcomes of ``area`` (module -> mutant -> exit code), checked to be of today's source."""
    stored = report / f"{area}.outcomes.json"
    if not stored.exists():
        raise SystemExit(f"--survivors: no earlier run of {area!r} in {report} (run the area in full first)")
    previous = json.loads(stored.read_text())
    changed = [m for m, digest in _source_hashes(modules).items() if previous["sources"].get(m) != digest]
    if changed:
        raise SystemExit(f"--survivors: {changed} changed since the last run of {area!r}; run the area in full")
    return previous["outcomes"]


def run_area(area: str, children: int, report: Path, keep: bool, survivors_only: bool = False) -> list[dict]:
    """Mutate one area's modules, run its tests on each mutant (or the last run's survivors); a row per module."""
    modules, tests = AREAS[area]
    previous = _previous(area, modules, report) if survivors_only else {}
    names = [name for outcome in previous.values() for name, code in outcome.items()
             if code not in KILLED | TIMEOUT]  # survived, no tests, or not tested (a run stopped early)  # fmt: skip
    work = _scratch(area, modules, tests)
    mutmut = shutil.which("mutmut") or str(Path(sys.executable).parent / "mutmut")
    started = time.perf_counter()
    with open(report / f"{area}.log", "w") as log:
        try:
            returncode = subprocess.run([mutmut, "run", "--max-children", str(children), *names], cwd=work,
                                        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **ENVIRONMENT},
                                        ).returncode  # fmt: skip
        except KeyboardInterrupt:  # stopped by hand: what was measured is kept, and --survivors goes on from it
            returncode = "stopped"
        if reaped := _reap(work):
            print(f"ended {reaped} processes left running in {work}", file=log)
    seconds = time.perf_counter() - started
    rows, survivors, outcomes = [], [], {}
    for module in modules:
        fresh = {name: code for name, code in _outcomes(work, module).items() if code is not None or name not in
                 previous.get(module, {})}  # fmt: skip
        outcome = outcomes[module] = {**previous.get(module, {}), **fresh}
        equivalent = [name for name in outcome if name in EQUIVALENT]
        live = [name for name, code in outcome.items() if code == SURVIVED or code in NO_TESTS]
        survivors += [name for name in live if name not in EQUIVALENT]
        timeouts = sum(code in TIMEOUT for code in outcome.values())
        killed = sum(code in KILLED for code in outcome.values()) + timeouts
        stale = [name for name in equivalent if outcome[name] in KILLED | TIMEOUT]
        not_run = sum(code is None for code in outcome.values())  # a run stopped before it reached them
        judged = len(outcome) - not_run - len(equivalent) + len(stale)
        rows.append({"area": area, "module": module, "mutants": len(outcome), "killed": killed, "timeout": timeouts,
                     "survived": sum(code == SURVIVED for code in outcome.values()),
                     "no_tests": sum(code in NO_TESTS for code in outcome.values()), "not_run": not_run,
                     "equivalent": len(equivalent) - len(stale), "stale_equivalent": len(stale),
                     "kill_rate": killed / judged if judged else float("nan"), "seconds": round(seconds),
                     "mutmut_rc": returncode})  # fmt: skip
    with open(report / f"{area}.survivors.txt", "w") as out:
        for name in survivors:
            out.write(_diff(work, mutmut, name) + "\n")
    stored = {"sources": _source_hashes(modules), "outcomes": outcomes}
    (report / f"{area}.outcomes.json").write_text(json.dumps(stored, indent=1, sort_keys=True))
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("areas", nargs="*", help=f"areas to run (default: all of {', '.join(AREAS)})")
    parser.add_argument("--children", type=int, default=1, help="mutants tested at once (default 1)")
    parser.add_argument("--report", type=Path, default=Path("mutation-report"), help="folder for logs and survivors")
    parser.add_argument("--keep", action="store_true", help="keep each area's scratch copy")
    parser.add_argument("--list", action="store_true", help="list the areas and stop")
    parser.add_argument("--survivors", action="store_true",
                        help="test only the mutants the last run (kept in --report) did not kill")
    args = parser.parse_args()
    # Ctrl-C stops an area and keeps what it measured, also where a shell started the script in the background
    # (which makes it ignore SIGINT): kill -INT reaches it the same way
    signal.signal(signal.SIGINT, signal.default_int_handler)
    unknown = sorted(set(args.areas) - set(AREAS))
    if unknown:
        parser.error(f"unknown areas {unknown}; choose from {list(AREAS)}")
    if args.list:
        for area, (modules, tests) in AREAS.items():
            print(f"{area}: mutates {' '.join(modules)}; runs {' '.join(tests)}")
        return
    import pandas as pd

    args.report.mkdir(parents=True, exist_ok=True)
    rows = []
    for area in args.areas or list(AREAS):
        rows += run_area(area, args.children, args.report, args.keep, args.survivors)
        print(pd.DataFrame(rows[-len(AREAS[area][0]):]).to_string(index=False, float_format="{:.2f}".format),
              flush=True)
    table = pd.DataFrame(rows)
    table["meets_target"] = table["kill_rate"] >= TARGET
    table.to_csv(args.report / "kill_rates.csv", index=False)
    print(f"\nKill rate per module (target {TARGET:.0%}); survivors' diffs in {args.report}")
    print(table.to_string(index=False, float_format="{:.2f}".format))


if __name__ == "__main__":
    main()
