"""BN-Inception, Inception-v3, Inception-v4 and Inception-ResNet v1/v2 (Szegedy et al. 2015-2017).

- BN-Inception: Ioffe and Szegedy, "Batch Normalization: Accelerating Deep Network
  Training by Reducing Internal Covariate Shift", ICML 2015, arXiv 1502.03167 (§4.2,
  Fig. 5): GoogLeNet with BatchNormalization after every convolution and each 5x5
  replaced by two stacked 3x3. Counts as osmr/imgclsmob's `bninception` (convolution
  biases kept beside BN, as in the released Caffe model).
- Inception-v3: Szegedy, Vanhoucke, Ioffe, Shlens and Wojna, "Rethinking the Inception
  Architecture for Computer Vision", CVPR 2016, arXiv 1512.00567. Twin of
  `keras.applications.InceptionV3`; `aux_logits=True` adds the auxiliary classifier on the
  17x17 grid with BatchNormalization in its FC layer (§10), as a second model output.
  `tv_inception_v3` (`implementation="torchvision"`) is torchvision's `inception_v3`.
- Inception-v4, Inception-ResNet-v1 and -v2: Szegedy, Ioffe, Vanhoucke and Alemi,
  "Inception-v4, Inception-ResNet and the Impact of Residual Connections on Learning",
  AAAI 2017, arXiv 1602.07261. Inception-v4 (Figs. 3-9) is timm's `inception_v4`;
  Inception-ResNet-v1 follows Figs. 10-14 (5 A, 10 B, 5 C blocks);
  `InceptionResNetV2` is the twin of `keras.applications.InceptionResNetV2` (TF-slim's
  form: the v3-style stem and 10 / 20 / 10 blocks, where the paper's Fig. 15 has the v4
  stem and 5 / 10 / 5), and `timm_inception_resnet_v2` (`implementation="timm"`) timm's
  `inception_resnet_v2`. `residual_scale` sets the factor on every residual branch (§3.3).

Every block is a configuration of `keras_archs.layers.inception`; an implementation is a
`ConvStyle` (BN gamma and epsilon, padding-inclusive average pools), never a copy of a
block. BN-Inception and Inception-ResNet-v1 have no torchvision or timm counterpart.
"""

import dataclasses
import functools
import numbers

from keras_archs.checks import check_choice, check_rate
from keras_archs.layers.heads import classifier_head
from keras_archs.layers.inception import (
    Conv,
    ConvStyle,
    Pool,
    asymmetric,
    auxiliary_classifier,
    branch,
    conv_bn,
    expanded_bank,
    factorized_5x5,
    grid_reduction,
    inception_block,
    inception_resnet_block,
)
from keras_archs.layers.naming import LayerNames
from keras_archs.layers.norm import TORCH_BN
from keras_archs.models.base import ApplicationArguments, AuxiliaryHeads, build_model
from keras_archs.registry import (
    KERAS_WEIGHTS_URL, TF_MODELS_LICENSE, InputSpec, Paper,
    PretrainedWeights, Reference, TorchReference, register_model,
)

__all__ = ["BNInception", "InceptionResNetV1", "InceptionResNetV2", "InceptionV3", "InceptionV4"]

BN_PAPER = Paper(
    title="Batch Normalization: Accelerating Deep Network Training by Reducing Internal Covariate Shift",
    authors="S. Ioffe, C. Szegedy",
    year=2015,
    arxiv="1502.03167",
    venue="ICML 2015",
)
V3_PAPER = Paper(
    title="Rethinking the Inception Architecture for Computer Vision",
    authors="C. Szegedy, V. Vanhoucke, S. Ioffe, J. Shlens, Z. Wojna",
    year=2016,
    arxiv="1512.00567",
    venue="CVPR 2016",
)
V4_PAPER = Paper(
    title="Inception-v4, Inception-ResNet and the Impact of Residual Connections on Learning",
    authors="C. Szegedy, S. Ioffe, V. Vanhoucke, A. Alemi",
    year=2017,
    arxiv="1602.07261",
    venue="AAAI 2017",
)

AVG = Pool("avg")
MAX_3x3_2 = Pool("max", 3, strides=2, padding="valid")


def _valid(filters, kernel_size, strides=1):
    return Conv(filters, kernel_size, strides=strides, padding="valid")


# The stem shared by Inception-v3 and keras' Inception-ResNet-v2 (v3 Table 1).
V3_STEM = (
    _valid(32, 3, strides=2), _valid(32, 3), Conv(64, 3), MAX_3x3_2, _valid(80, 1), _valid(192, 3), MAX_3x3_2,
)


@dataclasses.dataclass(frozen=True)
class _Reduction:
    """A grid reduction's convolution branches (the max-pool branch is added)."""

    branches: tuple
    pool_padding: str = "valid"


def _blocks(x, blocks, *, style, after=None):
    """Builds `(name, branches or _Reduction)` in order; `after(name, x)` sees each output."""
    for block_name, block in blocks:
        if isinstance(block, _Reduction):
            x = grid_reduction(x, block.branches, style=style, name=block_name, pool_padding=block.pool_padding)
        else:
            x = inception_block(x, block, style=style, name=block_name)
        if after is not None:
            after(block_name, x)
    return x


def _check_residual_scale(value):
    if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value <= 1):
        raise ValueError(
            f"residual_scale must be None or a number in (0, 1]. Received: residual_scale={value!r}"
        )


def _build(features, *, input_spec, dropout_rate, arguments, default_name, form=None, auxiliary=None):
    """`build_model` with the family's head: global average pooling, dropout, the classifier."""
    check_rate(dropout_rate, "dropout_rate")

    def head(x, *, classes, classifier_activation):
        return classifier_head(x, classes=classes, classifier_activation=classifier_activation,
                               dropout_rate=dropout_rate)

    return build_model(
        features=features, head=head, input_spec=input_spec, arguments=arguments, default_name=default_name,
        form=form, auxiliary=auxiliary,
    )


# The keras.applications files (tests/test_weights.py compares them with what
# keras.applications downloads) and the top-1 keras.io publishes.
KERAS_INCEPTION_V3 = PretrainedWeights.from_keras(
    "InceptionV3", f"{KERAS_WEIGHTS_URL}/inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
    "9a0d58056eeedaa3f26cb7ebd46da564",
    f"{KERAS_WEIGHTS_URL}/inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
    "bcbd6486424b2319ff4ef7d526e38f63", 77.9, TF_MODELS_LICENSE, "tf",
    crop_size=299,
)
KERAS_INCEPTION_RESNET_V2 = PretrainedWeights.from_keras(
    "InceptionResNetV2",
    f"{KERAS_WEIGHTS_URL}/inception_resnet_v2/inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5",
    "e693bd0210a403b3192acc6073ad2e96",
    f"{KERAS_WEIGHTS_URL}/inception_resnet_v2/inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
    "d19885ff4a710c122648d3b5c3b684e4", 80.3, TF_MODELS_LICENSE, "tf",
    crop_size=299,
)
# torchvision.models.get_weight("Inception_V3_Weights.IMAGENET1K_V1"): url, acc@1, transform.
TORCHVISION_INCEPTION_V3 = PretrainedWeights.from_torchvision(
    "Inception_V3_Weights.IMAGENET1K_V1", "https://download.pytorch.org/models/inception_v3_google-0cc3c7bd.pth",
    77.294, resize_size=342, crop_size=299, preprocessing="tf",
    note=(
        "torchvision builds inception_v3(weights=...) with transform_input=True, which maps its ImageNet-"
        "normalized input to (pixel - 0.5) / 0.5: our model, which has no such layer, takes that (the 'tf' mode) "
        "after the published transform's resize and crop."
    ),
)
# timm's ports of the TF-slim checkpoints (timm.models.get_pretrained_cfg; top-1 from timm's
# results-imagenet.csv at 299).
TIMM_INCEPTION_V4 = PretrainedWeights.from_timm(
    "inception_v4.tf_in1k", 80.156, crop_size=299, crop_pct=0.875, interpolation="bicubic", mean=(0.5,) * 3,
    std=(0.5,) * 3,
)
TIMM_INCEPTION_RESNET_V2 = PretrainedWeights.from_timm(
    "inception_resnet_v2.tf_in1k", 80.462, crop_size=299, crop_pct=0.8975, interpolation="bicubic",
    mean=(0.5,) * 3, std=(0.5,) * 3,
)


# --- BN-Inception -------------------------------------------------------------------------

BN_INPUT_SPEC = InputSpec(default_size=224, min_size=32)
BN_STEM = (Conv(64, 7, strides=2), Pool("max", 3, strides=2), Conv(64, 1), Conv(192, 3), Pool("max", 3, strides=2))


def _bn_module(ones, three, double_three, pool_kind, pool_filters):
    """Fig. 5's module: 1x1, 1x1-3x3, 1x1-3x3-3x3 (the factorized 5x5), pool-1x1."""
    branches = ((Conv(three[0]), Conv(three[1], 3)), factorized_5x5(*double_three), (Pool(pool_kind), Conv(pool_filters)))
    return ((Conv(ones),), *branches) if ones else branches


def _bn_reduction(three, double_three):
    """Fig. 5's stride-2 module; BN-Inception pads its pooling branch ("same")."""
    return _Reduction(
        ((Conv(three[0]), Conv(three[1], 3, strides=2)), factorized_5x5(*double_three, strides=2)), pool_padding="same"
    )


# (name, module or reduction): Fig. 5 of Ioffe and Szegedy 2015.
BN_BLOCKS = (
    ("inception_3a", _bn_module(64, (64, 64), (64, 96), "avg", 32)),
    ("inception_3b", _bn_module(64, (64, 96), (64, 96), "avg", 64)),
    ("inception_3c", _bn_reduction((128, 160), (64, 96))),
    ("inception_4a", _bn_module(224, (64, 96), (96, 128), "avg", 128)),
    ("inception_4b", _bn_module(192, (96, 128), (96, 128), "avg", 128)),
    ("inception_4c", _bn_module(160, (128, 160), (128, 160), "avg", 128)),
    ("inception_4d", _bn_module(96, (128, 192), (160, 192), "avg", 128)),
    ("inception_4e", _bn_reduction((128, 192), (192, 256))),
    ("inception_5a", _bn_module(352, (192, 320), (160, 224), "avg", 128)),
    ("inception_5b", _bn_module(352, (192, 320), (192, 224), "max", 128)),
)


@register_model(
    "bn_inception",
    family="inception",
    paper=BN_PAPER,
    input_spec=BN_INPUT_SPEC,
    reference=Reference(params=11_295_240, source="IMG bninception", gmacs=2.048, gmacs_source="IMG bninception"),
    preprocessing="caffe",
    # Ioffe 2015 §4.2.1 publishes only changes to an unpublished Inception recipe (rate x5 or
    # x30, decay 6x faster, L2 /5, no dropout), so no preset reproduces it.
    preset="modern",
)
def BNInception(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
    classifier_activation="softmax", name=None, dropout_rate=0.0,
):
    """BN-Inception (Inception-v2) of Ioffe and Szegedy (2015), Fig. 5.

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name: as in `keras.applications` (see
            `keras_archs.models.base.build_model`).
        dropout_rate: dropout before the classifier; 0 as the paper, which removed it (§4.2.1).

    Returns:
        A `keras.Model`.
    """
    arguments = ApplicationArguments.of(locals())
    # Biases beside BN and PyTorch's BN settings, as the released model.
    style = ConvStyle(use_bias=True, **TORCH_BN)

    def features(x):
        x = branch(x, BN_STEM, style=style, name="stem")
        return _blocks(x, BN_BLOCKS, style=style)

    return _build(features, input_spec=BN_INPUT_SPEC, dropout_rate=dropout_rate, arguments=arguments,
                  default_name="bn_inception")


# --- Inception-v3 -------------------------------------------------------------------------

V3_INPUT_SPEC = InputSpec(default_size=299, min_size=75)
# The conventions of each implementation of Inception-v3; the layers are the same.
V3_IMPLEMENTATIONS = {
    # keras.applications / TF-slim: BN without gamma, "same" average pools that average only
    # the pixels inside the image.
    "keras": {"bn_scale": False, "count_include_pad": False},
    # torchvision's `inception_v3`: BN with gamma (epsilon 1e-3 as keras'), and
    # `F.avg_pool2d(x, 3, 1, padding=1)`, which counts the zero padding.
    "torchvision": {"bn_scale": True, "count_include_pad": True},
}
# Its 5x5/3 pooling and 5x5 "FC" convolution need the 17x17 mixed7 grid of a 299 input.
V3_AUX_MIN_SIZE = 299


def _v3_35x35(pool_filters):
    """Fig. 5: the 5x5 kept beside its factorized form, as in the released model."""
    return ((Conv(64),), (Conv(48), Conv(64, 5)), factorized_5x5(64, 96), (AVG, Conv(pool_filters)))


def _v3_17x17(width):
    """Fig. 6 with n=7: 7x7 as 1x7 + 7x1, and the double 7x7 as four asymmetric layers."""
    return (
        (Conv(192),),
        (Conv(width), *asymmetric(7, (width, 192))),
        (Conv(width), *asymmetric(7, (width, width), vertical_first=True),
         *asymmetric(7, (width, 192), vertical_first=True)),
        (AVG, Conv(192)),
    )


def _v3_8x8(index):
    """Fig. 7: the expanded filter bank on the coarsest grid."""
    return (
        (Conv(320),),
        (Conv(384), expanded_bank(384, name=f"mixed9_{index}")),
        (Conv(448), Conv(384, 3), expanded_bank(384)),
        (AVG, Conv(192)),
    )


V3_AUX_AFTER = "mixed7"
V3_BLOCKS = (
    ("mixed0", _v3_35x35(32)),
    ("mixed1", _v3_35x35(64)),
    ("mixed2", _v3_35x35(64)),
    ("mixed3", _Reduction(((_valid(384, 3, strides=2),), factorized_5x5(64, 96, strides=2, padding="valid")))),
    ("mixed4", _v3_17x17(128)),
    ("mixed5", _v3_17x17(160)),
    ("mixed6", _v3_17x17(160)),
    ("mixed7", _v3_17x17(192)),
    ("mixed8", _Reduction(((Conv(192), _valid(320, 3, strides=2)),
                           (Conv(192), *asymmetric(7, (192, 192)), _valid(192, 3, strides=2))))),
    ("mixed9", _v3_8x8(0)),
    ("mixed10", _v3_8x8(1)),
)


@register_model(
    "inception_v3",
    family="inception",
    paper=V3_PAPER,
    input_spec=V3_INPUT_SPEC,
    reference=Reference(
        params=23_817_352, source="KA InceptionV3 (BN scale=False; TV's 27,161,264 has gammas and the aux head)",
        gmacs=5.713, gmacs_source="TV inception_v3 (its model carries the aux head; ops of the inference path)",
        top1=78.8, top1_source="Szegedy 2016: 21.2% top-1 error, single crop",
    ),
    preprocessing="tf",
    preset="inception_v3",
    twin="InceptionV3",
    weights=(KERAS_INCEPTION_V3,),
)
@register_model(
    "tv_inception_v3",
    family="inception",
    paper=V3_PAPER,
    input_spec=V3_INPUT_SPEC,
    reference=Reference(
        params=23_834_568, source="TV inception_v3(aux_logits=False) num_params (torchvision 0.29.1)",
        gmacs=5.713, gmacs_source="TV inception_v3",
        top1=77.294, top1_source="TV inception_v3 IMAGENET1K_V1",
    ),
    # torchvision's checkpoint (ported from TF-slim) computes on [-1, 1] inputs: its
    # `transform_input=True` turns ImageNet mean/std inputs back into them, and this model
    # (like the reference built without weights) has no such step.
    preprocessing="tf",
    preset="inception_v3",
    defaults={"implementation": "torchvision"},
    torch_reference=TorchReference(
        library="torchvision", constructor="inception_v3", mapping="inception",
        kwargs={"aux_logits": False, "init_weights": False}, bn_epsilon=1e-3, auxiliary=("AuxLogits.",),
    ),
    weights=(TORCHVISION_INCEPTION_V3,),
)
def InceptionV3(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
    classifier_activation="softmax", name=None, aux_logits=False, implementation="keras",
):
    """Inception-v3 (Szegedy et al. 2016), twin of `keras.applications.InceptionV3`.

    Layers have keras' automatic names (`conv2d_12`, ...) in keras' order, so that keras'
    weight files and `set_weights` transfer. The default (`implementation="keras"`)
    reproduces keras.applications' and TF-slim's model: BatchNormalization without gamma
    (`scale=False`), and "same" average pools that average only the pixels inside the image.
    `implementation="torchvision"` (registered as `tv_inception_v3`) computes torchvision's
    `inception_v3` (proven by the parity test in tests_convert): BN with gamma, and average
    pools that count the zero padding; the layers and their names are the same.

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name: as in `keras.applications` (see
            `keras_archs.models.base.build_model`).
        aux_logits: with `include_top=True`, add the auxiliary classifier on `mixed7`
            (5x5/3 average pooling, 1x1-128, a 5x5-768 "FC" convolution with BN, the
            classifier) as the model's second output. The recipe weights its loss (0.3 in
            GoogLeNet's recipe, 0.4 in TF-slim's); inference uses the first output. It
            needs a fixed input of at least 299x299 (a 17x17 `mixed7`). Default False: the
            twin has one output.
        implementation: "keras" (default, the twin) or "torchvision".

    Returns:
        A `keras.Model`.
    """
    arguments = ApplicationArguments.of(locals())
    check_choice(implementation, tuple(V3_IMPLEMENTATIONS), "implementation")
    style = ConvStyle(names=LayerNames(keras_auto=True), **V3_IMPLEMENTATIONS[implementation])

    def features(x, add_auxiliary):
        def after(block_name, x):
            if block_name == V3_AUX_AFTER:
                add_auxiliary(x)

        x = branch(x, V3_STEM, style=style, name="stem")
        return _blocks(x, V3_BLOCKS, style=style, after=after)

    auxiliary = AuxiliaryHeads(
        enabled=aux_logits, min_size=V3_AUX_MIN_SIZE,
        build=functools.partial(auxiliary_classifier, style=style, name="aux", hidden_units=768, hidden_kernel=5),
    )
    return _build(features, input_spec=V3_INPUT_SPEC, dropout_rate=0.0, arguments=arguments,
                  default_name="inception_v3", form=(InceptionV3, {"implementation": implementation}),
                  auxiliary=auxiliary)


# --- Inception-v4 -------------------------------------------------------------------------

V4_INPUT_SPEC = InputSpec(default_size=299, min_size=75)

V4_INCEPTION_A = ((Conv(96),), (Conv(64), Conv(96, 3)), factorized_5x5(64, 96), (AVG, Conv(96)))
V4_REDUCTION_A = ((_valid(384, 3, strides=2),), (Conv(192), Conv(224, 3), _valid(256, 3, strides=2)))
V4_INCEPTION_B = (
    (Conv(384),),
    (Conv(192), *asymmetric(7, (224, 256))),
    (Conv(192), *asymmetric(7, (192, 224), vertical_first=True), *asymmetric(7, (224, 256), vertical_first=True)),
    (AVG, Conv(128)),
)
V4_REDUCTION_B = (
    (Conv(192), _valid(192, 3, strides=2)),
    (Conv(256), *asymmetric(7, (256, 320)), _valid(320, 3, strides=2)),
)
V4_INCEPTION_C = (
    (Conv(256),),
    (Conv(384), expanded_bank(256)),
    (Conv(384), *asymmetric(3, (448, 512), vertical_first=True), expanded_bank(256)),
    (AVG, Conv(256)),
)


# Fig. 9: 4 x Inception-A, Reduction-A, 7 x Inception-B, Reduction-B, 3 x Inception-C.
V4_BLOCKS = (
    *((f"inception_a{index}", V4_INCEPTION_A) for index in range(1, 5)),
    ("reduction_a", _Reduction(V4_REDUCTION_A)),
    *((f"inception_b{index}", V4_INCEPTION_B) for index in range(1, 8)),
    ("reduction_b", _Reduction(V4_REDUCTION_B)),
    *((f"inception_c{index}", V4_INCEPTION_C) for index in range(1, 4)),
)


def _v4_stem(x, style):
    """Fig. 3: convolution and pooling branches side by side at each reduction."""
    x = branch(x, (_valid(32, 3, strides=2), _valid(32, 3), Conv(64, 3)), style=style, name="stem")
    x = grid_reduction(x, ((_valid(96, 3, strides=2),),), style=style, name="mixed_3a", pool_first=True)
    x = inception_block(
        x, ((Conv(64), _valid(96, 3)), (Conv(64), *asymmetric(7, (64, 64)), _valid(96, 3))),
        style=style, name="mixed_4a",
    )
    return grid_reduction(x, ((_valid(192, 3, strides=2),),), style=style, name="mixed_5a")


@register_model(
    "inception_v4",
    family="inception",
    paper=V4_PAPER,
    input_spec=V4_INPUT_SPEC,
    reference=Reference(
        params=42_679_816, source="IMG inceptionv4; timm inception_v4", gmacs=12.305, gmacs_source="IMG inceptionv4",
        top1=80.2, top1_source="TF-slim table",
    ),
    preprocessing="tf",
    # Szegedy 2017 §4: RMSProp decay 0.9, epsilon 1.0, rate 0.045 x0.94 every 2 epochs, as Inception-v3.
    preset="inception_v3",
    torch_reference=TorchReference(library="timm", constructor="inception_v4", mapping="inception", bn_epsilon=1e-3),
    weights=(TIMM_INCEPTION_V4,),
)
def InceptionV4(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
    classifier_activation="softmax", name=None, dropout_rate=0.2,
):
    """Inception-v4 (Szegedy et al. 2017, Fig. 9): stem, 4 A, reduction, 7 B, reduction, 3 C.

    Computes timm's `inception_v4` (Cadene's port of the TF-slim model; proven by the parity
    test in tests_convert): BN with gamma and epsilon 1e-3, "valid" stride-2 convolutions
    and pools, and average pools that average only the pixels inside the image.

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name: as in `keras.applications` (see
            `keras_archs.models.base.build_model`).
        dropout_rate: dropout before the classifier (the paper keeps 0.8: 0.2).

    Returns:
        A `keras.Model`.
    """
    arguments = ApplicationArguments.of(locals())
    style = ConvStyle()

    def features(x):
        return _blocks(_v4_stem(x, style), V4_BLOCKS, style=style)

    return _build(features, input_spec=V4_INPUT_SPEC, dropout_rate=dropout_rate, arguments=arguments,
                  default_name="inception_v4", form=(InceptionV4, {}))


# --- Inception-ResNet ---------------------------------------------------------------------

IR_INPUT_SPEC = InputSpec(default_size=299, min_size=75)
# TF-slim's factors on the residuals of the 35x35, 17x17 and 8x8 blocks (the paper: 0.1-0.3).
DEFAULT_RESIDUAL_SCALES = (0.17, 0.1, 0.2)


def _inception_resnet_stages(x, stages, residual_scale, style, last_linear=False):
    """Repeats each stage's residual block, with the grid reductions between stages.

    Args:
        stages: (block prefix, count, branches, reduction after or None) per grid.
        residual_scale: None for `DEFAULT_RESIDUAL_SCALES`, or one factor for every block.
        last_linear: the very last block adds its residual unscaled and without ReLU
            (TF-slim's Inception-ResNet-v2).
    """
    for (prefix, count, branches, reduction), default_scale in zip(stages, DEFAULT_RESIDUAL_SCALES):
        scale = default_scale if residual_scale is None else residual_scale
        for index in range(1, count + 1):
            final = last_linear and reduction is None and index == count
            x = inception_resnet_block(
                x, branches, scale=1.0 if final else scale, activation=None if final else "relu", style=style,
                name=f"{prefix}_{index}",
            )
        if reduction is not None:
            reduction_name, reduction_branches = reduction
            x = grid_reduction(x, reduction_branches, style=style, name=reduction_name)
    return x


# Figs. 14, 10, 7 (k=192, l=192, m=256, n=384), 11, 12, 13.
IR_V1_STEM = (*V3_STEM[:6], _valid(256, 3, strides=2))
IR_V1_STAGES = (
    ("block35", 5, ((Conv(32),), (Conv(32), Conv(32, 3)), factorized_5x5(32, 32)),
     ("mixed_6a", ((_valid(384, 3, strides=2),), (Conv(192), Conv(192, 3), _valid(256, 3, strides=2))))),
    ("block17", 10, ((Conv(128),), (Conv(128), *asymmetric(7, (128, 128)))),
     ("mixed_7a", ((Conv(256), _valid(384, 3, strides=2)), (Conv(256), _valid(256, 3, strides=2)),
                   (Conv(256), Conv(256, 3), _valid(256, 3, strides=2))))),
    ("block8", 5, ((Conv(192),), (Conv(192), *asymmetric(3, (192, 192)))), None),
)


def _ir_style(keras_auto, bn_scale=False):
    """keras' Inception-ResNet convention: no BN gamma (unless `bn_scale`), names `{name}`, `_bn`, `_ac`."""
    return ConvStyle(names=LayerNames(keras_auto=keras_auto), bn_scale=bn_scale, conv_suffix="", act_suffix="_ac")


@register_model(
    "inception_resnet_v1",
    family="inception",
    paper=V4_PAPER,
    input_spec=IR_INPUT_SPEC,
    reference=Reference(
        params=22_742_808,
        source="hand arithmetic from Szegedy 2017 Figs. 7, 10-14 (k=192, l=192, m=256, n=384), "
               "bias-free convolutions with BN beta only, biased 1x1 expansions, FC 1792->1000",
    ),
    preprocessing="tf",
    preset="inception_v3",
)
def InceptionResNetV1(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
    classifier_activation="softmax", name=None, residual_scale=None, dropout_rate=0.2,
):
    """Inception-ResNet-v1 (Szegedy et al. 2017, Figs. 10-14): 5 A, 10 B and 5 C blocks.

    Convolutions as keras' Inception-ResNet-v2 (no bias, BN without gamma; the 1x1
    expansions biased and linear).

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name: as in `keras.applications` (see
            `keras_archs.models.base.build_model`).
        residual_scale: factor on every residual branch; None for TF-slim's 0.17, 0.1, 0.2
            on the 35x35, 17x17 and 8x8 blocks.
        dropout_rate: dropout before the classifier (the paper keeps 0.8: 0.2).

    Returns:
        A `keras.Model`.
    """
    arguments = ApplicationArguments.of(locals())
    _check_residual_scale(residual_scale)
    style = _ir_style(keras_auto=False)

    def features(x):
        x = branch(x, IR_V1_STEM, style=style, name="stem")
        return _inception_resnet_stages(x, IR_V1_STAGES, residual_scale, style)

    return _build(features, input_spec=IR_INPUT_SPEC, dropout_rate=dropout_rate, arguments=arguments,
                  default_name="inception_resnet_v1")


IR_V2_MIXED_5B = ((Conv(96),), (Conv(48), Conv(64, 5)), factorized_5x5(64, 96), (AVG, Conv(64)))
IR_V2_STAGES = (
    ("block35", 10, ((Conv(32),), (Conv(32), Conv(32, 3)), (Conv(32), Conv(48, 3), Conv(64, 3))),
     ("mixed_6a", ((_valid(384, 3, strides=2),), (Conv(256), Conv(256, 3), _valid(384, 3, strides=2))))),
    ("block17", 20, ((Conv(192),), (Conv(128), *asymmetric(7, (160, 192)))),
     ("mixed_7a", ((Conv(256), _valid(384, 3, strides=2)), (Conv(256), _valid(288, 3, strides=2)),
                   (Conv(256), Conv(288, 3), _valid(320, 3, strides=2))))),
    ("block8", 10, ((Conv(192),), (Conv(192), *asymmetric(3, (224, 256)))), None),
)


@register_model(
    "inception_resnet_v2",
    family="inception",
    paper=V4_PAPER,
    input_spec=IR_INPUT_SPEC,
    reference=Reference(
        params=55_813_192, source="KA InceptionResNetV2", top1=80.4, top1_source="TF-slim table",
    ),
    preprocessing="tf",
    preset="inception_v3",
    twin="InceptionResNetV2",
    weights=(KERAS_INCEPTION_RESNET_V2,),
)
@register_model(
    "timm_inception_resnet_v2",
    family="inception",
    paper=V4_PAPER,
    input_spec=IR_INPUT_SPEC,
    reference=Reference(params=55_843_464, source="timm inception_resnet_v2 num_params (timm 1.0.31)"),
    preprocessing="tf",
    preset="inception_v3",
    defaults={"implementation": "timm"},
    torch_reference=TorchReference(
        library="timm", constructor="inception_resnet_v2", mapping="inception", bn_epsilon=1e-3,
    ),
    weights=(TIMM_INCEPTION_RESNET_V2,),
)
def InceptionResNetV2(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
    classifier_activation="softmax", name=None, residual_scale=None, dropout_rate=0.0, implementation="keras",
):
    """Inception-ResNet-v2, twin of `keras.applications.InceptionResNetV2` (TF-slim's form).

    The v3 stem with `mixed_5b`, 10 block35, `mixed_6a`, 20 block17, `mixed_7a`, 10 block8
    (the last one linear and unscaled), `conv_7b`. Layers keras names itself have keras'
    automatic names, in keras' order. The default (`implementation="keras"`) reproduces
    keras.applications' model: BatchNormalization without gamma. `implementation="timm"`
    (registered as `timm_inception_resnet_v2`) computes timm's `inception_resnet_v2`
    (proven by the parity test in tests_convert): the same layers with BN gamma; its
    padding, pooling and BN epsilon (1e-3) are already keras'.

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name: as in `keras.applications` (see
            `keras_archs.models.base.build_model`).
        residual_scale: factor on every residual branch; None for 0.17, 0.1, 0.2 (keras').
        dropout_rate: dropout before the classifier; 0 as the twin (the paper keeps 0.8).
        implementation: "keras" (default, the twin) or "timm".

    Returns:
        A `keras.Model`.
    """
    arguments = ApplicationArguments.of(locals())
    _check_residual_scale(residual_scale)
    check_choice(implementation, ("keras", "timm"), "implementation")
    style = _ir_style(keras_auto=True, bn_scale=implementation == "timm")

    def features(x):
        x = branch(x, V3_STEM, style=style, name="stem")
        x = inception_block(x, IR_V2_MIXED_5B, style=style, name="mixed_5b")
        x = _inception_resnet_stages(x, IR_V2_STAGES, residual_scale, style, last_linear=True)
        return conv_bn(x, 1536, 1, style=style, name="conv_7b", explicit=True)

    return _build(features, input_spec=IR_INPUT_SPEC, dropout_rate=dropout_rate, arguments=arguments,
                  default_name="inception_resnet_v2", form=(InceptionResNetV2, {"implementation": implementation}))
