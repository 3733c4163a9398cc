"""Squeeze-and-excitation (Hu, Shen and Sun 2018), usable by every family."""

import keras

__all__ = ["squeeze_excite"]


def _apply(activation, x, layer_name):
    if callable(activation):
        return activation(x)
    return keras.layers.Activation(activation, name=layer_name)(x)


def squeeze_excite(x, reduced_filters, *, name, activation="relu", gate="sigmoid", use_bias=True):
    """Rescales each channel by a gate computed from the globally pooled features.

    "Squeeze-and-Excitation Networks" (Hu et al., CVPR 2018, arXiv 1709.01507), §3:
    global average pooling (squeeze), FC to C/r, ReLU, FC back to C, sigmoid (excitation),
    channel-wise multiplication. The FC layers are 1x1 convolutions on the pooled 1x1 map,
    as in the reference implementations, which gives the same parameters.

    Layer names: `{name}_avg_pool`, `{name}_conv`, `{name}_{activation}`, `{name}_conv_1`,
    `{name}_{gate}`, `{name}_mul` (the pattern of keras.applications MobileNetV3).

    Args:
        x: feature map (channels last).
        reduced_filters: channels of the bottleneck, C/r in the paper.
        name: stem of the layer names, e.g. "conv2_block1_se".
        activation: bottleneck activation: a name, or a callable applied to the tensor.
        gate: gate activation: a name ("sigmoid", "hard_sigmoid"), or a callable.
        use_bias: whether the two 1x1 convolutions have biases.

    Returns:
        The rescaled feature map.
    """
    filters = x.shape[-1]
    squeezed = keras.layers.GlobalAveragePooling2D(keepdims=True, name=f"{name}_avg_pool")(x)
    squeezed = keras.layers.Conv2D(reduced_filters, 1, use_bias=use_bias, name=f"{name}_conv")(squeezed)
    squeezed = _apply(activation, squeezed, f"{name}_{activation}")
    squeezed = keras.layers.Conv2D(filters, 1, use_bias=use_bias, name=f"{name}_conv_1")(squeezed)
    squeezed = _apply(gate, squeezed, f"{name}_{gate}")
    return keras.layers.Multiply(name=f"{name}_mul")([x, squeezed])
