"""Models that keras.applications also has: same layers, same weights, same outputs."""

import keras
import numpy as np
import pytest
from conftest import random_images, small_side

import keras_archs

# The keras.applications constructors this package twins, written out (not read from the
# registry), so that a lost or an extra `twin=` declaration fails
# test_declared_twins_are_the_known_keras_applications.
KNOWN_KERAS_TWINS = frozenset({
    "DenseNet121", "DenseNet169", "DenseNet201",
    "InceptionResNetV2", "InceptionV3",
    "MobileNet", "MobileNetV2", "MobileNetV3Large", "MobileNetV3Small",
    "NASNetLarge", "NASNetMobile",
    "ResNet50", "ResNet101", "ResNet152", "ResNet50V2", "ResNet101V2", "ResNet152V2",
    "VGG16", "VGG19",
    "Xception",
})  # fmt: skip

TWINS = keras_archs.list_models(twin=True)
# The include_top=True check rebuilds both models; it skips those whose build alone takes
# over ten seconds on two cores (NASNetLarge's 1,041 layers, the 152-layer ResNets and
# Inception-ResNet-v2), whose heads are those of NASNetMobile, ResNet50/50V2 and
# Inception-v3 (global average pooling and the Dense "predictions" layer). Their feature
# extractors, all of the cost, are compared by the include_top=False check.
COSTLY_TO_BUILD_TWICE = {"nasnet_large", "resnet152", "resnet152_v2", "inception_resnet_v2"}


def _layer_signature(model):
    return [(layer.name, type(layer).__name__, [tuple(w.shape) for w in layer.weights]) for layer in model.layers[1:]]


def _assert_twins(name, **kwargs):
    """Builds `name` and its twin with `kwargs`; same layers, and the same outputs with its weights."""
    side = small_side(name)
    kwargs = {"weights": None, "input_shape": (side, side, 3), **kwargs}
    theirs = getattr(keras.applications, keras_archs.model_info(name).twin)(**kwargs)
    ours = keras_archs.get_model(name, **kwargs)
    assert _layer_signature(ours) == _layer_signature(theirs)
    ours.set_weights(theirs.get_weights())
    images = random_images(side) * 255.0
    np.testing.assert_allclose(ours.predict(images, verbose=0), theirs.predict(images, verbose=0), rtol=1e-6, atol=1e-7)


def test_declared_twins_are_the_known_keras_applications():
    declared = [keras_archs.model_info(name).twin for name in TWINS]
    assert sorted(declared) == sorted(KNOWN_KERAS_TWINS)  # each twinned once
    assert all(callable(getattr(keras.applications, twin, None)) for twin in declared)


@pytest.mark.parametrize("name", TWINS)
def test_twin_feature_maps_are_identical_with_transferred_weights(name):
    _assert_twins(name, include_top=False)


@pytest.mark.parametrize("name", [name for name in TWINS if name not in COSTLY_TO_BUILD_TWICE])
def test_twin_class_scores_are_identical_with_transferred_weights(name):
    _assert_twins(name, include_top=True, classes=7)
