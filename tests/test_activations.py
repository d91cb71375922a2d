import math

import pytest
import torch
from torch import nn

import toposcope as ts
from toposcope.activations import DEFAULT_CUT

C = DEFAULT_CUT
S = math.sin(C)


def reference(x: float, cut: float = C) -> float:
    k = math.floor(x / cut)
    return k * math.sin(cut) + math.sin(x - k * cut)


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        (0.0, 0.0),
        (math.pi / 2, 1.0),  # top of the first bump
        (C, S),  # the first join
        (2 * C, 2 * S),
        (C + math.pi / 2, S + 1.0),  # top of the second bump
        (-C, -S),
        (-C / 2, -S + math.sin(C / 2)),
        (-2 * C, -2 * S),
        (10.0, reference(10.0)),
    ],
)
def test_values_formula(x, expected):
    y = ts.topo_sine(torch.tensor([x], dtype=torch.float64))
    assert y.item() == pytest.approx(expected, abs=1e-12)


def test_relu_mode_zero_below_zero_and_formula_above():
    x = torch.tensor([-5.0, -C, -0.1, 0.0, 0.5, 2 * C + 0.3], dtype=torch.float64)
    y = ts.topo_sine(x, negative="relu")
    assert y[:3].tolist() == [0.0, 0.0, 0.0]
    assert y[3:].tolist() == pytest.approx([reference(v) for v in x[3:].tolist()], abs=1e-12)


@pytest.mark.parametrize("cut", [math.pi / 2 + 1e-3, 2.0, C, math.pi])
def test_continuous_at_the_joins(cut):
    eps = 1e-9
    joins = torch.tensor([k * cut for k in range(-3, 4)], dtype=torch.float64)
    left = ts.topo_sine(joins - eps, cut=cut)
    right = ts.topo_sine(joins + eps, cut=cut)
    assert torch.allclose(left, right, atol=1e-7)


def test_many_to_one_each_period():
    # On each period the function rises to k*sin(c) + 1 and falls back to (k+1)*sin(c).
    for k in range(-2, 3):
        x = torch.linspace(k * C, (k + 1) * C, 10001, dtype=torch.float64)[:-1]
        y = ts.topo_sine(x)
        assert y.max().item() == pytest.approx(k * S + 1, abs=1e-6)
        assert y[-1].item() == pytest.approx((k + 1) * S, abs=1e-3)


def test_gradient_is_cosine_of_the_phase():
    x = torch.tensor([-2.0, -0.3, 0.4, 1.9, 5.0], dtype=torch.float64, requires_grad=True)
    ts.topo_sine(x).sum().backward()
    k = torch.floor(x.detach() / C)
    assert torch.allclose(x.grad, torch.cos(x.detach() - k * C))
    assert torch.autograd.gradcheck(lambda t: ts.topo_sine(t), (x,))


def test_gradient_relu_mode_is_zero_for_negatives():
    x = torch.tensor([-1.0, 1.0], requires_grad=True)
    ts.topo_sine(x, negative="relu").sum().backward()
    assert x.grad[0].item() == 0.0
    assert x.grad[1].item() == pytest.approx(math.cos(1.0))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_dtypes_preserved(dtype):
    x = torch.linspace(-4, 4, 17).to(dtype)
    y = ts.TopoSine()(x)
    assert y.dtype == dtype and y.shape == x.shape
    assert torch.allclose(y.double(), ts.topo_sine(x.double()), atol=0.05)


def test_integer_input_promoted():
    y = ts.topo_sine(torch.arange(-3, 4))
    assert y.dtype == torch.get_default_dtype()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_matches_cpu():
    x = torch.linspace(-10, 10, 1001)
    assert torch.allclose(ts.topo_sine(x.cuda()).cpu(), ts.topo_sine(x), atol=1e-5)


@pytest.mark.parametrize("cut", [1.0, math.pi / 2, 3.2, -1.0])
def test_bad_cut(cut):
    with pytest.raises(ValueError, match="cut must lie in"):
        ts.TopoSine(cut=cut)


def test_bad_inputs():
    with pytest.raises(ValueError, match="negative must be one of"):
        ts.topo_sine(torch.zeros(2), negative="zero")
    with pytest.raises(TypeError, match=r"torch\.Tensor"):
        ts.topo_sine([0.0, 1.0])
    with pytest.raises(TypeError, match="complex"):
        ts.topo_sine(torch.zeros(2, dtype=torch.complex64))


def test_registry():
    assert isinstance(ts.get_activation("relu"), nn.ReLU)
    leaky = ts.get_activation("leaky_relu", slope=0.2)
    assert isinstance(leaky, nn.LeakyReLU) and leaky.negative_slope == 0.2
    sine = ts.get_activation("topo_sine", cut=2.0, negative="relu")
    assert isinstance(sine, ts.TopoSine) and sine.cut == 2.0 and sine.negative == "relu"
    assert isinstance(ts.get_activation("tanh"), nn.Tanh)
    assert isinstance(ts.get_activation("sigmoid"), nn.Sigmoid)
    module = nn.GELU()
    assert ts.get_activation(module) is module


def test_registry_errors():
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        ts.get_activation("swish")
    with pytest.raises(ValueError, match="bad arguments"):
        ts.get_activation("relu", slope=0.1)
    with pytest.raises(TypeError):
        ts.get_activation(3)
