"""Experiments behind the book's chapters, runnable from the command line.

Each experiment writes one JSON line per finished run to a results file, keyed by
its parameters (:class:`ResultStore`): an interrupted sweep resumes where it stopped
and never recomputes or loses a finished run.

* ``python -m toposcope.experiments.pruning`` -- Betti filter pruning against L1 and
  random pruning at equal budget (Fashion-MNIST, ``PaperCNN``).
"""

from .store import ResultStore

__all__ = ["ResultStore"]
