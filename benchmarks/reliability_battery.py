"""A hostile battery, on demand: inputs an adversarial user would try, each in a child process.

Each case runs in its own ``python -c`` child with a time limit and an 8 GiB
address-space cap, and ends in one of:

* ``handled``    -- the right value (checked against an independent computation), or a clear error of an expected type;
* ``obscure``    -- an error, but not of the expected kind or without the expected words;
* ``wrong``      -- a value, and the wrong one (a silent wrong answer);
* ``lost``       -- a finished run missing from the store (or a store that no longer opens);
* ``abort``      -- the child died by a signal (a native crash: SIGABRT, SIGSEGV);
* ``hang``       -- the child ran past the time limit.

    python benchmarks/reliability_battery.py            # every case, 2 at a time
    python benchmarks/reliability_battery.py --only store --jobs 1

It prints one line per case that did not end ``handled`` and a table of outcomes
per family.  Not a test: it takes minutes and its inputs are many; the test suite
holds the regression tests of what it found (``tests/test_reliability.py``,
``tests/test_battery.py``, ``tests/test_store.py``).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import textwrap
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

LIMIT_S = 120
MEMORY_CAP = 8 * 2**30

PRELUDE = """
import json, sys, warnings
warnings.simplefilter("ignore")
import numpy as np, torch
from torch import nn
import toposcope as ts
from toposcope.shapes import circle, torus, sphere, clusters

def done(outcome, detail=""):
    print("RESULT " + json.dumps({"outcome": outcome, "detail": str(detail)[:300]}))
    sys.exit(0)

def expect_error(call, types, words=()):
    try:
        value = call()
    except types as err:
        if all(w in str(err) for w in words):
            done("handled", f"{type(err).__name__}: {err}")
        done("obscure", f"{type(err).__name__}: {err}")
    except Exception as err:
        done("obscure", f"{type(err).__name__}: {err}")
    done("wrong", f"no error; returned {value!r:.120}")

def expect_value(call, check):
    try:
        value = call()
    except Exception as err:
        done("obscure", f"{type(err).__name__}: {err}")
    done("handled" if check(value) else "wrong", repr(value)[:200])
"""


def guard_cases() -> list[tuple[str, str]]:
    """ripser's index and memory guards: sizes and dimensions that used to abort, and ones that must compute."""
    cases = []
    for n, maxdim in [(8000, 3), (40000, 2), (1000, 6), (1000, 8), (400, 12), (50, 10**9), (50, 65), (10**6, 1),
                      (3000, 4)]:  # fmt: skip
        cases.append((f"refuse n={n} maxdim={maxdim}", f"""
X = np.random.default_rng(0).normal(size=({n}, 2))
expect_error(lambda: ts.betti_numbers(X, maxdim={maxdim}, max_points=None), (ValueError, MemoryError))"""))
    for n, maxdim in [(5, 7), (6, 6), (3, 2), (2, 1)]:
        cases.append((f"above the cloud n={n} maxdim={maxdim}", f"""
d = ts.persistence(circle({n}), maxdim={maxdim})
ok = len(d) == {maxdim} + 1 and all(len(x) == 0 for x in d[{n}:])
done("handled" if ok else "wrong", [len(x) for x in d])"""))
    for shape, expected in [("circle(200)", (1, 1)), ("torus(40, 20)", (1, 2, 1)), ("sphere(400)", (1, 0, 1)),
                            ("clusters(4, 60)", (4, 0))]:  # fmt: skip
        cases.append((f"true topology {shape}", f"""
expect_value(lambda: ts.betti_numbers({shape}, maxdim={len(expected) - 1}).betti, lambda b: b == {expected})"""))
    for scale in (10**6, 10**9, 199, 1000):
        cases.append((f"huge scale {scale}", f"""
expect_value(lambda: ts.betti_numbers(circle(200), scale={scale}).betti, lambda b: b == (1, 0))"""))
    for bad in ("float('nan')", "float('inf')", "'3'", "-1", "0", "2.5", "True"):
        for param in ("k", "scale"):
            cases.append((f"bad {param}={bad}", f"""
expect_error(lambda: ts.betti_numbers(circle(50), {param}={bad}), (ValueError, TypeError))"""))
    for bad in ("float('nan')", "-1.0", "0"):
        cases.append((f"bad thresh={bad}", f"""
expect_error(lambda: ts.persistence(circle(50), thresh={bad}), (ValueError, TypeError))"""))
    junk = ["[]", "[[1.0]]", "[[1, 2], [3]]", "'abc'", "None", "np.zeros((5, 2, 2))", "np.ones((4, 2)) * 1j",
            "np.array([[1, 'a'], [2, 'b']], dtype=object)", "np.full((4, 2), np.nan)", "np.full((4, 2), 1e308)",
            "np.zeros((0, 3))", "torch.zeros(5, 0)"]  # fmt: skip
    for item in junk:
        for call in ("betti_numbers", "persistence"):
            cases.append((f"junk {call}({item[:24]})", f"""
try:
    value = ts.{call}({item})
except (ValueError, TypeError, MemoryError) as err:
    done("handled", f"{{type(err).__name__}}: {{err}}")
except Exception as err:
    done("obscure", f"{{type(err).__name__}}: {{err}}")
ok = all(np.all(np.isfinite(d[:, 0])) for d in value) if "{call}" == "persistence" else all(b >= 0 for b in value.betti)
done("handled" if ok else "wrong", value)"""))
    cases.append(("tracker maxdim=6 default sample", """
model = nn.Sequential(nn.Linear(2, 8), nn.ReLU())
X = torch.as_tensor(np.random.default_rng(0).normal(size=(3000, 2)), dtype=torch.float32)
y = torch.zeros(3000, dtype=torch.long)
expect_error(lambda: ts.BettiTracker(model, maxdim=6).profile(X, y), (ValueError, MemoryError))"""))
    return cases


def hook_cases() -> list[tuple[str, str]]:
    """What hooks record, against the layers computed by hand; dict and tuple outputs; modules run twice."""
    cases = []
    for inplace in ("nn.ReLU(inplace=True)", "nn.LeakyReLU(0.1, inplace=True)", "nn.Hardtanh(inplace=True)",
                    "nn.ReLU()"):  # fmt: skip
        cases.append((f"identity then {inplace}", f"""
lin = nn.Linear(2, 2, bias=False)
with torch.no_grad(): lin.weight.copy_(torch.eye(2))
model = nn.Sequential(lin, {inplace})
X = torch.as_tensor(circle(200), dtype=torch.float32); y = torch.zeros(200, dtype=torch.long)
expect_value(lambda: tuple(ts.BettiTracker(model, layers=["0"]).profile(X, y).sort_values("dim").betti),
             lambda b: b == (1, 1))"""))
        cases.append((f"input before {inplace}", f"""
model = nn.Sequential({inplace}, nn.Linear(2, 2))
X = torch.as_tensor(circle(200), dtype=torch.float32); y = torch.zeros(200, dtype=torch.long); keep = X.clone()
b = tuple(ts.BettiTracker(model, layers=["input"]).profile(X, y).sort_values("dim").betti)
done("handled" if b == (1, 1) and torch.equal(X, keep) else "wrong", (b, torch.equal(X, keep)))"""))
    for output, expected in [('{"features": -z, "logits": z}', "1.0"), ("(z, -z)", "1.0"), ("[z]", "1.0"),
                             ('{"logits": z, "aux": -z}', "1.0")]:  # fmt: skip
        cases.append((f"evaluate output {output}", f"""
class M(nn.Module):
    def forward(self, z):
        return {output}
expect_value(lambda: ts.evaluate(M(), (torch.eye(5), torch.arange(5))), lambda a: a == {expected})"""))
    cases.append(("evaluate dict without logits", """
class M(nn.Module):
    def forward(self, z):
        return {"features": -z, "scores": z}
expect_error(lambda: ts.evaluate(M(), (torch.eye(5), torch.arange(5))), TypeError, ("no 'logits'",))"""))
    cases.append(("module run twice", """
class M(nn.Module):
    def __init__(self):
        super().__init__(); self.act = nn.Tanh()
    def forward(self, x):
        return self.act(self.act(x))
X = torch.randn(50, 2); y = torch.zeros(50, dtype=torch.long)
expect_error(lambda: ts.BettiTracker(M(), layers=["act"]).profile(X, y), ValueError, ("ran twice",))"""))
    for seed in range(24):
        cases.append((f"random stack seed {seed}", f"""
from toposcope._torch import capture_outputs, forward_batches
rng = np.random.default_rng({seed}); torch.manual_seed({seed})
pool = [lambda: nn.Linear(3, 3), lambda: nn.ReLU(inplace=True), nn.Tanh, lambda: nn.LeakyReLU(0.2, inplace=True)]
body = nn.Sequential(*(pool[i]() for i in rng.integers(0, 4, 5)))
x = torch.randn(30, 3); h = x.clone(); ref = []
with torch.no_grad():
    for layer in body:
        h = layer(h.clone()); ref.append(h.clone())
with capture_outputs(body, [str(i) for i in range(5)]) as store:
    forward_batches(body, x, batch_size=8)
ok = all(torch.allclose(torch.cat(store[str(i)]), ref[i], rtol=1e-5, atol=1e-6) for i in range(5))
done("handled" if ok else "wrong")"""))
    return cases


def table_cases() -> list[tuple[str, str]]:
    """Pruning score tables that do not match the model."""
    setup = """
from toposcope import pruning as P
torch.manual_seed(0)
cnn = ts.PaperCNN(channels=(8, 8, 8), dense=16)
scores = P.l1_scores(cnn)
"""
    cases = []
    for name, table, kwargs in [
        ("missing rows", 'scores[~((scores.layer == "conv0") & (scores["filter"] >= 4))]', "ratio=0.5"),
        ("repeated rows", 'pd.concat([scores, scores.head(3)])', 'counts={"conv0": 4}'),
        ("extra rows", 'pd.concat([scores, scores.head(1).assign(filter=99)])', "ratio=0.25"),
        ("unknown layer", 'scores.assign(layer=scores.layer.replace("conv0", "convX"))', "ratio=0.25"),
    ]:  # fmt: skip
        cases.append((f"table {name}", setup + f"""
import pandas as pd
expect_error(lambda: P.prune(cnn, {table}, {kwargs}), ValueError)"""))
    cases.append(("unpruned table on pruned model", setup + """
small = P.prune(cnn, scores, ratio=0.5)
expect_error(lambda: P.prune(small, scores, ratio=0.25), ValueError, ("another model",))"""))
    cases.append(("another model's table", setup + """
torch.manual_seed(1)
expect_error(lambda: P.BettiImportance(ts.PaperCNN(channels=(8, 8, 8), dense=16), scores), ValueError)"""))
    cases.append(("matching table prunes", setup + """
expect_value(lambda: P.prune(cnn, scores, ratio=0.5).conv0.out_channels, lambda c: c == 4)"""))
    return cases


def store_cases() -> list[tuple[str, str]]:
    """The result store under torn tails, failed writes, odd parameters and concurrent writers."""
    setup = """
import os, tempfile
from pathlib import Path
from toposcope.experiments import ResultStore
path = Path(tempfile.mkdtemp()) / "r.jsonl"
def final():
    try:
        return ResultStore(path)
    except Exception as err:
        done("lost", f"the store no longer opens: {type(err).__name__}: {err}")
"""
    cases = []
    for tear in ('{"params": {"seed": 9}, "res', '{"par', "garbage", '{"params": {"seed": 9}, "result": {}}'):
        cases.append((f"open writer after a tear {tear[:12]!r}", setup + f"""
a, b = ResultStore(path), ResultStore(path)
a.add({{"seed": 0}}, {{"v": 0}})
with open(path, "a") as f: f.write({tear!r})
b.add({{"seed": 1}}, {{"v": 1}}); a.add({{"seed": 2}}, {{"v": 2}})
seeds = sorted(final().frame().seed)
done("handled" if {{0, 1, 2}} <= set(seeds) else "lost", seeds)"""))
    for errno in (28, 5):
        cases.append((f"failed write errno {errno}", setup + f"""
s = ResultStore(path); s.add({{"seed": 0}}, {{"v": 0}})
real = os.fsync
def fail(fd): raise OSError({errno}, "injected")
os.fsync = fail
try:
    s.add({{"seed": 1}}, {{"v": "x" * 5000}})
except OSError:
    pass
os.fsync = real
s.add({{"seed": 2}}, {{"v": 2}})
seeds = sorted(final().frame().seed)
done("handled" if seeds == [0, 2] else "lost", seeds)"""))
    for name, params in [("inf", 'float("inf")'), ("-inf", 'float("-inf")'), ("nan", 'float("nan")'),
                         ("np.float32 inf", 'np.float32("inf")')]:  # fmt: skip
        cases.append((f"parameter {name}", setup + f"""
expect_error(lambda: ResultStore(path).add({{"clip": {params}}}, {{"v": 1}}), ValueError, ("finite",))"""))
    cases.append(("result shadows parameter", setup + """
expect_error(lambda: ResultStore(path).add({"epochs": 100}, {"epochs": 37}), ValueError, ("repeat",))"""))
    for line in ('{"a": 1}', '[1, 2]', '{"params": 3, "result": {}}', "not json", '{"params": {}, "result": 5}'):
        cases.append((f"wrong-schema line {line[:14]!r}", setup + f"""
ResultStore(path).add({{"seed": 0}}, {{"v": 0}})
with open(path, "a") as f: f.write({line!r} + "\\n")
ResultStore(path).add({{"seed": 1}}, {{"v": 1}})
seeds = sorted(final().frame().seed)
done("handled" if seeds == [0, 1] else "lost", seeds)"""))
    for seed in range(10):
        cases.append((f"random interleaving seed {seed}", setup + f"""
rng = np.random.default_rng({seed})
writers = [ResultStore(path), ResultStore(path)]; finished = set()
for step in range(30):
    op = rng.integers(0, 5); seed = int(rng.integers(0, 12))
    if op == 0:
        with open(path, "a") as f: f.write('{{"params": {{"seed": 99}}, "re')
    elif op == 1:
        writers[int(rng.integers(0, 2))] = ResultStore(path)
    elif op == 2:
        real = os.fsync
        def fail(fd): raise OSError(28, "injected")
        os.fsync = fail
        try:
            writers[0].add({{"seed": seed, "failed": 1}}, {{"v": -1}})
        except OSError:
            pass
        finally:
            os.fsync = real
    else:
        writers[int(op - 3)].add({{"seed": seed}}, {{"v": seed}}); finished.add(seed)
frame = final().frame()
kept = set(frame.seed) if "failed" not in frame else None
done("handled" if kept == finished and len(frame) == len(finished) else "lost", (sorted(finished), len(frame)))"""))
    cases.append(("two processes, one sweep", setup + """
import multiprocessing as mp
def work(_):
    s = ResultStore(path)
    with s.claim([{"seed": i} for i in range(40)]) as todo:
        for p in todo:
            s.add(p, {"v": p["seed"]})
with mp.get_context("fork").Pool(2) as pool:
    pool.map(work, range(4))
seeds = sorted(final().frame().seed)
done("handled" if seeds == list(range(40)) else "lost", seeds)"""))
    cases.append(("threads keep their claims", setup + """
import threading
s = ResultStore(path); hold, go = threading.Event(), threading.Event()
def t():
    with s.claim([{"seed": 0}]):
        hold.set(); go.wait(10)
th = threading.Thread(target=t); th.start(); hold.wait(10)
with s.claim([{"seed": 1}]):
    pass
with ResultStore(path).claim([{"seed": 0}]) as todo:
    stolen = bool(todo)
go.set(); th.join()
done("wrong" if stolen else "handled", stolen)"""))
    return cases


def data_cases() -> list[tuple[str, str]]:
    """Loaders on files in the true formats, written here: odd depths, float IDX, bad labels, damaged archives."""
    cases = []
    for mode, array, expected in [("16-bit", "np.full((8, 8), 32768, dtype=np.uint16)", 128),
                                  ("8-bit", "np.full((8, 8), 128, dtype=np.uint8)", 128),
                                  ("16-bit black", "np.zeros((8, 8), dtype=np.uint16)", 0),
                                  ("16-bit white", "np.full((8, 8), 65535, dtype=np.uint16)", 255)]:  # fmt: skip
        cases.append((f"photo {mode}", f"""
import tempfile
from pathlib import Path
from PIL import Image
from toposcope.datasets.pets import _read
p = Path(tempfile.mkdtemp()) / "a.png"; Image.fromarray({array}).save(p)
expect_value(lambda: int(np.median(_read(p, 4))), lambda v: abs(v - {expected}) <= 1)"""))
    idx = """
import gzip, struct, tempfile
from pathlib import Path
root = Path(tempfile.mkdtemp())
def write(name, a, code):
    h = struct.pack(">BBBB", 0, 0, code, a.ndim) + struct.pack(f">{a.ndim}I", *a.shape)
    with gzip.open(root / name, "wb") as f: f.write(h + a.astype(a.dtype.newbyteorder(">")).tobytes())
"""
    cases.append(("IDX float images", idx + """
img = np.random.default_rng(0).random((3, 28, 28)).astype(np.float32)
write("t10k-images-idx3-ubyte.gz", img, 0x0D); write("t10k-labels-idx1-ubyte.gz", np.array([0, 1, 2], np.uint8), 0x08)
expect_value(lambda: ts.fashion_mnist(root, split="test", normalize=False).tensors[0][:, 0].numpy(),
             lambda x: np.allclose(x, img))"""))
    for label in (-1, 10, 255):
        code = "0x09" if label < 0 else "0x08"
        dtype = "np.int8" if label < 0 else "np.uint8"
        cases.append((f"Fashion-MNIST label {label}", idx + f"""
write("t10k-images-idx3-ubyte.gz", np.zeros((2, 28, 28), np.uint8), 0x08)
write("t10k-labels-idx1-ubyte.gz", np.array([0, {label}], {dtype}), {code})
expect_error(lambda: ts.fashion_mnist(root, split="test"), ValueError, ("label",))"""))
    for name, damage in [("gzip CRC", "raw[-8] ^= 0xFF"), ("gzip length", "raw[-2] ^= 0xFF"),
                         ("deflate body", "raw[len(raw) // 2] ^= 0xFF"),
                         ("truncated", "raw = raw[: len(raw) - 40]")]:  # fmt: skip
        cases.append((f"archive {name}", f"""
import io, tarfile, tempfile
from pathlib import Path
from toposcope.datasets.archives import extract
root = Path(tempfile.mkdtemp()); path = root / "a.tar.gz"
with tarfile.open(path, "w:gz") as t:
    data = np.random.default_rng(0).integers(0, 256, 200000, dtype=np.uint8).tobytes()
    info = tarfile.TarInfo("x.bin"); info.size = len(data); t.addfile(info, io.BytesIO(data))
raw = bytearray(path.read_bytes()); {damage}; path.write_bytes(bytes(raw))
expect_error(lambda: extract(path, root / "out"), ValueError)"""))
    return cases


def training_cases() -> list[tuple[str, str]]:
    """README promises about fit and numbers of numpy types."""
    base = "X, y = torch.randn(20, 2), torch.arange(20) % 2\nmodel = nn.Linear(2, 3)\n"
    cases = [("fit unseen test labels", base + """
expect_error(lambda: ts.fit(model, (X, y), (X[:3], torch.tensor([0, 1, 2])), epochs=1, progress=False), ValueError,
             ("lacks",))""")]
    for name, kwargs in [("np.int64 epochs", "epochs=np.int64(1)"), ("np.float32 lr", "lr=np.float32(0.01)"),
                         ("np.int32 batch", "batch_size=np.int32(8)"), ("float64 features", "")]:  # fmt: skip
        data = "(X.double(), y)" if "float64" in name else "(X, y)"
        cases.append((f"fit {name}", base + f"""
expect_value(lambda: len(ts.fit(model, {data}, progress=False, device="cpu", **dict({kwargs})).records) >= 1,
             lambda ok: ok)"""))
    for name, kwargs in [("float epochs", "epochs=2.0"), ("bool lr", "lr=True"), ("nan lr", "lr=float('nan')"),
                         ("zero batch", "batch_size=0"), ("target 99", "target_accuracy=99")]:  # fmt: skip
        cases.append((f"fit {name}", base + f"""
expect_error(lambda: ts.fit(model, (X, y), progress=False, {kwargs}), ValueError)"""))
    cases.append(("tracker float labels", base + """
expect_error(lambda: ts.BettiTracker(nn.Identity()).profile(X, y.float()), TypeError, ("integer",))"""))
    cases.append(("pandas nullable cloud", """
import pandas as pd
f = pd.DataFrame(circle(60), columns=["x", "y"]).astype("Float64")
expect_value(lambda: ts.betti_numbers(f).betti, lambda b: b == (1, 1))"""))
    return cases


FAMILIES = {"guards": guard_cases, "hooks": hook_cases, "tables": table_cases, "store": store_cases,
            "data": data_cases, "training": training_cases}  # fmt: skip


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def run_case(family: str, name: str, body: str) -> tuple[str, str, str, str]:
    code = PRELUDE + textwrap.dedent(body)
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=LIMIT_S,
                              preexec_fn=_limit)  # fmt: skip
    except subprocess.TimeoutExpired:
        return family, name, "hang", f"no answer in {LIMIT_S} s"
    if proc.returncode < 0:
        return family, name, "abort", f"signal {-proc.returncode}: {proc.stderr[-300:]}"
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if not lines:
        return family, name, "obscure", f"exit {proc.returncode}, no result: {proc.stderr[-300:]}"
    result = json.loads(lines[-1][7:])
    return family, name, result["outcome"], result["detail"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(FAMILIES))
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    cases = [(family, name, body) for family in (args.only or FAMILIES) for name, body in FAMILIES[family]()]
    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda case: run_case(*case), cases))
    for family, name, outcome, detail in results:
        if outcome != "handled":
            print(f"{outcome:>8}  {family}: {name}: {detail}")
    counts = Counter((family, outcome) for family, _, outcome, _ in results)
    outcomes = ["handled", "obscure", "wrong", "lost", "abort", "hang"]
    print(f"\n{'family':<10}" + "".join(f"{o:>9}" for o in outcomes) + f"{'cases':>8}")
    for family in dict.fromkeys(f for f, *_ in results):
        print(f"{family:<10}" + "".join(f"{counts[(family, o)]:>9}" for o in outcomes)
              + f"{sum(counts[(family, o)] for o in outcomes):>8}")  # fmt: skip
    print(f"{'all':<10}" + "".join(f"{sum(v for (f, o), v in counts.items() if o == out):>9}" for out in outcomes)
          + f"{len(results):>8}")  # fmt: skip


if __name__ == "__main__":
    main()
