"""Mobile readiness: each mobile/NAS model converts to builtin-op TFLite and runs in LiteRT.

The default run converts one model per block configuration (float32) and two to
full-integer int8; `test_export_sweep.py` (marked `sweep`) converts the other mobile
models to both. The checks themselves live here, once, for both files.
"""

import keras
import numpy as np
import pytest

import keras_archs
from keras_archs.export import LiteRTRunner, real_images, to_tflite

from conftest import small_side

MOBILE_FAMILIES = ("mobilenet", "shufflenet", "squeezenet", "nasnet")
# NASNet-A Large (Zoph 2018's ImageNet model, 88M parameters at 331 px) is not a mobile
# model: its cells are NASNet-A Mobile's at other widths and counts, so nasnet_mobile's
# files hold every op its files would, and timm's form differs only in its "same" max
# pools, which the other NASNets' files hold.
NOT_MOBILE = ("nasnet_large", "timm_nasnet_large")
NAMES = [
    name for name in keras_archs.list_models()
    if keras_archs.model_info(name).family in MOBILE_FAMILIES and name not in NOT_MOBILE
]
CLASSES = 5
# Real images (scikit-learn's handwritten digits through keras_archs.data): the training
# split calibrates int8, the held-out test split measures parity.
CALIBRATION_IMAGES = 32
PARITY_IMAGES = 16

# float32 TFLite against Keras: max |difference| <= 1e-4 (the bound) and, where the
# outputs are smaller than 1, <= 1e-4 of the largest output: untrained logits range from
# about 1e2 (LeNet-5's RBF distances) down to 1e-6 (ShuffleNet v2), where an absolute 1e-4
# would test nothing.
FLOAT32_TOLERANCE = 1e-4
# Full-integer int8 on untrained weights: top-1 agreement means little (a random network
# may give one class for most digits, and agree with anything that does too), so the
# bounds are on the logits of held-out digits. Centred correlation: both outputs minus
# their mean over the images, i.e. how the logits move from digit to digit, which an int8
# model that lost its input or mis-scaled an activation would not follow. Untrained
# networks amplify quantization noise unevenly (measured 0.78 for ShuffleNet v1 to 0.999
# for LeNet-5), while int8 outputs paired with the wrong images score -0.25 to 0.37: the
# bound sits between, so it catches a broken conversion, not a small accuracy loss (that
# is test_export.py's trained LeNet-5: >= 98% top-1 agreement). The test also checks, per
# model, that the wrongly paired outputs fall below the bound. Relative RMS error (measured
# at most 0.35): the logits' level and scale, which correlation alone does not see.
INT8_MIN_CENTRED_CORRELATION = 0.6
INT8_MAX_RELATIVE_RMS_ERROR = 0.5
# The MobileNets, initialized as keras.applications does (Glorot-uniform kernels, batch
# normalization still the identity), shrink their activations block by block to logits
# of 1e-10 (v3) to 1e-20 (v1) on real digits, and their int8 files then output one
# constant for every digit (measured): no value could be compared. Their kernels are
# redrawn He-normal (fan-in, per channel for depthwise kernels: the variance-preserving
# initialization of ReLU networks, He et al. 2015), which keeps their logits near 1e-2.
REINITIALIZED_FAMILIES = ("mobilenet",)

# One model per block configuration: the other registered names are the same layers at
# other widths, depths or group counts, so they convert to the same ops (the sweep converts
# them all). MobileNetV3 covers MobileNetV2's inverted residuals; AmoebaNet-A's cells use
# every NASNet-A operation (separable 3x3/5x5/7x7, both poolings, identity, the factorized
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
# Full-integer int8 in the default run: hard-swish and squeeze-excitation (MobileNetV3),
# channel split and shuffle (ShuffleNet v2).
QUANTIZED = ("mobilenet_v3_small", "shufflenet_v2_x0_5")


def digits_for(model, split, count):
    """Real digits at the model's input shape, scaled by its registered preprocessing."""
    preprocessing = keras_archs.model_info(model.name).preprocessing
    images, _ = real_images(tuple(model.inputs[0].shape[1:]), preprocessing, split=split, count=count)
    return images


def redraw_kernels_he_normal(model, seed=0):
    """Redraws every convolution and dense kernel from He et al. 2015's normal(0, 2 / fan-in)."""
    rng = np.random.default_rng(seed)
    for layer in model._flatten_layers(include_self=False):
        per_channel = isinstance(layer, keras.layers.DepthwiseConv2D)
        for attribute, depthwise in (("kernel", per_channel), ("depthwise_kernel", True), ("pointwise_kernel", False)):
            kernel = getattr(layer, attribute, None)
            if not isinstance(kernel, keras.Variable):
                continue
            shape = tuple(kernel.shape)
            # Depthwise kernels (h, w, channels, multiplier): each output sees h * w inputs.
            fan_in = int(np.prod(shape[:-2] if depthwise else shape[:-1]))
            kernel.assign(rng.normal(0.0, np.sqrt(2.0 / fan_in), shape).astype("float32"))


def batch_one_model(name, **options):
    """`name` at its smallest tested side, batch 1, CLASSES logits: the phone's shape."""
    info = keras_archs.model_info(name)
    side = small_side(name)
    inputs = keras.Input(shape=(side, side, info.input_spec.channels), batch_size=1)
    model = keras_archs.get_model(name, input_tensor=inputs, classes=CLASSES, classifier_activation=None, **options)
    if info.family in REINITIALIZED_FAMILIES:
        redraw_kernels_he_normal(model)
    return model


def keras_outputs(model, images):
    return model.predict(images, batch_size=1, verbose=0)


def assert_float32_tflite_matches_keras(model, directory):
    # to_tflite converts with the TFLITE_BUILTINS op set only and fails naming any other op.
    path = to_tflite(model, directory / f"{model.name}.tflite")
    images = digits_for(model, "test", PARITY_IMAGES)
    expected = keras_outputs(model, images)
    actual = LiteRTRunner(path).predict(images)
    assert actual.shape == expected.shape == (PARITY_IMAGES, CLASSES)
    difference = np.abs(actual - expected).max()
    print(f"{model.name} float32: max |difference| {difference:.2e}, max |output| {np.abs(expected).max():.2e}")
    assert difference <= FLOAT32_TOLERANCE * min(1.0, np.abs(expected).max()), difference


def float_ops(runner):
    """The ops of a `.tflite` file that compute in float32, beside the (de)quantize boundaries."""
    tensors = {tensor["index"]: tensor for tensor in runner.interpreter.get_tensor_details()}
    found = set()
    # The interpreter's op list (a private accessor, the only one LiteRT has); DELEGATE
    # rows are XNNPACK's fused partitions of ops already listed.
    for op in runner.interpreter._get_ops_details():
        if op["op_name"] in ("QUANTIZE", "DEQUANTIZE", "DELEGATE"):
            continue
        indices = [index for index in (*op["inputs"], *op["outputs"]) if index >= 0]
        if any(tensors[index]["dtype"] == np.float32 for index in indices):
            found.add(op["op_name"])
    return found


def _centred_correlation(expected, actual):
    expected = expected - expected.mean(axis=0)
    actual = actual - actual.mean(axis=0)
    return float(np.sum(expected * actual) / np.sqrt(np.sum(expected**2) * np.sum(actual**2)))


def int8_parity(expected, actual):
    """(centred correlation, relative RMS error) of int8 outputs against Keras outputs."""
    relative_rms_error = float(np.sqrt(np.mean((actual - expected) ** 2) / np.mean(expected**2)))
    return _centred_correlation(expected, actual), relative_rms_error


def assert_int8_tflite_tracks_keras(model, directory):
    calibration = digits_for(model, "train", CALIBRATION_IMAGES)
    path = to_tflite(model, directory / f"{model.name}_int8.tflite", quantize="int8", representative_images=calibration)
    runner = LiteRTRunner(path)
    assert not float_ops(runner), "a full-integer file computes nothing in float32 between its (de)quantize ops"

    images = digits_for(model, "test", PARITY_IMAGES)
    expected = keras_outputs(model, images)
    actual = runner.predict(images)
    assert actual.shape == (PARITY_IMAGES, CLASSES)
    assert np.all(np.isfinite(actual))
    assert expected.std(axis=0).max() > 0, "the Keras outputs do not depend on the image"
    correlation, relative_rms_error = int8_parity(expected, actual)
    print(f"{model.name} int8: centred correlation {correlation:.3f}, relative RMS error {relative_rms_error:.3f}")
    assert correlation >= INT8_MIN_CENTRED_CORRELATION, correlation
    assert relative_rms_error <= INT8_MAX_RELATIVE_RMS_ERROR, relative_rms_error
    # The bound discriminates: the same outputs paired with the wrong images fail it.
    assert _centred_correlation(expected, np.roll(actual, 1, axis=0)) < INT8_MIN_CENTRED_CORRELATION


def test_real_images_are_digits_shaped_and_scaled_for_the_model():
    train, labels = real_images((40, 40, 3), "tf", split="train", count=8)
    held_out, _ = real_images((40, 40, 3), "tf", split="test", count=8)
    assert train.shape == held_out.shape == (8, 40, 40, 3) and train.dtype == np.float32
    assert -1.0 <= train.min() < 0.0 < train.max() <= 1.0  # "tf" scales [0, 255] to [-1, 1]
    np.testing.assert_array_equal(train[..., 0], train[..., 2])  # gray digits tiled to RGB
    assert set(labels.tolist()) <= set(range(10))
    assert not np.array_equal(train, held_out)


@pytest.mark.parametrize("name", CONVERTED)
def test_converts_to_builtin_ops_and_matches_keras_in_litert(name, tmp_path):
    assert_float32_tflite_matches_keras(batch_one_model(name, **CONVERTED[name]), tmp_path)


@pytest.mark.parametrize("name", QUANTIZED)
def test_full_integer_int8_runs_and_tracks_keras(name, tmp_path):
    assert_int8_tflite_tracks_keras(batch_one_model(name), tmp_path)


@pytest.mark.parametrize("name", NAMES)
def test_builds_with_a_fixed_batch_of_one_at_224_with_the_reference_multiply_adds(name):
    info = keras_archs.model_info(name)
    inputs = keras.Input(shape=(224, 224, 3), batch_size=1)
    model = keras_archs.get_model(name, input_tensor=inputs, classes=info.reference.classes)
    assert tuple(model.outputs[0].shape) == (1, info.reference.classes)
    if info.reference.gmacs is not None and info.input_spec.default_size == 224:
        gmacs = keras_archs.profile(model).gmacs
        assert gmacs == pytest.approx(info.reference.gmacs, rel=0.03), info.reference.gmacs_source
