"""keras_archs.layers.padding against PyTorch's definitions written out in numpy."""

import keras
import numpy as np
import pytest

from keras_archs.layers.padding import (
    avg_pool, ceil_mode_padding, conv_padding, correct_pad, max_pool, same_padding, torch_stem,
)


def _torch_pool(images, size, stride, padding=0, ceil_mode=False, reduce="max", count_include_pad=True):
    """PyTorch's MaxPool2d / AvgPool2d on NHWC numpy images.

    Max pools pad with -inf; ceil mode adds windows that start inside the input (or its
    left padding); average pools divide by the window (count_include_pad) or by its part
    inside the input.
    """
    def out_side(side):
        span = side + 2 * padding - size
        out = (-(-span // stride) if ceil_mode else span // stride) + 1
        if ceil_mode and (out - 1) * stride >= side + padding:
            out -= 1
        return out

    out_h, out_w = out_side(images.shape[1]), out_side(images.shape[2])
    fill = -np.inf if reduce == "max" else 0.0
    extra = size + stride  # room for ceil-mode windows that run off the end
    padded = np.pad(images, ((0, 0), (padding, padding + extra), (padding, padding + extra), (0, 0)),
                    constant_values=fill)
    inside = np.pad(np.ones(images.shape[1:3]), ((padding, padding + extra), (padding, padding + extra)))
    within = np.pad(np.ones((images.shape[1] + 2 * padding, images.shape[2] + 2 * padding)), ((0, extra), (0, extra)))
    rows = []
    for i in range(out_h):
        row = []
        for j in range(out_w):
            window = padded[:, i * stride:i * stride + size, j * stride:j * stride + size]
            if reduce == "max":
                row.append(window.max(axis=(1, 2)))
            else:
                counted = (within if count_include_pad else inside)[i * stride:i * stride + size,
                                                                    j * stride:j * stride + size].sum()
                row.append(window.sum(axis=(1, 2)) / counted)
        rows.append(np.stack(row, axis=1))
    return np.stack(rows, axis=1)


def _apply(build, images):
    inputs = keras.Input(images.shape[1:])
    return keras.ops.convert_to_numpy(keras.Model(inputs, build(inputs))(images))


SHAPES = [(6, 8), (7, 6), (5, 5), (2, 3)]


@pytest.mark.parametrize("shape", SHAPES)
def test_max_pool_of_any_sign_is_pytorchs_symmetric_padding(shape):
    # Negative inputs (pools after BatchNorm): a zero padding would win the border windows.
    images = -1.0 - np.random.default_rng(3).uniform(size=(2, *shape, 3)).astype("float32")
    ours = _apply(lambda x: max_pool(x, 3, 2, padding=1, nonnegative_input=False, name="pool"), images)
    np.testing.assert_array_equal(ours, _torch_pool(images, 3, 2, padding=1))


@pytest.mark.parametrize("shape", SHAPES)
def test_max_pool_of_relu_outputs_with_zero_padding_is_pytorchs(shape):
    images = np.random.default_rng(4).uniform(size=(2, *shape, 3)).astype("float32")
    ours = _apply(lambda x: max_pool(x, 3, 2, padding=1, name="pool"), images)
    np.testing.assert_array_equal(ours, _torch_pool(images, 3, 2, padding=1))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("size", [2, 3])
def test_ceil_mode_max_pool_is_pytorchs(shape, size):
    images = np.random.default_rng(5).uniform(size=(1, *shape, 2)).astype("float32")
    ours = _apply(lambda x: max_pool(x, size, 2, ceil_mode=True, name="pool"), images)
    np.testing.assert_array_equal(ours, _torch_pool(images, size, 2, ceil_mode=True))


def test_ceil_mode_padding_rounds_a_side_shorter_than_the_window_up_to_one_window():
    inputs = keras.Input((2, 5, 1))
    assert ceil_mode_padding(inputs, 3, 2) == ((0, 1), (0, 0))


@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool_counts_the_padding_as_pytorch_says(count_include_pad):
    images = np.random.default_rng(6).standard_normal((1, 5, 6, 2)).astype("float32")
    ours = _apply(lambda x: avg_pool(x, 3, 1, padding=1, count_include_pad=count_include_pad, name="pool"), images)
    expected = _torch_pool(images, 3, 1, padding=1, reduce="avg", count_include_pad=count_include_pad)
    np.testing.assert_allclose(ours, expected, rtol=1e-6, atol=1e-6)


def test_pools_refuse_what_they_cannot_build():
    inputs = keras.Input((6, 6, 1))
    with pytest.raises(ValueError, match="Received: pool_size=3, strides=2, padding=1"):
        avg_pool(inputs, 3, 2, padding=1, count_include_pad=False, name="pool")
    with pytest.raises(ValueError, match="Received: pool_size=2, padding=1"):
        max_pool(inputs, 2, 2, padding=1, nonnegative_input=False, name="pool")
    with pytest.raises(ValueError, match="Received: padding='full'"):
        max_pool(inputs, 3, 2, padding="full", name="pool")


@pytest.mark.parametrize("side", [6, 7])
def test_symmetric_conv_padding_pads_half_the_kernel_on_both_sides(side):
    inputs = keras.Input((side, side, 1))
    padded, padding = conv_padding(inputs, 7, 2, style="symmetric", name="conv1")
    assert padding == "valid" and tuple(padded.shape[1:3]) == (side + 6, side + 6)
    same, padding = conv_padding(inputs, 3, 1, style="symmetric", name="conv2")
    assert same is inputs and padding == "same"  # stride 1, odd kernel: "same" is symmetric already
    with pytest.raises(ValueError, match="Received: style='torch'"):
        conv_padding(inputs, 3, 2, style="torch", name="conv3")


def test_explicit_conv_padding_adds_the_layer_where_same_would_do():
    inputs = keras.Input((6, 6, 1))
    padded, padding = conv_padding(inputs, 3, 1, style="explicit", name="conv2")
    assert padding == "valid" and tuple(padded.shape[1:3]) == (8, 8)
    assert padded._keras_history.operation.name == "conv2_pad"
    _, padding = conv_padding(inputs, 3, 1, style="same", name="conv3")
    assert padding == "same"


def _torch_side(side, kernel, stride, padding, ceil_mode=False):
    span = side + 2 * padding - kernel
    return (-(-span // stride) if ceil_mode else span // stride) + 1


@pytest.mark.parametrize("side", [32, 33, 38])
@pytest.mark.parametrize("kernel_size", [3, 7])
def test_torch_stem_is_pytorchs_conv_bn_relu_and_padded_pool(side, kernel_size):
    inputs = keras.Input((side, side, 3))
    model = keras.Model(inputs, torch_stem(inputs, 4, kernel_size, bn_epsilon=1e-5, bn_momentum=0.9))
    names = [layer.name for layer in model.layers[1:]]
    assert names == ["conv1_pad", "conv1_conv", "conv1_bn", "conv1_relu", "pool1_pad", "pool1"]
    half = kernel_size // 2
    assert model.get_layer("conv1_pad").padding == ((half, half), (half, half))
    conv = model.get_layer("conv1_conv")
    assert conv.strides == (2, 2) and conv.padding == "valid" and not conv.use_bias
    assert model.get_layer("conv1_bn").epsilon == 1e-5
    conv_side = _torch_side(side, kernel_size, 2, half)
    assert tuple(model.output.shape[1:]) == (_torch_side(conv_side, 3, 2, 1),) * 2 + (4,)
    # The pool is PyTorch's MaxPool2d(3, 2, padding=1) of the ReLU's output.
    images = np.random.default_rng(7).standard_normal((2, side, side, 3)).astype("float32")
    probe = keras.Model(inputs, [model.get_layer("conv1_relu").output, model.output])
    activated, pooled = (keras.ops.convert_to_numpy(t) for t in probe(images))
    np.testing.assert_array_equal(pooled, _torch_pool(activated, 3, 2, padding=1))


def test_torch_stem_names_and_ceil_mode_pool():
    inputs = keras.Input((35, 35, 3))
    outputs = torch_stem(
        inputs, 4, 7, pad_name="zero_padding2d", pool_name="pool1_pool", pool_pad_name="pool1_pad",
        pool_ceil_mode=True,
    )
    model = keras.Model(inputs, outputs)
    names = [layer.name for layer in model.layers[1:]]
    assert names[:4] == ["zero_padding2d", "conv1_conv", "conv1_bn", "conv1_relu"]
    assert names[-2:] == ["pool1_pad", "pool1_pool"]
    # Unpadded 3x3/2 pooling of the 18x18 map, rounding up: 9 windows, the last one partly outside.
    assert tuple(model.output.shape[1:3]) == (_torch_side(18, 3, 2, 0, ceil_mode=True),) * 2 == (9, 9)
    images = np.random.default_rng(8).standard_normal((1, 35, 35, 3)).astype("float32")
    probe = keras.Model(inputs, [model.get_layer("conv1_relu").output, model.output])
    activated, pooled = (keras.ops.convert_to_numpy(t) for t in probe(images))
    np.testing.assert_array_equal(pooled, _torch_pool(activated, 3, 2, ceil_mode=True))


@pytest.mark.parametrize("size", [7, 8, 13, 14])
@pytest.mark.parametrize("kernel, stride", [(3, 1), (3, 2), (5, 2), (7, 1), (7, 2), (2, 2)])
def test_same_padding_gives_tensorflows_same_output(size, kernel, stride):
    before, after = same_padding(size, kernel, stride)
    x = np.random.default_rng(0).normal(size=(1, size, size, 1)).astype("float32")
    pool = keras.layers.AveragePooling2D(kernel, strides=stride, padding="same")
    padded = np.pad(x, ((0, 0), (before, after), (before, after), (0, 0)))
    summed = keras.layers.Conv2D(1, kernel, strides=stride, use_bias=False, kernel_initializer="ones")(padded)
    counts = keras.layers.Conv2D(1, kernel, strides=stride, use_bias=False, kernel_initializer="ones")(
        np.pad(np.ones_like(x), ((0, 0), (before, after), (before, after), (0, 0))))
    np.testing.assert_allclose(np.asarray(summed) / np.asarray(counts), np.asarray(pool(x)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(None, None), (32, 32), (33, 33), (32, 33), (7, 8)])
@pytest.mark.parametrize("kernel_size", [3, 5, 7])
def test_correct_pad_is_keras_applications_own(shape, kernel_size):
    from keras.src.applications.imagenet_utils import correct_pad as keras_correct_pad

    inputs = keras.Input(shape=(*shape, 3))
    assert correct_pad(inputs, kernel_size) == keras_correct_pad(inputs, kernel_size)
