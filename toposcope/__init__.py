"""toposcope: see how a neural network simplifies the topology of its data.

Public API
----------
Activations
    :func:`topo_sine`, :class:`TopoSine`, :func:`get_activation`, ``ACTIVATIONS``
Topology
    :func:`betti_numbers`, :func:`betti_curve`, :func:`betti_numbers_many`, :func:`persistence`,
    :func:`betti_sensitivity`, :func:`layer_readings` and the other readings of :mod:`toposcope.readings`,
    :class:`BettiResult`,
    :func:`subsample`, :func:`knn_hop_matrix`, :func:`knn_hop_graph`, :class:`SubsampleWarning`
Tracking
    :class:`BettiTracker`, :func:`activation_layers`, :func:`plot_betti_profile`, :func:`frames_html`,
    :func:`live_explorer`, :func:`plot_betti_epochs`, :func:`plot_betti_grid`, :func:`plot_barcode`,
    :func:`plot_barcodes`
Pruning
    ``toposcope.pruning`` (:func:`~toposcope.pruning.score_filters`,
    :class:`~toposcope.pruning.BettiImportance`, :func:`~toposcope.pruning.prune`,
    :func:`~toposcope.pruning.compare`, baselines and helpers)
Data, models, training, measuring
    ``toposcope.datasets`` (:func:`nine_rings`, :func:`nine_spheres`,
    :func:`fashion_mnist`, :func:`cifar10`, :func:`cats_vs_dogs`), :class:`MLP`, :class:`PaperCNN`, activation layouts
    (:class:`Layout`, ``LAYOUTS``), :func:`fit`, :class:`History`,
    :func:`train_many`, :func:`evaluate`, :func:`compare`,
    :func:`state_dict_bytes`
Experiments and their analysis
    ``toposcope.experiments`` (imported on demand)
"""

from . import datasets, pruning, shapes
from .activations import ACTIVATIONS, TopoSine, get_activation, topo_sine
from .batched import ModelSpec, train_many
from .clouds import SmallCloudWarning, SubsampleWarning, subsample
from .datasets import cats_vs_dogs, cifar10, fashion_mnist, nine_rings, nine_spheres
from .hops import knn_hop_graph, knn_hop_matrix
from .layouts import LAYOUTS, ActivationSpec, Layout, get_layout
from .linkage import merge_scale
from .measure import compare, evaluate, state_dict_bytes
from .models import MLP, PaperCNN
from .plotting import (
    book_style,
    frames_html,
    live_explorer,
    plot_barcode,
    plot_barcodes,
    plot_betti_epochs,
    plot_betti_grid,
    plot_betti_profile,
)
from .readings import (
    class_components,
    cross_class_share,
    gaussian_null,
    layer_readings,
    long_bars,
    nn_scale,
    shuffled_labels,
)
from .sensitivity import betti_sensitivity, stable_k
from .topology import BettiResult, betti_curve, betti_numbers, persistence
from .tracker import BettiTracker, activation_layers
from .training import History, fit
from .workers import betti_numbers_many

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "LAYOUTS",
    "MLP",
    "ActivationSpec",
    "BettiResult",
    "BettiTracker",
    "History",
    "Layout",
    "ModelSpec",
    "PaperCNN",
    "SmallCloudWarning",
    "SubsampleWarning",
    "TopoSine",
    "activation_layers",
    "betti_curve",
    "betti_numbers",
    "betti_numbers_many",
    "betti_sensitivity",
    "book_style",
    "cats_vs_dogs",
    "cifar10",
    "class_components",
    "compare",
    "cross_class_share",
    "datasets",
    "evaluate",
    "fashion_mnist",
    "fit",
    "frames_html",
    "gaussian_null",
    "get_activation",
    "get_layout",
    "knn_hop_graph",
    "knn_hop_matrix",
    "layer_readings",
    "live_explorer",
    "long_bars",
    "merge_scale",
    "nine_rings",
    "nine_spheres",
    "nn_scale",
    "persistence",
    "plot_barcode",
    "plot_barcodes",
    "plot_betti_epochs",
    "plot_betti_grid",
    "plot_betti_profile",
    "pruning",
    "shapes",
    "shuffled_labels",
    "stable_k",
    "state_dict_bytes",
    "subsample",
    "topo_sine",
    "train_many",
]
