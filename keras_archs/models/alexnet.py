"""AlexNet (Krizhevsky, Sutskever and Hinton 2012).

"ImageNet Classification with Deep Convolutional Neural Networks", NeurIPS 2012. Two
forms share one builder:

- `variant="single_tower"` (the default, registered as `alexnet`): the one-GPU form of
  Krizhevsky's "One weird trick" (arXiv 1404.5997) that torchvision ships: 64-192-384-
  256-256 filters, no LRN, 224x224 input padded by 2; 61,100,840 parameters. The same
  function as torchvision's `alexnet` (tests_convert proves it with converted weights).
- `variant="paper"` (`alexnet_paper`): the two-tower network of the 2012 paper: 96-256-
  384-384-256 filters, the towers as grouped convolutions (groups=2) in conv2, conv4 and
  conv5 where the GPUs did not talk, local response normalization after conv1 and conv2,
  overlapping 3x3/2 max pooling, 227x227 input, weights N(0, 0.01) and biases 1 in conv2,
  conv4, conv5 and the hidden FC layers (§5); 60,965,224 parameters.

Both use dropout 0.5 after the two hidden FC layers (§4.2).
"""

import dataclasses

import keras

from keras_archs.checks import check_choice, check_rate
from keras_archs.layers.classic import LocalResponseNormalization
from keras_archs.layers.conv import conv_bn_act
from keras_archs.layers.heads import classifier_head
from keras_archs.models.base import ApplicationArguments, build_model
from keras_archs.registry import InputSpec, Paper, PretrainedWeights, Reference, TorchReference, register_model

__all__ = ["AlexNet"]

PAPER = Paper(
    title="ImageNet Classification with Deep Convolutional Neural Networks",
    authors="A. Krizhevsky, I. Sutskever, G. E. Hinton",
    year=2012,
    venue="NeurIPS 2012",
)


@dataclasses.dataclass(frozen=True)
class _ConvLayer:
    filters: int
    kernel_size: int
    strides: int = 1
    groups: int = 1
    lrn: bool = False
    pool: bool = False
    bias_one: bool = False


@dataclasses.dataclass(frozen=True)
class _Variant:
    convs: tuple
    input_spec: InputSpec
    first_padding: int
    paper_init: bool


VARIANTS = {
    "single_tower": _Variant(
        convs=(
            _ConvLayer(64, 11, strides=4, pool=True),
            _ConvLayer(192, 5, pool=True),
            _ConvLayer(384, 3),
            _ConvLayer(256, 3),
            _ConvLayer(256, 3, pool=True),
        ),
        # The smallest side whose conv5 map survives the last 3x3/2 pooling.
        input_spec=InputSpec(default_size=224, min_size=63, fixed_size_top=True),
        first_padding=2,
        paper_init=False,
    ),
    "paper": _Variant(
        convs=(
            _ConvLayer(96, 11, strides=4, lrn=True, pool=True),
            _ConvLayer(256, 5, groups=2, lrn=True, pool=True, bias_one=True),
            _ConvLayer(384, 3),
            _ConvLayer(384, 3, groups=2, bias_one=True),
            _ConvLayer(256, 3, groups=2, pool=True, bias_one=True),
        ),
        input_spec=InputSpec(default_size=227, min_size=67, fixed_size_top=True),
        first_padding=0,
        paper_init=True,
    ),
}


def _features(x, variant):
    if variant.first_padding:
        x = keras.layers.ZeroPadding2D(variant.first_padding, name="conv1_pad")(x)
    for index, layer in enumerate(variant.convs, start=1):
        first = index == 1
        x = conv_bn_act(
            x,
            layer.filters,
            layer.kernel_size,
            strides=layer.strides,
            groups=layer.groups,
            padding="valid" if first else "same",
            norm=False,
            kernel_initializer=keras.initializers.RandomNormal(stddev=0.01) if variant.paper_init else "glorot_uniform",
            bias_initializer="ones" if variant.paper_init and layer.bias_one else "zeros",
            name=f"conv{index}",
            conv_suffix="",
        )
        if layer.lrn:
            x = LocalResponseNormalization(name=f"conv{index}_lrn")(x)
        if layer.pool:
            x = keras.layers.MaxPooling2D(3, strides=2, name=f"pool{index}")(x)
    return x


@register_model(
    "alexnet_paper",
    family="alexnet",
    paper=PAPER,
    input_spec=VARIANTS["paper"].input_spec,
    reference=Reference(
        params=60_965_224, source="arithmetic from Krizhevsky 2012 Fig. 2 (the paper says ~60M)"
    ),
    preprocessing="caffe",
    preset="alexnet",
    defaults={"variant": "paper"},
)
@register_model(
    "alexnet",
    family="alexnet",
    paper=PAPER,
    input_spec=VARIANTS["single_tower"].input_spec,
    reference=Reference(
        params=61_100_840, source="TV alexnet", gmacs=0.714, gmacs_source="TV alexnet",
        top1=56.52, top1_source="TV alexnet",
    ),
    preprocessing="torch",
    preset="alexnet",
    torch_reference=TorchReference(library="torchvision", constructor="alexnet", mapping="alexnet"),
    # torchvision.models.get_weight("AlexNet_Weights.IMAGENET1K_V1"): url and acc@1.
    weights=(PretrainedWeights.from_torchvision(
        "AlexNet_Weights.IMAGENET1K_V1", "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth", 56.522,
    ),),
)
def AlexNet(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name=None,
    variant="single_tower",
    dropout_rate=0.5,
):
    """AlexNet (Krizhevsky et al. 2012): five convolutions, three fully connected layers.

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name: as in `keras.applications` (see
            `keras_archs.models.base.build_model`).
        variant: "single_tower" (torchvision's form) or "paper" (two towers, LRN).
        dropout_rate: dropout after each of the two hidden FC layers (paper: 0.5).

    Returns:
        A `keras.Model`.
    """
    check_choice(variant, tuple(VARIANTS), "variant")
    check_rate(dropout_rate, "dropout_rate")
    config = VARIANTS[variant]

    def features(x):
        return _features(x, config)

    def head(x, *, classes, classifier_activation):
        return classifier_head(
            x,
            classes=classes,
            classifier_activation=classifier_activation,
            flatten=True,
            hidden_units=(4096, 4096),
            hidden_dropout_rate=dropout_rate,
            hidden_bias_initializer="ones" if config.paper_init else "zeros",
        )

    return build_model(
        features=features,
        head=head,
        input_spec=config.input_spec,
        arguments=ApplicationArguments.of(locals()),
        default_name="alexnet_paper" if variant == "paper" else "alexnet",
    )
