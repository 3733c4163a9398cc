"""TF Model Garden's ResNet-50, the benchmark peer, against ours."""

import collections

import numpy as np
import tf_keras
from official.vision.modeling import classification_model
from official.vision.modeling.backbones import resnet

import keras_archs

# torchvision resnet50 (v1.5, no conv biases), from REFERENCES.md.
RESNET50_V1_5_PARAMS = 25_557_032
# keras.applications.ResNet50 (v1, conv biases), trainable, from REFERENCES.md.
RESNET50_V1_KERAS_TRAINABLE = 25_583_592


def _garden_resnet50(side):
    input_specs = tf_keras.layers.InputSpec(shape=[None, side, side, 3])
    backbone = resnet.ResNet(model_id=50, input_specs=input_specs)
    return classification_model.ClassificationModel(backbone=backbone, num_classes=1000, input_specs=input_specs)


def _trainable(model):
    return sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)


def _shape_counts(model):
    return collections.Counter(tuple(weight.shape) for weight in model.trainable_weights)


def test_model_garden_resnet50_is_our_v1_5_variant():
    # Parameter counts do not depend on the input side: a small one keeps the build fast.
    garden = _garden_resnet50(64)
    ours = keras_archs.ResNet50(variant="v1.5", input_shape=(64, 64, 3))
    assert _trainable(garden) == _trainable(ours) == RESNET50_V1_5_PARAMS
    # Same convolutions, batch norms and classifier, weight by weight (no conv biases).
    assert _shape_counts(garden) == _shape_counts(ours)
    # Both reduce the input 32 times by the last stage.
    assert tuple(garden.backbone.output_specs["5"][1:3]) == tuple(ours.get_layer("conv5_block3_out").output.shape[1:3]) == (2, 2)
    # The default (keras.applications twin, v1) carries conv biases: not Model Garden's.
    assert _trainable(keras_archs.ResNet50(input_shape=(64, 64, 3))) == RESNET50_V1_KERAS_TRAINABLE
