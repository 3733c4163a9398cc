"""MobileNet v1/v2/v3, ShuffleNet v1/v2 and SqueezeNet: their options and shared blocks."""

import keras
import numpy as np
import pytest

import keras_archs
from keras_archs.layers.mobilenet import make_divisible
from keras_archs.layers.shufflenet import ChannelShuffle, ChannelSplit
from keras_archs.layers.squeezenet import fire_module
from conftest import infer


def _signature(model):
    return [(layer.name, type(layer).__name__, [tuple(w.shape) for w in layer.weights]) for layer in model.layers[1:]]


@pytest.mark.parametrize(
    "ours, theirs, options",
    [
        ("MobileNet", "MobileNet", {"alpha": 0.5, "depth_multiplier": 2}),
        ("MobileNetV2", "MobileNetV2", {"alpha": 1.4}),
        ("MobileNetV3Small", "MobileNetV3Small", {"alpha": 0.75}),
        ("MobileNetV3Large", "MobileNetV3Large", {"minimalistic": True}),
        ("MobileNetV3Small", "MobileNetV3Small", {"include_preprocessing": False, "dropout_rate": 0.0}),
    ],
)
def test_family_options_keep_the_keras_twin_layers(ours, theirs, options):
    common = {"weights": None, "input_shape": (64, 64, 3), "classes": 4}
    reference = getattr(keras.applications, theirs)(**common, **options)
    model = getattr(keras_archs, ours)(**common, **options)
    assert _signature(model) == _signature(reference)


@pytest.mark.parametrize("side, paper_mmacs", [(128, 186), (160, 290), (192, 418)])
def test_mobilenet_resolution_multiplier_matches_paper_table_7(side, paper_mmacs):
    # Howard 2017, Table 7: 1.0 MobileNet at 192, 160 and 128 pixels.
    model = keras_archs.MobileNet(input_shape=(side, side, 3))
    assert keras_archs.profile(model).gmacs * 1e3 == pytest.approx(paper_mmacs, rel=0.03)


def test_mobilenet_v3_variants_drop_rescaling_se_and_hard_swish():
    plain = keras_archs.MobileNetV3Small(input_shape=(32, 32, 3), include_preprocessing=False, minimalistic=True)
    names = [layer.name for layer in plain.layers]
    assert not any(isinstance(layer, keras.layers.Rescaling) for layer in plain.layers)
    assert not any("squeeze_excite" in name for name in names)
    assert not any(getattr(layer, "activation", None) is keras.activations.hard_swish for layer in plain.layers)
    full = keras_archs.MobileNetV3Small(input_shape=(32, 32, 3))
    assert isinstance(full.layers[1], keras.layers.Rescaling)
    assert sum(name.endswith("squeeze_excite_mul") for name in (layer.name for layer in full.layers)) == 9


def test_inverted_residuals_add_only_where_shapes_match():
    model = keras_archs.MobileNetV2(input_shape=(32, 32, 3))
    adds = [layer.name for layer in model.layers if isinstance(layer, keras.layers.Add)]
    # Sandler 2018, Table 2: the n - 1 repeated blocks of each stage: 1 + 2 + 3 + 2 + 2.
    assert len(adds) == 10
    # Linear bottlenecks: ReLU6 after expansion and depthwise only. Conv1, the first
    # block's depthwise, 16 blocks x 2, and out_relu.
    relus = [layer for layer in model.layers if isinstance(layer, keras.layers.ReLU)]
    assert len(relus) == 1 + 1 + 16 * 2 + 1
    assert all(layer.max_value == 6.0 for layer in relus)


def test_make_divisible_rounds_to_eight_but_never_ten_percent_down():
    assert make_divisible(32 * 0.35) == 16  # 11.2 -> 8 would be 29% down
    assert make_divisible(20) == 24
    assert make_divisible(17) == 16
    assert make_divisible(1280 * 1.4) == 1792


def test_channel_shuffle_interleaves_groups_for_any_spatial_size():
    # Six channels in three groups [0 1][2 3][4 5] -> one from each group in turn.
    inputs = keras.Input(shape=(None, None, 6))
    model = keras.Model(inputs, ChannelShuffle(3)(inputs))
    values = np.broadcast_to(np.arange(6, dtype="float32"), (1, 3, 5, 6))
    shuffled = model.predict(values, verbose=0)
    np.testing.assert_array_equal(shuffled[0, 2, 4], [0, 2, 4, 1, 3, 5])
    assert shuffled.shape == (1, 3, 5, 6)
    restored = ChannelShuffle.from_config(ChannelShuffle(3, name="s").get_config())
    assert restored.groups == 3 and restored.name == "s"


def test_channel_split_halves_the_channels():
    inputs = keras.Input(shape=(2, 2, 4))
    first, second = ChannelSplit(2)(inputs)
    model = keras.Model(inputs, [first, second])
    values = np.broadcast_to(np.arange(4, dtype="float32"), (1, 2, 2, 4))
    left, right = model.predict(values, verbose=0)
    np.testing.assert_array_equal(left[0, 0, 0], [0, 1])
    np.testing.assert_array_equal(right[0, 0, 0], [2, 3])


@pytest.mark.parametrize(
    "groups, width, params",
    [
        (1, 1.0, 1_531_936), (2, 1.0, 1_733_848), (4, 1.0, 1_968_344),
        (1, 0.25, 209_746), (3, 0.25, 305_902), (1, 0.5, 534_484), (3, 0.5, 718_324),
        (1, 0.75, 975_214), (3, 0.75, 1_238_266),
    ],
)
def test_shufflenet_groups_and_widths_match_imgclsmob_counts(groups, width, params):
    model = keras_archs.ShuffleNet(input_shape=(32, 32, 3), groups=groups, width_multiplier=width)
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == params


def test_shufflenet_units_use_group_convolutions_and_shuffle():
    model = keras_archs.ShuffleNet(input_shape=(32, 32, 3), groups=8)
    first = model.get_layer("stage2_block1_1_conv")
    assert first.groups == 1  # stage 2's first pointwise convolution is not grouped
    assert model.get_layer("stage2_block2_1_conv").groups == 8
    assert model.get_layer("stage3_block1_3_conv").groups == 8
    assert sum(isinstance(layer, ChannelShuffle) for layer in model.layers) == 16
    assert model.get_layer("stage4_block4_out").output.shape[-1] == 1536


@pytest.mark.parametrize(
    "options, argument",
    [({"groups": 5}, "groups"), ({"width_multiplier": 0.1}, "width_multiplier"), ({"width_multiplier": 0}, "width_multiplier")],
)
def test_shufflenet_rejects_bad_options(options, argument):
    with pytest.raises(ValueError, match=argument):
        keras_archs.ShuffleNet(**options)


def test_shufflenet_v2_splits_half_the_channels_and_shuffles_pairs():
    model = keras_archs.ShuffleNetV2(input_shape=(32, 32, 3), width="0.5")
    splits = [layer for layer in model.layers if isinstance(layer, ChannelSplit)]
    assert len(splits) == 13  # every unit but the first of each of the three stages
    assert all(layer.groups == 2 for layer in model.layers if isinstance(layer, ChannelShuffle))
    with pytest.raises(ValueError, match="width"):
        keras_archs.ShuffleNetV2(width="3.0")


def test_squeezenet_has_no_dense_layer_and_rounds_pooling_up():
    model = keras_archs.get_model("squeezenet1_0")
    assert not any(isinstance(layer, keras.layers.Dense) for layer in model.layers)
    # torchvision at 224: 109 after conv1, then 3x3/2 poolings rounding up: 54, 27, 13
    # (rounding down would give 26 and 12).
    assert model.get_layer("fire2_concat").output.shape[1:] == (54, 54, 128)
    assert model.get_layer("fire5_concat").output.shape[1:] == (27, 27, 256)
    assert model.get_layer("fire9_concat").output.shape[1:] == (13, 13, 512)
    assert model.get_layer("conv10").output.shape[-1] == 1000


def test_fire_module_concatenates_the_two_expand_layers():
    inputs = keras.Input(shape=(8, 8, 32))
    outputs = fire_module(inputs, 4, 10, 6, name="fire")
    model = keras.Model(inputs, outputs)
    assert outputs.shape[-1] == 16
    assert model.get_layer("fire_expand3x3").kernel.shape == (3, 3, 4, 6)
    assert model.get_layer("fire_squeeze1x1").activation is keras.activations.relu


@pytest.mark.parametrize(
    "constructor, options, argument",
    [
        ("MobileNet", {"alpha": 0}, "alpha"),
        ("MobileNet", {"depth_multiplier": 0}, "depth_multiplier"),
        ("MobileNetV3Large", {"minimalistic": "yes"}, "minimalistic"),
        ("MobileNetV3Small", {"include_preprocessing": 1}, "include_preprocessing"),
        ("MobileNetV3Small", {"dropout_rate": 1.5}, "dropout_rate"),
        ("SqueezeNet", {"version": "2_0"}, "version"),
    ],
)
def test_bad_family_options_raise(constructor, options, argument):
    with pytest.raises(ValueError, match=argument):
        getattr(keras_archs, constructor)(**options)


@pytest.mark.parametrize("groups, paper_mmacs", [(1, 143), (2, 140), (4, 133)])
def test_shufflenet_group_counts_keep_the_paper_complexity(groups, paper_mmacs):
    # Zhang 2018, Table 1: widths grow with g so that every 1x network costs ~140 MFLOPs.
    model = keras_archs.ShuffleNet(input_shape=(224, 224, 3), groups=groups)
    assert keras_archs.profile(model).gmacs * 1e3 == pytest.approx(paper_mmacs, rel=0.03)


# --- Reference forms (implementation=): the twin's layers under PyTorch conventions -----------

def _weighted(model):
    return [(layer.name, [tuple(w.shape) for w in layer.weights]) for layer in model.layers if layer.weights]


def _paddings(model):
    return {layer.name: layer.padding for layer in model.layers if isinstance(layer, keras.layers.ZeroPadding2D)}


@pytest.mark.parametrize(
    "constructor, implementation, epsilon",
    [
        ("MobileNet", "timm", 1e-5),
        ("MobileNetV2", "torchvision", 1e-5),
        ("MobileNetV3Small", "torchvision", 1e-3),
        ("MobileNetV3Large", "torchvision", 1e-3),
    ],
)
def test_reference_form_keeps_the_twin_weights_and_pads_symmetrically(constructor, implementation, epsilon):
    common = {"input_shape": (64, 64, 3), "classes": 4, "classifier_activation": None}
    twin = getattr(keras_archs, constructor)(**common)
    form = getattr(keras_archs, constructor)(implementation=implementation, **common)
    assert _weighted(form) == _weighted(twin)
    assert {layer.epsilon for layer in form.layers if isinstance(layer, keras.layers.BatchNormalization)} == {epsilon}
    # PyTorch pads k // 2 on every side of each stride-2 convolution (stem included); the
    # twin pads only where TF would, and 0 before / 1 after on these even sides.
    symmetric = _paddings(form)
    strided = [layer for layer in form.layers if getattr(layer, "strides", (1, 1)) == (2, 2)
               and isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D))]
    assert len(symmetric) == len(strided)
    assert all(top == bottom and left == right for (top, bottom), (left, right) in symmetric.values())
    assert all(top < bottom for (top, bottom), _ in _paddings(twin).values())
    # Same weights, other conventions: another function (the untrained logits are tiny, so
    # the difference is relative).
    form.set_weights(twin.get_weights())
    images = np.random.default_rng(0).uniform(-1, 1, (2, 64, 64, 3)).astype("float32")
    theirs, ours = infer(twin, images), infer(form, images)
    assert np.abs(ours - theirs).max() > 1e-2 * np.abs(theirs).max()


@pytest.mark.parametrize("constructor", ["MobileNet", "MobileNetV2", "MobileNetV3Small"])
def test_twin_pads_as_keras_applications_at_an_odd_side(constructor):
    # MobileNet v1 pads bottom/right by one at any size; v2/v3 pad as TF's "same" (1/1 when odd).
    common = {"weights": None, "input_shape": (65, 65, 3), "include_top": False}
    reference = getattr(keras.applications, constructor)(**common)
    assert _paddings(getattr(keras_archs, constructor)(**common)) == _paddings(reference)


@pytest.mark.parametrize(
    "name, implementation",
    [("timm_mobilenet", "timm"), ("tv_mobilenet_v2", "torchvision"), ("tv_mobilenet_v3_small", "torchvision"),
     ("tv_mobilenet_v3_large", "torchvision")],
)
def test_reference_forms_are_registered_with_their_reference(name, implementation):
    info = keras_archs.model_info(name)
    assert info.defaults["implementation"] == implementation
    # torchvision normalizes with ImageNet's mean and std; timm's mobilenetv1_100 checkpoint with 0.5 and 0.5.
    assert info.torch_reference is not None and info.preprocessing == ("tf" if implementation == "timm" else "torch")
    assert info.preprocessing == info.weights[0].preprocessing
    if "v3" in name:
        # torchvision normalizes outside the model; the twin's Rescaling would scale twice.
        assert info.defaults["include_preprocessing"] is False
        twin = keras_archs.model_info(name.removeprefix("tv_")).torch_reference
        assert twin.constructor.startswith("tf_mobilenetv3") and twin.model_kwargs == {"include_preprocessing": False}


@pytest.mark.parametrize(
    "constructor, good",
    [("MobileNet", "timm"), ("MobileNetV2", "torchvision"), ("MobileNetV3Small", "torchvision"),
     ("MobileNetV3Large", "torchvision")],
)
def test_unknown_implementation_is_refused_before_any_layer(constructor, good, layers_created):
    with pytest.raises(ValueError, match=r"implementation must be one of .*Received: implementation='pytorch'"):
        getattr(keras_archs, constructor)(implementation="pytorch")
    assert not layers_created
    other = "timm" if good == "torchvision" else "torchvision"
    with pytest.raises(ValueError, match="implementation"):
        getattr(keras_archs, constructor)(implementation=other)
