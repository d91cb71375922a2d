"""Experiments behind the book's chapters, runnable from the command line, and their analysis.

Each experiment writes one JSON line per finished run to a results file, keyed by
its parameters (:class:`ResultStore`): an interrupted sweep resumes where it stopped
and never recomputes or loses a finished run.

* ``python -m toposcope.experiments.mlp`` -- the activation experiments (chapter 3).
* ``python -m toposcope.experiments.pruning`` -- Betti filter pruning against L1 and
  random pruning at equal budget (Fashion-MNIST, ``PaperCNN``; chapter 4).
* ``python -m toposcope.experiments.verdicts`` -- every claim of the paper judged
  from the committed results (the replication report).

Sizes live in :mod:`~toposcope.experiments.profiles`; tables in
:mod:`~toposcope.experiments.analysis`; censoring-aware statistics in
:mod:`~toposcope.experiments.survival`; the rules in
:mod:`~toposcope.experiments.verdicts`.
"""

from .store import ResultStore

__all__ = ["ResultStore"]
