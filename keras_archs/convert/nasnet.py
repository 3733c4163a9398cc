"""timm `nasnetalarge` -> `keras_archs.models.nasnet` (NASNet-A Large).

timm's model is Cadene's port of the TF-slim NASNet-A Large, with one module per cell:
`conv0` (the stem convolution), `cell_stem_0`, `cell_stem_1`, `cell_0` ... `cell_17` and
`reduction_cell_0`, `reduction_cell_1`; the head is `last_linear`. Our cells carry
keras.applications' ids (`stem_1`, `stem_2`, `0` ... `5`, `reduce_6`, `7` ... `12`,
`reduce_12`, `13` ... `18`), so a cell's module follows from its place among the cells of
its kind. Inside a cell:

- `{kind}_conv_1_{id}`, `{kind}_bn_1_{id}`: `conv_1x1.conv`, `conv_1x1.bn` (the previous
  cell's output, after ReLU).
- `adjust_conv_projection_{id}`, `adjust_bn_{id}`: `conv_prev_1x1.conv` / `.bn` (the cell
  two back, projected); `adjust_conv_1_{id}`, `adjust_conv_2_{id}`, `adjust_bn_{id}`:
  `path_1.conv`, `path_2.conv`, `final_path_bn` (the same, halved by the factorized
  reduction).
- `separable_conv_{i}_[bn_]{kind}_{branch}_{id}`: `comb_iter_{node}_{side}.separable_{i}`
  (a depthwise and a pointwise convolution) and `.bn_sep_{i}`.
"""

import re

from keras_archs.convert.core import layer_map_from_rules, weighted_layers

__all__ = ["layer_map"]

_CELL = r"(?P<cell>stem_\d|reduce_\d+|\d+)"
_CELL_INPUT = re.compile(rf"(?P<kind>normal|reduction)_(?P<layer>conv|bn)_1_{_CELL}")
_ADJUST = re.compile(rf"adjust_(?P<layer>conv_projection|conv_1|conv_2|bn)_{_CELL}")
_SEPARABLE = re.compile(
    rf"separable_conv_(?P<index>[12])_(?P<bn>bn_)?(?P<kind>normal|reduction)_(?P<branch>\w+?)_{_CELL}"
)
_ADJUST_MODULES = {"conv_projection": "conv_prev_1x1.conv", "conv_1": "path_1.conv", "conv_2": "path_2.conv"}
# Our branch labels (keras.applications') -> timm's `comb_iter_{node}_{side}`.
_BRANCHES = {
    "normal": {
        "left1": "comb_iter_0_left", "right1": "comb_iter_0_right", "left2": "comb_iter_1_left",
        "right2": "comb_iter_1_right", "left5": "comb_iter_4_left",
    },
    "reduction": {
        "left1": "comb_iter_0_left", "right1": "comb_iter_0_right", "right2": "comb_iter_1_right",
        "right3": "comb_iter_2_right", "left4": "comb_iter_4_left",
    },
}
_FIXED = {"stem_conv1": "conv0.conv", "stem_bn1": "conv0.bn", "predictions": "last_linear"}


def _cell_modules(names):
    """`{our cell id: timm module}`, from the order in which the cells are built."""
    modules, normal, reduction = {}, 0, 0
    for name in names:
        match = _CELL_INPUT.fullmatch(name)
        if match is None or match["layer"] != "conv":
            continue
        cell = match["cell"]
        if cell.startswith("stem_"):
            modules[cell] = f"cell_stem_{int(cell[-1]) - 1}"
        elif cell.startswith("reduce_"):
            modules[cell], reduction = f"reduction_cell_{reduction}", reduction + 1
        else:
            modules[cell], normal = f"cell_{normal}", normal + 1
    return modules


def layer_map(model, reference):
    del reference  # one NASNet of timm
    names = [layer.name for layer in weighted_layers(model)]
    cells = _cell_modules(names)
    # A cell that halves the cell two back has path_1/path_2 and their BN, not conv_prev_1x1.
    factorized = {match["cell"] for match in map(_ADJUST.fullmatch, names) if match and match["layer"] == "conv_1"}

    def cell_input(match):
        return f"{cells[match['cell']]}.conv_1x1.{match['layer']}"

    def adjust(match):
        cell, layer = match["cell"], match["layer"]
        if layer == "bn":
            return f"{cells[cell]}.{'final_path_bn' if cell in factorized else 'conv_prev_1x1.bn'}"
        return f"{cells[cell]}.{_ADJUST_MODULES[layer]}"

    def separable(match):
        branch = f"{cells[match['cell']]}.{_BRANCHES[match['kind']][match['branch']]}"
        if match["bn"]:
            return f"{branch}.bn_sep_{match['index']}"
        convolution = f"{branch}.separable_{match['index']}"
        return (f"{convolution}.depthwise_conv2d", f"{convolution}.pointwise_conv2d")

    return layer_map_from_rules(model, [
        *((re.escape(name), prefix) for name, prefix in _FIXED.items()),
        (_CELL_INPUT.pattern, cell_input), (_ADJUST.pattern, adjust), (_SEPARABLE.pattern, separable),
    ])
