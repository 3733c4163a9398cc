"""SavedModel export for every family: reloaded outputs equal the Keras model's.

A SavedModel export traces the whole graph (seconds to a minute per model on 2 cores), so
this file exports the representatives of every family (tests/conftest.py), chosen to
cover each family's custom layers and blocks.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_archs
from keras_archs import export

from conftest import REPRESENTATIVES, random_images, small_side

@pytest.mark.parametrize("name", sorted(name for names in REPRESENTATIVES.values() for name in names))
def test_saved_model_reloads_with_identical_outputs(name, tmp_path):
    side = small_side(name)
    model = keras_archs.get_model(name, input_shape=(side, side, 3), classes=6)
    directory = export.to_saved_model(model, tmp_path / "saved_model")
    images = random_images(side, seed=3)
    served = tf.saved_model.load(directory).signatures["serving_default"](tf.constant(images))
    actual = next(iter(served.values())).numpy()
    np.testing.assert_allclose(actual, keras.ops.convert_to_numpy(model(images, training=False)), atol=1e-5)
