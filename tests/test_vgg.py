import keras
import pytest

import keras_archs


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
