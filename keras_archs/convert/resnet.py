"""Reference tensor names for the ImageNet ResNets, ResNeXts, Wide ResNets and SE-Nets.

torchvision's `resnet*`, `resnext*` and `wide_resnet*` name a unit `layer{stage - 1}.{unit - 1}`
with `conv1`..`conv3`, `bn1`..`bn3` and the projection `downsample.0` (convolution) and
`downsample.1` (BN); the stem is `conv1`, `bn1`, the classifier `fc`. timm's `legacy_se*`
(Cadene's SENet) names its units the same way, adds `se_module.fc1` and `se_module.fc2`, and
calls the stem `layer0.conv1`, `layer0.bn1` (`conv1`..`conv3` in SENet-154's three-conv stem)
and the classifier `last_linear`.

Our layers: `conv1_conv`, `conv1_bn` (`conv1_{k}_conv`, `conv1_{k}_bn` in a three-conv stem),
`conv{stage}_block{unit}_{k}_conv` / `_bn` (k = 0 the projection shortcut), `_se_conv`,
`_se_conv_1`, `predictions`.
"""

from keras_archs.convert.core import layer_map_from_rules

__all__ = ["layer_map"]

_UNIT = r"conv(\d+)_block(\d+)"


def _unit(match):
    return f"layer{int(match.group(1)) - 1}.{int(match.group(2)) - 1}"


def _rules(stem, classifier):
    return [
        (r"conv1_(conv|bn)", lambda m: f"{stem}{m.group(1)}1"),
        (r"conv1_(\d)_(conv|bn)", lambda m: f"{stem}{m.group(2)}{m.group(1)}"),
        (_UNIT + r"_0_conv", lambda m: f"{_unit(m)}.downsample.0"),
        (_UNIT + r"_0_bn", lambda m: f"{_unit(m)}.downsample.1"),
        (_UNIT + r"_([1-3])_(conv|bn)", lambda m: f"{_unit(m)}.{m.group(4)}{m.group(3)}"),
        (_UNIT + r"_se_conv", lambda m: f"{_unit(m)}.se_module.fc1"),
        (_UNIT + r"_se_conv_1", lambda m: f"{_unit(m)}.se_module.fc2"),
        (r"predictions", classifier),
    ]


def layer_map(model, reference):
    """`{layer name: reference prefix}` for a ResNet-family model in `reference`'s form."""
    if reference.library == "timm":
        # timm's legacy SENet (Cadene's port): the stem lives in `layer0`.
        return layer_map_from_rules(model, _rules("layer0.", "last_linear"))
    return layer_map_from_rules(model, _rules("", "fc"))
