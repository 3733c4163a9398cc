"""The convolutional highway layer (Srivastava, Greff and Schmidhuber 2015).

"Training Very Deep Networks", NeurIPS 2015, arXiv 1507.06228 (and "Highway Networks",
arXiv 1505.00387). A highway layer computes y = H(x) * T(x) + x * C(x) with a transform
gate T(x) = sigmoid(W_T x + b_T) and the coupled carry gate C = 1 - T (§2). With b_T
negative the layer starts out close to carrying its input through unchanged, which is
what lets plain SGD train very deep highway networks (§2.2); the residual connection of
He et al. (2015) is the gate-free special case y = H(x) + x.
"""

import keras

__all__ = ["highway_layer"]


def highway_layer(x, kernel_size=3, *, name, gate_bias=-2.0, activation="relu"):
    """A convolutional highway layer whose output has the input's shape.

    y = H * T + x * (1 - T) is computed as x + T * (H - x), the same function with plain
    Keras layers (no custom or Lambda layer), so the carry gate C = 1 - T is implicit.

    Layer names: `{name}_conv` and `{name}_{activation}` (H), `{name}_gate_conv` and
    `{name}_gate` (T, sigmoid), `{name}_sub` (H - x), `{name}_mul` and `{name}_out`.

    Args:
        x: input feature map; H and T keep its number of channels.
        kernel_size: kernel of the H and T convolutions (3x3 in the paper's CIFAR nets).
        name: stem of the layer names, e.g. "conv2_block1".
        gate_bias: initial bias b_T of the transform gate; negative values bias the
            layer towards carrying its input (the paper uses -1 to -3).
        activation: name of the nonlinearity of H (a string: it names a layer).

    Returns:
        The gated output.
    """
    filters = x.shape[-1]
    transformed = keras.layers.Conv2D(filters, kernel_size, padding="same", name=f"{name}_conv")(x)
    transformed = keras.layers.Activation(activation, name=f"{name}_{activation}")(transformed)
    gate = keras.layers.Conv2D(
        filters,
        kernel_size,
        padding="same",
        bias_initializer=keras.initializers.Constant(gate_bias),
        name=f"{name}_gate_conv",
    )(x)
    gate = keras.layers.Activation("sigmoid", name=f"{name}_gate")(gate)
    change = keras.layers.Subtract(name=f"{name}_sub")([transformed, x])
    change = keras.layers.Multiply(name=f"{name}_mul")([gate, change])
    return keras.layers.Add(name=f"{name}_out")([x, change])
