"""Append-only, resumable storage of experiment results: one JSON line per finished run.

What the store guarantees:

* A finished run, once :meth:`ResultStore.add` returns, is on disk (flushed and
  fsync'ed) and is never lost: a later writer killed mid-line leaves a torn last
  line, which the next open *and every add* (under the file lock, so a writer that
  had the store open already cannot append onto it) cuts off and keeps beside the
  file (``<name>.torn``).  A write that fails (a full disk, an I/O error) is undone,
  leaving the file as it was, and raises.
* A line that is not valid JSON, or not a ``{"params": {...}, "result": {...}}``
  record, never makes the store unopenable: it is skipped with a warning naming its
  line, and copied once into ``<name>.quarantine``; the file itself is not changed.
* Parameters are keys: numpy scalars are stored as the plain numbers they print
  as (``np.float32(0.1)`` is ``0.1``), so a resumed sweep finds its runs.
* A record that cannot be written as strict JSON (an unknown object) raises
  before anything is stored; in results NaN and infinities are stored as
  ``null``, numpy arrays as lists.  Parameters must be finite (NaN, inf and -inf
  would all store as ``null`` and two runs would collide), and no result key may
  repeat a parameter's name: both raise before anything is stored.
* Several processes can run one sweep on one store: :meth:`ResultStore.claim`
  hands each run to one owner only (a file lock per run, released when the
  process ends, even by a crash; a ``with`` block releases only the claims it
  made, so threads sharing one store keep theirs), and appends are serialised by a
  lock on the file.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import math
import os
import threading
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
    if isinstance(value, np.ndarray):  # element by element: a float32 array stores 0.1 as its scalars do
        return plain(value[()]) if value.ndim == 0 else [plain(v) for v in value]
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
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


def _check_finite(params: Mapping[str, Any], where: str = "") -> None:
    for name, value in params.items():
        if isinstance(value, Mapping):
            _check_finite(value, f"{where}{name}.")
        elif isinstance(value, (float, np.floating)) and not math.isfinite(value):
            raise ValueError(f"parameter {where}{name} is {value}: a run's parameters must be finite numbers "
                             "(NaN, inf and -inf would all be stored as null, and their runs would "
                             "collide)")  # fmt: skip


def run_key(params: Mapping[str, Any]) -> str:
    """The key a run is stored and claimed under: its parameters as canonical JSON.

    Raises ``ValueError`` for a parameter that is NaN or infinite.
    """
    _check_finite(params)
    return json.dumps(plain(params), sort_keys=True)


class ResultStore:
    """Results of finished runs in a JSON-lines file, keyed by the runs' parameters.

    Parameters
    ----------
    path : str or Path
        The ``.jsonl`` file; created (with its folder) on the first :meth:`add`.

    Warns
    -----
    UserWarning
        For a torn last line (cut off, kept in ``<name>.torn``) and for a line that
        is not a valid record (skipped, copied to ``<name>.quarantine``).

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
        self._claims_lock = threading.Lock()
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
                key = run_key(record["params"]) if _is_record(record) else None
            except ValueError:
                key = None
            if key is None:
                self._quarantine(n, line)
                continue
            self._records.setdefault(key, record)
        self._offset += end
        self._lines += data[:end].count(b"\n")

    def _quarantine(self, number: int, line: bytes) -> None:
        """Skip a line that is not a record: warn with its line number, keep a copy (once) in ``.quarantine``."""
        quarantine = self.path.with_name(self.path.name + ".quarantine")
        with contextlib.suppress(OSError):
            kept = quarantine.read_bytes().split(b"\n") if quarantine.exists() else []
            if line not in kept:
                with open(quarantine, "ab") as f:
                    f.write(line + b"\n")
        warnings.warn(f"{self.path}:{number} is not a result record (valid JSON with 'params' and 'result' "
                      f"objects); skipped, a copy is in {quarantine.name}", stacklevel=4)  # fmt: skip

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
        ValueError
            If a parameter is NaN or infinite, or a result key repeats a parameter's name.
        OSError
            If the write fails (a full disk, an I/O error); the file is left as it was.
        """
        key = run_key(params)
        shadowed = sorted(set(map(str, params)) & set(map(str, result)))
        if shadowed:
            raise ValueError(f"result key(s) {shadowed} repeat parameter names; rename them in the result")
        record = {"params": plain(params), "result": plain(result)}
        line = (json.dumps(record, allow_nan=False) + "\n").encode()
        with self._locked():
            if self.path.exists():
                self._repair()
            self._read_new()
            if key not in self._records:
                self._append(line)
                self._offset += len(line)
                self._lines += 1
                self._records[key] = record
        self._release(key)

    def _append(self, line: bytes) -> None:
        """Append one line, flushed and fsync'ed; on any failure cut the file back to its size before."""
        size = self.path.stat().st_size if self.path.exists() else 0
        try:
            with open(self.path, "ab") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
        except BaseException:
            with contextlib.suppress(OSError):
                os.truncate(self.path, size)
            raise

    @contextlib.contextmanager
    def claim(self, runs: Iterable[Mapping[str, Any]]) -> Iterator[list[dict[str, Any]]]:
        """Claim the runs that are neither finished nor being run by another process.

        Yields the claimed parameter sets (in order); each stays claimed until it is
        :meth:`add`-ed or the ``with`` block ends.  A claim is a lock on a small file
        beside the results (``<name>.claims/``): a process that dies drops its claims.
        """
        claimed, keys = [], []
        try:
            for params in runs:
                if self._try_claim(params):
                    claimed.append(dict(params))
                    keys.append(run_key(params))
            yield claimed
        finally:
            for key in keys:  # only this block's claims: another thread's stay held
                self._release(key)

    def _try_claim(self, params: Mapping[str, Any]) -> bool:
        key = run_key(params)
        with self._claims_lock:
            if key in self._records or key in self._claims:
                return False
            self._claims[key] = (threading.get_ident(), None)  # reserved while the file lock is tried
        folder = self.path.with_name(self.path.name + ".claims")
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / (hashlib.sha1(key.encode()).hexdigest() + ".lock"), "a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            with self._claims_lock:
                self._claims.pop(key, None)
            return False
        with self._locked():
            self._read_new()  # finished by another process since we last looked?
        with self._claims_lock:
            if key in self._records:
                fcntl.flock(handle, fcntl.LOCK_UN)
                handle.close()
                self._claims.pop(key, None)
                return False
            self._claims[key] = (threading.get_ident(), handle)
        return True

    def _release(self, key: str) -> None:
        """Release this thread's claim on ``key`` (another thread's claim stays)."""
        with self._claims_lock:
            owner, handle = self._claims.get(key, (None, None))
            if owner != threading.get_ident():
                return
            del self._claims[key]
        if handle is not None:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()

    def frame(self) -> pd.DataFrame:
        """All runs as a flat table: parameter columns, then result columns.

        A result key that repeats a parameter's name (only in files written before
        :meth:`add` refused them) becomes ``result_<key>``; the parameter keeps its name.
        """
        rows = [{**r["params"], **{(f"result_{k}" if k in r["params"] else k): v for k, v in r["result"].items()}}
                for r in self._records.values()]  # fmt: skip
        return pd.DataFrame(rows)


def _is_record(record: Any) -> bool:
    """A ``{"params": {...}, "result": {...}}`` record, as :meth:`ResultStore.add` writes."""
    return isinstance(record, dict) and all(isinstance(record.get(k), dict) for k in ("params", "result"))


def stored_note(store: ResultStore) -> str:
    """What a grid prints when it ends: how many runs the store holds, and where their verdicts are computed."""
    return (f"{len(store)} runs stored in {store.path}; tables and verdicts: toposcope.claims "
            "(python -m toposcope.claims.verdicts prints the report of the committed results)")
