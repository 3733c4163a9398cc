"""Mobile blocks: depthwise-separable convolutions and what builds on them."""

import keras

__all__ = ["sep_conv_bn"]


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
