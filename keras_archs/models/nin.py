"""Network in Network (Lin, Chen and Yan 2014).

"Network In Network", ICLR 2014, arXiv 1312.4400. Each "mlpconv" layer is a convolution
followed by two 1x1 convolutions (a small MLP slid over the image); the classifier is
global average pooling of one map per class, with no fully connected layer.

- `variant="cifar"`: the CIFAR-10 network of §4.2 / the authors' Caffe model: three
  mlpconv layers (192-160-96, 192-192-192, 192-192-classes), 3x3/2 max then average
  pooling, dropout 0.5 after the first two; 966,986 parameters for 10 classes.
- `variant="imagenet"`: the authors' ImageNet model (Caffe Model Zoo "NIN-Imagenet"):
  four mlpconv layers (96, 256, 384, 1024-1024-classes) on an AlexNet-like stem.

The last 1x1 convolution (to one map per class) is the head: `include_top=False` ends at
the layer before it. It has no ReLU here, so the pooled maps are proper logits.
"""

import dataclasses

import keras

from keras_archs.checks import check_choice, check_rate
from keras_archs.layers.conv import mlpconv
from keras_archs.layers.heads import conv_classifier_head
from keras_archs.models.base import ApplicationArguments, build_model
from keras_archs.registry import InputSpec, Paper, Reference, register_model

__all__ = ["NiN"]

PAPER = Paper(
    title="Network In Network",
    authors="M. Lin, Q. Chen, S. Yan",
    year=2014,
    arxiv="1312.4400",
    venue="ICLR 2014",
)


@dataclasses.dataclass(frozen=True)
class _Block:
    filters: tuple
    kernel_size: int
    strides: int = 1
    pool: str = None
    dropout: bool = False


@dataclasses.dataclass(frozen=True)
class _Variant:
    blocks: tuple
    input_spec: InputSpec
    padding: str


VARIANTS = {
    "cifar": _Variant(
        blocks=(
            _Block((192, 160, 96), 5, pool="max", dropout=True),
            _Block((192, 192, 192), 5, pool="avg", dropout=True),
            _Block((192, 192), 3),
        ),
        input_spec=InputSpec(default_size=32, min_size=4),
        padding="same",
    ),
    "imagenet": _Variant(
        blocks=(
            _Block((96, 96, 96), 11, strides=4, pool="max"),
            _Block((256, 256, 256), 5, pool="max"),
            _Block((384, 384, 384), 3, pool="max", dropout=True),
            _Block((1024, 1024), 3),
        ),
        # The first convolution is 11x11/4 without padding, then three 3x3/2 poolings.
        input_spec=InputSpec(default_size=224, min_size=67),
        padding="valid",
    ),
}
POOLS = {"max": keras.layers.MaxPooling2D, "avg": keras.layers.AveragePooling2D}


def _features(x, variant, dropout_rate):
    for index, block in enumerate(variant.blocks, start=1):
        x = mlpconv(
            x,
            block.filters,
            block.kernel_size,
            strides=block.strides,
            padding="valid" if block.strides > 1 else "same",
            norm=False,
            name=f"block{index}",
        )
        if block.pool:
            x = POOLS[block.pool](3, strides=2, padding=variant.padding, name=f"block{index}_pool")(x)
        if block.dropout and dropout_rate:
            x = keras.layers.Dropout(dropout_rate, name=f"block{index}_dropout")(x)
    return x


@register_model(
    "nin_imagenet",
    family="nin",
    paper=PAPER,
    input_spec=VARIANTS["imagenet"].input_spec,
    preprocessing="caffe",
    # Lin 2014 reports no ImageNet training (this model is the Caffe Model Zoo's NIN-Imagenet).
    preset="modern",
    defaults={"variant": "imagenet"},
)
@register_model(
    "nin_cifar100",
    family="nin",
    paper=PAPER,
    input_spec=VARIANTS["cifar"].input_spec,
    reference=Reference(params=984_356, source="IMG nin_cifar100", classes=100),
    preprocessing="tf",
    # Lin 2014 §4.1 gives batch 128 and two /10 decays on plateau but not the rate or length:
    # resnet_cifar (batch 128, two /10 steps, pad-crop-flip as in the paper's augmented run)
    # is the nearest preset.
    preset="resnet_cifar",
    cifar_preset="resnet_cifar",
    defaults={"variant": "cifar", "classes": 100},
)
@register_model(
    "nin_cifar10",
    family="nin",
    paper=PAPER,
    input_spec=VARIANTS["cifar"].input_spec,
    reference=Reference(
        params=966_986, source="IMG nin_cifar10", classes=10, gmacs=0.223, gmacs_source="IMG nin_cifar10",
        top1=89.59, top1_source="Lin 2014 Table 1 (10.41% error, no augmentation)",
    ),
    preprocessing="tf",
    preset="resnet_cifar",
    cifar_preset="resnet_cifar",
    defaults={"variant": "cifar", "classes": 10},
)
def NiN(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name=None,
    variant="imagenet",
    dropout_rate=0.5,
):
    """Network in Network (Lin et al. 2014): mlpconv layers and a global-average-pool head.

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name: as in `keras.applications` (see
            `keras_archs.models.base.build_model`).
        variant: "imagenet" (224x224, the Caffe Model Zoo network) or "cifar" (32x32,
            the CIFAR-10 network of the paper).
        dropout_rate: dropout after the mlpconv layers the paper drops (0.5).

    Returns:
        A `keras.Model`.
    """
    check_choice(variant, tuple(VARIANTS), "variant")
    check_rate(dropout_rate, "dropout_rate")
    config = VARIANTS[variant]

    def features(x):
        return _features(x, config, dropout_rate)

    return build_model(
        features=features,
        head=conv_classifier_head,
        input_spec=config.input_spec,
        arguments=ApplicationArguments.of(locals()),
        default_name=f"nin_{variant}",
    )
