"""The suite every registered model joins by registering: the keras.applications contract."""

import gc
import inspect

import keras
import numpy as np
import pytest

import keras_archs
from keras_archs.registry import PREPROCESSING_MODES

from conftest import REPRESENTATIVES, random_images, small_side, trainable_count

NAMES = keras_archs.list_models()
# Each family's representatives take the costly checks (.keras round trip, every pooling,
# SavedModel in test_export_registry.py); their code paths are shared by the family.
REPRESENTATIVE_NAMES = sorted(name for names in REPRESENTATIVES.values() for name in names)
WITH_REFERENCE = [name for name in NAMES if keras_archs.model_info(name).reference.params is not None]

CONTRACT = (
    ("include_top", True),
    ("weights", None),
    ("input_tensor", None),
    ("input_shape", None),
    ("pooling", None),
    ("classes", None),  # any positive int default
    ("classifier_activation", "softmax"),
    ("name", None),
)


def test_registry_is_populated():
    assert len(NAMES) >= 15
    assert all(name == name.lower() for name in NAMES)


def test_every_family_has_representatives():
    families = {keras_archs.model_info(name).family for name in NAMES}
    assert families == set(REPRESENTATIVES)
    for family, names in REPRESENTATIVES.items():
        assert names and all(keras_archs.model_info(name).family == family for name in names)


@pytest.mark.parametrize("name", NAMES)
def test_metadata_and_signature(name):
    info = keras_archs.model_info(name)
    assert info.paper.title and 1950 < info.paper.year < 2030
    assert info.preprocessing in PREPROCESSING_MODES
    assert info.input_spec.min_size <= info.input_spec.default_size
    assert info.constructor.__doc__ and str(info.paper.year) in inspect.getdoc(inspect.getmodule(info.constructor))
    parameters = list(inspect.signature(info.constructor).parameters.values())
    for parameter, (expected_name, expected_default) in zip(parameters, CONTRACT):
        assert parameter.name == expected_name
        if expected_name == "classes":
            assert isinstance(parameter.default, int) and parameter.default >= 1
        else:
            assert parameter.default == expected_default
    assert set(info.defaults) <= {parameter.name for parameter in parameters}


# The 1000-layer CIFAR nets are built once, by the count test: their builder and blocks are
# those of resnet110 and preact_resnet164, which run here (about 2 minutes each saved).
BUILT_ONLY_FOR_THE_COUNT = {"resnet1202", "preact_resnet1001"}


@pytest.mark.parametrize("name", [name for name in NAMES if name not in BUILT_ONLY_FOR_THE_COUNT])
def test_builds_and_runs_at_a_small_input(name):
    """Every model: input_tensor, one channel, custom classes, logits, and its feature map."""
    side = small_side(name)
    inputs = keras.Input(shape=(side, side, 1), name="digits")
    model = keras_archs.get_model(name, input_tensor=inputs, classes=5, classifier_activation=None)
    assert model.inputs[0] is inputs
    assert model.name == name
    logits = model.predict(random_images(side, channels=1, seed=1), verbose=0)
    assert logits.shape == (2, 5)
    assert np.all(np.isfinite(logits))
    assert not np.allclose(logits.sum(axis=1), 1.0), "classifier_activation=None must return logits"

    features = keras_archs.get_model(name, include_top=False, input_shape=(side, side, 3))
    assert len(features.output.shape) == 4 and features.output.shape[-1] >= 1
    assert not any(layer.name == "predictions" for layer in features.layers)


@pytest.mark.parametrize("name", REPRESENTATIVE_NAMES)
def test_softmax_probabilities(name):
    side = small_side(name)
    model = keras_archs.get_model(name, input_shape=(side, side, 3), classes=3)
    probabilities = model.predict(random_images(side), verbose=0)
    assert probabilities.shape == (2, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("name", REPRESENTATIVE_NAMES)
def test_keras_file_round_trip(name, tmp_path):
    side = small_side(name)
    model = keras_archs.get_model(name, input_shape=(side, side, 1), classes=5, classifier_activation=None)
    images = random_images(side, channels=1, seed=1)
    logits = model.predict(images, verbose=0)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)  # safe_mode on: no code runs at load time
    np.testing.assert_allclose(reloaded.predict(images, verbose=0), logits, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("pooling", ["avg", "max"])
@pytest.mark.parametrize("name", REPRESENTATIVE_NAMES)
def test_pooled_features(name, pooling):
    side = small_side(name)
    model = keras_archs.get_model(name, include_top=False, pooling=pooling, input_shape=(side, side, 3))
    features = model.predict(random_images(side), verbose=0)
    assert features.ndim == 2
    assert features.shape[-1] == model.layers[-2].output.shape[-1]
    assert model.layers[-1].name == f"{pooling}_pool"


@pytest.mark.parametrize("name", WITH_REFERENCE)
def test_trainable_parameters_equal_reference(name):
    info = keras_archs.model_info(name)
    model = info.build(classes=info.reference.classes)
    count = trainable_count(model)
    del model
    gc.collect()  # full-size models hold hundreds of MB; free them before the next test
    assert count == info.reference.params, info.reference.source


def _bad_arguments(name):
    min_size = keras_archs.model_info(name).input_spec.min_size
    too_small = max(min_size - 1, 0)
    return [
        ("input_shape", {"input_shape": (too_small, too_small, 3)}),
        ("input_shape", {"input_shape": (64, 64)}),
        ("classes", {"classes": 0}),
        ("pooling", {"include_top": False, "pooling": "median"}),
        ("weights", {"weights": "/no/such/dir/model.weights.h5"}),
        ("weights", {"weights": "imagenet", "classes": 10}),
        ("classifier_activation", {"classifier_activation": "no_such_activation"}),
        ("input_tensor", {"input_tensor": np.zeros((1, 64, 64, 3))}),
        ("include_top", {"include_top": "yes"}),
    ]


@pytest.mark.parametrize("name", NAMES)
def test_bad_arguments_fail_before_any_layer_is_built(name, layers_created):
    for argument, kwargs in _bad_arguments(name):
        with pytest.raises(ValueError, match=argument) as error:
            keras_archs.get_model(name, **kwargs)
        assert "Received" in str(error.value)
    assert not layers_created
