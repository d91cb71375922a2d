"""Activation layouts as data: which activation each hidden layer of a network uses.

A :class:`Layout` names a default activation for every hidden layer and, optionally,
another one for the middle third of the layers (the paper puts its designed
activation "in a few of the hidden layers in the middle").  :data:`LAYOUTS` holds
the layouts the book compares.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from torch import nn

from .activations import get_activation

__all__ = ["LAYOUTS", "ActivationSpec", "Layout", "get_layout", "middle_layers"]


@dataclass(frozen=True)
class ActivationSpec:
    """One activation: a name of :data:`toposcope.ACTIVATIONS` and its keyword arguments.

    ``kwargs`` is a tuple of ``(key, value)`` pairs, so that the spec is hashable.
    """

    name: str
    kwargs: tuple[tuple[str, Any], ...] = ()

    def build(self) -> nn.Module:
        """A fresh activation module."""
        return get_activation(self.name, **dict(self.kwargs))


def middle_layers(n_layers: int) -> tuple[int, ...]:
    """0-based indices of the middle third of ``n_layers`` hidden layers (3, 4, 5 of nine)."""
    if n_layers < 1:
        raise ValueError(f"need at least one hidden layer; got {n_layers}")
    third = max(1, n_layers // 3)
    start = (n_layers - third) // 2
    return tuple(range(start, start + third))


@dataclass(frozen=True)
class Layout:
    """An activation per hidden layer: ``default`` everywhere, ``middle`` in the middle third.

    Attributes
    ----------
    name : str
        The name results are stored under (e.g. ``"topo_sine_mid"``).
    description : str
        One line for tables.
    default : ActivationSpec
    middle : ActivationSpec, optional
        Replaces ``default`` in the layers :func:`middle_layers` picks.
    """

    name: str
    description: str
    default: ActivationSpec
    middle: ActivationSpec | None = None

    @classmethod
    def uniform(cls, name: str, **kwargs: Any) -> Layout:
        """The same activation in every hidden layer, e.g. ``Layout.uniform("leaky_relu", slope=0.1)``."""
        spec = ActivationSpec(name, tuple(sorted(kwargs.items())))
        return cls(name, f"{name} in every hidden layer", spec)

    def per_layer(self, n_layers: int) -> list[ActivationSpec]:
        """The activation of each of ``n_layers`` hidden layers."""
        middle = middle_layers(n_layers) if self.middle is not None else ()
        return [self.middle if i in middle else self.default for i in range(n_layers)]

    def for_slots(self, slots: Sequence[str], middle: Sequence[str]) -> dict[str, nn.Module]:
        """Fresh activation modules for named slots: ``middle`` gets the middle activation, the rest the default.

        For networks whose "middle" is a choice rather than a third of equal layers, e.g.
        ``PaperCNN(activations=layout.for_slots(["act0", "act1", "act2", "act3"], ["act1", "act2"]))``.
        """
        unknown = set(middle) - set(slots)
        if unknown:
            raise ValueError(f"middle slots {sorted(unknown)} are not among the slots {list(slots)}")
        return {s: (self.middle if s in middle and self.middle is not None else self.default).build() for s in slots}


_RELU = ActivationSpec("relu")
_SINE = ActivationSpec("topo_sine")
LAYOUTS: dict[str, Layout] = {
    layout.name: layout
    for layout in (
        Layout("relu", "ReLU in every hidden layer", _RELU),
        Layout("leaky_relu_0.01", "leaky ReLU, slope 0.01", ActivationSpec("leaky_relu", (("slope", 0.01),))),
        Layout("leaky_relu_0.1", "leaky ReLU, slope 0.1", ActivationSpec("leaky_relu", (("slope", 0.1),))),
        Layout("tanh", "tanh", ActivationSpec("tanh")),
        Layout("sigmoid", "sigmoid", ActivationSpec("sigmoid")),
        Layout("topo_sine", 'topo_sine (c = 3π/4, negative="formula") in every hidden layer', _SINE),
        Layout(
            "topo_sine_mid",
            "topo_sine in the middle third of the hidden layers (act4-act6 of 9), ReLU elsewhere",
            _RELU,
            middle=_SINE,
        ),
        Layout(
            "topo_sine_mid_relu",
            'topo_sine with negative="relu" in the middle third of the hidden layers, ReLU elsewhere',
            _RELU,
            middle=ActivationSpec("topo_sine", (("negative", "relu"),)),
        ),
        Layout(
            "topo_sine_relu",
            'topo_sine with negative="relu" in every hidden layer',
            ActivationSpec("topo_sine", (("negative", "relu"),)),
        ),
    )
}
"""The activation layouts the book compares, by name."""


def get_layout(name: str | Layout) -> Layout:
    """The layout of :data:`LAYOUTS` called ``name`` (a :class:`Layout` is returned as is)."""
    if isinstance(name, Layout):
        return name
    try:
        return LAYOUTS[name]
    except KeyError:
        raise ValueError(f"unknown activation layout {name!r}; choose from {list(LAYOUTS)}") from None
