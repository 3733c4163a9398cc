"""feature_extractor: stage outputs of any functional backbone, chosen where the graph separates."""

import keras
import numpy as np
import pytest

import keras_archs
from keras_archs.features import feature_extractor, feature_info

from conftest import random_images


def _names(model):
    return [tensor._keras_history.operation.name for tensor in model.outputs]


def test_resnet_stages_are_the_unit_outputs_ending_each_resolution():
    backbone = keras_archs.ResNet18(include_top=False, input_shape=(64, 64, 3))
    features = feature_extractor(backbone)
    assert _names(features) == [
        "conv1_relu", "conv2_block2_out", "conv3_block2_out", "conv4_block2_out", "conv5_block2_out"
    ]
    maps = features.predict(random_images(64), verbose=0)
    assert [m.shape[1:] for m in maps] == [(32, 32, 64), (16, 16, 64), (8, 8, 128), (4, 4, 256), (2, 2, 512)]
    # Same layers, same weights: the extractor is a view of the backbone.
    assert {id(w) for w in features.weights} <= {id(w) for w in backbone.weights}


def test_preactivation_side_branch_is_never_a_stage():
    # keras' ResNet v2 strides in the last unit: the last full-resolution tensor that every
    # path crosses is the previous unit's sum, not the last unit's pre-activation.
    backbone = keras_archs.ResNet50V2(include_top=False, input_shape=(64, 64, 3))
    features = feature_extractor(backbone, stages=[4, 32])
    assert _names(features) == ["conv2_block2_out", "post_relu"]


def test_branches_and_padding_are_skipped_on_a_handmade_graph():
    inputs = keras.Input((16, 16, 3))
    stem = keras.layers.Conv2D(4, 3, padding="same", name="stem")(inputs)
    left = keras.layers.Conv2D(4, 3, padding="same", name="left")(stem)
    right = keras.layers.Conv2D(4, 1, name="right")(stem)
    merged = keras.layers.Add(name="merged")([left, right])
    padded = keras.layers.ZeroPadding2D(1, name="pad")(merged)
    pooled = keras.layers.MaxPooling2D(3, strides=2, name="pool")(padded)
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(pooled))
    assert feature_info(model) == [
        {"reduction": 1, "layer": "merged", "channels": 4},
        {"reduction": 2, "layer": "pool", "channels": 4},
    ]


def test_works_on_existing_and_foreign_backbones():
    vgg = feature_extractor("vgg16", input_shape=(32, 32, 3))
    assert _names(vgg) == [
        "block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3", "block5_conv3", "block5_pool"
    ]
    alexnet = keras_archs.get_model("alexnet", include_top=False)
    assert [info["reduction"] for info in feature_info(alexnet)] == [4, 8, 16, 32]
    mobilenet = keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3), include_top=True)
    extractor = feature_extractor(mobilenet, stages=(4, 8, 16))
    assert _names(extractor) == ["block_3_expand_relu", "block_6_expand_relu", "block_13_expand_relu"]


def test_by_name_with_constructor_arguments_and_layer_names():
    features = feature_extractor("resnet18", stages=(8, "conv5_block2_out"), input_shape=(64, 64, 3), classes=3)
    maps = features.predict(random_images(64), verbose=0)
    assert [m.shape[1:] for m in maps] == [(8, 8, 128), (2, 2, 512)]


def test_ror_stage_outputs_by_layer_name():
    # RoR's root shortcut spans all stages, so no tensor between stem and end separates the
    # graph; its stage outputs are reachable by name.
    model = keras_archs.get_model("ror3_resnet110", depth=8, include_top=False, input_shape=(32, 32, 3))
    assert [info["reduction"] for info in feature_info(model)] == [1, 4]
    features = feature_extractor(model, stages=["conv2_out", "conv3_out", "conv4_out"])
    assert [tuple(t.shape[1:]) for t in features.outputs] == [(32, 32, 16), (16, 16, 32), (8, 8, 64)]


@pytest.mark.parametrize(
    "model_or_name, stages, message",
    [
        ("resnet18", 64, "no stage with reduction 64"),
        ("resnet18", ["conv9_out"], "no layer named 'conv9_out'"),
        ("resnet18", [], "stages must be"),
        ("resnet18", 2.5, "stages must be"),
        ("no_such_net", None, "No model is registered"),
        (np.zeros(3), None, "model_or_name must be"),
    ],
)
def test_clear_errors(model_or_name, stages, message):
    with pytest.raises(ValueError, match=message) as error:
        kwargs = {"input_shape": (32, 32, 3)} if isinstance(model_or_name, str) else {}
        feature_extractor(model_or_name, stages=stages, **kwargs)
    assert "Received" in str(error.value)
    if isinstance(stages, int):
        assert "32: 'conv5_block2_out'" in str(error.value)
