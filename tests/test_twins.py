"""Models that keras.applications also has: same layers, same weights, same outputs."""

import keras
import numpy as np
import pytest
from conftest import infer, random_images, small_side

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
# The include_top=True check builds both models a second time; it runs on one twin per
# head design, and leaves out the deeper twins whose head is that of a checked one
# (global average pooling and the Dense "predictions" layer of DenseNet121, ResNet50,
# ResNet50V2, NASNetMobile and InceptionV3): the include_top=False check compares their
# feature extractors, nearly all of the cost (NASNetLarge's 1,041 layers alone take
# about a minute on two cores).
HEAD_CHECKED_ELSEWHERE = {
    "densenet169": "densenet121",
    "densenet201": "densenet121",
    "resnet101": "resnet50",
    "resnet152": "resnet50",
    "resnet101_v2": "resnet50_v2",
    "resnet152_v2": "resnet50_v2",
    "nasnet_large": "nasnet_mobile",
    "inception_resnet_v2": "inception_v3",
}


def _layer_signature(model):
    return [(layer.name, type(layer).__name__, [tuple(w.shape) for w in layer.weights]) for layer in model.layers[1:]]


def _perturb_batch_norm_statistics(model, seed=0):
    """Gives every BatchNormalization layer a scale, shift, mean and variance other than its initial ones.

    With gamma 1, beta 0, mean 0 and variance 1 a BN layer only divides by sqrt(1 + eps),
    which commutes with ReLU and max pooling: a misplaced activation or pool next to it
    would give the same outputs as the twin's, and would differ with trained weights.
    """
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            for variable in layer.weights:
                shape = tuple(variable.shape)
                if variable.path.endswith(("gamma", "moving_variance")):
                    value = rng.uniform(0.5, 1.5, shape)
                else:  # beta, moving_mean
                    value = rng.normal(0.0, 0.2, shape)
                variable.assign(value.astype(variable.dtype))


def _assert_twins(name, **kwargs):
    """Builds `name` and its twin with `kwargs`; same layers, and the same outputs with its weights."""
    side = small_side(name)
    kwargs = {"weights": None, "input_shape": (side, side, 3), **kwargs}
    theirs = getattr(keras.applications, keras_archs.model_info(name).twin)(**kwargs)
    ours = keras_archs.get_model(name, **kwargs)
    assert _layer_signature(ours) == _layer_signature(theirs)
    _perturb_batch_norm_statistics(theirs)
    ours.set_weights(theirs.get_weights())
    images = random_images(side) * 255.0
    np.testing.assert_allclose(infer(ours, images), infer(theirs, images), rtol=1e-6, atol=1e-7)


def test_declared_twins_are_the_known_keras_applications():
    declared = [keras_archs.model_info(name).twin for name in TWINS]
    assert sorted(declared) == sorted(KNOWN_KERAS_TWINS)  # each twinned once
    assert all(callable(getattr(keras.applications, twin, None)) for twin in declared)


def test_heads_left_out_are_checked_on_another_twin():
    assert set(HEAD_CHECKED_ELSEWHERE) <= set(TWINS)
    assert all(checked in TWINS and checked not in HEAD_CHECKED_ELSEWHERE for checked in HEAD_CHECKED_ELSEWHERE.values())


@pytest.mark.parametrize("name", TWINS)
def test_twin_feature_maps_are_identical_with_transferred_weights(name):
    _assert_twins(name, include_top=False)


@pytest.mark.parametrize("name", [name for name in TWINS if name not in HEAD_CHECKED_ELSEWHERE])
def test_twin_class_scores_are_identical_with_transferred_weights(name):
    _assert_twins(name, include_top=True, classes=7)
