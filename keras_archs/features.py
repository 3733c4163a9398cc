"""Multi-scale feature extraction from any backbone of the package (like timm `features_only`).

`feature_extractor(model_or_name, stages=...)` returns a model whose outputs are stage
outputs: the feature maps a feature pyramid (FPN), a U-Net decoder or a detector head
takes. It works on the graph of any functional model, so every family qualifies without
per-family tables.

Which tensor is a stage's output. A stage is identified by its reduction (output
stride): input side / feature-map side, rounded to the nearest power of two so that
valid convolutions (Inception's 149, 147, 73, ... at 299) and padding count as their
nominal stride. For each reduction the extractor takes the LAST tensor at that
resolution that separates the graph: one that every path from the input to the
(main) output passes through, found in one topological pass as the positions that no
edge jumps over. So the choice is never a side branch: not a residual unit's 3x3
output, not a pre-activation BN-ReLU that the shortcut bypasses, not one Inception
branch, not an auxiliary head. Outputs of `ZeroPadding2D` and of the input layer are
never chosen (padding is an artifact of the next layer). The result is, for example,
`conv1_relu`, `conv2_block3_out`, ..., `conv5_block3_out` for ResNet-50 (v1); the last
unit's sum `conv2_block2_out` at reduction 4 for keras' ResNet v2, which strides in the
last unit of a stage; `block1_conv2` ... `block5_pool` for VGG; for DenseNet the
transition's convolution right before its pooling.

Stages may also be given by layer name, for any layer of the model.
"""

import math
import numbers

import keras

__all__ = ["feature_extractor", "feature_info"]

# Side of the square input used to measure reductions when the model's input side is
# unknown: a multiple of 32 large enough for valid-padding stems (Inception's 75 minimum).
PROBE_SIDE = 256
NEVER_STAGE_OUTPUTS = ("InputLayer", "ZeroPadding2D")


def _producer(tensor):
    history = tensor._keras_history
    return history.operation, history.operation._inbound_nodes[history.node_index]


def _graph(output):
    """Ancestors of `output` and their parent lists, without recursion (deep nets)."""
    parents, tensors, stack = {}, {}, [output]
    while stack:
        tensor = stack.pop()
        key = id(tensor)
        if key in parents:
            continue
        tensors[key] = tensor
        _, node = _producer(tensor)
        parents[key] = [id(parent) for parent in node.input_tensors]
        stack.extend(node.input_tensors)
    return tensors, parents


def _topological_order(parents):
    children = {key: [] for key in parents}
    pending = {key: len(set(inputs)) for key, inputs in parents.items()}
    for key, inputs in parents.items():
        for parent in set(inputs):
            children[parent].append(key)
    ready = [key for key, count in pending.items() if count == 0]
    order = []
    while ready:
        key = ready.pop()
        order.append(key)
        for child in children[key]:
            pending[child] -= 1
            if pending[child] == 0:
                ready.append(child)
    return order


def _separating(order, parents):
    """Positions of `order` that no edge jumps over: every input-output path visits them."""
    position = {key: index for index, key in enumerate(order)}
    crossing = [0] * (len(order) + 1)
    for key, inputs in parents.items():
        for parent in set(inputs):
            if position[key] - position[parent] > 1:
                crossing[position[parent] + 1] += 1
                crossing[position[key]] -= 1
    separating, open_edges = [], 0
    for index, key in enumerate(order):
        open_edges += crossing[index]
        if open_edges == 0:
            separating.append(key)
    return separating


def _spatial_sides(model, tensors):
    """(input side, side of each tensor), measured on a probe input if the model's is unknown."""
    height = model.inputs[0].shape[1]
    if height is not None:
        return height, [tensor.shape[1] for tensor in tensors]
    channels = model.inputs[0].shape[-1]
    probe = keras.Model(model.inputs[0], tensors)
    specs = probe.compute_output_spec(keras.KerasTensor((1, PROBE_SIDE, PROBE_SIDE, channels)))
    return PROBE_SIDE, [spec.shape[1] for spec in specs]


def _stage_candidates(model):
    """{reduction: tensor}: the last separating tensor at each reduction."""
    if len(model.inputs) != 1:
        raise ValueError(f"feature_extractor needs a model with one image input. Received: {len(model.inputs)} inputs")
    tensors, parents = _graph(model.outputs[0])
    keys = [
        key for key in _separating(_topological_order(parents), parents)
        if len(tensors[key].shape) == 4 and type(_producer(tensors[key])[0]).__name__ not in NEVER_STAGE_OUTPUTS
    ]
    input_side, sides = _spatial_sides(model, [tensors[key] for key in keys])
    stages = {}
    for key, side in zip(keys, sides):
        if side:
            reduction = 2 ** max(0, round(math.log2(input_side / side)))
            stages[reduction] = tensors[key]  # later tensors overwrite earlier ones
    return dict(sorted(stages.items()))


def feature_info(model):
    """The stage outputs `feature_extractor` can return, as timm's `feature_info`.

    Args:
        model: a functional `keras.Model` with one image input.

    Returns:
        A list, by increasing reduction, of dicts with `reduction`, `layer` (name) and
        `channels`.
    """
    return [
        {"reduction": reduction, "layer": _layer_name(tensor), "channels": tensor.shape[-1]}
        for reduction, tensor in _stage_candidates(model).items()
    ]


def _layer_name(tensor):
    return _producer(tensor)[0].name


def _as_list(stages):
    if isinstance(stages, (str, numbers.Integral)) and not isinstance(stages, bool):
        return [stages]
    if isinstance(stages, (list, tuple)) and stages and all(
        isinstance(stage, (str, numbers.Integral)) and not isinstance(stage, bool) for stage in stages
    ):
        return list(stages)
    raise ValueError(
        "stages must be None, a reduction (int, e.g. 8), a layer name, or a non-empty list of "
        f"these. Received: stages={stages!r}"
    )


def feature_extractor(model_or_name, stages=None, **model_kwargs):
    """A model whose outputs are stage outputs of a backbone (timm's `features_only`).

    Example:
        `feature_extractor("resnet50", stages=(8, 16, 32), input_shape=(512, 512, 3))`
        returns a model with outputs `conv3_block4_out`, `conv4_block6_out`,
        `conv5_block3_out`.

    Args:
        model_or_name: a functional `keras.Model` (its layers and weights are shared), or
            a registered name, built with `include_top=False` and `model_kwargs`.
        stages: None for every stage (by increasing reduction); a reduction (output
            stride: 2, 4, 8, 16, 32, ...) or a layer name, or a list of these. See the
            module docstring for which tensor stands for a reduction.
        **model_kwargs: constructor arguments when `model_or_name` is a name
            (`input_shape`, family options).

    Returns:
        A `keras.Model` from the backbone's input to the listed outputs, in order.

    Raises:
        ValueError: for an unknown name, a reduction the model does not have or a layer
            it does not contain (the message lists what exists), or a malformed `stages`.
    """
    requested = None if stages is None else _as_list(stages)
    if isinstance(model_or_name, str):
        from keras_archs.registry import get_model  # the registry imports every family

        model = get_model(model_or_name, **{"include_top": False, **model_kwargs})
    elif isinstance(model_or_name, keras.Model):
        if model_kwargs:
            raise ValueError(
                f"Constructor arguments only apply to a model name. Received: {sorted(model_kwargs)}"
            )
        model = model_or_name
    else:
        raise ValueError(
            f"model_or_name must be a keras.Model or a registered name. Received: model_or_name={model_or_name!r}"
        )
    available = _stage_candidates(model)
    described = {reduction: _layer_name(tensor) for reduction, tensor in available.items()}
    if requested is None:
        requested = list(available)
    outputs = []
    for stage in requested:
        if isinstance(stage, str):
            try:
                outputs.append(model.get_layer(stage).output)
            except ValueError:
                raise ValueError(
                    f"Model {model.name!r} has no layer named {stage!r}; its stage outputs by "
                    f"reduction are {described}. Received: stages={stages!r}"
                ) from None
        elif stage in available:
            outputs.append(available[stage])
        else:
            raise ValueError(
                f"Model {model.name!r} has no stage with reduction {stage}; its stage outputs by "
                f"reduction are {described}. Received: stages={stages!r}"
            )
    return keras.Model(model.inputs, outputs, name=f"{model.name}_features")
