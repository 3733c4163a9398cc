"""The Inception blocks and BN-Inception / v3 / v4 / Inception-ResNet: costs, options, structure."""

import re

import keras
import numpy as np
import pytest

import keras_archs
from keras_archs.convert import layer_map
from keras_archs.convert.core import weighted_layers
from keras_archs.layers.inception import (
    Conv,
    ConvStyle,
    CustomScaleLayer,
    Pool,
    asymmetric,
    factorized_5x5,
    inception_block,
    inception_resnet_block,
    pool,
)
from keras_archs.models.googlenet import MODULES, inception_v1_branches

from conftest import trainable_count


def _macs(build, shape):
    inputs = keras.Input(shape)
    return keras_archs.profile(keras.Model(inputs, build(inputs))).macs


def _convs(x, *convs):
    for filters, kernel in convs:
        x = keras.layers.Conv2D(filters, kernel, padding="same", use_bias=False)(x)
    return x


def test_bottleneck_costs_an_eighth_of_a_plain_3x3():
    # The seeds' argument: 1x1-64 / 3x3-64 / 1x1-256 instead of a 3x3 256->256 on a 14x14 grid.
    plain = _macs(lambda x: _convs(x, (256, 3)), (14, 14, 256))
    bottleneck = _macs(lambda x: _convs(x, (64, 1), (64, 3), (256, 1)), (14, 14, 256))
    assert plain == 14 * 14 * 9 * 256 * 256
    assert bottleneck == 14 * 14 * (256 * 64 + 9 * 64 * 64 + 64 * 256)
    assert plain / bottleneck > 8


@pytest.mark.parametrize("wide_kernel", [3, 5])
def test_inception_module_is_cheaper_than_one_convolution_of_its_width(wide_kernel):
    # GoogLeNet's 3a on its 28x28x192 input: 256 output channels, like a single 3x3 or 5x5.
    style = ConvStyle()
    branches = inception_v1_branches(*MODULES["3a"], wide_kernel=wide_kernel)
    module = _macs(lambda x: inception_block(x, branches, style=style, name="m"), (28, 28, 192))
    ones, reduce3, filters3, reduce5, filters5, projection = MODULES["3a"]
    assert ones + filters3 + filters5 + projection == 256
    per_position = 192 * (ones + reduce3 + reduce5 + projection) + 9 * reduce3 * filters3
    per_position += wide_kernel**2 * reduce5 * filters5
    assert module == 28 * 28 * per_position
    single_3x3 = _macs(lambda x: _convs(x, (256, 3)), (28, 28, 192))
    single_5x5 = _macs(lambda x: _convs(x, (256, 5)), (28, 28, 192))
    assert module < single_3x3 / 2.5 and module < single_5x5 / 7


def test_factorized_convolutions_save_what_the_paper_says():
    style = ConvStyle()

    def branch(steps):
        return lambda x: inception_block(x, (steps,), style=style, name="b")

    five = _macs(branch((Conv(64), Conv(64, 5))), (17, 17, 64))
    two_threes = _macs(branch(factorized_5x5(64, 64)), (17, 17, 64))
    one_by_one = 17 * 17 * 64 * 64
    assert (two_threes - one_by_one) / (five - one_by_one) == pytest.approx(18 / 25)  # 28% less (v3 §3.1)
    seven = _macs(branch((Conv(64), Conv(64, 7))), (17, 17, 64))
    asym = _macs(branch((Conv(64), *asymmetric(7, (64, 64)))), (17, 17, 64))
    assert (asym - one_by_one) / (seven - one_by_one) == pytest.approx(14 / 49)  # 2n vs n^2 (v3 §3.2)
    assert [step.kernel_size for step in asymmetric(3, (1, 1), vertical_first=True)] == [(3, 1), (1, 3)]


def test_inception_v3_with_aux_head_matches_torchvision_cost_and_has_two_outputs():
    model = keras_archs.get_model("inception_v3", aux_logits=True, classifier_activation=None)
    assert len(model.outputs) == 2
    assert [tuple(output.shape) for output in model.outputs] == [(None, 1000), (None, 1000)]
    counted = keras_archs.profile(model)
    assert counted.gmacs == pytest.approx(5.713, rel=0.03)  # TV inception_v3 _ops
    # Hand arithmetic for the aux head without BN gammas (keras' convention): 1x1 768->128
    # and 5x5 128->768 with BN beta, FC 768->1000 with bias.
    aux = 768 * 128 + 128 + 25 * 128 * 768 + 768 + 768 * 1000 + 1000
    assert counted.trainable_params == 23_817_352 + aux
    bn_after_fc = model.get_layer("aux_fc_bn")
    assert bn_after_fc.input.shape[1:] == (1, 1, 768)  # BN in the FC layer, v3 §10
    del model


def test_inception_v3_aux_head_needs_a_large_enough_grid_checked_before_building(layers_created):
    # One pixel short of 299 gives mixed7 a 16x16 grid, too small for the 5x5/3 pooling and
    # the 5x5 "FC" convolution. 299 itself builds (the test above): the minimum is exact.
    for shape in [(298, 298, 3), (None, None, 3)]:
        with pytest.raises(ValueError, match=r"aux_logits=True\)\. Received: input_shape="):
            keras_archs.get_model("inception_v3", input_shape=shape, aux_logits=True)
    assert not layers_created
    model = keras_archs.get_model("inception_v3", input_shape=(75, 75, 3))
    assert len(model.outputs) == 1


def test_residual_is_added_with_the_scale():
    inputs = keras.Input((5, 5, 8))
    branches = ((Conv(4),), (Conv(4), Conv(4, 3)))
    outputs = inception_resnet_block(inputs, branches, scale=0.3, activation=None, style=ConvStyle(), name="r")
    block = keras.Model(inputs, outputs)
    model = keras.Model(inputs, [outputs, block.get_layer("r_conv").output])
    images = np.random.default_rng(0).normal(size=(2, 5, 5, 8)).astype("float32")
    summed, residual = model.predict(images, verbose=0)
    np.testing.assert_allclose(summed, images + 0.3 * residual, rtol=1e-5, atol=1e-6)
    (scale_layer,) = [layer for layer in block.layers if isinstance(layer, CustomScaleLayer)]
    layer = keras.layers.deserialize(keras.layers.serialize(scale_layer))
    assert isinstance(layer, CustomScaleLayer) and layer.scale == 0.3


def _scales(model):
    return {layer.name: layer.scale for layer in model.layers if isinstance(layer, CustomScaleLayer)}


def test_residual_scale_option_sets_every_residual_branch():
    default = _scales(keras_archs.get_model("inception_resnet_v1", include_top=False, input_shape=(75, 75, 3)))
    assert len(default) == 5 + 10 + 5  # Figs. 10-13, 15
    assert {scale for name, scale in default.items() if name.startswith("block35")} == {0.17}
    assert {scale for name, scale in default.items() if name.startswith("block17")} == {0.1}
    assert {scale for name, scale in default.items() if name.startswith("block8")} == {0.2}
    scaled = _scales(keras_archs.get_model("inception_resnet_v1", include_top=False, input_shape=(75, 75, 3),
                                           residual_scale=0.3))
    assert set(scaled.values()) == {0.3}


@pytest.mark.parametrize(
    "name, option",
    [
        ("inception_resnet_v1", {"residual_scale": 0.0}),
        ("inception_resnet_v2", {"residual_scale": 1.5}),
        ("inception_resnet_v2", {"residual_scale": "0.1"}),
        ("inception_v3", {"aux_logits": "yes"}),
        ("inception_v4", {"dropout_rate": 1.0}),
        ("bn_inception", {"dropout_rate": -0.1}),
        ("inception_v3", {"implementation": "timm"}),
        ("inception_resnet_v2", {"implementation": "torchvision"}),
        ("tv_inception_v3", {"implementation": "Keras"}),
    ],
)
def test_bad_family_options_raise_before_building(name, option, layers_created):
    argument, value = next(iter(option.items()))
    with pytest.raises(ValueError, match=re.escape(f"Received: {argument}={value!r}")):
        keras_archs.get_model(name, **option)
    assert not layers_created


def test_bn_inception_normalizes_every_convolution_and_has_no_5x5():
    model = keras_archs.get_model("bn_inception", include_top=False, input_shape=(32, 32, 3))
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(convs) == 3 + 8 * 7 + 2 * 5  # stem, 8 modules, 2 reductions (Fig. 5)
    assert all(max(conv.kernel_size) <= 3 for conv in convs[1:])
    normalized = {id(layer.input) for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)}
    assert all(id(conv.output) in normalized for conv in convs)


def test_inception_v4_grid_sizes_follow_fig_9():
    model = keras_archs.get_model("inception_v4", include_top=False, input_shape=(299, 299, 3))
    assert model.get_layer("mixed_5a").output.shape[1:] == (35, 35, 384)
    assert model.get_layer("inception_a4").output.shape[1:] == (35, 35, 384)
    assert model.get_layer("reduction_a").output.shape[1:] == (17, 17, 1024)
    assert model.get_layer("inception_b7").output.shape[1:] == (17, 17, 1024)
    assert model.get_layer("reduction_b").output.shape[1:] == (8, 8, 1536)
    assert model.output.shape[1:] == (8, 8, 1536)
    assert trainable_count(model) == 42_679_816 - (1536 * 1000 + 1000)


def _pooled(style, images):
    inputs = keras.Input(images.shape[1:])
    model = keras.Model(inputs, pool(inputs, Pool("avg"), style=style, name="p"))
    return keras.ops.convert_to_numpy(model(images))


def test_padding_inclusive_average_pool_counts_the_zero_padding():
    images = np.ones((1, 4, 5, 1), "float32")
    # TensorFlow's "same" pool averages the pixels inside: all ones. PyTorch's
    # avg_pool2d(3, 1, padding=1) divides by 9: 4/9 in a corner, 6/9 on an edge.
    np.testing.assert_allclose(_pooled(ConvStyle(), images), images)
    inclusive = _pooled(ConvStyle(count_include_pad=True), images)[0, ..., 0]
    assert inclusive[0, 0] == pytest.approx(4 / 9) and inclusive[0, 2] == pytest.approx(6 / 9)
    assert inclusive[1:-1, 1:-1] == pytest.approx(np.ones((2, 3)))
    with pytest.raises(ValueError, match="stride 1 and an odd window"):
        pool(keras.Input((4, 4, 1)), Pool("avg", 3, strides=2), style=ConvStyle(count_include_pad=True), name="q")


def _signature(model):
    return [(layer.name, [tuple(weight.shape) for weight in layer.weights]) for layer in weighted_layers(model)]


@pytest.mark.parametrize(
    "twin, reference_form, pooled_by_torch",
    [("inception_v3", "tv_inception_v3", True), ("inception_resnet_v2", "timm_inception_resnet_v2", False)],
)
def test_reference_form_adds_bn_gammas_to_the_twins_layers(twin, reference_form, pooled_by_torch):
    # Counts do not depend on the input size: the smallest input keeps the test fast.
    ours, form = (keras_archs.get_model(name, input_shape=(75, 75, 3)) for name in (twin, reference_form))
    twin_layers, form_layers = _signature(ours), _signature(form)
    assert [name for name, _ in twin_layers] == [name for name, _ in form_layers]
    norms = [layer for layer in weighted_layers(form) if isinstance(layer, keras.layers.BatchNormalization)]
    assert norms and all(layer.scale for layer in norms)
    gammas = sum(layer.gamma.shape[0] for layer in norms)
    registered = keras_archs.model_info(reference_form).reference.params
    assert trainable_count(form) == trainable_count(ours) + gammas == registered
    padded = [layer for layer in form.layers if isinstance(layer, keras.layers.AveragePooling2D)
              and layer.padding == "valid" and layer.pool_size == (3, 3)]
    assert len(padded) == (9 if pooled_by_torch else 0)  # the pooling branch of mixed0-10 but the 2 reductions


def test_reference_forms_name_each_reference_tensor_once():
    for name in ["inception_v4", "tv_inception_v3", "timm_inception_resnet_v2"]:
        info = keras_archs.model_info(name)
        model = keras_archs.get_model(name, input_shape=(75, 75, 3))
        mapping = layer_map(model, info.torch_reference)
        assert len(mapping) == len(weighted_layers(model))
        assert len(set(mapping.values())) == len(mapping), name
    assert mapping["conv2d"] == "conv2d_1a.conv" and mapping["batch_normalization_5"] == "mixed_5b.branch0.bn"
    assert mapping["block35_10_conv"] == "repeat.9.conv2d" and mapping["block8_10_conv"] == "block8.conv2d"
    assert mapping["block8_9_conv"] == "repeat_2.8.conv2d" and mapping["predictions"] == "classif"


def test_tv_inception_v3_maps_torchvisions_modules_including_the_aux_head():
    info = keras_archs.model_info("tv_inception_v3")
    assert info.torch_reference.call == "torchvision.models.inception_v3(aux_logits=False, init_weights=False)"
    mapping = layer_map(keras_archs.get_model("tv_inception_v3", aux_logits=True), info.torch_reference)
    assert mapping["conv2d"] == "Conv2d_1a_3x3.conv" and mapping["batch_normalization_4"] == "Conv2d_4a_3x3.bn"
    assert mapping["conv2d_11"] == "Mixed_5b.branch_pool.conv"  # keras' 12th convolution: mixed0's pool branch
    assert mapping["conv2d_93"] == "Mixed_7c.branch_pool.conv" and mapping["predictions"] == "fc"
    assert mapping["aux_fc_conv"] == "AuxLogits.conv1.conv" and mapping["aux_predictions"] == "AuxLogits.fc"


def test_inception_v4_maps_timms_features_by_position():
    mapping = layer_map(keras_archs.get_model("inception_v4", input_shape=(75, 75, 3)),
                        keras_archs.model_info("inception_v4").torch_reference)
    assert mapping["stem_3_conv"] == "features.2.conv" and mapping["mixed_3a_b2_1_bn"] == "features.3.conv.bn"
    assert mapping["mixed_4a_b2_4_conv"] == "features.4.branch1.3.conv"
    assert mapping["inception_a1_b1_1_conv"] == "features.6.branch0.conv"
    assert mapping["inception_a4_b4_2_conv"] == "features.9.branch3.1.conv"  # branch3.0 is the pooling
    assert mapping["reduction_b_b2_4_bn"] == "features.18.branch1.3.bn"
    assert mapping["inception_c3_b3_4b_conv"] == "features.21.branch2_3b.conv"
    assert mapping["inception_c1_b4_2_conv"] == "features.19.branch3.1.conv"
    assert mapping["predictions"] == "last_linear"
