"""Parameter and multiply-add counts per layer, as the papers count them.

Multiply-adds (MACs) are counted for the layers that do the arithmetic the papers
report: Conv2D (with groups), DepthwiseConv2D, SeparableConv2D, Conv2DTranspose, Dense,
and any layer that defines `compute_macs(output_shape)`. Biases, normalization,
activations, pooling and other elementwise work are ignored, as in torchvision's `_ops`
and the papers' tables.
"""

import dataclasses
import math
from typing import Tuple

import keras

__all__ = ["LayerProfile", "ModelProfile", "profile"]


@dataclasses.dataclass(frozen=True)
class LayerProfile:
    """Counts for one layer."""

    name: str
    class_name: str
    output_shape: Tuple
    trainable_params: int
    params: int
    macs: int


@dataclasses.dataclass(frozen=True)
class ModelProfile:
    """Counts for a whole model, with the per-layer breakdown."""

    name: str
    input_shape: Tuple
    layers: Tuple[LayerProfile, ...]

    @property
    def trainable_params(self) -> int:
        return sum(layer.trainable_params for layer in self.layers)

    @property
    def params(self) -> int:
        return sum(layer.params for layer in self.layers)

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def gmacs(self) -> float:
        return self.macs / 1e9

    def table(self) -> str:
        """A text table of the layers that hold parameters or do multiply-adds."""
        lines = [f"{'layer':40} {'type':26} {'output':22} {'params':>12} {'MACs':>15}"]
        for layer in self.layers:
            if layer.params or layer.macs:
                shape = "x".join(str(side) for side in layer.output_shape[1:])
                lines.append(
                    f"{layer.name:40} {layer.class_name:26} {shape:22} "
                    f"{layer.params:>12,} {layer.macs:>15,}"
                )
        lines.append(
            f"{'total':40} {'':26} {'':22} {self.params:>12,} {self.macs:>15,}"
            f"\ntrainable parameters: {self.trainable_params:,}   GMACs: {self.gmacs:.3f}"
        )
        return "\n".join(lines)


def _count(weights):
    return sum(math.prod(weight.shape) for weight in weights)


def _spatial_positions(shape):
    """Number of output positions: everything but batch and channels."""
    return math.prod(shape[1:-1])


def _layer_macs(layer, input_shape, output_shape):
    if hasattr(layer, "compute_macs"):
        return int(layer.compute_macs(output_shape))
    if isinstance(layer, keras.layers.SeparableConv2D):
        in_channels = input_shape[-1]
        depthwise = math.prod(layer.kernel_size) * in_channels * layer.depth_multiplier
        pointwise = in_channels * layer.depth_multiplier * layer.filters
        return _spatial_positions(output_shape) * (depthwise + pointwise)
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        return _spatial_positions(output_shape) * math.prod(layer.kernel_size) * output_shape[-1]
    if isinstance(layer, keras.layers.Conv2DTranspose):
        return _spatial_positions(input_shape) * math.prod(layer.kernel_size) * input_shape[-1] * layer.filters
    if isinstance(layer, keras.layers.Conv2D):
        fan_in = math.prod(layer.kernel_size) * input_shape[-1] // layer.groups
        return _spatial_positions(output_shape) * fan_in * layer.filters
    if isinstance(layer, keras.layers.Dense):
        return math.prod(output_shape[1:-1]) * input_shape[-1] * layer.units
    return 0


def _first_shape(tensors):
    """Shape of a layer call's (first) input or output tensor."""
    if isinstance(tensors, (list, tuple)):
        tensors = tensors[0]
    return tuple(tensors.shape)


def _calls(layer):
    """(input_shape, output_shape) of every call of `layer` in the graph.

    A layer shared between several calls (one kernel applied twice) does its
    multiply-adds once per call.
    """
    nodes = [node for node in layer._inbound_nodes if node.input_tensors]
    return [(_first_shape(node.input_tensors), _first_shape(node.output_tensors)) for node in nodes]


def _profile_layers(model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _profile_layers(layer)
            continue
        if isinstance(layer, keras.layers.InputLayer):
            continue
        calls = _calls(layer)
        for input_shape, output_shape in calls:
            if None in input_shape[1:] or None in output_shape[1:]:
                raise ValueError(
                    "profile needs a model built for a fixed input size; build it with e.g. "
                    f"input_shape=(224, 224, 3). Received: a model whose layer {layer.name!r} has "
                    f"output shape {output_shape}"
                )
        yield LayerProfile(
            name=layer.name,
            class_name=type(layer).__name__,
            output_shape=calls[0][1] if calls else (),
            trainable_params=_count(layer.trainable_weights),
            params=_count(layer.weights),
            macs=sum(_layer_macs(layer, input_shape, output_shape) for input_shape, output_shape in calls),
        )


def profile(model):
    """Counts parameters and multiply-adds of every layer of a built functional model.

    Args:
        model: a `keras.Model` built for a fixed input size.

    Returns:
        A `ModelProfile`: `.trainable_params`, `.params`, `.macs`, `.gmacs`, `.layers`,
        and `.table()` for a printable breakdown.

    Raises:
        TypeError: if `model` is not a Keras model.
        ValueError: if the model's input size is not fixed.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"profile expects a keras.Model. Received: model={model!r}")
    layers = tuple(_profile_layers(model))
    return ModelProfile(name=model.name, input_shape=tuple(model.inputs[0].shape), layers=layers)
