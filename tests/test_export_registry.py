"""SavedModel export for every family: reloaded outputs equal the Keras model's.

A SavedModel export traces the whole graph (seconds to minutes per model on 2 cores), so
the default run exports the representatives of every family (tests/conftest.py), chosen
to cover each family's custom layers and blocks; `test_export_sweep.py` (marked `sweep`)
exports the other registered configurations with the same check.
"""

import numpy as np
import pytest
import tensorflow as tf

import keras_archs
from keras_archs import export

from conftest import REPRESENTATIVES, infer, random_images, small_side

REPRESENTATIVE_NAMES = sorted(name for names in REPRESENTATIVES.values() for name in names)
SAVED_MODEL_TOLERANCE = 1e-5


def assert_saved_model_reloads_with_identical_outputs(name, directory):
    side = small_side(name)
    channels = keras_archs.model_info(name).input_spec.channels
    model = keras_archs.get_model(name, input_shape=(side, side, channels), classes=6)
    saved = export.to_saved_model(model, directory / "saved_model")
    images = random_images(side, channels=channels, seed=3)
    served = tf.saved_model.load(saved).signatures["serving_default"](tf.constant(images))
    actual = next(iter(served.values())).numpy()
    np.testing.assert_allclose(
        actual, infer(model, images), atol=SAVED_MODEL_TOLERANCE
    )


@pytest.mark.parametrize("name", REPRESENTATIVE_NAMES)
def test_saved_model_reloads_with_identical_outputs(name, tmp_path):
    assert_saved_model_reloads_with_identical_outputs(name, tmp_path)
