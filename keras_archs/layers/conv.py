"""Convolution blocks shared by every family."""

import keras

__all__ = ["bn_act", "conv_bn_act", "mlpconv", "sep_conv_bn"]


def _activation_suffix(activation):
    return f"_{activation}" if isinstance(activation, str) else "_act"


def _layer_name(names, kind, structured, explicit):
    """`structured`, or the name a `LayerNames` policy gives a layer of keras kind `kind`."""
    return structured if names is None else names(kind, structured, explicit)


def bn_act(
    x, *, name, activation="relu", bn_epsilon=1e-3, bn_momentum=0.99, bn_scale=True, act_suffix=None, names=None,
    explicit=False,
):
    """BatchNormalization then activation: the pre-activation of ResNet v2 and DenseNet.

    "Identity Mappings in Deep Residual Networks" (He et al. 2016, arXiv 1603.05027) and
    DenseNet (Huang et al. 2017) put BN and ReLU before each convolution. Layer names:
    `{name}_bn`, `{name}{act_suffix}` (default `_relu` for "relu", `_act` otherwise), e.g.
    `conv2_block1_preact_bn` and `conv2_block1_preact_relu` as in keras.applications.

    Args:
        x: input tensor.
        name: stem of the layer names.
        activation: activation name or callable.
        bn_epsilon: BatchNormalization epsilon.
        bn_momentum: BatchNormalization momentum.
        bn_scale: whether BatchNormalization learns gamma.
        act_suffix: suffix of the activation layer name.
        names: a `keras_archs.layers.naming.LayerNames` naming policy, or None for the
            structured names.
        explicit: with `names`, use the structured names even in keras' automatic naming.

    Returns:
        The output tensor.
    """
    x = keras.layers.BatchNormalization(
        epsilon=bn_epsilon, momentum=bn_momentum, scale=bn_scale,
        name=_layer_name(names, "batch_normalization", f"{name}_bn", explicit),
    )(x)
    if activation is None:
        return x
    suffix = act_suffix if act_suffix is not None else _activation_suffix(activation)
    return keras.layers.Activation(activation, name=_layer_name(names, "activation", f"{name}{suffix}", explicit))(x)


def conv_bn_act(
    x,
    filters,
    kernel_size,
    *,
    name,
    strides=1,
    padding="same",
    groups=1,
    dilation_rate=1,
    use_bias=None,
    norm=True,
    activation="relu",
    bn_epsilon=1e-3,
    bn_momentum=0.99,
    bn_scale=True,
    kernel_initializer="glorot_uniform",
    bias_initializer="zeros",
    conv_suffix="_conv",
    act_suffix=None,
    names=None,
    explicit=False,
):
    """Convolution, then optional batch normalization, then optional activation.

    The BatchNorm settings are arguments because the papers and the twins differ
    (Keras' epsilon 1e-3 and momentum 0.99, torchvision's 1e-5 and 0.9, `scale=False`
    in Inception-v3). Without normalization the activation is fused into the Conv2D,
    which is how `keras.applications` VGG names and orders its layers.

    Layer names: `{name}{conv_suffix}`, `{name}_bn`, `{name}{act_suffix}`; the default
    act suffix is `_relu` for "relu" and `_act` for callables.

    Args:
        x: input tensor (channels last).
        filters: output channels.
        kernel_size: int or (height, width).
        name: stem of the layer names.
        strides: convolution strides.
        padding: "same", "valid"; pad explicitly with `ZeroPadding2D` for
            PyTorch-style symmetric padding.
        groups: grouped convolution (AlexNet towers, ResNeXt, ShuffleNet).
        dilation_rate: dilation.
        use_bias: default: a bias only when there is no batch normalization.
        norm: whether to add BatchNormalization.
        activation: activation name or callable, or None.
        bn_epsilon: BatchNormalization epsilon.
        bn_momentum: BatchNormalization momentum.
        bn_scale: whether BatchNormalization learns gamma.
        kernel_initializer: convolution kernel initializer.
        bias_initializer: convolution bias initializer.
        conv_suffix: suffix of the Conv2D layer name.
        act_suffix: suffix of the activation layer name.
        names: a `keras_archs.layers.naming.LayerNames` naming policy (keras' automatic
            names for a twin), or None for the structured names.
        explicit: with `names`, use the structured names even in keras' automatic naming.

    Returns:
        The output tensor.
    """
    if use_bias is None:
        use_bias = not norm
    fused_activation = None if norm else activation
    x = keras.layers.Conv2D(
        filters,
        kernel_size,
        strides=strides,
        padding=padding,
        groups=groups,
        dilation_rate=dilation_rate,
        use_bias=use_bias,
        activation=fused_activation,
        kernel_initializer=kernel_initializer,
        bias_initializer=bias_initializer,
        name=_layer_name(names, "conv2d", f"{name}{conv_suffix}", explicit),
    )(x)
    if not norm:
        return x
    return bn_act(
        x, name=name, activation=activation, bn_epsilon=bn_epsilon, bn_momentum=bn_momentum,
        bn_scale=bn_scale, act_suffix=act_suffix, names=names, explicit=explicit,
    )


def mlpconv(x, filters, kernel_size, *, name, strides=1, padding="same", **conv_options):
    """Network-in-Network's "mlpconv" layer: a convolution, then 1x1 convolutions.

    The 1x1 convolutions act as a small multilayer perceptron shared over every spatial
    position (Lin et al. 2014, §3.1). Layers are named `{name}_conv1`, `{name}_conv2`, ...

    Args:
        x: input tensor.
        filters: output channels of each convolution, first the spatial one.
        kernel_size: kernel of the first convolution.
        name: stem of the layer names.
        strides: strides of the first convolution.
        padding: padding of the first convolution.
        **conv_options: passed to every `conv_bn_act` (e.g. `norm`, initializers).

    Returns:
        The output tensor.
    """
    for index, channels in enumerate(filters, start=1):
        first = index == 1
        x = conv_bn_act(
            x,
            channels,
            kernel_size if first else 1,
            strides=strides if first else 1,
            padding=padding if first else "valid",
            name=f"{name}_conv{index}",
            conv_suffix="",
            **conv_options,
        )
    return x


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
    bn_name=None,
):
    """Optional activation, a SeparableConv2D (depthwise then 1x1), then BatchNormalization.

    The depthwise-separable convolution of Xception (Chollet 2017) and MobileNet (Howard
    2017). The activation comes first because Xception and NASNet apply ReLU before each
    separable convolution.

    Layer names: `{name}_act` (when `pre_activation`), `{name}{conv_suffix}`, `{name}_bn`
    (or `bn_name`: keras.applications' NASNet puts the cell label after `_bn`).

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
        bn_name: the BatchNormalization layer's name, default `{name}_bn`.

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
    return keras.layers.BatchNormalization(
        epsilon=bn_epsilon, momentum=bn_momentum, name=f"{name}_bn" if bn_name is None else bn_name
    )(x)
