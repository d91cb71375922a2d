import copy
import fractions
import re

import numpy as np
import pandas as pd
import pytest
import torch
import torch_pruning as tp
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.data import TensorDataset

import toposcope as ts
from toposcope import pruning as P
from toposcope.datasets import DEBIAN_FASHION_MNIST

CHANNELS, DENSE = (6, 8, 8), 16

pytestmark = pytest.mark.skipif(
    not DEBIAN_FASHION_MNIST.is_dir(), reason="needs real Fashion-MNIST: apt-get install dataset-fashion-mnist"
)


def small_cnn(channels=CHANNELS) -> ts.PaperCNN:
    return ts.PaperCNN(channels=channels, dense=DENSE)


@pytest.fixture(scope="module")
def trained():
    data = ts.fashion_mnist(split="train", limit=512)
    torch.manual_seed(0)
    model = small_cnn()
    ts.fit(model, data, epochs=1, batch_size=64, lr=3e-3, progress=False)
    images, labels = data.tensors
    return model, images[:200], labels[:200]


@pytest.fixture(scope="module")
def scores(trained):
    model, images, _ = trained
    return P.score_filters(model, images)


def test_score_table(trained, scores):
    model, images, _ = trained
    assert list(scores.columns) == ["layer", "filter", "b0", "b1", "score", "n_points", "scale"]
    assert scores.groupby("layer").size().to_dict() == {"conv0": 6, "conv1": 8, "conv2": 8}
    assert scores.equals(P.score_filters(model, images))  # deterministic
    # each filter's (b0, b1): its maps over the images (conv0's output), read by hand at the layer's scale
    with torch.no_grad():
        maps = model.conv0(images)
    for f in (0, 3, 5):
        row = scores[(scores.layer == "conv0") & (scores["filter"] == f)].iloc[0]
        expected = ts.betti_numbers(maps[:, f].flatten(1), method="rips", scale=row.scale)
        assert (row.b0, row.b1) == expected.betti and row.n_points == expected.n_points
        assert row.score == row.b0 + row.b1
    # one scale per layer by default
    assert (scores.groupby("layer").scale.nunique() == 1).all()


def test_dead_filter_is_a_single_point(trained):
    model, images, _ = trained
    model = copy.deepcopy(model)
    with torch.no_grad():
        model.conv1.weight[3] = 0
        model.conv1.bias[3] = 0
    row = P.score_filters(model, images, layers=["conv1"]).set_index("filter").loc[3]
    assert row.n_points == 1 and row.b0 == 1 and row.b1 == 0


def test_threshold_removes_exactly_the_filters_above_it(trained, scores):
    model, images, _ = trained
    threshold = float(scores.score.median())
    plan = P.select_filters(scores, threshold=threshold)
    expected = {
        layer: sorted(t[t.score > threshold]["filter"].tolist())
        for layer, t in scores.groupby("layer")
        if (t.score > threshold).any()
    }
    assert plan == expected and plan
    pruned = P.prune(model, scores, images[:1], threshold=threshold)
    for layer, conv in (("conv0", pruned.conv0), ("conv1", pruned.conv1), ("conv2", pruned.conv2)):
        full = dict(model.named_modules())[layer].out_channels
        assert conv.out_channels == conv.weight.shape[0] == full - len(plan.get(layer, []))


def _remove(model, images, plan):
    return P.remove_filters(model, plan, images[:1])


def test_sizes_shrink_as_expected(trained):
    model, images, _ = trained
    plan = {"conv0": [1, 4], "conv1": [0], "conv2": [2, 5, 7]}
    pruned = _remove(model, images, plan)
    reference = small_cnn(channels=(4, 7, 5))  # the same architecture built small
    assert sum(p.numel() for p in pruned.parameters()) == sum(p.numel() for p in reference.parameters())
    assert P.state_dict_bytes(pruned) == P.state_dict_bytes(reference)
    assert P.state_dict_bytes(pruned) < P.state_dict_bytes(model)
    assert pruned.dense0.in_features == 5 * 3 * 3


def test_pruned_equals_original_with_filters_zeroed(trained):
    model, images, _ = trained
    plan = {"conv0": [0, 5], "conv1": [2, 3], "conv2": [1]}
    pruned = _remove(model, images, plan)
    zeroed = copy.deepcopy(model)
    with torch.no_grad():
        for layer, idxs in plan.items():
            conv = dict(zeroed.named_modules())[layer]
            conv.weight[idxs] = 0
            conv.bias[idxs] = 0
    model.eval(), pruned.eval(), zeroed.eval()
    with torch.no_grad():
        assert torch.allclose(pruned(images), zeroed(images), atol=1e-5)
        assert not torch.allclose(pruned(images), model(images), atol=1e-3)


def test_save_load_round_trip(trained, scores, tmp_path):
    model, images, _ = trained
    pruned = P.prune(model, scores, images[:1], ratio=0.3)
    path = tmp_path / "pruned.pt"
    torch.save(pruned.state_dict(), path)
    loaded = P.load_pruned(small_cnn(), path)
    pruned.eval(), loaded.eval()
    with torch.no_grad():
        assert torch.equal(pruned(images), loaded(images))
    assert loaded.conv2.out_channels == pruned.conv2.out_channels < 8


def test_removing_every_filter_is_refused(trained, scores):
    model, images, _ = trained
    with pytest.raises(ValueError, match="removes all 6 filters of 'conv0'"):
        P.prune(model, scores, images[:1], threshold=-1)
    with pytest.raises(ValueError, match="exactly one of"):
        P.select_filters(scores, threshold=1, ratio=0.5)
    with pytest.raises(ValueError, match="cannot remove all"):
        P.remove_filters(model, {"conv1": list(range(8))}, images[:1])


def test_bad_input(trained):
    model, images, labels = trained
    with pytest.raises(ValueError, match=r"not an nn\.Conv2d"):
        P.score_filters(model, images, layers=["dense0"])
    with pytest.raises(ValueError, match="no layer 'conv9'"):
        P.score_filters(model, images, layers=["conv9"])
    with pytest.raises(ValueError, match="at least 2 sample images"):
        P.score_filters(model, images[:0])
    with pytest.raises(ValueError, match="batch"):
        P.score_filters(model, images[:, 0])
    with pytest.raises(ValueError, match="needs labels"):
        P.score_filters(model, images, per_class=True)
    with pytest.raises(ValueError, match="one label per image"):
        P.score_filters(model, images, labels[:5])
    with pytest.raises(ValueError, match="score must be one of"):
        P.score_filters(model, images, score="b7")
    with pytest.raises(ValueError, match="has 6 filters"):
        P.remove_filters(model, {"conv0": [6]}, images[:1])


def test_per_class_and_knn_variants(trained):
    model, images, labels = trained
    per_class = P.score_filters(model, images, labels, layers=["conv2"], per_class=True)
    assert (per_class.b0 >= len(torch.unique(labels)) - 1).all()
    knn = P.score_filters(model, images, layers=["conv2"], method="knn")
    assert knn.scale.isna().all() and (knn.b0 >= 1).all()


def test_baselines_at_equal_budget(trained, scores):
    model, images, _ = trained
    l1 = P.l1_scores(model)
    assert np.allclose(l1.score, -l1.l1)
    expected = model.conv0.weight[2].detach().abs().sum().item()
    assert np.isclose(l1.set_index(["layer", "filter"]).loc[("conv0", 2), "l1"], expected)
    assert P.random_scores(model, seed=3).equals(P.random_scores(model, seed=3))
    models, plan = P.prune_at_equal_budget(model, scores, images[:1], ratio=0.25)
    shapes = {name: [m.conv0.out_channels, m.conv1.out_channels, m.conv2.out_channels] for name, m in models.items()}
    assert shapes["betti"] == shapes["l1"] == shapes["random"] == [5, 6, 6]
    assert plan["conv1"] == sorted(scores[scores.layer == "conv1"].sort_values("score")["filter"].iloc[-2:].tolist())


def test_betti_importance_in_torch_pruning(trained, scores):
    model, images, _ = trained
    model = copy.deepcopy(model)
    original_bias = model.conv1.bias.detach().clone()
    importance = P.BettiImportance(model, scores)
    assert isinstance(importance, tp.importance.Importance)  # a Torch-Pruning citizen, not a look-alike
    pruner = tp.pruner.MetaPruner(
        model, images[:1], importance=importance, pruning_ratio=0.25, ignored_layers=[model.dense0, model.logits]
    )
    pruner.step()
    assert model.conv1.out_channels == 6
    assert model(images[:3]).shape == (3, 10)
    # The surviving filters (found by their biases) are the six with the lowest Betti score.
    surviving = sorted(int(torch.nonzero(original_bias == b)[0, 0]) for b in model.conv1.bias.detach())
    table = scores[scores.layer == "conv1"].sort_values(["score", "filter"], ascending=[True, False])
    lowest = table["filter"].iloc[:6].tolist()
    cut = table["score"].iloc[5]
    # ties at the cut may be broken either way; everything strictly below it must survive
    assert set(table[table.score < cut]["filter"]) <= set(surviving)
    assert all(scores.set_index(["layer", "filter"]).loc[("conv1", f), "score"] <= cut for f in surviving)
    assert len(surviving) == len(lowest)


def test_compare_table(trained):
    model, images, labels = trained
    pruned = _remove(model, images, {"conv1": [0, 1, 2, 3]})
    table = P.compare({"unpruned": model, "pruned": pruned}, (images, labels), batch_sizes=(1, 32), repeats=3)
    assert list(table.index) == ["unpruned", "pruned"]
    assert {"params", "bytes", "accuracy", "latency_ms_b1", "latency_ms_b32", "size_ratio"} <= set(table.columns)
    assert table.loc["unpruned", "size_ratio"] == 1.0 and table.loc["pruned", "size_ratio"] < 1.0
    assert table.loc["pruned", "params"] < table.loc["unpruned", "params"]
    assert 0 <= table.loc["pruned", "accuracy"] <= 1


@pytest.mark.parametrize("criterion", ["relative", "correlation"])
def test_shape_criteria_ignore_a_filters_magnitude(trained, criterion):
    """Multiplying some filters' weights and bias by 5 scales their ReLU outputs by 5: the literal
    reading (one radius per layer) changes their scores, the shape criteria do not."""
    model, images, labels = trained
    louder = copy.deepcopy(model)
    with torch.no_grad():
        louder.conv1.weight[:4] *= 5
        louder.conv1.bias[:4] *= 5
    kwargs = {"layers": ["conv1"], "per_class": 8, "criterion": criterion}
    before = P.shape_scores(model, images, labels, **kwargs)
    after = P.shape_scores(louder, images, labels, **kwargs)
    assert before.score.tolist() == after.score.tolist()
    assert np.allclose(after.rms[:4], 5 * before.rms[:4])
    literal = {"layers": ["conv1"], "per_class": 8, "criterion": "literal"}
    assert (
        P.shape_scores(model, images, labels, **literal).score.tolist()
        != P.shape_scores(louder, images, labels, **literal).score.tolist()
    )


def test_shape_scores_read_the_activation_output_and_validate(trained):
    model, images, labels = trained
    assert P.output_modules(model, ["conv0", "conv1", "conv2"]) == {"conv0": "act0", "conv1": "act1",
                                                                      "conv2": "act2"}  # fmt: skip
    table = P.shape_scores(model, images, labels, per_class=5)
    assert list(table.columns) == ["layer", "filter", "h0", "h1", "score", "scale", "rms"]
    assert (table.h0 >= labels.unique().numel()).all()  # at least one piece per class
    with pytest.raises(ValueError, match="needs labels"):
        P.shape_scores(model, images)
    with pytest.raises(ValueError, match="criterion must be one of"):
        P.shape_scores(model, images, labels, criterion="size")
    with pytest.raises(ValueError, match="tau must be a positive"):
        P.shape_scores(model, images, labels, tau=0)


def test_relative_bars_on_known_shapes():
    from scipy.spatial.distance import cdist

    from toposcope.pruning.shape import relative_bars

    three = np.r_[ts.shapes.circle(40), ts.shapes.circle(40, centre=(10, 0)), ts.shapes.circle(40, centre=(0, 10))]
    h0, h1, scale = relative_bars(cdist(three, three), tau=3.0)
    assert (h0, h1) == (3, 3) and scale > 0  # three circles far apart: three pieces, three loops
    assert relative_bars(np.zeros((5, 5)), tau=3.0) == (1, 0, 0.0)  # one repeated point


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(4, 40), dim=st.integers(1, 30), tau=st.floats(0.5, 6.0))
def test_relative_bars_shortcuts_are_exact(seed, n, dim, tau):
    """The components count and the enclosing-radius shortcut give what full persistence gives."""
    from ripser import ripser
    from scipy.sparse.csgraph import minimum_spanning_tree
    from scipy.spatial.distance import cdist

    from toposcope.pruning.shape import relative_bars

    x = np.random.default_rng(seed).normal(size=(n, dim))
    D = cdist(x, x)
    h0, h1, scale = relative_bars(D, tau)
    dgms = ripser(D, maxdim=1, distance_matrix=True)["dgms"]
    cut = tau * scale
    # H0 from scipy's spanning tree in float64: ripser's float32 deaths can round a bar that ends exactly at the
    # cut (tau = 1 makes the cut a nearest-neighbour distance) to just past it
    assert h0 == 1 + int(np.sum(minimum_spanning_tree(D).data > cut))
    assert h1 == int(np.sum(dgms[1][:, 1] - dgms[1][:, 0] > cut))


def test_shape_scores_same_in_worker_processes(trained):
    model, images, labels = trained
    kwargs = {"layers": ["conv0"], "per_class": 6, "criterion": "correlation"}
    alone = P.shape_scores(model, images, labels, **kwargs)
    pd.testing.assert_frame_equal(alone, P.shape_scores(model, images, labels, n_jobs=2, **kwargs))
    with pytest.raises(ValueError, match="n_jobs must be"):
        P.shape_scores(model, images, labels, n_jobs=0, **kwargs)


def test_global_scope_ranks_the_whole_network_and_caps_each_layer():
    scores = pd.DataFrame({"layer": ["a"] * 4 + ["b"] * 6, "filter": [*range(4), *range(6)],
                           "score": [9, 8, 7, 6, 1, 2, 3, 4, 5, 0]})  # fmt: skip
    assert P.select_filters(scores, ratio=0.3, scope="global") == {"a": [0, 1, 2]}  # the three best of ten
    assert P.select_filters(scores, ratio=0.3) == {"a": [0], "b": [4]}  # per layer: the best of each
    # half the network: a may lose at most floor(0.75 * 4) = 3, so b's two best come next (4 and 3)
    assert P.select_filters(scores, ratio=0.5, scope="global", max_layer_ratio=0.75) == {"a": [0, 1, 2],
                                                                                        "b": [3, 4]}  # fmt: skip
    with pytest.raises(ValueError, match="scope must be"):
        P.select_filters(scores, ratio=0.3, scope="network")
    with pytest.raises(ValueError, match="give ratio="):
        P.select_filters(scores, threshold=3, scope="global")
    with pytest.raises(ValueError, match="max_layer_ratio"):
        P.select_filters(scores, ratio=0.3, scope="global", max_layer_ratio=1.0)


def test_score_tables_must_match_the_model(trained, scores):
    """Missing, repeated, stale and foreign rows are refused with the layer named, never silently applied."""
    model, images, _ = trained
    half = scores[~((scores.layer == "conv0") & (scores["filter"] >= 3))]  # 3 of conv0's 6 filters listed
    with pytest.raises(ValueError, match=r"scores of 'conv0' do not match its 6 filters: missing \[3, 4, 5\]"):
        P.prune(model, half, images[:1], ratio=0.5)
    doubled = pd.concat([scores, scores[scores.layer == "conv0"].head(2)])
    with pytest.raises(ValueError, match="filter 0 of 'conv0' more than once"):
        P.prune(model, doubled, images[:1], counts={"conv0": 4})
    small = P.prune(model, scores, images[:1], ratio=0.5)
    assert small.conv0.out_channels == 3
    with pytest.raises(ValueError, match=r"^these scores were computed on another model \(its fingerprint differs: "
                                         r"other weights, or filters removed since\); score this model again$"):
        P.prune(small, scores, images[:1], ratio=0.25)  # the unpruned model's table on the pruned one
    unstamped = scores.copy()
    unstamped.attrs = {}
    with pytest.raises(ValueError, match="do not match its 3 filters"):
        P.prune(small, unstamped, images[:1], ratio=0.25)  # without the stamp the counts still catch it
    torch.manual_seed(1)
    with pytest.raises(ValueError, match="computed on another model"):
        P.BettiImportance(small_cnn(), scores)  # same shapes, other weights
    assert P.model_fingerprint(copy.deepcopy(model)) == scores.attrs["model"]


def test_score_filters_in_slices_when_the_distances_outgrow_the_budget(trained, scores, monkeypatch):
    """A layer's distance matrices beyond the memory budget are computed a few filters at a time, same scores;
    one filter's matrix beyond it is refused (it was the OOM killer that ended a 5,000-image scoring)."""
    from toposcope import memory

    model, images, _ = trained
    one_filter = 3 * 8 * 200 * 200
    monkeypatch.setattr(memory, "MEMORY_BUDGET", 3 * one_filter)  # three filters at a time
    sliced = P.score_filters(model, images)
    assert sliced.drop(columns="scale").equals(scores.drop(columns="scale"))
    assert np.allclose(sliced.scale, scores.scale)
    monkeypatch.setattr(memory, "MEMORY_BUDGET", one_filter // 2)
    with pytest.raises(MemoryError, match="lower n_samples"):
        P.score_filters(model, images)


# -- edges the mutation run found untested (benchmarks/mutation.py) ---------------------------------------


def test_score_tables_are_checked_with_named_messages():
    from toposcope.pruning.scores import check_scores, check_scores_match

    with pytest.raises(TypeError, match=r"^scores must be a DataFrame with columns layer, filter, score \(see "
                                        r"score_filters\)$"):  # fmt: skip
        check_scores({"layer": ["conv0"]})
    with pytest.raises(TypeError, match="scores must be a DataFrame"):
        check_scores(pd.DataFrame({"layer": ["conv0"], "filter": [0]}))
    with pytest.raises(ValueError, match=r"^scores is empty$"):
        check_scores(pd.DataFrame(columns=["layer", "filter", "score"]))
    twice = pd.DataFrame({"layer": ["conv0", "conv0", "conv1"], "filter": [0, 0, 0], "score": [1, 2, 3]})
    with pytest.raises(ValueError, match=r"^scores list filter 0 of 'conv0' more than once \(2 repeated rows\): "
                                         r"one row per filter$"):  # fmt: skip
        check_scores(twice)
    check_scores(twice.iloc[1:])  # the same filter number in two layers is two filters
    model = ts.PaperCNN()
    full = P.l1_scores(model)
    check_scores_match(model, full)
    with pytest.raises(ValueError, match=r"^scores name 'fc1', which is not a conv layer of this model$"):
        check_scores_match(model, pd.DataFrame({"layer": ["fc1"], "filter": [0], "score": [1.0]}))
    layers = list(dict.fromkeys(full.layer))
    backwards = pd.concat([full[full.layer == layers[1]].iloc[1:], full[full.layer == layers[0]].iloc[1:]])
    with pytest.raises(ValueError, match=f"^scores of '{layers[1]}' do not match"):  # the first layer listed
        check_scores_match(model, backwards)
    lonely = full[(full.layer != layers[0]) | (full["filter"] == 0)]  # 31 of the first layer's 32 missing
    with pytest.raises(ValueError, match=rf"^scores of '{layers[0]}' do not match its 32 filters: missing \[1, 2, 3, "
                                         r"4, 5, 6, 7, 8, 9, 10\], extra \[\] \("):  # fmt: skip
        check_scores_match(model, lonely)
    extra = pd.concat([full, pd.DataFrame({"layer": [layers[0]] * 12, "filter": range(100, 112), "score": 1.0})])
    with pytest.raises(ValueError, match=r"missing \[\], extra \[100, 101, 102, 103, 104, 105, 106, 107, 108, "
                                         r"109\] \(a table of another"):  # fmt: skip
        check_scores_match(model, extra)


def test_score_filters_options_are_checked_with_named_messages():
    torch.manual_seed(0)
    model = ts.PaperCNN()
    images = torch.rand(4, 1, 28, 28)
    cheap = {"layers": ["conv0"], "n_samples": 2}
    P.score_filters(model, images, score="b0", maxdim=0, **cheap)  # b0 needs no loops
    P.score_filters(model, images, method="knn", scale="anything", k=2, **cheap)  # knn has no scale
    P.score_filters(model, images, scale=0.5, **cheap)
    cases = [({"score": "b1", "maxdim": 0}, r"^score 'b1' needs maxdim >= 1$"),
             ({"score": "b0+b1", "maxdim": 0}, r"^score 'b0\+b1' needs maxdim >= 1$"),
             ({"method": "cech"}, r"^method must be 'rips' or 'knn'; got 'cech'$"),
             ({"scale": "image"}, r"^scale must be 'layer', 'filter' or a positive number; got 'image'$"),
             ({"scale": 0}, "scale must be"), ({"scale": -1.0}, "scale must be"),
             ({"n_samples": 1}, r"^n_samples must be at least 2; got 1$")]  # fmt: skip
    for options, message in cases:
        with pytest.raises(ValueError, match=message):
            P.score_filters(model, images, **{**cheap, **options})


class _NormNet(nn.Sequential):
    """A CNN with an affine and a non-affine batch norm, and an ``input_shape`` as PaperCNN has (unless told)."""

    def __init__(self, input_shape: bool = True):
        super().__init__(nn.Conv2d(1, 6, 3), nn.BatchNorm2d(6), nn.ReLU(), nn.Conv2d(6, 4, 3),
                         nn.BatchNorm2d(4, affine=False), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))  # fmt: skip
        if input_shape:
            self.input_shape = (1, 8, 8)


def _norm_net_pruned():
    torch.manual_seed(0)
    model = _NormNet()
    with torch.no_grad():
        model(torch.randn(32, 1, 8, 8) * 3 + 1)  # batch statistics away from their zeros and ones
    model.eval()
    return model, P.remove_filters(model, {"0": [1, 4], "3": [2]}, torch.zeros(1, 1, 8, 8))


def test_load_pruned_resizes_batch_norms_and_leaves_the_template_alone():
    _, pruned = _norm_net_pruned()
    template = _NormNet()
    before = copy.deepcopy(template.state_dict())
    loaded = P.load_pruned(template, pruned.state_dict()).eval()
    x = torch.randn(5, 1, 8, 8)
    with torch.no_grad():
        assert torch.equal(loaded(x), pruned(x))
    assert (loaded[0].out_channels, loaded[1].num_features, loaded[3].in_channels, loaded[3].out_channels,
            loaded[4].num_features, loaded[7].in_features) == (4, 4, 4, 3, 3, 48)  # fmt: skip
    assert repr(loaded[3]).startswith("Conv2d(4, 3, ")  # whole channel counts, not 4.0
    assert torch.equal(loaded[1].running_var, pruned[1].running_var) and not torch.equal(
        loaded[1].running_var, torch.ones(4)
    )
    assert loaded[4].weight is None and loaded[4].running_mean.shape == (3,)
    assert template[0].out_channels == 6 and template[1].num_features == 6  # the template is not resized
    assert all(torch.equal(before[name], value) for name, value in template.state_dict().items())


def test_load_pruned_on_a_bare_layer_without_input_shape():
    conv = nn.Conv2d(3, 8, 3)
    state = {"weight": conv.weight.detach()[:5].clone(), "bias": conv.bias.detach()[:5].clone()}
    loaded = P.load_pruned(conv, state)
    assert (loaded.out_channels, loaded.in_channels) == (5, 3) and torch.equal(loaded.weight, state["weight"])
    linear = P.load_pruned(nn.Linear(6, 4), {"weight": torch.ones(2, 3), "bias": torch.zeros(2)})
    assert (linear.out_features, linear.in_features) == (2, 3)


def test_load_pruned_refuses_weights_that_do_not_fit(tmp_path):
    model, pruned = _norm_net_pruned()
    strangers = {f"x{i}": torch.zeros(1) for i in range(7)}
    with pytest.raises(ValueError, match=r"^the weights do not fit this architecture: missing \['0\.bias', "
                                         r"'0\.weight', '1\.bias', '1\.num_batches_tracked', '1\.running_mean'\], "
                                         r"unexpected \['x0', 'x1', 'x2', 'x3', 'x4'\] \(was it saved from another "
                                         r"model\?\)$"):  # fmt: skip
        P.load_pruned(_NormNet(), strangers)
    state = pruned.state_dict()
    state["3.weight"] = model.state_dict()["3.weight"]  # 6 input channels after a conv of 4: does not chain
    state["3.bias"] = model.state_dict()["3.bias"]
    with pytest.raises(ValueError, match=r"^the pruned weights are inconsistent \(channel counts do not chain\): "):
        P.load_pruned(_NormNet(), state)
    with pytest.raises(ValueError, match=r"^the dict given does not hold a state dict \(name -> tensor\)$"):
        P.load_pruned(_NormNet(), {"0.weight": [1.0]})
    torch.save([1, 2], tmp_path / "list.pt")
    with pytest.raises(ValueError, match=r"list\.pt does not hold a state dict \(name -> tensor\)$"):
        P.load_pruned(_NormNet(), tmp_path / "list.pt")
    torch.save({"0.weight": torch.zeros(1), "when": fractions.Fraction(1, 3)}, tmp_path / "pickle.pt")
    with pytest.raises(ValueError, match=r"pickle\.pt is not a saved state dict \(UnpicklingError: "):
        P.load_pruned(_NormNet(), tmp_path / "pickle.pt")  # read with weights_only: no arbitrary objects
    (tmp_path / "text.pt").write_text("not a checkpoint")
    with pytest.raises(ValueError, match=r"text\.pt is not a saved state dict \(\w+Error: "):
        P.load_pruned(_NormNet(), tmp_path / "text.pt")


def _synthetic(model, scores_by_layer):
    from toposcope.pruning.scores import score_table

    return score_table([{"layer": layer, "filter": f, "score": float(v)}
                        for layer, values in scores_by_layer.items() for f, v in enumerate(values)], model)  # fmt: skip


def test_select_filters_boundaries_ties_and_messages():
    scores = pd.DataFrame({"layer": ["b"] * 4 + ["a"] * 3, "filter": [0, 1, 2, 3, 0, 1, 2],
                           "score": [5.0, 7, 7, 1, 2, 9, 2]})  # fmt: skip
    assert P.select_filters(scores, threshold=7) == {"a": [1]}  # strictly above: the two 7s stay
    plan = P.select_filters(scores, threshold=4.5)
    assert plan == {"b": [0, 1, 2], "a": [1]} and list(plan) == ["b", "a"]  # in the table's layer order
    assert P.select_filters(scores, counts={"b": 1}) == {"b": [1]}  # a tie goes to the lower filter; a keeps all
    assert P.select_filters(scores, counts={"b": 0}) == {} == P.select_filters(scores, ratio=0)
    assert P.select_filters(scores, ratio=0.5) == {"b": [1, 2], "a": [1]}  # floor(2.0), floor(1.5)
    cases = [({"threshold": 1, "ratio": 0.5}, r"^give exactly one of threshold, ratio, counts$"),
             ({}, "give exactly one of"),
             ({"ratio": 1}, r"^ratio must lie in \[0, 1\); got 1$"), ({"ratio": -0.1}, "ratio must lie in"),
             ({"ratio": 0.5, "max_layer_ratio": 0}, r"^max_layer_ratio must lie in \(0, 1\); got 0$"),
             ({"threshold": 3, "scope": "global"}, r"^scope='global' ranks filters for a ratio: give ratio=$"),
             ({"ratio": 0.3, "scope": "net"}, r"^scope must be 'layer' or 'global'; got 'net'$"),
             ({"threshold": float("inf")}, r"^threshold must be a finite number; got inf$"),
             ({"counts": {"b": -1}}, r"^counts must be non-negative integers; got \{'b': -1\}$"),
             ({"counts": {"b": 1.5}}, r"^counts must be non-negative integers; got \{'b': 1\.5\}$"),
             ({"counts": {"b": 1, "z": 2}}, r"^counts names layers without scores: \['z'\]$"),
             ({"counts": {"a": 3}}, r"^this choice removes all 3 filters of 'a' \(scores 2\.0\.\.9\.0\): keep at "
                                    r"least one$")]  # fmt: skip
    for options, message in cases:
        with pytest.raises(ValueError, match=message):
            P.select_filters(scores, **options)
    with pytest.raises(ValueError, match=r"^scores hold NaN: cannot rank those filters$"):
        P.select_filters(scores.assign(score=[1, np.nan, 1, 1, 1, 1, 1]), ratio=0.5)


def test_global_ties_go_to_the_earlier_layer():
    # a's filter 1 and b's filter 0 tie at 5; b's row comes first, but a is the first layer listed
    scores = pd.DataFrame({"layer": ["a", "b", "a", "b"], "filter": [0, 0, 1, 1], "score": [0.0, 5, 5, 0]})
    assert P.select_filters(scores, ratio=0.25, scope="global") == {"a": [1]}


def test_remove_filters_and_prune_options():
    model = _norm_net_pruned()[0]
    x = torch.zeros(1, 1, 8, 8)
    assert P.remove_filters(model, {"0": [], "3": [1]}, x)[3].out_channels == 3  # an empty entry skips one layer
    with pytest.raises(ValueError, match=r"^layer '7' is a Linear, not an nn\.Conv2d$"):
        P.remove_filters(model, {"7": [0]}, x)
    with pytest.raises(ValueError, match=r"^0 has 6 filters; cannot remove \[2, 6\]$"):
        P.remove_filters(model, {"0": [6, 2]}, x)
    with pytest.raises(ValueError, match=r"^cannot remove all 4 filters of '3'$"):
        P.remove_filters(model, {"3": [0, 1, 2, 3]}, x)
    table = _synthetic(model, {"0": [6, 5, 4, 3, 2, 1], "3": [1, 2, 3, 4]})
    small = P.prune(model, table, counts={"3": 2})  # inputs shaped from input_shape
    assert (small[0].out_channels, small[3].out_channels) == (6, 2)
    assert torch.equal(small[3].bias, model[3].bias[:2])  # the two highest scores (filters 3, 2) went
    wide = P.prune(model, table, ratio=0.3, scope="global")  # floor(3.0): the network's three best, all in 0
    assert (wide[0].out_channels, wide[3].out_channels) == (3, 4)
    bare = _NormNet(input_shape=False)
    bare.load_state_dict(model.state_dict())
    assert P.prune(bare, _synthetic(bare, {"0": [0] * 6, "3": [1, 0, 0, 0]}), x, threshold=0.5)[3].out_channels == 3
    with pytest.raises(ValueError, match=r"^pass example_inputs \(e\.g\. images\[:1\]\): the model has no "
                                         r"input_shape"):  # fmt: skip
        P.prune(bare, _synthetic(bare, {"0": [0] * 6, "3": [1, 0, 0, 0]}), threshold=0.5)


def test_equal_budget_baselines_remove_as_many_and_follow_their_seed():
    torch.manual_seed(0)
    model = _NormNet(input_shape=False)
    x = torch.zeros(1, 1, 8, 8)
    betti = _synthetic(model, {"3": [4, 3, 2, 1]})  # only one layer scored
    models, plan = P.prune_at_equal_budget(model, betti, x, threshold=2.5)
    assert plan == {"3": [0, 1]}
    assert {name: (m[0].out_channels, m[3].out_channels) for name, m in models.items()} == {
        "betti": (6, 2), "l1": (6, 2), "random": (6, 2)}  # fmt: skip
    for seed in (0, 5):
        chosen = P.select_filters(P.random_scores(model, ["3"], seed, example_inputs=x), counts={"3": 2})
        kept = [f for f in range(4) if f not in chosen["3"]]
        random = P.prune_at_equal_budget(model, betti, x, threshold=2.5, **({"seed": seed} if seed else {}))[0]
        assert torch.equal(random["random"][3].bias, model[3].bias[kept])
    l1 = P.l1_scores(model, ["3"], example_inputs=x)
    kept = sorted(l1.sort_values("l1", ascending=False)["filter"].iloc[:2])
    assert torch.equal(models["l1"][3].bias, model[3].bias[kept])


def _square_filters():
    """Two 1x1 filters (weights 1 and 2) over 'images' of two pixels that are the 12 lattice points of a
    3 x 3 square's boundary: filter 0's cloud is that 12-cycle at spacing 1, filter 1's the same at spacing 2.
    Every distance is exact (integers, or the square root of 2)."""
    side = [(x, 0) for x in range(4)] + [(3, y) for y in range(1, 4)] + [(x, 3) for x in (2, 1, 0)] + [(0, 2), (0, 1)]
    conv = nn.Conv2d(1, 2, 1)
    with torch.no_grad():
        conv.weight[:] = torch.tensor([1.0, 2.0]).view(2, 1, 1, 1)
        conv.bias.zero_()
    return nn.Sequential(conv), torch.tensor(side, dtype=torch.float32).view(12, 1, 1, 2)


def test_scores_of_filters_whose_clouds_are_known():
    model, images = _square_filters()
    table = P.score_filters(model, images)  # the layer's radius: the lower median of spacings 1 and 2
    assert table[["b0", "b1", "score", "n_points"]].values.tolist() == [[1, 1, 2, 12], [12, 0, 12, 12]]
    assert table.scale.tolist() == [1.0, 1.0] and table.score.dtype == np.int64
    own = P.score_filters(model, images, scale="filter")  # each at its own spacing: both the cycle
    assert own[["b0", "b1"]].values.tolist() == [[1, 1], [1, 1]] and own.scale.tolist() == [1.0, 2.0]
    fixed = P.score_filters(model, images, scale=1.5)  # corners filled, the loop stays; filter 1 still apart
    assert fixed[["b0", "b1"]].values.tolist() == [[1, 1], [12, 0]] and fixed.scale.tolist() == [1.5, 1.5]
    for score, expected in (("b0", [1, 12]), ("b1", [1, 0]), ("b0+b1", [2, 12]), ("sum", [2, 12])):
        assert P.score_filters(model, images, score=score).score.tolist() == expected
    knn = P.score_filters(model, images, method="knn", k=3)  # each point and its two neighbours
    direct = ts.betti_numbers(images.flatten(1), k=3).betti
    assert [tuple(r) for r in knn[["b0", "b1"]].values] == [direct, direct] == [(1, 1), (1, 1)]
    assert list(P.score_filters(model, images, method="knn", k=3, score="b0", maxdim=0).columns)[:4] == [
        "layer", "filter", "b0", "score"]  # fmt: skip


def test_per_class_scores_add_the_classes_and_skip_a_lone_image():
    model, square = _square_filters()
    others = torch.tensor([[20.0, 20.0], [10.0, 10.0], [10.0, 13.0]]).view(3, 1, 1, 2)
    images, labels = torch.cat([others, square]), torch.tensor([0, 2, 2] + [1] * 12)
    table = P.score_filters(model, images, labels, per_class=True)
    # class 0 (one image) is skipped; class 1 the cycle (1, 1); class 2 two images 3 apart (2, 0)
    assert table[["b0", "b1", "n_points"]].values.tolist()[0] == [3, 1, 14]


def test_score_value_and_filter_chunks(monkeypatch):
    from toposcope import memory
    from toposcope.pruning.scores import _filter_chunks, _score_value

    assert [_score_value([1, 1, 1], s) for s in ("b0", "b1", "b0+b1", "sum")] == [1, 1, 2, 3]
    assert (_score_value([4], "b1"), _score_value([4], "sum")) == (0, 4)
    per_filter = 3 * 8 * 10 * 10  # the float64 matrix of 10 images and cdist's work space
    for budget, sizes in ((3 * per_filter, [3, 3, 1]), (3 * per_filter - 1, [2, 2, 2, 1]), (per_filter, [1] * 7)):
        monkeypatch.setattr(memory, "MEMORY_BUDGET", budget)
        chunks = _filter_chunks(torch.empty(7, 10, 1))
        assert [len(range(7)[c]) for c in chunks] == sizes and chunks[0].start == 0
    monkeypatch.setattr(memory, "MEMORY_BUDGET", 2**30)
    with pytest.raises(MemoryError, match=r"^one filter's distance matrix over 20,000 images needs about 8\.9 "
                                          r"GiB; the budget is 1\.0 GiB: lower n_samples$"):  # fmt: skip
        _filter_chunks(torch.empty(2, 20_000, 1))


def test_more_filters_than_images_each_get_a_row():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 8, 1))
    table = P.score_filters(model, torch.rand(4, 1, 2, 2))
    assert table["filter"].tolist() == list(range(8))


def test_score_filters_draws_its_sample_and_shows_progress_only_when_asked(capsys):
    model, _ = _square_filters()
    images = torch.rand(501, 1, 1, 2, generator=torch.Generator().manual_seed(0))
    labels = torch.arange(501) % 3
    table = P.score_filters(model, images)  # 500 of 501 images, drawn with seed 0, without replacement
    keep = np.sort(np.random.default_rng(0).choice(501, 500, replace=False))
    assert table.equals(P.score_filters(model, images[keep], n_samples=500)) and (table.n_points == 500).all()
    assert table.attrs["model"] == P.model_fingerprint(model) and len(table.attrs["model"]) == 16
    assert not table.equals(P.score_filters(model, images, seed=1))
    assert capsys.readouterr().err == ""  # no bar unless asked
    few = P.score_filters(model, images, labels, n_samples=60, per_class=True, seed=2)
    drawn = np.sort(np.random.default_rng(2).choice(501, 60, replace=False))
    assert few.equals(P.score_filters(model, images[drawn], labels[drawn], per_class=True))
    P.score_filters(model, images[:20], progress=True)
    assert re.search(r"(^|\r)scoring filters: 100%.* 2/2 ", capsys.readouterr().err)
    with pytest.raises(ValueError, match=r"^per_class=True needs labels$"):
        P.score_filters(model, images, per_class=True)


def test_score_filters_reads_a_dataset_and_checks_images():
    model, square = _square_filters()
    labels = torch.tensor([0] * 6 + [1] * 6)
    per_class = P.score_filters(model, square, labels, per_class=True)
    assert per_class.equals(P.score_filters(model, TensorDataset(square, labels), per_class=True))
    other = torch.tensor([0, 1] * 6)  # labels given beside a dataset are the ones used
    assert not P.score_filters(model, TensorDataset(square, labels), other, per_class=True).equals(per_class)
    assert len(P.score_filters(model, square[:2])) == 2  # two images are enough
    with pytest.raises(ValueError, match=r"^the model has no nn\.Conv2d layer to score$"):
        P.score_filters(nn.Sequential(nn.Flatten()), square)
    bad = square.clone()
    bad[3, 0, 0] = torch.tensor([float("nan"), float("inf")])  # two bad pixels, one image
    bad[5, 0, 0, 0] = float("inf")
    with pytest.raises(ValueError, match=r"^images hold NaN or inf in 2 of 12 images: every filter would score "
                                         r"alike$"):  # fmt: skip
        P.score_filters(model, bad)
