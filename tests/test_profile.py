import keras
import pytest

import keras_archs


def test_counts_each_layer_kind_by_hand_arithmetic():
    inputs = keras.Input((8, 8, 4))
    x = keras.layers.Conv2D(6, 3, padding="same", groups=2, name="grouped")(inputs)
    x = keras.layers.DepthwiseConv2D(3, depth_multiplier=2, name="depthwise")(x)  # 6x6x12
    x = keras.layers.SeparableConv2D(5, 3, name="separable")(x)  # 4x4x5
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(7, name="dense")(x)
    counted = keras_archs.profile(keras.Model(inputs, outputs))
    macs = {layer.name: layer.macs for layer in counted.layers}
    assert macs["grouped"] == 8 * 8 * 6 * (3 * 3 * 4 // 2)
    assert macs["depthwise"] == 6 * 6 * 12 * 3 * 3
    assert macs["separable"] == 4 * 4 * 12 * 3 * 3 + 4 * 4 * 12 * 5
    assert macs["dense"] == 80 * 7
    assert counted.macs == sum(macs.values())
    assert counted.params == keras.Model(inputs, outputs).count_params()
    assert "total" in counted.table()


@pytest.mark.parametrize("name, reference_gmacs", [("alexnet", 0.714), ("vgg16", 15.47)])
def test_matches_torchvision_multiply_adds_within_one_percent(name, reference_gmacs):
    counted = keras_archs.profile(keras_archs.get_model(name))
    assert counted.gmacs == pytest.approx(reference_gmacs, rel=0.01)
    assert counted.trainable_params == keras_archs.model_info(name).reference.params


def test_custom_layers_report_their_own_multiply_adds():
    counted = keras_archs.profile(keras_archs.get_model("lenet5_paper"))
    macs = {layer.name: layer.macs for layer in counted.layers}
    assert macs["c3"] == 10 * 10 * 5 * 5 * 60  # 60 connections in Table I
    assert macs["c1"] == 28 * 28 * 6 * 5 * 5
    assert macs["rbf"] == 84 * 10


def test_needs_a_fixed_input_size_and_a_model():
    with pytest.raises(ValueError, match="input_shape"):
        keras_archs.profile(keras_archs.get_model("nin_cifar10", include_top=False))
    with pytest.raises(TypeError, match="model"):
        keras_archs.profile("vgg16")


def test_a_shared_layer_counts_once_per_call_and_merges_count_nothing():
    inputs = keras.Input((3,))
    shared = keras.layers.Dense(4, name="shared")
    merged = keras.layers.Add(name="add")([shared(inputs), shared(inputs)])
    counted = keras_archs.profile(keras.Model(inputs, merged))
    macs = {layer.name: layer.macs for layer in counted.layers}
    assert macs == {"shared": 2 * 3 * 4, "add": 0}
    assert counted.params == 3 * 4 + 4
