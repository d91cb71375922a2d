import pytest
import torch

import toposcope as ts
from toposcope.batched import BatchedMLP, ModelSpec, _pairwise_mean, train_many
from toposcope.layouts import LAYOUTS, Layout, get_layout, middle_layers


def spec_for(name: str, seed: int) -> ModelSpec:
    return ModelSpec(get_layout(name), seed)


@pytest.fixture(scope="module")
def rings():
    return ts.nine_rings(1000, 300, seed=0)


def test_batched_training_matches_sequential_fit(rings):
    specs = [spec_for("topo_sine_mid", 3), spec_for("relu", 1), spec_for("leaky_relu_0.1", 2)]
    batched = train_many(specs, rings.train, rings.test, epochs=3, batch_size=64, lr=3e-3, device="cpu",
                         progress=False)  # fmt: skip
    for spec, history in zip(specs, batched, strict=True):
        model = spec.build(3, [25] * 9, 2)
        single = ts.fit(model, rings.train, rings.test, epochs=3, batch_size=64, lr=3e-3, seed=spec.seed,
                        progress=False)  # fmt: skip
        assert history.column("loss") == pytest.approx(single.column("loss"), rel=1e-4)
        assert history.column("train_acc") == pytest.approx(single.column("train_acc"), abs=2e-3)


def test_specs_give_same_initial_weights_across_activations():
    a = spec_for("relu", 7).build(3, [25] * 9, 2)
    b = spec_for("topo_sine", 7).build(3, [25] * 9, 2)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    mid = spec_for("topo_sine_mid", 7).build(3, [25] * 9, 2)
    assert [type(m).__name__ for m in mid if not isinstance(m, torch.nn.Linear)] == (
        ["ReLU"] * 3 + ["TopoSine"] * 3 + ["ReLU"] * 3
    )


def test_batched_forward_applies_each_models_activation():
    specs = [ModelSpec(Layout.uniform("relu"), 0), ModelSpec(Layout.uniform("tanh"), 1),
             ModelSpec(Layout.uniform("relu"), 2)]  # fmt: skip
    model = BatchedMLP(specs, 3, [4, 4], 2)
    x = torch.randn(5, 3)
    out = model(x.unsqueeze(0).expand(3, -1, -1))
    for k, spec in enumerate(specs):
        assert torch.allclose(out[k], spec.build(3, [4, 4], 2)(x), atol=1e-6)


def test_full_batch_and_target_records(rings):
    histories = train_many([spec_for("relu", 0)], rings.train, rings.test, hidden=[16] * 2, epochs=20,
                           batch_size=len(rings.train), lr=1e-2, target_accuracy=0.55, eval_every=5, device="cpu",
                           progress=False)  # fmt: skip
    h = histories[0]
    assert [r["epoch"] for r in h.records] == [5, 10, 15, 20]
    if h.epoch_reached is not None:
        assert h.epoch_reached % 5 == 0


def test_bad_specs(rings):
    with pytest.raises(ValueError, match="at least one"):
        train_many([], rings.train)
    with pytest.raises(ValueError, match="unknown activation layout"):
        get_layout("swish")
    with pytest.raises(ValueError, match="eval_every"):
        train_many([spec_for("relu", 0)], rings.train, eval_every=0)


def test_layouts_are_data():
    assert middle_layers(9) == (3, 4, 5) and middle_layers(1) == (0,) and middle_layers(4) == (1,)
    mid = LAYOUTS["topo_sine_mid"].per_layer(9)
    assert [a.name for a in mid] == ["relu"] * 3 + ["topo_sine"] * 3 + ["relu"] * 3
    assert LAYOUTS["leaky_relu_0.01"].default.build().negative_slope == 0.01
    assert LAYOUTS["topo_sine_relu"].default.build().negative == "relu"
    assert Layout.uniform("leaky_relu", slope=0.1).per_layer(2)[1].kwargs == (("slope", 0.1),)
    assert get_layout(LAYOUTS["relu"]) is LAYOUTS["relu"]


@pytest.mark.parametrize("b", [1, 2, 7, 128, 129])
def test_pairwise_mean_is_the_mean_and_ignores_the_rows_beside(b):
    rows = torch.randn(6, b, generator=torch.Generator().manual_seed(b))
    means = _pairwise_mean(rows)
    assert torch.allclose(means, rows.mean(1), atol=1e-6)
    assert all(torch.equal(_pairwise_mean(rows[k : k + 1])[0], means[k]) for k in range(6))


CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=CUDA)])
def test_a_run_does_not_depend_on_the_runs_that_share_its_batch(device):
    data = ts.nine_rings(4000, 200, seed=0)
    mid = ModelSpec(LAYOUTS["topo_sine_mid"], 1)
    crowd = [ModelSpec(LAYOUTS[name], s) for name in ("relu", "topo_sine_mid", "topo_sine") for s in range(5)]

    def losses(specs):
        histories = train_many(specs, data.train, epochs=3, batch_size=128, lr=3e-3, device=device, progress=False)
        return histories[specs.index(mid)].column("loss")

    assert losses(crowd) == losses([mid])  # bit for bit, not approximately


@CUDA
def test_cuda_training_matches_cpu_and_tracks(rings):
    # Data and weights stay on the device; results agree with the CPU to rounding.
    specs = [ts.ModelSpec(ts.get_layout(name), 0) for name in ("relu", "topo_sine_mid")]
    cpu = train_many(specs, rings.train, rings.test, epochs=2, device="cpu", progress=False)
    gpu = train_many(specs, rings.train, rings.test, epochs=2, device="cuda", progress=False)
    for a, b in zip(cpu, gpu, strict=True):
        assert b.device.startswith("cuda")
        assert a.column("loss") == pytest.approx(b.column("loss"), rel=1e-3)
    model = specs[0].build(3, [25] * 9, 2).cuda()
    ts.fit(model, rings.train, epochs=1, device="cuda", progress=False)
    profile = ts.BettiTracker(model, samples_per_class=200, n_jobs=2).profile(*rings.train.tensors)
    assert set(profile.dim) == {0, 1} and (profile.betti >= 0).all()
