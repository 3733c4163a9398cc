import keras
import pytest

import keras_archs
from keras_archs.convert import layer_map


@pytest.mark.parametrize("name, convs", [("vgg11", 8), ("vgg13", 10), ("vgg16", 13), ("vgg19", 16)])
def test_weight_layers_per_table_one(name, convs):
    model = keras_archs.get_model(name, input_shape=(32, 32, 3))
    conv_layers = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(conv_layers) == convs  # + 3 FC layers = the "11/13/16/19 weight layers"
    assert all(layer.kernel_size == (3, 3) for layer in conv_layers)
    assert len([layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]) == 3


def test_batch_norm_follows_every_convolution_with_torchvision_settings():
    model = keras_archs.get_model("vgg11_bn", input_shape=(32, 32, 3))
    layers = model.layers
    for index, layer in enumerate(layers):
        if isinstance(layer, keras.layers.Conv2D):
            norm = layers[index + 1]
            assert isinstance(norm, keras.layers.BatchNormalization)
            assert norm.epsilon == 1e-5 and norm.momentum == pytest.approx(0.9)
            assert layer.activation is keras.activations.linear


def test_paper_dropout_is_an_option_and_options_are_validated():
    model = keras_archs.VGG16(input_shape=(32, 32, 3), dropout_rate=0.5)
    assert [layer.name for layer in model.layers if isinstance(layer, keras.layers.Dropout)] == [
        "fc1_dropout", "fc2_dropout",
    ]
    with pytest.raises(ValueError, match="batch_norm"):
        keras_archs.VGG16(batch_norm="yes")
    with pytest.raises(ValueError, match="fixed"):
        keras_archs.VGG16(input_shape=(None, None, 3))


@pytest.mark.parametrize(
    "name, conv_indices",
    [
        # torchvision's `features` Sequential: conv, ReLU per convolution, a pooling per block.
        ("vgg11", (0, 3, 6, 8, 11, 13, 16, 18)),
        # With BN: conv, BN, ReLU.
        ("vgg11_bn", (0, 4, 8, 11, 15, 18, 22, 25)),
    ],
)
def test_layer_map_follows_torchvisions_feature_indices(name, conv_indices):
    reference = keras_archs.model_info(name).torch_reference
    assert reference.call == f"torchvision.models.{name}()"
    model = keras_archs.get_model(name, input_shape=(32, 32, 3))
    mapping = layer_map(model, reference)
    convs = [layer.name for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [mapping[conv] for conv in convs] == [f"features.{index}" for index in conv_indices]
    if name.endswith("_bn"):
        assert [mapping[f"{conv}_bn"] for conv in convs] == [f"features.{index + 1}" for index in conv_indices]
    assert [mapping[dense] for dense in ("fc1", "fc2", "predictions")] == [
        "classifier.0", "classifier.3", "classifier.6",
    ]
    assert len(mapping) == len([layer for layer in model.layers if layer.weights])


def test_every_vgg_names_its_torchvision_model():
    for name in keras_archs.list_models("vgg*"):
        reference = keras_archs.model_info(name).torch_reference
        assert (reference.library, reference.constructor, reference.mapping) == ("torchvision", name, "vgg")
