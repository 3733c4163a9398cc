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

`torch_stem` is the PyTorch references' ImageNet stem (torchvision's ResNet, timm's DPN,
ShuffleNet): a strided convolution padded `k // 2` on each side, BN, ReLU, then a 3x3/2
max pool padded by 1.
"""

import keras

from keras_archs.layers.conv import conv_bn_act

__all__ = [
    "PAD_STYLES", "avg_pool", "ceil_mode_padding", "conv_padding", "correct_pad", "max_pool", "same_padding", "torch_stem",
]

# "same": TensorFlow's split of the padding; "symmetric": PyTorch's `k // 2` on each side;
# "explicit": the symmetric padding as a ZeroPadding2D layer even where "same" equals it
# (stride 1, odd kernel), as keras.applications' ResNet v2 pads its 3x3 convolutions.
PAD_STYLES = ("same", "symmetric", "explicit")


def _check_style(style):
    if style not in PAD_STYLES:
        raise ValueError(f"style must be one of {PAD_STYLES}. Received: style={style!r}")


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def conv_padding(x, kernel_size, strides=1, *, style, name, dilation_rate=1, pad_name=None):
    """Pads `x` for a convolution of `kernel_size` and `strides` in the given convention.

    Where the two conventions agree (stride 1 and odd kernels) and `style` is not
    "explicit", or for `style="same"`, nothing is added and the convolution is to use
    `padding="same"`. Otherwise a `ZeroPadding2D` pads `dilation * (k - 1) // 2` on each
    side and the convolution is to use `padding="valid"`.

    Args:
        x: input tensor (channels last).
        kernel_size: int or (height, width) of the convolution.
        strides: int or (height, width) of the convolution.
        style: one of `PAD_STYLES`.
        name: stem of the padding layer's name, `{name}_pad`.
        dilation_rate: the convolution's dilation.
        pad_name: the padding layer's name instead (keras.applications' DenseNet leaves
            its stem padding to Keras' automatic name).

    Returns:
        `(x, padding)`: the tensor to convolve and the convolution's `padding` argument.
    """
    _check_style(style)
    kernels, stride_pair, dilations = _pair(kernel_size), _pair(strides), _pair(dilation_rate)
    agree = stride_pair == (1, 1) and all(k % 2 for k in kernels)
    if style == "same" or (agree and style == "symmetric"):
        return x, "same"
    amounts = tuple(d * (k - 1) // 2 for k, d in zip(kernels, dilations))
    if any(amounts):
        x = keras.layers.ZeroPadding2D(tuple((a, a) for a in amounts), name=pad_name or f"{name}_pad")(x)
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


def same_padding(size, kernel, stride):
    """TensorFlow's "same" padding of one spatial axis, (before, after): the smaller half first."""
    output = -(-size // stride)
    total = max((output - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def correct_pad(x, kernel_size):
    """TF's "same" padding of a stride-2 window made explicit: ((top, bottom), (left, right)).

    keras.applications pads before its stride-2 depthwise convolutions so that odd and
    even sizes line up with the TF-slim checkpoints; an unknown size pads as an even one.
    """
    height, width = x.shape[1:3]
    # Any even side pads alike: twice the kernel stands for an unknown one.
    return tuple(same_padding(2 * kernel_size if side is None else side, kernel_size, 2) for side in (height, width))


def torch_stem(x, filters, kernel_size, *, name="conv1", pool_name="pool1", pad_name=None, pool_pad_name=None,
               pool_ceil_mode=False, **conv_options):
    """The PyTorch references' ImageNet stem: a stride-2 convolution, BN, ReLU, 3x3/2 max pool.

    As torchvision's ResNet (He et al. 2016, arXiv 1512.03385, Table 1: 7x7/2 then 3x3/2)
    and ShuffleNet, timm's DPN and keras.applications' ResNet and DenseNet build it: the
    convolution padded `kernel_size // 2` on each side (`conv_padding`, "symmetric"),
    then the pool padded by 1 with zeros, which equals PyTorch's -inf padding after the
    ReLU. Stride 4 in all.

    Layer names: `{name}_pad` (or `pad_name`), `conv_bn_act`'s `{name}_conv`, `{name}_bn`,
    `{name}_relu`, then `{pool_name}_pad` (or `pool_pad_name`) and `pool_name`.

    Args:
        x: input images.
        filters: output channels of the convolution.
        kernel_size: its kernel (7 in ResNet and DenseNet, 3 in ShuffleNet and DPN-68).
        name: stem of the convolution's layer names.
        pool_name: the max pool's name.
        pad_name: name of the convolution's padding layer, default `{name}_pad`.
        pool_pad_name: name of the pool's padding layer, default `{pool_name}_pad`.
        pool_ceil_mode: pool without padding, rounding the output side up (PyTorch's
            `ceil_mode=True`), as the SE-Nets' Caffe models and timm's `legacy_*` ports.
        **conv_options: passed to `conv_bn_act` (BN settings, `use_bias`, `norm`, ...).

    Returns:
        The stem's output, a quarter of the input's side.
    """
    x, padding = conv_padding(x, kernel_size, 2, style="symmetric", name=name, pad_name=pad_name)
    x = conv_bn_act(x, filters, kernel_size, strides=2, padding=padding, name=name, **conv_options)
    pool_pad_name = pool_pad_name or f"{pool_name}_pad"
    if pool_ceil_mode:
        return max_pool(x, 3, 2, ceil_mode=True, name=pool_name, pad_name=pool_pad_name)
    return max_pool(x, 3, 2, padding=1, name=pool_name, pad_name=pool_pad_name)
