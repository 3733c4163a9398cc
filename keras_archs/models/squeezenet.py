"""SqueezeNet (Iandola et al. 2016).

"SqueezeNet: AlexNet-level accuracy with 50x fewer parameters and <0.5MB model size",
2016, arXiv 1602.07360. A stem convolution, then Fire modules (a 1x1 "squeeze" layer
feeding 1x1 and 3x3 "expand" layers, §3.2) with max pooling between groups, and no
dense layer: dropout 0.5, a 1x1 convolution to one map per class, ReLU and global
average pooling (§3.3, Table 1).

- `squeezenet1_0`: the paper's Table 1 network (96 7x7/2 stem, pooling after conv1,
  fire4 and fire8); 1,248,424 parameters.
- `squeezenet1_1`: the v1.1 of the authors' repository (64 3x3/2 stem, pooling after
  conv1, fire3 and fire5), 2.4x less computation at the same accuracy; 1,235,496.

Both compute the same function as torchvision's `squeezenet1_0/1_1` (tests_convert proves
it with converted weights), whose max pooling rounds up (`ceil_mode`); here the pooled side
is rounded up too where the input size is known.
"""

from keras_archs.checks import check_choice, check_rate
from keras_archs.layers.conv import conv_bn_act
from keras_archs.layers.heads import conv_classifier_head
from keras_archs.layers.padding import max_pool
from keras_archs.layers.squeezenet import fire_module
from keras_archs.models.base import ApplicationArguments, build_model
from keras_archs.registry import InputSpec, Paper, PretrainedWeights, Reference, TorchReference, register_model

__all__ = ["SqueezeNet"]

PAPER = Paper(
    title="SqueezeNet: AlexNet-level accuracy with 50x fewer parameters and <0.5MB model size",
    authors="F. N. Iandola, S. Han, M. W. Moskewicz, K. Ashraf, W. J. Dally, K. Keutzer",
    year=2016,
    arxiv="1602.07360",
)
# The stem (stride 2) and three 3x3/2 poolings leave a 1x1 map at 32-35 pixels.
INPUT_SPEC = InputSpec(default_size=224, min_size=32)

# (squeeze, expand 1x1, expand 3x3) of fire2..fire9, Table 1.
FIRES = (
    (16, 64, 64), (16, 64, 64), (32, 128, 128), (32, 128, 128),
    (48, 192, 192), (48, 192, 192), (64, 256, 256), (64, 256, 256),
)
# (stem filters, stem kernel, fire modules after which to pool): v1.0 is Table 1;
# v1.1 moves the poolings earlier.
VERSIONS = {
    "1_0": (96, 7, (4, 8)),
    "1_1": (64, 3, (3, 5)),
}


def _squeezenet(arguments, *, version, dropout_rate):
    check_choice(version, tuple(VERSIONS), "version")
    check_rate(dropout_rate, "dropout_rate")
    stem_filters, stem_kernel, pool_after = VERSIONS[version]

    def features(x):
        x = conv_bn_act(x, stem_filters, stem_kernel, strides=2, padding="valid", norm=False, name="conv1",
                        conv_suffix="")
        x = max_pool(x, 3, 2, ceil_mode=True, name="pool1")
        for index, filters in enumerate(FIRES, start=2):
            x = fire_module(x, *filters, name=f"fire{index}")
            if index in pool_after:
                x = max_pool(x, 3, 2, ceil_mode=True, name=f"pool{index}")
        return x

    def head(x, *, classes, classifier_activation):
        # conv10 of Table 1 has a ReLU before the pooling (the Caffe model's relu_conv10).
        return conv_classifier_head(
            x, classes=classes, classifier_activation=classifier_activation, dropout_rate=dropout_rate,
            class_activation="relu", class_conv_name="conv10",
        )

    registry_name = f"squeezenet{version}"
    return build_model(
        features=features, head=head, input_spec=INPUT_SPEC, arguments=arguments, default_name=registry_name,
        registry_name=registry_name,
    )


@register_model(
    "squeezenet1_0",
    family="squeezenet",
    paper=PAPER,
    input_spec=INPUT_SPEC,
    reference=Reference(params=1_248_424, source="TV squeezenet1_0", gmacs=0.819, gmacs_source="TV squeezenet1_0",
                        top1=58.092, top1_source="TV squeezenet1_0"),
    preprocessing="torch",
    torch_reference=TorchReference(library="torchvision", constructor="squeezenet1_0", mapping="squeezenet"),
    # torchvision.models.get_weight("SqueezeNet1_0_Weights.IMAGENET1K_V1"): url and acc@1.
    weights=(PretrainedWeights.from_torchvision(
        "SqueezeNet1_0_Weights.IMAGENET1K_V1", "https://download.pytorch.org/models/squeezenet1_0-b66bff10.pth", 58.092,
    ),),
    # Iandola 2016 leaves its training settings to the Caffe solver files it released.
    preset="modern",
)
@register_model(
    "squeezenet1_1",
    family="squeezenet",
    paper=PAPER,
    input_spec=INPUT_SPEC,
    reference=Reference(params=1_235_496, source="TV squeezenet1_1", gmacs=0.349, gmacs_source="TV squeezenet1_1",
                        top1=58.178, top1_source="TV squeezenet1_1"),
    preprocessing="torch",
    torch_reference=TorchReference(library="torchvision", constructor="squeezenet1_1", mapping="squeezenet"),
    # torchvision.models.get_weight("SqueezeNet1_1_Weights.IMAGENET1K_V1"): url and acc@1.
    weights=(PretrainedWeights.from_torchvision(
        "SqueezeNet1_1_Weights.IMAGENET1K_V1", "https://download.pytorch.org/models/squeezenet1_1-b8a52dc0.pth", 58.178,
    ),),
    preset="modern",
    defaults={"version": "1_1"},
)
def SqueezeNet(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
    classes=1000, classifier_activation="softmax", name=None, version="1_0", dropout_rate=0.5,
):
    """SqueezeNet v1.0 (Iandola et al. 2016, Table 1) or v1.1.

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name: as in `keras.applications` (see
            `keras_archs.models.base.build_model`).
        version: "1_0" (the paper) or "1_1".
        dropout_rate: dropout before the class convolution (0.5 after fire9, §3.3).

    Returns:
        A `keras.Model`.
    """
    return _squeezenet(ApplicationArguments.of(locals()), version=version, dropout_rate=dropout_rate)
