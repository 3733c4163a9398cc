"""Xception: Fig. 5's flows built from the shared separable convolution block."""

import keras
import pytest

import keras_archs


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
