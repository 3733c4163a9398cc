"""Mobile readiness: each mobile/NAS model converts to builtin-op TFLite and runs in LiteRT."""

import keras
import numpy as np
import pytest

import keras_archs
from keras_archs.export import LiteRTRunner, to_tflite

MOBILE_FAMILIES = ("mobilenet", "shufflenet", "squeezenet", "nasnet")
NAMES = [name for name in keras_archs.list_models() if keras_archs.model_info(name).family in MOBILE_FAMILIES]

# One model per block configuration: the other registered names are the same layers at
# other widths, depths or group counts, so they convert to the same ops, and converting
# all of them (NASNet-A Large alone takes minutes) would not fit the test budget.
# MobileNetV3 covers MobileNetV2's inverted residuals; AmoebaNet-A's cells use every
# NASNet-A operation (separable 3x3/5x5/7x7, both poolings, identity, the factorized
# reduction) plus the 1x7-7x1 convolution, built with one cell per stack to convert in
# seconds instead of minutes.
CONVERTED = {
    "mobilenet": {},
    "mobilenet_v3_small": {},
    "squeezenet1_0": {},
    "shufflenet_g3_w1": {},
    "shufflenet_v2_x0_5": {},
    "amoebanet_a": {"num_cells": 1, "filters": 8},
}


def _batch_one_model(name, side, **options):
    inputs = keras.Input(shape=(side, side, 3), batch_size=1)
    return keras_archs.get_model(name, input_tensor=inputs, classes=5, classifier_activation=None, **options)


@pytest.mark.parametrize("name", CONVERTED)
def test_converts_to_builtin_ops_and_matches_keras_in_litert(name, tmp_path):
    # The smallest supported input keeps the conversion fast; the ops are the same at 224.
    side = keras_archs.model_info(name).input_spec.min_size
    model = _batch_one_model(name, side, **CONVERTED[name])
    # to_tflite converts with the TFLITE_BUILTINS op set only and fails naming any other op.
    path = to_tflite(model, tmp_path / f"{name}.tflite")
    image = np.random.default_rng(3).uniform(-1, 1, size=(side, side, 3)).astype("float32")
    if name.startswith("mobilenet_v3"):
        image = (image + 1.0) * 127.5  # MobileNetV3 rescales [0, 255] itself
    expected = model.predict(image[None], verbose=0)[0]
    actual = LiteRTRunner(path).invoke(image)
    scale = np.abs(expected).max()
    assert scale > 0
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-4 * scale)


@pytest.mark.parametrize("name", NAMES)
def test_builds_with_a_fixed_batch_of_one_at_224_with_the_reference_multiply_adds(name):
    info = keras_archs.model_info(name)
    inputs = keras.Input(shape=(224, 224, 3), batch_size=1)
    model = keras_archs.get_model(name, input_tensor=inputs, classes=info.reference.classes)
    assert tuple(model.outputs[0].shape) == (1, info.reference.classes)
    if info.reference.gmacs is not None and info.input_spec.default_size == 224:
        gmacs = keras_archs.profile(model).gmacs
        assert gmacs == pytest.approx(info.reference.gmacs, rel=0.03), info.reference.gmacs_source
