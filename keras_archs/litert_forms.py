"""The same function in the ops LiteRT's XNNPACK delegate runs fast: graph forms for TFLite export.

XNNPACK (the LiteRT CPU delegate) takes most ops, but in the LiteRT 2.3 of this project some
forms fall out of it or into slow kernels. Each one costs a switch between an XNNPACK
partition and LiteRT's builtin kernels, plus the builtin kernel itself, which is slow in int8.
Measured on the mobile models with `keras_archs.litert_ops` (docs/benchmarks.md):

- int8 HARD_SWISH runs in the builtin kernel (MobileNetV3: 55% of the int8 time). Written as
  `relu6(x + 3) * (x / 6)` it converts to int8 ADD (ReLU6 fused) and MUL, which XNNPACK takes.
- A standalone int8 RELU runs in the builtin kernel (NASNet's and AmoebaNet's cell inputs,
  ShuffleNet v1's downsampling units: 18-27% of their int8 time). A ReLU of a concatenation
  is the concatenation of the ReLUs of its inputs, which fuse into the ops that produce
  them where those have no other consumer; any other ReLU that cannot fuse becomes a 1x1
  depthwise convolution with unit weights and a fused ReLU, which XNNPACK takes.
- int8 AVERAGE_POOL_2D runs in the builtin kernel, and so does a 1x1 (subsampling) pooling
  in float. An average pooling is a depthwise convolution with weights 1/(pool area); where
  'same' padding leaves fewer cells in a window, a constant per-position factor corrects it
  (TensorFlow's pooling divides by the cells inside the image).
- A concatenation of more than 4 tensors runs in the builtin kernel (NASNet-A's normal
  cells concatenate 6); concatenated in groups of at most 4, then the groups, it is the
  same tensor.
- A 7x7 depthwise convolution (49 taps) misses XNNPACK's fast kernels (at most 25 taps):
  14x the time of a 5x5 in float, 3x more in int8. Its kernel's rows split into bands of at
  most 3 rows (at most 21 taps), each a depthwise convolution over the padded input shifted
  by the band's first row; their sum is the convolution (NASNet-A's and AmoebaNet-A's 7x7
  separable convolutions).

Every form computes the model's function up to float rounding (summation order, about 1e-6
relative); the model's layers and weights are reused or copied, never retrained. The Keras
model is not changed: `for_litert` returns a new functional model for the converter.
"""

import collections

import keras
import numpy as np

from keras_archs.layers.padding import same_padding

__all__ = ["for_litert", "MAX_CONCATENATION_INPUTS", "MAX_FAST_DEPTHWISE_TAPS"]

# The most inputs XNNPACK's concatenation takes; a longer one runs in the builtin kernel.
MAX_CONCATENATION_INPUTS = 4

# XNNPACK's fast (unipass) depthwise kernels take up to 25 taps (5x5); a kernel with more
# taps is split into row bands of at most this many taps.
MAX_FAST_DEPTHWISE_TAPS = 25


def _is_activation(layer, name):
    if isinstance(layer, keras.layers.Activation):
        return layer.activation is getattr(keras.activations, name)
    if name == "relu" and isinstance(layer, keras.layers.ReLU):
        return layer.max_value is None and not layer.negative_slope and not layer.threshold
    return False


def _producer(tensor):
    return tensor._keras_history.operation, tensor._keras_history.operation._inbound_nodes[
        tensor._keras_history.node_index]


def _nodes(model):
    # The model's own nodes: a layer's `_inbound_nodes` also holds its calls in other graphs.
    return [node for nodes in model._nodes_by_depth.values() for node in nodes]


# Ops a following ReLU fuses into (BatchNormalization folds into its convolution first).
_FUSING_PRODUCERS = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D,
                     keras.layers.Dense, keras.layers.BatchNormalization, keras.layers.Add)


def _relu_as_depthwise(layer, x):
    # A 1x1 depthwise convolution with unit weights and a fused ReLU: XNNPACK takes it in
    # int8, where it leaves a standalone RELU (whose output zero point differs from its
    # input's) to the builtin kernel.
    depthwise = keras.layers.DepthwiseConv2D(1, use_bias=False, activation="relu", name=f"{layer.name}_as_depthwise")
    y = depthwise(x)
    depthwise.set_weights([np.ones((1, 1, x.shape[-1], 1), dtype="float32")])
    return y


def _hard_swish_as_elementwise(x):
    # Not x * relu6(x + 3) / 6: the converter fuses that order into HARD_SWISH.
    return keras.ops.relu6(x + 3.0) * (x * (1.0 / 6.0))


def _padding(layer, height, width):
    kernel_h, kernel_w = layer.kernel_size if hasattr(layer, "kernel_size") else layer.pool_size
    stride_h, stride_w = layer.strides
    if layer.padding == "valid":
        return (0, 0), (0, 0)
    return same_padding(height, kernel_h, stride_h), same_padding(width, kernel_w, stride_w)


class _PerPositionScale(keras.layers.Layer):
    """Multiplies by a constant (1, H, W, 1) map: the 'same'-padding correction of an average pooling."""

    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        self.scale = np.asarray(scale, dtype="float32")

    def call(self, x):
        return x * self.scale


def _window_counts(size, kernel, stride, padding):
    """How many cells of the image each window of one axis covers."""
    before, after = padding
    starts = np.arange((size + before + after - kernel) // stride + 1) * stride - before
    return np.minimum(starts + kernel, size) - np.maximum(starts, 0)


def _average_pool_as_depthwise(layer, x):
    _, height, width, channels = x.shape
    pool_h, pool_w = layer.pool_size
    pad_h, pad_w = _padding(layer, height, width)
    depthwise = keras.layers.DepthwiseConv2D((pool_h, pool_w), strides=layer.strides, padding=layer.padding,
                                             use_bias=False, name=f"{layer.name}_as_depthwise")
    y = depthwise(x)
    depthwise.set_weights([np.full((pool_h, pool_w, channels, 1), 1.0 / (pool_h * pool_w), dtype="float32")])
    rows = _window_counts(height, pool_h, layer.strides[0], pad_h)
    columns = _window_counts(width, pool_w, layer.strides[1], pad_w)
    correction = (pool_h * pool_w) / np.outer(rows, columns)
    if np.allclose(correction, 1.0):
        return y
    return _PerPositionScale(correction[None, :, :, None], name=f"{layer.name}_window_correction")(y)


def _banded_depthwise(x, kernel, strides, padding, name, bias=None):
    """A depthwise convolution as a sum of row bands of its kernel, each with at most 25 taps."""
    kernel_h, kernel_w = kernel.shape[:2]
    _, height, width, _ = x.shape
    (top, bottom), (left, right) = padding
    if top or bottom or left or right:
        x = keras.layers.ZeroPadding2D(((top, bottom), (left, right)), name=f"{name}_pad")(x)
    band = max(1, MAX_FAST_DEPTHWISE_TAPS // kernel_w)
    output_h = (height + top + bottom - kernel_h) // strides[0] + 1
    parts = []
    for first in range(0, kernel_h, band):
        last = min(first + band, kernel_h)
        # A band that only ever reads padding adds zeros (and, calibrated on zeros, an int8
        # scale XNNPACK refuses): it is left out. Rows of the image: [top, top + height).
        rows_read = np.arange(output_h)[:, None] * strides[0] + np.arange(first, last)[None, :]
        if not np.any((rows_read >= top) & (rows_read < top + height)):
            continue
        shifted = keras.layers.Cropping2D(((first, kernel_h - last), (0, 0)), name=f"{name}_rows{first}")(x)
        with_bias = bias is not None and not parts
        piece = keras.layers.DepthwiseConv2D((last - first, kernel_w), strides=strides, padding="valid",
                                             depth_multiplier=kernel.shape[-1], use_bias=with_bias,
                                             name=f"{name}_band{first}")
        parts.append(piece(shifted))
        piece.set_weights([kernel[first:last]] + ([bias] if with_bias else []))
    return parts[0] if len(parts) == 1 else keras.layers.Add(name=f"{name}_sum")(parts)


def _needs_bands(layer, x):
    if not isinstance(layer, (keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D)):
        return False
    kernel_h, kernel_w = layer.kernel_size
    (top, bottom), _ = _padding(layer, x.shape[1], x.shape[2])
    output_h = (x.shape[1] + top + bottom - kernel_h) // layer.strides[0] + 1
    # On a map fewer rows high than the kernel, a band may read only rows the model itself
    # padded with zeros, and int8 would calibrate its output to a zero range, whose scale
    # XNNPACK refuses; such a map is small enough for the slow kernel.
    return (kernel_h * kernel_w > MAX_FAST_DEPTHWISE_TAPS and tuple(layer.dilation_rate) == (1, 1) and kernel_h > 1
            and output_h >= kernel_h)


def _depthwise_in_bands(layer, x):
    _, height, width, _ = x.shape
    padding = _padding(layer, height, width)
    if isinstance(layer, keras.layers.SeparableConv2D):
        depthwise_kernel, pointwise_kernel = layer.depthwise_kernel.numpy(), layer.pointwise_kernel.numpy()
        y = _banded_depthwise(x, depthwise_kernel, layer.strides, padding, f"{layer.name}_depthwise")
        pointwise = keras.layers.Conv2D(pointwise_kernel.shape[-1], 1, use_bias=layer.use_bias,
                                        activation=layer.activation, name=f"{layer.name}_pointwise")
        y = pointwise(y)
        pointwise.set_weights([pointwise_kernel] + ([layer.bias.numpy()] if layer.use_bias else []))
        return y
    bias = layer.bias.numpy() if layer.use_bias else None
    y = _banded_depthwise(x, layer.kernel.numpy(), layer.strides, padding, layer.name, bias)
    return keras.layers.Activation(layer.activation, name=f"{layer.name}_activation")(y)


def for_litert(model, quantize="none"):
    """`model` rewritten into the forms XNNPACK runs fast, for a TFLite conversion.

    Every conversion gets the 7x7 depthwise kernels in bands, the 1x1 (subsampling) average
    poolings as depthwise convolutions and the concatenations of more than 4 tensors in
    groups; an int8 one also the hard-swish, ReLU and average pooling forms.

    Args:
        model: a functional Keras model with a fixed input size (channels last); other
            models (Sequential, channels first) are returned as they are.
        quantize: the conversion it is for: "none", "float16", "dynamic" or "int8".

    Returns:
        `model` itself when nothing applies, otherwise a new functional model with the
        same inputs' names, sharing the model's other layers (and their weights).
    """
    integer = quantize == "int8"
    channels_last = all(getattr(layer, "data_format", "channels_last") == "channels_last" for layer in model.layers)
    if not channels_last or not isinstance(model, keras.Model) or not hasattr(model, "_nodes_by_depth") \
            or isinstance(model, keras.Sequential):
        return model

    consumers = collections.Counter(id(tensor) for node in _nodes(model) for tensor in node.input_tensors)

    def fuses(tensor):
        """Whether the converter fuses a ReLU of this (original) tensor into the op that produces it."""
        producer, _ = _producer(tensor)
        return isinstance(producer, _FUSING_PRODUCERS) and consumers[id(tensor)] == 1

    def replacement(operation, tensor, original):
        if integer and _is_activation(operation, "hard_swish"):
            return keras.layers.Activation(_hard_swish_as_elementwise, name=operation.name)(tensor)
        if integer and _is_activation(operation, "relu") and not fuses(original):
            producer, node = _producer(tensor)
            _, original_node = _producer(original)
            if isinstance(producer, keras.layers.Concatenate) and all(map(fuses, original_node.input_tensors)):
                parts = [keras.layers.ReLU(name=f"{operation.name}_part{index}")(part)
                         for index, part in enumerate(node.input_tensors)]
                return keras.layers.Concatenate(axis=producer.axis, name=operation.name)(parts)
            return _relu_as_depthwise(operation, tensor)
        if isinstance(operation, keras.layers.AveragePooling2D) and (integer or tuple(operation.pool_size) == (1, 1)):
            return _average_pool_as_depthwise(operation, tensor)
        if _needs_bands(operation, tensor):
            return _depthwise_in_bands(operation, tensor)
        return None

    def concatenation(operation, tensors):
        # XNNPACK concatenates at most MAX_CONCATENATION_INPUTS tensors; a longer list is
        # concatenated in groups, then the groups, which is the same tensor.
        groups = [tensors[start:start + MAX_CONCATENATION_INPUTS]
                  for start in range(0, len(tensors), MAX_CONCATENATION_INPUTS)]
        parts = [group[0] if len(group) == 1 else
                 keras.layers.Concatenate(axis=operation.axis, name=f"{operation.name}_group{index}")(group)
                 for index, group in enumerate(groups)]
        return keras.layers.Concatenate(axis=operation.axis, name=operation.name)(parts)

    changed, relu_rewrites = [], {}

    def call(node, *args, **kwargs):
        operation = node.operation
        if (isinstance(operation, keras.layers.Concatenate) and len(args) == 1 and not kwargs
                and len(args[0]) > MAX_CONCATENATION_INPUTS):
            changed.append(operation.name)
            return concatenation(operation, list(args[0]))
        if len(args) == 1 and not kwargs and not isinstance(args[0], (list, tuple)):
            tensor, original = args[0], node.input_tensors[0]
            # Two ReLUs of one tensor share one rewrite: a ReLU fuses into the op that
            # produces its input only when it is that op's one consumer.
            if integer and _is_activation(operation, "relu") and id(tensor) in relu_rewrites:
                return relu_rewrites[id(tensor)]
            replaced = replacement(operation, tensor, original)
            if replaced is not None:
                changed.append(operation.name)
                if _is_activation(operation, "relu"):
                    relu_rewrites[id(tensor)] = replaced
                return replaced
        return operation(*args, **kwargs)

    # The new layers are float32 whatever the global policy (a training run's mixed one):
    # the converter takes float32 graphs only.
    policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float32")
    try:
        # New inputs under the model's own input names, so the file's signature keeps them.
        inputs = [keras.Input(batch_shape=tensor.shape, dtype=tensor.dtype,
                              name=tensor._keras_history.operation.name) for tensor in model.inputs]
        computed = {id(original): tensor for original, tensor in zip(model.inputs, inputs)}
        # The walk of Keras' Function._run_through_graph (which clone_model uses), with each
        # node at hand: the rewrites read the original graph around it.
        for depth in sorted(model._nodes_by_depth, reverse=True):
            for node in model._nodes_by_depth[depth]:
                if not node.operation or node.is_input or any(id(x) not in computed for x in node.input_tensors):
                    continue
                args, kwargs = node.arguments.fill_in(computed)
                for original, tensor in zip(node.outputs, keras.tree.flatten(call(node, *args, **kwargs))):
                    computed[id(original)] = tensor
    finally:
        keras.config.set_dtype_policy(policy)
    if not changed:
        return model
    outputs = keras.tree.pack_sequence_as(model._outputs_struct, [computed[id(x)] for x in model.outputs])
    return keras.Model(keras.tree.pack_sequence_as(model._inputs_struct, inputs), outputs, name=model.name)
