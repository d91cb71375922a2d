"""Hostile inputs: clear errors instead of native aborts, silent wrong answers or NaN metrics."""

import gzip
import struct
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation
from torch import nn

import toposcope as ts
from toposcope import memory
from toposcope import pruning as P
from toposcope._torch import TrainingDivergedError
from toposcope.datasets import read_idx
from toposcope.shapes import circle, clusters, torus


@pytest.fixture(scope="module")
def rings():
    return ts.nine_rings(600, 200, seed=0)


# -- native code: validated before it runs ---------------------------------------------------------


def _run_isolated(code: str) -> subprocess.CompletedProcess:
    """Run code in a fresh interpreter: a native abort kills that process, not the test run."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)


def test_negative_or_odd_maxdim_raises_instead_of_aborting():
    proc = _run_isolated("""
        import toposcope as ts
        from toposcope.shapes import circle
        for maxdim in (-5, -1, 1.5, True):
            for call in (ts.persistence, ts.betti_numbers):
                try:
                    call(circle(30), maxdim=maxdim)
                except ValueError as err:
                    assert "maxdim" in str(err)
                else:
                    raise SystemExit(f"accepted maxdim={maxdim!r}")
    """)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_ripser_simplex_index_overflow_is_refused_before_the_call():
    """ripser aborts (std::overflow_error) once C(n, maxdim + 2) passes 2^55: refused, naming what to lower."""
    memory.check_simplex_index(5000, 3)  # C(5000, 5) = 2.6e16 fits
    with pytest.raises(ValueError, match=r"C\(8000, 5\) > 2\^55.*about 5,2\d\d points"):
        memory.check_simplex_index(8000, 3)
    with pytest.raises(ValueError, match="simplex index"):
        memory.check_simplex_index(10**6, 1)  # a large cloud at the default maxdim
    proc = _run_isolated("""
        import toposcope as ts
        from toposcope.shapes import circle
        for call in (ts.betti_numbers, ts.persistence):
            try:
                call(circle(8000), maxdim=3, max_points=None)
            except ValueError as err:
                assert "simplex index" in str(err), err
            else:
                raise SystemExit(f"{call.__name__} accepted 8,000 points at maxdim 3")
        for maxdim in (65, 10**9):
            try:
                ts.betti_numbers(circle(50), maxdim=maxdim)
            except ValueError as err:
                assert "at most 64" in str(err), err
            else:
                raise SystemExit(f"accepted maxdim={maxdim}")
    """)
    assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.mark.parametrize("bad", [float("inf"), float("nan"), True, 2.5, "3", -1])
def test_k_and_hops_must_be_whole_numbers(bad):
    """inf raised a bare OverflowError, and True was read as 1 hop (the battery found both)."""
    for kwargs in ({"k": bad}, {"scale": bad}):
        with pytest.raises((ValueError, TypeError), match=r"k|scale|hops"):
            ts.betti_numbers(circle(50), **kwargs)
    with pytest.raises((ValueError, TypeError)):
        ts.knn_hop_graph(circle(50), k=bad)


def test_dimensions_above_the_cloud_read_zero_without_asking_ripser():
    dgms = ts.persistence(circle(6), maxdim=8)
    assert len(dgms) == 9 and all(len(d) == 0 for d in dgms[6:])
    assert [len(d) for d in dgms[:6]] == [len(d) for d in ts.persistence(circle(6), maxdim=5)]
    assert ts.betti_numbers(circle(5), maxdim=7, method="rips", scale=0.5).betti[5:] == (0, 0, 0)


def test_a_huge_hop_scale_costs_no_more_than_the_diameter():
    import time

    start = time.perf_counter()
    assert ts.betti_numbers(circle(200), scale=10**6).betti == ts.betti_numbers(circle(200), scale=199).betti
    D = ts.knn_hop_matrix(circle(60), k=3, max_hops=10**6).toarray()
    assert np.array_equal(D, ts.knn_hop_matrix(circle(60), k=3, max_hops=None).toarray())
    assert np.array_equal(ts.knn_hop_matrix(circle(60), k=3, max_hops=4).toarray(),
                          np.where(D <= 4, D, 0))  # fmt: skip
    assert time.perf_counter() - start < 30  # was a hang of over 150 s


def test_memory_budget_sees_an_address_space_limit():
    """A per-process cap (RLIMIT_AS, as ulimit -v or a container sets) bounds the guard, not /proc/meminfo alone."""
    proc = _run_isolated("""
        import resource
        from toposcope import memory
        resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, resource.RLIM_INFINITY))
        room = memory.available_bytes()
        assert 0 < room < 3 * 2**30, room
        try:
            memory.check_ripser_memory(40_000, 4e7, 0, 1, dense=False)  # about 7.5 GiB of edges
        except MemoryError as err:
            assert "budget" in str(err)
        else:
            raise SystemExit("the guard ignored RLIMIT_AS")
    """)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_memory_guard_refuses_what_ripser_cannot_hold(monkeypatch):
    monkeypatch.setattr(memory, "MEMORY_BUDGET", 2 * 2**30)
    big = np.random.default_rng(0).normal(size=(50_000, 3))
    with pytest.raises(MemoryError, match="Lower max_points"), warnings.catch_warnings():
        warnings.simplefilter("ignore", ts.SubsampleWarning)
        ts.betti_numbers(big, method="persistence", min_persistence=0.1)
    with pytest.raises(MemoryError, match="maxdim=2"):
        ts.persistence(big[:3000], maxdim=2)
    assert len(ts.persistence(big[:300], maxdim=1)) == 2  # small enough: computed


def test_memory_guard_refuses_a_hop_graph_too_large(monkeypatch):
    X = np.random.default_rng(0).normal(size=(2000, 3))
    pairs = 2 * ts.knn_hop_graph(X).nnz + len(X)  # the 2-hop pattern, both triangles and the diagonal
    monkeypatch.setattr(memory, "MEMORY_BUDGET", memory.BYTES_PER_PAIR * pairs // 2)
    with pytest.raises(MemoryError, match="within 2 hops of 2000 points"):
        ts.betti_numbers(X)
    with pytest.raises(MemoryError, match="every connected pair"):
        ts.knn_hop_matrix(X, max_hops=None)
    monkeypatch.setattr(memory, "MEMORY_BUDGET", 2**30)
    assert ts.betti_numbers(X).betti[0] == 1


def test_memory_estimate_matches_the_measured_model():
    # 1,000 points, full 2-D Rips filtration: about 11 GiB measured with ripser.py 0.6.15
    need = memory.BYTES_PER_EDGE * 499_500 + memory.BYTES_PER_TOP_SIMPLEX * 166_167_000 + 8 * 1000**2
    assert 10 * 2**30 < need < 13 * 2**30
    assert memory.clique_bound(np.array([2, 2, 2]), 3) == 1.0  # a triangle


def test_junk_never_aborts_the_process():
    """Random junk into the public functions that reach native code, in a child process: it must end normally."""
    proc = _run_isolated("""
        import warnings; warnings.simplefilter("ignore")
        from hypothesis import given, settings, strategies as st
        import toposcope as ts

        floats = st.floats(allow_nan=True, allow_infinity=True)
        junk = st.one_of(st.lists(st.lists(floats, min_size=1, max_size=3), max_size=6),
                         st.lists(floats, max_size=5), st.text(max_size=5), st.none())

        @settings(max_examples=150, deadline=None, database=None)
        @given(junk=junk, maxdim=st.one_of(st.integers(-3, 3), st.integers(60, 10**9)), k=st.integers(-2, 12))
        def check(junk, maxdim, k):
            for call in (ts.betti_numbers, ts.persistence):
                try:
                    call(junk, maxdim=maxdim)
                except (TypeError, ValueError):
                    pass
            for call in (ts.knn_hop_graph, ts.knn_hop_matrix):  # k above the number of points included
                try:
                    call(junk, k)
                except (TypeError, ValueError):
                    pass

        check()
    """)
    assert proc.returncode == 0, proc.stderr[-2000:]


# -- topology: invariances and numerics -------------------------------------------------------------


@settings(max_examples=20, deadline=None)
@given(
    shift=st.lists(st.floats(-1e6, 1e6), min_size=3, max_size=3),
    log_scale=st.floats(-150, 150),
    rotation=st.integers(0, 2**31 - 1),
    order=st.integers(0, 2**31 - 1),
)
def test_betti_numbers_are_invariant_to_similarity_and_order(shift, log_scale, rotation, order):
    X = torus(40, 16)
    expected = ts.betti_numbers(X, maxdim=2).betti
    R = Rotation.random(random_state=rotation).as_matrix()
    Y = (X @ R.T) * 10.0**log_scale + np.asarray(shift) * 10.0**log_scale
    Y = Y[np.random.default_rng(order).permutation(len(Y))]
    assert ts.betti_numbers(Y, maxdim=2).betti == expected == (1, 2, 1)


@settings(max_examples=15, deadline=None)
@given(
    shift=st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=2),
    log_scale=st.floats(-100, 100),
    angle=st.floats(0, 6.3),
    order=st.integers(0, 2**31 - 1),
)
def test_persistence_diagrams_move_with_similarities(shift, log_scale, angle, order):
    X = circle(60, noise=0.05, seed=1)
    reference = ts.persistence(X)
    c, s = np.cos(angle), np.sin(angle)
    scale = 10.0**log_scale
    Y = (X @ np.array([[c, -s], [s, c]]).T + np.asarray(shift)) * scale
    Y = Y[np.random.default_rng(order).permutation(len(Y))]
    moved = ts.persistence(Y)
    for a, b in zip(reference, moved, strict=True):
        finite = np.isfinite(a[:, 1])
        assert len(a) == len(b) and np.isinf(b[~finite, 1]).all()
        assert np.allclose(np.sort(a[finite], axis=0), np.sort(b[np.isfinite(b[:, 1])] / scale, axis=0), rtol=1e-6,
                           atol=1e-9)  # fmt: skip


@pytest.mark.parametrize("scale", [1e-200, 1e200])
def test_extreme_magnitudes(scale):
    assert ts.betti_numbers(circle(200) * scale).betti == (1, 1)
    assert ts.betti_numbers(circle(200) * scale, method="rips", scale=0.2 * scale).betti == (1, 1)
    dgms = ts.persistence(circle(100) * scale)
    assert np.isclose(dgms[1][:, 1].max() / scale, ts.persistence(circle(100))[1][:, 1].max())


def test_maxmin_subsample_far_from_the_origin_keeps_the_loop():
    with pytest.warns(ts.SubsampleWarning):
        assert ts.betti_numbers(circle(3000) + 1e7, max_points=300).betti == (1, 1)
    picked = ts.subsample(circle(3000) + 1e7, 300)
    assert len(np.unique(picked)) == 300


def test_small_cloud_warning_follows_its_rule(rings):
    X, y = rings.train.tensors
    with pytest.warns(ts.SmallCloudWarning, match="33 per component"):
        assert ts.betti_numbers(X[y == 0][:300], maxdim=1).betti[1] < 9
    with warnings.catch_warnings():
        warnings.simplefilter("error", ts.SmallCloudWarning)
        ts.betti_numbers(circle(200))  # 200 > 39 points per component: silent
        ts.betti_numbers(clusters(3, 10), maxdim=0)  # no loops asked for: silent


# -- training: no NaN model is ever reported --------------------------------------------------------


def test_fit_refuses_non_finite_data_and_stops_at_a_non_finite_loss(rings):
    X, y = rings.train.tensors
    X_nan = X.clone()
    X_nan[7, 2] = float("nan")
    with pytest.raises(ValueError, match=r"NaN or inf in 1 of 600 inputs .*row 7"):
        ts.fit(ts.MLP(3), (X_nan, y), epochs=1, progress=False)
    with pytest.raises(ValueError, match="lr must be a positive, finite"):
        ts.fit(ts.MLP(3), rings.train, lr=float("inf"), progress=False)
    torch.manual_seed(0)
    with pytest.raises(TrainingDivergedError, match=r"epoch 1, batch \d+"):
        ts.fit(ts.MLP(3), rings.train, epochs=2, lr=1e7, progress=False)


def test_evaluate_never_reports_the_accuracy_of_a_nan_model(rings):
    model = ts.MLP(3)
    with torch.no_grad():
        model[0].weight.fill_(float("nan"))
    with pytest.raises(ValueError, match="outputs NaN"):
        ts.evaluate(model, rings.test)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": 0}, "lr must be"),
        ({"epochs": -3}, "epochs must be"),
        ({"target_accuracy": 1.5}, "target_accuracy"),
        ({"target_accuracy": 95}, "0.99, not 99"),
        ({"target_accuracy": -0.5}, "target_accuracy"),
        ({"eval_every": 0}, "eval_every"),
        ({"batch_size": 0}, "batch_size"),
    ],
)
def test_train_many_checks_its_arguments(rings, kwargs, message):
    spec = ts.ModelSpec(ts.LAYOUTS["relu"], 0)
    with pytest.raises(ValueError, match=message):
        ts.train_many([spec], rings.train, **{"epochs": 1, **kwargs}, progress=False)


def test_train_many_checks_its_data_and_stops_on_divergence(rings):
    spec = ts.ModelSpec(ts.LAYOUTS["relu"], 0)
    X, y = rings.train.tensors
    with pytest.raises(ValueError, match="empty"):
        ts.train_many([spec], (X[:0], y[:0]), epochs=1, progress=False)
    Xt, yt = rings.test.tensors
    with pytest.raises(ValueError, match=r"labels the training set lacks: \[2, 3\]"):
        ts.train_many([spec], rings.train, (Xt, yt + 2), epochs=1, progress=False)
    with pytest.raises(TrainingDivergedError, match="relu seed 0"):
        ts.train_many([spec], rings.train, epochs=2, lr=1e7, progress=False)


# -- tracker -----------------------------------------------------------------------------------------


class TupleModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))

    def forward(self, x):
        return self.body(x), {"aux": x}


def test_tracker_handles_tuple_outputs_float64_and_names_bad_layers(rings):
    X, y = rings.train.tensors
    torch.manual_seed(0)
    frame = ts.BettiTracker(TupleModel(), samples_per_class=100).profile(X.double(), y)
    assert set(frame.layer) == {"input", "body.1", "logits"}
    model = ts.MLP(3, hidden=[4, 4])
    with torch.no_grad():
        model.act2.register_forward_hook(lambda m, i, o: o * float("nan"))
    with pytest.raises(ValueError, match="layer 'act2' outputs NaN"):
        ts.BettiTracker(model, samples_per_class=50).profile(X, y)
    with pytest.raises(ValueError, match="batch_size"):
        ts.BettiTracker(model, batch_size=0)
    lonely = y.clone()
    lonely[0] = 5
    with pytest.warns(UserWarning, match="class 5 has 1 input"):
        ts.BettiTracker(ts.MLP(3, hidden=[4]), samples_per_class=50, maxdim=0).profile(X, lonely)


# -- pruning -----------------------------------------------------------------------------------------


def test_pruning_rejects_bad_budgets_and_nan_images():
    torch.manual_seed(0)
    model = ts.PaperCNN(channels=(4, 4, 4), dense=8)
    images = torch.randn(20, 1, 28, 28)
    scores = P.score_filters(model, images, layers=["conv0"], n_samples=20)
    with pytest.raises(ValueError, match="non-negative integers"):
        P.select_filters(scores, counts={"conv0": -3})
    with pytest.raises(ValueError, match="finite"):
        P.select_filters(scores, threshold=float("nan"))
    images[3, 0, 5, 5] = float("nan")
    with pytest.raises(ValueError, match="NaN or inf in 1 of 20 images"):
        P.score_filters(model, images)


def test_load_pruned_explains_bad_sources(tmp_path):
    torch.manual_seed(0)
    template = ts.PaperCNN(channels=(4, 4, 4), dense=8)
    with pytest.raises(ValueError, match="do not fit this architecture"):
        P.load_pruned(template, ts.MLP(3).state_dict())
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not a saved state dict"):
        P.load_pruned(template, text)
    state = template.state_dict()
    state["conv1.weight"] = state["conv1.weight"][:, :2]  # conv1 now expects 2 inputs, conv0 gives 4
    with pytest.raises(ValueError, match="inconsistent"):
        P.load_pruned(template, state)


# -- data --------------------------------------------------------------------------------------------


def _idx(array: np.ndarray) -> bytes:
    return struct.pack(">BBBB", 0, 0, 8, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def test_datasets_name_the_broken_file_and_check_arguments(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(_idx(np.zeros((3, 28, 28), np.uint8)))[:40])
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte\.gz is truncated"):
        read_idx(path)
    path.write_bytes(b"plain text, not gzip")
    with pytest.raises(ValueError, match="not a valid gzip"):
        read_idx(path)
    path.write_bytes(gzip.compress(_idx(np.zeros((3, 28, 28), np.uint8))))
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(_idx(np.array([1, 255, 3], np.uint8))))
    with pytest.raises(ValueError, match="label 255"):
        ts.fashion_mnist(tmp_path, split="test")
    with pytest.raises(ValueError, match="limit"):
        ts.fashion_mnist(tmp_path, split="test", limit=-5)
    with pytest.raises(TypeError, match="n_train must be an integer"):
        ts.nine_rings(100.0)
    for bad in (float("nan"), -1):
        with pytest.raises(ValueError, match="noise"):
            ts.nine_rings(noise=bad)
