"""VGG (Simonyan and Zisserman 2015).

"Very Deep Convolutional Networks for Large-Scale Image Recognition", ICLR 2015,
arXiv 1409.1556. Configurations A (VGG-11), B (VGG-13), D (VGG-16) and E (VGG-19) of
Table 1: stacks of 3x3 convolutions in five blocks of 64-128-256-512-512 filters, each
ended by 2x2 max pooling, then FC-4096, FC-4096 and the classifier.

`VGG16` and `VGG19` are twins of `keras.applications.VGG16/VGG19`: same layers, order,
names and weight shapes. `batch_norm=True` adds BatchNormalization after every
convolution as torchvision's `vgg*_bn` do (their counts; BN epsilon 1e-5, momentum 0.9
in Keras' convention). Every registered form computes the same function as torchvision's
model of its name (`vgg11` ... `vgg19_bn`; tests_convert proves it with converted
weights), the twins included: both pad 3x3 convolutions by one pixel and pool 2x2/2. The paper trained with dropout 0.5 after the two hidden FC
layers; `dropout_rate` defaults to 0 so that the plain models keep the twins' layers.
"""

import keras

from keras_archs.checks import check_bool, check_rate
from keras_archs.layers.conv import conv_bn_act
from keras_archs.layers.heads import classifier_head
from keras_archs.models.base import ApplicationArguments, build_model
from keras_archs.registry import (
    KERAS_WEIGHTS_URL, InputSpec, Paper, PretrainedWeights, Reference, TorchReference, register_model,
)

__all__ = ["VGG11", "VGG13", "VGG16", "VGG19"]

PAPER = Paper(
    title="Very Deep Convolutional Networks for Large-Scale Image Recognition",
    authors="K. Simonyan, A. Zisserman",
    year=2015,
    arxiv="1409.1556",
    venue="ICLR 2015",
)
# Five 2x2/2 max poolings without padding.
INPUT_SPEC = InputSpec(default_size=224, min_size=32, fixed_size_top=True)
BLOCK_FILTERS = (64, 128, 256, 512, 512)
# Convolutions per block, Table 1.
CONVS_PER_BLOCK = {
    "A": (1, 1, 2, 2, 2),
    "B": (2, 2, 2, 2, 2),
    "D": (2, 2, 3, 3, 3),
    "E": (2, 2, 4, 4, 4),
}
# The keras.applications files (keras/src/applications/vgg16.py, vgg19.py: the URLs and the
# md5 hashes its get_file calls pass; tests/test_weights.py compares them with keras' source).
# Keras converted the VGG authors' release, which is under CC BY 4.0; top-1 from keras.io.
KERAS_CHECKPOINTS = {
    "vgg16": PretrainedWeights(
        source="keras", checkpoint="VGG16",
        url=f"{KERAS_WEIGHTS_URL}/vgg16/vgg16_weights_tf_dim_ordering_tf_kernels.h5",
        file_hash="64373286793e3c8b2b4e3219cbf3544b",
        url_no_top=f"{KERAS_WEIGHTS_URL}/vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
        file_hash_no_top="6d6bbae143d832006294945121d1f1fc",
        license="CC-BY-4.0 (the VGG authors' release)", top1=71.3, top1_source="keras.io/api/applications",
        preprocessing="caffe",
    ),
    "vgg19": PretrainedWeights(
        source="keras", checkpoint="VGG19",
        url=f"{KERAS_WEIGHTS_URL}/vgg19/vgg19_weights_tf_dim_ordering_tf_kernels.h5",
        file_hash="cbe5617147190e668d6c5d5026f83318",
        url_no_top=f"{KERAS_WEIGHTS_URL}/vgg19/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
        file_hash_no_top="253f8cb515780f3b799900260a226db6",
        license="CC-BY-4.0 (the VGG authors' release)", top1=71.3, top1_source="keras.io/api/applications",
        preprocessing="caffe",
    ),
}
# torchvision's IMAGENET1K_V1 weights (url and acc@1 of torchvision.models.get_weight;
# tests_convert/test_weights_sources.py compares them): (file, top-1) by registry name.
TORCHVISION_CHECKPOINTS = {
    "vgg11": ("vgg11-8a719046.pth", 69.02),
    "vgg11_bn": ("vgg11_bn-6002323d.pth", 70.37),
    "vgg13": ("vgg13-19584684.pth", 69.928),
    "vgg13_bn": ("vgg13_bn-abd245e5.pth", 71.586),
    "vgg16": ("vgg16-397923af.pth", 71.592),
    "vgg16_bn": ("vgg16_bn-6c64b313.pth", 73.36),
    "vgg19": ("vgg19-dcbb9e9d.pth", 72.376),
    "vgg19_bn": ("vgg19_bn-c79401a0.pth", 74.218),
}


def _weights(name):
    """`name`'s checkpoints: the keras.applications file first for the twins, then torchvision's."""
    file_name, top1 = TORCHVISION_CHECKPOINTS[name]
    torchvision = PretrainedWeights.from_torchvision(
        f"{name.upper()}_Weights.IMAGENET1K_V1", f"https://download.pytorch.org/models/{file_name}", top1
    )
    return (KERAS_CHECKPOINTS[name], torchvision) if name in KERAS_CHECKPOINTS else (torchvision,)


def _features(x, convs_per_block, batch_norm):
    for block, (filters, convs) in enumerate(zip(BLOCK_FILTERS, convs_per_block), start=1):
        for index in range(1, convs + 1):
            x = conv_bn_act(
                x,
                filters,
                3,
                norm=batch_norm,
                use_bias=True,
                bn_epsilon=1e-5,
                bn_momentum=0.9,
                name=f"block{block}_conv{index}",
                conv_suffix="",
            )
        x = keras.layers.MaxPooling2D(2, strides=2, name=f"block{block}_pool")(x)
    return x


def _vgg(configuration, batch_norm, dropout_rate, arguments):
    check_bool(batch_norm, "batch_norm")
    check_rate(dropout_rate, "dropout_rate")

    def features(x):
        return _features(x, CONVS_PER_BLOCK[configuration], batch_norm)

    def head(x, *, classes, classifier_activation):
        return classifier_head(
            x,
            classes=classes,
            classifier_activation=classifier_activation,
            flatten=True,
            hidden_units=(4096, 4096),
            hidden_dropout_rate=dropout_rate,
        )

    # The depth counts the weight layers: the convolutions and the three FC layers.
    registry_name = f"vgg{sum(CONVS_PER_BLOCK[configuration]) + 3}" + ("_bn" if batch_norm else "")
    return build_model(
        features=features, head=head, input_spec=INPUT_SPEC, arguments=arguments, default_name=registry_name,
    )


def _register(name, params, bn_params, gmacs, top1=None, twin=None):
    """Registers `name` and `name_bn` with torchvision's (or Keras') reference figures."""
    source = f"KA {twin}" if twin else f"TV {name}"
    plain = register_model(
        name,
        family="vgg",
        paper=PAPER,
        input_spec=INPUT_SPEC,
        reference=Reference(params=params, source=source, gmacs=gmacs, gmacs_source=f"TV {name}", top1=top1,
                            top1_source=f"TV {name}" if top1 else ""),
        preprocessing="caffe",
        preset="vgg",
        twin=twin,
        torch_reference=TorchReference(library="torchvision", constructor=name, mapping="vgg"),
        weights=_weights(name),
    )
    with_bn = register_model(
        f"{name}_bn",
        family="vgg",
        paper=PAPER,
        input_spec=INPUT_SPEC,
        reference=Reference(params=bn_params, source=f"TV {name}_bn", gmacs=gmacs, gmacs_source=f"TV {name}"),
        preprocessing="caffe",
        preset="vgg",
        defaults={"batch_norm": True},
        torch_reference=TorchReference(library="torchvision", constructor=f"{name}_bn", mapping="vgg"),
        weights=_weights(f"{name}_bn"),
    )
    return lambda constructor: with_bn(plain(constructor))


@_register("vgg11", 132_863_336, 132_868_840, 7.609)
def VGG11(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
    classes=1000, classifier_activation="softmax", name=None, batch_norm=False, dropout_rate=0.0,
):
    """VGG-11, configuration A of Simonyan and Zisserman (2015), Table 1.

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name: as in `keras.applications` (see
            `keras_archs.models.base.build_model`).
        batch_norm: BatchNormalization after every convolution (torchvision's `_bn`).
        dropout_rate: dropout after the two hidden FC layers (the paper used 0.5).

    Returns:
        A `keras.Model`.
    """
    return _vgg("A", batch_norm, dropout_rate, ApplicationArguments.of(locals()))


@_register("vgg13", 133_047_848, 133_053_736, 11.308)
def VGG13(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
    classes=1000, classifier_activation="softmax", name=None, batch_norm=False, dropout_rate=0.0,
):
    """VGG-13, configuration B of Simonyan and Zisserman (2015), Table 1.

    Arguments as for `VGG11`.
    """
    return _vgg("B", batch_norm, dropout_rate, ApplicationArguments.of(locals()))


@_register("vgg16", 138_357_544, 138_365_992, 15.470, top1=71.592, twin="VGG16")
def VGG16(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
    classes=1000, classifier_activation="softmax", name=None, batch_norm=False, dropout_rate=0.0,
):
    """VGG-16, configuration D of Simonyan and Zisserman (2015), Table 1.

    Twin of `keras.applications.VGG16`. Arguments as for `VGG11`.
    """
    return _vgg("D", batch_norm, dropout_rate, ApplicationArguments.of(locals()))


@_register("vgg19", 143_667_240, 143_678_248, 19.632, top1=72.376, twin="VGG19")
def VGG19(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
    classes=1000, classifier_activation="softmax", name=None, batch_norm=False, dropout_rate=0.0,
):
    """VGG-19, configuration E of Simonyan and Zisserman (2015), Table 1.

    Twin of `keras.applications.VGG19`. Arguments as for `VGG11`.
    """
    return _vgg("E", batch_norm, dropout_rate, ApplicationArguments.of(locals()))
