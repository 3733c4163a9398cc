"""GoogLeNet: Table 1's modules, auxiliary classifiers as extra outputs, the paper's form."""

import keras
import numpy as np
import pytest

import keras_archs
from keras_archs.convert import layer_map
from keras_archs.layers.classic import LocalResponseNormalization

from conftest import random_images, trainable_count


def test_cost_matches_the_paper_and_torchvision_without_aux_heads():
    model = keras_archs.get_model("googlenet")
    assert len(model.outputs) == 1
    counted = keras_archs.profile(model)
    assert counted.gmacs == pytest.approx(1.498, rel=0.03)  # TV _ops; the paper: 1.5 billion
    assert counted.trainable_params == 6_624_904
    assert model.get_layer("dropout").rate == 0.4


def test_aux_heads_are_the_second_and_third_outputs():
    model = keras_archs.get_model("googlenet", aux_logits=True, classes=10)
    assert len(model.outputs) == 3
    assert [tuple(output.shape) for output in model.outputs] == [(None, 10)] * 3
    assert model.get_layer("aux1_pool").input is model.get_layer("inception_4a").output
    assert model.get_layer("aux2_pool").input is model.get_layer("inception_4d").output
    assert model.get_layer("aux1_dropout").rate == 0.7
    # Hand arithmetic (torchvision InceptionAux): 1x1 conv to 128 with BN, FC 2048->1024, FC 1024->10.
    aux = lambda channels: channels * 128 + 2 * 128 + 2048 * 1024 + 1024 + 1024 * 10 + 10  # noqa: E731
    plain = keras_archs.get_model("googlenet", classes=10)
    assert trainable_count(model) == trainable_count(plain) + aux(512) + aux(528)
    # With 1000 classes: 13,004,888, torchvision's count with aux_logits=True.
    assert 6_624_904 + aux(512) + aux(528) + 2 * 1024 * 990 + 2 * 990 == 13_004_888


def test_inference_with_aux_heads_gives_three_distributions():
    model = keras_archs.get_model("googlenet", aux_logits=True, classes=3, input_shape=(64, 64, 3))
    main, aux1, aux2 = (output.numpy() for output in model(random_images(64), training=False))
    for probabilities in (main, aux1, aux2):
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert not np.allclose(main, aux1) and not np.allclose(aux1, aux2)


@pytest.mark.parametrize("variant, smallest", [("torchvision", 63), ("paper", 79)])
def test_aux_heads_need_a_large_enough_fixed_input_checked_before_building(variant, smallest, layers_created):
    for shape in [(smallest - 1, smallest - 1, 3), (None, None, 3)]:
        with pytest.raises(ValueError, match=r"aux_logits=True\)\. Received: input_shape="):
            keras_archs.get_model("googlenet", variant=variant, aux_logits=True, input_shape=shape)
    assert not layers_created
    # The stated minimum is the true one: it builds, and its heads see a real grid.
    model = keras_archs.get_model("googlenet", variant=variant, aux_logits=True, classes=3,
                                  input_shape=(smallest, smallest, 3))
    assert len(model.outputs) == 3
    without_top = keras_archs.get_model("googlenet", variant=variant, aux_logits=True, include_top=False,
                                        input_shape=(32, 32, 3))
    assert len(without_top.outputs) == 1


def test_paper_form_has_lrn_true_5x5_and_no_batch_norm():
    paper = keras_archs.GoogLeNet(variant="paper", input_shape=(64, 64, 3))
    # Hand arithmetic from Table 1: biased convolutions, true 5x5 kernels, FC 1024->1000.
    assert trainable_count(paper) == 6_998_552
    layer_types = {type(layer) for layer in paper.layers}
    assert keras.layers.BatchNormalization not in layer_types
    assert [layer.name for layer in paper.layers if isinstance(layer, LocalResponseNormalization)] == [
        "pool1_lrn", "conv3_lrn",
    ]
    assert paper.get_layer("inception_3a_b3_2_conv").kernel_size == (5, 5)
    default = keras_archs.get_model("googlenet", include_top=False, input_shape=(64, 64, 3))
    assert not any(isinstance(layer, LocalResponseNormalization) for layer in default.layers)
    assert default.get_layer("inception_3a_b3_2_conv").kernel_size == (3, 3)  # torchvision's quirk


def test_paper_forms_minimum_input_is_checked_before_building(layers_created):
    with pytest.raises(ValueError, match="Received: input_shape=\\(31, 31, 3\\)"):
        keras_archs.GoogLeNet(variant="paper", include_top=False, input_shape=(31, 31, 3))
    assert not layers_created
    # 32 leaves a 2x2 grid after 4e, which the rounded-up 3x3/2 pooling before 5a keeps as one window.
    model = keras_archs.GoogLeNet(variant="paper", include_top=False, input_shape=(32, 32, 3))
    assert tuple(model.get_layer("inception_4e").output.shape[1:3]) == (2, 2)
    assert tuple(model.output.shape[1:3]) == (1, 1)


@pytest.mark.parametrize("variant", ["torchvision", "paper"])
def test_stem_pads_symmetrically_and_poolings_round_up_as_torchvision(variant):
    model = keras_archs.GoogLeNet(variant=variant, include_top=False, input_shape=(193, 224, 3))
    # PyTorch's padding=3 on both sides; TensorFlow's "same" would pad 2 before and 3 after.
    assert model.get_layer("conv1_pad").padding == ((3, 3), (3, 3))
    assert model.get_layer("conv1_conv").padding == "valid"
    # torchvision's sides, (n - 3) / 2 rounded up, plus one: 97 -> 48 -> 24 -> 12 -> 6 high
    # and 112 -> 56 -> 28 -> 14 -> 7 wide; "same" pooling would give 49 after pool1.
    sides = [tuple(model.get_layer(name).output.shape[1:3]) for name in ("conv1_conv", "pool1", "pool2", "pool3")]
    assert sides == [(97, 112), (48, 56), (24, 28), (12, 14)]
    assert tuple(model.get_layer("pool4").output.shape[1:3]) == (6, 7)
    # torchvision pools 2x2/2 before 5a; Table 1 (and Caffe's pool4/3x3_s2) 3x3/2.
    assert model.get_layer("pool4").pool_size == ((2, 2) if variant == "torchvision" else (3, 3))


def test_registry_names_torchvisions_googlenet_without_aux_heads():
    reference = keras_archs.model_info("googlenet").torch_reference
    assert reference.call == "torchvision.models.googlenet(aux_logits=False, init_weights=False)"
    assert reference.bn_epsilon == 1e-3  # torchvision's BasicConv2d, as ours
    mapping = layer_map(keras_archs.get_model("googlenet", aux_logits=True), reference)
    assert mapping["conv1_conv"] == "conv1.conv" and mapping["conv3_bn"] == "conv3.bn"
    assert mapping["inception_3a_b1_1_conv"] == "inception3a.branch1.conv"
    assert mapping["inception_5b_b3_2_bn"] == "inception5b.branch3.1.bn"
    assert mapping["inception_4a_b4_2_conv"] == "inception4a.branch4.1.conv"  # branch4.0 is the pooling
    assert mapping["aux2_conv1_conv"] == "aux2.conv.conv" and mapping["aux1_predictions"] == "aux1.fc2"
    assert mapping["predictions"] == "fc"


@pytest.mark.parametrize(
    "option", [{"variant": "caffe"}, {"aux_logits": 1}, {"dropout_rate": 1.0}, {"aux_dropout_rate": -0.5}]
)
def test_bad_options_name_the_argument(option):
    argument = next(iter(option))
    with pytest.raises(ValueError, match=f"Received: {argument}="):
        keras_archs.get_model("googlenet", **option)
