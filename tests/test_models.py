"""The suite every registered model joins by registering: the keras.applications contract."""

import gc
import inspect

import keras
import numpy as np
import pytest
from conftest import REPRESENTATIVES, infer, random_images, small_side, trainable_count

import keras_archs
from keras_archs.registry import PREPROCESSING_MODES

NAMES = keras_archs.list_models()
# Each family's representatives take the costly checks (.keras round trip, every pooling,
# SavedModel in test_export_registry.py); their code paths are shared by the family.
REPRESENTATIVE_NAMES = sorted(name for names in REPRESENTATIVES.values() for name in names)
WITH_REFERENCE = [name for name in NAMES if keras_archs.model_info(name).reference.params is not None]


def representatives_here_others_in_the_sweep(names):
    """`names` as parameters: the family representatives run in the default run, the others
    are marked `sweep` and run in CI's sweep command (`pytest -n 2 -m sweep`).

    Building the other registered models, twice at a small input and once at full size for
    their counts, took 6.5 of the default run's 30 minutes on 2 cores (13 worker-minutes,
    measured 2026-12-07), which left that run no margin under its 30-minute budget.
    """
    return [name if name in REPRESENTATIVE_NAMES else pytest.param(name, marks=pytest.mark.sweep) for name in names]

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


# The registered names of each family module, written out (not read from the registry), so
# that a lost or an accidental registration fails.
FAMILY_NAMES = {
    "alexnet": ["alexnet", "alexnet_paper"],
    "densenet": [
        "densenet121", "densenet161", "densenet169", "densenet201", "densenet264", "densenet_bc100_k12",
        "densenet_bc190_k40",
    ],
    "dpn": ["dpn107", "dpn131", "dpn68", "dpn92", "dpn98"],
    "googlenet": ["googlenet"],
    "highway": ["highway19", "highway32"],
    "inception": [
        "bn_inception", "inception_resnet_v1", "inception_resnet_v2", "inception_v3", "inception_v4",
        "timm_inception_resnet_v2", "tv_inception_v3",
    ],
    "lenet": ["lenet5", "lenet5_paper"],
    "mobilenet": [
        "mobilenet", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small", "timm_mobilenet",
        "tv_mobilenet_v2", "tv_mobilenet_v3_large", "tv_mobilenet_v3_small",
    ],
    "nasnet": ["amoebanet_a", "nasnet_large", "nasnet_mobile", "timm_nasnet_large"],
    "nin": ["nin_cifar10", "nin_cifar100", "nin_imagenet"],
    "resnet": [
        "resnet101", "resnet101_v2", "resnet152", "resnet152_v2", "resnet18", "resnet34", "resnet50",
        "resnet50_v2", "resnext101_32x8d", "resnext101_64x4d", "resnext50_32x4d", "senet154", "seresnet50",
        "seresnext50_32x4d", "tv_resnet101", "tv_resnet152", "tv_resnet50", "wide_resnet101_2",
        "wide_resnet50_2",
    ],
    "resnet_cifar": [
        "preact_resnet1001", "preact_resnet164", "resnet110", "resnet1202", "resnet20", "resnet32", "resnet44",
        "resnet56", "resnext29_16x64d", "resnext29_8x64d", "ror3_resnet110", "ror3_wrn58_4", "wide_resnet28_10",
    ],
    "shufflenet": [
        "shufflenet_g3_w1", "shufflenet_g8_w1", "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5",
        "shufflenet_v2_x2_0",
    ],
    "squeezenet": ["squeezenet1_0", "squeezenet1_1"],
    "vgg": ["vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn"],
    "xception": ["timm_xception", "xception"],
}  # fmt: skip
REGISTERED_COUNT = 91

# Channels of each model's final feature map (include_top=False, pooling="avg"), from the
# papers and the reference implementations, not from this package's models.
FEATURE_WIDTHS = {
    # Krizhevsky 2012 Fig. 2: conv5 has 256 maps (2 x 128 in the two-tower paper form);
    # torchvision alexnet features end at 256.
    "alexnet": 256, "alexnet_paper": 256,
    # Huang 2017 Table 1 / torchvision num_features: 64 (96 for 161) + k * sum(blocks),
    # halved by each transition; DenseNet-264 (6, 12, 64, 48), k=32: 2688.
    "densenet121": 1024, "densenet161": 2208, "densenet169": 1664, "densenet201": 1920, "densenet264": 2688,
    # DenseNet-BC on CIFAR (Huang 2017 §3): 3 blocks of (L - 4) / 6 bottleneck layers, 2k
    # stem channels, compression 0.5: L100 k12 24 -> 216/108 -> 300/150 -> 342; L190 k40
    # 80 -> 1320/660 -> 1900/950 -> 2190.
    "densenet_bc100_k12": 342, "densenet_bc190_k40": 2190,
    # Chen 2017 Table 1 / cypw/DPNs, timm num_features.
    "dpn68": 832, "dpn92": 2688, "dpn98": 2688, "dpn107": 2688, "dpn131": 2688,
    # Szegedy 2015 Table 1: inception (5b) is 1024 wide.
    "googlenet": 1024,
    # The paper gives no layer widths (Srivastava 2015 §4.1, "thin and deep" after
    # FitNets); these are the last-stage widths of the configurations the highway module
    # documents (40-80-128 and 32-48-64).
    "highway19": 128, "highway32": 64,
    # Ioffe 2015 Fig. 5 (inception 5b: 1024); Szegedy 2016 Table 1 (2048); Szegedy 2017
    # Figs. 9, 15 / keras.applications / timm (Inception-v4 1536, Inception-ResNet-v1 1792,
    # Inception-ResNet-v2 1536).
    "bn_inception": 1024, "inception_v3": 2048, "tv_inception_v3": 2048, "inception_v4": 1536,
    "inception_resnet_v1": 1792, "inception_resnet_v2": 1536, "timm_inception_resnet_v2": 1536,
    # LeCun 1998 §II.B: include_top=False ends at C5, 120 maps.
    "lenet5": 120, "lenet5_paper": 120,
    # Howard 2017 Table 1 (1024); Sandler 2018 Table 2 (1280); Howard 2019 Tables 1-2 /
    # keras.applications and torchvision `features`: the last 1x1 convolution before
    # pooling, 960 (Large) and 576 (Small).
    "mobilenet": 1024, "timm_mobilenet": 1024, "mobilenet_v2": 1280, "tv_mobilenet_v2": 1280,
    "mobilenet_v3_large": 960, "tv_mobilenet_v3_large": 960, "mobilenet_v3_small": 576,
    "tv_mobilenet_v3_small": 576,
    # Zoph 2018 / keras.applications: NASNet-A 4 @ 1056 and 6 @ 4032 (6 states of 4F);
    # AmoebaNet-A (Real 2019 Fig. 4, N=4, F=50): the normal cell concatenates 4 states of
    # 4F = 200 channels in the last stack.
    "nasnet_mobile": 1056, "nasnet_large": 4032, "timm_nasnet_large": 4032, "amoebanet_a": 800,
    # Lin 2014 (authors' Caffe models): the layer before the per-class 1x1 convolution,
    # 192 (CIFAR) and 1024 (ImageNet).
    "nin_cifar10": 192, "nin_cifar100": 192, "nin_imagenet": 1024,
    # He 2015 Table 1 (512 basic, 2048 bottleneck), He 2016 (v2), Xie 2017 Table 1,
    # Zagoruyko 2016 (WRN-50-2 keeps the 2048 outputs), Hu 2018 Table 1.
    "resnet18": 512, "resnet34": 512,
    "resnet50": 2048, "resnet101": 2048, "resnet152": 2048, "tv_resnet50": 2048, "tv_resnet101": 2048,
    "tv_resnet152": 2048, "resnet50_v2": 2048, "resnet101_v2": 2048, "resnet152_v2": 2048,
    "resnext50_32x4d": 2048, "resnext101_32x8d": 2048, "resnext101_64x4d": 2048,
    "wide_resnet50_2": 2048, "wide_resnet101_2": 2048,
    "seresnet50": 2048, "seresnext50_32x4d": 2048, "senet154": 2048,
    # He 2015 §4.2 (16-32-64 maps); He 2016 Table 4 (bottleneck 64 x 4 = 256); Xie 2017
    # §5.3 (ResNeXt-29: 1024 outputs in stage 3); Zagoruyko 2016 Table 1 (64 x k: 640 for
    # WRN-28-10, 256 for k=4); Zhang 2017 (RoR-3 on ResNet-110 and WRN-58-4).
    "resnet20": 64, "resnet32": 64, "resnet44": 64, "resnet56": 64, "resnet110": 64, "resnet1202": 64,
    "preact_resnet164": 256, "preact_resnet1001": 256, "resnext29_8x64d": 1024, "resnext29_16x64d": 1024,
    "wide_resnet28_10": 640, "ror3_resnet110": 64, "ror3_wrn58_4": 256,
    # Zhang 2018 Table 1 (stage 4: 960 for g=3, 1536 for g=8); Ma 2018 Table 5 (conv5:
    # 1024, 2048 for 2x).
    "shufflenet_g3_w1": 960, "shufflenet_g8_w1": 1536, "shufflenet_v2_x0_5": 1024, "shufflenet_v2_x1_0": 1024,
    "shufflenet_v2_x1_5": 1024, "shufflenet_v2_x2_0": 2048,
    # Iandola 2016 Table 1: fire9 is 512 wide; conv10 (one map per class) is the head.
    "squeezenet1_0": 512, "squeezenet1_1": 512,
    # Simonyan 2015 Table 1: the last conv block has 512 maps.
    "vgg11": 512, "vgg11_bn": 512, "vgg13": 512, "vgg13_bn": 512, "vgg16": 512, "vgg16_bn": 512, "vgg19": 512,
    "vgg19_bn": 512,
    # Chollet 2017 Fig. 5: the exit flow ends at 2048.
    "xception": 2048, "timm_xception": 2048,
}  # fmt: skip


def test_registered_names_are_the_families_names():
    assert len(NAMES) == REGISTERED_COUNT == sum(len(names) for names in FAMILY_NAMES.values())
    for family, names in FAMILY_NAMES.items():
        assert keras_archs.list_models(family=family) == sorted(names), family
    assert all(name == name.lower() for name in NAMES)


def test_every_registered_name_has_a_feature_width():
    assert sorted(FEATURE_WIDTHS) == NAMES


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


@pytest.mark.parametrize(
    "name", representatives_here_others_in_the_sweep([name for name in NAMES if name not in BUILT_ONLY_FOR_THE_COUNT])
)
def test_builds_and_runs_at_a_small_input(name):
    """Every model: input_tensor, one channel, custom classes, logits, and its feature width."""
    side = small_side(name)
    inputs = keras.Input(shape=(side, side, 1), name="digits")
    model = keras_archs.get_model(name, input_tensor=inputs, classes=5, classifier_activation=None)
    assert model.inputs[0] is inputs
    assert model.name == name
    logits = infer(model, random_images(side, channels=1, seed=1))
    assert logits.shape == (2, 5)
    assert np.all(np.isfinite(logits))
    assert not np.allclose(logits.sum(axis=1), 1.0), "classifier_activation=None must return logits"

    features = keras_archs.get_model(name, include_top=False, pooling="avg", input_shape=(side, side, 3))
    assert len(features.get_layer("avg_pool").input.shape) == 4
    assert features.output.shape == (None, FEATURE_WIDTHS[name])
    assert not any(layer.name == "predictions" for layer in features.layers)


@pytest.mark.parametrize("name", REPRESENTATIVE_NAMES)
def test_softmax_probabilities(name):
    side = small_side(name)
    model = keras_archs.get_model(name, input_shape=(side, side, 3), classes=3)
    probabilities = infer(model, random_images(side))
    assert probabilities.shape == (2, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("name", REPRESENTATIVE_NAMES)
def test_keras_file_round_trip(name, tmp_path):
    side = small_side(name)
    model = keras_archs.get_model(name, input_shape=(side, side, 1), classes=5, classifier_activation=None)
    images = random_images(side, channels=1, seed=1)
    logits = infer(model, images)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)  # safe_mode on: no code runs at load time
    np.testing.assert_allclose(infer(reloaded, images), logits, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("pooling", ["avg", "max"])
@pytest.mark.parametrize("name", REPRESENTATIVE_NAMES)
def test_pooled_features(name, pooling):
    side = small_side(name)
    model = keras_archs.get_model(name, include_top=False, pooling=pooling, input_shape=(side, side, 3))
    features = infer(model, random_images(side))
    assert features.ndim == 2
    assert features.shape[-1] == model.layers[-2].output.shape[-1]
    assert model.layers[-1].name == f"{pooling}_pool"


@pytest.mark.parametrize("name", representatives_here_others_in_the_sweep(WITH_REFERENCE))
def test_trainable_parameters_equal_reference(name):
    """The trainable count; for the nets built only here, also the classifier's input width."""
    info = keras_archs.model_info(name)
    model = info.build(classes=info.reference.classes)
    count = trainable_count(model)
    pooled_width = model.get_layer("predictions").input.shape[-1] if name in BUILT_ONLY_FOR_THE_COUNT else None
    del model
    gc.collect()  # full-size models hold hundreds of MB; free them before the next test
    assert count == info.reference.params, info.reference.source
    if name in BUILT_ONLY_FOR_THE_COUNT:
        # Their classifier reads the globally pooled feature map ("avg_pool"), the width
        # that test_builds_and_runs_at_a_small_input checks for the other names.
        assert pooled_width == FEATURE_WIDTHS[name]


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
