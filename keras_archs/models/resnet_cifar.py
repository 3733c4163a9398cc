"""CIFAR residual networks: ResNet, pre-activation ResNet, Wide ResNet, ResNeXt and RoR.

All take 32x32 inputs, start with one 3x3 convolution and have three stages (the second
and third halve the resolution), global average pooling and one dense layer:

- ResNet-20/32/44/56/110/1202: "Deep Residual Learning for Image Recognition" (He et al.,
  CVPR 2016, arXiv 1512.03385), §4.2: 6n+2 layers, basic units of 16/32/64 filters.
  `shortcut="A"` (the default, as the paper's CIFAR experiments) is the parameter-free
  identity with subsampling and zero-padded channels; `shortcut="B"` projects (1x1
  convolution + BN) where the shape changes.
- Pre-activation ResNet-164/1001: "Identity Mappings in Deep Residual Networks" (He et
  al., ECCV 2016, arXiv 1603.05027), §4 and Table 4: 9n+2 layers, pre-activation
  bottlenecks of 16/32/64 channels and 64/128/256 outputs, projection shortcuts.
- Wide ResNet-d-k: "Wide Residual Networks" (Zagoruyko and Komodakis, BMVC 2016, arXiv
  1605.07146), Table 1: 6n+4 layers, pre-activation basic units of 16k/32k/64k filters,
  optional dropout between the two convolutions (§2.4).
- ResNeXt-29 (Cx64d): "Aggregated Residual Transformations for Deep Neural Networks"
  (Xie et al., CVPR 2017, arXiv 1611.05431), §5.2: 9n+2 layers, a 64-filter stem and
  grouped bottlenecks with 256/512/1024 outputs; the grouped 3x3 has
  cardinality x width_per_group channels in stage 1, doubling per stage.
- RoR-3: "Residual Networks of Residual Networks: Multilevel Residual Networks" (Zhang,
  Sun, Liu, Liu, Wang and Shen, IEEE TCSVT 2017, arXiv 1608.02908): a CIFAR ResNet
  (`base="resnet"`) or Wide ResNet (`base="wide_resnet"`) whose units keep their
  shortcuts, plus one shortcut over each stage and one over all three (projections, 1x1
  convolution + BN, where the shape changes). The depth is the underlying network's
  (RoR-3-110 has 18 units per stage, RoR-3-WRN58-4 9).

Every model takes `drop_path_rate` (stochastic depth, Huang et al. 2016, arXiv
1603.09382, linear decay over the units) and `se_ratio` (squeeze-excitation). Stage
outputs are `conv2_block{n}_out`, `conv3_...`, `conv4_...` (`post_relu` for pre-activation
nets, `conv{k}_out` for RoR stages).

ResNet-1202 and pre-activation ResNet-1001 are deeper than Python's default recursion
limit lets Keras map a graph: every build here runs under
`keras_archs.recursion.recursion_limit`, which raises the limit for the build only (load a
`.keras` file of them under it too).
"""

import dataclasses

import keras

from keras_archs.checks import check_bool, check_choice, check_positive_int, check_rate
from keras_archs.layers.conv import bn_act, conv_bn_act
from keras_archs.layers.heads import classifier_head
from keras_archs.layers.norm import TORCH_BN
from keras_archs.layers.regularization import drop_path_rates
from keras_archs.layers.residual import ResidualSpec, residual_stage, residual_stages
from keras_archs.models.base import ApplicationArguments, append_to_docstring, build_model
from keras_archs.models.resnet import PREACT_PAPER, RESNET_PAPER, RESNEXT_PAPER, WRN_PAPER
from keras_archs.recursion import DEEP_GRAPH_FRAMES, recursion_limit
from keras_archs.registry import InputSpec, Paper, Reference, register_model

__all__ = ["CifarResNet", "CifarPreActResNet", "CifarResNeXt", "CifarRoR", "CifarWideResNet"]

ROR_PAPER = Paper(
    title="Residual Networks of Residual Networks: Multilevel Residual Networks",
    authors="K. Zhang, M. Sun, T. X. Han, X. Yuan, L. Guo, T. Liu",
    year=2017,
    arxiv="1608.02908",
    venue="IEEE TCSVT 2017",
)

# Two stride-2 stages: 8x8 inputs end at 2x2.
INPUT_SPEC = InputSpec(default_size=32, min_size=8)
# The CIFAR nets follow the PyTorch implementations' BatchNorm (torch.nn.BatchNorm2d's defaults).
CIFAR_BN = TORCH_BN
POST_ACTIVATION = ResidualSpec(bottleneck=False, **CIFAR_BN)
PRE_ACTIVATION = ResidualSpec(bottleneck=False, preact=True, **CIFAR_BN)
SHORTCUTS = {"A": "zero_pad", "B": "projection"}
# The network RoR-3 adds its shortcuts to: He 2015's post-activation ResNet-(6n+2) or
# Zagoruyko 2016's pre-activation WRN-(6n+4)-k.
ROR_BASES = ("resnet", "wide_resnet")
SE_ARG = """        drop_path_rate: stochastic depth: probability of dropping the last unit's branch
            per sample in training; earlier units get linearly less (Huang 2016).
        se_ratio: squeeze-excitation on every unit with `se_ratio * channels` bottleneck
            channels; 0 for none.

    Returns:
        A `keras.Model`.
"""


@dataclasses.dataclass(frozen=True)
class _Net:
    """A CIFAR residual network: stem width, unit spec, and `(filters, width)` per stage."""

    stem_filters: int
    spec: ResidualSpec
    stages: tuple
    blocks: int
    ror: bool = False


def _units(depth, layers_per_unit, extra_layers, argument="depth"):
    """Units per stage of a `layers_per_unit * 3 * n + extra_layers`-layer network."""
    check_positive_int(depth, argument)
    units, remainder = divmod(depth - extra_layers, 3 * layers_per_unit)
    if remainder or units < 1:
        raise ValueError(
            f"{argument} must be {3 * layers_per_unit}n+{extra_layers} for a positive integer n. "
            f"Received: {argument}={depth!r}"
        )
    return units


def _stem(x, net):
    # Pre-activation nets normalize the stem's output in their first unit.
    return conv_bn_act(x, net.stem_filters, 3, norm=not net.spec.preact, use_bias=False, name="conv1", **CIFAR_BN)


def _projection(x, filters, strides, name):
    """RoR's shortcut over a stage or over the network; the identity where shapes match."""
    if x.shape[-1] == filters and strides == 1:
        return x
    return conv_bn_act(x, filters, 1, strides=strides, activation=None, use_bias=False, name=name, **CIFAR_BN)


def _ror_stages(x, net, spec, drop_path_rate):
    """Stages with RoR-3's extra levels: a shortcut over each stage and one over all."""
    rates = drop_path_rates(drop_path_rate, net.blocks * len(net.stages))
    root = _projection(x, net.stages[-1][0], 2 ** (len(net.stages) - 1), name="ror_root")
    for index, (filters, width) in enumerate(net.stages):
        strides = 1 if index == 0 else 2
        stage_name = f"conv{index + 2}"
        shortcut = _projection(x, filters, strides, name=f"{stage_name}_ror")
        x = residual_stage(
            x, filters, net.blocks, spec=spec, width=width, strides=strides, final_activation=False,
            drop_path_rates=rates[index * net.blocks:(index + 1) * net.blocks], name=stage_name,
        )
        x = keras.layers.Add(name=f"{stage_name}_ror_add")([shortcut, x])
        if index == len(net.stages) - 1:
            x = keras.layers.Add(name="ror_root_add")([root, x])
        if not spec.preact:
            x = keras.layers.Activation("relu", name=f"{stage_name}_out")(x)
    return x


def _cifar(net, arguments, *, drop_path_rate, se_ratio, default_name):
    check_rate(drop_path_rate, "drop_path_rate")
    check_rate(se_ratio, "se_ratio")
    spec = dataclasses.replace(net.spec, se_ratio=se_ratio)

    def features(x):
        x = _stem(x, net)
        if net.ror:
            x = _ror_stages(x, net, spec, drop_path_rate)
        else:
            stages = [
                (filters, width, net.blocks, 1 if index == 0 else 2)
                for index, (filters, width) in enumerate(net.stages)
            ]
            x = residual_stages(x, stages, spec=spec, drop_path_rate=drop_path_rate)
        if spec.preact:
            x = bn_act(x, name="post", **CIFAR_BN)
        return x

    def head(x, *, classes, classifier_activation):
        return classifier_head(x, classes=classes, classifier_activation=classifier_activation)

    # Keras maps the graph (when it builds the model and loads weights into it) one Python
    # frame per layer on its longest path: ResNet-1202 needs far more than Python's default.
    with recursion_limit(DEEP_GRAPH_FRAMES):
        return build_model(
            features=features, head=head, input_spec=INPUT_SPEC, arguments=arguments, default_name=default_name
        )


def _registered(name, *, paper, params, source, depth, extra_defaults=None, top1=None, top1_source="",
                preset="resnet_cifar"):
    # These networks are CIFAR networks: their paper's CIFAR recipe is both the default
    # preset and the CIFAR one. He 2015 §4.2's (resnet_cifar) serves ResNet and the
    # pre-activation ResNet (He 2016, appendix, keeps it); WRN and ResNeXt name their own.
    return register_model(
        name, family="resnet_cifar", paper=paper, input_spec=INPUT_SPEC,
        reference=Reference(params=params, source=source, classes=10, top1=top1, top1_source=top1_source),
        preprocessing="unit", preset=preset, cifar_preset=preset,
        defaults={"depth": depth, **(extra_defaults or {})},
    )


# Trainable parameters with option A and 10 classes, by hand: n = (depth - 2) / 6 units per
# stage; stem 3*9*16 + 32 = 464; a stage-1 unit 2*9*16*16 + 64 = 4,672; stage 2 13,952 for
# its first unit and 18,560 for each other; stage 3 55,552 and 73,984; head 64*10 + 10 = 650:
# 97,216n - 21,926 in all.
HAND = "hand arithmetic, He 2015 §4.2 (Table 6 rounds it to {}M)"


@_registered("resnet1202", paper=RESNET_PAPER, params=19_421_274, source=HAND.format(19.4), depth=1202,
             top1=92.07, top1_source="He 2015 Table 6 (CIFAR-10, flip + crop: 7.93% error)",
             extra_defaults={"zero_init_residual": True})
@_registered("resnet110", paper=RESNET_PAPER, params=1_727_962, source=HAND.format(1.7), depth=110,
             top1=93.57, top1_source="He 2015 Table 6 (CIFAR-10, flip + crop: 6.43% error)")
@_registered("resnet56", paper=RESNET_PAPER, params=853_018, source=HAND.format(0.85), depth=56,
             top1=93.03, top1_source="He 2015 Table 6 (CIFAR-10, flip + crop: 6.97% error)")
@_registered("resnet44", paper=RESNET_PAPER, params=658_586, source=HAND.format(0.66), depth=44,
             top1=92.83, top1_source="He 2015 Table 6 (CIFAR-10, flip + crop: 7.17% error)")
@_registered("resnet32", paper=RESNET_PAPER, params=464_154, source=HAND.format(0.46), depth=32,
             top1=92.49, top1_source="He 2015 Table 6 (CIFAR-10, flip + crop: 7.51% error)")
@_registered("resnet20", paper=RESNET_PAPER, params=269_722, source=HAND.format(0.27), depth=20,
             top1=91.25, top1_source="He 2015 Table 6 (CIFAR-10, flip + crop: 8.75% error)")
def CifarResNet(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=10,
    classifier_activation="softmax", name=None, depth=20, shortcut="A", zero_init_residual=False,
    drop_path_rate=0.0, se_ratio=0.0,
):
    """CIFAR ResNet-(6n+2) (He 2015, §4.2): basic units of 16, 32 and 64 filters.

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name: as in `keras.applications` (see
            `keras_archs.models.base.build_model`).
        depth: 6n+2 layers (20, 32, 44, 56, 110, 1202 in the paper).
        shortcut: "A": identity, subsampled, new channels zero-padded (no parameters;
            the paper's CIFAR choice); "B": 1x1 projection + BN where the shape changes.
        zero_init_residual: start each unit's last BN scale at 0 so that the unit starts
            as the identity (Goyal et al. 2017). Registered `resnet1202` sets it: with 600
            units and untrained BN statistics its inference-mode output at initialization
            otherwise overflows float32 (the paper's He initialization trains it, but a
            freshly built model would predict NaN).
"""
    arguments = ApplicationArguments.of(locals())
    blocks = _units(depth, 2, 2)
    check_choice(shortcut, tuple(SHORTCUTS), "shortcut")
    check_bool(zero_init_residual, "zero_init_residual")
    spec = dataclasses.replace(POST_ACTIVATION, shortcut=SHORTCUTS[shortcut], zero_init_residual=zero_init_residual)
    net = _Net(16, spec, ((16, None), (32, None), (64, None)), blocks)
    return _cifar(net, arguments, drop_path_rate=drop_path_rate, se_ratio=se_ratio, default_name=f"resnet{depth}")


@_registered("preact_resnet1001", paper=PREACT_PAPER, params=10_327_706, source="IMG preresnet1001_cifar10",
             depth=1001, top1=95.08, top1_source="He 2016 Table 4 (CIFAR-10: 4.92% error)")
@_registered("preact_resnet164", paper=PREACT_PAPER, params=1_703_258, source="IMG preresnet164bn_cifar10",
             depth=164, top1=94.54, top1_source="He 2016 Table 4 (CIFAR-10: 5.46% error)")
def CifarPreActResNet(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=10,
    classifier_activation="softmax", name=None, depth=164, drop_path_rate=0.0, se_ratio=0.0,
):
    """Pre-activation CIFAR ResNet-(9n+2) (He 2016, Table 4): BN-ReLU-conv bottlenecks.

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name: as in `keras.applications`.
        depth: 9n+2 layers (164 and 1001 in the paper).
"""
    arguments = ApplicationArguments.of(locals())
    blocks = _units(depth, 3, 2)
    spec = dataclasses.replace(PRE_ACTIVATION, bottleneck=True)
    net = _Net(16, spec, ((64, 16), (128, 32), (256, 64)), blocks)
    return _cifar(
        net, arguments, drop_path_rate=drop_path_rate, se_ratio=se_ratio, default_name=f"preact_resnet{depth}"
    )


def _wide(depth, width_factor, dropout_rate):
    blocks = _units(depth, 2, 4)
    check_positive_int(width_factor, "width_factor")
    check_rate(dropout_rate, "dropout_rate")
    spec = dataclasses.replace(PRE_ACTIVATION, dropout_rate=dropout_rate)
    return _Net(16, spec, tuple((16 * 2**index * width_factor, None) for index in range(3)), blocks)


@_registered("wide_resnet28_10", paper=WRN_PAPER, params=36_479_194, source="IMG wrn28_10_cifar10", depth=28,
             top1=96.0, top1_source="Zagoruyko 2016 (CIFAR-10: 4.00% error, no dropout)",
             preset="wide_resnet_cifar")
def CifarWideResNet(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=10,
    classifier_activation="softmax", name=None, depth=28, width_factor=10, dropout_rate=0.0, drop_path_rate=0.0,
    se_ratio=0.0,
):
    """Wide ResNet-d-k for CIFAR (Zagoruyko 2016, Table 1): pre-activation basic units.

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name: as in `keras.applications`.
        depth: 6n+4 layers (28 for WRN-28-10).
        width_factor: k: the stages have 16k, 32k and 64k filters.
        dropout_rate: dropout between the two convolutions of a unit (0.3 in the paper's
            dropout runs; 0, the default, adds no layer).
"""
    arguments = ApplicationArguments.of(locals())
    net = _wide(depth, width_factor, dropout_rate)
    return _cifar(
        net, arguments, drop_path_rate=drop_path_rate, se_ratio=se_ratio,
        default_name=f"wide_resnet{depth}_{width_factor}",
    )


# Trainable parameters of ResNeXt-29 with 10 classes, by hand: in stage s = 0, 1, 2 the
# grouped width is w = C*d*2^s and the output o = 256*2^s; a unit with i input channels has
# i*w + 9*w*w/C + w*o convolution weights and 2(2w + o) BN parameters, a stage's first unit
# also an i*o projection and 2o BN; stem 3*9*64 + 128; head 1024*10 + 10.
@_registered("resnext29_16x64d", paper=RESNEXT_PAPER, params=68_155_210,
             source="hand arithmetic (Xie 2017 Table 7: 68.1M; IMG resnext29_16x64d_cifar10 68,155,210)",
             depth=29, extra_defaults={"cardinality": 16},
             top1=96.42, top1_source="Xie 2017 Table 7 (CIFAR-10: 3.58% error)", preset="resnext_cifar")
@_registered("resnext29_8x64d", paper=RESNEXT_PAPER, params=34_426_698,
             source="hand arithmetic (Xie 2017 Table 7: 34.4M)", depth=29,
             top1=96.35, top1_source="Xie 2017 Table 7 (CIFAR-10: 3.65% error)", preset="resnext_cifar")
def CifarResNeXt(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=10,
    classifier_activation="softmax", name=None, depth=29, cardinality=8, width_per_group=64, drop_path_rate=0.0,
    se_ratio=0.0,
):
    """ResNeXt-(9n+2) for CIFAR (Xie 2017, §5.2): grouped bottlenecks, 256/512/1024 outputs.

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name: as in `keras.applications`.
        depth: 9n+2 layers (29 in the paper).
        cardinality: groups of the 3x3 convolution (C).
        width_per_group: channels per group in stage 1 (d); doubles per stage.
"""
    arguments = ApplicationArguments.of(locals())
    blocks = _units(depth, 3, 2)
    check_positive_int(cardinality, "cardinality")
    check_positive_int(width_per_group, "width_per_group")
    spec = dataclasses.replace(POST_ACTIVATION, bottleneck=True, groups=cardinality)
    stages = tuple((256 * 2**index, cardinality * width_per_group * 2**index) for index in range(3))
    net = _Net(64, spec, stages, blocks)
    return _cifar(
        net, arguments, drop_path_rate=drop_path_rate, se_ratio=se_ratio,
        default_name=f"resnext{depth}_{cardinality}x{width_per_group}d",
    )


# Trainable parameters of RoR-3 with 10 classes, by hand: the underlying net (ResNet-110,
# option B: 1,727,962 + the two unit projections 16*32 + 64 + 32*64 + 128 = 2,752; WRN-58-4:
# its pre-activation units, stem 432, final BN 512, head 2,570) plus the stage
# projections i*f + 2f where the shape changes (ResNet-110: 576 + 2,176; WRN-58-4: 1,152 +
# 8,448 + 33,280) and the root projection 16*64k + 2*64k (ResNet-110: 1,152; WRN: 4,608).
# RoR adds shortcuts to a base network; each trains with its base network's recipe (our
# choice; the paper's best runs add stochastic depth, `drop_path_rate` here).
@_registered("ror3_wrn58_4", paper=ROR_PAPER, params=13_646_938, source="hand arithmetic (RoR-3 over WRN-58-4)",
             depth=58, extra_defaults={"width_factor": 4, "base": "wide_resnet"}, preset="wide_resnet_cifar")
@_registered("ror3_resnet110", paper=ROR_PAPER, params=1_734_618,
             source="hand arithmetic (RoR-3 over ResNet-110, option B)",
             depth=110)
def CifarRoR(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=10,
    classifier_activation="softmax", name=None, depth=110, base="resnet", width_factor=1, dropout_rate=0.0,
    drop_path_rate=0.0, se_ratio=0.0,
):
    """RoR-3 (Zhang 2017) over a CIFAR ResNet or Wide ResNet.

    `base="resnet"` adds RoR's shortcuts to the post-activation ResNet-(6n+2) with
    projection shortcuts (RoR-3-110); `base="wide_resnet"` to the pre-activation
    WRN-(6n+4)-k (RoR-3-WRN58-4 is `depth=58, width_factor=4`).

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name: as in `keras.applications`.
        depth: layers of the underlying network: 6n+2 for ResNet (110 for RoR-3-110),
            6n+4 for Wide ResNet (58 for RoR-3-WRN58-4).
        base: the underlying network, one of `ROR_BASES`: "resnet" or "wide_resnet".
        width_factor: k of the underlying Wide ResNet; must be 1 with `base="resnet"`.
        dropout_rate: dropout between the convolutions of a unit (either base).
"""
    arguments = ApplicationArguments.of(locals())
    check_choice(base, ROR_BASES, "base")
    check_positive_int(width_factor, "width_factor")
    if base == "resnet":
        if width_factor != 1:
            raise ValueError(
                'width_factor widens the Wide ResNet base only: use base="wide_resnet", or width_factor=1. '
                f"Received: width_factor={width_factor!r} with base={base!r}"
            )
        blocks = _units(depth, 2, 2)
        check_rate(dropout_rate, "dropout_rate")
        spec = dataclasses.replace(POST_ACTIVATION, dropout_rate=dropout_rate)
        net = _Net(16, spec, ((16, None), (32, None), (64, None)), blocks, ror=True)
        default_name = f"ror3_resnet{depth}"
    else:
        net = dataclasses.replace(_wide(depth, width_factor, dropout_rate), ror=True)
        default_name = f"ror3_wrn{depth}_{width_factor}"
    return _cifar(net, arguments, drop_path_rate=drop_path_rate, se_ratio=se_ratio, default_name=default_name)


for _constructor in (CifarResNet, CifarPreActResNet, CifarWideResNet, CifarResNeXt, CifarRoR):
    append_to_docstring(_constructor, SE_ARG)
