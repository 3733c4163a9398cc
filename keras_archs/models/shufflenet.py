"""ShuffleNet (Zhang et al. 2018) and ShuffleNet v2 (Ma et al. 2018).

- "ShuffleNet: An Extremely Efficient Convolutional Neural Network for Mobile Devices",
  CVPR 2018, arXiv 1707.01083: units of 1x1 group convolutions, a channel shuffle and a
  3x3 depthwise convolution (Fig. 2), in three stages of 4, 8 and 4 units whose widths
  depend on the number of groups g (Table 1); `width_multiplier` scales every width
  ("ShuffleNet s x", §4.1.1). Counts as osmr/imgclsmob `shufflenet_g*_w*`.
- "ShuffleNet V2: Practical Guidelines for Efficient CNN Architecture Design",
  ECCV 2018, arXiv 1807.11164: channel split instead of group convolutions (Fig. 3c/d),
  Table 5 widths for 0.5x, 1x, 1.5x and 2x: the same function as torchvision's
  `shufflenet_v2_x*` (tests_convert proves it with converted weights).

Both use PyTorch-style symmetric padding and BatchNorm settings (epsilon 1e-5, momentum
0.9 in Keras' convention), so converted torchvision/imgclsmob weights compute the same.
"""

import numbers

from keras_archs.checks import check_choice
from keras_archs.layers.conv import conv_bn_act
from keras_archs.layers.heads import classifier_head
from keras_archs.layers.norm import TORCH_BN
from keras_archs.layers.padding import torch_stem
from keras_archs.layers.shufflenet import shuffle_unit, shuffle_unit_v2
from keras_archs.models.base import ApplicationArguments, build_model
from keras_archs.registry import InputSpec, Paper, PretrainedWeights, Reference, TorchReference, register_model

__all__ = ["ShuffleNet", "ShuffleNetV2"]

PAPER_V1 = Paper(
    title="ShuffleNet: An Extremely Efficient Convolutional Neural Network for Mobile Devices",
    authors="X. Zhang, X. Zhou, M. Lin, J. Sun",
    year=2018,
    arxiv="1707.01083",
    venue="CVPR 2018",
)
PAPER_V2 = Paper(
    title="ShuffleNet V2: Practical Guidelines for Efficient CNN Architecture Design",
    authors="N. Ma, X. Zhang, H.-T. Zheng, J. Sun",
    year=2018,
    arxiv="1807.11164",
    venue="ECCV 2018",
)
# Stride 32 in all: stem, pooling and three stride-2 stages.
INPUT_SPEC = InputSpec(default_size=224, min_size=32)
# Only the stem still reads this name; it goes when the stem becomes `layers.padding.torch_stem`.
_BN = TORCH_BN

STAGE_REPEATS = (4, 8, 4)
STEM_FILTERS = 24
# ShuffleNet Table 1: output channels of stages 2, 3, 4 for each group count.
V1_STAGE_FILTERS = {
    1: (144, 288, 576),
    2: (200, 400, 800),
    3: (240, 480, 960),
    4: (272, 544, 1088),
    8: (384, 768, 1536),
}
# ShuffleNet v2 Table 5: output channels of stages 2, 3, 4 and conv5.
V2_WIDTHS = {
    "0.5": (48, 96, 192, 1024),
    "1.0": (116, 232, 464, 1024),
    "1.5": (176, 352, 704, 1024),
    "2.0": (244, 488, 976, 2048),
}


def _stem_layers(x, filters):
    """conv1 (3x3/2, BN, ReLU) and a 3x3/2 max pooling, both padded by one pixel."""
    return torch_stem(x, filters, 3, **_BN)


def _v1_widths(groups, width_multiplier):
    """Stem and stage widths, checked against the group convolutions before any layer exists."""
    check_choice(groups, tuple(V1_STAGE_FILTERS), "groups")
    if (
        isinstance(width_multiplier, bool)
        or not isinstance(width_multiplier, numbers.Real)
        or not width_multiplier > 0
    ):
        raise ValueError(f"width_multiplier must be a positive number. Received: width_multiplier={width_multiplier!r}")
    stem = int(STEM_FILTERS * width_multiplier)
    stages = tuple(int(filters * width_multiplier) for filters in V1_STAGE_FILTERS[groups])
    in_filters = stem
    for filters in stages:
        bottleneck = filters // 4
        if stem < 1 or bottleneck % groups or (filters - in_filters) % groups or filters <= in_filters:
            raise ValueError(
                f"width_multiplier gives stage widths {stages} that {groups} groups cannot split. "
                f"Received: width_multiplier={width_multiplier!r}"
            )
        in_filters = filters
    return stem, stages


# Zhang 2018, Table 1, last row: complexity (MFLOPs, i.e. multiply-adds) of the 1x
# networks for each group count.
V1_PAPER_MMACS = {1: 143, 2: 140, 3: 137, 4: 133, 8: 137}


def _register_v1(groups, width_multiplier, params, suffix="w1"):
    gmacs = V1_PAPER_MMACS[groups] / 1e3 if width_multiplier == 1.0 else None
    return register_model(
        f"shufflenet_g{groups}_{suffix}",
        family="shufflenet",
        paper=PAPER_V1,
        input_spec=INPUT_SPEC,
        reference=Reference(
            params=params, source=f"IMG shufflenet_g{groups}_{suffix}", gmacs=gmacs,
            gmacs_source="Zhang 2018, Table 1 (complexity row)" if gmacs else "",
        ),
        preprocessing="torch",
        preset="shufflenet",
        defaults={"groups": groups, "width_multiplier": width_multiplier},
    )


def _shufflenet_v1(arguments, *, groups, width_multiplier):
    stem_filters, stage_filters = _v1_widths(groups, width_multiplier)

    def features(x):
        x = _stem_layers(x, stem_filters)
        for stage, (filters, repeats) in enumerate(zip(stage_filters, STAGE_REPEATS), start=2):
            for block in range(1, repeats + 1):
                x = shuffle_unit(
                    x,
                    filters,
                    groups=groups,
                    strides=2 if block == 1 else 1,
                    # §3.3: stage 2's first pointwise convolution is not grouped, its
                    # input having few channels.
                    first_groups=1 if (stage, block) == (2, 1) else None,
                    name=f"stage{stage}_block{block}",
                )
        return x

    return build_model(
        features=features, head=classifier_head, input_spec=INPUT_SPEC, arguments=arguments,
        default_name=f"shufflenet_g{groups}",
    )


# Registered: the two networks the paper compares most (g=3 and g=8 at 1x). Every other
# group count and width is `ShuffleNet(groups=..., width_multiplier=...)`; the tests check
# their imgclsmob counts without adding each to the registry-wide suite.
@_register_v1(3, 1.0, 1_865_728)
@_register_v1(8, 1.0, 2_434_768)
def ShuffleNet(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
    classes=1000, classifier_activation="softmax", name=None, groups=3, width_multiplier=1.0,
):
    """ShuffleNet (Zhang et al. 2018, Table 1) with g groups and a width multiplier.

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name: as in `keras.applications` (see
            `keras_archs.models.base.build_model`).
        groups: groups of the 1x1 convolutions: 1, 2, 3, 4 or 8.
        width_multiplier: scales every width ("ShuffleNet 0.5x" is 0.5); the scaled
            widths must still split into `groups`.

    Returns:
        A `keras.Model`.
    """
    return _shufflenet_v1(ApplicationArguments.of(locals()), groups=groups, width_multiplier=width_multiplier)


# torchvision's IMAGENET1K_V1 weights (url and acc@1 of torchvision.models.get_weight;
# tests_convert/test_weights_sources.py compares them), by width. The 1.5x and 2.0x were
# trained later by torchvision and are evaluated after a resize to 232, not 256.
TORCHVISION_CHECKPOINTS = {
    "0.5": ("ShuffleNet_V2_X0_5_Weights.IMAGENET1K_V1", "shufflenetv2_x0.5-f707e7126e.pth", 256),
    "1.0": ("ShuffleNet_V2_X1_0_Weights.IMAGENET1K_V1", "shufflenetv2_x1-5666bf0f80.pth", 256),
    "1.5": ("ShuffleNet_V2_X1_5_Weights.IMAGENET1K_V1", "shufflenetv2_x1_5-3c479a10.pth", 232),
    "2.0": ("ShuffleNet_V2_X2_0_Weights.IMAGENET1K_V1", "shufflenetv2_x2_0-8be3c8ee.pth", 232),
}


def _register_v2(width, params, gmacs, top1):
    suffix = width.replace(".", "_")
    checkpoint, file_name, resize_size = TORCHVISION_CHECKPOINTS[width]
    return register_model(
        f"shufflenet_v2_x{suffix}",
        family="shufflenet",
        paper=PAPER_V2,
        input_spec=INPUT_SPEC,
        reference=Reference(
            params=params, source=f"TV shufflenet_v2_x{suffix}", gmacs=gmacs,
            gmacs_source=f"TV shufflenet_v2_x{suffix}", top1=top1, top1_source=f"TV shufflenet_v2_x{suffix}",
        ),
        preprocessing="torch",
        # Our choice: ShuffleNet v2 trains with its predecessor's recipe (Zhang 2018 §4).
        preset="shufflenet",
        defaults={"width": width},
        torch_reference=TorchReference(
            library="torchvision", constructor=f"shufflenet_v2_x{suffix}", mapping="shufflenet"
        ),
        # torchvision publishes the same acc@1 for the checkpoint as the reference top-1 above.
        weights=(PretrainedWeights.from_torchvision(
            checkpoint, f"https://download.pytorch.org/models/{file_name}", top1, resize_size=resize_size,
        ),),
    )


def _shufflenet_v2(arguments, *, width):
    check_choice(width, tuple(V2_WIDTHS), "width")
    *stage_filters, last_filters = V2_WIDTHS[width]

    def features(x):
        x = _stem_layers(x, STEM_FILTERS)
        for stage, (filters, repeats) in enumerate(zip(stage_filters, STAGE_REPEATS), start=2):
            for block in range(1, repeats + 1):
                x = shuffle_unit_v2(x, filters, strides=2 if block == 1 else 1, name=f"stage{stage}_block{block}")
        return conv_bn_act(x, last_filters, 1, name="conv5", **TORCH_BN)

    registry_name = f"shufflenet_v2_x{width.replace('.', '_')}"
    return build_model(
        features=features, head=classifier_head, input_spec=INPUT_SPEC, arguments=arguments,
        default_name=registry_name, registry_name=registry_name,
    )


@_register_v2("0.5", 1_366_792, 0.040, 60.552)
@_register_v2("1.0", 2_278_604, 0.145, 69.362)
@_register_v2("1.5", 3_503_624, 0.296, 72.996)
@_register_v2("2.0", 7_393_996, 0.583, 76.230)
def ShuffleNetV2(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
    classes=1000, classifier_activation="softmax", name=None, width="1.0",
):
    """ShuffleNet v2 (Ma et al. 2018, Table 5).

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name: as in `keras.applications`.
        width: "0.5", "1.0", "1.5" or "2.0", the "ShuffleNet v2 Nx" of Table 5.

    Returns:
        A `keras.Model`.
    """
    return _shufflenet_v2(ApplicationArguments.of(locals()), width=width)
