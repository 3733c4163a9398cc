"""CIFAR residual families: shortcut options, pre-activation, WRN dropout, ResNeXt, RoR.

The 1000-layer registered nets (resnet1202, preact_resnet1001) are built only by the
registry-wide parameter-count test; here the same constructors are exercised at small depths.
"""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import keras_archs
from keras_archs import recursion
from keras_archs.models import resnet_cifar

from conftest import random_images, trainable_count


def test_option_a_shortcut_is_parameter_free_zero_padding():
    model = resnet_cifar.CifarResNet(depth=20, shortcut="A", input_shape=(32, 32, 3))
    names = {layer.name for layer in model.layers}
    assert not any(name.endswith("_0_conv") for name in names)
    unit_input = model.get_layer("conv3_block1_0_pool").input
    probe = keras.Model(model.inputs[0], [unit_input, model.get_layer("conv3_block1_0_pad").output])
    identity, padded = (np.asarray(t) for t in probe(random_images(32), training=False))
    assert padded.shape == (2, 16, 16, 32)
    # Every other pixel of the 16 input channels, 8 zero channels on each side.
    np.testing.assert_array_equal(padded[..., 8:24], identity[:, ::2, ::2, :])
    assert not padded[..., :8].any() and not padded[..., 24:].any()


def test_option_b_adds_exactly_the_two_projections():
    option_a = resnet_cifar.CifarResNet(depth=20, shortcut="A")
    option_b = resnet_cifar.CifarResNet(depth=20, shortcut="B")
    # 1x1 projections 16->32 and 32->64 with their BN: 16*32 + 64 + 32*64 + 128 (by hand).
    assert trainable_count(option_b) - trainable_count(option_a) == 2_752
    assert option_b.get_layer("conv3_block1_0_conv").strides == (2, 2)


def test_preact_units_project_the_normalized_input():
    model = resnet_cifar.CifarPreActResNet(depth=11, input_shape=(32, 32, 3))
    projection = model.get_layer("conv2_block1_0_conv")
    assert projection.input is model.get_layer("conv2_block1_preact_relu").output
    assert model.get_layer("conv2_block1_out").output.shape[-1] == 64
    assert model.get_layer("post_relu").output.shape[1:] == (8, 8, 256)


def test_wide_resnet_dropout_between_the_convolutions():
    model = resnet_cifar.CifarWideResNet(depth=10, width_factor=2, dropout_rate=0.3, input_shape=(32, 32, 3))
    dropout = model.get_layer("conv2_block1_dropout")
    assert dropout.input is model.get_layer("conv2_block1_1_relu").output
    assert model.get_layer("conv2_block1_2_conv").input is dropout.output
    assert model.get_layer("conv4_block1_out").output.shape[-1] == 128
    images = random_images(32)
    np.testing.assert_array_equal(model(images, training=False), model(images, training=False))
    assert not np.allclose(model(images, training=True), model(images, training=False))


def test_resnext29_grouped_widths():
    model = resnet_cifar.CifarResNeXt(depth=11, cardinality=4, width_per_group=8, input_shape=(32, 32, 3))
    assert model.get_layer("conv2_block1_2_conv").groups == 4
    assert model.get_layer("conv2_block1_2_conv").filters == 32
    assert model.get_layer("conv4_block1_2_conv").filters == 128
    assert model.get_layer("conv4_block1_out").output.shape[1:] == (8, 8, 1024)


@pytest.mark.parametrize("base, width_factor", [("resnet", 1), ("wide_resnet", 2)])
def test_ror_adds_stage_and_root_shortcuts(base, width_factor):
    depth = 8 if base == "resnet" else 10
    model = resnet_cifar.CifarRoR(depth=depth, base=base, width_factor=width_factor, input_shape=(32, 32, 3))
    root = model.get_layer("ror_root_conv")
    assert root.strides == (4, 4)
    assert root.input is model.get_layer("conv1_relu" if base == "resnet" else "conv1_conv").output
    for stage in ("conv3", "conv4"):
        add = model.get_layer(f"{stage}_ror_add")
        assert add.input[0] is model.get_layer(f"{stage}_ror_bn").output
    assert model.get_layer("ror_root_add").input[0] is model.get_layer("ror_root_bn").output


def test_drop_path_on_cifar_families_decays_linearly():
    model = resnet_cifar.CifarPreActResNet(depth=11, drop_path_rate=0.3)
    rates = [layer.rate for layer in model.layers if layer.name.endswith("_drop")]
    assert rates == pytest.approx([0.1, 0.2, 0.3])
    model = resnet_cifar.CifarRoR(depth=8, drop_path_rate=0.3)
    assert [layer.rate for layer in model.layers if layer.name.endswith("_drop")] == pytest.approx([0.1, 0.2, 0.3])


def test_zero_init_residual_starts_every_unit_as_the_identity():
    model = resnet_cifar.CifarResNet(depth=8, zero_init_residual=True, input_shape=(32, 32, 3))
    assert not np.asarray(model.get_layer("conv2_block1_2_bn").gamma).any()
    unit = model.get_layer("conv3_block1_out")
    probe = keras.Model(model.inputs[0], [model.get_layer("conv2_block1_out").output, unit.output])
    unit_input, unit_output = (np.asarray(t) for t in probe(random_images(32), training=False))
    # Option A shortcut: subsampled input, zero-padded channels; the branch adds nothing.
    np.testing.assert_allclose(unit_output[..., 8:24], unit_input[:, ::2, ::2, :], rtol=1e-6)


def _layer_names(model):
    return {layer.name for layer in model.layers}


@pytest.mark.parametrize("width_factor", [1, 2])
def test_ror_base_chooses_the_underlying_network_whatever_the_width(width_factor):
    # The pre-activation WRN-(6n+4)-k: BN-ReLU before each unit's convolutions, a final BN-ReLU,
    # and no ReLU after a sum; at k = 1 too (the base, not the width, decides).
    wide = resnet_cifar.CifarRoR(depth=10, base="wide_resnet", width_factor=width_factor)
    names = _layer_names(wide)
    assert {"conv2_block1_preact_bn", "post_relu"} <= names
    assert not any(name.endswith("_add") and name.startswith("conv2_block") for name in names)
    assert wide.get_layer("conv4_block1_out").output.shape[-1] == 64 * width_factor
    assert wide.name == f"ror3_wrn10_{width_factor}"


def test_ror_resnet_base_is_the_post_activation_resnet():
    model = resnet_cifar.CifarRoR(depth=8, base="resnet")
    names = _layer_names(model)
    assert "conv2_block1_add" in names and "conv4_out" in names
    assert not any("preact" in name for name in names) and "post_relu" not in names
    assert model.name == "ror3_resnet8"
    # 6n+2 layers: the WRN depth rule (6n+4) does not apply.
    with pytest.raises(ValueError, match="Received: depth=10"):
        resnet_cifar.CifarRoR(depth=10, base="resnet")


def test_registered_ror_names_state_their_base():
    assert keras_archs.model_info("ror3_wrn58_4").defaults["base"] == "wide_resnet"
    assert keras_archs.model_info("ror3_resnet110").constructor_call == "CifarRoR(depth=110)"  # base="resnet"


def test_ror_refuses_an_unknown_base_and_a_widened_resnet_base():
    with pytest.raises(ValueError, match=r"base must be one of \('resnet', 'wide_resnet'\). Received: base='wrn'"):
        resnet_cifar.CifarRoR(depth=10, base="wrn", width_factor=2)
    with pytest.raises(ValueError, match="Received: width_factor=2 with base='resnet'"):
        resnet_cifar.CifarRoR(depth=8, width_factor=2)


def test_recursion_limit_is_raised_inside_the_block_only():
    before = sys.getrecursionlimit()
    with recursion.recursion_limit(before + 5_000) as inside:
        assert sys.getrecursionlimit() == inside == before + 5_000
    assert sys.getrecursionlimit() == before
    with recursion.recursion_limit(10):  # never lowered
        assert sys.getrecursionlimit() == before
    with pytest.raises(KeyError), recursion.recursion_limit(before + 5_000):
        raise KeyError("restored on an exception as well")
    assert sys.getrecursionlimit() == before


def test_cifar_builds_raise_the_recursion_limit_while_building_only(monkeypatch):
    before = sys.getrecursionlimit()
    seen = []
    build_model = resnet_cifar.build_model

    def recording_build_model(**kwargs):
        seen.append(sys.getrecursionlimit())
        return build_model(**kwargs)

    monkeypatch.setattr(resnet_cifar, "build_model", recording_build_model)
    resnet_cifar.CifarResNet(depth=8)
    assert seen == [max(before, recursion.DEEP_GRAPH_FRAMES)]
    assert sys.getrecursionlimit() == before


def test_importing_the_package_leaves_the_recursion_limit_alone():
    script = (
        "import sys; before = sys.getrecursionlimit(); import keras_archs; "
        "sys.exit(0 if sys.getrecursionlimit() == before else 1)"
    )
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    subprocess.run([sys.executable, "-c", script], check=True, env=environment, timeout=300)
