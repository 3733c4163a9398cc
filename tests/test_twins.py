"""Models that keras.applications also has: same layers, same weights, same outputs."""

import keras
import numpy as np
import pytest

import keras_archs

from conftest import random_images

TWINS = [name for name in keras_archs.list_models() if keras_archs.model_info(name).twin]


def _layer_signature(model):
    return [(layer.name, type(layer).__name__, [tuple(w.shape) for w in layer.weights]) for layer in model.layers[1:]]


@pytest.mark.parametrize("name", TWINS)
def test_twin_gives_identical_outputs_with_transferred_weights(name):
    info = keras_archs.model_info(name)
    side = max(info.input_spec.min_size, 32)
    kwargs = {"weights": None, "input_shape": (side, side, 3), "classes": 7}
    theirs = getattr(keras.applications, info.twin)(**kwargs)
    ours = keras_archs.get_model(name, **kwargs)
    assert _layer_signature(ours) == _layer_signature(theirs)
    ours.set_weights(theirs.get_weights())
    images = random_images(side) * 255.0
    np.testing.assert_allclose(ours.predict(images, verbose=0), theirs.predict(images, verbose=0), rtol=1e-6, atol=1e-7)


def test_every_keras_twin_is_declared():
    twins = {keras_archs.model_info(name).twin for name in TWINS}
    assert {"VGG16", "VGG19"} <= twins
