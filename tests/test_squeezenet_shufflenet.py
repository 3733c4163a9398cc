"""SqueezeNet and ShuffleNet v2: which torchvision tensors each layer takes."""

import pytest

import keras_archs
from keras_archs.convert import layer_map


def _mapping(name, **options):
    model = keras_archs.get_model(name, **options)
    return layer_map(model, keras_archs.model_info(name).torch_reference), model


@pytest.mark.parametrize(
    "name, fire_indices",
    [
        # torchvision's `features`: conv1, ReLU, pool (0-2), Fire modules with the other two
        # poolings between them: after fire4 and fire8 (v1.0), fire3 and fire5 (v1.1).
        ("squeezenet1_0", (3, 4, 5, 7, 8, 9, 10, 12)),
        ("squeezenet1_1", (3, 4, 6, 7, 9, 10, 11, 12)),
    ],
)
def test_squeezenet_fire_modules_take_torchvisions_feature_indices(name, fire_indices):
    mapping, model = _mapping(name)
    assert keras_archs.model_info(name).torch_reference.call == f"torchvision.models.{name}()"
    for fire, index in zip(range(2, 10), fire_indices):
        assert [mapping[f"fire{fire}_{part}"] for part in ("squeeze1x1", "expand1x1", "expand3x3")] == [
            f"features.{index}.{module}" for module in ("squeeze", "expand1x1", "expand3x3")
        ]
    assert (mapping["conv1"], mapping["conv10"]) == ("features.0", "classifier.1")
    assert len(mapping) == len([layer for layer in model.layers if layer.weights])


@pytest.mark.parametrize("width", ["0_5", "1_0", "1_5", "2_0"])
def test_shufflenet_v2_names_torchvisions_model(width):
    reference = keras_archs.model_info(f"shufflenet_v2_x{width}").torch_reference
    assert reference.call == f"torchvision.models.shufflenet_v2_x{width}()"


def test_shufflenet_v2_units_take_torchvisions_branch_indices():
    mapping, model = _mapping("shufflenet_v2_x0_5", input_shape=(32, 32, 3))
    # branch1 (stride 2 only): depthwise 0, BN 1, 1x1 2, BN 3.
    assert [mapping[f"stage3_block1_branch1_{part}"] for part in ("1_dwconv", "1_bn", "2_conv", "2_bn")] == [
        f"stage3.0.branch1.{index}" for index in (0, 1, 2, 3)
    ]
    # branch2: 1x1 0, BN 1, (ReLU 2), depthwise 3, BN 4, 1x1 5, BN 6.
    parts = ("1_conv", "1_bn", "2_dwconv", "2_bn", "3_conv", "3_bn")
    assert [mapping[f"stage4_block4_branch2_{part}"] for part in parts] == [
        f"stage4.3.branch2.{index}" for index in (0, 1, 3, 4, 5, 6)
    ]
    assert [mapping[name] for name in ("conv1_conv", "conv1_bn", "conv5_conv", "conv5_bn", "predictions")] == [
        "conv1.0", "conv1.1", "conv5.0", "conv5.1", "fc",
    ]
    assert "stage2_block2_branch1_1_dwconv" not in mapping  # stride-1 units have no branch1
    assert len(set(mapping.values())) == len(mapping) == len([layer for layer in model.layers if layer.weights])
