"""Mobile blocks: depthwise-separable convolutions and what builds on them.

The blocks of the networks built for phones, each configured (not copied) for every
variant that uses it:

- `depthwise_separable_block`: MobileNet v1 (Howard et al. 2017, arXiv 1704.04861).
- `inverted_residual`: the inverted residual with linear bottleneck of MobileNet v2
  (Sandler et al. 2018, arXiv 1801.04381), with the squeeze-excite and hard-swish of
  MobileNet v3 (Howard et al. 2019, arXiv 1905.02244).
- `ChannelShuffle`, `ChannelSplit`, `shuffle_unit`, `shuffle_unit_v2`: ShuffleNet
  (Zhang et al. 2018, arXiv 1707.01083) and ShuffleNet v2 (Ma et al. 2018, arXiv 1807.11164).
- `fire_module`: SqueezeNet (Iandola et al. 2016, arXiv 1602.07360).
"""

import collections

import keras
from keras import ops

from keras_archs.layers.attention import squeeze_excite
from keras_archs.layers.conv import conv_bn_act
from keras_archs.layers.padding import conv_padding

__all__ = [
    "AutoNames",
    "ChannelShuffle",
    "ChannelSplit",
    "correct_pad",
    "depthwise_bn",
    "depthwise_separable_block",
    "fire_module",
    "hard_sigmoid",
    "inverted_residual",
    "make_divisible",
    "sep_conv_bn",
    "shuffle_unit",
    "shuffle_unit_v2",
]

_PACKAGE = "keras_archs"


def sep_conv_bn(
    x,
    filters,
    kernel_size,
    *,
    name,
    strides=1,
    padding="same",
    depth_multiplier=1,
    use_bias=False,
    bn_epsilon=1e-3,
    bn_momentum=0.99,
    pre_activation=None,
    conv_suffix="",
):
    """Optional activation, a SeparableConv2D (depthwise then 1x1), then BatchNormalization.

    The depthwise-separable convolution of Xception (Chollet 2017) and MobileNet (Howard
    2017). The activation comes first because Xception and NASNet apply ReLU before each
    separable convolution.

    Layer names: `{name}_act` (when `pre_activation`), `{name}{conv_suffix}`, `{name}_bn`.

    Args:
        x: input tensor.
        filters: output channels of the pointwise convolution.
        kernel_size: depthwise kernel.
        name: stem of the layer names.
        strides: depthwise strides.
        padding: "same" or "valid".
        depth_multiplier: depthwise channel multiplier.
        use_bias: whether the separable convolution has a bias.
        bn_epsilon: BatchNormalization epsilon.
        bn_momentum: BatchNormalization momentum.
        pre_activation: activation applied before the convolution, or None.
        conv_suffix: suffix of the SeparableConv2D layer name.

    Returns:
        The output tensor.
    """
    if pre_activation is not None:
        x = keras.layers.Activation(pre_activation, name=f"{name}_act")(x)
    x = keras.layers.SeparableConv2D(
        filters,
        kernel_size,
        strides=strides,
        padding=padding,
        depth_multiplier=depth_multiplier,
        use_bias=use_bias,
        name=f"{name}{conv_suffix}",
    )(x)
    return keras.layers.BatchNormalization(epsilon=bn_epsilon, momentum=bn_momentum, name=f"{name}_bn")(x)



class AutoNames:
    """The names Keras gives unnamed layers in a fresh session: `re_lu`, `re_lu_1`, ...

    keras.applications MobileNetV3 and NASNet leave some layers unnamed, so Keras numbers
    them per class in creation order. A twin names its layers explicitly with the same
    sequence, so that its names equal those of a keras.applications model built in a
    fresh session (and its weight files map by name) without depending on what else
    the session has built.
    """

    def __init__(self):
        self._counts = collections.Counter()

    def __call__(self, base):
        """The next name for a layer whose automatic name stem is `base`."""
        index = self._counts[base]
        self._counts[base] += 1
        return base if index == 0 else f"{base}_{index}"


def make_divisible(value, divisor=8, min_value=None):
    """Rounds a channel count to a multiple of `divisor`, never more than 10% down.

    The rule of the TF-slim MobileNet code that MobileNet v2/v3 widths follow.
    """
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


def correct_pad(x, kernel_size):
    """TF's "same" padding of a stride-2 window made explicit: ((top, bottom), (left, right)).

    keras.applications pads before its stride-2 depthwise convolutions so that odd and
    even sizes line up with the TF-slim checkpoints; an unknown size pads as an even one.
    """
    height, width = x.shape[1:3]
    adjust = tuple(1 if side is None else 1 - side % 2 for side in (height, width))
    half = kernel_size // 2
    return ((half - adjust[0], half), (half - adjust[1], half))


def hard_sigmoid(x, *, name):
    """ReLU6(x + 3) / 6, the gate of MobileNet v3 (Howard 2019, §5.2).

    Written as keras.applications writes it: a `ReLU(6)` layer named `name` between two
    elementwise ops, so the twin's layer list matches.
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


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ChannelShuffle(keras.layers.Layer):
    """Interleaves the channels of `groups` groups: ShuffleNet's channel shuffle.

    "ShuffleNet" (Zhang et al. 2018, §3.1, Fig. 1): reshape the C channels to
    (groups, C / groups), transpose, flatten back, so that the next grouped convolution
    sees channels from every group. A layer rather than Reshape/Permute/Reshape layers
    because Keras' Reshape cannot keep an unknown height and width (include_top=False
    models take any input size); it converts to TFLite's builtin RESHAPE and TRANSPOSE.

    Args:
        groups: number of channel groups; the channel count must be a multiple of it.
    """

    def __init__(self, groups, **kwargs):
        super().__init__(**kwargs)
        self.groups = int(groups)

    def build(self, input_shape):
        if input_shape[-1] % self.groups:
            raise ValueError(
                f"ChannelShuffle needs channels divisible by groups. Received: groups={self.groups} "
                f"for {input_shape[-1]} channels"
            )

    def call(self, inputs):
        shape = ops.shape(inputs)
        height, width, channels = shape[1], shape[2], inputs.shape[-1]
        x = ops.reshape(inputs, (-1, height, width, self.groups, channels // self.groups))
        x = ops.transpose(x, (0, 1, 2, 4, 3))
        return ops.reshape(x, (-1, height, width, channels))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "groups": self.groups}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ChannelSplit(keras.layers.Layer):
    """Splits the channels into `splits` equal parts: ShuffleNet v2's channel split.

    Ma et al. 2018, §4, Fig. 3(c): half the channels go through the branch, half pass
    unchanged. Keras has no layer that slices channels; this converts to TFLite's SPLIT.

    Args:
        splits: number of equal parts.
    """

    def __init__(self, splits=2, **kwargs):
        super().__init__(**kwargs)
        self.splits = int(splits)

    def build(self, input_shape):
        if input_shape[-1] % self.splits:
            raise ValueError(
                f"ChannelSplit needs channels divisible by splits. Received: splits={self.splits} "
                f"for {input_shape[-1]} channels"
            )

    def call(self, inputs):
        return ops.split(inputs, self.splits, axis=-1)

    def compute_output_shape(self, input_shape):
        part = (*input_shape[:-1], input_shape[-1] // self.splits)
        return [part] * self.splits

    def get_config(self):
        return {**super().get_config(), "splits": self.splits}


def depthwise_bn(x, *, name, strides=1, kernel_size=3, bn_epsilon=1e-5, bn_momentum=0.9):
    """A depthwise convolution with symmetric (PyTorch-style) padding, then BN, no activation.

    ShuffleNet keeps no ReLU after the depthwise convolution (Zhang 2018, §3.2). Layer
    names: `{name}_pad` (stride 2 only), `{name}_dwconv`, `{name}_bn`.
    """
    padding = "same"
    if strides != 1:
        x = keras.layers.ZeroPadding2D(kernel_size // 2, name=f"{name}_pad")(x)
        padding = "valid"
    x = keras.layers.DepthwiseConv2D(
        kernel_size, strides=strides, padding=padding, use_bias=False, name=f"{name}_dwconv"
    )(x)
    return keras.layers.BatchNormalization(epsilon=bn_epsilon, momentum=bn_momentum, name=f"{name}_bn")(x)


_TORCH_BN = {"bn_epsilon": 1e-5, "bn_momentum": 0.9}


def shuffle_unit(x, filters, *, groups, strides, name, first_groups=None):
    """The ShuffleNet unit (Zhang 2018, Fig. 2b/2c).

    1x1 group convolution to `filters // 4` channels, BN, ReLU, channel shuffle, 3x3
    depthwise (stride 1 or 2), BN, 1x1 group convolution, BN; stride 1 adds the input,
    stride 2 concatenates a 3x3/2 average pooling of it (so the convolution path makes
    `filters - input channels`); ReLU last. The bottleneck is a quarter of the output
    width (§3.3).

    Layer names: `{name}_1_conv`, `_1_bn`, `_1_relu`, `_shuffle`, `_2_dwconv`, `_2_bn`,
    `_3_conv`, `_3_bn`, `_pool`, `_concat` or `_add`, `_out`.

    Args:
        x: input tensor.
        filters: output channels of the unit.
        groups: groups of the 1x1 convolutions.
        strides: 1 or 2.
        name: stem of the layer names.
        first_groups: groups of the first 1x1 convolution if not `groups` (the first
            unit of stage 2 does not group it: its input has only 24 channels).

    Returns:
        The output tensor.
    """
    in_filters = x.shape[-1]
    branch_filters = filters - in_filters if strides != 1 else filters
    y = conv_bn_act(
        x, filters // 4, 1, groups=groups if first_groups is None else first_groups, name=f"{name}_1", **_TORCH_BN
    )
    if groups > 1:
        y = ChannelShuffle(groups, name=f"{name}_shuffle")(y)
    y = depthwise_bn(y, strides=strides, name=f"{name}_2", **_TORCH_BN)
    y = conv_bn_act(y, branch_filters, 1, groups=groups, activation=None, name=f"{name}_3", **_TORCH_BN)
    if strides != 1:
        # PyTorch's AvgPool2d(3, 2, padding=1) counts the zero padding in the average.
        shortcut = keras.layers.ZeroPadding2D(1, name=f"{name}_pool_pad")(x)
        shortcut = keras.layers.AveragePooling2D(3, strides=strides, name=f"{name}_pool")(shortcut)
        y = keras.layers.Concatenate(name=f"{name}_concat")([y, shortcut])
    else:
        y = keras.layers.Add(name=f"{name}_add")([x, y])
    return keras.layers.ReLU(name=f"{name}_out")(y)


def shuffle_unit_v2(x, filters, *, strides, name):
    """The ShuffleNet v2 unit (Ma 2018, Fig. 3c/3d).

    Stride 1: channel split; one half passes, the other goes through 1x1 conv-BN-ReLU,
    3x3 depthwise-BN, 1x1 conv-BN-ReLU; concatenation and a 2-group channel shuffle.
    Stride 2: no split; the input feeds both a depthwise-BN, 1x1-BN-ReLU branch and the
    three-layer branch, each making `filters // 2` channels.

    Layer names: `{name}_split`, `{name}_branch1_*`, `{name}_branch2_{1,2,3}_*`,
    `{name}_concat`, `{name}_shuffle`.

    Args:
        x: input tensor.
        filters: output channels (even).
        strides: 1 or 2.
        name: stem of the layer names.

    Returns:
        The output tensor.
    """
    branch_filters = filters // 2
    if strides == 1:
        passed, branch = ChannelSplit(2, name=f"{name}_split")(x)
    else:
        passed = depthwise_bn(x, strides=strides, name=f"{name}_branch1_1", **_TORCH_BN)
        passed = conv_bn_act(passed, branch_filters, 1, name=f"{name}_branch1_2", **_TORCH_BN)
        branch = x
    branch = conv_bn_act(branch, branch_filters, 1, name=f"{name}_branch2_1", **_TORCH_BN)
    branch = depthwise_bn(branch, strides=strides, name=f"{name}_branch2_2", **_TORCH_BN)
    branch = conv_bn_act(branch, branch_filters, 1, name=f"{name}_branch2_3", **_TORCH_BN)
    x = keras.layers.Concatenate(name=f"{name}_concat")([passed, branch])
    return ChannelShuffle(2, name=f"{name}_shuffle")(x)


def fire_module(x, squeeze_filters, expand1x1_filters, expand3x3_filters, *, name):
    """SqueezeNet's Fire module (Iandola 2016, §3.2, Fig. 1).

    A 1x1 "squeeze" convolution to few channels, then "expand" 1x1 and 3x3 convolutions
    side by side, concatenated; every convolution has a bias and a ReLU.

    Layer names: `{name}_squeeze1x1`, `{name}_expand1x1`, `{name}_expand3x3`, `{name}_concat`.
    """
    options = {"norm": False, "conv_suffix": ""}
    x = conv_bn_act(x, squeeze_filters, 1, name=f"{name}_squeeze1x1", **options)
    left = conv_bn_act(x, expand1x1_filters, 1, name=f"{name}_expand1x1", **options)
    right = conv_bn_act(x, expand3x3_filters, 3, name=f"{name}_expand3x3", **options)
    return keras.layers.Concatenate(name=f"{name}_concat")([left, right])
