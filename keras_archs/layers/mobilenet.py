"""MobileNet blocks: the depthwise-separable block and the inverted residual.

- `depthwise_separable_block`: MobileNet v1, "MobileNets: Efficient Convolutional Neural
  Networks for Mobile Vision Applications" (Howard et al. 2017, arXiv 1704.04861).
- `inverted_residual`: the inverted residual with linear bottleneck of "MobileNetV2:
  Inverted Residuals and Linear Bottlenecks" (Sandler et al. 2018, arXiv 1801.04381),
  with the squeeze-excite and hard-swish of "Searching for MobileNetV3" (Howard et al.
  2019, arXiv 1905.02244).
- `make_divisible`, `hard_sigmoid`: the channel rounding and the gate of v2/v3.

Each block is configured (not copied) for every variant: keras.applications' TensorFlow
padding for the twins, PyTorch's symmetric padding for the torchvision/timm forms.
"""

import keras

from keras_archs.layers.attention import squeeze_excite
from keras_archs.layers.padding import conv_padding, correct_pad

__all__ = ["depthwise_separable_block", "hard_sigmoid", "inverted_residual", "make_divisible"]


def make_divisible(value, divisor=8, min_value=None):
    """Rounds a channel count to a multiple of `divisor`, never more than 10% down.

    The rule of the TF-slim MobileNet code that MobileNet v2/v3 widths follow.

    Args:
        value: the unrounded channel count (e.g. `filters * alpha`).
        divisor: the multiple to round to.
        min_value: the smallest result, default `divisor`.

    Returns:
        The rounded channel count.
    """
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


def hard_sigmoid(x, *, name):
    """ReLU6(x + 3) / 6, the gate of MobileNet v3 (Howard 2019, §5.2).

    Written as keras.applications writes it: a `ReLU(6)` layer named `name` between two
    elementwise ops, so the twin's layer list matches.

    Args:
        x: input tensor.
        name: name of the `ReLU` layer.

    Returns:
        The gated tensor.
    """
    return keras.layers.ReLU(6.0, name=name)(x + 3.0) * (1.0 / 6.0)


def _strided_padding(x, kernel_size, strides, *, pad_style, name, keras_name, keras_padding=None):
    """Pads `x` before a depthwise convolution; returns `(x, padding)` for the convolution.

    keras.applications writes TF's "same" padding of a stride-2 window out as a
    `ZeroPadding2D` named `keras_name` (`keras_padding`, default `correct_pad`; the twins
    keep that layer); PyTorch's symmetric padding comes from the shared padding module
    (`{name}_pad`).
    """
    if pad_style == "same":
        if strides == 1:
            return x, "same"
        amounts = correct_pad(x, kernel_size) if keras_padding is None else keras_padding
        return keras.layers.ZeroPadding2D(amounts, name=keras_name)(x), "valid"
    return conv_padding(x, kernel_size, strides, style=pad_style, name=name)


def depthwise_separable_block(
    x, pointwise_filters, *, block_id, strides=1, depth_multiplier=1, pad_style="same", bn_epsilon=1e-3,
    bn_momentum=0.99,
):
    """MobileNet v1's block: 3x3 depthwise, BN, ReLU6, 1x1 pointwise, BN, ReLU6.

    Howard et al. 2017, Fig. 3. Layer names as keras.applications MobileNet:
    `conv_pad_{id}` (stride 2, "same" style: bottom and right only, as keras.applications
    pads at any size), `conv_dw_{id}_pad` (stride 2, "symmetric"),
    `conv_dw_{id}[_bn|_relu]`, `conv_pw_{id}[_bn|_relu]`.

    Args:
        x: input tensor.
        pointwise_filters: output channels.
        block_id: block number used in the layer names.
        strides: depthwise strides (1 or 2).
        depth_multiplier: depthwise channel multiplier.
        pad_style: padding of a stride-2 depthwise convolution: "same" (TensorFlow's, as
            keras.applications) or "symmetric" (PyTorch's, as timm), see
            `keras_archs.layers.padding`.
        bn_epsilon: BatchNormalization epsilon.
        bn_momentum: BatchNormalization momentum.

    Returns:
        The output tensor.
    """
    bn = {"epsilon": bn_epsilon, "momentum": bn_momentum}
    x, padding = _strided_padding(
        x, 3, strides, pad_style=pad_style, name=f"conv_dw_{block_id}", keras_name=f"conv_pad_{block_id}",
        keras_padding=((0, 1), (0, 1)),
    )
    x = keras.layers.DepthwiseConv2D(
        3, padding=padding, depth_multiplier=depth_multiplier, strides=strides, use_bias=False,
        name=f"conv_dw_{block_id}",
    )(x)
    x = keras.layers.BatchNormalization(name=f"conv_dw_{block_id}_bn", **bn)(x)
    x = keras.layers.ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)
    x = keras.layers.Conv2D(pointwise_filters, 1, padding="same", use_bias=False, name=f"conv_pw_{block_id}")(x)
    x = keras.layers.BatchNormalization(name=f"conv_pw_{block_id}_bn", **bn)(x)
    return keras.layers.ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)


def inverted_residual(
    x,
    *,
    expanded_filters,
    filters,
    prefix,
    activation,
    kernel_size=3,
    strides=1,
    expand=True,
    se_filters=None,
    se_activation="relu",
    se_gate="sigmoid",
    bn_suffix="_bn",
    pad_suffix="depthwise_pad",
    bn_momentum=0.999,
    bn_epsilon=1e-3,
    pad_style="same",
):
    """Inverted residual with linear bottleneck: 1x1 expand, depthwise, (SE), 1x1 project.

    MobileNet v2 (Sandler 2018, Table 1): the residual connects the thin bottlenecks and
    the projection has no activation, "to prevent nonlinearities from destroying too much
    information". MobileNet v3 (Howard 2019, Fig. 4) adds squeeze-and-excitation after
    the depthwise convolution and swaps ReLU for hard-swish in its later blocks.

    Layer names (keras.applications MobileNetV2/V3): `{prefix}expand`,
    `{prefix}expand{bn_suffix}`, `{prefix}{pad_suffix}` (stride 2, "same" style) or
    `{prefix}depthwise_pad` (stride 2, "symmetric"), `{prefix}depthwise`,
    `{prefix}depthwise{bn_suffix}`, `{prefix}squeeze_excite_*`, `{prefix}project`,
    `{prefix}project{bn_suffix}`, `{prefix}add`.

    Args:
        x: input tensor.
        expanded_filters: channels after the expansion.
        filters: output channels.
        prefix: stem of the layer names, e.g. "block_3_".
        activation: callable `(x, stem) -> x` applied after the expansion (stem
            `{prefix}expand`) and the depthwise convolution (stem `{prefix}depthwise`);
            it creates and names its own layer.
        kernel_size: depthwise kernel.
        strides: depthwise strides (1 or 2).
        expand: whether to expand (MobileNet v2's first block does not).
        se_filters: squeeze-excite bottleneck channels, or None for no SE.
        se_activation: SE bottleneck activation (name or callable), see `squeeze_excite`.
        se_gate: SE gate (name or callable).
        bn_suffix: BatchNormalization name suffix ("_BN" in MobileNetV2, "_bn" in V3).
        pad_suffix: name suffix of the stride-2 padding.
        bn_momentum: BatchNormalization momentum.
        bn_epsilon: BatchNormalization epsilon.
        pad_style: padding of a stride-2 depthwise convolution: "same" (TensorFlow's, as
            keras.applications and timm's `tf_` models) or "symmetric" (PyTorch's, as
            torchvision), see `keras_archs.layers.padding`.

    Returns:
        The output tensor.
    """
    shortcut = x
    in_filters = x.shape[-1]
    if expand:
        x = keras.layers.Conv2D(
            expanded_filters, 1, padding="same", use_bias=False, name=f"{prefix}expand"
        )(x)
        x = keras.layers.BatchNormalization(
            epsilon=bn_epsilon, momentum=bn_momentum, name=f"{prefix}expand{bn_suffix}"
        )(x)
        x = activation(x, f"{prefix}expand")
    x, padding = _strided_padding(
        x, kernel_size, strides, pad_style=pad_style, name=f"{prefix}depthwise", keras_name=f"{prefix}{pad_suffix}"
    )
    x = keras.layers.DepthwiseConv2D(
        kernel_size, strides=strides, padding=padding, use_bias=False, name=f"{prefix}depthwise"
    )(x)
    x = keras.layers.BatchNormalization(
        epsilon=bn_epsilon, momentum=bn_momentum, name=f"{prefix}depthwise{bn_suffix}"
    )(x)
    x = activation(x, f"{prefix}depthwise")
    if se_filters:
        x = squeeze_excite(
            x, se_filters, name=f"{prefix}squeeze_excite", activation=se_activation, gate=se_gate
        )
    x = keras.layers.Conv2D(filters, 1, padding="same", use_bias=False, name=f"{prefix}project")(x)
    x = keras.layers.BatchNormalization(
        epsilon=bn_epsilon, momentum=bn_momentum, name=f"{prefix}project{bn_suffix}"
    )(x)
    if strides == 1 and in_filters == filters:
        x = keras.layers.Add(name=f"{prefix}add")([shortcut, x])
    return x
