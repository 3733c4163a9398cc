"""ImageNet residual networks: ResNet v1 and v2, Wide ResNet, ResNeXt and SE-Nets.

- ResNet v1: "Deep Residual Learning for Image Recognition" (He, Zhang, Ren and Sun,
  CVPR 2016, arXiv 1512.03385), Table 1: basic units for 18 and 34 layers, bottlenecks
  for 50, 101 and 152. Two forms, chosen by `variant`:
  "v1" as in the paper and `keras.applications.ResNet50/101/152` (twins: convolutions
  with biases, stride on the first 1x1 of a bottleneck, BN epsilon 1.001e-5), the
  default of `ResNet50/101/152`; "v1.5" as torchvision (no convolution biases, stride on
  the 3x3, BN epsilon 1e-5), the default of `ResNet18/34`, whose counts are torchvision's.
- ResNet v2: "Identity Mappings in Deep Residual Networks" (He, Zhang, Ren and Sun,
  ECCV 2016, arXiv 1603.05027): pre-activation units, twins of
  `keras.applications.ResNet50V2/101V2/152V2` (which stride in the last unit of a stage).
  No PyTorch reference computes their function: timm's `resnetv2_50/101/152` stride in
  the first unit of stages 3-5, have no convolution biases (19,008 fewer parameters in
  ResNet-50 v2) and pad the unactivated stem's max pool with -inf, not zeros.
- Wide ResNet: "Wide Residual Networks" (Zagoruyko and Komodakis, BMVC 2016, arXiv
  1605.07146): the bottleneck's 3x3 twice as wide, torchvision's `wide_resnet50_2`.
- ResNeXt: "Aggregated Residual Transformations for Deep Neural Networks" (Xie, Girshick,
  Dollar, Tu and He, CVPR 2017, arXiv 1611.05431): the 3x3 as a grouped convolution of
  `cardinality` groups of `width_per_group` channels (form (c) of Fig. 3).
- SE-Nets: "Squeeze-and-Excitation Networks" (Hu, Shen and Sun, CVPR 2018, arXiv
  1709.01507): SE-ResNet-50 (stride on the first 1x1, as the authors' Caffe model),
  SE-ResNeXt-50 (32x4d) and SENet-154, the ILSVRC 2017 winner (64x4d ResNeXt-152-like
  units with a halved first 1x1, a three-conv stem, 3x3 projection shortcuts after stage
  1 and dropout 0.2 before the classifier), with Cadene's/imgclsmob's counts; each
  computes the function of timm's port of the Caffe model (`legacy_seresnet50`,
  `legacy_seresnext50_32x4d`, `legacy_senet154`), whose stem pools with an unpadded
  3x3/2 window rounding up (`ceil_mode=True`).

Every model with a torchvision or timm reference names it in the registry
(`torch_reference`); `keras_archs.convert` moves its weights in and tests_convert proves
the two compute the same function.

Every model takes `drop_path_rate` (stochastic depth, Huang et al. 2016, arXiv 1603.09382,
linear decay over all units) and `se_ratio` (squeeze-excitation on every unit). Stage
outputs are `conv2_block{n}_out` ... `conv5_block{n}_out` (`post_relu` after ResNet v2's
last stage), the cut points of `keras_archs.feature_extractor`.
"""

import dataclasses

from keras_archs.checks import check_choice, check_positive_int, check_rate
from keras_archs.layers.conv import bn_act, conv_bn_act
from keras_archs.layers.heads import classifier_head
from keras_archs.layers.norm import DENSENET_BN, TORCH_BN
from keras_archs.layers.padding import conv_padding, max_pool, torch_stem
from keras_archs.layers.residual import ResidualSpec, residual_stages
from keras_archs.models.base import ApplicationArguments, append_to_docstring, build_model
from keras_archs.registry import (
    IMAGENET_MEAN, IMAGENET_STD, KERAS_WEIGHTS_URL, InputSpec,
    Paper, PretrainedWeights, Reference, TorchReference, register_model,
)

__all__ = [
    "ResNet18",
    "ResNet34",
    "ResNet50",
    "ResNet101",
    "ResNet152",
    "ResNet50V2",
    "ResNet101V2",
    "ResNet152V2",
    "ResNeXt50",
    "ResNeXt101",
    "SENet154",
    "SEResNet50",
    "SEResNeXt50",
    "WideResNet50",
    "WideResNet101",
]

RESNET_PAPER = Paper(
    title="Deep Residual Learning for Image Recognition",
    authors="K. He, X. Zhang, S. Ren, J. Sun",
    year=2016,
    arxiv="1512.03385",
    venue="CVPR 2016",
)
PREACT_PAPER = Paper(
    title="Identity Mappings in Deep Residual Networks",
    authors="K. He, X. Zhang, S. Ren, J. Sun",
    year=2016,
    arxiv="1603.05027",
    venue="ECCV 2016",
)
WRN_PAPER = Paper(
    title="Wide Residual Networks",
    authors="S. Zagoruyko, N. Komodakis",
    year=2016,
    arxiv="1605.07146",
    venue="BMVC 2016",
)
RESNEXT_PAPER = Paper(
    title="Aggregated Residual Transformations for Deep Neural Networks",
    authors="S. Xie, R. Girshick, P. Dollar, Z. Tu, K. He",
    year=2017,
    arxiv="1611.05431",
    venue="CVPR 2017",
)
SE_PAPER = Paper(
    title="Squeeze-and-Excitation Networks",
    authors="J. Hu, L. Shen, G. Sun",
    year=2018,
    arxiv="1709.01507",
    venue="CVPR 2018",
)

# Five stride-2 steps: at 32x32 the last stage is 1x1.
INPUT_SPEC = InputSpec(default_size=224, min_size=32)
# Units per stage, He 2015 Table 1 (SENet-154: Hu 2018).
BLOCKS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), 50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}
SE_RATIO = 1 / 16  # reduction r = 16, Hu 2018 §6.1

# keras.applications' ResNets normalize as its DenseNets do (epsilon 1.001e-5): the twins
# take that preset, DENSENET_BN, by its DenseNet name.
# He 2015 and keras.applications: biased convolutions, stride on the first 1x1.
V1 = ResidualSpec(stride_on_3x3=False, conv_bias=True, padding="same", **DENSENET_BN)
# torchvision's "v1.5": no biases, stride on the 3x3, PyTorch's symmetric padding.
V1_5 = ResidualSpec(**TORCH_BN)
# keras.applications ResNet v2: biases only where no BN follows, every 3x3 padded explicitly.
V2 = ResidualSpec(preact=True, conv_bias=None, padding="explicit", **DENSENET_BN)
VARIANTS = {"v1": V1, "v1.5": V1_5}
# keras.applications leaves the strided identity shortcuts of ResNet v2 unnamed; these
# are the names Keras gives them, so that the layer lists match the twins'.
V2_POOL_NAMES = ("max_pooling2d", "max_pooling2d_1", "max_pooling2d_2", None)


@dataclasses.dataclass(frozen=True)
class _Net:
    """What distinguishes one ImageNet residual network from another."""

    blocks: tuple
    spec: ResidualSpec
    cardinality: int = 1
    width_per_group: int = 64
    deep_stem: bool = False
    stride_last: bool = False
    projection_kernel_after_stage1: int = 1
    first_width_divisor: int = 1
    head_dropout: float = 0.0
    # The SE-Nets' Caffe models (and timm's `legacy_*` ports of them) pool the stem with
    # an unpadded 3x3/2 window that rounds up (`ceil_mode=True`); the others pad it by 1.
    ceil_mode_pool: bool = False

    def stages(self):
        """`(filters, width, blocks, strides)` of the four stages."""
        expansion = 4 if self.spec.bottleneck else 1
        strides = (2, 2, 2, 1) if self.stride_last else (1, 2, 2, 2)
        return [
            (64 * 2**index * expansion, 2**index * self.width_per_group * self.cardinality, blocks, stride)
            for index, (blocks, stride) in enumerate(zip(self.blocks, strides))
        ]

    def stage_specs(self, se_ratio):
        spec = dataclasses.replace(
            self.spec, groups=self.cardinality, first_width_divisor=self.first_width_divisor, se_ratio=se_ratio
        )
        return [spec] + [dataclasses.replace(spec, shortcut_kernel_size=self.projection_kernel_after_stage1)] * 3


def _stem(x, net):
    """7x7/2 convolution (or three 3x3, SENet-154) and 3x3/2 max pooling: stride 4.

    Zero padding of the pool equals PyTorch's -inf padding where its input follows a ReLU.
    ResNet v2's stem convolution has neither BN nor an activation (the first unit's
    pre-activation follows the pool); keras.applications pads its pool with zeros all the
    same, and the twins keep that.
    """
    spec = net.spec
    if not net.deep_stem:
        return torch_stem(
            x, 64, 7, norm=not spec.preact, activation=None if spec.preact else "relu",
            use_bias=spec.bias(followed_by_bn=not spec.preact),
            pool_name="pool1_pool", pool_pad_name="pool1_pad", pool_ceil_mode=net.ceil_mode_pool, **spec.bn,
        )
    for index, (filters, strides) in enumerate(((64, 2), (64, 1), (128, 1)), start=1):
        x, padding = conv_padding(x, 3, strides, style="symmetric", name=f"conv1_{index}")
        x = conv_bn_act(
            x, filters, 3, strides=strides, padding=padding, use_bias=spec.bias(followed_by_bn=True),
            name=f"conv1_{index}", **spec.bn,
        )
    pool = {"ceil_mode": True} if net.ceil_mode_pool else {"padding": 1}
    return max_pool(x, 3, 2, name="pool1_pool", pad_name="pool1_pad", **pool)


def _check_options(drop_path_rate, se_ratio):
    check_rate(drop_path_rate, "drop_path_rate")
    check_rate(se_ratio, "se_ratio")


def _resnet(net, arguments, *, drop_path_rate, se_ratio, default_name, form):
    _check_options(drop_path_rate, se_ratio)

    def features(x):
        x = _stem(x, net)
        x = residual_stages(
            x, net.stages(), spec=net.stage_specs(se_ratio), drop_path_rate=drop_path_rate,
            stride_last=net.stride_last, pool_names=V2_POOL_NAMES if net.stride_last else None,
        )
        if net.spec.preact:
            x = bn_act(x, name="post", **net.spec.bn)
        return x

    def head(x, *, classes, classifier_activation):
        return classifier_head(
            x, classes=classes, classifier_activation=classifier_activation, dropout_rate=net.head_dropout
        )

    return build_model(
        features=features, head=head, input_spec=INPUT_SPEC, arguments=arguments, default_name=default_name,
        form=form,
    )


def _resnet_v1(constructor, depth, arguments, *, variant, drop_path_rate, se_ratio):
    check_choice(variant, tuple(VARIANTS), "variant")
    spec = dataclasses.replace(VARIANTS[variant], bottleneck=depth >= 50)
    return _resnet(
        _Net(BLOCKS[depth], spec), arguments, drop_path_rate=drop_path_rate, se_ratio=se_ratio,
        default_name=f"resnet{depth}", form=(constructor, {"variant": variant, "se_ratio": se_ratio}),
    )


_KERAS_WEIGHTS = f"{KERAS_WEIGHTS_URL}/resnet"
# keras.applications' files (`WEIGHTS_HASHES` of keras' resnet module; tests/test_weights.py
# compares them with what keras.applications downloads): twin -> (file stem, md5 with the
# top, md5 without, keras.io top-1, license as keras' documentation states it).
_V1_LICENSE = "MIT (KaimingHe/deep-residual-networks, as keras' documentation states)"
_V2_LICENSE = "BSD (facebook/fb.resnet.torch, as keras' documentation states)"
KERAS_CHECKPOINTS = {
    "ResNet50": ("resnet50", "2cb95161c43110f7111970584f804107", "4d473c1dd8becc155b73f8504c6f6626", 74.9,
                 _V1_LICENSE, "caffe"),
    "ResNet101": ("resnet101", "f1aeb4b969a6efcfb50fad2f0c20cfc5", "88cf7a10940856eca736dc7b7e228a21", 76.4,
                  _V1_LICENSE, "caffe"),
    "ResNet152": ("resnet152", "100835be76be38e30d865e96f2aaae62", "ee4c566cf9a93f14d82f913c2dc6dd0c", 76.6,
                  _V1_LICENSE, "caffe"),
    "ResNet50V2": ("resnet50v2", "3ef43a0b657b3be2300d5770ece849e0", "fac2f116257151a9d068a22e544a4917", 76.0,
                   _V2_LICENSE, "tf"),
    "ResNet101V2": ("resnet101v2", "6343647c601c52e1368623803854d971", "c0ed64b8031c3730f411d2eb4eea35b5", 77.2,
                    _V2_LICENSE, "tf"),
    "ResNet152V2": ("resnet152v2", "a49b44d1979771252814e80f8ec446f9", "ed17cf2e0169df9d443503ef94b23b33", 78.0,
                    _V2_LICENSE, "tf"),
}
# torchvision's checkpoints, DEFAULT first (url and acc@1 of torchvision.models.get_weight;
# tests_convert/test_weights_sources.py compares them): constructor -> ((enum, file, top-1,
# resize side), ...). IMAGENET1K_V2 was trained with torchvision's new recipe and evaluates
# after a resize to 232.
TORCHVISION_CHECKPOINTS = {
    "resnet18": (("ResNet18_Weights.IMAGENET1K_V1", "resnet18-f37072fd.pth", 69.758, 256),),
    "resnet34": (("ResNet34_Weights.IMAGENET1K_V1", "resnet34-b627a593.pth", 73.314, 256),),
    "resnet50": (("ResNet50_Weights.IMAGENET1K_V2", "resnet50-11ad3fa6.pth", 80.858, 232),
                 ("ResNet50_Weights.IMAGENET1K_V1", "resnet50-0676ba61.pth", 76.13, 256)),
    "resnet101": (("ResNet101_Weights.IMAGENET1K_V2", "resnet101-cd907fc2.pth", 81.886, 232),
                  ("ResNet101_Weights.IMAGENET1K_V1", "resnet101-63fe2227.pth", 77.374, 256)),
    "resnet152": (("ResNet152_Weights.IMAGENET1K_V2", "resnet152-f82ba261.pth", 82.284, 232),
                  ("ResNet152_Weights.IMAGENET1K_V1", "resnet152-394f9c45.pth", 78.312, 256)),
    "resnext50_32x4d": (("ResNeXt50_32X4D_Weights.IMAGENET1K_V2", "resnext50_32x4d-1a0047aa.pth", 81.198, 232),
                        ("ResNeXt50_32X4D_Weights.IMAGENET1K_V1", "resnext50_32x4d-7cdf4587.pth", 77.618, 256)),
    "resnext101_32x8d": (("ResNeXt101_32X8D_Weights.IMAGENET1K_V2", "resnext101_32x8d-110c445d.pth", 82.834, 232),
                         ("ResNeXt101_32X8D_Weights.IMAGENET1K_V1", "resnext101_32x8d-8ba56ff5.pth", 79.312, 256)),
    "resnext101_64x4d": (("ResNeXt101_64X4D_Weights.IMAGENET1K_V1", "resnext101_64x4d-173b62eb.pth", 83.246, 232),),
    "wide_resnet50_2": (("Wide_ResNet50_2_Weights.IMAGENET1K_V2", "wide_resnet50_2-9ba9bcbe.pth", 81.602, 232),
                        ("Wide_ResNet50_2_Weights.IMAGENET1K_V1", "wide_resnet50_2-95faca4d.pth", 78.468, 256)),
    "wide_resnet101_2": (("Wide_ResNet101_2_Weights.IMAGENET1K_V2", "wide_resnet101_2-d733dc28.pth", 82.51, 232),
                         ("Wide_ResNet101_2_Weights.IMAGENET1K_V1", "wide_resnet101_2-32ee1156.pth", 78.848, 256)),
}
# timm's ports of the SE-Nets' Caffe models are not on the Hugging Face Hub: timm fetches
# them from its GitHub releases (the pretrained configuration's `url`), as .pth files.
_TIMM_RELEASES = "https://github.com/rwightman/pytorch-image-models/releases/download"
TIMM_CHECKPOINTS = {
    "legacy_seresnet50": ("legacy_seresnet50.in1k", f"{_TIMM_RELEASES}/v0.1-cadene/se_resnet50-ce0d4300.pth",
                          77.644),
    "legacy_seresnext50_32x4d": ("legacy_seresnext50_32x4d.in1k",
                                 f"{_TIMM_RELEASES}/v0.1-weights/legacy_se_resnext50_32x4d-f3651bad.pth", 79.076),
    "legacy_senet154": ("legacy_senet154.in1k", f"{_TIMM_RELEASES}/v0.1-weights/legacy_senet154-e9eb9fe6.pth",
                        81.308),
}


def _keras_weights(twin):
    stem, file_hash, file_hash_no_top, top1, license, preprocessing = KERAS_CHECKPOINTS[twin]
    return PretrainedWeights.from_keras(
        twin, f"{_KERAS_WEIGHTS}/{stem}_weights_tf_dim_ordering_tf_kernels.h5", file_hash,
        f"{_KERAS_WEIGHTS}/{stem}_weights_tf_dim_ordering_tf_kernels_notop.h5", file_hash_no_top, top1, license,
        preprocessing,
    )


def _timm_weights(constructor):
    checkpoint, url, top1 = TIMM_CHECKPOINTS[constructor]
    return (PretrainedWeights.from_timm(
        checkpoint, top1, crop_size=224, crop_pct=0.875, interpolation="bilinear", mean=IMAGENET_MEAN,
        std=IMAGENET_STD, url=url,
    ),)


def _torchvision(constructor, **model_kwargs):
    return TorchReference(library="torchvision", constructor=constructor, mapping="resnet", model_kwargs=model_kwargs)


def _timm(constructor):
    return TorchReference(library="timm", constructor=constructor, mapping="resnet")


def _registered(name, *, paper, params, source, preprocessing="torch", gmacs=None, gmacs_source="", twin=None,
                defaults=None, top1=None, top1_source="", cifar_preset="resnet_cifar", torch_reference=None):
    """Registers `name`; its checkpoints follow from `twin` (keras') and `torch_reference`."""
    weights = []
    if twin:
        weights.append(_keras_weights(twin))
    if torch_reference and torch_reference.constructor in TORCHVISION_CHECKPOINTS:
        weights.extend(PretrainedWeights.from_torchvision_rows(TORCHVISION_CHECKPOINTS[torch_reference.constructor]))
    if torch_reference and torch_reference.constructor in TIMM_CHECKPOINTS:
        weights.extend(_timm_weights(torch_reference.constructor))
    # Every ImageNet ResNet here trains with He 2015's recipe (the resnet preset): ResNeXt
    # (Xie 2017 §4) and SE-ResNet (Hu 2018 §6.1: SGD momentum 0.9, /10 every 30 epochs)
    # follow it, as do WRN's ImageNet runs. Their CIFAR recipes differ (`cifar_preset`);
    # He 2015 §4.2's is the default.
    return register_model(
        name, family="resnet", paper=paper, input_spec=INPUT_SPEC,
        reference=Reference(params=params, source=source, gmacs=gmacs, gmacs_source=gmacs_source, top1=top1,
                            top1_source=top1_source),
        preprocessing=preprocessing, preset="resnet", cifar_preset=cifar_preset, twin=twin, defaults=defaults,
        torch_reference=torch_reference, weights=tuple(weights) or None,
    )


COMMON_ARGS = """
    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name: as in `keras.applications` (see
            `keras_archs.models.base.build_model`).
        drop_path_rate: stochastic depth: probability of dropping the last unit's branch
            per sample in training; earlier units get linearly less (Huang 2016).
        se_ratio: squeeze-excitation on every unit with `se_ratio * channels` bottleneck
            channels (Hu 2018 uses 1/16); 0 for none.
"""
VARIANT_ARG = """        variant: "v1" (He 2015, keras.applications: conv biases, stride on the first 1x1)
            or "v1.5" (torchvision: no conv biases, stride on the 3x3).

    Returns:
        A `keras.Model`.
"""


@_registered("resnet18", paper=RESNET_PAPER, params=11_689_512, source="TV resnet18", gmacs=1.814,
             gmacs_source="TV resnet18", top1=69.57, top1_source="fb.resnet.torch (single crop: 30.43% error)",
             torch_reference=_torchvision("resnet18"))
def ResNet18(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
    classifier_activation="softmax", name=None, variant="v1.5", drop_path_rate=0.0, se_ratio=0.0,
):
    """ResNet-18 (He 2015, Table 1): basic units, 2-2-2-2; torchvision's form by default."""
    return _resnet_v1(
        ResNet18, 18, ApplicationArguments.of(locals()), variant=variant, drop_path_rate=drop_path_rate,
        se_ratio=se_ratio,
    )


@_registered("resnet34", paper=RESNET_PAPER, params=21_797_672, source="TV resnet34", gmacs=3.664,
             gmacs_source="TV resnet34", top1=73.27, top1_source="fb.resnet.torch (single crop: 26.73% error)",
             torch_reference=_torchvision("resnet34"))
def ResNet34(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
    classifier_activation="softmax", name=None, variant="v1.5", drop_path_rate=0.0, se_ratio=0.0,
):
    """ResNet-34 (He 2015, Table 1): basic units, 3-4-6-3; torchvision's form by default."""
    return _resnet_v1(
        ResNet34, 34, ApplicationArguments.of(locals()), variant=variant, drop_path_rate=drop_path_rate,
        se_ratio=se_ratio,
    )


@_registered("tv_resnet50", paper=RESNET_PAPER, params=25_557_032, source="TV resnet50", gmacs=4.089,
             gmacs_source="TV resnet50", defaults={"variant": "v1.5"}, torch_reference=_torchvision("resnet50"))
@_registered("resnet50", paper=RESNET_PAPER, params=25_583_592, source="KA ResNet50", preprocessing="caffe",
             twin="ResNet50",
             top1=75.3, top1_source="KaimingHe/deep-residual-networks (single crop: 24.7% error)")
def ResNet50(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
    classifier_activation="softmax", name=None, variant="v1", drop_path_rate=0.0, se_ratio=0.0,
):
    """ResNet-50 (He 2015, Table 1): bottlenecks, 3-4-6-3.

    Twin of `keras.applications.ResNet50` by default; `variant="v1.5"` is torchvision's
    `resnet50` (25,557,032 parameters), registered as "tv_resnet50".
    """
    return _resnet_v1(
        ResNet50, 50, ApplicationArguments.of(locals()), variant=variant, drop_path_rate=drop_path_rate,
        se_ratio=se_ratio,
    )


@_registered("tv_resnet101", paper=RESNET_PAPER, params=44_549_160, source="TV resnet101", gmacs=7.801,
             gmacs_source="TV resnet101", defaults={"variant": "v1.5"}, torch_reference=_torchvision("resnet101"))
@_registered("resnet101", paper=RESNET_PAPER, params=44_601_832, source="KA ResNet101", preprocessing="caffe",
             twin="ResNet101",
             top1=76.4, top1_source="KaimingHe/deep-residual-networks (single crop: 23.6% error)")
def ResNet101(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
    classifier_activation="softmax", name=None, variant="v1", drop_path_rate=0.0, se_ratio=0.0,
):
    """ResNet-101 (He 2015, Table 1): bottlenecks, 3-4-23-3.

    Twin of `keras.applications.ResNet101` by default; `variant="v1.5"` is torchvision's
    `resnet101` (44,549,160 parameters), registered as "tv_resnet101".
    """
    return _resnet_v1(
        ResNet101, 101, ApplicationArguments.of(locals()), variant=variant, drop_path_rate=drop_path_rate,
        se_ratio=se_ratio,
    )


@_registered("tv_resnet152", paper=RESNET_PAPER, params=60_192_808, source="TV resnet152", gmacs=11.514,
             gmacs_source="TV resnet152", defaults={"variant": "v1.5"}, torch_reference=_torchvision("resnet152"))
@_registered("resnet152", paper=RESNET_PAPER, params=60_268_520, source="KA ResNet152", preprocessing="caffe",
             twin="ResNet152",
             top1=77.0, top1_source="KaimingHe/deep-residual-networks (single crop: 23.0% error)")
def ResNet152(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
    classifier_activation="softmax", name=None, variant="v1", drop_path_rate=0.0, se_ratio=0.0,
):
    """ResNet-152 (He 2015, Table 1): bottlenecks, 3-8-36-3.

    Twin of `keras.applications.ResNet152` by default; `variant="v1.5"` is torchvision's
    `resnet152` (60,192,808 parameters), registered as "tv_resnet152".
    """
    return _resnet_v1(
        ResNet152, 152, ApplicationArguments.of(locals()), variant=variant, drop_path_rate=drop_path_rate,
        se_ratio=se_ratio,
    )


for _constructor in (ResNet18, ResNet34, ResNet50, ResNet101, ResNet152):
    append_to_docstring(_constructor, COMMON_ARGS + VARIANT_ARG)


def _resnet_v2(constructor, depth, arguments, *, drop_path_rate, se_ratio):
    return _resnet(
        _Net(BLOCKS[depth], V2, stride_last=True), arguments, drop_path_rate=drop_path_rate, se_ratio=se_ratio,
        default_name=f"resnet{depth}_v2", form=(constructor, {"se_ratio": se_ratio}),
    )


@_registered("resnet50_v2", paper=PREACT_PAPER, params=25_568_360, source="KA ResNet50V2", preprocessing="tf",
             twin="ResNet50V2")
def ResNet50V2(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
    classifier_activation="softmax", name=None, drop_path_rate=0.0, se_ratio=0.0,
):
    """ResNet-50 v2 (He 2016): pre-activation bottlenecks; twin of keras' ResNet50V2."""
    return _resnet_v2(
        ResNet50V2, 50, ApplicationArguments.of(locals()), drop_path_rate=drop_path_rate, se_ratio=se_ratio
    )


@_registered("resnet101_v2", paper=PREACT_PAPER, params=44_577_896, source="KA ResNet101V2", preprocessing="tf",
             twin="ResNet101V2")
def ResNet101V2(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
    classifier_activation="softmax", name=None, drop_path_rate=0.0, se_ratio=0.0,
):
    """ResNet-101 v2 (He 2016): pre-activation bottlenecks; twin of keras' ResNet101V2."""
    return _resnet_v2(
        ResNet101V2, 101, ApplicationArguments.of(locals()), drop_path_rate=drop_path_rate, se_ratio=se_ratio
    )


@_registered("resnet152_v2", paper=PREACT_PAPER, params=60_236_904, source="KA ResNet152V2", preprocessing="tf",
             twin="ResNet152V2")
def ResNet152V2(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
    classifier_activation="softmax", name=None, drop_path_rate=0.0, se_ratio=0.0,
):
    """ResNet-152 v2 (He 2016): pre-activation bottlenecks; twin of keras' ResNet152V2."""
    return _resnet_v2(
        ResNet152V2, 152, ApplicationArguments.of(locals()), drop_path_rate=drop_path_rate, se_ratio=se_ratio
    )


for _constructor in (ResNet50V2, ResNet101V2, ResNet152V2):
    append_to_docstring(_constructor, COMMON_ARGS + "\n    Returns:\n        A `keras.Model`.\n")


def _grouped(depth, arguments, *, cardinality, width_per_group, drop_path_rate, se_ratio, default_name, form,
             ceil_mode_pool=False):
    """torchvision's bottleneck family: ResNeXt (cardinality > 1), Wide ResNet (wider groups)."""
    check_positive_int(cardinality, "cardinality")
    check_positive_int(width_per_group, "width_per_group")
    net = _Net(BLOCKS[depth], V1_5, cardinality=cardinality, width_per_group=width_per_group,
               ceil_mode_pool=ceil_mode_pool)
    return _resnet(
        net, arguments, drop_path_rate=drop_path_rate, se_ratio=se_ratio, default_name=default_name, form=form
    )


GROUPED_ARGS = """        cardinality: groups of the 3x3 convolution (C in Xie 2017).
        width_per_group: channels per group in the first stage (d in Xie 2017); doubles per
            stage.

    Returns:
        A `keras.Model`.
"""


@_registered("resnext50_32x4d", paper=RESNEXT_PAPER, params=25_028_904, source="TV resnext50_32x4d", gmacs=4.23,
             gmacs_source="TV resnext50_32x4d", cifar_preset="resnext_cifar",
             torch_reference=_torchvision("resnext50_32x4d"))
def ResNeXt50(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
    classifier_activation="softmax", name=None, cardinality=32, width_per_group=4, drop_path_rate=0.0,
    se_ratio=0.0,
):
    """ResNeXt-50 (Xie 2017, Table 1): 3-4-6-3 units, 32 groups of 4 channels by default.

    torchvision's form (`resnext50_32x4d` by default): stride on the 3x3, no biases.
    """
    return _grouped(
        50, ApplicationArguments.of(locals()), cardinality=cardinality, width_per_group=width_per_group,
        drop_path_rate=drop_path_rate, se_ratio=se_ratio, default_name=f"resnext50_{cardinality}x{width_per_group}d",
        form=(ResNeXt50, {"cardinality": cardinality, "width_per_group": width_per_group, "se_ratio": se_ratio}),
    )


@_registered("resnext101_64x4d", paper=RESNEXT_PAPER, params=83_455_272, source="TV resnext101_64x4d",
             gmacs=15.46, gmacs_source="TV resnext101_64x4d", defaults={"cardinality": 64, "width_per_group": 4},
             cifar_preset="resnext_cifar", torch_reference=_torchvision("resnext101_64x4d"))
@_registered("resnext101_32x8d", paper=RESNEXT_PAPER, params=88_791_336, source="TV resnext101_32x8d",
             gmacs=16.414, gmacs_source="TV resnext101_32x8d", cifar_preset="resnext_cifar",
             torch_reference=_torchvision("resnext101_32x8d"))
def ResNeXt101(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
    classifier_activation="softmax", name=None, cardinality=32, width_per_group=8, drop_path_rate=0.0,
    se_ratio=0.0,
):
    """ResNeXt-101 (Xie 2017): 3-4-23-3 units, 32 groups of 8 channels by default.

    torchvision's form (`resnext101_32x8d` by default, `resnext101_64x4d` with 64 groups
    of 4): stride on the 3x3, no biases.
    """
    return _grouped(
        101, ApplicationArguments.of(locals()), cardinality=cardinality, width_per_group=width_per_group,
        drop_path_rate=drop_path_rate, se_ratio=se_ratio,
        default_name=f"resnext101_{cardinality}x{width_per_group}d",
        form=(ResNeXt101, {"cardinality": cardinality, "width_per_group": width_per_group, "se_ratio": se_ratio}),
    )


def _wide(constructor, depth, arguments, *, width_factor, drop_path_rate, se_ratio):
    check_positive_int(width_factor, "width_factor")
    return _grouped(
        depth, arguments, cardinality=1, width_per_group=64 * width_factor, drop_path_rate=drop_path_rate,
        se_ratio=se_ratio, default_name=f"wide_resnet{depth}_{width_factor}",
        form=(constructor, {"width_factor": width_factor, "se_ratio": se_ratio}),
    )


WIDE_ARGS = """        width_factor: how many times wider the bottleneck's 1x1 and 3x3 are than ResNet's.

    Returns:
        A `keras.Model`.
"""


@_registered("wide_resnet50_2", paper=WRN_PAPER, params=68_883_240, source="TV wide_resnet50_2", gmacs=11.398,
             gmacs_source="TV wide_resnet50_2", cifar_preset="wide_resnet_cifar",
             torch_reference=_torchvision("wide_resnet50_2"))
def WideResNet50(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
    classifier_activation="softmax", name=None, width_factor=2, drop_path_rate=0.0, se_ratio=0.0,
):
    """Wide ResNet-50-2 (Zagoruyko 2016): ResNet-50 with bottlenecks twice as wide.

    torchvision's form (`wide_resnet50_2`): stride on the 3x3, no biases.
    """
    return _wide(
        WideResNet50, 50, ApplicationArguments.of(locals()), width_factor=width_factor,
        drop_path_rate=drop_path_rate, se_ratio=se_ratio,
    )


@_registered("wide_resnet101_2", paper=WRN_PAPER, params=126_886_696, source="TV wide_resnet101_2",
             gmacs=22.753, gmacs_source="TV wide_resnet101_2", cifar_preset="wide_resnet_cifar",
             torch_reference=_torchvision("wide_resnet101_2"))
def WideResNet101(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
    classifier_activation="softmax", name=None, width_factor=2, drop_path_rate=0.0, se_ratio=0.0,
):
    """Wide ResNet-101-2 (Zagoruyko 2016): ResNet-101 with bottlenecks twice as wide.

    torchvision's form (`wide_resnet101_2`): stride on the 3x3, no biases.
    """
    return _wide(
        WideResNet101, 101, ApplicationArguments.of(locals()), width_factor=width_factor,
        drop_path_rate=drop_path_rate, se_ratio=se_ratio,
    )


for _constructor in (ResNeXt50, ResNeXt101):
    append_to_docstring(_constructor, COMMON_ARGS + GROUPED_ARGS)
for _constructor in (WideResNet50, WideResNet101):
    append_to_docstring(_constructor, COMMON_ARGS + WIDE_ARGS)


@_registered("seresnet50", paper=SE_PAPER, params=28_088_024, source="IMG seresnet50", gmacs=3.88,
             gmacs_source="IMG seresnet50", torch_reference=_timm("legacy_seresnet50"),
             top1=77.63, top1_source="hujie-frank/SENet (single crop: 22.37% error)")
def SEResNet50(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
    classifier_activation="softmax", name=None, se_ratio=SE_RATIO, drop_path_rate=0.0,
):
    """SE-ResNet-50 (Hu 2018): ResNet-50 with SE (r = 16) on every unit.

    As the authors' Caffe model (and Cadene's/imgclsmob's ports), the stride is on the
    first 1x1 of a bottleneck, without convolution biases, and the stem pools with an
    unpadded 3x3/2 window rounding up. Computes the function of timm's
    `legacy_seresnet50` (Cadene's port of the Caffe model).
    """
    arguments = ApplicationArguments.of(locals())
    net = _Net(BLOCKS[50], dataclasses.replace(V1_5, stride_on_3x3=False), ceil_mode_pool=True)
    return _resnet(
        net, arguments, drop_path_rate=drop_path_rate, se_ratio=se_ratio, default_name="seresnet50",
        form=(SEResNet50, {"se_ratio": se_ratio}),
    )


@_registered("seresnext50_32x4d", paper=SE_PAPER, params=27_559_896, source="IMG seresnext50_32x4d", gmacs=4.258,
             gmacs_source="IMG seresnext50_32x4d", torch_reference=_timm("legacy_seresnext50_32x4d"),
             top1=79.03, top1_source="hujie-frank/SENet (single crop: 20.97% error)")
def SEResNeXt50(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
    classifier_activation="softmax", name=None, cardinality=32, width_per_group=4, se_ratio=SE_RATIO,
    drop_path_rate=0.0,
):
    """SE-ResNeXt-50 (Hu 2018): ResNeXt-50 32x4d with SE (r = 16) on every unit.

    The stem pools as the authors' Caffe model (unpadded 3x3/2, rounding up). Computes
    the function of timm's `legacy_seresnext50_32x4d`.
    """
    return _grouped(
        50, ApplicationArguments.of(locals()), cardinality=cardinality, width_per_group=width_per_group,
        drop_path_rate=drop_path_rate, se_ratio=se_ratio, default_name="seresnext50_32x4d",
        form=(SEResNeXt50, {"cardinality": cardinality, "width_per_group": width_per_group, "se_ratio": se_ratio}),
        ceil_mode_pool=True,
    )


@_registered("senet154", paper=SE_PAPER, params=115_088_984, source="IMG senet154", gmacs=20.746,
             gmacs_source="IMG senet154", torch_reference=_timm("legacy_senet154"),
             top1=81.32, top1_source="hujie-frank/SENet (single crop: 18.68% error)")
def SENet154(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
    classifier_activation="softmax", name=None, se_ratio=SE_RATIO, dropout_rate=0.2, drop_path_rate=0.0,
):
    """SENet-154 (Hu 2018): 3-8-36-3 SE-ResNeXt units of 64 groups of 4 channels (stage 1).

    Differences from ResNeXt-152: a stem of three 3x3 convolutions (64, 64, 128), the
    first 1x1 of a unit half as wide as the grouped 3x3, 3x3 projection shortcuts from
    stage 2 on, dropout before the classifier; the stem pools as the authors' Caffe
    model (unpadded 3x3/2, rounding up). Computes the function of timm's
    `legacy_senet154`.

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name: as in `keras.applications`.
        se_ratio: squeeze-excitation bottleneck as a fraction of the channels (1/16).
        dropout_rate: dropout before the classifier (0.2 in the reference model).
        drop_path_rate: stochastic depth rate of the last unit (linear decay).

    Returns:
        A `keras.Model`.
    """
    arguments = ApplicationArguments.of(locals())
    check_rate(dropout_rate, "dropout_rate")
    net = _Net(BLOCKS[152], V1_5, cardinality=64, width_per_group=4, deep_stem=True,
               projection_kernel_after_stage1=3, first_width_divisor=2, head_dropout=dropout_rate,
               ceil_mode_pool=True)
    return _resnet(
        net, arguments, drop_path_rate=drop_path_rate, se_ratio=se_ratio, default_name="senet154",
        form=(SENet154, {"se_ratio": se_ratio}),
    )


for _constructor in (SEResNet50, SEResNeXt50):
    append_to_docstring(_constructor, COMMON_ARGS + "\n    Returns:\n        A `keras.Model`.\n")
