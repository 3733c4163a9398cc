"""NASNet-A (Zoph et al. 2018) and AmoebaNet-A (Real et al. 2019): searched cells as data.

- "Learning Transferable Architectures for Scalable Image Recognition", Zoph, Vasudevan,
  Shlens and Le, CVPR 2018, arXiv 1707.07012: normal and reduction cells found by
  reinforcement learning (Fig. 4), stacked N times per stage with F filters
  (`NASNet-A (N @ 24F)` in the paper's notation). `nasnet_mobile` (4 @ 1056) and
  `nasnet_large` (6 @ 4032) are twins of keras.applications NASNetMobile/NASNetLarge;
  `timm_nasnet_large` is timm's `nasnetalarge` (the TF-slim model, ported by Cadene),
  which differs from keras.applications' in how its stride-2 max pools pad.
- "Regularized Evolution for Image Classifier Architecture Search", Real, Aggarwal,
  Huang and Le, AAAI 2019, arXiv 1802.01548: the same search space searched by aging
  evolution; AmoebaNet-A's cells (Fig. 4) go through the same builder, only the
  `Genotype` differs.

The cells are built by `keras_archs.layers.nas` from a `Genotype`: for every node its two
(operation, input) pairs. `NASNet(genotype=..., num_cells=..., filters=...)` builds any
other genotype in the same macro-architecture.
"""

import functools

import keras

from keras_archs.checks import check_bool, check_choice, check_positive_int
from keras_archs.layers.naming import LayerNames
from keras_archs.layers.nas import (
    AUTO, CellGenotype, Genotype, Node, check_is_genotype, genotype_from_json, nas_features,
)
from keras_archs.models.base import ApplicationArguments, build_model
from keras_archs.registry import (
    KERAS_WEIGHTS_URL, TF_MODELS_LICENSE, InputSpec, Paper,
    PretrainedWeights, Reference, TorchReference, register_model,
)

__all__ = ["AmoebaNet", "NASNet", "NASNetLarge"]

PAPER_NASNET = Paper(
    title="Learning Transferable Architectures for Scalable Image Recognition",
    authors="B. Zoph, V. Vasudevan, J. Shlens, Q. V. Le",
    year=2018,
    arxiv="1707.07012",
    venue="CVPR 2018",
)
PAPER_AMOEBANET = Paper(
    title="Regularized Evolution for Image Classifier Architecture Search",
    authors="E. Real, A. Aggarwal, Y. Huang, Q. V. Le",
    year=2019,
    arxiv="1802.01548",
    venue="AAAI 2019",
)
# Stem stride 2 and four reduction cells: a 32-pixel input ends at 1x1.
INPUT_SPEC_MOBILE = InputSpec(default_size=224, min_size=32)
INPUT_SPEC_LARGE = InputSpec(default_size=331, min_size=32)

# NASNet-A, Zoph 2018 Fig. 4, as keras.applications builds it. The labels reproduce the
# layer names of keras.applications' reduction cell (and so its weight files).
NASNET_A = Genotype(
    normal=CellGenotype(
        nodes=(
            Node(("sep_conv_5x5", 1), ("sep_conv_3x3", 0)),
            Node(("sep_conv_5x5", 0), ("sep_conv_3x3", 0)),
            Node(("avg_pool_3x3", 1), ("identity", 0)),
            Node(("avg_pool_3x3", 0), ("avg_pool_3x3", 0)),
            Node(("sep_conv_3x3", 1), ("identity", 1)),
        ),
        concat=(0, 2, 3, 4, 5, 6),
    ),
    reduction=CellGenotype(
        nodes=(
            Node(("sep_conv_5x5", 1), ("sep_conv_7x7", 0)),
            Node(("max_pool_3x3", 1), ("sep_conv_7x7", 0)),
            Node(("avg_pool_3x3", 1), ("sep_conv_5x5", 0), add_label="reduction_add3"),
            Node(("identity", 3), ("avg_pool_3x3", 2), right_label="reduction_left4", add_label=AUTO),
            Node(("sep_conv_3x3", 2), ("max_pool_3x3", 1), left_label="reduction_left4",
                 right_label="reduction_right5", add_label="reduction_add4"),
        ),
        concat=(3, 4, 5, 6),
    ),
)

# AmoebaNet-A, Real 2019 Fig. 4, transcribed from tensorflow/tpu
# models/official/amoeba_net/model_specs.py ("amoeba_net_a": operations, hidden-state
# indices, and the unused states that the cell concatenates). There "none" is identity,
# "separable_KxK_2" two ReLU-separable-BN layers and "1x7_7x1" a 1x7 then a 7x1 convolution.
AMOEBANET_A = Genotype(
    normal=CellGenotype(
        nodes=(
            Node(("avg_pool_3x3", 0), ("max_pool_3x3", 0)),
            Node(("sep_conv_3x3", 1), ("identity", 1)),
            Node(("identity", 0), ("avg_pool_3x3", 1)),
            Node(("sep_conv_3x3", 0), ("sep_conv_5x5", 2)),
            Node(("avg_pool_3x3", 5), ("sep_conv_3x3", 0)),
        ),
        concat=(1, 3, 4, 6),
    ),
    reduction=CellGenotype(
        nodes=(
            Node(("sep_conv_3x3", 1), ("avg_pool_3x3", 0)),
            Node(("max_pool_3x3", 0), ("sep_conv_7x7", 2)),
            Node(("max_pool_3x3", 1), ("max_pool_3x3", 0)),
            Node(("sep_conv_3x3", 4), ("conv_1x7_7x1", 0)),
            Node(("avg_pool_3x3", 1), ("sep_conv_7x7", 0)),
        ),
        concat=(2, 3, 4, 5, 6),
    ),
)


# The stride-2 max pools of each implementation (see `keras_archs.layers.nas.MAX_POOL_PADDINGS`).
IMPLEMENTATIONS = {"keras": "zeros", "timm": "same"}


def _head(x, *, names, classes, classifier_activation):
    """keras.applications' NASNet head; its pooling continues the features' automatic names."""
    x = keras.layers.GlobalAveragePooling2D(name=names("global_average_pooling2d"))(x)
    return keras.layers.Dense(classes, activation=classifier_activation, name="predictions")(x)


def _nasnet(arguments, *, genotype, num_cells, filters, stem_filters, skip_reduction, input_spec, default_name,
            max_pool_padding="zeros", form=None):
    check_is_genotype(genotype)
    genotype.validate()
    check_positive_int(num_cells, "num_cells")
    check_positive_int(filters, "filters")
    check_positive_int(stem_filters, "stem_filters")
    if filters < 4:
        raise ValueError(f"filters must be at least 4 (the first stem cell uses F // 4). Received: filters={filters!r}")
    check_bool(skip_reduction, "skip_reduction")
    # One naming policy for the whole model: keras numbers the head's unnamed pooling after the cells' layers.
    names = LayerNames(keras_auto=True)

    def features(x):
        return nas_features(
            x, genotype, num_cells=num_cells, filters=filters, stem_filters=stem_filters,
            skip_reduction=skip_reduction, max_pool_padding=max_pool_padding, names=names,
        )

    return build_model(
        features=features, head=functools.partial(_head, names=names), input_spec=input_spec, arguments=arguments,
        default_name=default_name, form=form,
    )


_KERAS_WEIGHTS = f"{KERAS_WEIGHTS_URL}/nasnet"
# keras.applications' files, cached under other names than the URLs' (tests/test_weights.py
# compares them with what keras.applications downloads), with keras.io's top-1.
KERAS_NASNET_MOBILE = PretrainedWeights.from_keras(
    "NASNetMobile", f"{_KERAS_WEIGHTS}/NASNet-mobile.h5", "020fb642bf7360b370c678b08e0adf61",
    f"{_KERAS_WEIGHTS}/NASNet-mobile-no-top.h5", "1ed92395b5b598bdda52abe5c0dbfd63", 74.4, TF_MODELS_LICENSE, "tf",
    filename="nasnet_mobile.h5", filename_no_top="nasnet_mobile_no_top.h5",
)
KERAS_NASNET_LARGE = PretrainedWeights.from_keras(
    "NASNetLarge", f"{_KERAS_WEIGHTS}/NASNet-large.h5", "11577c9a518f0070763c2b964a382f17",
    f"{_KERAS_WEIGHTS}/NASNet-large-no-top.h5", "d81d89dc07e6e56530c4e77faddd61b5", 82.5, TF_MODELS_LICENSE, "tf",
    filename="nasnet_large.h5", filename_no_top="nasnet_large_no_top.h5", crop_size=331,
)
# timm's port of the TF-slim checkpoint (timm.models.get_pretrained_cfg; top-1 from timm's
# results-imagenet.csv at 331).
TIMM_NASNET_LARGE = PretrainedWeights.from_timm(
    "nasnetalarge.tf_in1k", 82.626, crop_size=331, crop_pct=0.911, interpolation="bicubic", mean=(0.5,) * 3,
    std=(0.5,) * 3,
)


@register_model(
    "nasnet_mobile",
    family="nasnet",
    paper=PAPER_NASNET,
    input_spec=INPUT_SPEC_MOBILE,
    reference=Reference(
        params=5_289_978, source="KA NASNetMobile", gmacs=0.564, gmacs_source="Zoph 2018, Table 2 (564M mult-adds)",
        top1=74.0, top1_source="TF NASNet README",
    ),
    preprocessing="tf",
    # Zoph 2018 trains with ScheduledDropPath, which no preset reproduces.
    preset="modern",
    twin="NASNetMobile",
    weights=(KERAS_NASNET_MOBILE,),
)
def NASNet(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
    classes=1000, classifier_activation="softmax", name=None, genotype=NASNET_A, num_cells=4, filters=44,
    stem_filters=32, skip_reduction=False,
):
    """A NASNet-style network from any genotype; by default NASNet-A Mobile (4 @ 1056).

    The defaults build the twin of `keras.applications.NASNetMobile`. Default input 224.

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name: as in `keras.applications` (see
            `keras_archs.models.base.build_model`).
        genotype: a `keras_archs.layers.nas.Genotype` (normal and reduction cells), or
            its canonical JSON text (`keras_archs.layers.nas.genotype_to_json`), as a
            search writes it and `--model-options` passes it.
        num_cells: N, normal cells per stack (three stacks).
        filters: F, filters of the first stack (the paper's penultimate width is 24F
            for NASNet-A); the stem cells use F // 4 and F // 2.
        stem_filters: filters of the 3x3/2 stem convolution.
        skip_reduction: whether the cell after a reduction reads the cell before it.

    Returns:
        A `keras.Model`.
    """
    if isinstance(genotype, str):
        genotype = genotype_from_json(genotype)
    return _nasnet(
        ApplicationArguments.of(locals()), genotype=genotype, num_cells=num_cells, filters=filters,
        stem_filters=stem_filters, skip_reduction=skip_reduction, input_spec=INPUT_SPEC_MOBILE,
        default_name="nasnet_mobile",
        form=(NASNet, {"genotype": genotype, "num_cells": num_cells, "filters": filters,
                       "stem_filters": stem_filters, "skip_reduction": skip_reduction}),
    )


@register_model(
    "nasnet_large",
    family="nasnet",
    paper=PAPER_NASNET,
    input_spec=INPUT_SPEC_LARGE,
    reference=Reference(
        params=88_753_150, source="KA NASNetLarge", gmacs=23.8, gmacs_source="Zoph 2018, Table 2 (23.8B mult-adds)",
        top1=82.7, top1_source="TF NASNet README",
    ),
    preprocessing="tf",
    preset="modern",
    twin="NASNetLarge",
    weights=(KERAS_NASNET_LARGE,),
)
@register_model(
    "timm_nasnet_large",
    family="nasnet",
    paper=PAPER_NASNET,
    input_spec=INPUT_SPEC_LARGE,
    reference=Reference(
        params=88_753_150, source="timm nasnetalarge num_params (timm 1.0.31)", gmacs=23.8,
        gmacs_source="Zoph 2018, Table 2 (23.8B mult-adds)",
    ),
    # timm's checkpoint (TF-slim's) normalizes with mean = std = 0.5: inputs in [-1, 1].
    preprocessing="tf",
    preset="modern",
    defaults={"implementation": "timm"},
    torch_reference=TorchReference(library="timm", constructor="nasnetalarge", mapping="nasnet", bn_epsilon=1e-3),
    weights=(TIMM_NASNET_LARGE,),
)
def NASNetLarge(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
    classes=1000, classifier_activation="softmax", name=None, implementation="keras",
):
    """NASNet-A Large (6 @ 4032; Zoph 2018, Table 2), twin of `keras.applications.NASNetLarge`.

    N=6, F=168, a 96-filter stem, default input 331; the cell after a reduction reads
    the cell before the reduction, as keras.applications builds it.

    The default (`implementation="keras"`) is the twin: a reduction cell zero-pads its
    input once for its stride-2 average and max pools, so that a zero can win the max of
    an all-negative border window. `implementation="timm"` (registered as
    `timm_nasnet_large`) computes timm's `nasnetalarge`, the TF-slim model (proven by the
    parity test in tests_convert): its max pools are TensorFlow's "same" pools, whose
    padding never wins the max; the layers and weights are the same.

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name: as in `keras.applications`.
        implementation: "keras" (default, the twin) or "timm".

    Returns:
        A `keras.Model`.
    """
    arguments = ApplicationArguments.of(locals())
    check_choice(implementation, tuple(IMPLEMENTATIONS), "implementation")
    return _nasnet(
        arguments, genotype=NASNET_A, num_cells=6, filters=168, stem_filters=96, skip_reduction=True,
        input_spec=INPUT_SPEC_LARGE, default_name="nasnet_large", max_pool_padding=IMPLEMENTATIONS[implementation],
        form=(NASNetLarge, {"implementation": implementation}),
    )


@register_model(
    "amoebanet_a",
    family="nasnet",
    paper=PAPER_AMOEBANET,
    input_spec=INPUT_SPEC_MOBILE,
    reference=Reference(
        gmacs=0.555, gmacs_source="Real 2019, Table 2: AmoebaNet-A (N=4, F=50), 5.1M parameters, 555M mult-adds",
        top1=74.5, top1_source="Real 2019, Table 2",
    ),
    preprocessing="tf",
    # AmoebaNet-A shares NASNet's search space and macro-architecture: like NASNet, modern.
    preset="modern",
)
def AmoebaNet(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
    classes=1000, classifier_activation="softmax", name=None, num_cells=4, filters=50,
):
    """AmoebaNet-A (Real et al. 2019) in the NASNet macro-architecture.

    The default is the paper's mobile-size AmoebaNet-A (N=4, F=50; Table 2: 5.1M
    parameters, 555M multiply-adds, 74.5% top-1); the large one is N=6, F=190
    (86.7M parameters). Stem as NASNet-A Mobile (32 filters); the cell after a
    reduction reads the reduction's input, as in tensorflow/tpu's AmoebaNet.

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name: as in `keras.applications`.
        num_cells: N, normal cells per stack.
        filters: F, filters of the first stack; the stem cells use F // 4 and F // 2.

    Returns:
        A `keras.Model`.
    """
    return _nasnet(
        ApplicationArguments.of(locals()), genotype=AMOEBANET_A, num_cells=num_cells, filters=filters,
        stem_filters=32, skip_reduction=False, input_spec=INPUT_SPEC_MOBILE, default_name="amoebanet_a",
    )
