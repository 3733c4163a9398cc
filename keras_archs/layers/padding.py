"""Padding conventions: TensorFlow's "same" and PyTorch's explicit, symmetric padding.

keras.applications and the TF-slim checkpoints pad a strided convolution or pool "same":
the total padding is split with the extra pixel after (0 before and 1 after for a 3x3/2 on
an even side). The PyTorch references (torchvision, timm) pad `k // 2` on both sides, may
round a pool's output side up (`ceil_mode=True`), and count the zero padding in an
average pool (`count_include_pad=True`). The two give different functions for the same
weights, so every family that has both forms builds its padded layers here, with the
convention as an argument.

PyTorch pads a max pool with -inf. Zero padding (keras.applications' ZeroPadding2D then
a valid pool) equals it when the inputs are non-negative, as after a ReLU; for inputs of
any sign (a pool after BatchNorm, as in Xception) `max_pool(..., nonnegative_input=False)`
builds the padding-free equivalent.
"""

import keras

__all__ = ["PAD_STYLES", "avg_pool", "ceil_mode_padding", "conv_padding", "max_pool"]

# "same": TensorFlow's split of the padding; "symmetric": PyTorch's `k // 2` on each side.
PAD_STYLES = ("same", "symmetric")


def _check_style(style):
    if style not in PAD_STYLES:
        raise ValueError(f"style must be one of {PAD_STYLES}. Received: style={style!r}")


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def conv_padding(x, kernel_size, strides=1, *, style, name, dilation_rate=1):
    """Pads `x` for a convolution of `kernel_size` and `strides` in the given convention.

    Where the two conventions agree (stride 1 and odd kernels), or for `style="same"`,
    nothing is added and the convolution is to use `padding="same"`. Otherwise a
    `ZeroPadding2D` named `{name}_pad` pads `dilation * (k - 1) // 2` on each side and the
    convolution is to use `padding="valid"`.

    Args:
        x: input tensor (channels last).
        kernel_size: int or (height, width) of the convolution.
        strides: int or (height, width) of the convolution.
        style: one of `PAD_STYLES`.
        name: stem of the padding layer's name.
        dilation_rate: the convolution's dilation.

    Returns:
        `(x, padding)`: the tensor to convolve and the convolution's `padding` argument.
    """
    _check_style(style)
    kernels, stride_pair, dilations = _pair(kernel_size), _pair(strides), _pair(dilation_rate)
    if style == "same" or (stride_pair == (1, 1) and all(k % 2 for k in kernels)):
        return x, "same"
    amounts = tuple(d * (k - 1) // 2 for k, d in zip(kernels, dilations))
    if any(amounts):
        x = keras.layers.ZeroPadding2D(tuple((a, a) for a in amounts), name=f"{name}_pad")(x)
    return x, "valid"


def ceil_mode_padding(x, pool_size, strides):
    """`((0, extra_h), (0, extra_w))`: what PyTorch's `ceil_mode=True` adds after each side.

    The extra rows make `side - pool` a multiple of the stride, so that the last window,
    which starts inside the input, is kept (a side of 2 under a 3x3/2 pool gives one
    output, as in PyTorch). A side that is unknown (None) gets no extra padding.
    """
    pools, stride_pair = _pair(pool_size), _pair(strides)
    return tuple(
        (0, 0 if side is None else (-(side - pool)) % stride)
        for side, pool, stride in zip(x.shape[1:3], pools, stride_pair)
    )


def max_pool(x, pool_size, strides, *, name, padding="valid", ceil_mode=False, pad_name=None,
             nonnegative_input=True):
    """Max pooling in either convention.

    Args:
        x: input tensor.
        pool_size: window side.
        strides: stride.
        name: the pooling layer's name.
        padding: "same" or "valid" (TensorFlow), or an int: PyTorch's symmetric padding.
            An int `k // 2` with stride 1 is exactly "same".
        ceil_mode: round the output side up, as PyTorch's `ceil_mode=True` (zero padding
            after the side: the input must be non-negative).
        pad_name: name of the `ZeroPadding2D` layer, default `{name}_pad`.
        nonnegative_input: whether the inputs are >= 0, so that zero padding stands for
            PyTorch's -inf (the layers of keras.applications' stems). With False, an int
            padding of `pool_size // 2` (odd windows) is built without padding: a stride-1
            "same" pool named `{name}_window`, which ignores its padding and centres a
            window on every pixel, then every `strides`-th output from the first, which
            are PyTorch's windows and output size.

    Returns:
        The pooled tensor.

    Raises:
        ValueError: for an unknown padding, or a padding that needs non-negative inputs
            when they are not.
    """
    pad_name = pad_name or f"{name}_pad"
    if isinstance(padding, int) and not isinstance(padding, bool):
        centred = pool_size % 2 == 1 and 2 * padding + 1 == pool_size
        if padding and _pair(strides) == (1, 1) and centred:
            padding = "same"
        elif padding and not nonnegative_input:
            if not centred or ceil_mode:
                raise ValueError(
                    "A max pool over inputs of any sign takes padding = pool_size // 2 for an odd window, "
                    f"without ceil_mode. Received: pool_size={pool_size}, padding={padding}, ceil_mode={ceil_mode}"
                )
            x = keras.layers.MaxPooling2D(pool_size, strides=1, padding="same", name=f"{name}_window")(x)
            return keras.layers.MaxPooling2D(1, strides=strides, padding="valid", name=name)(x)
        else:
            if padding:
                x = keras.layers.ZeroPadding2D(padding, name=pad_name)(x)
            padding = "valid"
    if padding not in ("same", "valid"):
        raise ValueError(f"padding must be 'same', 'valid' or an int. Received: padding={padding!r}")
    if ceil_mode:
        if padding != "valid":
            raise ValueError(f"ceil_mode needs padding='valid' or an int. Received: padding={padding!r}")
        if not nonnegative_input:
            raise ValueError("ceil_mode pads with zeros, which needs non-negative inputs. Received: nonnegative_input=False")
        extra = ceil_mode_padding(x, pool_size, strides)
        if any(after for _, after in extra):
            x = keras.layers.ZeroPadding2D(extra, name=pad_name)(x)
    return keras.layers.MaxPooling2D(pool_size, strides=strides, padding=padding, name=name)(x)


def avg_pool(x, pool_size, strides, *, name, padding=0, count_include_pad=True, pad_name=None):
    """Average pooling with PyTorch's symmetric padding.

    Args:
        x: input tensor.
        pool_size: window side.
        strides: stride.
        name: the pooling layer's name.
        padding: symmetric padding on each side (PyTorch's `padding`).
        count_include_pad: whether the zero padding counts in the average (PyTorch's
            default). Without it, only stride 1 with `padding = pool_size // 2` exists
            here: that is exactly TensorFlow's "same" average pool.
        pad_name: name of the `ZeroPadding2D` layer, default `{name}_pad`.

    Returns:
        The pooled tensor.

    Raises:
        ValueError: for a padding that excludes the padding from the average in a form
            other than TensorFlow's "same".
    """
    if not padding:
        return keras.layers.AveragePooling2D(pool_size, strides=strides, padding="valid", name=name)(x)
    if not count_include_pad:
        if _pair(strides) != (1, 1) or 2 * padding + 1 != pool_size:
            raise ValueError(
                "An average pool that excludes its padding is built as TensorFlow's 'same' pool, "
                f"which needs stride 1 and padding = pool_size // 2. Received: pool_size={pool_size}, "
                f"strides={strides}, padding={padding}"
            )
        return keras.layers.AveragePooling2D(pool_size, strides=strides, padding="same", name=name)(x)
    x = keras.layers.ZeroPadding2D(padding, name=pad_name or f"{name}_pad")(x)
    return keras.layers.AveragePooling2D(pool_size, strides=strides, padding="valid", name=name)(x)
