"""Reference tensors of the Inception line: timm `inception_v4` and `inception_resnet_v2`,
torchvision `inception_v3`.

Inception-v4 has structured layer names (`inception_a1_b3_2_conv`: block, branch, step),
which map onto timm's modules by position (`features.6.branch2.1.conv`). Inception-v3 and
Inception-ResNet-v2 keep the keras.applications twins' automatic names (`conv2d_17`,
`batch_normalization_17`) in keras' creation order, which is also the order in which the
references define their convolutions; the n-th convolution takes the n-th reference
convolution of the lists below.
"""

import re

from keras_archs.convert.core import layer_map_from_rules, weighted_layers

__all__ = ["layer_map"]


def _numbered(rules_for):
    """Rules for keras' automatic `conv2d[_n]` / `batch_normalization[_n]` names."""
    def convolution(suffix):
        return lambda match: f"{rules_for[int(match.group(1) or 0)]}.{suffix}"

    return [(r"conv2d(?:_(\d+))?", convolution("conv")), (r"batch_normalization(?:_(\d+))?", convolution("bn"))]


# --- timm inception_v4 ---------------------------------------------------------------------

def _v4_block_index(block):
    """The index in timm's `features` of one of our block names."""
    fixed = {"mixed_3a": 3, "mixed_4a": 4, "mixed_5a": 5, "reduction_a": 10, "reduction_b": 18}
    if block in fixed:
        return fixed[block]
    kind, number = block[len("inception_")], int(block[len("inception_a"):])
    return {"a": 5, "b": 10, "c": 18}[kind] + number


def _v4_map(model):
    steps = {}  # (block, branch) -> its number of steps (pools count: timm's Sequential has them)
    pattern = re.compile(r"(\w+?)_b(\d+)_(\d+)[ab]?_(?:conv|bn)")
    for layer in weighted_layers(model):
        match = pattern.fullmatch(layer.name)
        if match:
            key = (match.group(1), int(match.group(2)))
            steps[key] = max(steps.get(key, 0), int(match.group(3)))

    def branch_step(match):
        block, number, step, part, kind = match.groups()
        number, step = int(number), int(step)
        index = _v4_block_index(block)
        if block in ("mixed_3a", "mixed_5a"):
            module = "conv"  # Mixed3a / Mixed5a: one convolution beside the max pool
        elif block.startswith("inception_c") and number in (2, 3):
            module = f"branch{number - 1}_{step - 1}{part}"  # InceptionC's forked branches: flat attributes
        elif steps[block, number] == 1:
            module = f"branch{number - 1}"
        else:
            module = f"branch{number - 1}.{step - 1}"
        return f"features.{index}.{module}.{kind}"

    return layer_map_from_rules(model, [
        (r"stem_(\d)_(conv|bn)", lambda match: f"features.{int(match.group(1)) - 1}.{match.group(2)}"),
        (r"(\w+?)_b(\d+)_(\d+)([ab]?)_(conv|bn)", branch_step),
        (r"predictions", "last_linear"),
    ])


# --- torchvision inception_v3 --------------------------------------------------------------

_TV_V3_BLOCKS = (
    ("Mixed_5b", "a"), ("Mixed_5c", "a"), ("Mixed_5d", "a"), ("Mixed_6a", "b"), ("Mixed_6b", "c"),
    ("Mixed_6c", "c"), ("Mixed_6d", "c"), ("Mixed_6e", "c"), ("Mixed_7a", "d"), ("Mixed_7b", "e"), ("Mixed_7c", "e"),
)
# torchvision's InceptionA-E: the convolutions in the order the blocks define (and keras builds) them.
_TV_V3_BRANCHES = {
    "a": ("branch1x1", "branch5x5_1", "branch5x5_2", "branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3",
          "branch_pool"),
    "b": ("branch3x3", "branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"),
    "c": ("branch1x1", *(f"branch7x7_{i}" for i in range(1, 4)), *(f"branch7x7dbl_{i}" for i in range(1, 6)),
          "branch_pool"),
    "d": ("branch3x3_1", "branch3x3_2", *(f"branch7x7x3_{i}" for i in range(1, 5))),
    "e": ("branch1x1", "branch3x3_1", "branch3x3_2a", "branch3x3_2b", "branch3x3dbl_1", "branch3x3dbl_2",
          "branch3x3dbl_3a", "branch3x3dbl_3b", "branch_pool"),
}
TV_V3_CONVOLUTIONS = (
    "Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "Conv2d_3b_1x1", "Conv2d_4a_3x3",
    *(f"{block}.{branch}" for block, kind in _TV_V3_BLOCKS for branch in _TV_V3_BRANCHES[kind]),
)


def _tv_v3_map(model):
    return layer_map_from_rules(model, [
        *_numbered(TV_V3_CONVOLUTIONS),
        # The auxiliary head (aux_logits=True), for checkpoints that carry `AuxLogits`.
        (r"aux_conv1_(conv|bn)", r"AuxLogits.conv0.\1"),
        (r"aux_fc_(conv|bn)", r"AuxLogits.conv1.\1"),
        (r"aux_predictions", "AuxLogits.fc"),
        (r"predictions", "fc"),
    ])


# --- timm inception_resnet_v2 --------------------------------------------------------------

_IR_V2_BRANCHES = {
    "mixed_5b": ("branch0", "branch1.0", "branch1.1", "branch2.0", "branch2.1", "branch2.2", "branch3.1"),
    "block35": ("branch0", "branch1.0", "branch1.1", "branch2.0", "branch2.1", "branch2.2"),
    "mixed_6a": ("branch0", "branch1.0", "branch1.1", "branch1.2"),
    "block17": ("branch0", "branch1.0", "branch1.1", "branch1.2"),
    "mixed_7a": ("branch0.0", "branch0.1", "branch1.0", "branch1.1", "branch2.0", "branch2.1", "branch2.2"),
    "block8": ("branch0", "branch1.0", "branch1.1", "branch1.2"),
}
# (our block prefix, timm module, blocks): timm keeps the last block8 (linear, unscaled) apart.
_IR_V2_REPEATS = {"block35": ("repeat", 10), "block17": ("repeat_1", 20), "block8": ("repeat_2", 9)}


def _ir_v2_module(prefix, number):
    """timm's module of our residual block `{prefix}_{number}`."""
    module, count = _IR_V2_REPEATS[prefix]
    return "block8" if number > count else f"{module}.{number - 1}"


def _ir_v2_convolutions():
    yield from ("conv2d_1a", "conv2d_2a", "conv2d_2b", "conv2d_3b", "conv2d_4a")
    yield from (f"mixed_5b.{branch}" for branch in _IR_V2_BRANCHES["mixed_5b"])
    for prefix, reduction in (("block35", "mixed_6a"), ("block17", "mixed_7a"), ("block8", None)):
        for number in range(1, 11 if prefix == "block8" else _IR_V2_REPEATS[prefix][1] + 1):
            yield from (f"{_ir_v2_module(prefix, number)}.{branch}" for branch in _IR_V2_BRANCHES[prefix])
        if reduction:
            yield from (f"{reduction}.{branch}" for branch in _IR_V2_BRANCHES[reduction])


def _ir_v2_map(model):
    return layer_map_from_rules(model, [
        *_numbered(tuple(_ir_v2_convolutions())),
        (r"(block35|block17|block8)_(\d+)_conv",
         lambda match: f"{_ir_v2_module(match.group(1), int(match.group(2)))}.conv2d"),
        (r"conv_7b", "conv2d_7b.conv"),
        (r"conv_7b_bn", "conv2d_7b.bn"),
        (r"predictions", "classif"),
    ])


_MAPS = {"inception_v4": _v4_map, "inception_v3": _tv_v3_map, "inception_resnet_v2": _ir_v2_map}


def layer_map(model, reference):
    """`{layer name: reference prefix}` for `model` built in `reference`'s form."""
    if reference.constructor not in _MAPS:
        raise ValueError(
            f"No Inception mapping for this reference; known: {sorted(_MAPS)}. "
            f"Received: constructor={reference.constructor!r}"
        )
    return _MAPS[reference.constructor](model)
