"""Property-based batteries over the classes of failure the hostile batteries found: native aborts, hooks that
record the wrong tensor, and stores that lose a run."""

import contextlib
import math
import os
import subprocess
import sys
import textwrap

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from toposcope import memory
from toposcope._torch import capture_outputs, forward_batches
from toposcope.experiments import ResultStore

# -- the guard against ripser's aborts --------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(n=st.integers(2, 10**7), maxdim=st.integers(0, 64))
def test_simplex_index_guard_matches_ripsers_table(n, maxdim):
    """Refused exactly when some C(i, j), i <= n, j <= min(maxdim, n - 1) + 2, passes ripser's 2^55 - 1."""
    top = min(maxdim, n - 1) + 2
    overflow = max(math.comb(n, j) for j in range(min(top, n // 2) + 1)) > memory.MAX_SIMPLEX_INDEX
    if overflow:
        with pytest.raises(ValueError, match="simplex index"):
            memory.check_simplex_index(n, maxdim)
    else:
        memory.check_simplex_index(n, maxdim)


def test_random_sizes_dimensions_and_scales_never_abort_the_process():
    """In a child: random clouds, maxdim, k and scale into the public functions end in a value or a clear error."""
    code = textwrap.dedent("""
        import warnings; warnings.simplefilter("ignore")
        import numpy as np
        from hypothesis import given, settings, strategies as st
        import toposcope as ts

        @settings(max_examples=40, deadline=None, database=None)
        @given(n=st.integers(2, 120), dim=st.integers(1, 4), maxdim=st.integers(0, 70),
               k=st.one_of(st.integers(-2, 200), st.just(10**9)), scale=st.one_of(st.integers(-1, 8), st.just(10**6)),
               method=st.sampled_from(["knn", "rips", "persistence"]), seed=st.integers(0, 99))
        def check(n, dim, maxdim, k, scale, method, seed):
            X = np.random.default_rng(seed).normal(size=(n, dim))
            try:  # rips and persistence at small scales: the point is the guards, not long computations
                if method == "persistence":
                    ts.persistence(X, maxdim=min(maxdim, 2), thresh=abs(scale) / 10 + 0.05)
                else:
                    kwargs = {"k": k, "scale": scale} if method == "knn" else {"scale": abs(scale) / 20 + 0.05}
                    ts.betti_numbers(X, maxdim=maxdim, method=method, **kwargs)
            except (ValueError, MemoryError, TypeError):
                pass

        check()
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"the child ended with {proc.returncode}: {proc.stderr[-2000:]}"


# -- hooks against a hook-free reference --------------------------------------------------------------------

LAYERS = {
    "linear": lambda: nn.Linear(3, 3),
    "relu_inplace": lambda: nn.ReLU(inplace=True),
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "leaky_inplace": lambda: nn.LeakyReLU(0.1, inplace=True),
}


class Outputs(nn.Module):
    """A model whose output is a dict with logits (and features first) or a tuple (logits, features)."""

    def __init__(self, body: nn.Sequential, kind: str):
        super().__init__()
        self.body, self.kind = body, kind

    def forward(self, x):
        z = self.body(x)
        return {"features": -z, "logits": z} if self.kind == "dict" else (z, -z)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names=st.lists(st.sampled_from(sorted(LAYERS)), min_size=1, max_size=6), kind=st.sampled_from(["dict", "tuple"]),
       seed=st.integers(0, 10**6))  # fmt: skip
def test_captured_outputs_equal_a_hook_free_forward(names, kind, seed):
    torch.manual_seed(seed)
    body = nn.Sequential(*(LAYERS[name]() for name in names))
    model = Outputs(body, kind)
    x = torch.randn(20, 3)
    expected, h = [], x.clone()
    with torch.no_grad():
        for layer in body:  # the reference: each layer on a private copy, nothing in place can reach it
            h = layer(h.clone())
            expected.append(h.clone())
    names_in_model = [f"body.{i}" for i in range(len(body))]
    before = x.clone()
    with capture_outputs(model, names_in_model) as store:
        logits = forward_batches(model, x, batch_size=7)
    close = {"rtol": 1e-5, "atol": 1e-6}  # batches of 7 against one of 20: matmul rounding only
    for name, reference in zip(names_in_model, expected, strict=True):
        assert torch.allclose(torch.cat(store[name]), reference, **close), name
    assert torch.allclose(logits, expected[-1], **close)  # a dict's "logits", a tuple's first tensor
    assert torch.equal(x, before)  # the caller's inputs untouched by in-place layers


# -- the store under interleaved writers, torn tails and failed writes ---------------------------------------

OPS = st.lists(st.tuples(st.sampled_from(["add_a", "add_b", "tear", "full_disk", "reopen_a"]), st.integers(0, 7)),
               min_size=1, max_size=25)  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_interleaved_writers_torn_tails_and_full_disks_lose_no_run(tmp_path_factory, ops):
    path = tmp_path_factory.mktemp("store") / "runs.jsonl"
    writers = {"a": ResultStore(path), "b": ResultStore(path)}
    done = {}
    for op, seed in ops:
        if op == "tear":
            with open(path, "a") as f:
                f.write('{"params": {"seed": 99}, "res')  # a writer killed mid-line
        elif op == "reopen_a":
            with pytest.warns(UserWarning) if _torn(path) else contextlib.nullcontext():
                writers["a"] = ResultStore(path)
        else:
            writer = writers["a" if op in ("add_a", "full_disk") else "b"]
            with pytest.warns(UserWarning) if _torn(path) else contextlib.nullcontext():
                if op == "full_disk":
                    real = os.fsync
                    os.fsync = _full_disk
                    try:
                        with pytest.raises(OSError):
                            writer.add({"seed": seed, "try": "full"}, {"value": seed})
                    finally:
                        os.fsync = real
                else:
                    writer.add({"seed": seed}, {"value": seed})
                    done[seed] = seed
    with pytest.warns(UserWarning) if _torn(path) else contextlib.nullcontext():
        final = ResultStore(path)
    frame = final.frame()
    assert "try" not in frame  # nothing of a failed write was kept
    kept = dict(zip(frame.seed.astype(int), frame.value.astype(int), strict=True)) if len(frame) else {}
    assert kept == done and len(frame) == len(done)  # every finished run, once


def _torn(path) -> bool:
    return path.exists() and path.stat().st_size > 0 and not path.read_bytes().endswith(b"\n")


def _full_disk(fd):
    raise OSError(28, "No space left on device")


