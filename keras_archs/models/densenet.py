"""DenseNet (Huang, Liu, van der Maaten and Weinberger 2017).

"Densely Connected Convolutional Networks", CVPR 2017, arXiv 1608.06993. Inside a dense
block every layer receives the concatenation of all earlier maps of the block and adds
`growth_rate` (k) maps of its own; transition layers between blocks compress the
channels by theta and halve the resolution.

- ImageNet DenseNet-BC (Table 1): a 7x7/2 convolution and 3x3/2 max pooling, four dense
  blocks with bottleneck layers (BN-ReLU-1x1 to 4k, BN-ReLU-3x3 to k) and theta = 0.5.
  `DenseNet121/169/201` are twins of `keras.applications.DenseNet121/169/201` (same
  layers, names, order and weight shapes); `DenseNet161` (k = 48) and `DenseNet264`
  have torchvision's counts (DenseNet-264 is Table 1's deepest column, no torchvision
  model). DenseNet-121/161/169/201 compute the same function as torchvision's
  `densenet121/161/169/201` (tests_convert proves it with converted weights): the layers
  are the same, and keras.applications' BatchNorm epsilon (1.001e-5, kept for the twins)
  differs from torchvision's 1e-5 only by what the converter folds into the variance.
- CIFAR DenseNet (§4.2): a 3x3 convolution to 2k maps (16 without bottleneck), three
  dense blocks at 32, 16 and 8 pixels. `DenseNetCIFAR` defaults to DenseNet-BC
  (bottleneck and theta = 0.5, depth L = 6n + 4); `bottleneck=False, compression=1.0`
  gives the plain DenseNet of the paper (L = 3n + 4, e.g. L = 40, k = 12).

Both come from the same builder; they differ only in the stem and the block counts.
Stage outputs (for feature pyramids) are named after the keras.applications scheme: the
dense block's output `conv{stage}_block{layers}_concat` (stages 2-5 on ImageNet, strides
4-32; 2-4 on CIFAR, strides 1-4), the compressed `pool{stage}_conv` of the transition
after it (what `keras_archs.feature_extractor` picks by reduction), and `relu`, the
final pre-activated feature map.
"""

import dataclasses
import numbers

import keras

from keras_archs.checks import check_bool, check_positive_int, check_rate
from keras_archs.layers.densenet import dense_block, post_activation, transition
from keras_archs.layers.heads import classifier_head
from keras_archs.layers.norm import DENSENET_BN
from keras_archs.layers.padding import torch_stem
from keras_archs.models.base import ApplicationArguments, build_model
from keras_archs.registry import (
    KERAS_WEIGHTS_URL, InputSpec, Paper, PretrainedWeights, Reference, TorchReference, register_model,
)

__all__ = ["DenseNet121", "DenseNet161", "DenseNet169", "DenseNet201", "DenseNet264", "DenseNetCIFAR"]

PAPER = Paper(
    title="Densely Connected Convolutional Networks",
    authors="G. Huang, Z. Liu, L. van der Maaten, K. Q. Weinberger",
    year=2017,
    arxiv="1608.06993",
    venue="CVPR 2017",
)
# Stride 2 stem, 3x3/2 pooling and three 2x2/2 transitions (keras.applications' minimum).
IMAGENET_INPUT = InputSpec(default_size=224, min_size=32)
# Two 2x2/2 transitions.
CIFAR_INPUT = InputSpec(default_size=32, min_size=4)
# keras.applications DenseNet's BatchNormalization (momentum 0.99 is Keras' default).
BN = DENSENET_BN
_KERAS_WEIGHTS = f"{KERAS_WEIGHTS_URL}/densenet"
# The keras.applications files: md5 with and without the top, as keras/src/applications/
# densenet.py passes them to get_file (tests/test_weights.py compares them with keras'
# source). The DenseNet authors released their models under BSD-3-Clause, the license
# Keras' own hub copies carry; top-1 from keras.io.
KERAS_HASHES = {
    121: ("9d60b8095a5708f2dcce2bca79d332c7", "30ee3e1110167f948a6b9946edeeb738", 75.0),
    169: ("d699b8f76981ab1b30698df4c175e90b", "b8c4d4c20dd625c148057b9ff1c1176b", 76.2),
    201: ("1ceb130c1ea1b78c3bf6114dbdfd8807", "c13680b51ded0fb44dff2d8f86ac8bb1", 77.3),
}
# torchvision's IMAGENET1K_V1 weights (url and acc@1 of torchvision.models.get_weight;
# tests_convert/test_weights_sources.py compares them): (file, top-1) by depth.
TORCHVISION_CHECKPOINTS = {
    121: ("densenet121-a639ec97.pth", 74.434),
    161: ("densenet161-8d451a50.pth", 77.138),
    169: ("densenet169-b2777c0a.pth", 75.6),
    201: ("densenet201-c1103571.pth", 76.896),
}


def _weights(depth):
    """The checkpoints of `densenet{depth}`: the keras.applications file first, then torchvision's."""
    entries = []
    if depth in KERAS_HASHES:
        file_hash, file_hash_no_top, top1 = KERAS_HASHES[depth]
        entries.append(PretrainedWeights(
            source="keras", checkpoint=f"DenseNet{depth}",
            url=f"{_KERAS_WEIGHTS}/densenet{depth}_weights_tf_dim_ordering_tf_kernels.h5", file_hash=file_hash,
            url_no_top=f"{_KERAS_WEIGHTS}/densenet{depth}_weights_tf_dim_ordering_tf_kernels_notop.h5",
            file_hash_no_top=file_hash_no_top, license="BSD-3-Clause (the DenseNet authors' release)", top1=top1,
            top1_source="keras.io/api/applications", preprocessing="torch",
        ))
    if depth in TORCHVISION_CHECKPOINTS:
        file_name, top1 = TORCHVISION_CHECKPOINTS[depth]
        entries.append(PretrainedWeights.from_torchvision(
            f"DenseNet{depth}_Weights.IMAGENET1K_V1", f"https://download.pytorch.org/models/{file_name}", top1
        ))
    return tuple(entries) or None


@dataclasses.dataclass(frozen=True)
class _Config:
    blocks: tuple
    growth_rate: int
    stem_filters: int
    stem: str  # "imagenet" (7x7/2 conv, 3x3/2 max pool) or "cifar" (3x3 conv)


IMAGENET_CONFIGS = {
    121: _Config(blocks=(6, 12, 24, 16), growth_rate=32, stem_filters=64, stem="imagenet"),
    161: _Config(blocks=(6, 12, 36, 24), growth_rate=48, stem_filters=96, stem="imagenet"),
    169: _Config(blocks=(6, 12, 32, 32), growth_rate=32, stem_filters=64, stem="imagenet"),
    201: _Config(blocks=(6, 12, 48, 32), growth_rate=32, stem_filters=64, stem="imagenet"),
    264: _Config(blocks=(6, 12, 64, 48), growth_rate=32, stem_filters=64, stem="imagenet"),
}


def _stem(x, config):
    if config.stem == "cifar":
        # No BN-ReLU here: the first dense layer pre-activates its input.
        return keras.layers.Conv2D(
            config.stem_filters, 3, padding="same", use_bias=False, name="conv1_conv"
        )(x)
    # keras.applications leaves its two paddings unnamed; their automatic names are
    # spelled out so that layer names match the twin whatever was built before.
    return torch_stem(
        x, config.stem_filters, 7, name="conv1", pad_name="zero_padding2d", pool_name="pool1",
        pool_pad_name="zero_padding2d_1", use_bias=False, **BN,
    )


def _densenet(config, arguments, *, compression, bottleneck, dropout_rate, input_spec, default_name,
              registry_name=None):
    if isinstance(compression, bool) or not isinstance(compression, numbers.Real) or not 0 < compression <= 1:
        raise ValueError(f"compression must be a number in (0, 1]. Received: compression={compression!r}")
    check_bool(bottleneck, "bottleneck")
    check_rate(dropout_rate, "dropout_rate")
    layer_options = {"bottleneck_width": 4 if bottleneck else 0, "dropout_rate": dropout_rate, **BN}

    def features(x):
        x = _stem(x, config)
        last = len(config.blocks) + 1
        for stage, layers in enumerate(config.blocks, start=2):
            x = dense_block(x, layers, config.growth_rate, name=f"conv{stage}", **layer_options)
            if stage < last:
                x = transition(x, compression, name=f"pool{stage}", dropout_rate=dropout_rate, **BN)
        return post_activation(x, **BN)

    return build_model(
        features=features, head=classifier_head, input_spec=input_spec, arguments=arguments,
        default_name=default_name, registry_name=registry_name,
    )


def _imagenet(depth, arguments, *, compression, dropout_rate):
    return _densenet(
        IMAGENET_CONFIGS[depth], arguments, compression=compression, bottleneck=True, dropout_rate=dropout_rate,
        input_spec=IMAGENET_INPUT, default_name=f"densenet{depth}", registry_name=f"densenet{depth}",
    )


def _register_imagenet(depth, params, source, gmacs=None, top1=None, twin=None, torchvision=True):
    """Registers `densenet{depth}`; `torchvision`: whether torchvision has it (all but 264)."""
    torch_reference = None
    if torchvision:
        # State dicts do not store the BN epsilon: torchvision's is 1e-5, ours 1.001e-5.
        torch_reference = TorchReference(
            library="torchvision", constructor=f"densenet{depth}", mapping="densenet", bn_epsilon=1e-5
        )
    return register_model(
        f"densenet{depth}",
        family="densenet",
        paper=PAPER,
        input_spec=IMAGENET_INPUT,
        reference=Reference(
            params=params, source=source, gmacs=gmacs, gmacs_source="TV docs (GFLOPS column)" if gmacs else "",
            top1=top1, top1_source="Huang 2017 Table 3 (single crop)" if top1 else "",
        ),
        preprocessing="torch",
        preset="densenet",
        cifar_preset="densenet_cifar",
        twin=twin,
        torch_reference=torch_reference,
        weights=_weights(depth),
    )


@_register_imagenet(121, 7_978_856, "KA DenseNet121 trainable; TV densenet121", gmacs=2.83, top1=74.98,
                    twin="DenseNet121")
def DenseNet121(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
    classes=1000, classifier_activation="softmax", name=None, compression=0.5, dropout_rate=0.0,
):
    """DenseNet-121 (k = 32, blocks 6-12-24-16), Huang et al. (2017), Table 1.

    Twin of `keras.applications.DenseNet121`.

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name: as in `keras.applications` (see
            `keras_archs.models.base.build_model`).
        compression: theta, the fraction of channels a transition keeps (0.5).
        dropout_rate: dropout after each convolution of the dense and transition layers
            (the paper's 0.2 for CIFAR without augmentation; 0 on ImageNet).

    Returns:
        A `keras.Model`.
    """
    return _imagenet(121, ApplicationArguments.of(locals()), compression=compression, dropout_rate=dropout_rate)


@_register_imagenet(161, 28_681_000, "TV densenet161", gmacs=7.73, top1=None)
def DenseNet161(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
    classes=1000, classifier_activation="softmax", name=None, compression=0.5, dropout_rate=0.0,
):
    """DenseNet-161 (k = 48, 96 stem filters, blocks 6-12-36-24), Huang et al. (2017).

    The wide model of the authors' release and torchvision. Arguments as for `DenseNet121`.
    """
    return _imagenet(161, ApplicationArguments.of(locals()), compression=compression, dropout_rate=dropout_rate)


@_register_imagenet(169, 14_149_480, "KA DenseNet169 trainable; TV densenet169", gmacs=3.36, top1=76.20,
                    twin="DenseNet169")
def DenseNet169(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
    classes=1000, classifier_activation="softmax", name=None, compression=0.5, dropout_rate=0.0,
):
    """DenseNet-169 (k = 32, blocks 6-12-32-32), Huang et al. (2017), Table 1.

    Twin of `keras.applications.DenseNet169`. Arguments as for `DenseNet121`.
    """
    return _imagenet(169, ApplicationArguments.of(locals()), compression=compression, dropout_rate=dropout_rate)


@_register_imagenet(201, 20_013_928, "KA DenseNet201 trainable; TV densenet201", gmacs=4.29, top1=77.42,
                    twin="DenseNet201")
def DenseNet201(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
    classes=1000, classifier_activation="softmax", name=None, compression=0.5, dropout_rate=0.0,
):
    """DenseNet-201 (k = 32, blocks 6-12-48-32), Huang et al. (2017), Table 1.

    Twin of `keras.applications.DenseNet201`. Arguments as for `DenseNet121`.
    """
    return _imagenet(201, ApplicationArguments.of(locals()), compression=compression, dropout_rate=dropout_rate)


@_register_imagenet(
    264, 33_337_704,
    "REFERENCES.md: computed by the formula that reproduces TV densenet121/161/169/201 (no TV model)",
    torchvision=False,
)
def DenseNet264(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
    classes=1000, classifier_activation="softmax", name=None, compression=0.5, dropout_rate=0.0,
):
    """DenseNet-264 (k = 32, blocks 6-12-64-48), Huang et al. (2017), Table 1's deepest.

    Arguments as for `DenseNet121`.
    """
    return _imagenet(264, ApplicationArguments.of(locals()), compression=compression, dropout_rate=dropout_rate)


def _cifar_config(depth, growth_rate, bottleneck):
    check_positive_int(depth, "depth")
    check_positive_int(growth_rate, "growth_rate")
    # Three blocks, a stem convolution, two transitions and the classifier: L = 3 * m * n + 4
    # with m = 2 convolutions per bottleneck layer, 1 without.
    convs_per_layer = 2 if bottleneck else 1
    if depth <= 4 or (depth - 4) % (3 * convs_per_layer):
        raise ValueError(
            f"depth must be {3 * convs_per_layer}n + 4 (n >= 1) for bottleneck={bottleneck}. "
            f"Received: depth={depth!r}"
        )
    layers = (depth - 4) // (3 * convs_per_layer)
    # §3, Implementation details: 2k stem maps for DenseNet-BC, 16 otherwise.
    stem_filters = 2 * growth_rate if bottleneck else 16
    return _Config(blocks=(layers,) * 3, growth_rate=growth_rate, stem_filters=stem_filters, stem="cifar")


def _register_cifar(name, params, defaults, top1):
    return register_model(
        name,
        family="densenet",
        paper=PAPER,
        input_spec=CIFAR_INPUT,
        reference=Reference(params=params, source="IMG densenet_cifar (CIFAR-10)", classes=10,
                            top1=top1, top1_source="Huang 2017 Table 2 (C10+)"),
        preprocessing="unit",
        preset="densenet_cifar",
        cifar_preset="densenet_cifar",
        defaults=defaults,
    )


@_register_cifar("densenet_bc100_k12", 769_162, {}, 95.49)
@_register_cifar("densenet_bc190_k40", 25_624_430, {"depth": 190, "growth_rate": 40}, 96.54)
def DenseNetCIFAR(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
    classes=10, classifier_activation="softmax", name=None, depth=100, growth_rate=12, bottleneck=True,
    compression=0.5, dropout_rate=0.0,
):
    """The CIFAR DenseNet of Huang et al. (2017), §4.2: three dense blocks on 32x32 input.

    The default is DenseNet-BC (L = 100, k = 12); `bottleneck=False, compression=1.0` is the
    plain DenseNet (e.g. `depth=40, growth_rate=12`).

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name: as in `keras.applications` (see
            `keras_archs.models.base.build_model`).
        depth: L, counting convolutions and the classifier: 6n + 4 with bottleneck,
            3n + 4 without.
        growth_rate: k.
        bottleneck: the 1x1 bottleneck layers of DenseNet-B.
        compression: theta of the transitions (0.5 for DenseNet-C/BC, 1 for none).
        dropout_rate: dropout after each convolution (0.2 in the paper without augmentation).

    Returns:
        A `keras.Model`.
    """
    arguments = ApplicationArguments.of(locals())
    check_bool(bottleneck, "bottleneck")
    config = _cifar_config(depth, growth_rate, bottleneck)
    return _densenet(
        config, arguments, compression=compression, bottleneck=bottleneck, dropout_rate=dropout_rate,
        input_spec=CIFAR_INPUT,
        default_name=f"densenet_bc{depth}_k{growth_rate}" if bottleneck else f"densenet{depth}_k{growth_rate}",
    )
