"""Reference tensors of Xception: timm `legacy_xception` (Cadene's port of the keras model).

Our blocks 2-13 are timm's `block1`-`block12`, whose `rep` Sequential holds ReLU,
SeparableConv2d (`conv1` depthwise, `pointwise`), BatchNorm per separable convolution (the
first block starts without the ReLU). The four projection shortcuts keep the twin's
automatic names (`conv2d`, `batch_normalization`, ..., `_3`), in block order.
"""

from keras_archs.convert.core import layer_map_from_rules

__all__ = ["layer_map"]

# The timm blocks with a projection shortcut, in the order keras numbers them.
_SHORTCUT_BLOCKS = ("block1", "block2", "block3", "block12")


def _rep_index(block, step, offset):
    """Index in timm's `rep` of separable convolution `step` (1-based) of our `block`."""
    relu = 0 if block == 2 else 1  # the first block has no leading ReLU
    return 3 * (step - 1) + relu + offset


def _separable(match):
    block, step = int(match.group(1)), int(match.group(2))
    if block == 14:
        return (f"conv{step + 2}.conv1", f"conv{step + 2}.pointwise")
    prefix = f"block{block - 1}.rep.{_rep_index(block, step, 0)}"
    return (f"{prefix}.conv1", f"{prefix}.pointwise")


def _separable_bn(match):
    block, step = int(match.group(1)), int(match.group(2))
    if block == 14:
        return f"bn{step + 2}"
    return f"block{block - 1}.rep.{_rep_index(block, step, 1)}"


def _shortcut(suffix):
    return lambda match: f"{_SHORTCUT_BLOCKS[int(match.group(1) or 0)]}.{suffix}"


RULES = (
    (r"block1_conv(\d)", r"conv\1"),
    (r"block1_conv(\d)_bn", r"bn\1"),
    (r"block(\d+)_sepconv(\d)", _separable),
    (r"block(\d+)_sepconv(\d)_bn", _separable_bn),
    (r"conv2d(?:_(\d+))?", _shortcut("skip")),
    (r"batch_normalization(?:_(\d+))?", _shortcut("skipbn")),
    (r"predictions", "fc"),
)


def layer_map(model, reference):
    """`{layer name: reference prefix}` for `model` built in `reference`'s form."""
    if reference.constructor != "legacy_xception":
        raise ValueError(f"No Xception mapping for this reference. Received: constructor={reference.constructor!r}")
    return layer_map_from_rules(model, RULES)
