"""ShuffleNet blocks: channel shuffle and split, and the units built on them.

- `ChannelShuffle`, `depthwise_bn`, `shuffle_unit`: "ShuffleNet: An Extremely Efficient
  Convolutional Neural Network for Mobile Devices" (Zhang et al. 2018, arXiv 1707.01083).
- `ChannelSplit`, `shuffle_unit_v2`: "ShuffleNet V2: Practical Guidelines for Efficient
  CNN Architecture Design" (Ma et al. 2018, arXiv 1807.11164).

The units follow the PyTorch references (torchvision, osmr/imgclsmob): symmetric padding
and `torch.nn.BatchNorm2d`'s settings, so converted weights compute the same.
"""

import keras
from keras import ops

from keras_archs.layers.conv import conv_bn_act
from keras_archs.layers.norm import TORCH_BN
from keras_archs.layers.padding import avg_pool, conv_padding

__all__ = ["ChannelShuffle", "ChannelSplit", "depthwise_bn", "shuffle_unit", "shuffle_unit_v2"]

# The serialization package of the custom layers: `keras_archs>ChannelShuffle`.
_PACKAGE = "keras_archs"


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

    Args:
        x: input tensor.
        name: stem of the layer names.
        strides: depthwise strides.
        kernel_size: depthwise kernel (odd).
        bn_epsilon: BatchNormalization epsilon.
        bn_momentum: BatchNormalization momentum.

    Returns:
        The output tensor.
    """
    x, padding = conv_padding(x, kernel_size, strides, style="symmetric", name=name)
    x = keras.layers.DepthwiseConv2D(
        kernel_size, strides=strides, padding=padding, use_bias=False, name=f"{name}_dwconv"
    )(x)
    return keras.layers.BatchNormalization(epsilon=bn_epsilon, momentum=bn_momentum, name=f"{name}_bn")(x)


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
        x, filters // 4, 1, groups=groups if first_groups is None else first_groups, name=f"{name}_1", **TORCH_BN
    )
    if groups > 1:
        y = ChannelShuffle(groups, name=f"{name}_shuffle")(y)
    y = depthwise_bn(y, strides=strides, name=f"{name}_2", **TORCH_BN)
    y = conv_bn_act(y, branch_filters, 1, groups=groups, activation=None, name=f"{name}_3", **TORCH_BN)
    if strides != 1:
        # PyTorch's AvgPool2d(3, 2, padding=1), which counts the zero padding in the average.
        shortcut = avg_pool(x, 3, strides, padding=1, name=f"{name}_pool")
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
        passed = depthwise_bn(x, strides=strides, name=f"{name}_branch1_1", **TORCH_BN)
        passed = conv_bn_act(passed, branch_filters, 1, name=f"{name}_branch1_2", **TORCH_BN)
        branch = x
    branch = conv_bn_act(branch, branch_filters, 1, name=f"{name}_branch2_1", **TORCH_BN)
    branch = depthwise_bn(branch, strides=strides, name=f"{name}_branch2_2", **TORCH_BN)
    branch = conv_bn_act(branch, branch_filters, 1, name=f"{name}_branch2_3", **TORCH_BN)
    x = keras.layers.Concatenate(name=f"{name}_concat")([passed, branch])
    return ChannelShuffle(2, name=f"{name}_shuffle")(x)
