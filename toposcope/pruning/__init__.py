"""Betti filter pruning: score conv filters by the topology of their feature maps, remove them.

The replicated paper (section 3.6) argues that a filter whose feature maps, over
many inputs, form a point cloud with a large Betti number scatters samples of
the same class, and can be removed.  This package

* scores every output channel of every ``nn.Conv2d`` (:func:`score_filters`), with
  the baselines :func:`l1_scores` (Li et al. 2017) and :func:`random_scores` taken
  from Torch-Pruning's importances (any of them: :func:`importance_scores`), and
  exposes the Betti score as a Torch-Pruning importance (:class:`BettiImportance`)
  -- modules :mod:`~toposcope.pruning.scores` and :mod:`~toposcope.pruning.importance`;
* removes filters physically, with Torch-Pruning's dependency graph so that the
  next layer's input channels, batch-norm channels and the slice of the first
  dense layer after a flatten go too (:func:`select_filters`,
  :func:`remove_filters`, :func:`prune`, :func:`prune_at_equal_budget`), and
  reloads pruned weights into the original architecture (:func:`load_pruned`)
  -- module :mod:`~toposcope.pruning.surgery`;
* measures size, accuracy and latency with :func:`toposcope.measure.compare`,
  re-exported here as :func:`compare`.

Every score table has one row per filter and a ``score`` column: the **removal
priority** (higher is removed first).  For the Betti criterion it is the Betti
number; for L1 it is minus the filter's L1 norm; for random, a random number.
"""

from ..measure import compare, state_dict_bytes
from .importance import importance_scores, l1_scores, random_scores
from .scores import check_scores_match, conv_layers, feature_maps, model_fingerprint, score_filters
from .shape import CRITERIA, output_modules, shape_scores
from .surgery import load_pruned, prune, prune_at_equal_budget, remove_filters, select_filters

__all__ = [
    "CRITERIA",
    "BettiImportance",
    "check_scores_match",
    "compare",
    "conv_layers",
    "feature_maps",
    "importance_scores",
    "l1_scores",
    "load_pruned",
    "model_fingerprint",
    "output_modules",
    "prune",
    "prune_at_equal_budget",
    "random_scores",
    "remove_filters",
    "score_filters",
    "select_filters",
    "shape_scores",
    "state_dict_bytes",
]


def __getattr__(name: str):
    """:class:`BettiImportance` is imported on first use: it subclasses Torch-Pruning's ``Importance``."""
    if name == "BettiImportance":
        from .tp_importance import BettiImportance

        return BettiImportance
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
