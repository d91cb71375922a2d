"""The many-to-one sine activation family and a small activation registry.

The activation of the paper (its eq. 1), written with the period index ``k``
inside the sine so that the function is continuous::

    k = floor(x / c)
    y = k * sin(c) + sin(x - k * c)

On each period ``[k c, (k + 1) c)`` the function rises from ``k sin c`` to
``k sin c + 1`` (at ``x = k c + pi / 2``) and falls back to ``(k + 1) sin c``:
a sine bump riding on a ramp of slope ``sin(c) / c``.  The falling part of each
bump takes values that the rising part already took, so every period holds a
many-to-one region.  The cut-off ``c`` must lie in ``(pi / 2, pi]``: below
``pi / 2`` the sine never falls and the function is one-to-one.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

__all__ = ["ACTIVATIONS", "TopoSine", "get_activation", "topo_sine"]

DEFAULT_CUT = 3 * math.pi / 4
_NEGATIVE_MODES = ("formula", "relu")


def _check_cut(cut: float) -> float:
    cut = float(cut)
    if not (math.pi / 2 < cut <= math.pi):
        raise ValueError(
            f"cut must lie in (pi/2, pi] = (1.5708, 3.1416]; got {cut:.6g}. "
            "Below pi/2 the sine piece never falls, so there is no many-to-one region."
        )
    return cut


def _check_negative(negative: str) -> str:
    if negative not in _NEGATIVE_MODES:
        raise ValueError(f"negative must be one of {_NEGATIVE_MODES}; got {negative!r}")
    return negative


def topo_sine(x: torch.Tensor, cut: float = DEFAULT_CUT, negative: str = "formula") -> torch.Tensor:
    """Apply the topology-designed many-to-one sine activation elementwise.

    Parameters
    ----------
    x : torch.Tensor
        Input of any shape, on any device.  Integer and boolean tensors are
        converted to torch's default floating dtype; complex tensors are refused.
    cut : float, default 3*pi/4
        The cut-off ``c`` in ``(pi/2, pi]``: the length of one sine piece.
    negative : {"formula", "relu"}, default "formula"
        ``"formula"`` applies the formula on the whole real line (the ramp goes
        down for negative inputs); ``"relu"`` returns 0 for ``x < 0``, the
        variant "superimposed on a ReLU".

    Returns
    -------
    torch.Tensor
        Same shape as ``x``.  Differentiable: the derivative is
        ``cos(x - k c)`` (and 0 for negative inputs in ``"relu"`` mode).

    Examples
    --------
    >>> import torch
    >>> topo_sine(torch.tensor([0.0, 3 * math.pi / 4]))
    tensor([0.0000, 0.7071])
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor; got {type(x).__name__}")
    if x.is_complex():
        raise TypeError("topo_sine is defined on real inputs; got a complex tensor")
    cut = _check_cut(cut)
    negative = _check_negative(negative)
    if not x.is_floating_point():
        x = x.to(torch.get_default_dtype())
    k = torch.floor(x / cut)
    y = k * math.sin(cut) + torch.sin(x - k * cut)
    if negative == "relu":
        y = torch.where(x < 0, torch.zeros_like(y), y)
    return y


class TopoSine(nn.Module):
    """The many-to-one sine activation as an ``nn.Module``.

    Parameters
    ----------
    cut : float, default 3*pi/4
        Cut-off in ``(pi/2, pi]``; see :func:`topo_sine`.
    negative : {"formula", "relu"}, default "formula"
        Behaviour for negative inputs; see :func:`topo_sine`.
    """

    def __init__(self, cut: float = DEFAULT_CUT, negative: str = "formula") -> None:
        super().__init__()
        self.cut = _check_cut(cut)
        self.negative = _check_negative(negative)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return topo_sine(x, self.cut, self.negative)

    def extra_repr(self) -> str:
        return f"cut={self.cut:.4f}, negative={self.negative!r}"


def _leaky_relu(slope: float = 0.01) -> nn.Module:
    return nn.LeakyReLU(negative_slope=slope)


ACTIVATIONS: dict[str, Callable[..., nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": _leaky_relu,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "topo_sine": TopoSine,
}
"""Activation factories by name; :func:`get_activation` calls them."""


def get_activation(name: str | nn.Module, **kwargs) -> nn.Module:
    """Build an activation module from its name.

    Parameters
    ----------
    name : str or nn.Module
        One of ``ACTIVATIONS`` (``"relu"``, ``"leaky_relu"``, ``"tanh"``,
        ``"sigmoid"``, ``"topo_sine"``).  A module is returned as it is.
    **kwargs
        Passed to the factory: ``slope`` for ``leaky_relu``; ``cut`` and
        ``negative`` for ``topo_sine``.

    Returns
    -------
    nn.Module

    Raises
    ------
    ValueError
        For an unknown name or keyword arguments the activation does not take.
    """
    if isinstance(name, nn.Module):
        if kwargs:
            raise ValueError("keyword arguments cannot be applied to an activation module instance")
        return name
    if not isinstance(name, str):
        raise TypeError(f"activation must be a name or an nn.Module; got {type(name).__name__}")
    try:
        factory = ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}") from None
    try:
        return factory(**kwargs)
    except TypeError as err:
        raise ValueError(f"bad arguments {kwargs} for activation {name!r}: {err}") from None
