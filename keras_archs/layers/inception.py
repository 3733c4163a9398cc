"""The Inception line's building blocks, configured by every Inception-family model.

Szegedy et al., "Going Deeper with Convolutions" (CVPR 2015, arXiv 1409.4842): parallel
branches of 1x1, 3x3, 5x5 convolutions and pooling, concatenated, with 1x1 bottlenecks
that cut the multiply-adds. "Rethinking the Inception Architecture for Computer Vision"
(Szegedy et al., CVPR 2016, arXiv 1512.00567): a 5x5 factorized into two 3x3 (§3.1), an
n x n into 1 x n then n x 1 (§3.2), the expanded filter bank whose last step forks into
parallel 1x3 and 3x1 (Fig. 7), and grid reduction by stride-2 branches beside a pooling
branch (§5, Fig. 10). "Inception-v4, Inception-ResNet and the Impact of Residual
Connections on Learning" (Szegedy et al., AAAI 2017, arXiv 1602.07261): the inception
branches as a residual function, scaled down before the addition (§3.3, Fig. 20).

A block is data: a tuple of branches, each branch a tuple of `Conv`, `Pool` and `Fork`
steps. `inception_block` builds any of them, `grid_reduction` adds the max-pool branch of
a reduction, `inception_resnet_block` wraps branches as a scaled residual.

Conventions that differ between keras.applications and the PyTorch references (BN gamma
and epsilon, whether a padded average pool counts its padding) are fields of `ConvStyle`,
so that a twin and a reference's form are two configurations of the same blocks.

Every convolution is `keras_archs.layers.conv.conv_bn_act`, configured by the `ConvStyle`.
Layer naming (`keras_archs.layers.naming.LayerNames`, carried by the style): structured
names (`{block}_b{branch}_{step}_conv`, ...) by default; for the keras.applications twins
whose layers keras names automatically (`conv2d_7`, `batch_normalization_7`,
`activation_7`, `max_pooling2d_1`, ...) the same automatic names, handed out in the order
keras creates them, so that names, order and weights line up with the twin.

Auxiliary classifiers (`auxiliary_classifier`) are gated and sized by the model builder
(`keras_archs.models.base.AuxiliaryHeads`), which refuses a too-small input before any
layer exists.
"""

import dataclasses
from typing import Optional, Tuple, Union

import keras

from keras_archs.layers.conv import conv_bn_act
from keras_archs.layers.naming import LayerNames
from keras_archs.layers.norm import KERAS_BN
from keras_archs.layers.padding import avg_pool

__all__ = [
    "Conv",
    "ConvStyle",
    "CustomScaleLayer",
    "Fork",
    "Pool",
    "asymmetric",
    "auxiliary_classifier",
    "branch",
    "conv_bn",
    "expanded_bank",
    "factorized_5x5",
    "grid_reduction",
    "inception_block",
    "inception_resnet_block",
    "pool",
]


@dataclasses.dataclass(frozen=True)
class Conv:
    """One convolution step of a branch (followed by BN and ReLU as the style says)."""

    filters: int
    kernel_size: Union[int, Tuple[int, int]] = 1
    strides: int = 1
    padding: str = "same"


@dataclasses.dataclass(frozen=True)
class Pool:
    """A pooling step: "avg" or "max"."""

    kind: str
    size: int = 3
    strides: int = 1
    padding: str = "same"


@dataclasses.dataclass(frozen=True)
class Fork:
    """The last step of a branch: parallel convolutions, concatenated (v3 Fig. 7).

    Attributes:
        convs: the parallel `Conv` steps.
        name: the concatenation's name where a twin fixes one, else None.
    """

    convs: Tuple[Conv, ...]
    name: Optional[str] = None


def factorized_5x5(reduce_filters, filters, *, strides=1, padding="same"):
    """A 1x1 bottleneck, then a 5x5 receptive field as two stacked 3x3 (v3 §3.1).

    Two 3x3 layers cost 2 * 9 = 18 multiply-adds per position and channel pair instead of 25,
    28% less, and add a non-linearity. The stride, if any, is on the last 3x3.
    """
    return (Conv(reduce_filters, 1), Conv(filters, 3), Conv(filters, 3, strides, padding))


def asymmetric(n, filters, *, vertical_first=False):
    """An n x n convolution factorized into 1 x n then n x 1 (v3 §3.2, Fig. 6).

    Args:
        n: the receptive field.
        filters: the two layers' filters, e.g. `(128, 192)`.
        vertical_first: n x 1 before 1 x n (Inception-v4's Inception-C order).

    Returns:
        Two `Conv` steps: 2n instead of n^2 weights per channel pair.
    """
    kernels = ((n, 1), (1, n)) if vertical_first else ((1, n), (n, 1))
    return tuple(Conv(width, kernel) for width, kernel in zip(filters, kernels))


def expanded_bank(filters, *, name=None):
    """v3's expanded filter bank (Fig. 7): parallel 1x3 and 3x1, concatenated."""
    return Fork((Conv(filters, (1, 3)), Conv(filters, (3, 1))), name=name)


@dataclasses.dataclass
class ConvStyle:
    """How one model builds its convolutions (the implementations differ).

    The fields are `keras_archs.layers.conv.conv_bn_act`'s options, so that a preset of
    `keras_archs.layers.norm` spreads into a style: `ConvStyle(**TORCH_BN)`.

    Attributes:
        names: the model's `keras_archs.layers.naming.LayerNames`.
        norm: BatchNormalization after each convolution (GoogLeNet's paper form has none).
        use_bias: convolution bias (BN-Inception keeps it beside BN).
        bn_scale: BN learns gamma (keras' Inception-v3 and Inception-ResNet-v2: no).
        bn_epsilon: BN epsilon.
        count_include_pad: whether a padded ("same") stride-1 average pool counts the zero
            padding in its average, as PyTorch's `F.avg_pool2d(x, 3, 1, padding=1)` does
            (torchvision's Inception-v3). False: TensorFlow's "same" pool, which averages
            only the pixels inside the image (keras.applications, TF-slim, timm's
            `count_include_pad=False`). The two differ on the border pixels only.
        bn_momentum: BN momentum (Keras convention).
        conv_suffix: suffix of a convolution's name after its stem.
        act_suffix: suffix of an activation's name after its stem.
    """

    names: LayerNames = dataclasses.field(default_factory=LayerNames)
    norm: bool = True
    use_bias: bool = False
    bn_scale: bool = True
    bn_epsilon: float = KERAS_BN["bn_epsilon"]
    bn_momentum: float = KERAS_BN["bn_momentum"]
    count_include_pad: bool = False
    conv_suffix: str = "_conv"
    act_suffix: str = "_relu"


def conv_bn(
    x, filters, kernel_size, *, style, name, strides=1, padding="same", activation="relu",
    norm=None, use_bias=None, explicit=False,
):
    """`keras_archs.layers.conv.conv_bn_act` as `style` configures it.

    Convolution, BatchNormalization, activation. With keras' automatic names
    (`style.names`) the three layers need not share a stem (`conv2d_3`,
    `batch_normalization_3`, `activation_3` count per class); otherwise they are
    `{name}{conv_suffix}`, `{name}_bn`, `{name}{act_suffix}`.

    Args:
        x: input tensor.
        filters: output channels.
        kernel_size: int or (height, width).
        style: the model's `ConvStyle`.
        name: stem of the structured names.
        strides: strides.
        padding: "same" or "valid".
        activation: activation, or None for a linear output.
        norm: override of `style.norm`.
        use_bias: override of `style.use_bias` (default: also a bias without BN).
        explicit: use the structured names even in keras' automatic naming.

    Returns:
        The output tensor.
    """
    norm = style.norm if norm is None else norm
    if use_bias is None:
        use_bias = style.use_bias or not norm
    return conv_bn_act(
        x, filters, kernel_size, name=name, strides=strides, padding=padding, use_bias=use_bias, norm=norm,
        activation=activation, bn_epsilon=style.bn_epsilon, bn_momentum=style.bn_momentum, bn_scale=style.bn_scale,
        conv_suffix=style.conv_suffix, act_suffix=style.act_suffix, names=style.names, explicit=explicit,
    )


_POOLS = {"avg": (keras.layers.AveragePooling2D, "average_pooling2d"), "max": (keras.layers.MaxPooling2D, "max_pooling2d")}


def pool(x, step, *, style, name):
    """A `Pool` step, named `{name}_pool` (or keras' automatic name).

    A "same" average pool with `style.count_include_pad` is PyTorch's: explicit zero
    padding (`{pool name}_pad`), then a "valid" pool; it needs stride 1 and an odd window.
    """
    layer, kind = _POOLS[step.kind]
    pool_name = style.names(kind, f"{name}_pool")
    if step.kind == "avg" and step.padding == "same" and style.count_include_pad:
        if step.strides != 1 or step.size % 2 == 0:
            raise ValueError(
                "A padding-inclusive 'same' average pool needs stride 1 and an odd window. "
                f"Received: size={step.size}, strides={step.strides}"
            )
        return avg_pool(x, step.size, step.strides, padding=step.size // 2, count_include_pad=True, name=pool_name)
    return layer(step.size, strides=step.strides, padding=step.padding, name=pool_name)(x)


def _conv_step(x, step, *, style, name):
    return conv_bn(x, step.filters, step.kernel_size, strides=step.strides, padding=step.padding, style=style,
                   name=name)


def branch(x, steps, *, style, name):
    """One branch (or a stem): `Conv`, `Pool` and `Fork` steps in order, named `{name}_{step}`."""
    for index, step in enumerate(steps, start=1):
        stem = f"{name}_{index}"
        if isinstance(step, Conv):
            x = _conv_step(x, step, style=style, name=stem)
        elif isinstance(step, Pool):
            x = pool(x, step, style=style, name=stem)
        else:
            forks = [_conv_step(x, conv, style=style, name=f"{stem}{'abcdefgh'[part]}")
                     for part, conv in enumerate(step.convs)]
            explicit = step.name is not None
            x = keras.layers.Concatenate(
                axis=-1, name=style.names("concatenate", step.name or f"{stem}_concat", explicit)
            )(forks)
    return x


def inception_block(x, branches, *, style, name, concat_name=None):
    """The inception module: parallel branches, concatenated along the channels.

    Branches are built in the given order (keras' creation order, for the twins).

    Args:
        x: input tensor.
        branches: tuple of branches, each a tuple of `Conv` / `Pool` / `Fork` steps.
        style: the model's `ConvStyle`.
        name: stem of the branch layers' names (`{name}_b{branch}_{step}...`).
        concat_name: the concatenation's name (default `name`); always explicit.

    Returns:
        The concatenated branches.
    """
    outputs = [branch(x, steps, style=style, name=f"{name}_b{index}") for index, steps in enumerate(branches, start=1)]
    return keras.layers.Concatenate(axis=-1, name=concat_name or name)(outputs)


REDUCTION_POOL = Pool("max", 3, strides=2, padding="valid")


def grid_reduction(x, conv_branches, *, style, name, pool_first=False, pool_padding="valid", concat_name=None):
    """Efficient grid reduction (v3 §5, Fig. 10): stride-2 branches beside a 3x3/2 max pool.

    Halving the grid with a stride-2 convolution branch and a pooling branch in parallel
    avoids both the representational bottleneck of pooling first and the cost of a full
    convolution before pooling. The pooling branch keeps the input's channels.

    Args:
        x: input tensor.
        conv_branches: the convolution branches; each ends with a stride-2 `Conv`.
        style: the model's `ConvStyle`.
        name: stem of the layer names.
        pool_first: put the pooling branch first (Inception-v4's stem order).
        pool_padding: "valid" (Inception v3/v4) or "same" (BN-Inception).
        concat_name: the concatenation's name (default `name`).

    Returns:
        The concatenated branches at half the resolution.
    """
    pool_branch = (dataclasses.replace(REDUCTION_POOL, padding=pool_padding),)
    branches = (pool_branch, *conv_branches) if pool_first else (*conv_branches, pool_branch)
    return inception_block(x, branches, style=style, name=name, concat_name=concat_name)


@keras.saving.register_keras_serializable(package="keras_archs")
class CustomScaleLayer(keras.layers.Layer):
    """`inputs[0] + scale * inputs[1]`: the scaled residual sum of Inception-ResNet.

    Szegedy et al. 2017 (§3.3) scale the residual branch by 0.1 to 0.3 before the addition
    because, beyond about 1,000 filters, unscaled residuals made training die early. The
    class name is keras.applications' (`inception_resnet_v2.CustomScaleLayer`), so that
    `InceptionResNetV2` here has the same layer classes as its twin.

    Args:
        scale: the factor on the residual branch.
    """

    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        self.scale = float(scale)

    def call(self, inputs):
        shortcut, residual = inputs
        return shortcut + residual * self.scale

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


def inception_resnet_block(x, branches, *, scale, style, name, activation="relu"):
    """Inception-ResNet block: `activation(x + scale * conv1x1(concat(branches(x))))`.

    The 1x1 "filter-expansion" convolution (with bias, no BN, linear) brings the
    concatenated branches back to the input's channels before the scaled sum (Figs. 10-13,
    16-19). Names as in keras.applications: `{name}_mixed`, `{name}_conv`, `{name}_ac`.

    Args:
        x: input tensor.
        branches: the residual function's branches.
        scale: factor on the residual (1.0 adds it unscaled).
        style: the model's `ConvStyle`.
        name: block name, e.g. `block35_1`.
        activation: after the sum, or None (the last block of Inception-ResNet-v2).

    Returns:
        The block's output.
    """
    mixed = inception_block(x, branches, style=style, name=name, concat_name=f"{name}_mixed")
    up = keras.layers.Conv2D(x.shape[-1], 1, use_bias=True, name=f"{name}_conv")(mixed)
    x = CustomScaleLayer(scale, name=style.names("custom_scale_layer", f"{name}_scale"))([x, up])
    if activation is None:
        return x
    return keras.layers.Activation(activation, name=f"{name}_ac")(x)


def auxiliary_classifier(
    x, *, classes, classifier_activation, style, name, pool_size=5, pool_strides=3, adaptive_pool=None,
    conv_filters=128, hidden_units=1024, hidden_kernel=None, dropout_rate=0.0,
):
    """An auxiliary classifier on an intermediate grid (GoogLeNet §5, v3 §4).

    GoogLeNet's form: 5x5/3 average pooling, 1x1 convolution to 128, FC-1024 with ReLU,
    dropout 0.7, the classifier. Inception-v3's form (`hidden_kernel=5`): the FC layer is a
    `hidden_kernel` convolution over the whole pooled grid with BatchNormalization, which v3
    §10 credits for the auxiliary head's regularizing effect. Layer names `{name}_pool`,
    `{name}_conv1_*`, `{name}_fc*`, `{name}_dropout`, `{name}_predictions`; always explicit,
    so that an auxiliary head does not shift a twin's automatic names.

    Args:
        x: the intermediate feature map.
        classes: output units.
        classifier_activation: the main head's activation, also used here.
        style: the model's `ConvStyle`.
        name: stem of the layer names, e.g. `aux1`.
        pool_size: average pooling window.
        pool_strides: its strides.
        adaptive_pool: instead, adaptive average pooling to this grid (torchvision's
            GoogLeNet: 4x4 whatever the input size).
        conv_filters: channels of the 1x1 convolution.
        hidden_units: units of the hidden FC layer.
        hidden_kernel: None for a dense hidden layer on the flattened grid, or the kernel
            of the convolution standing in for it (v3: 5, with BN).
        dropout_rate: dropout before the classifier.

    Returns:
        The auxiliary class scores.

    Raises:
        ValueError: if the grid is not fixed or too small for the pooling and "FC" layers
            (a model refuses such an input earlier, through `AuxiliaryHeads.min_size`).
    """
    if adaptive_pool:
        min_side = adaptive_pool
    else:
        min_side = pool_size + ((hidden_kernel or 1) - 1) * pool_strides
    height, width = x.shape[1:3]
    if height is None or width is None or min(height, width) < min_side:
        raise ValueError(
            f"The auxiliary classifier needs a fixed input size giving a grid of at least "
            f"{min_side}x{min_side} where it branches off; this input gives {height}x{width}. "
            "Build with a larger input_shape or without it. Received: aux_logits=True"
        )
    if adaptive_pool:
        x = keras.layers.AdaptiveAveragePooling2D(adaptive_pool, name=f"{name}_pool")(x)
    else:
        x = keras.layers.AveragePooling2D(pool_size, strides=pool_strides, name=f"{name}_pool")(x)
    x = conv_bn(x, conv_filters, 1, style=style, name=f"{name}_conv1", explicit=True)
    if hidden_kernel:
        x = conv_bn(x, hidden_units, hidden_kernel, padding="valid", style=style, name=f"{name}_fc", explicit=True)
        x = keras.layers.GlobalAveragePooling2D(name=f"{name}_avg_pool")(x)
    else:
        x = keras.layers.Flatten(name=f"{name}_flatten")(x)
        x = keras.layers.Dense(hidden_units, activation="relu", name=f"{name}_fc")(x)
    if dropout_rate:
        x = keras.layers.Dropout(dropout_rate, name=f"{name}_dropout")(x)
    return keras.layers.Dense(classes, activation=classifier_activation, name=f"{name}_predictions")(x)
