"""Residual families: v1/v1.5 forms, grouped units, SE and stochastic depth on every family, options."""

import functools

import keras
import numpy as np
import pytest

import keras_archs
from keras_archs.models import resnet, resnet_cifar

from conftest import random_images, trainable_count


def _layer(model, name):
    return model.get_layer(name)


def test_v1_5_form_has_torchvision_count_and_stride_on_the_3x3():
    model = resnet.ResNet50(variant="v1.5")
    assert trainable_count(model) == 25_557_032  # TV resnet50 (REFERENCES.md)
    assert _layer(model, "conv3_block1_1_conv").strides == (1, 1)
    assert _layer(model, "conv3_block1_2_conv").strides == (2, 2)
    convolutions = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert not any(layer.use_bias for layer in convolutions)


def test_v1_form_strides_the_first_1x1_with_biases():
    model = resnet.ResNet50(input_shape=(32, 32, 3), include_top=False)
    assert _layer(model, "conv3_block1_1_conv").strides == (2, 2)
    assert _layer(model, "conv3_block1_2_conv").strides == (1, 1)
    assert all(layer.use_bias for layer in model.layers if isinstance(layer, keras.layers.Conv2D))


def test_resnext_uses_grouped_3x3():
    model = resnet.ResNeXt50(input_shape=(32, 32, 3), include_top=False)
    grouped = _layer(model, "conv2_block1_2_conv")
    assert grouped.groups == 32
    # 32 groups of 4 channels: each filter sees 4 input channels, 128 filters in all.
    assert tuple(grouped.kernel.shape) == (3, 3, 4, 128)
    assert _layer(model, "conv5_block1_2_conv").groups == 32


@pytest.mark.parametrize(
    "constructor",
    [
        resnet.ResNet18,
        functools.partial(resnet_cifar.CifarPreActResNet, depth=11),
        functools.partial(resnet_cifar.CifarWideResNet, depth=10, width_factor=1),
    ],
    ids=["post-activation basic", "pre-activation bottleneck", "pre-activation basic"],
)
def test_se_ratio_adds_squeeze_excitation_to_every_unit(constructor):
    plain = constructor(input_shape=(32, 32, 3), classes=4)
    model = constructor(input_shape=(32, 32, 3), classes=4, se_ratio=0.25)
    outputs = [layer.name for layer in model.layers if layer.name.endswith("_out") and "block" in layer.name]
    units = [name[: -len("_out")] for name in outputs]
    for unit in units:
        squeeze = _layer(model, f"{unit}_se_conv")
        channels = _layer(model, f"{unit}_out").output.shape[-1]
        assert squeeze.filters == channels // 4
        assert _layer(model, f"{unit}_se_conv_1").filters == channels
    assert trainable_count(model) > trainable_count(plain)


def _branch_model(model, unit):
    drop = _layer(model, f"{unit}_drop")
    return keras.Model(model.inputs[0], [drop.input, drop.output])


def test_stochastic_depth_drops_whole_samples_in_training_only():
    rate = 0.4
    model = resnet.ResNet18(input_shape=(32, 32, 3), classes=3, drop_path_rate=rate)
    drops = [layer for layer in model.layers if layer.name.endswith("_drop")]
    # Linear decay rule (Huang 2016, eq. 4): unit l of L = 8 is dropped with rate * l / L.
    assert [layer.rate for layer in drops] == pytest.approx([rate * index / 8 for index in range(1, 9)])

    probe = _branch_model(model, "conv5_block2")  # last unit: dropped with probability 0.4
    images = random_images(32, batch=32)
    branch, dropped = (np.asarray(t) for t in probe(images, training=True))
    per_sample = dropped.reshape(len(images), -1)
    skipped = np.all(per_sample == 0, axis=1)
    assert 0 < skipped.sum() < len(images), "some samples, not all, must skip the unit"
    kept = ~skipped
    np.testing.assert_allclose(dropped[kept], branch[kept] / (1 - rate), rtol=1e-5, atol=1e-6)

    branch, dropped = (np.asarray(t) for t in probe(images, training=False))
    np.testing.assert_array_equal(dropped, branch)
    np.testing.assert_array_equal(model.predict(images, verbose=0), model.predict(images, verbose=0))


@pytest.mark.parametrize(
    "constructor, kwargs, argument",
    [
        (resnet.ResNet50, {"variant": "v2"}, "variant"),
        (resnet.ResNet18, {"drop_path_rate": 1.0}, "drop_path_rate"),
        (resnet.ResNet50V2, {"se_ratio": -0.5}, "se_ratio"),
        (resnet.ResNeXt50, {"cardinality": 0}, "cardinality"),
        (resnet.ResNeXt101, {"width_per_group": 2.5}, "width_per_group"),
        (resnet.WideResNet50, {"width_factor": 0}, "width_factor"),
        (resnet.SENet154, {"dropout_rate": 1.5}, "dropout_rate"),
        (resnet_cifar.CifarResNet, {"depth": 21}, "depth"),
        (resnet_cifar.CifarResNet, {"shortcut": "C"}, "shortcut"),
        (resnet_cifar.CifarPreActResNet, {"depth": 21}, "depth"),
        (resnet_cifar.CifarWideResNet, {"width_factor": 0}, "width_factor"),
        (resnet_cifar.CifarWideResNet, {"dropout_rate": 1.0}, "dropout_rate"),
        (resnet_cifar.CifarResNeXt, {"cardinality": -8}, "cardinality"),
        (resnet_cifar.CifarRoR, {"depth": 0}, "depth"),
        (resnet_cifar.CifarRoR, {"drop_path_rate": -0.1}, "drop_path_rate"),
        (resnet_cifar.CifarResNet, {"zero_init_residual": 0}, "zero_init_residual"),
        (resnet_cifar.CifarRoR, {"base": "densenet"}, "base"),
        (resnet_cifar.CifarRoR, {"width_factor": 4}, "width_factor"),  # base="resnet" is not widened
    ],
)
def test_bad_family_options_fail_before_any_layer(constructor, kwargs, argument, layers_created):
    with pytest.raises(ValueError, match=f"Received: {argument}="):
        constructor(**kwargs)
    assert not layers_created


def test_registered_variants_differ_by_options():
    info = keras_archs.model_info("resnext101_64x4d")
    assert info.constructor is resnet.ResNeXt101
    assert dict(info.defaults) == {"cardinality": 64, "width_per_group": 4}


def _ceil_mode_max_pool(x, size=3, stride=2):
    """PyTorch's MaxPool2d(size, stride, ceil_mode=True) without padding, by hand (NHWC)."""
    height, width = x.shape[1:3]
    out_h, out_w = (-(-(side - size) // stride) + 1 for side in (height, width))
    out = np.empty((x.shape[0], out_h, out_w, x.shape[3]), x.dtype)
    for i in range(out_h):
        for j in range(out_w):
            window = x[:, i * stride:i * stride + size, j * stride:j * stride + size]
            out[:, i, j] = window.max(axis=(1, 2))
    return out


@pytest.mark.parametrize("name", ["seresnet50", "seresnext50_32x4d", "senet154"])
def test_se_nets_pool_the_stem_as_the_caffe_models(name):
    # Their reference (timm's legacy_* ports of the Caffe models) pools with an unpadded
    # 3x3/2 window rounding up; a padded pool shifts every window by a pixel.
    relu = "conv1_3_relu" if name == "senet154" else "conv1_relu"
    # An odd side before the pool (31 from 61) needs no extra padding; an even one (32) does.
    for side in (61, 64):
        model = keras_archs.get_model(name, include_top=False, input_shape=(side, side, 3))
        probe = keras.Model(model.inputs[0], [model.get_layer(relu).output, model.get_layer("pool1_pool").output])
        before, after = (np.asarray(t) for t in probe(random_images(side, batch=2)))
        np.testing.assert_array_equal(after, _ceil_mode_max_pool(before))
        keras.backend.clear_session()


def test_plain_resnets_pool_the_stem_padded_by_one():
    model = resnet.ResNet18(include_top=False, input_shape=(64, 64, 3))
    assert model.get_layer("pool1_pad").padding == ((1, 1), (1, 1))
    assert model.get_layer("pool1_pool").output.shape[1:3] == (16, 16)


@pytest.mark.parametrize(
    "name, params",
    [("resnet50", 25_557_032), ("resnet101", 44_549_160), ("resnet152", 60_192_808)],  # TV num_params
)
def test_torchvision_form_of_the_twins_is_registered_under_tv_names(name, params):
    """The twin keeps keras' form; torchvision's (variant="v1.5") is `tv_<name>`, which carries the reference."""
    twin, torchvision_form = keras_archs.model_info(name), keras_archs.model_info(f"tv_{name}")
    reference = torchvision_form.torch_reference
    assert reference.library == "torchvision" and reference.constructor == name and not reference.model_kwargs
    assert twin.torch_reference is None and torchvision_form.constructor is twin.constructor
    assert dict(torchvision_form.defaults) == {"variant": "v1.5"} and torchvision_form.reference.params == params
    assert trainable_count(torchvision_form.build(input_shape=(32, 32, 3))) == params
    assert trainable_count(twin.build(input_shape=(32, 32, 3))) != params


def test_layer_maps_name_the_reference_tensors():
    from keras_archs import convert

    senet = keras_archs.get_model("senet154", input_shape=(32, 32, 3))
    mapping = convert.layer_map(senet, keras_archs.model_info("senet154").torch_reference)
    assert len(set(mapping.values())) == len(mapping)
    assert mapping["conv1_2_bn"] == "layer0.bn2"
    assert mapping["conv3_block1_0_conv"] == "layer2.0.downsample.0"
    assert mapping["conv5_block3_se_conv_1"] == "layer4.2.se_module.fc2"
    assert mapping["predictions"] == "last_linear"
    keras.backend.clear_session()
    plain = keras_archs.get_model("resnet18", input_shape=(32, 32, 3))
    mapping = convert.layer_map(plain, keras_archs.model_info("resnet18").torch_reference)
    assert mapping["conv1_bn"] == "bn1"
    assert mapping["conv4_block2_2_bn"] == "layer3.1.bn2"
    assert mapping["conv3_block1_0_bn"] == "layer2.0.downsample.1"
    assert mapping["predictions"] == "fc"
