"""Dense connectivity: DenseNet's dense blocks and transitions, and DPN's dual-path block.

"Densely Connected Convolutional Networks" (Huang, Liu, van der Maaten and Weinberger,
CVPR 2017, arXiv 1608.06993) and "Dual Path Networks" (Chen, Li, Xiao, Jin, Yan and
Feng, NeurIPS 2017, arXiv 1707.01629). Every DenseNet (ImageNet and CIFAR, with or
without bottleneck and compression) and every DPN is configured from these functions.

Layer names follow `keras.applications.DenseNet*`: a dense layer `conv2_block1` is
`conv2_block1_0_bn`, `_0_relu`, `_1_conv`, `_1_bn`, `_1_relu`, `_2_conv`, `_concat`; a
transition `pool2` is `pool2_bn`, `pool2_relu`, `pool2_conv`, `pool2_pool`.
"""

import keras

from keras_archs.layers.conv import bn_act
from keras_archs.layers.padding import conv_padding
from keras_archs.layers.regularization import drop_path

__all__ = ["dense_block", "dense_layer", "dual_path_block", "post_activation", "transition"]


def _dropout(x, rate, name):
    return keras.layers.Dropout(rate, name=name)(x) if rate else x


def dense_layer(x, growth_rate, *, name, bottleneck_width=4, dropout_rate=0.0, bn_epsilon=1.001e-5,
                bn_momentum=0.99):
    """One composite function H_l, its `growth_rate` new maps concatenated to its input.

    Huang 2017 §3: BN-ReLU-Conv(3x3) producing k maps; with the bottleneck of
    DenseNet-B, BN-ReLU-Conv(1x1) to `bottleneck_width * k` maps first. The paper puts
    dropout after each convolution when training without augmentation.

    Args:
        x: the concatenation of all earlier maps of the block.
        growth_rate: k, maps added by this layer.
        name: stem of the layer names, e.g. "conv2_block1".
        bottleneck_width: 1x1 bottleneck width in multiples of k (4 in the paper);
            0 leaves the bottleneck out (plain DenseNet, no "B").
        dropout_rate: dropout after each convolution.
        bn_epsilon: BatchNormalization epsilon.
        bn_momentum: BatchNormalization momentum.

    Returns:
        `concat([x, H_l(x)])`, named `{name}_concat`.
    """
    bn = {"bn_epsilon": bn_epsilon, "bn_momentum": bn_momentum}
    branch = bn_act(x, name=f"{name}_0", **bn)
    if bottleneck_width:
        branch = keras.layers.Conv2D(
            bottleneck_width * growth_rate, 1, use_bias=False, name=f"{name}_1_conv"
        )(branch)
        branch = _dropout(branch, dropout_rate, f"{name}_1_dropout")
        branch = bn_act(branch, name=f"{name}_1", **bn)
    branch = keras.layers.Conv2D(growth_rate, 3, padding="same", use_bias=False, name=f"{name}_2_conv")(branch)
    branch = _dropout(branch, dropout_rate, f"{name}_2_dropout")
    return keras.layers.Concatenate(name=f"{name}_concat")([x, branch])


def dense_block(x, layers, growth_rate, *, name, **layer_options):
    """`layers` dense layers `{name}_block1`, `{name}_block2`, ... (Huang 2017, Fig. 1).

    Args:
        x: input feature map.
        layers: number of dense layers.
        growth_rate: k.
        name: stem of the layer names, e.g. "conv2".
        **layer_options: passed to `dense_layer`.

    Returns:
        The block's output, `{name}_block{layers}_concat`.
    """
    for index in range(1, layers + 1):
        x = dense_layer(x, growth_rate, name=f"{name}_block{index}", **layer_options)
    return x


def transition(x, compression, *, name, dropout_rate=0.0, bn_epsilon=1.001e-5, bn_momentum=0.99):
    """A transition layer: BN-ReLU-Conv(1x1) to `floor(theta * m)` maps, 2x2 average pooling.

    Huang 2017 §3, "Compression": theta < 1 is DenseNet-C (0.5 in DenseNet-BC and in
    every ImageNet DenseNet).

    Args:
        x: the dense block's output with m maps.
        compression: theta in (0, 1].
        name: stem of the layer names, e.g. "pool2".
        dropout_rate: dropout after the convolution.
        bn_epsilon: BatchNormalization epsilon.
        bn_momentum: BatchNormalization momentum.

    Returns:
        The downsampled feature map, `{name}_pool`.
    """
    x = bn_act(x, name=name, bn_epsilon=bn_epsilon, bn_momentum=bn_momentum)
    x = keras.layers.Conv2D(int(x.shape[-1] * compression), 1, use_bias=False, name=f"{name}_conv")(x)
    x = _dropout(x, dropout_rate, f"{name}_dropout")
    return keras.layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


def post_activation(x, *, bn_epsilon, bn_momentum):
    """The BN-ReLU that pre-activation networks need after their last block: `bn`, `relu`."""
    x = keras.layers.BatchNormalization(epsilon=bn_epsilon, momentum=bn_momentum, name="bn")(x)
    return keras.layers.Activation("relu", name="relu")(x)


def _bn_relu_conv(x, filters, kernel_size, *, name, strides=1, groups=1, bn):
    x = bn_act(x, name=name, **bn)
    # PyTorch's symmetric padding (TensorFlow's "same" pads a strided convolution
    # asymmetrically), so that strided blocks see the reference's windows.
    x, padding = conv_padding(x, kernel_size, strides, style="symmetric", name=name)
    return keras.layers.Conv2D(
        filters, kernel_size, strides=strides, padding=padding, groups=groups, use_bias=False, name=f"{name}_conv"
    )(x)


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
    branch = _bn_relu_conv(x, bottleneck_filters, 1, name=f"{name}_1", bn=bn)
    branch = _bn_relu_conv(branch, bottleneck_filters, 3, strides=strides, groups=groups, name=f"{name}_2", bn=bn)
    branch = bn_act(branch, name=f"{name}_3", **bn)
    residual_increment, dense_increment = _split_conv(branch, residual_filters, increment, name=f"{name}_3")
    residual_increment = drop_path(residual_increment, drop_path_rate, name=f"{name}_drop")
    residual = keras.layers.Add(name=f"{name}_add")([residual, residual_increment])
    dense = keras.layers.Concatenate(name=f"{name}_concat")([dense, dense_increment])
    out = keras.layers.Concatenate(name=f"{name}_out")([residual, dense])
    return out, (residual, dense)
