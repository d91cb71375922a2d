import numpy as np
import pytest
import torch
from torch import nn

import toposcope as ts


@pytest.fixture(scope="module")
def rings():
    return ts.nine_rings(4000, 0, seed=0).train.tensors


def test_one_row_per_layer_class_dim(rings):
    X, y = rings
    torch.manual_seed(0)
    model = ts.MLP(3, hidden=[8] * 3)
    tracker = ts.BettiTracker(model)
    df = tracker.profile(X, y, epoch=0)
    assert tracker.layers == ["input", "act1", "act2", "act3", "logits"]
    assert len(df) == 5 * 2 * 2
    assert not df.duplicated(["layer", "class", "dim"]).any()
    assert list(df.columns) == ["epoch", "layer", "layer_index", "class", "k", "dim", "betti", "null_betti",
                                "n_points"]  # fmt: skip
    assert df.null_betti.isna().all()  # no null asked for
    # The input layer is the data itself: nine rings per class.
    inp = df[df.layer == "input"]
    assert inp.betti.tolist() == [9, 9, 9, 9]
    assert (df.n_points <= 1000).all()
    # Every hooked layer reads what the layer computes, worked out here by hand on the same draw.
    chosen = tracker.draw(X, y)
    Xc, yc = X[chosen], y[chosen]
    with torch.no_grad():
        a1 = torch.relu(model.fc1(Xc))
        a2 = torch.relu(model.fc2(a1))
        a3 = torch.relu(model.fc3(a2))
        by_hand = {"act1": a1, "act2": a2, "act3": a3, "logits": model.logits(a3)}
    for layer, acts in by_hand.items():
        for c in (0, 1):
            expected = ts.betti_numbers(acts[yc == c]).betti
            got = df[(df.layer == layer) & (df["class"] == c)].sort_values("dim").betti.tolist()
            assert tuple(got) == expected, (layer, c)


def test_null_reads_a_gaussian_cloud_of_each_layer(rings):
    X, y = rings
    torch.manual_seed(0)
    model = ts.MLP(3, hidden=[8])
    df = ts.BettiTracker(model, ["input", "act1"], null=True).profile(X, y)
    inp = df[df.layer == "input"]
    assert inp.betti.tolist() == [9, 9, 9, 9]  # nine rings a class
    assert inp[inp.dim == 1].null_betti.tolist() == [0, 0]  # a Gaussian cloud has no loop at this scale
    chosen = ts.BettiTracker(model).draw(X, y)
    expected = ts.betti_numbers(ts.gaussian_null(X[chosen][y[chosen] == 0].numpy(), 0)).betti
    assert tuple(inp[inp["class"] == 0].null_betti) == expected
    with pytest.raises(ValueError, match="null must be True or False"):
        ts.BettiTracker(model, null="yes")


def test_several_k_read_from_one_pass_equal_one_k_at_a_time(rings):
    X, y = rings
    torch.manual_seed(1)
    model = ts.MLP(3, hidden=[16] * 2)
    together = ts.BettiTracker(model, samples_per_class=300, k=[5, 14]).profile(X, y)
    for k in (5, 14):
        alone = ts.BettiTracker(model, samples_per_class=300, k=k).profile(X, y)
        part = together[together.k == k].reset_index(drop=True)
        assert part.betti.tolist() == alone.betti.tolist()
        assert (alone.k == k).all()
    with pytest.raises(ValueError, match="several k need method='knn'"):
        ts.BettiTracker(model, k=[5, 14], method="rips", scale=0.1)


def test_all_classes_together_and_predicted_labels(rings):
    X, y = rings
    model = ts.MLP(3, hidden=[8])
    df = ts.BettiTracker(model, per_class=False, samples_per_class=200).profile(X, y)
    assert set(df["class"]) == {"all"} and len(df) == 3 * 2
    df = ts.BettiTracker(model, layers=["act1"], labels="predicted", samples_per_class=200).profile(X, y)
    assert set(df["layer"]) == {"act1"}


def test_hooks_removed_even_when_forward_raises():
    class Boom(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)
            self.act = nn.ReLU()

        def forward(self, x):
            self.act(self.fc(x))
            raise RuntimeError("boom")

    model = Boom()
    tracker = ts.BettiTracker(model)
    with pytest.raises(RuntimeError, match="boom"):
        tracker.profile(torch.randn(20, 3), torch.zeros(20, dtype=torch.long))
    assert all(not m._forward_hooks for m in model.modules())
    assert model.training  # mode restored


def test_hooks_removed_after_profile(rings):
    X, y = rings
    model = ts.MLP(3, hidden=[8])
    model.eval()
    ts.BettiTracker(model, samples_per_class=100).profile(X, y)
    assert all(not m._forward_hooks for m in model.modules())
    assert not model.training


def test_callback_records_every_n_epochs(rings):
    X, y = rings
    data = (X, y)
    model = ts.MLP(3, hidden=[8])
    tracker = ts.BettiTracker(model, samples_per_class=100)
    ts.fit(model, data, epochs=4, progress=False, callbacks=[tracker.callback(X, y, every=2)])
    assert sorted(tracker.frame.epoch.unique()) == [0, 2, 4]
    ax = ts.plot_betti_profile(tracker.frame)
    assert len(ax.lines) == 4  # (b0, b1) x (class 0, class 1)
    ax = ts.plot_betti_epochs(tracker.frame, "act1")
    assert len(ax.lines) == 4 and list(ax.lines[0].get_xdata()) == [0, 2, 4]


def test_tracker_bad_input(rings):
    X, y = rings
    model = ts.MLP(3, hidden=[8])
    with pytest.raises(ValueError, match="unknown layer"):
        ts.BettiTracker(model, layers=["conv9"])
    with pytest.raises(ValueError, match="one label per input"):
        ts.BettiTracker(model).profile(X[:10], y[:9])
    with pytest.raises(ValueError, match="labels must be"):
        ts.BettiTracker(model, labels="soft")
    with pytest.raises(TypeError, match=r"nn\.Module"):
        ts.BettiTracker("model")
    for bad in (0, -2, 1.5, True):  # refused when built, not at the first profile
        with pytest.raises(ValueError, match="n_jobs must be"):
            ts.BettiTracker(model, n_jobs=bad)
    with pytest.raises(ValueError, match="no rows for layer"):
        ts.plot_betti_epochs(ts.BettiTracker(model, samples_per_class=50).profile(X, y), "act7")


def test_maxmin_draw_spreads_points_evenly_and_is_seeded():
    from toposcope.tracker import draw_per_class, maxmin_per_class

    X = torch.as_tensor(ts.shapes.circle(200), dtype=torch.float32)
    y = torch.zeros(200, dtype=torch.long)
    even = maxmin_per_class(X, y, 50, seed=0)
    assert len(even) == 50 and torch.equal(even, maxmin_per_class(X, y, 50, seed=0))
    gaps = torch.diff(torch.cat([even, even[:1] + 200]))
    assert gaps.min() >= 3 and gaps.max() <= 6  # every fourth point or so: no gap more than twice the mean
    assert torch.diff(torch.cat([r := draw_per_class(y, 50, 0), r[:1] + 200])).max() > 6  # a random draw has holes
    tracker = ts.BettiTracker(nn.Identity(), layers=["input"], samples_per_class=50, draw="maxmin")
    assert tracker.profile(X, y).sort_values("dim").betti.tolist() == [1, 1]
    with pytest.raises(ValueError, match="draw must be"):
        ts.BettiTracker(nn.Identity(), draw="grid")


def test_torus_noise_is_seeded_jitter_about_the_z_axis():
    clean = ts.shapes.torus(20, 10)
    assert np.isclose(np.hypot(clean[:, 0], clean[:, 1]).max(), 2.8)  # core radius R + tube r, in the xy-plane
    assert np.abs(clean[:, 2]).max() <= 0.8
    noisy = ts.shapes.torus(20, 10, noise=0.01, seed=1)
    assert np.array_equal(noisy, ts.shapes.torus(20, 10, noise=0.01, seed=1))
    assert 0 < np.abs(noisy - clean).max() < 0.1


def test_fit_takes_float64_features_for_a_float32_model():
    torch.manual_seed(0)
    X = np.random.default_rng(0).normal(size=(64, 2))  # float64, as numpy gives
    y = (X[:, 0] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    history = ts.fit(
        model, (torch.from_numpy(X), torch.from_numpy(y)), epochs=30, lr=0.05, progress=False, device="cpu"
    )
    assert history.records[-1]["train_acc"] > 0.9


# -- edges the mutation run found untested (benchmarks/mutation.py) ---------------------------------------


def _small_model():
    torch.manual_seed(0)
    return ts.MLP(2, hidden=[8, 8])


def test_tracker_defaults_are_the_documented_ones():
    tracker = ts.BettiTracker(_small_model())
    assert (tracker.batch_size, tracker.seed, tracker.progress, tracker.n_jobs, tracker.maxdim) == (4096, 0, False,
                                                                                                    1, 1)
    assert (tracker.sampling, tracker.samples_per_class, tracker.labels, tracker.null) == ("random", 1000, "true",
                                                                                           False)
    assert tracker.ks is None and tracker.betti_kwargs == {}


def test_tracker_arguments_are_checked_with_named_messages():
    model = _small_model()
    ts.BettiTracker(model, samples_per_class=2, batch_size=1, maxdim=0)  # the smallest allowed
    cases = [({"samples_per_class": 1}, "samples_per_class must be at least 2 or None; got 1"),
             ({"batch_size": 0}, "batch_size must be a positive integer; got 0"),
             ({"batch_size": True}, "batch_size must be a positive integer; got True"),
             ({"batch_size": 2.0}, "batch_size must be a positive integer; got 2.0"),
             ({"maxdim": -1}, "maxdim must be a non-negative integer; got -1"),
             ({"maxdim": True}, "maxdim must be a non-negative integer; got True"),
             ({"maxdim": 1.0}, "maxdim must be a non-negative integer; got 1.0"),
             ({"k": [5, 14], "method": "rips"}, "^several k need method='knn'$")]  # fmt: skip
    for options, message in cases:
        with pytest.raises(ValueError, match=message):
            ts.BettiTracker(model, **options)
    with pytest.raises(TypeError, match=r"model must be an nn\.Module; got str"):
        ts.BettiTracker("model")
    tracker = ts.BettiTracker(model, k=[5, 14], method="knn", min_persistence=0)
    assert tracker.ks == [5, 14] and tracker.betti_kwargs == {"min_persistence": 0}
    with pytest.raises(ValueError, match="every must be a positive number of epochs; got 0"):
        tracker.callback(torch.zeros(4, 2), torch.zeros(4, dtype=torch.long), every=0)
    tracker.callback(torch.zeros(4, 2), torch.zeros(4, dtype=torch.long), every=1)


def test_profile_input_checks_and_a_lonely_class():
    tracker = ts.BettiTracker(_small_model(), layers=["input"], maxdim=0, k=2)
    with pytest.raises(ValueError, match="need at least 2 inputs; got 1"):
        tracker.profile(torch.zeros(1, 2), torch.zeros(1, dtype=torch.long))
    with pytest.raises(ValueError, match=r"^profile: labels must be"):
        tracker.profile(torch.zeros(3, 2), torch.tensor([0, -1, 0]))
    X = torch.tensor([[0.0, 0.0], [0.0, 1.0], [5.0, 5.0], [9.0, 9.0], [9.0, 8.0]])
    y = torch.tensor([0, 0, 1, 2, 2])
    with pytest.warns(UserWarning, match=r"^class 1 has 1 input\(s\): no Betti numbers for it$"):
        frame = tracker.profile(X, y)
    assert sorted(frame["class"].unique()) == [0, 2]  # the classes after the lonely one are still read
    assert list(frame.columns) == list(ts.tracker.COLUMNS) and set(frame.dim) == {0}  # maxdim 0: one dimension


def test_profile_by_predicted_labels_splits_by_the_models_answer():
    model = nn.Linear(2, 2)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, 0.0], [-1.0, 0.0]]))
        model.bias.zero_()
    X = torch.tensor([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [-1.0, 0.0], [-2.0, 0.0], [-3.0, 0.0]])
    y = torch.zeros(6, dtype=torch.long)  # every true label 0; the model answers 0 for x > 0, 1 for x < 0
    tracker = ts.BettiTracker(model, layers=["input"], labels="predicted", maxdim=0, k=2)
    frame = tracker.profile(X, y)
    assert sorted(frame["class"].unique()) == [0, 1] and frame.n_points.tolist() == [3, 3]


def test_a_layer_that_outputs_nan_is_named():
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    with torch.no_grad():
        model[0].weight.fill_(float("nan"))
    tracker = ts.BettiTracker(model, layers=["1"], maxdim=0, k=2)
    with pytest.raises(ValueError, match=r"^layer '1' outputs NaN or inf for class 0: no topology to compute "
                                         r"\(diverged weights, or non-finite inputs\)$"):  # fmt: skip
        tracker.profile(torch.randn(6, 2), torch.zeros(6, dtype=torch.long))


def test_the_maxmin_draw_is_the_one_used():
    from toposcope.tracker import maxmin_per_class

    X, y = torch.randn(40, 2, generator=torch.Generator().manual_seed(0)), torch.arange(40) % 2
    tracker = ts.BettiTracker(_small_model(), samples_per_class=5, draw="maxmin", seed=3)
    assert torch.equal(tracker.draw(X, y), maxmin_per_class(X, y, 5, 3))
    assert not torch.equal(maxmin_per_class(X, y, 5, 3), maxmin_per_class(X, y, 5, 4))
    everything = ts.BettiTracker(_small_model(), samples_per_class=None)
    assert torch.equal(everything.draw(X, y), torch.arange(40))
    small = torch.arange(5)  # a class with exactly n inputs keeps them all
    assert maxmin_per_class(X[:10], y[:10], 5, 0).tolist() == small.mul(2).tolist() + small.mul(2).add(1).tolist()


def test_tracker_hands_its_options_to_the_homology(rings, monkeypatch):
    """n_jobs, progress, maxdim, the k's and the model's device reach betti_numbers_many as given."""
    import toposcope.tracker as tracker_module

    X, y = rings
    asked = []

    def spy(clouds, **kwargs):
        asked.append(kwargs)
        per_cloud = [[ts.BettiResult((1, 0), "knn", {"k": k}, len(c), len(c)) for k in kwargs.get("ks", [0])]
                     for c in clouds]  # fmt: skip
        return per_cloud if "ks" in kwargs else [results[0] for results in per_cloud]

    monkeypatch.setattr(tracker_module, "betti_numbers_many", spy)
    model = ts.MLP(3, hidden=[4])
    ts.BettiTracker(model, ["act1"], n_jobs=2, maxdim=0, k=[5, 9], progress=True).profile(X, y)
    assert asked[-1] == {"n_jobs": 2, "progress": True, "maxdim": 0, "ks": [5, 9], "device": None}
    single = ts.BettiTracker(model, ["act1"], n_jobs=3, maxdim=1, k=7)
    single.profile(X, y)
    assert asked[-1] == {"n_jobs": 3, "progress": False, "maxdim": 1, "k": 7}
    on_meta = ts.BettiTracker(torch.nn.Linear(2, 2, device="meta"), k=[5, 9])
    on_meta._betti([np.zeros((4, 2))])
    assert asked[-1]["device"] == torch.device("meta")  # a model off the CPU: its device is where the search runs


def test_tracker_edges_seen_by_the_mutation_run(rings, monkeypatch):
    """The cases the mutation run found unwatched: the input copied as float32 before an in-place first layer,
    two inputs are enough, a frame with no rows still has its columns, layer_index counts the layers, the null
    uses the tracker's seed, a model without parameters reads several k, options reach the several-k path, and
    a callback profiles every epoch by default."""
    import toposcope.tracker as tracker_module

    X = torch.tensor([[-1.0, 2.0], [3.0, -4.0], [0.5, 0.5]], dtype=torch.float64)
    model = nn.Sequential(nn.ReLU(inplace=True), nn.Linear(2, 2))
    acts, _ = ts.BettiTracker(model.double(), ["input"]).activations(X)
    assert acts["input"].dtype == torch.float32
    original = X.float()
    acts, _ = ts.BettiTracker(model.float(), ["input"]).activations(X.float())
    assert torch.equal(acts["input"], original)  # copied before the in-place ReLU ran on the same memory

    two = ts.BettiTracker(ts.MLP(2, hidden=[3]), ["input"], k=2).profile(torch.randn(2, 2), torch.tensor([0, 0]))
    assert two.n_points.tolist() == [2, 2]
    with pytest.warns(UserWarning, match="has 1 input"):
        empty = ts.BettiTracker(ts.MLP(2, hidden=[3])).profile(torch.randn(2, 2), torch.tensor([0, 1]))
    assert empty.empty and list(empty.columns) == ["epoch", "layer", "layer_index", "class", "k", "dim", "betti",
                                                   "null_betti", "n_points"]  # fmt: skip

    Xr, yr = rings
    model = ts.MLP(3, hidden=[4, 4])
    frame = ts.BettiTracker(model, ["input", "act2", "logits"], samples_per_class=60, k=5).profile(Xr, yr)
    assert frame.groupby("layer").layer_index.first().to_dict() == {"input": 0, "act2": 1, "logits": 2}

    seeds = []
    real_null = tracker_module.gaussian_null
    monkeypatch.setattr(tracker_module, "gaussian_null",
                        lambda cloud, seed: seeds.append(seed) or real_null(cloud, seed))  # fmt: skip
    ts.BettiTracker(model, ["act1"], samples_per_class=60, k=5, null=True, seed=7).profile(Xr, yr)
    assert seeds == [7, 7]  # one null per class, under the tracker's seed

    flat = ts.BettiTracker(nn.Sequential(nn.ReLU()), ["input"], samples_per_class=60, k=[5, 9]).profile(Xr, yr)
    assert sorted(set(flat.k)) == [5, 9]  # no parameters: the CPU path
    asked = []
    real_many = tracker_module.betti_numbers_many
    monkeypatch.setattr(tracker_module, "betti_numbers_many", lambda clouds, **kw: asked.append(kw) or real_many(
        clouds, **kw))  # fmt: skip
    ts.BettiTracker(model, ["act1"], samples_per_class=60, k=[5, 9], scale=3).profile(Xr, yr)
    assert asked[-1]["scale"] == 3 and asked[-1]["ks"] == [5, 9]

    tracker = ts.BettiTracker(model, ["act1"])
    profiled = []
    monkeypatch.setattr(tracker, "profile", lambda X, y, epoch: profiled.append(epoch))
    record = tracker.callback(Xr, yr)
    for epoch in range(4):
        record(model, epoch, {})
    assert profiled == [0, 1, 2, 3]


def test_a_class_drawn_whole_leaves_the_next_class_draw_alone():
    """A class of at most n inputs is kept whole and draws nothing from the generator, so the next class's
    farthest-point draw is the one it gets on its own under the same seed."""
    from toposcope.tracker import maxmin_per_class

    rng = np.random.default_rng(0)
    X = torch.from_numpy(rng.standard_normal((70, 3)))
    y = torch.tensor([0] * 10 + [1] * 60)
    both = maxmin_per_class(X, y, 10, seed=4)
    alone = maxmin_per_class(X[10:], y[10:], 10, seed=4) + 10
    assert both[:10].tolist() == list(range(10)) and both[10:].tolist() == alone.tolist()


def test_a_lonely_class_warning_points_at_the_caller():
    import os

    if "MUTANT_UNDER_TEST" in os.environ:
        pytest.skip("mutmut's trampolines add stack frames: where a warning points cannot be seen under it")
    with pytest.warns(UserWarning, match="has 1 input") as caught:
        ts.BettiTracker(ts.MLP(2, hidden=[3]), ["input"]).profile(torch.randn(3, 2), torch.tensor([0, 0, 1]))
    assert caught[0].filename == __file__
