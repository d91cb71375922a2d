"""Append-only, resumable storage of experiment results: one JSON line per finished run.

What the store guarantees:

* A finished run, once :meth:`ResultStore.add` returns, is on disk (flushed and
  fsync'ed) and is never lost: a later writer killed mid-line (or a full disk)
  leaves a torn last line, which the next open cuts off and keeps beside the
  file (``<name>.torn``), so new runs are never appended onto a fragment.
* Parameters are keys: numpy scalars are stored as the plain numbers they print
  as (``np.float32(0.1)`` is ``0.1``), so a resumed sweep finds its runs.
* A record that cannot be written as strict JSON (an unknown object) raises
  before anything is stored; NaN and infinities are stored as ``null``; numpy
  arrays as lists.
* Several processes can run one sweep on one store: :meth:`ResultStore.claim`
  hands each run to one process only (a file lock per run, released when the
  process ends, even by a crash), and appends are serialised by a lock on the
  file.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import math
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ResultStore", "plain", "run_key", "stored_note"]


def plain(value: Any) -> Any:
    """``value`` as plain JSON data: numpy scalars and arrays converted, NaN/inf as ``None``.

    Raises
    ------
    TypeError
        For objects JSON cannot represent (naming their type).
    """
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [plain(v) for v in (value.tolist() if isinstance(value, np.ndarray) else value)]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(str(value)) if isinstance(value, np.floating) else value  # shortest form: 0.1, not 0.1000000015
        return number if math.isfinite(number) else None
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"cannot store a {type(value).__name__} in a result ({value!r:.60}); convert it to numbers first")


def run_key(params: Mapping[str, Any]) -> str:
    """The key a run is stored and claimed under: its parameters as canonical JSON."""
    return json.dumps(plain(params), sort_keys=True)


class ResultStore:
    """Results of finished runs in a JSON-lines file, keyed by the runs' parameters.

    Parameters
    ----------
    path : str or Path
        The ``.jsonl`` file; created (with its folder) on the first :meth:`add`.

    Raises
    ------
    ValueError
        If a line other than the last is not valid JSON (the file was edited or
        damaged by something other than this class).

    Examples
    --------
    >>> store = ResultStore("data/results/sweep.jsonl")        # doctest: +SKIP
    >>> with store.claim(grid) as todo:                         # runs not finished, not running elsewhere
    ...     for params in todo:
    ...         store.add(params, run(**params))
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._records: dict[str, dict[str, Any]] = {}
        self._offset = self._lines = 0
        self._claims: dict[str, Any] = {}
        if self.path.exists():
            try:
                with self._locked():
                    self._repair()
                    self._read_new()
            except PermissionError:  # a read-only location: read the complete lines, repair nothing
                self._read_new()

    # -- reading -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold an exclusive lock on the results file (its ``.lock`` companion) for the block."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _repair(self) -> None:
        """Cut a torn last line off the file, keeping it in ``<name>.torn``."""
        data = self.path.read_bytes()
        if not data or data.endswith(b"\n"):
            return
        cut = data.rfind(b"\n") + 1
        tail = data[cut:]
        try:
            json.loads(tail)
        except ValueError:
            with open(self.path.with_name(self.path.name + ".torn"), "ab") as f:
                f.write(tail + b"\n")
            os.truncate(self.path, cut)
            warnings.warn(f"{self.path}: cut off a torn last line ({len(tail)} bytes, kept in .torn); "
                          "that run will run again", stacklevel=3)  # fmt: skip
        else:
            with open(self.path, "ab") as f:  # a complete record whose newline was not written
                f.write(b"\n")

    def _read_new(self) -> None:
        """Read the lines other writers appended since the last read."""
        if not self.path.exists():
            return
        with open(self.path, "rb") as f:
            f.seek(self._offset)
            data = f.read()
        end = data.rfind(b"\n") + 1
        for n, line in enumerate(data[:end].split(b"\n")[:-1], start=self._lines + 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                raise ValueError(f"{self.path}:{n} is not valid JSON") from None
            self._records.setdefault(run_key(record["params"]), record)
        self._offset += end
        self._lines += data[:end].count(b"\n")

    def __contains__(self, params: Mapping[str, Any]) -> bool:
        return run_key(params) in self._records

    def __len__(self) -> int:
        return len(self._records)

    # -- writing -------------------------------------------------------------------------------

    def add(self, params: Mapping[str, Any], result: Mapping[str, Any]) -> None:
        """Record a finished run: checked, written, flushed and fsync'ed, then counted as done.

        Raises
        ------
        TypeError
            If ``params`` or ``result`` hold something JSON cannot store; nothing is recorded.
        """
        record = {"params": plain(params), "result": plain(result)}
        line = json.dumps(record, allow_nan=False) + "\n"
        key = run_key(params)
        with self._locked():
            self._read_new()
            if key not in self._records:
                with open(self.path, "a") as f:
                    f.write(line)
                    f.flush()
                    os.fsync(f.fileno())
                self._offset += len(line.encode())
                self._lines += 1
                self._records[key] = record
        self._release(key)

    @contextlib.contextmanager
    def claim(self, runs: Iterable[Mapping[str, Any]]) -> Iterator[list[dict[str, Any]]]:
        """Claim the runs that are neither finished nor being run by another process.

        Yields the claimed parameter sets (in order); each stays claimed until it is
        :meth:`add`-ed or the ``with`` block ends.  A claim is a lock on a small file
        beside the results (``<name>.claims/``): a process that dies drops its claims.
        """
        claimed = []
        try:
            for params in runs:
                if self._try_claim(params):
                    claimed.append(dict(params))
            yield claimed
        finally:
            for key in list(self._claims):
                self._release(key)

    def _try_claim(self, params: Mapping[str, Any]) -> bool:
        key = run_key(params)
        if key in self._records or key in self._claims:
            return False
        folder = self.path.with_name(self.path.name + ".claims")
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / (hashlib.sha1(key.encode()).hexdigest() + ".lock"), "a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        with self._locked():
            self._read_new()  # finished by another process since we last looked?
        if key in self._records:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()
            return False
        self._claims[key] = handle
        return True

    def _release(self, key: str) -> None:
        handle = self._claims.pop(key, None)
        if handle is not None:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()

    def frame(self) -> pd.DataFrame:
        """All runs as a flat table: parameter columns, then result columns."""
        rows = [{**r["params"], **r["result"]} for r in self._records.values()]
        return pd.DataFrame(rows)


def stored_note(store: ResultStore) -> str:
    """What a grid prints when it ends: how many runs the store holds, and where their verdicts are computed."""
    return (f"{len(store)} runs stored in {store.path}; tables and verdicts: toposcope.claims "
            "(python -m toposcope.claims.verdicts prints the report of the committed results)")
