"""Xception (Chollet 2017).

"Xception: Deep Learning with Depthwise Separable Convolutions", CVPR 2017, arXiv
1610.02357. The inception hypothesis taken to its extreme (§2): cross-channel and spatial
correlations mapped entirely separately, by depthwise-separable convolutions. Fig. 5: an
entry flow (two convolutions, then three blocks of two separable convolutions ending in
3x3/2 max pooling, each with a strided 1x1 projection shortcut), a middle flow of eight
identity-shortcut blocks of three ReLU-separable convolutions at 728 channels, an exit
flow (one more downsampling block, then separable convolutions to 1536 and 2048), global
average pooling and the classifier.

Twin of `keras.applications.Xception`: same layers, order, names (keras' automatic names
for the shortcut convolutions, their BN and the additions) and weight shapes. The separable
convolutions come from `keras_archs.layers.conv.sep_conv_bn`. The paper's ImageNet model
had dropout 0.5 before the classifier (§4.3); `dropout_rate` defaults to 0 as the twin.

`implementation="timm"` (registered as `timm_xception`) is the same network in the
conventions of timm's `legacy_xception` (Cadene's port of the keras weights): BN epsilon
1e-5, and the 3x3/2 max pools of the downsampling blocks padded 1 on each side (PyTorch's
`MaxPool2d(3, 2, 1)`) where TensorFlow's "same" pads 0 before and 1 after an even side.
"""

import dataclasses

import keras

from keras_archs.checks import check_choice, check_rate
from keras_archs.layers.conv import sep_conv_bn
from keras_archs.layers.heads import classifier_head
from keras_archs.layers.inception import ConvStyle, conv_bn
from keras_archs.layers.naming import LayerNames
from keras_archs.layers.padding import max_pool
from keras_archs.models.base import ApplicationArguments, build_model
from keras_archs.registry import (
    KERAS_WEIGHTS_URL, InputSpec, Paper, PretrainedWeights, Reference, TorchReference, register_model,
)

__all__ = ["Xception"]

PAPER = Paper(
    title="Xception: Deep Learning with Depthwise Separable Convolutions",
    authors="F. Chollet",
    year=2017,
    arxiv="1610.02357",
    venue="CVPR 2017",
)
INPUT_SPEC = InputSpec(default_size=299, min_size=71)

# (block, separable filters, downsampling block): Fig. 5.
ENTRY_BLOCKS = ((2, (128, 128)), (3, (256, 256)), (4, (728, 728)))
MIDDLE_BLOCKS = tuple(range(5, 13))
EXIT_BLOCK = (13, (728, 1024))


@dataclasses.dataclass(frozen=True)
class _Implementation:
    """The conventions in which an implementation builds the same layers.

    Attributes:
        bn_epsilon: BatchNormalization epsilon (keras' default 1e-3; PyTorch's 1e-5).
        symmetric_pool: pad the downsampling max pools 1 on each side, as PyTorch, instead
            of TensorFlow's "same".
    """

    bn_epsilon: float
    symmetric_pool: bool


IMPLEMENTATIONS = {
    "keras": _Implementation(bn_epsilon=1e-3, symmetric_pool=False),
    "timm": _Implementation(bn_epsilon=1e-5, symmetric_pool=True),
}


def _downsampling_block(x, block, filters, *, style, implementation, first_activation=True):
    """Separable convolutions, 3x3/2 max pooling, plus a strided 1x1 projection shortcut.

    The 1x1/2 shortcut samples pixels 0, 2, 4, ... in both conventions ("same" pads a 1x1
    kernel nothing); the pool's windows are centred on them only with symmetric padding.
    """
    names = style.names
    # The shortcut is created first, as in keras, so the automatic names line up.
    shortcut = keras.layers.Conv2D(
        filters[-1], 1, strides=2, padding="same", use_bias=False, name=names("conv2d", f"block{block}_shortcut")
    )(x)
    shortcut = keras.layers.BatchNormalization(
        epsilon=style.bn_epsilon, name=names("batch_normalization", f"block{block}_shortcut_bn")
    )(shortcut)
    for index, width in enumerate(filters, start=1):
        x = sep_conv_bn(
            x, width, 3, name=f"block{block}_sepconv{index}", bn_epsilon=style.bn_epsilon,
            pre_activation="relu" if index > 1 or first_activation else None,
        )
    if implementation.symmetric_pool:
        # The pool follows BatchNorm: its inputs have either sign.
        x = max_pool(x, 3, 2, padding=1, nonnegative_input=False, name=f"block{block}_pool")
    else:
        x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name=f"block{block}_pool")(x)
    return keras.layers.Add(name=names("add", f"block{block}_add"))([x, shortcut])


def _middle_block(x, block, *, style):
    """Three ReLU-separable convolutions at 728 channels around an identity shortcut."""
    shortcut = x
    for index in range(1, 4):
        x = sep_conv_bn(
            x, 728, 3, name=f"block{block}_sepconv{index}", bn_epsilon=style.bn_epsilon, pre_activation="relu"
        )
    return keras.layers.Add(name=style.names("add", f"block{block}_add"))([x, shortcut])


def _features(x, implementation):
    # keras names the shortcut layers itself; the rest explicitly.
    style = ConvStyle(
        names=LayerNames(keras_auto=True), bn_epsilon=implementation.bn_epsilon, conv_suffix="", act_suffix="_act"
    )
    x = conv_bn(x, 32, 3, strides=2, padding="valid", style=style, name="block1_conv1", explicit=True)
    x = conv_bn(x, 64, 3, padding="valid", style=style, name="block1_conv2", explicit=True)
    for block, filters in ENTRY_BLOCKS:
        x = _downsampling_block(
            x, block, filters, style=style, implementation=implementation, first_activation=block != 2
        )
    for block in MIDDLE_BLOCKS:
        x = _middle_block(x, block, style=style)
    x = _downsampling_block(x, *EXIT_BLOCK, style=style, implementation=implementation)
    for index, width in enumerate((1536, 2048), start=1):
        x = sep_conv_bn(x, width, 3, name=f"block14_sepconv{index}", bn_epsilon=style.bn_epsilon)
        x = keras.layers.Activation("relu", name=f"block14_sepconv{index}_act")(x)
    return x


_KERAS_WEIGHTS = f"{KERAS_WEIGHTS_URL}/xception"
# keras.applications' files (tests/test_weights.py compares them with what keras.applications
# downloads), with keras.io's top-1.
KERAS_XCEPTION = PretrainedWeights.from_keras(
    "Xception", f"{_KERAS_WEIGHTS}/xception_weights_tf_dim_ordering_tf_kernels.h5",
    "0a58e3b7378bc2990ea3b43d5981f1f6", f"{_KERAS_WEIGHTS}/xception_weights_tf_dim_ordering_tf_kernels_notop.h5",
    "b0042744bf5b25fce3cb969f33bebb97", 79.0, "MIT (trained by keras' author, as keras' documentation states)", "tf",
    crop_size=299,
)
# Cadene's port of the keras file to PyTorch, which timm fetches from its GitHub releases
# (it is not on the Hugging Face Hub); top-1 from timm's results-imagenet.csv at 299.
TIMM_XCEPTION = PretrainedWeights.from_timm(
    "legacy_xception.tf_in1k", 79.040, crop_size=299, crop_pct=0.8975, interpolation="bicubic", mean=(0.5,) * 3,
    std=(0.5,) * 3,
    url="https://github.com/rwightman/pytorch-image-models/releases/download/v0.1-cadene/xception-43020ad28.pth",
)


def _xception(arguments, *, dropout_rate, implementation):
    check_rate(dropout_rate, "dropout_rate")
    check_choice(implementation, tuple(IMPLEMENTATIONS), "implementation")
    config = IMPLEMENTATIONS[implementation]

    def features(x):
        return _features(x, config)

    def head(x, *, classes, classifier_activation):
        return classifier_head(x, classes=classes, classifier_activation=classifier_activation,
                               dropout_rate=dropout_rate)

    return build_model(
        features=features, head=head, input_spec=INPUT_SPEC, arguments=arguments, default_name="xception",
        form=(Xception, {"implementation": implementation}),
    )


@register_model(
    "xception",
    family="xception",
    paper=PAPER,
    input_spec=INPUT_SPEC,
    reference=Reference(
        params=22_855_952, source="KA Xception; Chollet 2017 Table 3", gmacs=8.404, gmacs_source="IMG xception",
        top1=79.0, top1_source="Chollet 2017 Table 1",
    ),
    preprocessing="tf",
    # Chollet 2017 §4.3 keeps Inception-v3's rate and decay (0.045, x0.94 every 2 epochs) with SGD
    # momentum 0.9 in place of RMSProp; the inception_v3 preset is the nearest.
    preset="inception_v3",
    twin="Xception",
    weights=(KERAS_XCEPTION,),
)
@register_model(
    "timm_xception",
    family="xception",
    paper=PAPER,
    input_spec=INPUT_SPEC,
    reference=Reference(params=22_855_952, source="timm legacy_xception num_params (timm 1.0.31)"),
    # timm's legacy_xception normalizes with mean = std = 0.5: pixels to [-1, 1], as "tf".
    preprocessing="tf",
    preset="inception_v3",
    defaults={"implementation": "timm"},
    torch_reference=TorchReference(library="timm", constructor="legacy_xception", mapping="xception"),
    weights=(TIMM_XCEPTION,),
)
def Xception(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name=None,
    dropout_rate=0.0,
    implementation="keras",
):
    """Xception (Chollet 2017, Fig. 5), twin of `keras.applications.Xception`.

    The default (`implementation="keras"`) reproduces keras.applications' model.
    `implementation="timm"` (registered as `timm_xception`) computes timm's
    `legacy_xception` (proven by the parity test in tests_convert): the same layers and
    names with BN epsilon 1e-5 and PyTorch's symmetric padding of the strided max pools
    (each pool is then a stride-1 window layer `{pool}_window` and a subsampling layer).

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name: as in `keras.applications` (see
            `keras_archs.models.base.build_model`).
        dropout_rate: dropout before the classifier (the paper: 0.5; default 0 as the twin).
        implementation: "keras" (default, the twin) or "timm".

    Returns:
        A `keras.Model`.
    """
    return _xception(ApplicationArguments.of(locals()), dropout_rate=dropout_rate, implementation=implementation)
