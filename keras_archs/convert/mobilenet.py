"""timm `mobilenetv1_100`, `tf_mobilenetv3_*_100` and torchvision `mobilenet_v2`, `mobilenet_v3_*`
-> `keras_archs.models.mobilenet`.

Our layers keep keras.applications' names in every implementation: MobileNet v1
`conv1`, `conv_dw_{i}`, `conv_pw_{i}` (i from 1); v2 `Conv1`, `expanded_conv_*`,
`block_{i}_{expand,depthwise,project}`, `Conv_1`; v3 `conv`, `expanded_conv_*`,
`expanded_conv_{i}_*`, `conv_1`, `conv_2`, `logits`. The references number their blocks:

- timm (`EfficientNet`, `MobileNetV3`): `conv_stem`, `bn1`, then `blocks.{stage}.{index}`,
  where a depthwise-separable block has `conv_dw`, `bn1`, `se`, `conv_pw`, `bn2` and an
  inverted residual `conv_pw`, `bn1`, `conv_dw`, `bn2`, `se`, `conv_pwl`, `bn3`; the last
  1x1 convolution of MobileNetV3 is a block of its own stage (`conv`, `bn1`); `conv_head`,
  `classifier`.
- torchvision: one `features` sequence (the stem, one entry per block, the last 1x1
  convolution), each convolution a `Conv2dNormActivation` (`.0` the convolution, `.1` the
  BatchNorm); the layers of a block are numbered in order, so an index depends on whether
  the block expands and has squeeze-excite.
"""

import re

from keras_archs.convert.core import layer_map_from_rules, weighted_layers

__all__ = ["layer_map"]

# Blocks per stage of timm's models (the stage a block falls in names its tensors).
_TIMM_STAGES = {
    "mobilenetv1_100": (1, 2, 2, 6, 2),
    "tf_mobilenetv3_large_100": (1, 2, 3, 4, 2, 3),
    "tf_mobilenetv3_small_100": (1, 2, 3, 2, 3),
}
_V1_BLOCK = re.compile(r"conv_(dw|pw)_(\d+)(_bn)?")
# (block prefix, layer) of a v2/v3 inverted residual; block 0's prefix is "expanded_conv_".
_V2_BLOCK = re.compile(r"(block_(\d+)_|expanded_conv_)(expand|depthwise|project)(_BN)?")
_V3_BLOCK = re.compile(
    r"expanded_conv_(?:(\d+)_)?(expand|depthwise|squeeze_excite_conv|squeeze_excite_conv_1|project)(_bn)?"
)


def _stage_index(stages, block):
    """`"{stage}.{index}"` of the `block`-th (from 0) block for `stages` blocks per stage."""
    for stage, count in enumerate(stages):
        if block < count:
            return f"{stage}.{block}"
        block -= count
    raise ValueError(f"The reference has {sum(stages)} blocks; no block {block + sum(stages)}")


_V1_MODULES = {("dw", None): "conv_dw", ("dw", "_bn"): "bn1", ("pw", None): "conv_pw", ("pw", "_bn"): "bn2"}


def _timm_mobilenet_v1(model, reference):
    stages = _TIMM_STAGES[reference.constructor]

    def block(match):
        kind, number, bn = match.groups()
        return f"blocks.{_stage_index(stages, int(number) - 1)}.{_V1_MODULES[kind, bn]}"

    return layer_map_from_rules(model, [
        ("conv1", "conv_stem"), ("conv1_bn", "bn1"), ("conv_preds", "classifier"), (_V1_BLOCK.pattern, block),
    ])


def _v3_blocks(model):
    """`{block number: set of its layer kinds}` of a MobileNetV3 model."""
    blocks = {}
    for layer in weighted_layers(model):
        match = _V3_BLOCK.fullmatch(layer.name)
        if match:
            blocks.setdefault(int(match.group(1) or 0), set()).add(match.group(2))
    return blocks


_SEPARABLE = {"depthwise": "conv_dw", "depthwise_bn": "bn1", "project": "conv_pw", "project_bn": "bn2"}
_INVERTED = {
    "expand": "conv_pw", "expand_bn": "bn1", "depthwise": "conv_dw", "depthwise_bn": "bn2",
    "project": "conv_pwl", "project_bn": "bn3",
}
_SQUEEZE = {"squeeze_excite_conv": "se.conv_reduce", "squeeze_excite_conv_1": "se.conv_expand"}


def _timm_mobilenet_v3(model, reference):
    stages = _TIMM_STAGES[reference.constructor]
    blocks = _v3_blocks(model)
    head = f"blocks.{len(stages)}.0"

    def block(match):
        number, kind, bn = int(match.group(1) or 0), match.group(2), match.group(3) or ""
        # timm builds a block without expansion as its depthwise-separable block.
        modules = {**(_INVERTED if "expand" in blocks[number] else _SEPARABLE), **_SQUEEZE}
        return f"blocks.{_stage_index(stages, number)}.{modules[kind + bn]}"

    return layer_map_from_rules(model, [
        ("conv", "conv_stem"), ("conv_bn", "bn1"), ("conv_1", f"{head}.conv"), ("conv_1_bn", f"{head}.bn1"),
        ("conv_2", "conv_head"), ("logits", "classifier"), (_V3_BLOCK.pattern, block),
    ])


def _torchvision_mobilenet_v2(model):
    names = [layer.name for layer in weighted_layers(model)]
    last = sum(name.endswith("depthwise") for name in names) + 1

    def block(match):
        prefix, number, kind, bn = match.groups()
        # `conv` is [expand], depthwise (each a Conv2dNormActivation), project conv, project BN.
        steps = ["expand", "depthwise"] if f"{prefix}expand" in names else ["depthwise"]
        if kind == "project":
            module = f"conv.{len(steps) + (1 if bn else 0)}"
        else:
            module = f"conv.{steps.index(kind)}.{1 if bn else 0}"
        return f"features.{int(number or 0) + 1}.{module}"

    return layer_map_from_rules(model, [
        ("Conv1", "features.0.0"), ("bn_Conv1", "features.0.1"), ("Conv_1", f"features.{last}.0"),
        ("Conv_1_bn", f"features.{last}.1"), ("predictions", "classifier.1"), (_V2_BLOCK.pattern, block),
    ])


def _torchvision_mobilenet_v3(model):
    blocks = _v3_blocks(model)
    last = len(blocks) + 1

    def block(match):
        number, kind, bn = int(match.group(1) or 0), match.group(2), match.group(3)
        kinds = blocks[number]
        # `block` is [expand], depthwise, [squeeze-excite], project, in that order.
        steps = [step for step in ("expand", "depthwise") if step in kinds]
        steps += ["squeeze_excite"] if "squeeze_excite_conv" in kinds else []
        steps.append("project")
        if kind.startswith("squeeze_excite"):
            module = f"{steps.index('squeeze_excite')}.{'fc2' if kind.endswith('_1') else 'fc1'}"
        else:
            module = f"{steps.index(kind)}.{1 if bn else 0}"
        return f"features.{number + 1}.block.{module}"

    return layer_map_from_rules(model, [
        ("conv", "features.0.0"), ("conv_bn", "features.0.1"), ("conv_1", f"features.{last}.0"),
        ("conv_1_bn", f"features.{last}.1"), ("conv_2", "classifier.0"), ("logits", "classifier.3"),
        (_V3_BLOCK.pattern, block),
    ])


def layer_map(model, reference):
    if reference.library == "timm":
        if reference.constructor.startswith("mobilenetv1"):
            return _timm_mobilenet_v1(model, reference)
        return _timm_mobilenet_v3(model, reference)
    if reference.constructor == "mobilenet_v2":
        return _torchvision_mobilenet_v2(model)
    return _torchvision_mobilenet_v3(model)
