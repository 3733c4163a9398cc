"""Every model with a PyTorch reference computes the reference's function.

For each entry of `keras_archs.convert.REFERENCES`: the reference with random weights and
random BatchNorm statistics, converted by `from_state_dict`, gives the same logits as the
reference (relative difference <= 1e-4, float64 on both sides) with the same top-1 class,
at the default input and at a non-square input of other parity, where the difference is
also below 1e-4 of the difference between two images' logits. Models whose head flattens
a fixed grid (AlexNet, VGG) compare the feature maps at the non-square input.
"""

import keras
import numpy as np
import pytest

from keras_archs import model_info
from keras_archs.convert import REFERENCES

import parity

TOLERANCE = 1e-4


@pytest.fixture(autouse=True)
def _fresh_session():
    yield
    keras.backend.clear_session()


def _assert_same_function(mine, theirs, classes=True):
    assert mine.shape == theirs.shape
    assert parity.relative_difference(mine, theirs) <= TOLERANCE
    assert parity.spread_difference(mine, theirs) <= TOLERANCE
    if classes:
        np.testing.assert_array_equal(mine.argmax(-1), theirs.argmax(-1))


@pytest.mark.parametrize("name", list(REFERENCES))
def test_converted_logits_equal_reference(name):
    info = model_info(name)
    size = info.input_spec.default_size
    torch_model = parity.build_reference(REFERENCES[name], parity.images(size, size, batch=4, seed=parity.SEED - 1))
    state_dict = parity.state_dict_arrays(torch_model)

    ours = parity.converted(name, state_dict)
    trainable = sum(int(np.prod(weight.shape)) for weight in ours.trainable_weights)
    assert trainable == parity.reference_parameter_count(torch_model)
    batch = parity.images(size, size, batch=2)
    _assert_same_function(keras.ops.convert_to_numpy(ours(batch, training=False)),
                          parity.reference_outputs(torch_model, batch))
    del ours
    keras.backend.clear_session()

    height = size - 31
    features = info.input_spec.fixed_size_top
    ours = parity.converted(name, state_dict, input_shape=(height, size, 3), include_top=not features)
    batch = parity.images(height, size, batch=2, seed=parity.SEED + 1)
    _assert_same_function(keras.ops.convert_to_numpy(ours(batch, training=False)),
                          parity.reference_outputs(torch_model, batch, features=features), classes=not features)
