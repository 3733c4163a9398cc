"""GoogLeNet / Inception-v1 (Szegedy et al. 2015).

"Going Deeper with Convolutions", CVPR 2015, arXiv 1409.4842. 22 layers with weights:
a stem (7x7/2, max pool, 1x1, 3x3, max pool), nine inception modules (3a-3b, 4a-4e,
5a-5b) with the channels of Table 1 and max pooling between the grids, global average
pooling, dropout 0.4 and the classifier. Two auxiliary classifiers on 4a and 4d (§5:
5x5/3 average pooling, 1x1-128, FC-1024, dropout 0.7) become extra model outputs with
`aux_logits=True`; the recipe adds their losses with weight 0.3, inference uses the main
output only.

Two forms share one builder. Both pad as PyTorch and Caffe's `bvlc_googlenet` do: the
7x7/2 stem convolution by 3 pixels on each side (TensorFlow's "same" would pad 2 before
and 3 after at 224), and the max poolings between the grids round the output side up
(`ceil_mode=True`, which "same" equals only at even sides).

- `variant="torchvision"` (default, registered as `googlenet`): the same function as
  torchvision's `googlenet(aux_logits=False, init_weights=False)` (tests_convert proves
  it, converting torchvision's weights with `keras_archs.convert`): BatchNormalization
  after every convolution (epsilon 1e-3), no LRN, a 3x3 kernel in the "5x5" branch (a
  known quirk of the port that torchvision keeps), 2x2/2 pooling before 5a, and
  auxiliary heads with adaptive 4x4 pooling; 6,624,904 trainable parameters without them.
- `variant="paper"`: Fig. 3 and Table 1: biased convolutions without
  BN, true 5x5 branches, local response normalization after the first pooling and after
  the 3x3 convolution (Caffe's `bvlc_googlenet` constants: n=5, alpha=1e-4/n, beta=0.75,
  k=1), 3x3/2 pooling before 5a, and 5x5/3 average pooling in the auxiliary heads;
  6,998,552 parameters (hand arithmetic from Table 1 with biases; the paper rounds to
  6.8M). Not registered under a name of its own, to keep the shared suite's time down:
  `GoogLeNet(variant="paper")`.
"""

import dataclasses

from keras_archs.checks import check_choice, check_rate
from keras_archs.layers.classic import LocalResponseNormalization
from keras_archs.layers.heads import classifier_head
from keras_archs.layers.inception import (
    Conv,
    ConvStyle,
    Pool,
    auxiliary_classifier,
    conv_bn,
    inception_block,
)
from keras_archs.layers.padding import conv_padding, max_pool
from keras_archs.models.base import ApplicationArguments, AuxiliaryHeads, build_model
from keras_archs.registry import InputSpec, Paper, PretrainedWeights, Reference, TorchReference, register_model

__all__ = ["GoogLeNet"]

PAPER = Paper(
    title="Going Deeper with Convolutions",
    authors="C. Szegedy, W. Liu, Y. Jia, P. Sermanet, S. Reed, D. Anguelov, D. Erhan, V. Vanhoucke, A. Rabinovich",
    year=2015,
    arxiv="1409.4842",
    venue="CVPR 2015",
)
# Five halvings leave a 1x1 grid at 32x32 (the paper's 3x3/2 pooling before 5a rounds a
# 2x2 grid up to one window, as PyTorch's ceil mode does).
INPUT_SPEC = InputSpec(default_size=224, min_size=32)

# Table 1: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj.
MODULES = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}
# Max pooling after these modules; the auxiliary classifiers branch off after 4a and 4d.
POOL_AFTER = {"3b": "pool3", "4e": "pool4"}
AUX_AFTER = {"4a": "aux1", "4d": "aux2"}


@dataclasses.dataclass(frozen=True)
class _Variant:
    norm: bool
    wide_kernel: int
    lrn: bool
    aux_adaptive_pool: object
    # The smallest input whose 4a grid (stride 16) is large enough for the auxiliary
    # classifiers: 4x4 for the adaptive pooling, 5x5 for the paper's 5x5/3 average pooling.
    # The rounded-up poolings shrink odd sides: 62 gives a 3x3 grid, 63 a 4x4, 79 a 5x5.
    aux_min_size: int
    # The pooling before 5a: torchvision's is 2x2/2, Table 1's (and Caffe's pool4) 3x3/2.
    pool4_size: int
    input_spec: InputSpec


VARIANTS = {
    "torchvision": _Variant(
        norm=True, wide_kernel=3, lrn=False, aux_adaptive_pool=4, aux_min_size=63, pool4_size=2,
        input_spec=INPUT_SPEC,
    ),
    "paper": _Variant(
        norm=False, wide_kernel=5, lrn=True, aux_adaptive_pool=None, aux_min_size=79, pool4_size=3,
        input_spec=INPUT_SPEC,
    ),
}


def inception_v1_branches(ones, reduce3, filters3, reduce5, filters5, pool_projection, *, wide_kernel=5):
    """The inception module of Fig. 2(b): 1x1 | 1x1-3x3 | 1x1-5x5 | 3x3 max pool-1x1."""
    return (
        (Conv(ones),),
        (Conv(reduce3), Conv(filters3, 3)),
        (Conv(reduce5), Conv(filters5, wide_kernel)),
        (Pool("max"), Conv(pool_projection)),
    )


def _lrn(x, name):
    return LocalResponseNormalization(size=5, bias=1.0, alpha=1e-4 / 5, beta=0.75, name=name)(x)


def _features(x, variant, add_auxiliary):
    """The stem and the nine modules; `add_auxiliary(x, name, style)` where a head branches off."""
    # torchvision's BasicConv2d: BatchNorm2d(eps=0.001) with PyTorch's default momentum 0.1.
    style = ConvStyle(norm=variant.norm, bn_epsilon=1e-3, bn_momentum=0.9)
    x, padding = conv_padding(x, 7, 2, style="symmetric", name="conv1")
    x = conv_bn(x, 64, 7, strides=2, padding=padding, style=style, name="conv1")
    x = max_pool(x, 3, 2, ceil_mode=True, name="pool1")
    if variant.lrn:
        x = _lrn(x, "pool1_lrn")
    x = conv_bn(x, 64, 1, style=style, name="conv2")
    x = conv_bn(x, 192, 3, style=style, name="conv3")
    if variant.lrn:
        x = _lrn(x, "conv3_lrn")
    x = max_pool(x, 3, 2, ceil_mode=True, name="pool2")
    for module, channels in MODULES.items():
        branches = inception_v1_branches(*channels, wide_kernel=variant.wide_kernel)
        x = inception_block(x, branches, style=style, name=f"inception_{module}")
        if module in AUX_AFTER:
            add_auxiliary(x, AUX_AFTER[module], style)
        if module in POOL_AFTER:
            size = 3 if module == "3b" else variant.pool4_size
            x = max_pool(x, size, 2, ceil_mode=True, name=POOL_AFTER[module])
    return x


@register_model(
    "googlenet",
    family="googlenet",
    paper=PAPER,
    input_spec=INPUT_SPEC,
    reference=Reference(
        params=6_624_904, source="TV googlenet (without the auxiliary heads)",
        gmacs=1.498, gmacs_source="TV googlenet; the paper: 1.5 billion multiply-adds",
        top1=69.778, top1_source="TV googlenet",
    ),
    preprocessing="torch",
    preset="googlenet",
    torch_reference=TorchReference(
        library="torchvision", constructor="googlenet", mapping="googlenet",
        kwargs={"aux_logits": False, "init_weights": False}, bn_epsilon=1e-3, auxiliary=("aux1.", "aux2."),
    ),
    # torchvision.models.get_weight("GoogLeNet_Weights.IMAGENET1K_V1"): url, acc@1, transform.
    weights=(PretrainedWeights.from_torchvision(
        "GoogLeNet_Weights.IMAGENET1K_V1", "https://download.pytorch.org/models/googlenet-1378be20.pth", 69.778,
        preprocessing="tf",
        note=(
            "torchvision builds googlenet(weights=...) with transform_input=True, which maps its ImageNet-"
            "normalized input to (pixel - 0.5) / 0.5: our model, which has no such layer, takes that (the 'tf' "
            "mode) after the published transform's resize and crop."
        ),
    ),),
)
def GoogLeNet(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=1000,
    classifier_activation="softmax",
    name=None,
    variant="torchvision",
    aux_logits=False,
    dropout_rate=0.4,
    aux_dropout_rate=0.7,
):
    """GoogLeNet (Szegedy et al. 2015): nine inception modules, Table 1.

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name: as in `keras.applications` (see
            `keras_archs.models.base.build_model`).
        variant: "torchvision" (default: torchvision's `googlenet`, BN) or "paper"
            (Fig. 3: LRN, no BN, true 5x5 kernels).
        aux_logits: with `include_top=True`, the two auxiliary classifiers (after 4a and
            4d) as the second and third model outputs. They need a fixed input size (at
            least 63x63 for "torchvision", 79x79 for "paper"). Default False: one output.
        dropout_rate: dropout before the classifier (paper: 0.4; torchvision uses 0.2).
        aux_dropout_rate: dropout in the auxiliary classifiers (paper: 0.7).

    Returns:
        A `keras.Model`.
    """
    arguments = ApplicationArguments.of(locals())
    check_choice(variant, tuple(VARIANTS), "variant")
    check_rate(dropout_rate, "dropout_rate")
    check_rate(aux_dropout_rate, "aux_dropout_rate")
    config = VARIANTS[variant]

    def aux_head(x, aux_name, style, *, classes, classifier_activation):
        return auxiliary_classifier(
            x, classes=classes, classifier_activation=classifier_activation, style=style, name=aux_name,
            adaptive_pool=config.aux_adaptive_pool, dropout_rate=aux_dropout_rate,
        )

    def features(x, add_auxiliary):
        return _features(x, config, add_auxiliary)

    def head(x, *, classes, classifier_activation):
        return classifier_head(x, classes=classes, classifier_activation=classifier_activation,
                               dropout_rate=dropout_rate)

    return build_model(
        features=features,
        head=head,
        input_spec=config.input_spec,
        arguments=arguments,
        default_name="googlenet",
        # Only torchvision's form is registered (and has weights).
        registry_name="googlenet" if variant == "torchvision" else "googlenet_paper",
        auxiliary=AuxiliaryHeads(enabled=aux_logits, min_size=config.aux_min_size, build=aux_head,
                                 count=len(AUX_AFTER)),
    )
