"""toposcope: see how a neural network simplifies the topology of its data.

Public API
----------
Activations
    :func:`topo_sine`, :class:`TopoSine`, :func:`get_activation`, ``ACTIVATIONS``
Topology
    :func:`betti_numbers`, :func:`persistence`, :class:`BettiResult`,
    :func:`subsample`, :func:`knn_hop_matrix`, :class:`SubsampleWarning`
Tracking
    :class:`BettiTracker`, :func:`activation_layers`, :func:`plot_betti_profile`,
    :func:`plot_betti_epochs`, :func:`plot_barcode`
Pruning
    ``toposcope.pruning`` (:func:`~toposcope.pruning.score_filters`,
    :class:`~toposcope.pruning.BettiImportance`, :func:`~toposcope.pruning.prune`,
    :func:`~toposcope.pruning.compare`, baselines and helpers)
Data, models, training
    ``toposcope.datasets`` (:func:`nine_rings`, :func:`nine_spheres`,
    :func:`fashion_mnist`), :class:`MLP`, :class:`PaperCNN`, :func:`fit`,
    :func:`evaluate`, :class:`History`
"""

from . import datasets, pruning, shapes
from .activations import ACTIVATIONS, TopoSine, get_activation, topo_sine
from .datasets import fashion_mnist, nine_rings, nine_spheres
from .models import MLP, PaperCNN
from .plotting import plot_barcode, plot_betti_epochs, plot_betti_profile
from .topology import BettiResult, SubsampleWarning, betti_numbers, knn_hop_matrix, persistence, subsample
from .tracker import BettiTracker, activation_layers
from .training import History, evaluate, fit

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "BettiResult",
    "BettiTracker",
    "History",
    "PaperCNN",
    "SubsampleWarning",
    "TopoSine",
    "activation_layers",
    "betti_numbers",
    "datasets",
    "evaluate",
    "fashion_mnist",
    "fit",
    "get_activation",
    "knn_hop_matrix",
    "nine_rings",
    "nine_spheres",
    "persistence",
    "plot_barcode",
    "plot_betti_epochs",
    "plot_betti_profile",
    "pruning",
    "shapes",
    "subsample",
    "topo_sine",
]
