"""Reference tensor names for the Dual Path Networks (timm's `dpn68` ... `dpn131`).

timm keeps cypw's MXNet names in one `features` sequence: the stem `conv1_1` (`conv`,
`bn`), blocks `conv{stage}_{block}` with the projection `c1x1_w_s1` (stage 2, stride 1) or
`c1x1_w_s2` (strided stages) and the bottleneck `c1x1_a`, `c3x3_b`, `c1x1_c`, each a `bn`
then a `conv`; the final `conv5_bn_ac.bn`, and the classifier `classifier` (a 1x1
convolution on the pooled map).

Our layers: `conv1_conv`, `conv1_bn`, `conv{stage}_block{block}_{k}_conv` / `_bn` with
k = 0 the projection and 1, 2, 3 the bottleneck, `bn` and `predictions`.
"""

from keras_archs.convert.core import layer_map_from_rules

__all__ = ["layer_map"]

_BOTTLENECK = {"1": "c1x1_a", "2": "c3x3_b", "3": "c1x1_c"}


def _projection(stage):
    # Only stage 2's projection keeps the resolution.
    return "c1x1_w_s1" if stage == 2 else "c1x1_w_s2"


RULES = [
    (r"conv1_(conv|bn)", r"features.conv1_1.\1"),
    (
        r"conv(\d+)_block(\d+)_0_(conv|bn)",
        lambda m: f"features.conv{m.group(1)}_{m.group(2)}.{_projection(int(m.group(1)))}.{m.group(3)}",
    ),
    (
        r"conv(\d+)_block(\d+)_([1-3])_(conv|bn)",
        lambda m: f"features.conv{m.group(1)}_{m.group(2)}.{_BOTTLENECK[m.group(3)]}.{m.group(4)}",
    ),
    (r"bn", "features.conv5_bn_ac.bn"),
    (r"predictions", "classifier"),
]


def layer_map(model, reference):
    """`{layer name: reference prefix}` for a DPN built as timm's."""
    del reference  # timm is the only reference of this family
    return layer_map_from_rules(model, RULES)
