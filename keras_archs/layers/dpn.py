"""The dual-path block of Dual Path Networks (Chen, Li, Xiao, Jin, Yan and Feng 2017).

"Dual Path Networks", NeurIPS 2017, arXiv 1707.01629: a ResNeXt-style grouped bottleneck
whose output feeds a residual path (ResNet's feature re-use) and a densely connected path
(DenseNet's feature exploration, `keras_archs.layers.densenet`). Every DPN is configured
from `dual_path_block`; each pre-activation convolution is `keras_archs.layers.conv.bn_act`
(BN-ReLU) then the convolution.
"""

import keras

from keras_archs.layers.conv import bn_act
from keras_archs.layers.padding import conv_padding
from keras_archs.layers.regularization import drop_path

__all__ = ["dual_path_block"]


def _channels(x, start, stop, *, name):
    """Channels `start:stop` of a channels-last map, with a built-in layer.

    `Cropping2D` in "channels_first" crops the last two axes, which on a channels-last map
    are the width and the channels; cropping only the second pair slices the channels.
    """
    return keras.layers.Cropping2D(
        ((0, 0), (start, x.shape[-1] - stop)), data_format="channels_first", name=name
    )(x)


def _split_conv(x, residual_filters, dense_filters, *, name, strides=1):
    """A 1x1 convolution `{name}_conv` whose maps are split: `{name}_res`, then `{name}_dense`.

    One convolution, as in the reference implementations (cypw/DPNs, timm), so that their
    weights are this layer's weights as they are.
    """
    x = keras.layers.Conv2D(
        residual_filters + dense_filters, 1, strides=strides, use_bias=False, name=f"{name}_conv"
    )(x)
    residual = _channels(x, 0, residual_filters, name=f"{name}_res")
    dense = _channels(x, residual_filters, residual_filters + dense_filters, name=f"{name}_dense")
    return residual, dense


def dual_path_block(
    x,
    paths,
    *,
    name,
    bottleneck_filters,
    residual_filters,
    increment,
    groups,
    strides=1,
    drop_path_rate=0.0,
    bn_epsilon=1e-3,
    bn_momentum=0.9,
):
    """A DPN block: a grouped bottleneck whose output feeds a residual and a dense path.

    Chen 2017 §4 and Fig. 2(e): the block sees the concatenation of the residual path
    (a ResNeXt-style sum, `residual_filters` wide) and the densely connected path (which
    grows by `increment` maps per block). Its 1x1-3x3(grouped)-1x1 pre-activation
    bottleneck produces `residual_filters` maps added to the residual path and
    `increment` maps concatenated to the dense path. The first block of a stage (`paths`
    None) projects its input with a BN-ReLU-1x1 convolution (strided when the stage
    downsamples) into a new residual path and a dense path of `2 * increment` maps, as in
    the authors' MXNet code (cypw/DPNs).

    Stochastic depth (Huang 2016) drops the residual increment per sample in training.

    Layer names: `{name}_0_*` the projection, `{name}_1_*`, `{name}_2_*`, `{name}_3_*` the
    bottleneck (the 1x1 convolutions `{name}_0_conv` and `{name}_3_conv` are split into
    `_res` and `_dense` channels), `{name}_drop`, `{name}_add` (residual), `{name}_concat`
    (dense) and `{name}_out`, the concatenation of both paths that the next block sees.

    Args:
        x: concatenation of `paths` (the block's input).
        paths: (residual, dense) from the previous block, or None for a projection block.
        name: stem of the layer names, e.g. "conv3_block1".
        bottleneck_filters: width of the grouped 3x3 convolution and the 1x1 before it.
        residual_filters: width of the residual path.
        increment: maps added to the dense path.
        groups: cardinality of the 3x3 convolution.
        strides: 2 for the first block of a downsampling stage.
        drop_path_rate: probability of dropping the residual increment.
        bn_epsilon: BatchNormalization epsilon (1e-3 in the reference).
        bn_momentum: BatchNormalization momentum.

    Returns:
        `(out, (residual, dense))`: the concatenated output and the two paths.
    """
    bn = {"bn_epsilon": bn_epsilon, "bn_momentum": bn_momentum}
    if paths is None:
        shortcut = bn_act(x, name=f"{name}_0", **bn)
        residual, dense = _split_conv(shortcut, residual_filters, 2 * increment, strides=strides, name=f"{name}_0")
    else:
        residual, dense = paths
    branch = bn_act(x, name=f"{name}_1", **bn)
    branch = keras.layers.Conv2D(
        bottleneck_filters, 1, padding="same", use_bias=False, name=f"{name}_1_conv"
    )(branch)
    branch = bn_act(branch, name=f"{name}_2", **bn)
    # PyTorch's symmetric padding (TensorFlow's "same" pads a strided convolution
    # asymmetrically), so that strided blocks see the reference's windows.
    branch, padding = conv_padding(branch, 3, strides, style="symmetric", name=f"{name}_2")
    branch = keras.layers.Conv2D(
        bottleneck_filters, 3, strides=strides, padding=padding, groups=groups, use_bias=False,
        name=f"{name}_2_conv",
    )(branch)
    branch = bn_act(branch, name=f"{name}_3", **bn)
    residual_increment, dense_increment = _split_conv(branch, residual_filters, increment, name=f"{name}_3")
    residual_increment = drop_path(residual_increment, drop_path_rate, name=f"{name}_drop")
    residual = keras.layers.Add(name=f"{name}_add")([residual, residual_increment])
    dense = keras.layers.Concatenate(name=f"{name}_concat")([dense, dense_increment])
    out = keras.layers.Concatenate(name=f"{name}_out")([residual, dense])
    return out, (residual, dense)
