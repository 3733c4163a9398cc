"""SqueezeNet's Fire module.

"SqueezeNet: AlexNet-level accuracy with 50x fewer parameters and <0.5MB model size"
(Iandola et al. 2016, arXiv 1602.07360), §3.2.
"""

import keras

from keras_archs.layers.conv import conv_bn_act

__all__ = ["fire_module"]


def fire_module(x, squeeze_filters, expand1x1_filters, expand3x3_filters, *, name):
    """SqueezeNet's Fire module (Iandola 2016, §3.2, Fig. 1).

    A 1x1 "squeeze" convolution to few channels, then "expand" 1x1 and 3x3 convolutions
    side by side, concatenated; every convolution has a bias and a ReLU.

    Layer names: `{name}_squeeze1x1`, `{name}_expand1x1`, `{name}_expand3x3`, `{name}_concat`.

    Args:
        x: input tensor.
        squeeze_filters: channels of the 1x1 squeeze convolution.
        expand1x1_filters: channels of the 1x1 expand convolution.
        expand3x3_filters: channels of the 3x3 expand convolution.
        name: stem of the layer names.

    Returns:
        The concatenated tensor (`expand1x1_filters + expand3x3_filters` channels).
    """
    options = {"norm": False, "conv_suffix": ""}
    x = conv_bn_act(x, squeeze_filters, 1, name=f"{name}_squeeze1x1", **options)
    left = conv_bn_act(x, expand1x1_filters, 1, name=f"{name}_expand1x1", **options)
    right = conv_bn_act(x, expand3x3_filters, 3, name=f"{name}_expand3x3", **options)
    return keras.layers.Concatenate(name=f"{name}_concat")([left, right])
