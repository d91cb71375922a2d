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
