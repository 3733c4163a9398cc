"""One harness for every custom Keras layer of keras_archs: config, .keras file, name.

The layer classes are collected by walking keras_archs.layers (and the augmentation
module, whose PCALighting is a layer too), so a new layer, or one moved to another
module, joins by existing; it must then get an example in `EXAMPLES` (a test fails for a
class without one).
"""

import dataclasses
import importlib
import inspect
import pkgutil

import keras
import numpy as np
import pytest

import keras_archs.augment
import keras_archs.layers


def _layer_classes():
    """Every keras.layers.Layer subclass defined in keras_archs.layers or keras_archs.augment, by name."""
    classes = {}
    modules = pkgutil.walk_packages(keras_archs.layers.__path__, prefix=f"{keras_archs.layers.__name__}.")
    names = [module_info.name for module_info in modules] + [keras_archs.augment.__name__]
    for module_name in names:
        module = importlib.import_module(module_name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            # A private class (augment's `_MixInFloat32`) is a pipeline step, never in a saved model.
            public = not cls.__name__.startswith("_")
            if public and issubclass(cls, keras.layers.Layer) and cls.__module__ == module.__name__:
                assert cls.__name__ not in classes, f"two layer classes named {cls.__name__}"
                classes[cls.__name__] = cls
    return classes


LAYER_CLASSES = _layer_classes()


@dataclasses.dataclass(frozen=True)
class Example:
    """How the harness builds one layer class.

    Attributes:
        arguments: every constructor argument, each at a value other than its default.
        input_shapes: the shape (without batch) of each input; a layer of several inputs
            is called on a list.
    """

    arguments: dict
    input_shapes: tuple


EXAMPLES = {
    "ChannelShuffle": Example({"groups": 4}, ((5, 5, 8),)),
    "ChannelSplit": Example({"splits": 3}, ((5, 5, 9),)),
    "ChannelZeroPadding": Example({"padding": (2, 3)}, ((5, 5, 4),)),
    "ConnectionTableConv2D": Example(
        {
            "connection_table": ((0, 1), (1, 2), (0, 2), (2,)),
            "kernel_size": 3,
            "padding": "same",
            "activation": "tanh",
            "kernel_initializer": "he_normal",
            "bias_initializer": "ones",
        },
        ((8, 8, 3),),
    ),
    "CustomScaleLayer": Example({"scale": 0.17}, ((6, 6, 4), (6, 6, 4))),
    "EuclideanRBF": Example({"units": 5, "trainable_centers": True, "seed": 7}, ((12,),)),
    "PCALighting": Example(
        {
            "std": 0.2,
            "eigenvalues": (30.0, 3.0, 1.0),
            "eigenvectors": ((0.0, 1.0, 0.0), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
            "seed": 5,
        },
        ((6, 6, 3),),
    ),
    "LocalResponseNormalization": Example({"size": 3, "bias": 1.0, "alpha": 1e-3, "beta": 0.5}, ((6, 6, 8),)),
    "TrainableSubsampling": Example({"pool_size": 3}, ((9, 9, 4),)),
}

NAMES = sorted(LAYER_CLASSES)


def _constructor_parameters(cls):
    """The class's own constructor parameters (not `self` or the base layer's `**kwargs`)."""
    parameters = inspect.signature(cls.__init__).parameters.values()
    return {p.name: p for p in parameters if p.name != "self" and p.kind is not inspect.Parameter.VAR_KEYWORD}


def _tiny_model(cls):
    example = EXAMPLES[cls.__name__]
    inputs = [keras.Input(shape=shape) for shape in example.input_shapes]
    layer = cls(**example.arguments, name="under_test")
    outputs = layer(inputs if len(inputs) > 1 else inputs[0])
    return keras.Model(inputs, outputs)


def test_every_layer_class_has_an_example():
    assert LAYER_CLASSES, "no layer class found under keras_archs.layers"
    assert sorted(EXAMPLES) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_example_sets_every_constructor_argument_to_a_non_default_value(name):
    arguments = EXAMPLES[name].arguments
    parameters = _constructor_parameters(LAYER_CLASSES[name])
    assert set(arguments) == set(parameters)
    assert all(arguments[key] != p.default for key, p in parameters.items() if p.default is not p.empty)


@pytest.mark.parametrize("name", NAMES)
def test_every_argument_round_trips_through_the_config(name):
    cls = LAYER_CLASSES[name]
    arguments = EXAMPLES[name].arguments
    config = cls(**arguments, name="under_test").get_config()
    assert config["name"] == "under_test"
    assert cls.from_config(config).get_config() == config
    # Each argument is in the config at its given value: the layer built with that
    # argument at its default has another config entry.
    for key, parameter in _constructor_parameters(cls).items():
        if parameter.default is not parameter.empty:
            assert config[key] != cls(**{**arguments, key: parameter.default}).get_config()[key], key


@pytest.mark.parametrize("name", NAMES)
def test_keras_file_round_trip_gives_identical_outputs(name, tmp_path):
    model = _tiny_model(LAYER_CLASSES[name])
    rng = np.random.default_rng(0)
    # Weights away from their initial values, so that loading must restore them.
    model.set_weights([rng.uniform(0.5, 1.5, size=w.shape).astype(w.dtype) for w in model.get_weights()])
    inputs = [rng.uniform(-1, 1, size=(2, *shape)).astype("float32") for shape in EXAMPLES[name].input_shapes]
    expected = keras.tree.map_structure(np.asarray, model.predict(inputs, verbose=0))
    path = tmp_path / f"{name}.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)  # safe_mode on: no code runs at load time
    assert type(reloaded.get_layer("under_test")) is LAYER_CLASSES[name]
    assert reloaded.get_layer("under_test").get_config() == model.get_layer("under_test").get_config()
    actual = keras.tree.map_structure(np.asarray, reloaded.predict(inputs, verbose=0))
    keras.tree.map_structure(np.testing.assert_array_equal, actual, expected)


@pytest.mark.parametrize("name", NAMES)
def test_registered_name_is_the_package_and_class(name):
    assert keras.saving.get_registered_name(LAYER_CLASSES[name]) == f"keras_archs>{name}"
