"""Moving a PyTorch state dict into a Keras model: tensor layouts, BatchNorm, naming rules.

A family module of `keras_archs.convert` only says which reference tensors belong to which
of our layers (`layer_map`); this module turns them into Keras weights:

- `Conv2D`: PyTorch's (out, in / groups, kh, kw) kernel to Keras' (kh, kw, in / groups,
  out); a `Linear` weight onto a 1x1 `Conv2D` (heads built as convolutions).
- `DepthwiseConv2D`: (channels * multiplier, 1, kh, kw) to (kh, kw, channels, multiplier).
- `SeparableConv2D`: a pair of prefixes, the depthwise then the pointwise convolution.
- `Dense`: the transposed weight (of a `Linear`, or of a 1x1 convolution used as the
  classifier); behind a `Flatten` of a (h, w, c) map, the inputs are reordered from
  PyTorch's (c, h, w) flattening.
- `BatchNormalization`: gamma, beta and the running statistics; the reference's epsilon
  (which state dicts do not store) is folded into the moving variance, so that
  `var + eps` is the same on both sides (through gamma, for a channel whose reference
  `var + eps` is below our epsilon). A layer without gamma (`scale=False`) takes a
  reference whose gamma is all ones, and refuses any other.
"""

import re
from typing import Callable, Mapping, Sequence, Tuple, Union

import numpy as np
import keras

__all__ = ["Prefix", "layer_map_from_rules", "transfer", "weighted_layers"]

# A layer's reference module: one dotted prefix, or (depthwise, pointwise) for a
# SeparableConv2D.
Prefix = Union[str, Tuple[str, str]]
# Buffers that carry no weight of ours.
_IGNORED_SUFFIXES = (".num_batches_tracked",)


def weighted_layers(model):
    """The layers of `model` (nested models flattened) that own weights, in build order."""
    layers = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            layers.extend(weighted_layers(layer))
        elif layer.weights:
            layers.append(layer)
    return layers


def layer_map_from_rules(model, rules: Sequence[Tuple[str, Union[str, Callable]]]):
    """`{layer name: reference prefix}` for every weighted layer, by regular expressions.

    Args:
        model: the Keras model.
        rules: `(pattern, replacement)` pairs tried in order; the first pattern that
            matches the whole layer name wins. `replacement` is a `re.Match.expand`
            template (`r"layer\\1.conv"`), or a function of the match returning a prefix
            (or a pair for a SeparableConv2D).

    Raises:
        ValueError: naming the layers no rule matches.
    """
    compiled = [(re.compile(pattern), replacement) for pattern, replacement in rules]
    mapping, unmatched = {}, []
    for layer in weighted_layers(model):
        for pattern, replacement in compiled:
            match = pattern.fullmatch(layer.name)
            if match:
                mapping[layer.name] = replacement(match) if callable(replacement) else match.expand(replacement)
                break
        else:
            unmatched.append(layer.name)
    if unmatched:
        raise ValueError(f"No conversion rule names these layers of {model.name!r}: {', '.join(unmatched[:10])}")
    return mapping


class _Tensors:
    """The state dict, with the names read so far, so that leftovers can be reported."""

    def __init__(self, state_dict: Mapping[str, np.ndarray]):
        self.arrays = dict(state_dict)
        self.used = set()

    def get(self, key, required=True):
        if key not in self.arrays:
            if required:
                raise ValueError(f"The state dict has no tensor {key!r}")
            return None
        self.used.add(key)
        return np.asarray(self.arrays[key])

    def unused(self):
        return sorted(
            key for key in self.arrays if key not in self.used and not key.endswith(_IGNORED_SUFFIXES)
        )


def _conv_kernel(weight):
    if weight.ndim == 2:  # a Linear onto a 1x1 convolution
        return weight.T[None, None]
    return weight.transpose(2, 3, 1, 0)


def _depthwise_kernel(weight, channels):
    out_channels, _, height, width = weight.shape
    multiplier = out_channels // channels
    return weight.reshape(channels, multiplier, height, width).transpose(2, 3, 0, 1)


def _flattened_grid(layer):
    """(h, w, c) of the map a `Flatten` hands to this Dense layer, or None."""
    try:
        history = layer.input._keras_history
    except (AttributeError, ValueError):
        return None
    source = history.operation
    if not isinstance(source, keras.layers.Flatten):
        return None
    shape = source.input.shape
    return tuple(shape[1:]) if len(shape) == 4 and None not in shape[1:] else None


def _dense_kernel(weight, layer):
    if weight.ndim == 4:  # a 1x1 convolution onto a Dense layer (timm's DPN classifier)
        if weight.shape[2:] != (1, 1):
            raise ValueError(f"Layer {layer.name!r} is Dense; the reference's weight has shape {weight.shape}")
        weight = weight[:, :, 0, 0]
    grid = _flattened_grid(layer)
    if grid is not None and grid[0] * grid[1] > 1:
        height, width, channels = grid
        weight = weight.reshape(-1, channels, height, width).transpose(0, 2, 3, 1).reshape(weight.shape[0], -1)
    return weight.T


def _batch_norm(layer, tensors, prefix, reference_epsilon):
    channels = layer.moving_mean.shape
    gamma = tensors.get(f"{prefix}.weight", required=False)
    gamma = np.ones(channels) if gamma is None else gamma
    beta = tensors.get(f"{prefix}.bias", required=False)
    mean = tensors.get(f"{prefix}.running_mean")
    variance = tensors.get(f"{prefix}.running_var")
    # The same `var + eps` on both sides. Where our epsilon exceeds the reference's
    # `var + eps`, the variance bottoms out at 0 and gamma absorbs the rest.
    denominator = variance + reference_epsilon
    folded = np.maximum(denominator - layer.epsilon, 0.0)
    gamma = gamma * np.sqrt((folded + layer.epsilon) / denominator)
    if not layer.scale and not np.allclose(gamma, 1.0):
        raise ValueError(
            f"Layer {layer.name!r} has no BatchNorm gamma (scale=False), but the reference's "
            f"{prefix} needs one (its weight is not all ones, or its running_var + epsilon is below "
            f"our epsilon {layer.epsilon}); this form cannot hold these weights"
        )
    values = [gamma] if layer.scale else []
    if layer.center:
        values.append(np.zeros(channels) if beta is None else beta)
    return [*values, mean, folded]


def _layer_values(layer, tensors, prefix, reference_epsilon):
    if isinstance(layer, keras.layers.SeparableConv2D):
        depthwise, pointwise = prefix
        channels = layer.depthwise_kernel.shape[2]
        values = [
            _depthwise_kernel(tensors.get(f"{depthwise}.weight"), channels),
            _conv_kernel(tensors.get(f"{pointwise}.weight")),
        ]
        if layer.use_bias:
            values.append(tensors.get(f"{pointwise}.bias"))
        return values
    if isinstance(layer, keras.layers.BatchNormalization):
        return _batch_norm(layer, tensors, prefix, reference_epsilon)
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        kernel = _depthwise_kernel(tensors.get(f"{prefix}.weight"), layer.kernel.shape[2])
    elif isinstance(layer, keras.layers.Conv2D):
        kernel = _conv_kernel(tensors.get(f"{prefix}.weight"))
    elif isinstance(layer, keras.layers.Dense):
        kernel = _dense_kernel(tensors.get(f"{prefix}.weight"), layer)
    else:
        raise ValueError(f"No conversion for layer {layer.name!r} of type {type(layer).__name__}")
    return [kernel, tensors.get(f"{prefix}.bias")] if layer.use_bias else [kernel]


def transfer(model, layer_map: Mapping[str, Prefix], state_dict, *, reference_epsilon, strict=True, optional=()):
    """Sets the weights of `model` from a reference `state_dict` of numpy arrays.

    Args:
        model: the Keras model, built in the reference's form.
        layer_map: `{layer name: reference prefix}` for every weighted layer.
        state_dict: reference tensor name -> array.
        reference_epsilon: the reference's BatchNorm epsilon.
        strict: refuse reference tensors that no layer took.
        optional: prefixes of reference tensors that may be left over even when strict
            (auxiliary heads the model was built without).

    Raises:
        ValueError: for a layer without a prefix, a missing tensor, a shape that differs,
            or (strict) tensors left over, each named.
    """
    tensors = _Tensors(state_dict)
    updates = []
    for layer in weighted_layers(model):
        if layer.name not in layer_map:
            raise ValueError(f"The conversion names no reference tensor for layer {layer.name!r}")
        prefix = layer_map[layer.name]
        values = _layer_values(layer, tensors, prefix, reference_epsilon)
        expected = [tuple(weight.shape) for weight in layer.weights]
        received = [tuple(value.shape) for value in values]
        if expected != received:
            raise ValueError(
                f"Layer {layer.name!r} has weights of shapes {expected}; the reference's {prefix!r} "
                f"gives {received}"
            )
        updates.append((layer, values))
    leftovers = [key for key in tensors.unused() if not key.startswith(tuple(optional))]
    if strict and leftovers:
        raise ValueError(
            f"{len(leftovers)} reference tensors have no layer in {model.name!r}: {', '.join(leftovers[:10])}"
        )
    for layer, values in updates:
        layer.set_weights([np.asarray(value, dtype=weight.dtype) for value, weight in zip(values, layer.weights)])
    return model
