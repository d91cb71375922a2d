"""Every size the experiments and the book's chapters use, per profile, in one place.

``"smoke"`` is small enough for CI on two CPU cores; ``"full"`` is the paper's scale
(meant for a GPU).  The experiments read :data:`MLP` and :data:`PRUNING`; a
chapter reads its own sizes with :func:`chapter_sizes`.
"""

from __future__ import annotations

import argparse
import copy
from typing import Any

from ..layouts import LAYOUTS

__all__ = [
    "CHAPTERS",
    "CNN",
    "FULL_BATCH",
    "MLP",
    "PRUNING",
    "SPARSITY",
    "chapter_sizes",
    "check_names",
    "experiment_parser",
]

FULL_BATCH = "full"
"""The batch size that means "the whole training set"."""

_CLEAN_SPHERES: dict[str, Any] = {
    "experiments": ["convergence"], "sizes": {"spheres": (16_000, 2000)}, "seeds": list(range(25)),
    "activations": ["relu", "topo_sine_mid", "topo_sine_mid_relu"], "target": 0.99, "lr": 3e-3, "batch_size": 128,
}  # fmt: skip
"""The clean spheres' headline convergence runs, 25 seeds; the longer-budget profiles add ``epochs``."""

MLP: dict[str, dict[str, Any]] = {
    "smoke": {
        "sizes": {"rings": (4000, 1000)}, "seeds": [0, 1], "epochs": 20, "target": 0.9, "lr": 3e-3,
        "batch_size": 128, "activations": list(LAYOUTS),
        "batch_sweep": {"datasets": ["rings"], "sizes": {32: 8, 256: 30, FULL_BATCH: 150}, "eval_every": 5},
        "lr_sweep": {"datasets": ["rings"], "rates": [1e-3, 3e-3, 1e-2]},
        "sweep_activations": ["relu", "topo_sine", "topo_sine_mid"],
        "betti": {"datasets": ["rings"], "epochs": [0, 5, 10, 20], "seeds": [0], "samples_per_class": 500},
        "fashion": {"train": 2000, "test": 1000, "epochs": 2, "seeds": [0],
                    "widths": {"narrow": [25] * 9, "wide": [128] * 3}},
    },
    "full": {
        "sizes": {"rings": (16_000, 2000), "spheres": (16_000, 2000)}, "seeds": list(range(10)),
        "convergence_seeds": list(range(10)), "epochs": 60,
        "convergence_extra": {"layouts": ["relu", "topo_sine_mid", "topo_sine_mid_relu"], "seeds": list(range(25))},
        "target": 0.99, "lr": 3e-3, "batch_size": 128, "activations": list(LAYOUTS),
        "batch_sweep": {"datasets": ["rings"], "sizes": {32: 40, 256: 100, FULL_BATCH: 1500}, "eval_every": 10},
        "lr_sweep": {"datasets": ["rings"], "rates": [1e-3, 3e-3, 1e-2]},
        "sweep_activations": ["relu", "topo_sine", "topo_sine_mid"],
        "betti": {"datasets": ["rings", "spheres"], "epochs": [0, 5, 10, 20, 40, 60],
                  "seeds": {"rings": [0, 1, 2, 3, 4], "spheres": [0]}, "samples_per_class": 1000},
        "fashion": {"train": 20_000, "test": 10_000, "epochs": 10, "seeds": [0, 1, 2, 3, 4],
                    "widths": {"narrow": [25] * 9, "wide": [500] * 3}},
    },
    "naitzat": {
        "experiments": ["convergence"], "sizes": {"rings_naitzat": (16_000, 2000), "spheres_naitzat": (16_000, 2000)},
        "seeds": list(range(10)),
        "activations": ["relu", "topo_sine_mid", "topo_sine_mid_relu", "topo_sine", "topo_sine_relu"],
        "convergence_extra": {"layouts": ["relu", "topo_sine_mid", "topo_sine_mid_relu"], "seeds": list(range(25))},
        "epochs": 60, "epochs_by_dataset": {"spheres_naitzat": 100}, "target": 0.99,
        "targets": {"rings_naitzat": 0.95}, "lr": 3e-3, "batch_size": 128,
    },
    "sweeps": {
        "experiments": ["batch_size", "learning_rate"], "sizes": {"rings": (16_000, 2000)}, "seeds": list(range(10)),
        "epochs": 100, "target": 0.99, "lr": 3e-3, "batch_size": 128, "sweep_activations": ["relu", "topo_sine_mid"],
        "batch_sweep": {"datasets": ["rings"], "sizes": {b: 150 for b in (32, 64, 128, 256, 512, 1024)},
                        "eval_every": 1},
        "lr_sweep": {"datasets": ["rings"], "rates": [3e-4, 1e-3, 3e-3, 6e-3], "epochs": {3e-4: 200, 6e-3: 600}},
    },
    "spheres_long": {**_CLEAN_SPHERES, "epochs": 200},
    "spheres_500": {**_CLEAN_SPHERES, "epochs": 500},
    "topology": {
        "experiments": ["betti"], "sizes": {"rings": (16_000, 2000), "spheres": (16_000, 2000)},
        "lr": 3e-3, "batch_size": 128, "sweep_activations": ["relu", "topo_sine_mid", "topo_sine_mid_relu"],
        "betti": {"datasets": ["rings", "spheres"], "epochs": [0, 5, 10, 20, 40, 60], "seeds": [0, 1, 2, 3, 4],
                  "samples_per_class": None, "maxdim": {"rings": 1, "spheres": 2}, "n_jobs": 2},
    },
    "topology_null": {
        "experiments": ["betti"], "sizes": {"spheres": (16_000, 2000)},
        "lr": 3e-3, "batch_size": 128, "sweep_activations": ["relu", "topo_sine_mid"],
        "betti": {"datasets": ["spheres"], "epochs": [0, 60], "seeds": [0], "samples_per_class": None,
                  "maxdim": {"spheres": 2}, "n_jobs": 2, "null": True},
    },
}  # fmt: skip
"""Sizes of :mod:`toposcope.experiments.mlp`.

``"naitzat"`` re-runs the convergence experiment (``--only convergence``) on Naitzat
et al.'s geometry.  Its rings overlap where neighbouring bands meet: a
15-nearest-neighbour classifier fitted on the 16,000 training points scores 0.98 on
the test points, and four trial MLPs plateaued at 0.975-0.98 training accuracy, so a
99% target would time nothing but censoring.  The target there is 95%, fixed from
that ceiling before the runs; the spheres keep 99% with a longer budget (100 epochs)
to keep censoring low.

``"spheres_long"`` re-runs the clean spheres' convergence runs of ``"full"`` (same
seeds, so the same initial weights and data order) with a 200-epoch budget instead
of 60, for the three layouts the headline compares: at 60 epochs 60-88% of those
runs are censored.  ``"spheres_500"`` gives the same runs 500 epochs, sized for a
GPU (``--device cuda``: 0.87 s an epoch for all 75 networks on an H100, measured); a
GPU rounds differently from the CPU, so its runs are new draws of the same seeds, not
continuations.

``"sweeps"`` re-runs the batch-size and learning-rate experiments of ``"full"`` as designs
that can test their claims: every batch size at **one equal budget** (150 epochs;
full batch left out, since it needs 220-850 epochs at ``"full"``'s learning rate),
and a learning-rate grid whose cells train (``"full"``'s 0.01 left 9 of 10 runs of
each arm censored, many at the majority share: beyond the rate at which these
networks train), with longer budgets at the extreme rates (``lr_sweep`` ``epochs``).  At
6e-3 a 200-epoch budget left 4 of 10 sine runs censored, on a plateau at 0.98 (not dead), so
that rate's budget was raised to 600 epochs and its runs made again (the rules unchanged).

``"topology"`` runs only the Betti experiment (``experiments`` lists what a profile
holds), on every training point of a class (``samples_per_class`` ``None``: 8,000 per
class on rings, 5,333 and 10,667 on spheres), where the input layer reads the true
(9, 9), (9, 0, 9) and (18, 0, 18); 1,000-point draws of the spheres do not (see
:mod:`toposcope.experiments.geometry`).  ``maxdim`` per data set counts voids on the
spheres; ``n_jobs`` worker processes compute a profile's clouds.

``"topology_null"`` re-runs one of those seeds on the nine spheres for ReLU and
topo_sine_mid (same initial weights and data order; the training code has changed since the
``"topology"`` runs, so the trained networks differ from theirs), checkpoints 0 and 60 only,
and reads beside every cloud its null model: a Gaussian cloud with the cloud's mean and covariance and as many points
(``BettiTracker(null=True)``), so that chapter 3 can show which counts a cloud with no
shape reads too.  One seed, because the nulls cost: a Gaussian cloud of 10,000 points in
25 dimensions builds a far larger complex than a trained layer (13 and 23 minutes a network
on 2 cores, where a network of the topology profile took about 1)."""

PRUNING: dict[str, dict[str, Any]] = {
    "smoke": {
        "train_images": 1024, "test_images": 1000, "epochs": 1, "channels": (8, 16, 16), "dense": 32,
        "n_samples": 200, "rules": ["ratio=0.25", "ratio=0.5"], "seeds": [0], "random_seeds": [0],
        "finetune_images": 512, "finetune_epochs": 1, "latency_repeats": 3,
    },
    "full": {
        "train_images": 20_000, "test_images": 10_000, "epochs": 3, "channels": (32, 64, 64), "dense": 64,
        "n_samples": 500, "rules": ["threshold=300", "ratio=0.25", "ratio=0.5"], "seeds": [0, 1, 2],
        "random_seeds": [0, 1, 2], "finetune_images": 5_000, "finetune_epochs": 1, "latency_repeats": 10,
    },
}  # fmt: skip
"""Sizes of :mod:`toposcope.experiments.pruning`."""

CNN: dict[str, dict[str, Any]] = {
    "smoke": {
        "train_images": 1000, "test_images": 500, "epochs": 2, "lr": 1e-3, "batch_size": 64, "seeds": [0],
        "layouts": ["relu", "topo_sine_mid"], "channels": (8, 16, 16), "dense": 32,
        "betti_epochs": [0, 2], "samples_per_class": 40, "ks": [8, 14],
        "readings": {"sizes": [20, 40], "k": 10, "tau": 3.0, "bar_points": [10, 20]},
    },
    "full": {
        "train_images": 12_000, "test_images": 10_000, "epochs": 6, "lr": 1e-3, "batch_size": 128,
        "seeds": [0, 1, 2, 3, 4], "layouts": ["relu", "topo_sine_mid", "topo_sine_mid_relu"],
        "channels": (32, 64, 64), "dense": 64, "betti_epochs": [0, 1, 6], "samples_per_class": 300, "ks": [5, 14],
        "n_jobs": 2,
    },
    "readings": {
        "train_images": 12_000, "test_images": 10_000, "epochs": 3, "lr": 1e-3, "batch_size": 128,
        "seeds": [0, 1, 2, 3, 4], "layouts": ["relu", "topo_sine_mid", "topo_sine_mid_relu"],
        "channels": (32, 64, 64), "dense": 64, "betti_epochs": [0, 3], "ks": [],
        "readings": {"sizes": [250, 500, 1000], "k": 10, "tau": 3.0, "bar_points": [50, 100],
                     "pairs": [[0, 6], [1, 8]]},
    },
    "readings_gpu": {
        "train_images": 60_000, "test_images": 10_000, "epochs": 10, "lr": 1e-3, "batch_size": 128,
        "seeds": list(range(10)), "layouts": ["relu", "topo_sine_mid", "topo_sine_mid_relu"],
        "channels": (32, 64, 64), "dense": 64, "betti_epochs": [0, 1, 10], "ks": [],
        "readings": {"sizes": [250, 1000, 4000], "k": 10, "tau": 3.0, "bar_points": [100, 300],
                     "pairs": [[0, 6], [1, 8]]},
    },
}  # fmt: skip
"""Sizes of :mod:`toposcope.experiments.cnn`.  ``"full"`` is sized for one session on a 2-core CPU
(a GPU takes the paper's 60,000 images with ``train_images``); the seeds run in order, so
three seeds are complete before the fourth starts.  ``n_jobs`` (default 1) worker processes
compute a Betti checkpoint's clouds (the numbers do not depend on it).

``"readings"`` and ``"readings_gpu"`` record, instead of the fixed-scale Betti numbers
(``ks`` empty), the readings that can move (:func:`toposcope.layer_readings`): class
separation (the share of kNN edges between classes, k = 10, and the merge scale) on
``sizes`` training images a class, nested draws, against shuffled labels, for all ten
classes and for two pairs (T-shirt/top vs shirt, the hardest; trouser vs bag, an easy
one); long persistence bars per class (at each of ``bar_points`` images, nested) against
a Gaussian cloud.  ``"readings"`` is sized for a 2-core CPU session (1,000 images a class,
3 epochs on 12,000 images); ``"readings_gpu"`` is the size for a GPU (all 60,000 images,
10 epochs, up to 4,000 images a class: a 6.4 GB distance matrix per layer)."""

SPARSITY: dict[str, dict[str, Any]] = {
    "smoke": {
        "train_images": 1024, "test_images": 500, "epochs": 1, "seeds": [0], "layouts": ["relu"],
        "per_class": 10, "tau": 3.0, "fractions": [0.25, 0.5], "scopes": ["layer", "global"],
        "finetune_images": 512, "held_out_images": 256, "finetune_epochs": 2, "patience": 1, "latency_repeats": 3,
    },
    "full": {
        "train_images": 30_000, "test_images": 5000, "epochs": 5, "seeds": [0, 1, 2],
        "layouts": ["relu", "topo_sine_mid"], "per_class": 50, "tau": 3.0, "fractions": [0.1, 0.3, 0.5, 0.7],
        "finetune_images": 5000, "finetune_epochs": 1, "latency_repeats": 10,
    },
    "converged": {
        "train_images": 59_000, "test_images": 5000, "epochs": 4, "seeds": [0, 1, 2],
        "layouts": ["relu", "topo_sine_mid"], "per_class": 50, "tau": 3.0, "fractions": [0.1, 0.3, 0.5, 0.7],
        "scopes": ["layer", "global"], "finetune_images": 2000, "held_out_images": 1000, "finetune_epochs": 6,
        "patience": 2, "latency_repeats": 5,
    },
}  # fmt: skip
"""Sizes of :mod:`toposcope.experiments.sparsity` (``"full"`` and ``"converged"`` sized for a 2-core CPU
session).  ``"full"`` fine-tunes each pruned model one epoch and prunes each layer alike;
``"converged"`` trains on every training image but ``held_out_images``, fine-tunes to convergence
(at most ``finetune_epochs``, stopping after ``patience`` epochs without gain on the held-out
images, which are neither trained on nor reported on) and prunes per layer and globally
(``scopes``)."""

CHAPTERS: dict[str, dict[str, dict[str, Any]]] = {
    "topology": {
        "smoke": {"epochs": 8, "sensitivity_points": [50, 100, 200, 400, 800], "scatter_points": 3000},
        "full": {"epochs": 40, "sensitivity_points": [50, 100, 200, 400, 800, 1600], "scatter_points": 8000},
    },
    "activation": {"smoke": {"random_layers": 100}, "full": {"random_layers": 2000}},
    "cnn": {
        "smoke": {"train_images": 3000, "epochs": 2, "layer": "act3", "ks": [4, 6, 8, 14, 20, 30],
                  "sizes": [50, 100, 200, 300, 500]},
        "full": {"train_images": 60_000, "epochs": 10, "layer": "act3", "ks": [4, 6, 8, 14, 20, 30, 50],
                 "sizes": [50, 100, 200, 300, 500, 1000, 2000]},
    },
    "pruning": {
        "smoke": {"train_images": 3000, "epochs": 1, "per_class": 30},
        "full": {"train_images": 20_000, "epochs": 3, "per_class": 50},
    },
}  # fmt: skip
"""Sizes of the computations the chapters run themselves (not from stored results)."""


def chapter_sizes(chapter: str, profile: str) -> dict[str, Any]:
    """A copy of the sizes of one chapter (a key of :data:`CHAPTERS`) in one profile."""
    if chapter not in CHAPTERS:
        raise ValueError(f"unknown chapter {chapter!r}; chapters with sizes: {sorted(CHAPTERS)}")
    if profile not in CHAPTERS[chapter]:
        raise ValueError(f"unknown profile {profile!r}; choose from {sorted(CHAPTERS[chapter])}")
    return copy.deepcopy(CHAPTERS[chapter][profile])


def check_names(what: str, names: Any, allowed: Any) -> None:
    """Raise a ``ValueError`` naming ``what`` if any of ``names`` is not among ``allowed``."""
    unknown = set(names) - set(allowed)
    if unknown:
        raise ValueError(f"unknown {what} {sorted(map(str, unknown))}; choose from {sorted(map(str, allowed))}")


def experiment_parser(doc: str, profiles: dict[str, Any], name: str) -> argparse.ArgumentParser:
    """The command line every experiment shares: ``--profile``, ``--out`` and ``--data-root``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--profile", choices=sorted(profiles), default="smoke")
    parser.add_argument("--out", help=f"results file (.jsonl); default data/results/{name}_<profile>.jsonl")
    parser.add_argument("--data-root", help="folder with the Fashion-MNIST .gz files")
    return parser
