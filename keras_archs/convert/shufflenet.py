"""torchvision `shufflenet_v2_x0_5` ... `x2_0` -> `keras_archs.models.shufflenet.ShuffleNetV2`.

torchvision's `InvertedResidual` holds two `nn.Sequential`s: `branch1` (stride 2 only:
depthwise 0, BN 1, 1x1 2, BN 3) and `branch2` (1x1 0, BN 1, depthwise 3, BN 4, 1x1 5,
BN 6); our units name the same layers `branch{1,2}_{step}`.
"""

from keras_archs.convert.core import layer_map_from_rules

__all__ = ["layer_map"]

# (branch, step, layer kind) -> index in torchvision's Sequential.
_UNIT_INDEX = {
    ("1", "1", "dwconv"): 0, ("1", "1", "bn"): 1, ("1", "2", "conv"): 2, ("1", "2", "bn"): 3,
    ("2", "1", "conv"): 0, ("2", "1", "bn"): 1, ("2", "2", "dwconv"): 3, ("2", "2", "bn"): 4,
    ("2", "3", "conv"): 5, ("2", "3", "bn"): 6,
}


def _unit(match):
    stage, block, branch, step, kind = match.groups()
    return f"stage{stage}.{int(block) - 1}.branch{branch}.{_UNIT_INDEX[branch, step, kind]}"


def layer_map(model, reference):
    del reference  # the four widths share one layout
    return layer_map_from_rules(model, [
        (r"(conv1|conv5)_conv", r"\1.0"),
        (r"(conv1|conv5)_bn", r"\1.1"),
        (r"stage(\d)_block(\d+)_branch([12])_(\d)_(conv|dwconv|bn)", _unit),
        ("predictions", "fc"),
    ])
