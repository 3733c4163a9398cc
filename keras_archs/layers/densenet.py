"""DenseNet's dense blocks and transitions (Huang, Liu, van der Maaten and Weinberger 2017).

"Densely Connected Convolutional Networks", CVPR 2017, arXiv 1608.06993. Every DenseNet
(ImageNet and CIFAR, with or without bottleneck and compression) is configured from these
functions; each composite function is `keras_archs.layers.conv.bn_act` (BN-ReLU) then a
convolution. Dual Path Networks share `post_activation` (`keras_archs.layers.dpn`).

Layer names follow `keras.applications.DenseNet*`: a dense layer `conv2_block1` is
`conv2_block1_0_bn`, `_0_relu`, `_1_conv`, `_1_bn`, `_1_relu`, `_2_conv`, `_concat`; a
transition `pool2` is `pool2_bn`, `pool2_relu`, `pool2_conv`, `pool2_pool`; the final
BN-ReLU is `bn`, `relu`.
"""

import keras

from keras_archs.layers.conv import bn_act
from keras_archs.layers.norm import DENSENET_BN

__all__ = ["dense_block", "dense_layer", "post_activation", "transition"]


def _dropout(x, rate, name):
    return keras.layers.Dropout(rate, name=name)(x) if rate else x


def dense_layer(x, growth_rate, *, name, bottleneck_width=4, dropout_rate=0.0, bn_epsilon=DENSENET_BN["bn_epsilon"],
                bn_momentum=DENSENET_BN["bn_momentum"]):
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
        bn_epsilon: BatchNormalization epsilon (keras.applications': 1.001e-5).
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


def transition(x, compression, *, name, dropout_rate=0.0, bn_epsilon=DENSENET_BN["bn_epsilon"],
               bn_momentum=DENSENET_BN["bn_momentum"]):
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
    """The BN-ReLU after the last block of a pre-activation network, named `bn` and `relu`.

    keras.applications' DenseNet gives these two layers bare names, which `bn_act` (whose
    names are `{name}_bn` and `{name}_relu`) cannot spell; DPN names its final layers the
    same way.

    Args:
        x: the last block's output.
        bn_epsilon: BatchNormalization epsilon.
        bn_momentum: BatchNormalization momentum.

    Returns:
        The activated feature map, `relu`.
    """
    x = keras.layers.BatchNormalization(epsilon=bn_epsilon, momentum=bn_momentum, name="bn")(x)
    return keras.layers.Activation("relu", name="relu")(x)
