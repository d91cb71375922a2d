"""Append-only, resumable storage of experiment results: one JSON line per finished run."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["ResultStore"]


def _key(params: Mapping[str, Any]) -> str:
    return json.dumps(dict(params), sort_keys=True, default=str)


class ResultStore:
    """Results of finished runs in a JSON-lines file, keyed by the runs' parameters.

    Parameters
    ----------
    path : str or Path
        The ``.jsonl`` file; created (with its folder) on the first :meth:`add`.

    Examples
    --------
    >>> store = ResultStore("data/results/sweep.jsonl")        # doctest: +SKIP
    >>> for params in grid:
    ...     if params in store:
    ...         continue                                       # finished in an earlier session
    ...     store.add(params, run(**params))
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._records: dict[str, dict[str, Any]] = {}
        lines = self.path.read_text().splitlines() if self.path.exists() else []
        for n, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                if n == len(lines):
                    continue  # a run interrupted while writing its line: it runs again
                raise ValueError(f"{self.path}:{n} is not valid JSON") from None
            self._records[_key(record["params"])] = record

    def __contains__(self, params: Mapping[str, Any]) -> bool:
        return _key(params) in self._records

    def __len__(self) -> int:
        return len(self._records)

    def add(self, params: Mapping[str, Any], result: Mapping[str, Any]) -> None:
        """Record a finished run (written and flushed at once)."""
        record = {"params": dict(params), "result": dict(result)}
        self._records[_key(params)] = record
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as f:
            f.write(json.dumps(record, default=float) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def frame(self) -> pd.DataFrame:
        """All runs as a flat table: parameter columns, then result columns."""
        rows = [{**r["params"], **r["result"]} for r in self._records.values()]
        return pd.DataFrame(rows)
