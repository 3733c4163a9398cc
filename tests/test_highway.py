"""Highway networks: transform and carry gates, the negative gate bias, approximate sizes."""

import keras
import numpy as np
import pytest

import keras_archs
from keras_archs.layers.highway import highway_layer

from conftest import random_images, trainable_count


def _layer_model(gate_bias):
    inputs = keras.Input((6, 6, 4))
    return keras.Model(inputs, highway_layer(inputs, 3, gate_bias=gate_bias, name="hw"))


def test_output_is_transform_times_t_plus_input_times_carry():
    model = _layer_model(-1.0)
    images = random_images(6, channels=4)
    probe = keras.Model(model.inputs, [model.get_layer("hw_relu").output, model.get_layer("hw_gate").output])
    transformed, gate = probe.predict(images, verbose=0)
    assert 0 < gate.min() and gate.max() < 1
    np.testing.assert_allclose(
        model.predict(images, verbose=0), transformed * gate + images * (1 - gate), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("gate_bias, carried", [(-30.0, True), (30.0, False)])
def test_closed_gate_carries_the_input_and_open_gate_transforms_it(gate_bias, carried):
    model = _layer_model(gate_bias)
    images = random_images(6, channels=4)
    outputs = model.predict(images, verbose=0)
    transformed = keras.Model(model.inputs, model.get_layer("hw_relu").output).predict(images, verbose=0)
    expected = images if carried else transformed
    np.testing.assert_allclose(outputs, expected, rtol=1e-5, atol=1e-5)
    assert not np.allclose(transformed, images, atol=1e-3)


def test_gate_biases_start_negative():
    model = keras_archs.HighwayCIFAR(depth=19, gate_bias=-3.0, input_shape=(8, 8, 3))
    gates = [layer for layer in model.layers if layer.name.endswith("_gate_conv")]
    assert len(gates) == 15
    for layer in gates:
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer.bias), -3.0)
    default = keras_archs.get_model("highway32", input_shape=(8, 8, 3))
    biases = [keras.ops.convert_to_numpy(layer.bias) for layer in default.layers if layer.name.endswith("_gate_conv")]
    assert len(biases) == 28 and all(np.all(bias == -2.0) for bias in biases)


@pytest.mark.parametrize("name, approximate", [("highway19", 2.3e6), ("highway32", 1.25e6)])
def test_size_is_close_to_he_2015_table_6(name, approximate):
    # He 2015 Table 6 gives rounded sizes only ("2.3M", "1.25M"): an approximate reference.
    count = trainable_count(keras_archs.get_model(name, classes=10))
    assert abs(count - approximate) / approximate < 0.02


def test_depth_counts_convolutions_and_classifier():
    for depth in (19, 32):
        model = keras_archs.get_model(f"highway{depth}", input_shape=(8, 8, 3))
        weighted = [layer for layer in model.layers if layer.weights and not layer.name.endswith("_gate_conv")]
        assert len(weighted) == depth


@pytest.mark.parametrize("options, argument", [({"depth": 20}, "depth"), ({"gate_bias": "low"}, "gate_bias"),
                                               ({"gate_bias": float("nan")}, "gate_bias")])
def test_bad_options(options, argument):
    with pytest.raises(ValueError, match=argument):
        keras_archs.HighwayCIFAR(**options)
