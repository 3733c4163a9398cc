import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_archs
from keras_archs import export, litert_forms


@pytest.fixture(scope="module")
def trained_lenet():
    """LeNet-5 trained on scikit-learn's real handwritten digits, with the held-out test split."""
    keras.utils.set_random_seed(0)
    train_images, train_labels = export.real_images((32, 32, 1), "lenet", split="train", count=2000)
    test_images, test_labels = export.real_images((32, 32, 1), "lenet", split="test", count=2000)
    model = keras_archs.LeNet5()
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy")
    model.fit(train_images, train_labels, epochs=10, batch_size=32, verbose=0)
    return model, train_images, test_images, test_labels


def test_saved_model_reloads_with_identical_outputs(tmp_path):
    model = keras_archs.LeNet5(variant="paper")  # custom layers included
    destination = export.to_saved_model(model, tmp_path / "saved_model")
    images = np.random.default_rng(0).normal(size=(4, 32, 32, 1)).astype("float32")
    reloaded = tf.saved_model.load(destination)
    served = reloaded.signatures["serving_default"](tf.constant(images))
    np.testing.assert_allclose(next(iter(served.values())).numpy(), model.predict(images, verbose=0), atol=1e-5)
    assert [name for name in os.listdir(tmp_path) if name.startswith(".")] == []


def test_float32_tflite_matches_keras(tmp_path):
    model = keras_archs.LeNet5(variant="paper")
    path = export.to_tflite(model, tmp_path / "model.tflite")
    images = np.random.default_rng(1).normal(size=(8, 32, 32, 1)).astype("float32")
    report = export.compare_with_keras(model, path, images, latency_runs=5)
    assert report.max_abs_diff <= 1e-4
    assert report.top1_agreement == 1.0
    assert report.latency_ms_median > 0


def test_full_integer_lenet_keeps_its_accuracy(trained_lenet, tmp_path):
    model, train_images, test_images, test_labels = trained_lenet
    float_path = export.to_tflite(model, tmp_path / "model.tflite")
    int8_path = export.to_tflite(
        model, tmp_path / "model_int8.tflite", quantize="int8", representative_images=train_images, int8_io=True
    )
    report = export.compare_with_keras(
        model, int8_path, test_images, test_labels, quantize="int8", float32_size=os.path.getsize(float_path), latency_runs=5
    )
    assert export.LiteRTRunner(int8_path).input["dtype"] == np.int8
    assert report.keras_accuracy >= 0.9  # a trained model, or parity would mean little
    assert report.top1_agreement >= 0.98
    assert abs(report.accuracy - report.keras_accuracy) <= 0.01
    assert report.size_ratio_to_float32 < 0.5


@pytest.mark.parametrize("quantize", ["float16", "dynamic"])
def test_weight_quantization_shrinks_the_file(trained_lenet, tmp_path, quantize):
    model, _, test_images, _ = trained_lenet
    float_size = os.path.getsize(export.to_tflite(model, tmp_path / "model.tflite"))
    path = export.to_tflite(model, tmp_path / f"model_{quantize}.tflite", quantize=quantize)
    report = export.compare_with_keras(model, path, test_images[:64], latency_runs=3)
    assert os.path.getsize(path) < 0.6 * float_size
    assert report.top1_agreement >= 0.95


class _Determinant(keras.layers.Layer):
    def call(self, inputs):
        return tf.linalg.det(tf.reshape(inputs, (-1, 4, 4)))


def test_an_op_outside_the_builtin_set_is_named_and_no_file_is_left(tmp_path):
    inputs = keras.Input((16,))
    model = keras.Model(inputs, _Determinant()(inputs))
    with pytest.raises(ValueError, match="MatrixDeterminant"):
        export.to_tflite(model, tmp_path / "model.tflite")
    assert os.listdir(tmp_path) == []


def test_bad_arguments(tmp_path):
    model = keras_archs.LeNet5()
    with pytest.raises(ValueError, match="quantize"):
        export.to_tflite(model, tmp_path / "m.tflite", quantize="int4")
    with pytest.raises(ValueError, match="representative_images"):
        export.to_tflite(model, tmp_path / "m.tflite", quantize="int8")
    with pytest.raises(ValueError, match="path"):
        export.to_tflite(model, tmp_path / "m.bin")
    with pytest.raises(ValueError, match="int8_io"):
        export.to_tflite(model, tmp_path / "m.tflite", int8_io=True)
    with pytest.raises(ValueError, match="xnnpack_forms must be True or False. Received: xnnpack_forms=1"):
        export.to_tflite(model, tmp_path / "m.tflite", xnnpack_forms=1)
    assert os.listdir(tmp_path) == []


def test_onnx_export_runs_in_onnxruntime(tmp_path):
    import onnxruntime

    model = keras_archs.LeNet5(variant="paper")
    path = export.to_onnx(model, tmp_path / "model.onnx")
    session = onnxruntime.InferenceSession(path)
    images = np.random.default_rng(2).normal(size=(3, 32, 32, 1)).astype("float32")
    outputs = session.run(None, {session.get_inputs()[0].name: images})[0]
    np.testing.assert_allclose(outputs, model.predict(images, verbose=0), atol=1e-5)
    assert os.listdir(tmp_path) == ["model.onnx"]


def _hard_swish_model():
    inputs = keras.Input((12, 12, 3))
    x = keras.layers.Conv2D(16, 3, padding="same")(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Activation("hard_swish")(x)
    x = keras.layers.Conv2D(8, 1)(x)
    return keras.Model(inputs, keras.layers.Activation("hard_swish")(x))


def test_int8_files_write_hard_swish_as_ops_xnnpack_takes_and_float32_files_keep_hard_swish(tmp_path):
    from keras_archs import litert_ops

    keras.utils.set_random_seed(0)
    model = _hard_swish_model()
    images = np.random.default_rng(0).uniform(-1, 1, (64, 12, 12, 3)).astype("float32")
    float_ops = litert_ops.op_report(export.to_tflite(model, tmp_path / "model.tflite"), runs=1)
    assert [op.op for op in float_ops.ops].count("HARD_SWISH") == 2
    int8_path = export.to_tflite(model, tmp_path / "model_int8.tflite", quantize="int8", representative_images=images)
    int8_ops = litert_ops.op_report(int8_path, runs=1)
    assert "HARD_SWISH" not in [op.op for op in int8_ops.ops]
    assert all(op.delegated for op in int8_ops.ops) and int8_ops.partitions == 1
    report = export.compare_with_keras(model, int8_path, images, latency_runs=1)
    outputs = model.predict(images, verbose=0)
    assert report.max_abs_diff <= 0.05 * np.ptp(outputs)  # int8 rounding, not another function


def test_the_int8_form_of_hard_swish_computes_the_same_function_with_the_same_weights():
    keras.utils.set_random_seed(1)
    model = _hard_swish_model()
    rewritten = litert_forms.for_litert(model, "int8")
    images = np.random.default_rng(1).normal(0, 3, (8, 12, 12, 3)).astype("float32")
    np.testing.assert_allclose(rewritten.predict(images, verbose=0), model.predict(images, verbose=0),
                               rtol=1e-5, atol=1e-5)
    assert rewritten.get_layer(model.layers[1].name) is model.layers[1]  # shared, not copied
    assert [layer.name for layer in rewritten.layers] == [layer.name for layer in model.layers]
    lenet = keras_archs.LeNet5()
    assert litert_forms.for_litert(lenet, "int8") is lenet


def test_int8_calibrates_on_every_representative_image(tmp_path):
    inputs = keras.Input((4, 4, 1))
    model = keras.Model(inputs, keras.layers.Conv2D(2, 1)(inputs))
    images = np.random.default_rng(2).uniform(0, 1, (150, 4, 4, 1)).astype("float32")
    images[120:] *= 10  # only images past the first hundred reach 10

    def input_scale(calibration):
        path = export.to_tflite(model, tmp_path / f"m{len(calibration)}.tflite", quantize="int8",
                                representative_images=calibration, int8_io=True)
        return export.LiteRTRunner(path).input["quantization"][0]

    assert input_scale(images[:100]) == pytest.approx(1 / 255, rel=0.02)
    assert input_scale(images) == pytest.approx(10 / 255, rel=0.02)


def test_real_images_reads_the_whole_split_when_count_is_none():
    images, labels = export.real_images((8, 8, 1), "lenet", split="test", count=None)
    assert images.shape == (359, 8, 8, 1) and labels.shape == (359,)
    first, _ = export.real_images((8, 8, 1), "lenet", split="test", count=10)
    np.testing.assert_array_equal(first, images[:10])
    with pytest.raises(ValueError, match="count must be a positive integer. Received: count=0"):
        export.real_images((8, 8, 1), "lenet", split="test", count=0)
