"""NASNet-A and AmoebaNet-A: cells built from genotypes by one builder."""

import keras
import numpy as np
import pytest

import keras_archs
from keras_archs.layers.nas import CellGenotype, Genotype, Node, nas_features
from keras_archs.models.nasnet import AMOEBANET_A, NASNET_A
from conftest import infer

# A genotype in neither paper: two nodes per cell, with every kind of operation.
CUSTOM = Genotype(
    normal=CellGenotype(
        nodes=(
            Node(("sep_conv_3x3", 1), ("identity", 0)),
            Node(("max_pool_3x3", 2), ("conv_1x1", 1)),
        ),
        concat=(2, 3),
    ),
    reduction=CellGenotype(
        nodes=(
            Node(("sep_conv_5x5", 0), ("avg_pool_3x3", 1)),
            Node(("conv_1x7_7x1", 1), ("sep_conv_7x7", 2)),
        ),
        concat=(2, 3),
    ),
)


def _count(model, layer_class):
    return sum(type(layer) is layer_class for layer in model.layers)


def _separable_ops(cell):
    return sum(operation.startswith("sep_conv") for node in cell.nodes for operation, _ in (node.left, node.right))


def test_a_custom_genotype_builds_a_new_network_through_the_same_builder():
    model = keras_archs.NASNet(genotype=CUSTOM, num_cells=1, filters=8, input_shape=(32, 32, 3), classes=3)
    # 3 normal and 4 reduction cells (2 stem + 2); each separable op is two layers.
    assert _count(model, keras.layers.SeparableConv2D) == 2 * (3 * 1 + 4 * 2)
    # Output: 2 concatenated states of the last stack's 4F filters.
    assert model.get_layer("normal_concat_3").output.shape[-1] == 2 * 4 * 8
    assert model.get_layer("reduction_left2_reduce_1_7x1_conv").kernel.shape[:2] == (7, 1)
    probabilities = model.predict(np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3)), verbose=0)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("genotype", [NASNET_A, AMOEBANET_A])
def test_separable_layers_follow_from_the_genotype(genotype):
    model = keras_archs.NASNet(genotype=genotype, num_cells=2, filters=8, input_shape=(32, 32, 3))
    normal_cells, reduction_cells = 3 * 2, 4
    expected = 2 * (normal_cells * _separable_ops(genotype.normal) + reduction_cells * _separable_ops(genotype.reduction))
    assert _count(model, keras.layers.SeparableConv2D) == expected


def test_nasnet_a_genotype_gives_the_keras_nasnet_mobile_separable_count():
    # keras.applications NASNetMobile (4 @ 1056) has 160 SeparableConv2D layers:
    # 2 x (12 normal cells x 5 + 4 reduction cells x 5).
    model = keras_archs.get_model("nasnet_mobile", input_shape=(32, 32, 3), include_top=False)
    assert _count(model, keras.layers.SeparableConv2D) == 160


def test_amoebanet_a_mobile_matches_the_paper_size():
    # Real 2019, Table 2: AmoebaNet-A (N=4, F=50), 5.1M parameters, 555M multiply-adds.
    model = keras_archs.get_model("amoebanet_a", input_shape=(224, 224, 3))
    profile = keras_archs.profile(model)
    assert profile.trainable_params == pytest.approx(5.1e6, rel=0.01)
    assert profile.gmacs == pytest.approx(0.555, rel=0.03)


@pytest.mark.parametrize(
    "genotype, match",
    [
        ("nasnet", "genotype"),
        (Genotype(normal=NASNET_A.normal, reduction=CellGenotype(nodes=(Node(("sep_conv_3x3", 0), ("identity", 3)),), concat=(2,))), "node 0"),
        (Genotype(normal=NASNET_A.normal, reduction=CellGenotype(nodes=(Node(("conv_9x9", 0), ("identity", 1)),), concat=(2,))), "node 0"),
        (Genotype(normal=NASNET_A.normal, reduction=CellGenotype(nodes=NASNET_A.reduction.nodes, concat=(1, 2))), "concat"),
    ],
)
def test_bad_genotypes_fail_before_any_layer(genotype, match, layers_created):
    with pytest.raises(ValueError, match=match):
        keras_archs.NASNet(genotype=genotype)
    assert not layers_created


@pytest.mark.parametrize("options, argument", [({"num_cells": 0}, "num_cells"), ({"filters": 2}, "filters"),
                                               ({"skip_reduction": 1}, "skip_reduction")])
def test_bad_macro_options_raise(options, argument):
    with pytest.raises(ValueError, match=argument):
        keras_archs.NASNet(**options)


# --- timm's form of NASNet-A (implementation="timm"): TF-slim's "same" max pools --------------

def _nasnet_a_features(max_pool_padding):
    inputs = keras.Input(shape=(32, 32, 3))
    outputs = nas_features(inputs, NASNET_A, num_cells=1, filters=8, stem_filters=8, skip_reduction=True,
                           max_pool_padding=max_pool_padding)
    return keras.Model(inputs, outputs)


def _inbound(layer):
    return layer.input._keras_history.operation


def test_same_max_pools_read_the_unpadded_state_and_change_the_function():
    keras_form, timm_form = _nasnet_a_features("zeros"), _nasnet_a_features("same")
    assert [(w.path, w.shape) for w in timm_form.weights] == [(w.path, w.shape) for w in keras_form.weights]
    # keras.applications: a zero-padded, "valid" max pool; TF-slim/timm: a "same" pool of
    # the BatchNorm output itself, whose padding never wins the max.
    zeros, same = keras_form.get_layer("reduction_left2_stem_1"), timm_form.get_layer("reduction_left2_stem_1")
    assert zeros.padding == "valid" and isinstance(_inbound(zeros), keras.layers.ZeroPadding2D)
    assert same.padding == "same" and isinstance(_inbound(same), keras.layers.BatchNormalization)
    # The average pools count the zero padding in both (timm's AvgPool2dSame pads zeros).
    assert isinstance(_inbound(timm_form.get_layer("reduction_left3_stem_1")), keras.layers.ZeroPadding2D)
    timm_form.set_weights(keras_form.get_weights())
    images = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3))
    theirs, ours = infer(keras_form, images), infer(timm_form, images)
    assert np.abs(ours - theirs).max() > 1e-3 * np.abs(theirs).max()


def test_bad_max_pool_padding_raises():
    with pytest.raises(ValueError, match="max_pool_padding"):
        _nasnet_a_features("minus_infinity")


def test_nasnet_large_refuses_an_unknown_implementation_before_any_layer(layers_created):
    with pytest.raises(ValueError, match=r"implementation must be one of .*Received: implementation='torchvision'"):
        keras_archs.NASNetLarge(implementation="torchvision")
    assert not layers_created


def test_timm_nasnet_large_is_registered_with_timm_nasnetalarge():
    info = keras_archs.model_info("timm_nasnet_large")
    assert info.defaults == {"implementation": "timm"} and info.reference.params == 88_753_150
    assert (info.torch_reference.library, info.torch_reference.constructor) == ("timm", "nasnetalarge")
    # The twin itself zero-pads its max pools, which timm's model does not: no reference.
    assert keras_archs.model_info("nasnet_large").torch_reference is None
