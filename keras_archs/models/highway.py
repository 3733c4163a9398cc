"""Convolutional highway networks for CIFAR (Srivastava, Greff and Schmidhuber 2015).

"Training Very Deep Networks", NeurIPS 2015, arXiv 1507.06228. Each highway layer
gates between a 3x3 convolution H and its own input with a learned transform gate T
and carry gate C = 1 - T (`keras_archs.layers.highway.highway_layer`); the gate biases
start negative so that a deep network initially carries its input through. Highway
networks are the gated predecessor of the residual connection (He et al. 2015 compare
against them in Table 6).

The paper's CIFAR-10 networks (thin and deep, after FitNets) are not specified layer by
layer; these configurations follow the same plan with plain Keras layers: a 3x3 stem
convolution, three stages of 3x3 highway layers at 32, 16 and 8 pixels (2x2 max pooling
and a plain 3x3 convolution widen the maps between stages), global average pooling and
the classifier. Depth counts the convolutions (H with its gate counted once) and the
classifier, as the paper does:

- `highway19`: widths 40-80-128, 5+5+5 highway layers: 2,320,618 trainable parameters
  for 10 classes, against He 2015 Table 6's approximate "2.3M".
- `highway32`: widths 32-48-64, 10+9+9 highway layers: 1,266,906, against "1.25M".

These are approximate references (the paper gives rounded counts only); the registry
carries no exact count for them. Stage outputs: `conv{stage}_block{n}_out` of each
stage's last highway layer (stages 2-4, strides 1, 2, 4).
"""

import dataclasses
import math
import numbers

import keras

from keras_archs.checks import check_choice
from keras_archs.layers.conv import conv_bn_act
from keras_archs.layers.heads import classifier_head
from keras_archs.layers.highway import highway_layer
from keras_archs.models.base import ApplicationArguments, build_model
from keras_archs.registry import InputSpec, Paper, Reference, register_model

__all__ = ["HighwayCIFAR"]

PAPER = Paper(
    title="Training Very Deep Networks",
    authors="R. K. Srivastava, K. Greff, J. Schmidhuber",
    year=2015,
    arxiv="1507.06228",
    venue="NeurIPS 2015",
)
# Two 2x2/2 max poolings.
INPUT_SPEC = InputSpec(default_size=32, min_size=4)


@dataclasses.dataclass(frozen=True)
class _Config:
    widths: tuple
    highway_layers: tuple


CONFIGS = {
    19: _Config(widths=(40, 80, 128), highway_layers=(5, 5, 5)),
    32: _Config(widths=(32, 48, 64), highway_layers=(10, 9, 9)),
}


def _features(x, config, gate_bias):
    plain = {"norm": False, "use_bias": True, "conv_suffix": "_conv"}
    for index, (width, layers) in enumerate(zip(config.widths, config.highway_layers)):
        stage = index + 2
        if index == 0:
            x = conv_bn_act(x, width, 3, name="conv1", **plain)
        else:
            x = keras.layers.MaxPooling2D(2, strides=2, name=f"pool{stage}")(x)
            # Highway layers keep their width; a plain convolution changes it.
            x = conv_bn_act(x, width, 3, name=f"conv{stage}_0", **plain)
        for block in range(1, layers + 1):
            x = highway_layer(x, 3, gate_bias=gate_bias, name=f"conv{stage}_block{block}")
    return x


def _register(depth, approximate_params, top1):
    return register_model(
        f"highway{depth}",
        family="highway",
        paper=PAPER,
        input_spec=INPUT_SPEC,
        reference=Reference(
            params=None,
            source=f"approximate only: He 2015 Table 6 / Srivastava 2015 Table 3 give ~{approximate_params} "
            "(CIFAR-10); layer-by-layer configuration not published",
            classes=10,
            top1=top1,
            top1_source="He 2015 Table 6 (CIFAR-10 error 7.54 / 8.80%)",
        ),
        preprocessing="unit",
        # Srivastava 2015 tunes its CIFAR hyperparameters per network and publishes no single recipe;
        # He 2015 §4.2 compares with Highway networks (Table 6) under resnet_cifar.
        preset="resnet_cifar",
        cifar_preset="resnet_cifar",
        defaults={"depth": depth},
    )


@_register(19, "2.3M", 92.46)
@_register(32, "1.25M", 91.20)
def HighwayCIFAR(
    include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
    classes=10, classifier_activation="softmax", name=None, depth=19, gate_bias=-2.0,
):
    """A convolutional highway network for CIFAR, Srivastava et al. (2015).

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name: as in `keras.applications` (see
            `keras_archs.models.base.build_model`).
        depth: 19 or 32 (the two networks of He 2015, Table 6).
        gate_bias: initial bias of every transform gate; negative (the paper's -1 to
            -3) so that the untrained network carries its input.

    Returns:
        A `keras.Model`.
    """
    arguments = ApplicationArguments.of(locals())
    check_choice(depth, tuple(CONFIGS), "depth")
    if isinstance(gate_bias, bool) or not isinstance(gate_bias, numbers.Real) or not math.isfinite(gate_bias):
        raise ValueError(f"gate_bias must be a finite number. Received: gate_bias={gate_bias!r}")

    def features(x):
        return _features(x, CONFIGS[depth], float(gate_bias))

    return build_model(
        features=features, head=classifier_head, input_spec=INPUT_SPEC, arguments=arguments,
        default_name=f"highway{depth}",
    )
