"""Where the cells of an experiment grid run: in this process, or as Ray tasks on a local or remote cluster.

A grid is a list of :class:`Cell` objects: the parameter sets of the runs a cell
makes, and a function that makes the ones still to do.  Whatever the backend, the
driver alone claims runs in the :class:`~toposcope.experiments.ResultStore` and
writes their results as they come back, so a sweep stays resumable and a run is
never made twice (not even by two drivers sharing one results file).

``backend="ray"`` needs Ray (``pip install toposcope[cluster]``).  Without an
``address`` it starts a Ray instance on this machine; with one (``"auto"``, or
``"ray://head:10001"``) it joins an existing cluster.  Each cell is one task that
asks for ``num_cpus`` CPUs and ``num_gpus`` GPUs.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .store import ResultStore, run_key

__all__ = ["BACKENDS", "Cell", "add_backend_arguments", "run_cells"]

BACKENDS = ("local", "ray")


@dataclass(frozen=True)
class Cell:
    """One cell of a grid: ``work(todo)`` returns one result per parameter set of ``todo``, in order."""

    candidates: Sequence[dict[str, Any]]
    work: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


def _store_results(store: ResultStore, todo: list[dict[str, Any]], results: list[dict[str, Any]]) -> None:
    if len(results) != len(todo):
        raise RuntimeError(f"a grid cell returned {len(results)} results for {len(todo)} runs")
    for params, result in zip(todo, results, strict=True):
        store.add(params, result)


def _call(work: Callable, todo: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return work(todo)


def run_cells(store: ResultStore, cells: Sequence[Cell], backend: str = "local", *, address: str | None = None,
              num_cpus: float = 1, num_gpus: float = 0) -> int:  # fmt: skip
    """Make every run of ``cells`` that the store does not hold yet; return how many were made.

    Parameters
    ----------
    store : ResultStore
    cells : sequence of Cell
        A run listed by several cells is made once, by the first.
    backend : {"local", "ray"}, default "local"
        ``"local"``: one cell after the other, in this process.  ``"ray"``: every
        cell at once as a Ray task; results are stored as tasks finish.
    address : str, optional
        Ray cluster to join (``ray.init(address=...)``); default a local instance.
    num_cpus, num_gpus : float
        Resources one Ray task asks for.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}; got {backend!r}")
    if backend == "local":
        made = 0
        for cell in cells:
            with store.claim(cell.candidates) as todo:
                if todo:
                    _store_results(store, todo, cell.work(todo))
                    made += len(todo)
        return made
    try:
        import ray
    except ImportError as error:
        raise ImportError("backend='ray' needs Ray: pip install 'toposcope[cluster]' (or pip install ray)") from error
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    task = ray.remote(num_cpus=num_cpus, num_gpus=num_gpus)(_call)
    with store.claim([params for cell in cells for params in cell.candidates]) as claimed:
        left = {run_key(params) for params in claimed}
        pending = {}
        for cell in cells:
            todo = [params for params in cell.candidates if run_key(params) in left]
            left -= {run_key(params) for params in todo}
            if todo:
                pending[task.remote(cell.work, todo)] = todo
        made = 0
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            todo = pending.pop(done[0])
            _store_results(store, todo, ray.get(done[0]))
            made += len(todo)
    return made


def add_backend_arguments(parser: argparse.ArgumentParser) -> None:
    """``--backend``, ``--address``, ``--num-cpus`` and ``--num-gpus`` on an experiment's command line."""
    parser.add_argument("--backend", choices=BACKENDS, default="local", help="where the grid's cells run")
    parser.add_argument("--address", help="Ray cluster to join (e.g. auto, ray://head:10001); default a local one")
    parser.add_argument("--num-cpus", type=float, default=1, help="CPUs one Ray task asks for")
    parser.add_argument("--num-gpus", type=float, default=0, help="GPUs one Ray task asks for")
