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
convolutions come from `keras_archs.layers.mobile.sep_conv_bn`. The paper's ImageNet model
had dropout 0.5 before the classifier (§4.3); `dropout_rate` defaults to 0 as the twin.
"""

import keras

from keras_archs.layers.heads import classifier_head
from keras_archs.layers.inception import ConvStyle, LayerNames, conv_bn
from keras_archs.layers.mobile import sep_conv_bn
from keras_archs.models.base import build_model, check_rate
from keras_archs.registry import InputSpec, Paper, Reference, register_model

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


def _downsampling_block(x, block, filters, *, style, first_activation=True):
    """Separable convolutions, 3x3/2 max pooling, plus a strided 1x1 projection shortcut."""
    names = style.names
    # The shortcut is created first, as in keras, so the automatic names line up.
    shortcut = keras.layers.Conv2D(
        filters[-1], 1, strides=2, padding="same", use_bias=False, name=names("conv2d", f"block{block}_shortcut")
    )(x)
    shortcut = keras.layers.BatchNormalization(name=names("batch_normalization", f"block{block}_shortcut_bn"))(shortcut)
    for index, width in enumerate(filters, start=1):
        x = sep_conv_bn(
            x, width, 3, name=f"block{block}_sepconv{index}",
            pre_activation="relu" if index > 1 or first_activation else None,
        )
    x = keras.layers.MaxPooling2D(3, strides=2, padding="same", name=f"block{block}_pool")(x)
    return keras.layers.Add(name=names("add", f"block{block}_add"))([x, shortcut])


def _middle_block(x, block, *, style):
    """Three ReLU-separable convolutions at 728 channels around an identity shortcut."""
    shortcut = x
    for index in range(1, 4):
        x = sep_conv_bn(x, 728, 3, name=f"block{block}_sepconv{index}", pre_activation="relu")
    return keras.layers.Add(name=style.names("add", f"block{block}_add"))([x, shortcut])


def _features(x):
    # keras names the shortcut layers itself; the rest explicitly.
    style = ConvStyle(names=LayerNames(keras_auto=True), conv_suffix="", act_suffix="_act")
    x = conv_bn(x, 32, 3, strides=2, padding="valid", style=style, name="block1_conv1", explicit=True)
    x = conv_bn(x, 64, 3, padding="valid", style=style, name="block1_conv2", explicit=True)
    for block, filters in ENTRY_BLOCKS:
        x = _downsampling_block(x, block, filters, style=style, first_activation=block != 2)
    for block in MIDDLE_BLOCKS:
        x = _middle_block(x, block, style=style)
    x = _downsampling_block(x, *EXIT_BLOCK, style=style)
    for index, width in enumerate((1536, 2048), start=1):
        x = sep_conv_bn(x, width, 3, name=f"block14_sepconv{index}")
        x = keras.layers.Activation("relu", name=f"block14_sepconv{index}_act")(x)
    return x


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
):
    """Xception (Chollet 2017, Fig. 5), twin of `keras.applications.Xception`.

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name: as in `keras.applications` (see
            `keras_archs.models.base.build_model`).
        dropout_rate: dropout before the classifier (the paper: 0.5; default 0 as the twin).

    Returns:
        A `keras.Model`.
    """
    check_rate(dropout_rate, "dropout_rate")

    def head(x, *, classes, classifier_activation):
        return classifier_head(x, classes=classes, classifier_activation=classifier_activation,
                               dropout_rate=dropout_rate)

    return build_model(
        features=_features,
        head=head,
        input_spec=INPUT_SPEC,
        include_top=include_top,
        weights=weights,
        input_tensor=input_tensor,
        input_shape=input_shape,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        name=name or "xception",
    )
