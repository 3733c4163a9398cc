"""MobileNet v1 (Howard et al. 2017), v2 (Sandler et al. 2018) and v3 (Howard et al. 2019).

- "MobileNets: Efficient Convolutional Neural Networks for Mobile Vision Applications",
  2017, arXiv 1704.04861: a stack of depthwise-separable convolutions (Table 1) with a
  width multiplier `alpha` and, for the depthwise convolutions, `depth_multiplier`.
  The resolution multiplier of the paper is the input size (128, 160, 192 or 224).
- "MobileNetV2: Inverted Residuals and Linear Bottlenecks", CVPR 2018, arXiv 1801.04381:
  inverted residual blocks with linear bottlenecks (Table 2).
- "Searching for MobileNetV3", ICCV 2019, arXiv 1905.02244: the searched Large and Small
  networks (Tables 1 and 2) with hard-swish and squeeze-and-excitation; `minimalistic`
  drops both (and the 5x5 kernels), as in the TF-slim "minimalistic" models.

All four are twins of `keras.applications` MobileNet, MobileNetV2, MobileNetV3Small and
MobileNetV3Large: same layers, order, names and weight shapes. As there, MobileNetV3 has
its input scaling inside (`include_preprocessing=True`: a Rescaling layer maps [0, 255]
to [-1, 1]); v1 and v2 expect inputs already scaled to [-1, 1].

The twins keep TensorFlow's conventions: "same" padding of the stride-2 convolutions
(the extra pixel after) and Keras' BatchNorm epsilon 1e-3. The PyTorch references pad
them symmetrically and (except MobileNetV3) use epsilon 1e-5: `implementation=` builds
their form with the same layers, registered as `timm_mobilenet` (timm's
`mobilenetv1_100`), `tv_mobilenet_v2`, `tv_mobilenet_v3_large` and
`tv_mobilenet_v3_small` (torchvision's). The MobileNetV3 twins themselves compute timm's
`tf_mobilenetv3_large_100` / `tf_mobilenetv3_small_100` (TF padding, epsilon 1e-3).
The parity suite in tests_convert proves each of these.
"""

import dataclasses
import numbers

import keras

from keras_archs.checks import check_bool, check_choice, check_positive_int, check_rate
from keras_archs.layers.mobilenet import depthwise_separable_block, hard_sigmoid, inverted_residual, make_divisible
from keras_archs.layers.naming import LayerNames
from keras_archs.layers.norm import KERAS_BN, TORCH_BN
from keras_archs.layers.padding import conv_padding
from keras_archs.models.base import ApplicationArguments, build_model
from keras_archs.registry import (
    KERAS_WEIGHTS_URL, TF_MODELS_LICENSE, InputSpec, Paper,
    PretrainedWeights, Reference, TorchReference, register_model,
)

__all__ = ["MobileNet", "MobileNetV2", "MobileNetV3Large", "MobileNetV3Small"]

PAPER_V1 = Paper(
    title="MobileNets: Efficient Convolutional Neural Networks for Mobile Vision Applications",
    authors="A. G. Howard, M. Zhu, B. Chen, D. Kalenichenko, W. Wang, T. Weyand, M. Andreetto, H. Adam",
    year=2017,
    arxiv="1704.04861",
)
PAPER_V2 = Paper(
    title="MobileNetV2: Inverted Residuals and Linear Bottlenecks",
    authors="M. Sandler, A. Howard, M. Zhu, A. Zhmoginov, L.-C. Chen",
    year=2018,
    arxiv="1801.04381",
    venue="CVPR 2018",
)
PAPER_V3 = Paper(
    title="Searching for MobileNetV3",
    authors="A. Howard, M. Sandler, G. Chu, L.-C. Chen, B. Chen, M. Tan, W. Wang, Y. Zhu, R. Pang, "
    "V. Vasudevan, Q. V. Le, H. Adam",
    year=2019,
    arxiv="1905.02244",
    venue="ICCV 2019",
)
# Five stride-2 stages; keras.applications accepts 32 pixels and more.
INPUT_SPEC = InputSpec(default_size=224, min_size=32)

# MobileNet v1, Table 1: (pointwise filters, depthwise stride) of the 13 separable blocks.
V1_BLOCKS = (
    (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
    (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1),
)

# MobileNet v2, Table 2: (expansion t, output channels c, repeats n, first stride s).
V2_STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))
V2_LAST_FILTERS = 1280


@dataclasses.dataclass(frozen=True)
class _V3Block:
    """One MobileNetV3 block (Tables 1 and 2). `kernel_size=None` and `hard_swish=None`
    take the model-wide choice (5x5 and hard-swish; 3x3 and ReLU when minimalistic)."""

    expansion: float
    filters: int
    strides: int
    squeeze_excite: bool
    kernel_size: int | None = None
    hard_swish: bool | None = None


def _relu_block(expansion, filters, strides, squeeze_excite, kernel_size=None):
    return _V3Block(expansion, filters, strides, squeeze_excite, kernel_size, hard_swish=False)


V3_SMALL = (
    _relu_block(1, 16, 2, True, 3),
    _relu_block(72 / 16, 24, 2, False, 3),
    _relu_block(88 / 24, 24, 1, False, 3),
    _V3Block(4, 40, 2, True),
    _V3Block(6, 40, 1, True),
    _V3Block(6, 40, 1, True),
    _V3Block(3, 48, 1, True),
    _V3Block(3, 48, 1, True),
    _V3Block(6, 96, 2, True),
    _V3Block(6, 96, 1, True),
    _V3Block(6, 96, 1, True),
)
V3_LARGE = (
    _relu_block(1, 16, 1, False, 3),
    _relu_block(4, 24, 2, False, 3),
    _relu_block(3, 24, 1, False, 3),
    _relu_block(3, 40, 2, True),
    _relu_block(3, 40, 1, True),
    _relu_block(3, 40, 1, True),
    _V3Block(6, 80, 2, False, 3),
    _V3Block(2.5, 80, 1, False, 3),
    _V3Block(2.3, 80, 1, False, 3),
    _V3Block(2.3, 80, 1, False, 3),
    _V3Block(6, 112, 1, True, 3),
    _V3Block(6, 112, 1, True, 3),
    _V3Block(6, 160, 2, True),
    _V3Block(6, 160, 1, True),
    _V3Block(6, 160, 1, True),
)
V3_SE_RATIO = 0.25


@dataclasses.dataclass(frozen=True)
class _Conventions:
    """How one implementation pads and normalizes; the layers are the same.

    Attributes:
        pad_style: padding of the stride-2 convolutions, "same" (TensorFlow) or
            "symmetric" (PyTorch), see `keras_archs.layers.padding`.
        bn_epsilon: BatchNormalization epsilon.
        bn_momentum: BatchNormalization momentum (Keras' convention: 1 - PyTorch's).
            The pair is given as a preset of `keras_archs.layers.norm` where it is one.
        dropout_rate: dropout before the classifier where the implementation has one
            and the constructor has no option for it (MobileNetV2).
    """

    pad_style: str
    bn_epsilon: float
    bn_momentum: float
    dropout_rate: float = 0.0


# keras.applications MobileNetV2 and MobileNetV3: Keras' epsilon with momentum 0.999.
_KERAS_V2_BN = {"bn_epsilon": 1e-3, "bn_momentum": 0.999}

V1_IMPLEMENTATIONS = {
    # keras.applications MobileNet: Keras' BatchNormalization defaults.
    "keras": _Conventions("same", **KERAS_BN),
    # timm's `mobilenetv1_100`: PyTorch padding and BatchNorm.
    "timm": _Conventions("symmetric", **TORCH_BN),
}
V2_IMPLEMENTATIONS = {
    "keras": _Conventions("same", **_KERAS_V2_BN),
    # torchvision's `mobilenet_v2`: PyTorch padding and BatchNorm, dropout 0.2 in the head.
    "torchvision": _Conventions("symmetric", **TORCH_BN, dropout_rate=0.2),
}
V3_IMPLEMENTATIONS = {
    "keras": _Conventions("same", **_KERAS_V2_BN),
    # torchvision's `mobilenet_v3_*`: PyTorch padding; BatchNorm eps 0.001 and momentum 0.01,
    # which are Keras' defaults.
    "torchvision": _Conventions("symmetric", **KERAS_BN),
}


def _stem_conv(x, filters, conventions, name):
    """The 3x3/2 stem convolution (no BN), padded in the implementation's convention."""
    x, padding = conv_padding(x, 3, 2, style=conventions.pad_style, name=name)
    return keras.layers.Conv2D(filters, 3, strides=2, padding=padding, use_bias=False, name=name)(x)


def _check_alpha(alpha):
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not alpha > 0:
        raise ValueError(f"alpha must be a positive number. Received: alpha={alpha!r}")


# keras.applications' files at width 1.0 and 224 pixels (tests/test_weights.py compares them
# with what keras.applications downloads). keras passes no hash for MobileNet's and
# MobileNetV2's, so neither do we. Without the top, keras picks the file trained at the
# input's side (128, 160, 192 or 224); these entries load the 224 one at every side.
KERAS_MOBILENET = PretrainedWeights.from_keras(
    "MobileNet", f"{KERAS_WEIGHTS_URL}/mobilenet/mobilenet_1_0_224_tf.h5", "",
    f"{KERAS_WEIGHTS_URL}/mobilenet/mobilenet_1_0_224_tf_no_top.h5", "", 70.4, TF_MODELS_LICENSE, "tf",
)
KERAS_MOBILENET_V2 = PretrainedWeights.from_keras(
    "MobileNetV2", f"{KERAS_WEIGHTS_URL}/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5", "",
    f"{KERAS_WEIGHTS_URL}/mobilenet_v2/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5", "", 71.3,
    TF_MODELS_LICENSE, "tf",
)
# size -> (md5 with the top, md5 without, top-1 of keras' mobilenet_v3.py docstring table, which
# keras.io's table leaves out).
KERAS_V3_HASHES = {
    "small": ("8768d4c2e7dee89b9d02b2d03d65d862", "d3e8ec802a04aa4fc771ee12a9a9b836", 68.1),
    "large": ("59e551e166be033d707958cf9e29a6a7", "07fb09a5933dd0c8eaafa16978110389", 75.6),
}


def _keras_v3_weights(size, twin):
    file_hash, file_hash_no_top, top1 = KERAS_V3_HASHES[size]
    stem = f"{KERAS_WEIGHTS_URL}/mobilenet_v3/weights_mobilenet_v3_{size}_224_1.0_float"
    return PretrainedWeights.from_keras(
        twin, f"{stem}.h5", file_hash, f"{stem}_no_top_v2.h5", file_hash_no_top, top1,
        "Apache-2.0 (tensorflow/models, which publishes the checkpoints; keras' documentation states none)",
        # keras' mobilenet_v3.preprocess_input passes pixels through: the model rescales them.
        "raw", top1_source="keras mobilenet_v3.py docstring (1.0, 224, float)",
    )


# torchvision's checkpoints, DEFAULT first (url and acc@1 of torchvision.models.get_weight;
# tests_convert/test_weights_sources.py compares them): (enum, file, top-1, resize side).
TORCHVISION_CHECKPOINTS = {
    "mobilenet_v2": (("MobileNet_V2_Weights.IMAGENET1K_V2", "mobilenet_v2-7ebf99e0.pth", 72.154, 232),
                     ("MobileNet_V2_Weights.IMAGENET1K_V1", "mobilenet_v2-b0353104.pth", 71.878, 256)),
    "mobilenet_v3_large": (("MobileNet_V3_Large_Weights.IMAGENET1K_V2", "mobilenet_v3_large-5c1a4163.pth", 75.274,
                            232),
                           ("MobileNet_V3_Large_Weights.IMAGENET1K_V1", "mobilenet_v3_large-8738ca79.pth", 74.042,
                            256)),
    "mobilenet_v3_small": (("MobileNet_V3_Small_Weights.IMAGENET1K_V1", "mobilenet_v3_small-047dcff4.pth", 67.668,
                            256),),
}


# timm's default mobilenetv1_100 checkpoint (timm.models.get_pretrained_cfg); its top-1 at 224
# is in timm's README (the MobileNet-V1 baseline table), not yet in results-imagenet.csv.
TIMM_MOBILENET = PretrainedWeights.from_timm(
    "mobilenetv1_100.ra4_e3600_r224_in1k", 75.382, crop_size=224, crop_pct=0.875, interpolation="bicubic",
    mean=(0.5,) * 3, std=(0.5,) * 3, top1_source="timm README (MobileNet-V1 baseline table, 224)",
)


def _relu6(x, stem):
    return keras.layers.ReLU(6.0, name=f"{stem}_relu")(x)


def _mobilenet_v1(arguments, *, alpha, depth_multiplier, dropout_rate, implementation):
    _check_alpha(alpha)
    check_positive_int(depth_multiplier, "depth_multiplier")
    check_rate(dropout_rate, "dropout_rate")
    check_choice(implementation, tuple(V1_IMPLEMENTATIONS), "implementation")
    conventions = V1_IMPLEMENTATIONS[implementation]
    bn = {"epsilon": conventions.bn_epsilon, "momentum": conventions.bn_momentum}

    def features(x):
        x = _stem_conv(x, int(32 * alpha), conventions, "conv1")
        x = keras.layers.BatchNormalization(name="conv1_bn", **bn)(x)
        x = keras.layers.ReLU(6.0, name="conv1_relu")(x)
        for block_id, (filters, strides) in enumerate(V1_BLOCKS, start=1):
            x = depthwise_separable_block(
                x, int(filters * alpha), block_id=block_id, strides=strides, depth_multiplier=depth_multiplier,
                pad_style=conventions.pad_style, bn_epsilon=conventions.bn_epsilon,
                bn_momentum=conventions.bn_momentum,
            )
        return x

    def head(x, *, classes, classifier_activation):
        # The classifier is a 1x1 convolution on the pooled map, as in the TF-slim checkpoints.
        x = keras.layers.GlobalAveragePooling2D(keepdims=True, name="global_average_pooling2d")(x)
        x = keras.layers.Dropout(dropout_rate, name="dropout")(x)
        x = keras.layers.Conv2D(classes, 1, padding="same", name="conv_preds")(x)
        x = keras.layers.Reshape((classes,), name="reshape_2")(x)
        return keras.layers.Activation(classifier_activation, name="predictions")(x)

    form = (MobileNet, {"alpha": alpha, "depth_multiplier": depth_multiplier, "implementation": implementation})
    return build_model(
        features=features, head=head, input_spec=INPUT_SPEC, arguments=arguments, default_name="mobilenet",
        form=form,
    )


@register_model(
    "mobilenet",
    family="mobilenet",
    paper=PAPER_V1,
    input_spec=INPUT_SPEC,
    reference=Reference(
        params=4_231_976, source="KA MobileNet", gmacs=0.569, gmacs_source="Howard 2017, Table 8 (569M mult-adds)",
        top1=70.9, top1_source="TF MobileNet README",
    ),
    preprocessing="tf",
    preset="mobilenet",
    twin="MobileNet",
    weights=(KERAS_MOBILENET,),
)
@register_model(
    "timm_mobilenet",
    family="mobilenet",
    paper=PAPER_V1,
    input_spec=INPUT_SPEC,
    reference=Reference(
        params=4_231_976, source="timm mobilenetv1_100 num_params (timm 1.0.31)", gmacs=0.569,
        gmacs_source="Howard 2017, Table 8 (569M mult-adds)",
    ),
    # timm's mobilenetv1_100 checkpoint is normalized with mean = std = 0.5.
    preprocessing="tf",
    preset="mobilenet",
    defaults={"implementation": "timm"},
    torch_reference=TorchReference(library="timm", constructor="mobilenetv1_100", mapping="mobilenet"),
    weights=(TIMM_MOBILENET,),
)
def MobileNet(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
    classes=1000, classifier_activation="softmax", name=None, alpha=1.0, depth_multiplier=1,
    dropout_rate=1e-3, implementation="keras",
):
    """MobileNet v1 (Howard et al. 2017), twin of `keras.applications.MobileNet`.

    The default (`implementation="keras"`) is the twin: TensorFlow's padding of the
    stride-2 convolutions and Keras' BatchNorm epsilon 1e-3. `implementation="timm"`
    (registered as `timm_mobilenet`) computes timm's `mobilenetv1_100` (proven by the
    parity test in tests_convert): symmetric padding and epsilon 1e-5, the same layers.

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name: as in `keras.applications` (see
            `keras_archs.models.base.build_model`).
        alpha: width multiplier (§4.2): every layer gets `int(filters * alpha)` filters.
        depth_multiplier: channel multiplier of the depthwise convolutions.
        dropout_rate: dropout before the classifier (`dropout` in keras.applications).
        implementation: "keras" (default, the twin) or "timm".

    Returns:
        A `keras.Model`.
    """
    return _mobilenet_v1(
        ApplicationArguments.of(locals()), alpha=alpha, depth_multiplier=depth_multiplier,
        dropout_rate=dropout_rate, implementation=implementation,
    )


def _mobilenet_v2(arguments, *, alpha, implementation):
    _check_alpha(alpha)
    check_choice(implementation, tuple(V2_IMPLEMENTATIONS), "implementation")
    conventions = V2_IMPLEMENTATIONS[implementation]
    bn = {"epsilon": conventions.bn_epsilon, "momentum": conventions.bn_momentum}

    def features(x):
        x = _stem_conv(x, make_divisible(32 * alpha), conventions, "Conv1")
        x = keras.layers.BatchNormalization(name="bn_Conv1", **bn)(x)
        x = keras.layers.ReLU(6.0, name="Conv1_relu")(x)
        block_id = 0
        for expansion, filters, repeats, first_strides in V2_STAGES:
            for repeat in range(repeats):
                x = inverted_residual(
                    x,
                    expanded_filters=expansion * x.shape[-1],
                    filters=make_divisible(int(filters * alpha)),
                    strides=first_strides if repeat == 0 else 1,
                    expand=block_id > 0,
                    prefix=f"block_{block_id}_" if block_id else "expanded_conv_",
                    activation=_relu6,
                    bn_suffix="_BN",
                    pad_suffix="pad",
                    pad_style=conventions.pad_style,
                    bn_epsilon=conventions.bn_epsilon,
                    bn_momentum=conventions.bn_momentum,
                )
                block_id += 1
        last_filters = make_divisible(V2_LAST_FILTERS * alpha) if alpha > 1.0 else V2_LAST_FILTERS
        x = keras.layers.Conv2D(last_filters, 1, use_bias=False, name="Conv_1")(x)
        x = keras.layers.BatchNormalization(name="Conv_1_bn", **bn)(x)
        return keras.layers.ReLU(6.0, name="out_relu")(x)

    def head(x, *, classes, classifier_activation):
        x = keras.layers.GlobalAveragePooling2D(name="global_average_pooling2d")(x)
        if conventions.dropout_rate:
            x = keras.layers.Dropout(conventions.dropout_rate, name="dropout")(x)
        return keras.layers.Dense(classes, activation=classifier_activation, name="predictions")(x)

    form = (MobileNetV2, {"alpha": alpha, "implementation": implementation})
    return build_model(
        features=features, head=head, input_spec=INPUT_SPEC, arguments=arguments, default_name="mobilenet_v2",
        form=form,
    )


@register_model(
    "mobilenet_v2",
    family="mobilenet",
    paper=PAPER_V2,
    input_spec=INPUT_SPEC,
    reference=Reference(
        params=3_504_872, source="KA MobileNetV2; TV mobilenet_v2", gmacs=0.301, gmacs_source="TV mobilenet_v2",
        top1=71.8, top1_source="TF MobileNet v2 README",
    ),
    preprocessing="tf",
    preset="mobilenet",
    twin="MobileNetV2",
    weights=(KERAS_MOBILENET_V2,),
)
@register_model(
    "tv_mobilenet_v2",
    family="mobilenet",
    paper=PAPER_V2,
    input_spec=INPUT_SPEC,
    reference=Reference(
        params=3_504_872, source="TV mobilenet_v2 num_params (torchvision 0.29.1)", gmacs=0.301,
        gmacs_source="TV mobilenet_v2", top1=71.878, top1_source="TV mobilenet_v2 IMAGENET1K_V1",
    ),
    preprocessing="torch",
    preset="mobilenet",
    defaults={"implementation": "torchvision"},
    torch_reference=TorchReference(library="torchvision", constructor="mobilenet_v2", mapping="mobilenet"),
    weights=PretrainedWeights.from_torchvision_rows(TORCHVISION_CHECKPOINTS["mobilenet_v2"]),
)
def MobileNetV2(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
    classes=1000, classifier_activation="softmax", name=None, alpha=1.0, implementation="keras",
):
    """MobileNet v2 (Sandler et al. 2018), twin of `keras.applications.MobileNetV2`.

    The default (`implementation="keras"`) is the twin: TensorFlow's padding of the
    stride-2 convolutions and BatchNorm epsilon 1e-3. `implementation="torchvision"`
    (registered as `tv_mobilenet_v2`) computes torchvision's `mobilenet_v2` (proven by
    the parity test in tests_convert): symmetric padding, epsilon 1e-5 and dropout 0.2
    before the classifier, the same weighted layers.

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name: as in `keras.applications`.
        alpha: width multiplier; channels are rounded to multiples of 8, and the last
            1x1 convolution keeps 1280 channels unless `alpha > 1` (§6.1).
        implementation: "keras" (default, the twin) or "torchvision".

    Returns:
        A `keras.Model`.
    """
    return _mobilenet_v2(ApplicationArguments.of(locals()), alpha=alpha, implementation=implementation)


def _mobilenet_v3(
    arguments, *, constructor, default_name, blocks, last_point_filters, alpha, minimalistic, dropout_rate,
    include_preprocessing, implementation,
):
    _check_alpha(alpha)
    check_bool(minimalistic, "minimalistic")
    check_rate(dropout_rate, "dropout_rate")
    check_bool(include_preprocessing, "include_preprocessing")
    check_choice(implementation, tuple(V3_IMPLEMENTATIONS), "implementation")
    conventions = V3_IMPLEMENTATIONS[implementation]
    bn = {"epsilon": conventions.bn_epsilon, "momentum": conventions.bn_momentum}
    # keras.applications leaves the activations, the rescaling and parts of the head
    # unnamed; the twin reproduces the names Keras gives them.
    auto = LayerNames(keras_auto=True)

    def relu(x, stem=None):
        return keras.layers.ReLU(name=auto("re_lu"))(x)

    def hard_swish(x, stem=None):
        return keras.layers.Activation("hard_swish", name=auto("activation"))(x)

    def gate(x):
        return hard_sigmoid(x, name=auto("re_lu"))

    model_activation = relu if minimalistic else hard_swish

    def features(x):
        if include_preprocessing:
            x = keras.layers.Rescaling(scale=1.0 / 127.5, offset=-1.0, name=auto("rescaling"))(x)
        x = _stem_conv(x, 16, conventions, "conv")
        x = keras.layers.BatchNormalization(name="conv_bn", **bn)(x)
        x = model_activation(x)
        for block_id, block in enumerate(blocks):
            prefix = f"expanded_conv_{block_id}_" if block_id else "expanded_conv_"
            expanded = make_divisible(x.shape[-1] * block.expansion)
            use_se = block.squeeze_excite and not minimalistic
            use_hard_swish = not minimalistic if block.hard_swish is None else block.hard_swish
            x = inverted_residual(
                x,
                expanded_filters=expanded,
                filters=make_divisible(block.filters * alpha),
                kernel_size=block.kernel_size or (3 if minimalistic else 5),
                strides=block.strides,
                expand=block_id > 0,
                prefix=prefix,
                activation=hard_swish if use_hard_swish else relu,
                se_filters=make_divisible(expanded * V3_SE_RATIO) if use_se else None,
                se_activation=lambda t, prefix=prefix: keras.layers.ReLU(name=f"{prefix}squeeze_excite_relu")(t),
                se_gate=gate,
                pad_style=conventions.pad_style,
                bn_epsilon=conventions.bn_epsilon,
                bn_momentum=conventions.bn_momentum,
            )
        x = keras.layers.Conv2D(make_divisible(x.shape[-1] * 6), 1, padding="same", use_bias=False, name="conv_1")(x)
        x = keras.layers.BatchNormalization(name="conv_1_bn", **bn)(x)
        return model_activation(x)

    def head(x, *, classes, classifier_activation):
        # Howard 2019, §5.3: the last feature layer comes after the pooling, which makes
        # it cheap; it is a 1x1 convolution on the pooled map.
        filters = make_divisible(last_point_filters * alpha) if alpha > 1.0 else last_point_filters
        x = keras.layers.GlobalAveragePooling2D(keepdims=True, name=auto("global_average_pooling2d"))(x)
        x = keras.layers.Conv2D(filters, 1, padding="same", name="conv_2")(x)
        x = model_activation(x)
        if dropout_rate > 0:
            x = keras.layers.Dropout(dropout_rate, name=auto("dropout"))(x)
        x = keras.layers.Conv2D(classes, 1, padding="same", name="logits")(x)
        x = keras.layers.Flatten(name=auto("flatten"))(x)
        return keras.layers.Activation(classifier_activation, name="predictions")(x)

    # The rescaling has no weights: either setting loads the same checkpoints (keras.applications
    # also loads its file with include_preprocessing=False).
    form = (constructor, {"alpha": alpha, "minimalistic": minimalistic, "implementation": implementation})
    return build_model(
        features=features, head=head, input_spec=INPUT_SPEC, arguments=arguments, default_name=default_name,
        form=form,
    )


def _register_v3(name, size, params, gmacs, paper_mmacs, twin, tv_top1):
    """The twin `name` (timm's `tf_` model) and torchvision's form `tv_{name}`."""
    paper_gmacs = f"(Howard 2019, Table 3: {paper_mmacs}M)"
    twin_entry = register_model(
        name,
        family="mobilenet",
        paper=PAPER_V3,
        input_spec=INPUT_SPEC,
        reference=Reference(params=params, source=f"KA {twin}", gmacs=gmacs,
                            gmacs_source=f"TV {name} {paper_gmacs}"),
        # With include_preprocessing=True (the default, as keras.applications) the model
        # takes [0, 255] pixels; without its rescaling layer, [-1, 1] ("tf").
        preprocessing="raw",
        preprocessing_when={"include_preprocessing": {False: "tf"}},
        preset="mobilenet",
        twin=twin,
        # timm's port of the TF-slim model normalizes with mean = std = 0.5 outside the
        # model, which is the twin's rescaling to [-1, 1]: its reference form leaves it out.
        torch_reference=TorchReference(
            library="timm", constructor=f"tf_mobilenetv3_{size}_100", mapping="mobilenet",
            model_kwargs={"include_preprocessing": False}, bn_epsilon=1e-3,
        ),
        weights=(_keras_v3_weights(size, twin),),
    )
    tv_entry = register_model(
        f"tv_{name}",
        family="mobilenet",
        paper=PAPER_V3,
        input_spec=INPUT_SPEC,
        reference=Reference(params=params, source=f"TV {name} num_params (torchvision 0.29.1)", gmacs=gmacs,
                            gmacs_source=f"TV {name} {paper_gmacs}", top1=tv_top1,
                            top1_source=f"TV {name} IMAGENET1K_V1"),
        # torchvision normalizes with ImageNet mean and std outside the model; with the
        # rescaling layer put back, the model takes [0, 255] pixels.
        preprocessing="torch",
        preprocessing_when={"include_preprocessing": {True: "raw"}},
        preset="mobilenet",
        defaults={"implementation": "torchvision", "include_preprocessing": False},
        torch_reference=TorchReference(
            library="torchvision", constructor=name, mapping="mobilenet", bn_epsilon=1e-3,
        ),
        weights=PretrainedWeights.from_torchvision_rows(TORCHVISION_CHECKPOINTS[name]),
    )

    def decorator(constructor):
        return twin_entry(tv_entry(constructor))

    return decorator


@_register_v3("mobilenet_v3_small", "small", 2_542_856, 0.057, 56, "MobileNetV3Small", 67.668)
def MobileNetV3Small(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
    classes=1000, classifier_activation="softmax", name=None, alpha=1.0, minimalistic=False,
    dropout_rate=0.2, include_preprocessing=True, implementation="keras",
):
    """MobileNetV3-Small (Howard et al. 2019, Table 2), twin of `keras.applications.MobileNetV3Small`.

    The default (`implementation="keras"`) is the twin, which also computes timm's
    `tf_mobilenetv3_small_100` (TF-slim's model; with `include_preprocessing=False`):
    TensorFlow's padding of the stride-2 convolutions, BatchNorm epsilon 1e-3.
    `implementation="torchvision"` (registered as `tv_mobilenet_v3_small`, with
    `include_preprocessing=False`) computes torchvision's `mobilenet_v3_small`:
    symmetric padding, the same layers. The parity test in tests_convert proves both.

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name: as in `keras.applications`.
        alpha: width multiplier of the blocks (multiples of 8).
        minimalistic: no squeeze-excite, no hard-swish, 3x3 kernels only.
        dropout_rate: dropout before the logits convolution.
        include_preprocessing: a Rescaling layer maps inputs in [0, 255] to [-1, 1]
            (keras.applications'); the PyTorch references normalize outside the model.
        implementation: "keras" (default, the twin) or "torchvision".

    Returns:
        A `keras.Model`.
    """
    return _mobilenet_v3(
        ApplicationArguments.of(locals()), constructor=MobileNetV3Small, default_name="mobilenet_v3_small",
        blocks=V3_SMALL, last_point_filters=1024, alpha=alpha, minimalistic=minimalistic, dropout_rate=dropout_rate,
        include_preprocessing=include_preprocessing, implementation=implementation,
    )


@_register_v3("mobilenet_v3_large", "large", 5_483_032, 0.217, 219, "MobileNetV3Large", 74.042)
def MobileNetV3Large(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
    classes=1000, classifier_activation="softmax", name=None, alpha=1.0, minimalistic=False,
    dropout_rate=0.2, include_preprocessing=True, implementation="keras",
):
    """MobileNetV3-Large (Howard et al. 2019, Table 1), twin of `keras.applications.MobileNetV3Large`.

    The default (`implementation="keras"`) is the twin, which also computes timm's
    `tf_mobilenetv3_large_100` (with `include_preprocessing=False`);
    `implementation="torchvision"` (registered as `tv_mobilenet_v3_large`) computes
    torchvision's `mobilenet_v3_large`. Arguments as for `MobileNetV3Small`.
    """
    return _mobilenet_v3(
        ApplicationArguments.of(locals()), constructor=MobileNetV3Large, default_name="mobilenet_v3_large",
        blocks=V3_LARGE, last_point_filters=1280, alpha=alpha, minimalistic=minimalistic, dropout_rate=dropout_rate,
        include_preprocessing=include_preprocessing, implementation=implementation,
    )
