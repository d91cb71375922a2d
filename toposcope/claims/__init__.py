"""The judge: every table, statistic and verdict the book shows, computed from stored results.

The grids of :mod:`toposcope.experiments` produce results; this package reads them
and never runs an experiment (the import contract in ``pyproject.toml`` keeps the
grids from importing it).

* :mod:`~toposcope.claims.rules` -- the verdict words, the interval methods and the
  thresholds, each with its provenance;
* :mod:`~toposcope.claims.survival` -- epochs to a target as censored time-to-event data;
* :mod:`~toposcope.claims.analysis` and :mod:`~toposcope.claims.pruning_tables` -- the
  tables the chapters show;
* :mod:`~toposcope.claims.verdicts` (the MLP claims and the report) and
  :mod:`~toposcope.claims.image_claims` (CNN and pruning claims).

``python -m toposcope.claims.verdicts`` prints the report of the committed results;
``--readme`` writes its findings into README.md.
"""
