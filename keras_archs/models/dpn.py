"""Dual Path Networks (Chen, Li, Xiao, Jin, Yan and Feng 2017).

"Dual Path Networks", NeurIPS 2017, arXiv 1707.01629. Each block is a ResNeXt-style
grouped bottleneck (1x1, grouped 3x3, 1x1, pre-activation) whose output is split: one
part is added to a residual path (feature re-use), the other concatenated to a densely
connected path (feature exploration), so the network is a ResNet and a DenseNet that
share their bottleneck layers (§3-4).

Configurations follow the authors' MXNet models (cypw/DPNs), as timm and imgclsmob do:
stem filters, bottleneck width k_r, cardinality G, blocks per stage and the dense
increment of each stage. DPN-68 has a 3x3 stem and a 4x narrower residual path.
Projection blocks open each stage (strided from stage 3 on). The final BN-activation
uses ReLU, as the MXNet model does. BatchNormalization epsilon is MXNet's 1e-3. Every
model computes the function of timm's port of the same name (`timm.create_model("dpn68")`
...; the parity suite in tests_convert proves it): PyTorch's symmetric padding of the
strided convolutions and of the stem's max pool, and the 1x1 convolutions that feed both
paths as single convolutions split by channels, as timm's `DualPathBlock` slices them.

`drop_path_rate` adds stochastic depth (Huang et al. 2016) to the residual increment of
every block, with the linear decay rule over all blocks; 0 (the default) is the paper's
network. Stage outputs: `conv{stage}_block{n}_out`, the concatenation of both paths after
a stage's last block (strides 4, 8, 16, 32 for stages 2-5); `relu` is the final map.
"""

import dataclasses

from keras_archs.checks import check_rate
from keras_archs.layers.densenet import post_activation
from keras_archs.layers.dpn import dual_path_block
from keras_archs.layers.heads import classifier_head
from keras_archs.layers.padding import torch_stem
from keras_archs.layers.regularization import drop_path_rates
from keras_archs.models.base import ApplicationArguments, build_model
from keras_archs.registry import InputSpec, Paper, PretrainedWeights, Reference, TorchReference, register_model

__all__ = ["DPN68", "DPN92", "DPN98", "DPN107", "DPN131"]

PAPER = Paper(
    title="Dual Path Networks",
    authors="Y. Chen, J. Li, H. Xiao, X. Jin, S. Yan, J. Feng",
    year=2017,
    arxiv="1707.01629",
    venue="NeurIPS 2017",
)
# A stride-2 stem, stride-2 max pooling and three strided stages.
INPUT_SPEC = InputSpec(default_size=224, min_size=32)
# MXNet BatchNorm's defaults (epsilon 1e-3, momentum 0.9), as cypw/DPNs trained: no layers/norm.py preset.
BN = {"bn_epsilon": 1e-3, "bn_momentum": 0.9}


@dataclasses.dataclass(frozen=True)
class _Config:
    stem_filters: int
    bottleneck_width: int  # k_r: bottleneck filters of stage 2, doubled per stage
    groups: int
    blocks: tuple
    increments: tuple
    small: bool = False  # DPN-68: 3x3 stem, residual path 64 * 2^i instead of 256 * 2^i


CONFIGS = {
    68: _Config(10, 128, 32, (3, 4, 12, 3), (16, 32, 32, 64), small=True),
    92: _Config(64, 96, 32, (3, 4, 20, 3), (16, 32, 24, 128)),
    98: _Config(96, 160, 40, (3, 6, 20, 3), (16, 32, 32, 128)),
    107: _Config(128, 200, 50, (4, 8, 20, 3), (20, 64, 64, 128)),
    131: _Config(128, 160, 40, (4, 8, 28, 3), (16, 32, 32, 128)),
}


def _features(x, config, drop_path_rate):
    x = torch_stem(x, config.stem_filters, 3 if config.small else 7, **BN)

    residual_base = 64 if config.small else 256
    rates = iter(drop_path_rates(drop_path_rate, sum(config.blocks)))
    for index, (blocks, increment) in enumerate(zip(config.blocks, config.increments)):
        stage = index + 2
        paths = None
        for block in range(1, blocks + 1):
            x, paths = dual_path_block(
                x,
                paths,
                name=f"conv{stage}_block{block}",
                bottleneck_filters=config.bottleneck_width * 2**index,
                residual_filters=residual_base * 2**index,
                increment=increment,
                groups=config.groups,
                strides=2 if block == 1 and stage > 2 else 1,
                drop_path_rate=next(rates),
                **BN,
            )
    return post_activation(x, **BN)


def _dpn(depth, arguments, *, drop_path_rate):
    check_rate(drop_path_rate, "drop_path_rate")

    def features(x):
        return _features(x, CONFIGS[depth], drop_path_rate)

    return build_model(
        features=features, head=classifier_head, input_spec=INPUT_SPEC, arguments=arguments,
        default_name=f"dpn{depth}", registry_name=f"dpn{depth}",
    )


# timm's MXNet-trained checkpoints (Chen et al.'s release, ported), normalized with the
# authors' pixel mean (124, 117, 104) and scale 0.0167 (timm's IMAGENET_DPN_MEAN/STD):
# depth -> top-1 in timm's results-imagenet.csv at 224.
TIMM_CHECKPOINTS = {68: 76.346, 92: 80.038, 98: 79.670, 107: 80.168, 131: 79.814}
DPN_MEAN = (124 / 255, 117 / 255, 104 / 255)
DPN_STD = (1 / (0.0167 * 255),) * 3


def _weights(depth):
    return (PretrainedWeights.from_timm(
        f"dpn{depth}.mx_in1k", TIMM_CHECKPOINTS[depth], crop_size=224, crop_pct=0.875, interpolation="bicubic",
        mean=DPN_MEAN, std=DPN_STD,
    ),)


def _register(depth, params, source, gmacs=None, gmacs_source="", top1=None):
    return register_model(
        f"dpn{depth}",
        family="dpn",
        paper=PAPER,
        input_spec=INPUT_SPEC,
        reference=Reference(
            params=params, source=source, gmacs=gmacs, gmacs_source=gmacs_source, top1=top1,
            top1_source="cypw/DPNs (single crop 224)" if top1 else "",
        ),
        preprocessing="torch",
        torch_reference=TorchReference(library="timm", constructor=f"dpn{depth}", mapping="dpn", bn_epsilon=1e-3),
        weights=_weights(depth),
        # Chen 2017 gives no complete ImageNet schedule (epochs, decay points, weight decay)
        # that a preset could reproduce.
        preset="modern",
    )


@_register(68, 12_611_602, "IMG dpn68; cypw/DPNs", gmacs=2.35, gmacs_source="IMG dpn68", top1=76.43)
def DPN68(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
    classes=1000, classifier_activation="softmax", name=None, drop_path_rate=0.0,
):
    """DPN-68 (3x3 stem of 10 filters, k_r = 128, G = 32), Chen et al. (2017).

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name: as in `keras.applications` (see
            `keras_archs.models.base.build_model`).
        drop_path_rate: stochastic-depth drop probability of the last block's residual
            increment (linear decay over blocks); 0 disables it.

    Returns:
        A `keras.Model`.
    """
    return _dpn(68, ApplicationArguments.of(locals()), drop_path_rate=drop_path_rate)


@_register(
    92, 37_668_392,
    "hand arithmetic over timm dpn.py's DPN-92 layers (tests/test_dpn.py; the same formula gives IMG's "
    "dpn68/98/107/131 exactly); timm reports 37.67M",
    gmacs=6.5, gmacs_source="timm dpn92.mx_in1k model card", top1=79.27,
)
def DPN92(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
    classes=1000, classifier_activation="softmax", name=None, drop_path_rate=0.0,
):
    """DPN-92 (k_r = 96, G = 32, blocks 3-4-20-3), Chen et al. (2017), Table 1.

    Arguments as for `DPN68`.
    """
    return _dpn(92, ApplicationArguments.of(locals()), drop_path_rate=drop_path_rate)


@_register(98, 61_570_728, "IMG dpn98; cypw/DPNs", gmacs=11.7, gmacs_source="IMG dpn98", top1=79.85)
def DPN98(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
    classes=1000, classifier_activation="softmax", name=None, drop_path_rate=0.0,
):
    """DPN-98 (k_r = 160, G = 40, blocks 3-6-20-3), Chen et al. (2017), Table 1.

    Arguments as for `DPN68`.
    """
    return _dpn(98, ApplicationArguments.of(locals()), drop_path_rate=drop_path_rate)


@_register(107, 86_917_800, "IMG dpn107 (pytorchcv dpn.py weight-count test)")
def DPN107(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
    classes=1000, classifier_activation="softmax", name=None, drop_path_rate=0.0,
):
    """DPN-107 (128 stem filters, k_r = 200, G = 50, blocks 4-8-20-3), Chen et al. (2017).

    Arguments as for `DPN68`.
    """
    return _dpn(107, ApplicationArguments.of(locals()), drop_path_rate=drop_path_rate)


@_register(131, 79_254_504, "IMG dpn131; cypw/DPNs", gmacs=16.1, gmacs_source="IMG dpn131")
def DPN131(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
    classes=1000, classifier_activation="softmax", name=None, drop_path_rate=0.0,
):
    """DPN-131 (128 stem filters, k_r = 160, G = 40, blocks 4-8-28-3), Chen et al. (2017).

    Arguments as for `DPN68`.
    """
    return _dpn(131, ApplicationArguments.of(locals()), drop_path_rate=drop_path_rate)
