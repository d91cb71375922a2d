"""Experiments behind the book's chapters, runnable from the command line.

Each experiment writes one JSON line per finished run to a results file, keyed by
its parameters (:class:`ResultStore`): an interrupted sweep resumes where it stopped
and never recomputes or loses a finished run.

* ``python -m toposcope.experiments.mlp`` -- the activation experiments (chapter 3).
* ``python -m toposcope.experiments.pruning`` -- Betti filter pruning against L1 and
  random pruning at equal budget (Fashion-MNIST, ``PaperCNN``; chapter 4).

Sizes live in :mod:`~toposcope.experiments.profiles`.  The results are judged by
:mod:`toposcope.claims`, which this package never imports.
"""

from .store import ResultStore

__all__ = ["ResultStore"]
