"""LeNet-5 (LeCun, Bottou, Bengio and Haffner 1998).

"Gradient-Based Learning Applied to Document Recognition", Proc. IEEE 86(11), §II.B.
Two forms share one builder:

- `variant="paper"`: the network exactly as §II.B describes it: the scaled tanh
  squashing function after every weighted sum, trainable subsampling (S2, S4), the
  sparse S2->C3 connection table (Table I), and the Euclidean RBF output layer with fixed
  parameter vectors. Trainable parameters: C1 156, S2 12, C3 1,516, S4 32, C5 48,120,
  F6 10,164; 60,000 in all.
- `variant="modern"` (the default, registered as `lenet5`): what courses and frameworks
  call LeNet-5 today: full C3, pooling, and a dense softmax output; 61,706 parameters.
"""

import keras

from keras_archs.checks import check_activation, check_choice
from keras_archs.layers import classic
from keras_archs.models.base import ApplicationArguments, build_model
from keras_archs.registry import InputSpec, Paper, Reference, register_model

__all__ = ["LeNet5"]

PAPER = Paper(
    title="Gradient-Based Learning Applied to Document Recognition",
    authors="Y. LeCun, L. Bottou, Y. Bengio, P. Haffner",
    year=1998,
    venue="Proceedings of the IEEE 86(11)",
)
# C5's 5x5 convolution needs a 5x5 S4 map, hence the paper's 32x32 input.
INPUT_SPEC = InputSpec(default_size=32, min_size=32, channels=1, fixed_size_top=True)

# LeCun 1998, Table I: the S2 maps each C3 map reads.
C3_CONNECTION_TABLE = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)  # fmt: skip

VARIANTS = ("modern", "paper")
POOLS = {"max": keras.layers.MaxPooling2D, "avg": keras.layers.AveragePooling2D}


def _paper_features(x):
    act = classic.scaled_tanh
    x = keras.layers.Conv2D(6, 5, activation=act, name="c1")(x)
    x = classic.TrainableSubsampling(2, name="s2")(x)
    x = keras.layers.Activation(act, name="s2_act")(x)
    x = classic.ConnectionTableConv2D(C3_CONNECTION_TABLE, 5, activation=act, name="c3")(x)
    x = classic.TrainableSubsampling(2, name="s4")(x)
    x = keras.layers.Activation(act, name="s4_act")(x)
    return keras.layers.Conv2D(120, 5, activation=act, name="c5")(x)


def _paper_head(x, *, classes, classifier_activation):
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(84, activation=classic.scaled_tanh, name="f6")(x)
    x = classic.EuclideanRBF(classes, name="rbf")(x)
    return keras.layers.Activation(classifier_activation, name="predictions")(x)


def _modern_features(x, activation, pool):
    x = keras.layers.Conv2D(6, 5, activation=activation, name="c1")(x)
    x = POOLS[pool](2, name="s2")(x)
    x = keras.layers.Conv2D(16, 5, activation=activation, name="c3")(x)
    x = POOLS[pool](2, name="s4")(x)
    return keras.layers.Conv2D(120, 5, activation=activation, name="c5")(x)


def _modern_head(x, *, classes, classifier_activation, activation):
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(84, activation=activation, name="f6")(x)
    return keras.layers.Dense(classes, activation=classifier_activation, name="predictions")(x)


@register_model(
    "lenet5_paper",
    family="lenet",
    paper=PAPER,
    input_spec=INPUT_SPEC,
    reference=Reference(params=60_000, source="LeCun 1998 §II.B (sum of the per-layer counts)", classes=10),
    preprocessing="lenet",
    preset="lenet",
    defaults={"variant": "paper"},
)
@register_model(
    "lenet5",
    family="lenet",
    paper=PAPER,
    input_spec=INPUT_SPEC,
    reference=Reference(params=61_706, source="arithmetic: full C3, dense softmax output", classes=10),
    preprocessing="lenet",
    preset="lenet",
)
def LeNet5(
    include_top=True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes=10,
    classifier_activation="softmax",
    name=None,
    variant="modern",
    activation="relu",
    pool="max",
):
    """LeNet-5 (LeCun et al. 1998), for 32x32 grayscale digits.

    Layers C1 (6@28x28), S2, C3 (16@10x10), S4, C5 (120@1x1), F6 (84) and the output.
    With `include_top=False` the model ends at C5.

    Args:
        include_top, weights, input_tensor, input_shape, pooling, classes,
        classifier_activation, name: as in `keras.applications` (see
            `keras_archs.models.base.build_model`). `classes` defaults to 10 digits.
        variant: "modern" (full C3, pooling, dense output) or "paper" (scaled tanh,
            trainable subsampling, Table I connections, Euclidean RBF output whose negated
            penalties are the logits).
        activation: hidden activation of the modern form ("relu" or "tanh", ...).
        pool: pooling of the modern form, "max" or "avg".

    Returns:
        A `keras.Model`.
    """
    check_choice(variant, VARIANTS, "variant")
    check_choice(pool, tuple(POOLS), "pool")
    check_activation(activation, "activation")
    if variant == "paper":
        features, head = _paper_features, _paper_head
    else:

        def features(x):
            return _modern_features(x, activation, pool)

        def head(x, *, classes, classifier_activation):
            return _modern_head(x, classes=classes, classifier_activation=classifier_activation, activation=activation)

    return build_model(
        features=features,
        head=head,
        input_spec=INPUT_SPEC,
        arguments=ApplicationArguments.of(locals()),
        default_name="lenet5_paper" if variant == "paper" else "lenet5",
    )
