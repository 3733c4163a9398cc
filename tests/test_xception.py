"""Xception: Fig. 5's flows built from the shared separable convolution block."""

import keras
import pytest

import keras_archs
from keras_archs.convert import layer_map
from keras_archs.convert.core import weighted_layers


def test_thirty_six_convolutions_in_fourteen_blocks():
    model = keras_archs.get_model("xception", input_shape=(71, 71, 3), classes=5)
    separable = [layer for layer in model.layers if isinstance(layer, keras.layers.SeparableConv2D)]
    plain = [layer for layer in model.layers if type(layer) is keras.layers.Conv2D]
    shortcuts = [layer for layer in plain if layer.kernel_size == (1, 1)]
    # §4: 36 convolutional layers in 14 modules, plus 1x1 projection shortcuts on 4 of them.
    assert len(separable) + len(plain) - len(shortcuts) == 36
    assert len(shortcuts) == 4 and all(layer.strides == (2, 2) for layer in shortcuts)
    assert len([layer for layer in model.layers if isinstance(layer, keras.layers.Add)]) == 12
    middle = [layer for layer in separable if layer.name.startswith(tuple(f"block{n}_" for n in range(5, 13)))]
    assert len(middle) == 24 and {layer.filters for layer in middle} == {728}
    assert model.get_layer("block14_sepconv2_act").output.shape[-1] == 2048


def test_dropout_option_adds_the_papers_dropout():
    model = keras_archs.get_model("xception", input_shape=(71, 71, 3), dropout_rate=0.5)
    assert model.get_layer("dropout").rate == 0.5
    with pytest.raises(ValueError, match="Received: dropout_rate=1.5"):
        keras_archs.get_model("xception", dropout_rate=1.5)


def test_timm_form_has_the_twins_layers_with_pytorchs_conventions():
    twin = keras_archs.get_model("xception", input_shape=(71, 71, 3))
    timm_form = keras_archs.get_model("timm_xception", input_shape=(71, 71, 3))

    def signature(model):
        return [(layer.name, [tuple(weight.shape) for weight in layer.weights]) for layer in weighted_layers(model)]

    def epsilons(model):
        return {layer.epsilon for layer in weighted_layers(model) if isinstance(layer, keras.layers.BatchNormalization)}

    assert signature(timm_form) == signature(twin)
    assert epsilons(timm_form) == {1e-5} and epsilons(twin) == {1e-3}
    for block in (2, 3, 4, 13):
        window, subsample = timm_form.get_layer(f"block{block}_pool_window"), timm_form.get_layer(f"block{block}_pool")
        assert (window.strides, window.padding) == ((1, 1), "same")
        assert (subsample.pool_size, subsample.strides) == ((1, 1), (2, 2))
    with pytest.raises(ValueError, match="Received: implementation='torchvision'"):
        keras_archs.get_model("xception", implementation="torchvision")


def test_timm_xception_maps_legacy_xception_modules():
    info = keras_archs.model_info("timm_xception")
    assert info.torch_reference.call == "timm.create_model('legacy_xception')"
    model = keras_archs.get_model("timm_xception", input_shape=(71, 71, 3))
    mapping = layer_map(model, info.torch_reference)
    assert len(mapping) == len(weighted_layers(model))
    names = [part for value in mapping.values() for part in (value if isinstance(value, tuple) else (value,))]
    assert len(set(names)) == len(names)
    assert mapping["block1_conv2_bn"] == "bn2"
    assert mapping["block2_sepconv1"] == ("block1.rep.0.conv1", "block1.rep.0.pointwise")  # no leading ReLU
    assert mapping["block2_sepconv2_bn"] == "block1.rep.4"
    assert mapping["block5_sepconv3"] == ("block4.rep.7.conv1", "block4.rep.7.pointwise")
    assert mapping["conv2d_3"] == "block12.skip" and mapping["batch_normalization_3"] == "block12.skipbn"
    assert mapping["block14_sepconv2"] == ("conv4.conv1", "conv4.pointwise") and mapping["block14_sepconv2_bn"] == "bn4"
    assert mapping["predictions"] == "fc"
