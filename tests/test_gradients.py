"""One training step reaches every trainable weight: a finite, non-zero gradient for each.

A weight that gets no gradient (None: not on any path to the loss) or an all-zero one
is a wiring bug: a branch built but not used, a head cut off, a layer frozen by mistake.
Two kinds of weight get a zero gradient by construction in a training step, and the
suite asserts that they do rather than leaving them out:

- the bias of a layer whose output feeds only BatchNormalization layers (the
  convolutions of the keras.applications ResNets and of torchvision's VGG-BN): batch
  normalization in training mode subtracts the batch mean, so the loss does not depend
  on that bias; its gradient is zero up to rounding;
- every weight whose paths to the loss all pass through a BatchNormalization with
  gamma 0 (`zero_init_residual=True`, Goyal et al. 2017 §5.1: a residual branch starts
  as the zero function): the gradient is exactly zero at the first step.
"""

import collections

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import random_images

import keras_archs

# Four images, not two: at the smallest inputs the last stages are 1x1, where a batch
# normalization over two values maps both to +-1 whatever the input.
BATCH = 4
CLASSES = 3
# Left out for their cost on two cores (5 s to over a minute each: depth, width, or
# grouped convolutions, which compile an XLA kernel per layer on CPU; the 1,000-layer
# CIFAR nets take minutes), each with the stepped name whose constructor code and blocks
# it shares at another depth, width or cardinality. Every family keeps at least one name.
LEFT_OUT = {
    "resnet110": "resnet56",
    "resnet1202": "resnet56",  # its zero_init_residual: see the last test
    # The CIFAR pre-activation units (bottleneck ones: resnet50_v2).
    "preact_resnet164": "wide_resnet28_10",
    "preact_resnet1001": "wide_resnet28_10",
    "ror3_resnet110": "ror3_wrn58_4",
    "resnext29_8x64d": "resnext50_32x4d",  # the grouped bottleneck unit
    "resnext29_16x64d": "resnext50_32x4d",
    "densenet121": "densenet_bc100_k12",  # the dense block and transition of every DenseNet
    "densenet161": "densenet_bc100_k12",
    "densenet169": "densenet_bc100_k12",
    "densenet201": "densenet_bc100_k12",
    "densenet264": "densenet_bc100_k12",
    "densenet_bc190_k40": "densenet_bc100_k12",
    "dpn92": "dpn68",
    "dpn98": "dpn68",
    "dpn107": "dpn68",
    "dpn131": "dpn68",
    "nasnet_large": "nasnet_mobile",
    "timm_nasnet_large": "nasnet_mobile",
    "amoebanet_a": "nasnet_mobile",  # the same cell builder, another genotype
    "inception_resnet_v2": "inception_resnet_v1",  # the same scaled residual blocks
    "timm_inception_resnet_v2": "inception_resnet_v1",
    "resnet101": "resnet50",
    "resnet152": "resnet50",
    "resnet101_v2": "resnet50_v2",
    "resnet152_v2": "resnet50_v2",
    "tv_resnet101": "resnet50",  # v1.5: the stride on the 3x3, not the 1x1
    "tv_resnet152": "resnet50",
    "resnext101_32x8d": "resnext50_32x4d",
    "resnext101_64x4d": "resnext50_32x4d",
    "seresnext50_32x4d": "seresnet50",  # squeeze-excitation; groups: resnext50_32x4d
    "senet154": "seresnet50",
    "wide_resnet101_2": "resnet50",  # the bottleneck unit at twice the width
    "shufflenet_g8_w1": "shufflenet_g3_w1",
    # The same builder at another width or configuration, or another implementation's
    # padding and BatchNorm settings (torchvision's ResNet v1.5 and Inception-v3): left
    # out to keep this file within its four minutes.
    "wide_resnet50_2": "resnet50",
    "tv_resnet50": "resnet50",
    "tv_inception_v3": "inception_v3",
    "tv_mobilenet_v3_large": "tv_mobilenet_v3_small",
    "shufflenet_v2_x1_0": "shufflenet_v2_x0_5",
    "shufflenet_v2_x1_5": "shufflenet_v2_x0_5",
    "shufflenet_v2_x2_0": "shufflenet_v2_x0_5",
    "vgg13": "vgg11",
    "vgg19": "vgg16",
    "vgg13_bn": "vgg11_bn",
    "vgg16_bn": "vgg11_bn",
    "vgg19_bn": "vgg11_bn",
}
NAMES = [name for name in keras_archs.list_models() if name not in LEFT_OUT]
# Training-mode BN subtracts the batch mean; what is left of a bias before it is rounding.
ROUNDING = 1e-4


def _training_step_gradients(model, images):
    """(weight, gradient) pairs of the summed cross-entropy of every output (auxiliary heads too)."""
    labels = np.arange(len(images)) % CLASSES
    with tf.GradientTape() as tape:
        outputs = model(images, training=True)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        loss = sum(
            keras.ops.mean(keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True))
            for logits in outputs
        )
    return list(zip(model.trainable_weights, tape.gradient(loss, model.trainable_weights)))


def _producers(layer):
    """The layers whose outputs `layer` reads."""
    return [tensor._keras_history.operation for node in layer._inbound_nodes for tensor in node.input_tensors]


def _biases_before_batch_norm(model):
    """{id(bias): its layer} for the layers with a bias whose every consumer is a BatchNormalization."""
    consumers = collections.defaultdict(list)
    for layer in model.layers:
        for producer in _producers(layer):
            consumers[id(producer)].append(layer)
    return {
        id(layer.bias): layer
        for layer in model.layers
        if getattr(layer, "bias", None) is not None
        and consumers[id(layer)]
        and all(isinstance(consumer, keras.layers.BatchNormalization) for consumer in consumers[id(layer)])
    }


def _behind_zero_gamma(model):
    """The layers from which every path to the outputs passes through a zero-gamma BatchNormalization."""
    reached, frontier = set(), [tensor._keras_history.operation for tensor in model.outputs]
    while frontier:
        layer = frontier.pop()
        if id(layer) in reached:
            continue
        reached.add(id(layer))
        gamma = getattr(layer, "gamma", None) if isinstance(layer, keras.layers.BatchNormalization) else None
        if gamma is None or np.any(keras.ops.convert_to_numpy(gamma) != 0):
            frontier.extend(_producers(layer))
    return [layer for layer in model.layers if id(layer) not in reached]


def _assert_every_weight_is_reached(model, images):
    """Asserts the gradients a training step gives; returns the ids of the weights behind a zero gamma."""
    pairs = _training_step_gradients(model, images)
    missing = [weight.path for weight, gradient in pairs if gradient is None]
    assert not missing, f"no gradient: {missing}"
    gradients = {id(weight): keras.ops.convert_to_numpy(gradient) for weight, gradient in pairs}
    not_finite = [weight.path for weight, _ in pairs if not np.all(np.isfinite(gradients[id(weight)]))]
    assert not not_finite, f"non-finite gradient: {not_finite}"

    behind_zero_gamma = {id(weight) for layer in _behind_zero_gamma(model) for weight in layer.trainable_weights}
    biases_before_bn = _biases_before_batch_norm(model)
    zero = []
    for weight, _ in pairs:
        gradient = gradients[id(weight)]
        if id(weight) in behind_zero_gamma:
            assert np.all(gradient == 0), f"{weight.path} is behind a zero-gamma BatchNormalization"
        elif id(weight) in biases_before_bn:
            others = [w for w in biases_before_bn[id(weight)].trainable_weights if w is not weight]
            scale = max(np.abs(gradients[id(other)]).max() for other in others)
            assert np.abs(gradient).max() <= ROUNDING * scale, f"{weight.path} feeds only a BatchNormalization"
        elif not np.any(gradient != 0):
            zero.append(weight.path)
    assert not zero, f"all-zero gradient: {zero}"
    return behind_zero_gamma


def _build(name, side, **kwargs):
    return keras_archs.get_model(
        name, input_shape=(side, side, 3), classes=CLASSES, classifier_activation=None, **kwargs
    )


def test_every_left_out_name_has_a_stepped_stand_in_and_every_family_is_stepped():
    assert set(LEFT_OUT) <= set(keras_archs.list_models())
    assert all(stand_in in NAMES for stand_in in LEFT_OUT.values())
    families = {keras_archs.model_info(name).family for name in keras_archs.list_models()}
    assert {keras_archs.model_info(name).family for name in NAMES} == families


@pytest.mark.parametrize("name", NAMES)
def test_training_step_reaches_every_trainable_weight(name):
    side = keras_archs.model_info(name).input_spec.min_size
    model = _build(name, side)
    behind_zero_gamma = _assert_every_weight_is_reached(model, random_images(side, batch=BATCH))
    assert not behind_zero_gamma  # of the registered names, only resnet1202 starts its branches at zero


# The smallest inputs the auxiliary heads take (tests/test_googlenet.py and
# tests/test_inception.py check that these minimums are exact).
@pytest.mark.parametrize(
    "name, side, options",
    [
        ("googlenet", 63, {}),
        ("googlenet", 79, {"variant": "paper"}),
        ("inception_v3", 299, {}),
    ],
)
def test_training_step_reaches_the_auxiliary_heads(name, side, options):
    """With aux_logits=True and every head in the loss, the auxiliary heads' weights too."""
    model = _build(name, side, aux_logits=True, **options)
    assert len(model.outputs) > 1
    _assert_every_weight_is_reached(model, random_images(side, batch=2))


def test_zero_init_residual_branches_get_exactly_zero_gradient_at_the_first_step():
    """resnet1202's zero_init_residual=True, on resnet20: its branches' weights get exactly zero, the rest not."""
    zero_init = [name for name in keras_archs.list_models() if keras_archs.model_info(name).defaults.get("zero_init_residual")]
    assert zero_init == ["resnet1202"]
    side = keras_archs.model_info("resnet20").input_spec.min_size
    model = _build("resnet20", side, zero_init_residual=True)
    behind_zero_gamma = _assert_every_weight_is_reached(model, random_images(side, batch=BATCH))
    # He 2015 §4.2: 3 stages of 3 units; a unit's branch is conv-BN-ReLU-conv-BN (gamma 0)
    # and the option-A shortcut has no weights. Behind each zero gamma: the first conv and
    # BN and the second conv.
    units = [f"conv{stage}_block{block}" for stage in (2, 3, 4) for block in (1, 2, 3)]
    expected = {f"{unit}_{path}" for unit in units for path in ("1_conv/kernel", "1_bn/gamma", "1_bn/beta", "2_conv/kernel")}
    assert {weight.path for weight in model.trainable_weights if id(weight) in behind_zero_gamma} == expected
