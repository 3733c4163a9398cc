"""Residual units shared by every residual family.

One unit function, configured by a `ResidualSpec`, builds every residual block of the
package:

- post-activation basic and bottleneck units of "Deep Residual Learning for Image
  Recognition" (He et al., CVPR 2016, arXiv 1512.03385), with the stride on the first
  1x1 (the paper and keras.applications) or on the 3x3 (torchvision's "v1.5");
- pre-activation units of "Identity Mappings in Deep Residual Networks" (He et al.,
  ECCV 2016, arXiv 1603.05027) and of Wide ResNets (Zagoruyko and Komodakis 2016,
  arXiv 1605.07146), with dropout between the convolutions;
- grouped ("aggregated") bottlenecks of ResNeXt (Xie et al., CVPR 2017, arXiv
  1611.05431) as `Conv2D(groups=...)`;
- squeeze-and-excitation on the residual branch (Hu et al. 2018, arXiv 1709.01507);
- stochastic depth on the residual branch (Huang et al. 2016, arXiv 1603.09382);
- shortcuts: projection (option B of He 2015 §3.3) or parameter-free identity with
  subsampling and zero channel padding (option A).

Layer names follow keras.applications: `{block}_0_conv` is the shortcut, `{block}_1_conv`,
`{block}_2_conv`, ... the branch, `{block}_preact_bn` the pre-activation,
`{block}_se_*` squeeze-excitation, `{block}_drop` drop-path, `{block}_add` the sum of a
post-activation unit and `{block}_out` the unit's output.
"""

import dataclasses
from typing import Optional

import keras
from keras import ops

from keras_archs.layers.attention import squeeze_excite
from keras_archs.layers.conv import bn_act, conv_bn_act
from keras_archs.layers.padding import PAD_STYLES, conv_padding
from keras_archs.layers.regularization import drop_path, drop_path_rates

__all__ = [
    "PADDINGS",
    "SHORTCUTS",
    "ChannelZeroPadding",
    "ResidualSpec",
    "residual_stage",
    "residual_stages",
    "residual_unit",
    "se_filters",
]

# The styles of `keras_archs.layers.padding.conv_padding`, which pads every spatial
# convolution of a unit. "same": TensorFlow padding. "symmetric": strided convolutions get
# PyTorch's symmetric padding (ZeroPadding2D, then a valid convolution); stride-1 ones keep
# "same", which is already symmetric. "explicit": every spatial convolution is padded by a
# ZeroPadding2D layer, as keras.applications ResNet v2 does.
PADDINGS = PAD_STYLES
# "projection": 1x1 convolution + BN where the shape changes (option B, He 2015 §3.3).
# "zero_pad": parameter-free; subsample, then pad the new channels with zeros (option A).
SHORTCUTS = ("projection", "zero_pad")


@keras.saving.register_keras_serializable(package="keras_archs")
class ChannelZeroPadding(keras.layers.Layer):
    """Appends zero channels: the parameter-free option-A shortcut of He et al. 2015, §3.3.

    "The shortcut still performs identity mapping, with extra zero entries padded for
    increasing dimensions." The new channels are split before and after the old ones,
    as in the widely used CIFAR implementations.

    Args:
        padding: `(before, after)` channels of zeros.
    """

    def __init__(self, padding, **kwargs):
        super().__init__(**kwargs)
        self.padding = tuple(int(side) for side in padding)

    def call(self, inputs):
        return ops.pad(inputs, [[0, 0]] * (len(inputs.shape) - 1) + [list(self.padding)])

    def compute_output_shape(self, input_shape):
        channels = input_shape[-1]
        return (*input_shape[:-1], None if channels is None else channels + sum(self.padding))

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


@dataclasses.dataclass(frozen=True)
class ResidualSpec:
    """How the units of a network are built; one spec configures a whole family.

    Attributes:
        bottleneck: 1x1-3x3-1x1 bottleneck units; else two 3x3 convolutions ("basic").
        preact: pre-activation units (BN-ReLU before each convolution, He 2016); else
            post-activation (convolution-BN-ReLU, ReLU after the sum, He 2015).
        stride_on_3x3: in bottlenecks, stride on the 3x3 (torchvision "v1.5", ResNeXt,
            pre-activation nets) rather than on the first 1x1 (He 2015, keras.applications).
        conv_bias: True: every convolution has a bias (keras.applications ResNet v1);
            False: none; None: only those not followed by BatchNormalization
            (keras.applications ResNet v2).
        padding: one of `PADDINGS`.
        shortcut: one of `SHORTCUTS`, used where a unit changes the shape.
        shortcut_kernel_size: kernel of the projection (SENet-154 uses 3 after stage 1).
        groups: cardinality of the 3x3 convolution (ResNeXt).
        first_width_divisor: the first 1x1 of a bottleneck has `width // divisor`
            channels (2 in SENet-154, 1 elsewhere).
        se_ratio: squeeze-excitation bottleneck as a fraction of the unit's output
            channels (1/16 in Hu 2018); 0 for none.
        dropout_rate: dropout between the convolutions (Wide ResNet §2.4); 0 for none.
        zero_init_residual: the last BN of a post-activation branch starts with gamma 0,
            so every unit starts as the identity ("Accurate, Large Minibatch SGD", Goyal
            et al. 2017, arXiv 1706.02677, §5.1; torchvision's `zero_init_residual`).
        bn_epsilon: BatchNormalization epsilon.
        bn_momentum: BatchNormalization momentum.
    """

    bottleneck: bool = True
    preact: bool = False
    stride_on_3x3: bool = True
    conv_bias: Optional[bool] = False
    padding: str = "symmetric"
    shortcut: str = "projection"
    shortcut_kernel_size: int = 1
    groups: int = 1
    first_width_divisor: int = 1
    se_ratio: float = 0.0
    dropout_rate: float = 0.0
    zero_init_residual: bool = False
    bn_epsilon: float = 1e-5
    bn_momentum: float = 0.9

    def __post_init__(self):
        if self.padding not in PADDINGS:
            raise ValueError(f"padding must be one of {PADDINGS}. Received: padding={self.padding!r}")
        if self.shortcut not in SHORTCUTS:
            raise ValueError(f"shortcut must be one of {SHORTCUTS}. Received: shortcut={self.shortcut!r}")

    @property
    def bn(self):
        return {"bn_epsilon": self.bn_epsilon, "bn_momentum": self.bn_momentum}

    def bias(self, followed_by_bn):
        return not followed_by_bn if self.conv_bias is None else self.conv_bias


def se_filters(channels, se_ratio):
    """Squeeze-excitation bottleneck channels: `channels * se_ratio`, at least 1."""
    return max(1, int(round(channels * se_ratio)))


def _conv(x, filters, kernel_size, *, spec, name, strides=1, groups=1, norm=True, activation="relu"):
    """One convolution of a unit (with BN and activation unless pre-activation comes next)."""
    padding = "same"
    # A 1x1 convolution needs no padding: it keeps "same", the twins' setting, in every style.
    if kernel_size > 1:
        x, padding = conv_padding(x, kernel_size, strides, style=spec.padding, name=name)
    return conv_bn_act(
        x, filters, kernel_size, strides=strides, padding=padding, groups=groups, norm=norm,
        activation=activation if norm else None, use_bias=spec.bias(followed_by_bn=norm), name=name, **spec.bn,
    )


def _shortcut(x, preactivated, filters, *, spec, strides, name, pool_name):
    """The identity, or what replaces it where the unit changes the shape."""
    channels = x.shape[-1]
    if channels == filters and strides == 1:
        return x
    if spec.shortcut == "projection" and channels != filters:
        # Pre-activation units project the normalized input (He 2016, Fig. 4(e)).
        source = preactivated if spec.preact else x
        return _conv(
            source, filters, spec.shortcut_kernel_size, spec=spec, strides=strides, norm=not spec.preact,
            activation=None, name=f"{name}_0",
        )
    if strides > 1:
        # A 1x1 window with stride s keeps every s-th pixel: the identity, subsampled.
        x = keras.layers.MaxPooling2D(1, strides=strides, name=pool_name or f"{name}_0_pool")(x)
    if channels != filters:
        extra = filters - channels
        x = ChannelZeroPadding((extra // 2, extra - extra // 2), name=f"{name}_0_pad")(x)
    return x


def residual_unit(
    x, filters, *, spec, name, width=None, strides=1, drop_path_rate=0.0, final_activation=True,
    shortcut_pool_name=None,
):
    """One residual unit: `shortcut(x) + branch(x)`, built as `spec` says.

    Args:
        x: input feature map.
        filters: output channels.
        spec: a `ResidualSpec`.
        name: block name, e.g. "conv2_block1".
        width: channels of the bottleneck's 3x3 (all its groups together); ignored by
            basic units, which use `filters`.
        strides: spatial stride of the unit.
        drop_path_rate: probability of dropping the branch per sample in training.
        final_activation: ReLU after the sum of a post-activation unit; RoR defers it
            until its own shortcut is added.
        shortcut_pool_name: name of the subsampling layer of a strided identity shortcut
            (keras.applications ResNet v2 leaves it to Keras' automatic naming).

    Returns:
        The unit's output.
    """
    preactivated = bn_act(x, name=f"{name}_preact", **spec.bn) if spec.preact else x
    shortcut = _shortcut(
        x, preactivated, filters, spec=spec, strides=strides, name=name, pool_name=shortcut_pool_name
    )
    if spec.bottleneck:
        width = width or filters // 4
        plan = [
            (width // spec.first_width_divisor, 1, 1 if spec.stride_on_3x3 else strides, 1),
            (width, 3, strides if spec.stride_on_3x3 else 1, spec.groups),
            (filters, 1, 1, 1),
        ]
    else:
        plan = [(filters, 3, strides, 1), (filters, 3, 1, 1)]

    branch = preactivated
    for index, (channels, kernel_size, conv_strides, groups) in enumerate(plan, start=1):
        last = index == len(plan)
        if last and spec.dropout_rate:
            branch = keras.layers.Dropout(spec.dropout_rate, name=f"{name}_dropout")(branch)
        zero_gamma = last and spec.zero_init_residual and not spec.preact
        branch = _conv(
            branch, channels, kernel_size, spec=spec, strides=conv_strides, groups=groups,
            norm=not (last and spec.preact) and not zero_gamma, activation=None if last else "relu",
            name=f"{name}_{index}",
        )
        if zero_gamma:
            branch = keras.layers.BatchNormalization(
                epsilon=spec.bn_epsilon, momentum=spec.bn_momentum, gamma_initializer="zeros",
                name=f"{name}_{index}_bn",
            )(branch)
    if spec.se_ratio:
        branch = squeeze_excite(branch, se_filters(filters, spec.se_ratio), name=f"{name}_se")
    branch = drop_path(branch, drop_path_rate, name=f"{name}_drop")

    if spec.preact:
        return keras.layers.Add(name=f"{name}_out")([shortcut, branch])
    x = keras.layers.Add(name=f"{name}_add")([shortcut, branch])
    if not final_activation:
        return x
    return keras.layers.Activation("relu", name=f"{name}_out")(x)


def residual_stage(
    x, filters, blocks, *, spec, name, width=None, strides=2, stride_last=False, drop_path_rates=None,
    final_activation=True, shortcut_pool_name=None,
):
    """`blocks` units named `{name}_block1`, `{name}_block2`, ...; one of them strided.

    Args:
        x: input feature map.
        filters: output channels of every unit.
        blocks: number of units.
        spec: a `ResidualSpec`.
        name: stage name, e.g. "conv2".
        width: bottleneck width of the units.
        strides: stride of the stage.
        stride_last: stride in the last unit instead of the first (keras.applications
            ResNet v2 does this).
        drop_path_rates: one drop probability per unit (see `drop_path_rates`).
        final_activation: passed to the last unit.
        shortcut_pool_name: passed to the strided unit.

    Returns:
        The stage's output.
    """
    rates = drop_path_rates or [0.0] * blocks
    strided = blocks if stride_last else 1
    for index in range(1, blocks + 1):
        x = residual_unit(
            x, filters, spec=spec, width=width, strides=strides if index == strided else 1,
            drop_path_rate=rates[index - 1], final_activation=final_activation or index < blocks,
            shortcut_pool_name=shortcut_pool_name if index == strided else None, name=f"{name}_block{index}",
        )
    return x


def residual_stages(x, stages, *, spec, drop_path_rate=0.0, first_stage=2, stride_last=False, pool_names=None):
    """The stages of a network, with stochastic depth decaying linearly over all units.

    Args:
        x: input feature map (the stem's output).
        stages: sequence of `(filters, width, blocks, strides)`.
        spec: a `ResidualSpec`, or one per stage.
        drop_path_rate: drop probability of the last unit (Huang 2016's linear rule).
        first_stage: number in the first stage's name (`conv2` in ImageNet ResNets).
        stride_last: see `residual_stage`.
        pool_names: optional names of the strided identity shortcuts' subsampling,
            one per stage (None entries for automatic).

    Returns:
        The last stage's output; its layers are named `conv{first_stage + i}_block{j}_*`.
    """
    rates = drop_path_rates(drop_path_rate, sum(blocks for _, _, blocks, _ in stages))
    specs = [spec] * len(stages) if isinstance(spec, ResidualSpec) else list(spec)
    start = 0
    for offset, (filters, width, blocks, strides) in enumerate(stages):
        x = residual_stage(
            x, filters, blocks, spec=specs[offset], width=width, strides=strides, stride_last=stride_last,
            drop_path_rates=rates[start:start + blocks],
            shortcut_pool_name=pool_names[offset] if pool_names else None,
            name=f"conv{first_stage + offset}",
        )
        start += blocks
    return x
