"""Cells from genotypes: the search space of NASNet (Zoph et al. 2018) and AmoebaNet (Real et al. 2019).

"Learning Transferable Architectures for Scalable Image Recognition" (Zoph, Vasudevan,
Shlens and Le, CVPR 2018, arXiv 1707.07012) searched for two cells, a normal cell and a
reduction cell, each made of B = 5 nodes; every node applies one operation to each of two
earlier hidden states and adds the results (§3, Fig. 3). "Regularized Evolution for Image
Classifier Architecture Search" (Real, Aggarwal, Huang and Le, AAAI 2019, arXiv
1802.01548) searched the same space by evolution. The found networks differ only in
data: a `Genotype`.

Hidden state indices: 0 is the output of the cell two back (`p`, adjusted to this cell's
shape and width), 1 the output of the previous cell (`h`, after ReLU, 1x1 convolution
and BN), 2 + k the output of node k. In a reduction cell the operations that read a cell
input (0 or 1) have stride 2.

Layer names follow keras.applications NASNet (`normal_left1_3`, `separable_conv_1_...`,
`reduction_add_1_stem_1`, ...), and unnamed layers get the names Keras would give them
(a `keras_archs.layers.naming.LayerNames` with `keras_auto=True`, which the model's head
shares), so that the NASNet-A genotype builds the twin of keras.applications
NASNetMobile/Large. BatchNormalization uses `keras_archs.layers.norm.NASNET_BN`.
"""

import dataclasses
import json
from typing import Optional, Tuple

import keras

from keras_archs.layers.conv import conv_bn_act, sep_conv_bn
from keras_archs.layers.naming import LayerNames
from keras_archs.layers.norm import NASNET_BN
from keras_archs.layers.padding import correct_pad, max_pool

__all__ = [
    "CELL_KINDS", "CellGenotype", "Genotype", "MAX_POOL_PADDINGS", "Node", "OPERATIONS", "check_is_genotype",
    "genotype_from_json", "genotype_to_json", "nas_features",
]

CELL_KINDS = ("normal", "reduction")

SEPARABLE_KERNELS = {"sep_conv_3x3": 3, "sep_conv_5x5": 5, "sep_conv_7x7": 7}
POOLS = {"avg_pool_3x3": keras.layers.AveragePooling2D, "max_pool_3x3": keras.layers.MaxPooling2D}
OPERATIONS = (*SEPARABLE_KERNELS, *POOLS, "identity", "conv_1x1", "conv_1x7_7x1")

# An add name that Keras chooses (keras.applications leaves one add unnamed).
AUTO = ""

# How a stride-2 max pool of a reduction cell pads its input, which can be negative (a
# BatchNorm output): "zeros" pads zeros before a "valid" pool, as keras.applications does
# (a zero then wins the max over an all-negative border window); "same" is TensorFlow's
# "same" pool, whose padding never wins the max, as TF-slim and timm (`MaxPool2dSame`).
MAX_POOL_PADDINGS = ("zeros", "same")


@dataclasses.dataclass(frozen=True)
class Node:
    """One node: `left = (operation, input)`, `right = (operation, input)`, output = sum.

    The optional labels name the node's layers as a checkpoint expects; by default the
    operations are labelled `{cell}_left{i}` / `{cell}_right{i}` and the sum
    `{cell}_add_{i}` (i from 1), each followed by `_{cell id}`. `add_label=AUTO`
    leaves the sum's name to Keras' numbering.
    """

    left: Tuple[str, int]
    right: Tuple[str, int]
    left_label: Optional[str] = None
    right_label: Optional[str] = None
    add_label: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class CellGenotype:
    """The nodes of a cell and the hidden states its output concatenates."""

    nodes: Tuple[Node, ...]
    concat: Tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class Genotype:
    """A normal cell and a reduction cell."""

    normal: CellGenotype
    reduction: CellGenotype

    def validate(self, argument="genotype"):
        """Raises ValueError unless every node reads earlier states with known operations."""
        for kind, cell in (("normal", self.normal), ("reduction", self.reduction)):
            if not isinstance(cell, CellGenotype) or not cell.nodes:
                raise ValueError(f"{argument}.{kind} must be a CellGenotype with nodes. Received: {argument}={self!r}")
            for index, node in enumerate(cell.nodes):
                for operation, source in (node.left, node.right):
                    if operation not in OPERATIONS or not 0 <= source < index + 2:
                        raise ValueError(
                            f"{argument}.{kind} node {index} must read an earlier state (0..{index + 1}) with one "
                            f"of {OPERATIONS}. Received: {argument}.{kind} node {index}={node!r}"
                        )
            lowest = 2 if kind == "reduction" else 0
            if not cell.concat or any(not lowest <= state < len(cell.nodes) + 2 for state in cell.concat):
                raise ValueError(
                    f"{argument}.{kind}.concat must list states {lowest}..{len(cell.nodes) + 1} (a reduction cell "
                    f"cannot concatenate its full-size inputs). Received: concat={cell.concat!r}"
                )


def check_is_genotype(genotype, argument="genotype"):
    """Raises ValueError unless `genotype` is a `Genotype`."""
    if not isinstance(genotype, Genotype):
        raise ValueError(f"{argument} must be a keras_archs.layers.nas.Genotype. Received: {argument}={genotype!r}")


def genotype_to_json(genotype):
    """The canonical text of a genotype's function: its nodes' (operation, input) pairs and concatenations.

    Node labels (layer names a checkpoint expects) are not part of the function and are
    left out; equal functions give equal texts.

    Args:
        genotype: a `Genotype`.

    Returns:
        A JSON string, e.g. `{"normal": {"concat": [5, 6], "nodes": [[["identity", 0], ...]]}, ...}`.
    """
    check_is_genotype(genotype, "genotype")
    data = {
        kind: {
            "nodes": [[list(node.left), list(node.right)] for node in getattr(genotype, kind).nodes],
            "concat": list(getattr(genotype, kind).concat),
        }
        for kind in CELL_KINDS
    }
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def genotype_from_json(text, argument="genotype"):
    """The genotype of a `genotype_to_json` text, validated.

    Args:
        text: the JSON text.
        argument: the name used in error messages (e.g. a file argument of a recipe).

    Returns:
        A `Genotype` that passes `Genotype.validate()`.

    Raises:
        ValueError: naming `argument`, for text that is not JSON or not a genotype.
    """
    try:
        data = json.loads(text)
    except (TypeError, json.JSONDecodeError) as error:
        raise ValueError(f"{argument} must be a genotype's JSON text ({error}). Received: {argument}={text!r:.200}") from None
    cells = {}
    for kind in CELL_KINDS:
        cell = data.get(kind) if isinstance(data, dict) else None
        try:
            nodes = tuple(
                Node((str(left[0]), _state(left[1])), (str(right[0]), _state(right[1])))
                for left, right in cell["nodes"]
            )
            concat = tuple(_state(state) for state in cell["concat"])
        except (TypeError, KeyError, ValueError, IndexError):
            raise ValueError(
                f"{argument}.{kind} must be {{\"nodes\": [[[operation, input], [operation, input]], ...], "
                f"\"concat\": [state, ...]}}. Received: {argument}.{kind}={cell!r:.200}"
            ) from None
        cells[kind] = CellGenotype(nodes=nodes, concat=concat)
    genotype = Genotype(**cells)
    genotype.validate(argument)
    return genotype


def _state(value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(value)
    return value


class _CellBuilder:
    """Builds cells in keras.applications NASNet's layer order and naming.

    Args:
        names: the model's `LayerNames` (keras' automatic names) for the layers
            keras.applications leaves unnamed.
        max_pool_padding: one of `MAX_POOL_PADDINGS`.
    """

    def __init__(self, names, max_pool_padding="zeros"):
        self.names = names
        self.max_pool_padding = max_pool_padding

    def relu(self, x, name=None):
        return keras.layers.Activation("relu", name=name or self.names("activation"))(x)

    def bn(self, x, name):
        # Named freely: keras.applications' BN names do not all end the stem in `_bn`.
        return keras.layers.BatchNormalization(
            epsilon=NASNET_BN["bn_epsilon"], momentum=NASNET_BN["bn_momentum"], name=name
        )(x)

    def separable(self, x, filters, kernel_size, strides, label):
        """Two ReLU-SeparableConv-BN layers, the first with the stride (NASNet §4).

        The ReLU keeps keras' automatic name and the strided one is padded after it, so it
        is not `sep_conv_bn`'s pre-activation; keras.applications names the BN
        `separable_conv_{i}_bn_{label}` (the cell label after `_bn`).
        """
        for index in (1, 2):
            x = self.relu(x)
            padding = "same"
            if index == 1 and strides != 1:
                x = keras.layers.ZeroPadding2D(
                    correct_pad(x, kernel_size), name=f"separable_conv_1_pad_{label}"
                )(x)
                padding = "valid"
            x = sep_conv_bn(
                x, filters, kernel_size, strides=strides if index == 1 else 1, padding=padding,
                name=f"separable_conv_{index}_{label}", bn_name=f"separable_conv_{index}_bn_{label}", **NASNET_BN,
            )
        return x

    def conv(self, x, filters, kernel_size, strides, name, relu=True):
        """ReLU (keras' automatic name), then `{name}_conv` and `{name}_bn`, linear."""
        if relu:
            x = self.relu(x)
        return conv_bn_act(
            x, filters, kernel_size, strides=strides, padding="same", use_bias=False, activation=None,
            kernel_initializer="he_normal", name=name, **NASNET_BN,
        )

    def adjust(self, p, ip, filters, block_id):
        """Brings the cell-two-back output `p` to this cell's size and width.

        Zoph 2018 §A.1 (after Szegedy's factorized reduction): a halved `p` is two
        1x1 convolutions on the even and the odd pixel grids, concatenated.
        """
        if p is None:
            return ip
        if p.shape[-2] != ip.shape[-2]:
            p = self.relu(p, f"adjust_relu_1_{block_id}")
            first = keras.layers.AveragePooling2D(1, strides=2, name=f"adjust_avg_pool_1_{block_id}")(p)
            first = keras.layers.Conv2D(
                filters // 2, 1, padding="same", use_bias=False, kernel_initializer="he_normal",
                name=f"adjust_conv_1_{block_id}",
            )(first)
            second = keras.layers.ZeroPadding2D(((0, 1), (0, 1)), name=self.names("zero_padding2d"))(p)
            second = keras.layers.Cropping2D(((1, 0), (1, 0)), name=self.names("cropping2d"))(second)
            second = keras.layers.AveragePooling2D(1, strides=2, name=f"adjust_avg_pool_2_{block_id}")(second)
            # An odd width gives the odd-grid path the extra filter.
            second = keras.layers.Conv2D(
                filters - filters // 2, 1, padding="same", use_bias=False, kernel_initializer="he_normal",
                name=f"adjust_conv_2_{block_id}",
            )(second)
            p = keras.layers.Concatenate(name=self.names("concatenate"))([first, second])
            return self.bn(p, f"adjust_bn_{block_id}")
        if p.shape[-1] != filters:
            p = self.relu(p)
            p = keras.layers.Conv2D(
                filters, 1, padding="same", use_bias=False, kernel_initializer="he_normal",
                name=f"adjust_conv_projection_{block_id}",
            )(p)
            return self.bn(p, f"adjust_bn_{block_id}")
        return p

    def cell(self, ip, p, cell, filters, block_id, reduction):
        """One cell; returns (output, ip) so the next cell gets this cell's input as `p`."""
        kind = "reduction" if reduction else "normal"
        p = self.adjust(p, ip, filters, block_id)
        h = self.relu(ip)
        h = keras.layers.Conv2D(
            filters, 1, padding="same", use_bias=False, kernel_initializer="he_normal",
            name=f"{kind}_conv_1_{block_id}",
        )(h)
        h = self.bn(h, f"{kind}_bn_1_{block_id}")
        states = [p, h]
        padded = {}

        def pool_input(source):
            # keras.applications pads a cell input once for all its stride-2 pools.
            if source not in padded:
                padded[source] = keras.layers.ZeroPadding2D(
                    correct_pad(states[source], 3), name=f"{kind}_pad_{source}_{block_id}"
                )(states[source])
            return padded[source]

        def apply(operation, source, label):
            strides = 2 if reduction and source < 2 else 1
            x = states[source]
            if operation in SEPARABLE_KERNELS:
                return self.separable(x, filters, SEPARABLE_KERNELS[operation], strides, label)
            if operation in POOLS:
                if strides == 1:
                    x = POOLS[operation](3, strides=1, padding="same", name=label)(x)
                elif operation == "max_pool_3x3" and self.max_pool_padding == "same":
                    x = max_pool(x, 3, 2, padding="same", name=label)
                else:
                    x = POOLS[operation](3, strides=2, padding="valid", name=label)(pool_input(source))
                # The first stem cell's `p` is the stem convolution: a pooling of it is
                # projected to the cell's width (as in tensorflow/tpu's cells).
                if x.shape[-1] == filters:
                    return x
                return self.conv(x, filters, 1, 1, f"{label}_projection", relu=False)
            if operation == "identity":
                if strides == 1 and x.shape[-1] == filters:
                    return x
                return self.conv(x, filters, 1, strides, label)
            if operation == "conv_1x1":
                return self.conv(x, filters, 1, strides, label)
            # conv_1x7_7x1: a 7x7 receptive field from a 1x7 and a 7x1 convolution, in
            # a bottleneck of a quarter of the width (tensorflow/tpu's AmoebaNet cells).
            bottleneck = max(filters // 4, 1)
            x = self.conv(x, bottleneck, 1, 1, f"{label}_pre")
            x = self.conv(x, bottleneck, (1, 7), (1, strides), f"{label}_1x7")
            x = self.conv(x, bottleneck, (7, 1), (strides, 1), f"{label}_7x1")
            return self.conv(x, filters, 1, 1, f"{label}_post")

        for index, node in enumerate(cell.nodes, start=1):
            left_label = f"{node.left_label or f'{kind}_left{index}'}_{block_id}"
            right_label = f"{node.right_label or f'{kind}_right{index}'}_{block_id}"
            left = apply(*node.left, left_label)
            right = apply(*node.right, right_label)
            if node.add_label == AUTO:
                add_name = self.names("add")
            else:
                add_name = f"{node.add_label or f'{kind}_add_{index}'}_{block_id}"
            states.append(keras.layers.Add(name=add_name)([left, right]))
        output = keras.layers.Concatenate(name=f"{kind}_concat_{block_id}")([states[i] for i in cell.concat])
        return output, ip


def nas_features(
    x, genotype, *, num_cells, filters, stem_filters, skip_reduction, filter_multiplier=2, max_pool_padding="zeros",
    names=None,
):
    """The NASNet macro-architecture for ImageNet (Zoph 2018, Fig. 2) over any genotype.

    A 3x3/2 stem convolution, two reduction cells (widths F/4 and F/2), then three
    stacks of N normal cells with F, 2F and 4F filters, a reduction cell before the
    second and third stacks, and a final ReLU. Cell ids as keras.applications: "stem_1",
    "stem_2", "0".."N-1", "reduce_N", ...

    Args:
        x: input tensor.
        genotype: a validated `Genotype`.
        num_cells: N, normal cells per stack.
        filters: F, filters of the first stack's operations.
        stem_filters: filters of the stem convolution.
        skip_reduction: whether the cell after a reduction cell reads the cell before
            the reduction as its `p` (keras NASNetLarge) rather than the reduction's input.
        filter_multiplier: width growth per reduction.
        max_pool_padding: one of `MAX_POOL_PADDINGS`: "zeros" (keras.applications) or
            "same" (TF-slim, timm) for the stride-2 max pools of the reduction cells.
        names: the `LayerNames(keras_auto=True)` that names the layers keras.applications
            leaves unnamed; pass the model's own, so that its head, built after, continues
            keras' numbering. Default: a new one.

    Returns:
        The feature map (after the final ReLU).

    Raises:
        ValueError: for an unknown `max_pool_padding`.
    """
    if max_pool_padding not in MAX_POOL_PADDINGS:
        raise ValueError(
            f"max_pool_padding must be one of {MAX_POOL_PADDINGS}. Received: max_pool_padding={max_pool_padding!r}"
        )
    builder = _CellBuilder(LayerNames(keras_auto=True) if names is None else names, max_pool_padding)
    x = keras.layers.Conv2D(
        stem_filters, 3, strides=2, padding="valid", use_bias=False, kernel_initializer="he_normal",
        name="stem_conv1",
    )(x)
    x = builder.bn(x, "stem_bn1")
    p = None
    x, p = builder.cell(x, p, genotype.reduction, filters // filter_multiplier**2, "stem_1", True)
    x, p = builder.cell(x, p, genotype.reduction, filters // filter_multiplier, "stem_2", True)
    width = filters
    for stack in range(3):
        if stack:
            width *= filter_multiplier
            x, reduction_input = builder.cell(x, p, genotype.reduction, width, f"reduce_{stack * num_cells}", True)
            if not skip_reduction:
                p = reduction_input
        for index in range(num_cells):
            x, p = builder.cell(x, p, genotype.normal, width, f"{stack * num_cells + index + min(stack, 1)}", False)
    return builder.relu(x)
