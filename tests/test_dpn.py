"""Dual Path Networks: the reference counts, both paths of the block, stochastic depth."""

import keras
import numpy as np
import pytest

import keras_archs
from keras_archs.layers.dpn import dual_path_block
from keras_archs.models.dpn import CONFIGS

from conftest import random_images


def _dpn_params_by_hand(stem_filters, k_r, groups, blocks, increments, small, classes=1000):
    """Trainable parameters of timm's / cypw's DPN, added up layer by layer.

    Independent of the Keras code: the stem convolution and its BN, then per block the
    BN + 1x1 projection (first block of a stage: residual + 2 * inc maps), BN + 1x1 to
    k_r * 2^i, BN + grouped 3x3, BN + 1x1 to residual + inc maps; the final BN and the
    classifier (weights and biases).
    """
    stem_kernel = 3 if small else 7
    total = stem_kernel * stem_kernel * 3 * stem_filters + 2 * stem_filters
    channels = stem_filters
    residual_base = 64 if small else 256
    for index, (count, increment) in enumerate(zip(blocks, increments)):
        bottleneck, residual = k_r * 2**index, residual_base * 2**index
        for block in range(count):
            if block == 0:
                total += 2 * channels + channels * (residual + 2 * increment)
            total += 2 * channels + channels * bottleneck
            total += 2 * bottleneck + 9 * bottleneck * bottleneck // groups
            total += 2 * bottleneck + bottleneck * (residual + increment)
            channels = residual + 3 * increment if block == 0 else channels + increment
    return total + 2 * channels + channels * classes + classes


# Published exact counts (imgclsmob's pytorchcv dpn.py weight-count test; dpn92 is absent there).
PUBLISHED = {
    (10, 128, 32, (3, 4, 12, 3), (16, 32, 32, 64), True): 12_611_602,
    (96, 160, 40, (3, 6, 20, 3), (16, 32, 32, 128), False): 61_570_728,
    (128, 200, 50, (4, 8, 20, 3), (20, 64, 64, 128), False): 86_917_800,
    (128, 160, 40, (4, 8, 28, 3), (16, 32, 32, 128), False): 79_254_504,
}
DPN92 = (64, 96, 32, (3, 4, 20, 3), (16, 32, 24, 128), False)


def test_hand_count_reproduces_published_counts_and_gives_the_dpn92_reference():
    for config, published in PUBLISHED.items():
        assert _dpn_params_by_hand(*config) == published
    assert _dpn_params_by_hand(*DPN92) == keras_archs.model_info("dpn92").reference.params
    # timm's rounded figure for DPN-92 (REFERENCES.md).
    assert round(_dpn_params_by_hand(*DPN92) / 1e6, 2) == 37.67


def test_configs_are_those_counted_by_hand():
    for depth, config in CONFIGS.items():
        key = (config.stem_filters, config.bottleneck_width, config.groups, config.blocks, config.increments,
               config.small)
        assert keras_archs.model_info(f"dpn{depth}").reference.params == _dpn_params_by_hand(*key)


def _two_blocks(drop_path_rate=0.0):
    inputs = keras.Input((8, 8, 6))
    options = dict(bottleneck_filters=8, residual_filters=12, increment=4, groups=2, drop_path_rate=drop_path_rate)
    x, first = dual_path_block(inputs, None, name="b1", **options)
    x, second = dual_path_block(x, first, name="b2", **options)
    return keras.Model(inputs, [*first, *second, x])


def test_residual_path_keeps_its_width_and_dense_path_grows_by_the_increment():
    model = _two_blocks()
    residual1, dense1, residual2, dense2, out = model.predict(random_images(8, channels=6), verbose=0)
    assert residual1.shape[-1] == residual2.shape[-1] == 12
    # The projection opens the dense path with 2 * inc maps; each block adds inc.
    assert dense1.shape[-1] == 3 * 4 and dense2.shape[-1] == 4 * 4
    assert out.shape[-1] == 12 + 4 * 4
    # Dense connectivity: the second block passes the first block's dense maps on untouched.
    np.testing.assert_array_equal(dense2[..., :12], dense1)
    # The residual path is a sum: block 2 adds its increment to block 1's residual.
    increment = model.get_layer("b2_3_res").output
    probe = keras.Model(model.inputs, increment)
    np.testing.assert_allclose(
        residual2, residual1 + probe.predict(random_images(8, channels=6), verbose=0), rtol=1e-5, atol=1e-5
    )


def test_stochastic_depth_drops_residual_increments_per_sample_only_in_training():
    inputs = keras.Input((4, 4, 6))
    _, (residual, _) = dual_path_block(
        inputs, None, name="b1", bottleneck_filters=8, residual_filters=12, increment=4, groups=2, drop_path_rate=0.5
    )
    dropped = keras.Model(inputs, residual)
    increment = keras.Model(inputs, dropped.get_layer("b1_drop").output)
    images = random_images(4, channels=6, batch=64)
    trained = keras.ops.convert_to_numpy(increment(images, training=True))
    per_sample = np.abs(trained).reshape(64, -1).max(axis=1)
    assert 0 < np.sum(per_sample == 0) < 64, "some, not all, samples skip the residual increment"
    inference = [keras.ops.convert_to_numpy(dropped(images, training=False)) for _ in range(2)]
    np.testing.assert_array_equal(inference[0], inference[1])
    undropped = keras.Model(inputs, dropped.get_layer("b1_3_res").output)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(increment(images, training=False)),
        keras.ops.convert_to_numpy(undropped(images)),
        rtol=1e-6,
    )


def test_drop_path_rate_grows_linearly_over_all_blocks():
    model = keras_archs.DPN68(include_top=False, input_shape=(32, 32, 3), drop_path_rate=0.2)
    rates = [layer.rate for layer in model.layers if layer.name.endswith("_drop")]
    blocks = sum(CONFIGS[68].blocks)
    assert len(rates) == blocks
    np.testing.assert_allclose(rates, [0.2 * index / blocks for index in range(1, blocks + 1)])


def test_stage_outputs_have_strides_4_to_32():
    model = keras_archs.DPN68(include_top=False, input_shape=(64, 64, 3))
    for stage, blocks, side in zip((2, 3, 4, 5), CONFIGS[68].blocks, (16, 8, 4, 2)):
        assert model.get_layer(f"conv{stage}_block{blocks}_out").output.shape[1:3] == (side, side)
    assert not any(layer.name.endswith("_drop") for layer in model.layers), "drop_path_rate=0 adds no layer"


@pytest.mark.parametrize("rate", [-0.1, 1.0, "0.1"])
def test_bad_drop_path_rate(rate):
    with pytest.raises(ValueError, match="drop_path_rate"):
        keras_archs.DPN68(drop_path_rate=rate)


def test_one_convolution_feeds_both_paths_split_by_channels():
    # As timm's DualPathBlock (and cypw's MXNet code): one 1x1 convolution to
    # residual + dense maps, sliced; its weights are the reference's as they are.
    model = _two_blocks()
    images = random_images(8, channels=6)
    for block, dense_maps in (("b1_0", 8), ("b2_3", 4)):
        conv = model.get_layer(f"{block}_conv")
        assert conv.filters == 12 + dense_maps
        outputs = [conv.output, model.get_layer(f"{block}_res").output, model.get_layer(f"{block}_dense").output]
        probe = keras.Model(model.inputs[0], outputs)
        full, residual, dense = (keras.ops.convert_to_numpy(t) for t in probe(images))
        np.testing.assert_array_equal(residual, full[..., :12])
        np.testing.assert_array_equal(dense, full[..., 12:])


def test_layer_map_names_timm_tensors():
    from keras_archs import convert

    model = keras_archs.DPN68(input_shape=(32, 32, 3))
    mapping = convert.layer_map(model, keras_archs.model_info("dpn68").torch_reference)
    assert len(set(mapping.values())) == len(mapping)
    assert mapping["conv1_conv"] == "features.conv1_1.conv"
    assert mapping["conv2_block1_0_bn"] == "features.conv2_1.c1x1_w_s1.bn"
    assert mapping["conv3_block1_0_conv"] == "features.conv3_1.c1x1_w_s2.conv"
    assert mapping["conv4_block12_2_conv"] == "features.conv4_12.c3x3_b.conv"
    assert mapping["conv5_block3_3_bn"] == "features.conv5_3.c1x1_c.bn"
    assert mapping["bn"] == "features.conv5_bn_ac.bn"
    assert mapping["predictions"] == "classifier"
