"""The networks of the paper: a deep narrow MLP and a small CNN.

Both are ``nn.Sequential`` with stable layer names, so that
:class:`toposcope.BettiTracker` and the pruner can address layers by name
(``model.act3``, ``"conv1"``...).
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Mapping, Sequence

from torch import nn

from .activations import get_activation

__all__ = ["MLP", "PaperCNN"]

ActivationSpec = str | nn.Module


def _per_layer(activation: ActivationSpec, activations, names: Sequence[str]) -> list[ActivationSpec]:
    """Resolve one activation per slot from a default and per-slot overrides."""
    if activations is None:
        return [activation] * len(names)
    if isinstance(activations, Mapping):
        unknown = set(activations) - set(names) - set(range(len(names)))
        if unknown:
            raise ValueError(f"activations names unknown slots {sorted(map(str, unknown))}; slots are {list(names)}")
        return [activations.get(name, activations.get(i, activation)) for i, name in enumerate(names)]
    activations = list(activations)
    if len(activations) != len(names):
        raise ValueError(f"activations has {len(activations)} entries; the model has {len(names)} slots {list(names)}")
    return [activation if a is None else a for a in activations]


def _build(spec: ActivationSpec) -> nn.Module:
    """A fresh module for every slot: no two layers share an instance (hooks see each layer once)."""
    if isinstance(spec, nn.Module):
        return copy.deepcopy(spec)
    return get_activation(spec)


class MLP(nn.Sequential):
    """A fully connected network with one activation per hidden layer.

    Layers are named ``fc1, act1, fc2, act2, ..., fcL, actL, logits``.

    Parameters
    ----------
    in_dim : int
        Input features (3 for nine rings / nine spheres, 784 for flattened images).
    hidden : sequence of int, default nine layers of 25
        Widths of the hidden layers (the paper's 9 x 25).
    out_dim : int, default 2
        Number of classes.
    activation : str or nn.Module, default "relu"
        Activation of every hidden layer, by name (see
        :func:`toposcope.get_activation`) or as a module instance (copied into
        every layer).
    activations : sequence or mapping, optional
        Per-layer overrides: a list with one entry per hidden layer (``None``
        keeps ``activation``), or a mapping from slot names ``"act1".."actL"``
        (or 0-based indices) to activations.  The paper's layout, the designed
        activation in the middle layers only, is e.g.
        ``activations={"act4": "topo_sine", "act5": "topo_sine", "act6": "topo_sine"}``.
    flatten : bool, default False
        Start with an ``nn.Flatten`` (named ``flatten``) for image input.
    """

    def __init__(
        self,
        in_dim: int,
        hidden: Sequence[int] = (25,) * 9,
        out_dim: int = 2,
        activation: ActivationSpec = "relu",
        activations: Sequence[ActivationSpec | None] | Mapping[str | int, ActivationSpec] | None = None,
        flatten: bool = False,
    ) -> None:
        hidden = list(hidden)
        if in_dim < 1 or out_dim < 1 or any(h < 1 for h in hidden):
            raise ValueError(f"layer widths must be positive; got in_dim={in_dim}, hidden={hidden}, out_dim={out_dim}")
        slots = [f"act{i}" for i in range(1, len(hidden) + 1)]
        specs = _per_layer(activation, activations, slots)
        layers: list[tuple[str, nn.Module]] = [("flatten", nn.Flatten())] if flatten else []
        width = in_dim
        for i, (h, spec) in enumerate(zip(hidden, specs, strict=True), start=1):
            layers += [(f"fc{i}", nn.Linear(width, h)), (f"act{i}", _build(spec))]
            width = h
        layers.append(("logits", nn.Linear(width, out_dim)))
        super().__init__(OrderedDict(layers))


class PaperCNN(nn.Sequential):
    """The CNN of the paper's figures 7-9.

    ``conv0 -> act0 -> pool0 -> conv1 -> act1 -> pool1 -> conv2 -> act2 ->
    flatten -> dense0 -> act3 -> logits``, with 3x3 convolutions (no padding)
    and 2x2 max pooling.  The paper names the layers but not their widths; the
    defaults (32, 64, 64 filters, 64 dense units) are those of the classic
    TensorFlow CIFAR-10 tutorial network that the figures match.

    Parameters
    ----------
    in_channels : int, default 1
        1 for grayscale (the paper converts every data set to grayscale).
    num_classes : int, default 10
    image_size : int, default 28
        Height = width of the input (28 for Fashion-MNIST, 32 for CIFAR-10).
    channels : (int, int, int), default (32, 64, 64)
        Filters of conv0, conv1, conv2.
    dense : int, default 64
        Units of the hidden dense layer.
    activation : str or nn.Module, default "relu"
    activations : sequence or mapping, optional
        Per-slot overrides for the slots ``act0, act1, act2, act3`` (as in
        :class:`MLP`).

    Attributes
    ----------
    input_shape : (int, int, int)
        ``(in_channels, image_size, image_size)``: what one input looks like (the
        pruner builds example inputs from it).
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        image_size: int = 28,
        channels: Sequence[int] = (32, 64, 64),
        dense: int = 64,
        activation: ActivationSpec = "relu",
        activations: Sequence[ActivationSpec | None] | Mapping[str | int, ActivationSpec] | None = None,
    ) -> None:
        c0, c1, c2 = channels
        side = ((image_size - 2) // 2 - 2) // 2 - 2
        if side < 1:
            raise ValueError(f"image_size={image_size} is too small for three 3x3 convolutions and two poolings")
        specs = _per_layer(activation, activations, ["act0", "act1", "act2", "act3"])
        super().__init__(
            OrderedDict(
                [
                    ("conv0", nn.Conv2d(in_channels, c0, 3)),
                    ("act0", _build(specs[0])),
                    ("pool0", nn.MaxPool2d(2)),
                    ("conv1", nn.Conv2d(c0, c1, 3)),
                    ("act1", _build(specs[1])),
                    ("pool1", nn.MaxPool2d(2)),
                    ("conv2", nn.Conv2d(c1, c2, 3)),
                    ("act2", _build(specs[2])),
                    ("flatten", nn.Flatten()),
                    ("dense0", nn.Linear(c2 * side * side, dense)),
                    ("act3", _build(specs[3])),
                    ("logits", nn.Linear(dense, num_classes)),
                ]
            )
        )
        self.input_shape = (in_channels, image_size, image_size)
