"""DenseNet: dense connectivity, compression, the CIFAR variants and their options."""

import keras
import numpy as np
import pytest

import keras_archs
from keras_archs.convert import layer_map
from keras_archs.layers.densenet import dense_block, transition

from conftest import random_images


def _tiny_cifar(**options):
    # depth 10 with bottleneck: one dense layer per block; depth 7 without: one as well.
    return keras_archs.DenseNetCIFAR(input_shape=(8, 8, 3), classes=3, growth_rate=4, **options)


def test_each_dense_layer_sees_all_earlier_maps_and_adds_k():
    inputs = keras.Input((4, 4, 5))
    outputs = dense_block(inputs, 3, 2, name="conv2")
    model = keras.Model(inputs, outputs)
    images = random_images(4, channels=5)
    widths = [model.get_layer(f"conv2_block{index}_concat").output.shape[-1] for index in (1, 2, 3)]
    assert widths == [5 + 2, 5 + 4, 5 + 6]
    # The block's output keeps its input and every layer's maps unchanged, in order.
    np.testing.assert_array_equal(model.predict(images, verbose=0)[..., :5], images)
    second = keras.Model(inputs, model.get_layer("conv2_block2_concat").output).predict(images, verbose=0)
    np.testing.assert_array_equal(model.predict(images, verbose=0)[..., :9], second)
    # The bottleneck is 4k wide (DenseNet-B).
    assert model.get_layer("conv2_block1_1_conv").output.shape[-1] == 4 * 2


@pytest.mark.parametrize("compression, kept", [(0.5, 7), (1.0, 15), (0.25, 3)])
def test_transition_compresses_by_theta_and_halves_the_side(compression, kept):
    inputs = keras.Input((8, 8, 15))
    outputs = transition(inputs, compression, name="pool2")
    assert tuple(outputs.shape[1:]) == (4, 4, kept)  # floor(theta * m) maps


def test_cifar_densenet_bc_layout():
    model = _tiny_cifar(depth=10)
    # Stem 2k maps, then one bottleneck layer per block at 8, 4 and 2 pixels.
    assert model.get_layer("conv1_conv").output.shape[-1] == 8
    assert [model.get_layer(f"conv{stage}_block1_concat").output.shape[1] for stage in (2, 3, 4)] == [8, 4, 2]
    assert model.get_layer("pool2_conv").output.shape[-1] == (8 + 4) // 2
    assert not any(layer.name.startswith(("pool1", "conv5")) for layer in model.layers)
    probabilities = model.predict(random_images(8), verbose=0)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_plain_densenet_has_no_bottleneck_and_no_compression():
    model = _tiny_cifar(depth=7, bottleneck=False, compression=1.0)
    names = {layer.name for layer in model.layers}
    assert "conv2_block1_2_conv" in names and "conv2_block1_1_conv" not in names
    assert model.get_layer("conv1_conv").output.shape[-1] == 16  # §3: 16 stem maps without B
    assert model.get_layer("pool2_conv").output.shape[-1] == 16 + 4
    assert model.name == "densenet7_k4"


def test_dropout_after_each_convolution():
    model = _tiny_cifar(depth=10, dropout_rate=0.2)
    rates = {layer.name: layer.rate for layer in model.layers if isinstance(layer, keras.layers.Dropout)}
    assert {"conv2_block1_1_dropout", "conv2_block1_2_dropout", "pool2_dropout"} <= set(rates)
    assert set(rates.values()) == {0.2}
    assert not any(isinstance(layer, keras.layers.Dropout) for layer in _tiny_cifar(depth=10).layers)


def test_imagenet_and_cifar_share_the_dense_blocks():
    imagenet = keras_archs.DenseNet121(include_top=False, input_shape=(32, 32, 3))
    # Stage outputs at strides 4, 8, 16, 32, named as keras.applications names them.
    sides = [imagenet.get_layer(f"conv{stage}_block{blocks}_concat").output.shape[1]
             for stage, blocks in zip((2, 3, 4, 5), (6, 12, 24, 16))]
    assert sides == [8, 4, 2, 1]
    cifar_types = {type(layer).__name__ for layer in _tiny_cifar(depth=10).layers}
    assert {"Concatenate", "AveragePooling2D"} <= cifar_types


@pytest.mark.parametrize(
    "options, argument",
    [
        ({"depth": 11}, "depth"),
        ({"depth": 4}, "depth"),
        ({"depth": 13, "bottleneck": True}, "depth"),
        ({"depth": 8, "bottleneck": False}, "depth"),
        ({"growth_rate": 0}, "growth_rate"),
        ({"compression": 0.0}, "compression"),
        ({"compression": 1.5}, "compression"),
        ({"bottleneck": "yes"}, "bottleneck"),
        ({"bottleneck": 1}, "bottleneck"),  # a flag: 1 is refused, not read as True
        ({"dropout_rate": 1.0}, "dropout_rate"),
    ],
)
def test_bad_options(options, argument):
    with pytest.raises(ValueError, match=argument):
        keras_archs.DenseNetCIFAR(**options)


def test_bad_imagenet_compression():
    with pytest.raises(ValueError, match="compression"):
        keras_archs.DenseNet169(compression=-0.5)


@pytest.mark.parametrize("depth", [121, 161, 169, 201])
def test_imagenet_densenets_name_torchvisions_and_fold_its_bn_epsilon(depth):
    reference = keras_archs.model_info(f"densenet{depth}").torch_reference
    assert reference.call == f"torchvision.models.densenet{depth}()"
    # keras.applications' 1.001e-5 stays in our layers; the converter folds torchvision's 1e-5.
    assert reference.bn_epsilon == 1e-5


def test_densenet_layer_map_names_torchvisions_modules():
    model = keras_archs.get_model("densenet121", input_shape=(32, 32, 3))
    mapping = layer_map(model, keras_archs.model_info("densenet121").torch_reference)
    assert mapping["conv1_conv"] == "features.conv0" and mapping["conv1_bn"] == "features.norm0"
    assert [mapping[f"conv3_block12_{part}"] for part in ("0_bn", "1_conv", "1_bn", "2_conv")] == [
        f"features.denseblock2.denselayer12.{module}" for module in ("norm1", "conv1", "norm2", "conv2")
    ]
    assert (mapping["pool4_bn"], mapping["pool4_conv"]) == ("features.transition3.norm", "features.transition3.conv")
    assert (mapping["bn"], mapping["predictions"]) == ("features.norm5", "classifier")
    assert len(set(mapping.values())) == len(mapping)


@pytest.mark.parametrize("name", ["densenet264", "densenet_bc100_k12", "densenet_bc190_k40"])
def test_densenets_without_a_pytorch_reference_claim_none(name):
    assert keras_archs.model_info(name).torch_reference is None
