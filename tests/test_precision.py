"""Mixed precision: what "auto" picks on each kind of hardware, and that it stays in training.

The hardware is faked (CPU flags, GPU compute capabilities, a TPU), so every branch of
`resolve_precision` runs on any machine. Each precision then trains LeNet-5 on the real
digits through `keras_archs.training.train`; the saved model and every export of it must be
float32 (SavedModel, builtin-op TFLite, full-integer int8), and augmentation must work on
float32, bfloat16 and float16 batches whatever the global policy.
"""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_archs
from keras_archs import augment, export, training
from keras_archs.data import load_dataset
from keras_archs.precision import float32_model, has_reduced_precision, reduced_precision_layers
from keras_archs.training import strategy
from test_tflite_mobile import float_ops

MIXED = ("mixed_bfloat16", "mixed_float16")
PRECISIONS = ("float32", *MIXED)
BATCH_DTYPES = ("float32", "bfloat16", "float16")
# LeNet-5 after 3 epochs on the digits (1,797 images; ~9-13 s per precision on 2 cores):
# measured 0.91-0.94 test accuracy for each precision, Keras and int8 TFLite alike. Chance
# is 0.10; the bound leaves room for other CPUs' rounding.
EPOCHS = 3
MIN_ACCURACY = 0.75
TEST_IMAGES = 300
CALIBRATION_IMAGES = 100


@pytest.fixture(autouse=True)
def _restore_dtype_policy():
    """Tests here set the global policy; the next test must not inherit it."""
    previous = keras.config.dtype_policy()
    yield
    keras.config.set_dtype_policy(previous)


# --- what "auto" resolves to -------------------------------------------------------------


@pytest.fixture
def hardware(monkeypatch):
    """Fakes the machine `resolve_precision` sees: CPU flags, GPU capabilities, a TPU."""

    def fake(cpu_flags=(), gpus=(), tpu=False):
        cpuinfo = f"processor\t: 0\nflags\t\t: fpu sse2 avx2 {' '.join(cpu_flags)}\n" if cpu_flags is not None else ""
        monkeypatch.setattr(strategy, "_read_cpuinfo", lambda: cpuinfo)
        monkeypatch.setattr(strategy, "_gpu_compute_capabilities", lambda: list(gpus))
        monkeypatch.setattr(strategy, "_has_tpu", lambda: tpu)

    return fake


@pytest.mark.parametrize(
    ("machine", "expected"),
    [
        (dict(cpu_flags=("avx512f", "avx512_bf16")), "mixed_bfloat16"),
        (dict(cpu_flags=("amx_bf16", "amx_tile")), "mixed_bfloat16"),
        (dict(cpu_flags=("avx512f", "avx512_vnni")), "float32"),
        (dict(cpu_flags=None), "float32"),  # no /proc/cpuinfo (macOS, Windows)
        (dict(gpus=[(7, 0)]), "mixed_float16"),
        (dict(gpus=[(7, 5)]), "mixed_float16"),
        (dict(gpus=[(8, 0)]), "mixed_bfloat16"),
        (dict(gpus=[(9, 0)]), "mixed_bfloat16"),
        (dict(gpus=[(6, 1)]), "float32"),
        (dict(gpus=[(8, 0), (7, 5)]), "mixed_float16"),
        (dict(gpus=[(9, 0), (6, 0)]), "float32"),
        # A GPU decides, not the host CPU's bfloat16 units.
        (dict(cpu_flags=("avx512_bf16",), gpus=[(7, 5)]), "mixed_float16"),
        (dict(cpu_flags=("avx512_bf16",), gpus=[(6, 1)]), "float32"),
        (dict(tpu=True, gpus=[(7, 0)]), "mixed_bfloat16"),
    ],
)
def test_auto_precision_on_faked_hardware(hardware, machine, expected):
    hardware(**machine)
    assert strategy.resolve_precision("auto") == expected
    assert strategy.set_precision("auto") == expected
    assert keras.config.dtype_policy().name == expected


@pytest.mark.parametrize("precision", PRECISIONS)
def test_an_explicit_precision_ignores_the_hardware(hardware, precision):
    hardware(cpu_flags=("avx512_bf16",), gpus=[(7, 0)])
    assert strategy.resolve_precision(precision) == precision


# --- float32_model -----------------------------------------------------------------------


def _built_under(policy, name, **options):
    keras.config.set_dtype_policy(policy)
    try:
        return keras_archs.get_model(name, **options)
    finally:
        keras.config.set_dtype_policy("float32")


def test_float32_model_returns_a_float32_model_itself():
    model = keras_archs.get_model("lenet5")
    assert float32_model(model) is model


@pytest.mark.parametrize("policy", [*MIXED, "bfloat16"])
def test_float32_model_copies_architecture_and_weights_in_float32(policy):
    # The paper variant has the custom layers (trainable subsampling, connection table, RBF).
    model = _built_under(policy, "lenet5_paper")
    assert has_reduced_precision(model)
    copy = float32_model(model)
    assert copy is not model and copy.name == model.name
    assert [layer.name for layer in copy.layers] == [layer.name for layer in model.layers]
    assert reduced_precision_layers(copy) == {}
    assert all(weight.dtype == "float32" for weight in copy.weights)
    for original, copied in zip(model.get_weights(), copy.get_weights()):
        np.testing.assert_array_equal(original.astype("float32"), copied)
    images = np.random.default_rng(0).normal(size=(2, 32, 32, 1)).astype("float32")
    outputs = copy(images)
    assert outputs.dtype == "float32"
    assert not copy.compiled  # saving compiles it with the run's loss


def test_float32_model_rebuilds_nested_models():
    keras.config.set_dtype_policy("mixed_bfloat16")
    inner = keras_archs.get_model("lenet5")
    inputs = keras.Input((32, 32, 1))
    outer = keras.Model(inputs, keras.layers.Dense(3, name="head")(inner(inputs)), name="outer")
    keras.config.set_dtype_policy("float32")
    copy = float32_model(outer)
    assert reduced_precision_layers(copy) == {}
    assert copy.get_layer(inner.name).get_layer("predictions").dtype_policy.name == "float32"


# Keras warns once per layer it cannot quantize (convolutions, pooling, flatten): expected.
@pytest.mark.filterwarnings("ignore:Layer .* does not have a `quantize` method implemented:UserWarning")
def test_float32_model_keeps_int8_quantization_of_a_mixed_precision_model():
    model = _built_under("mixed_bfloat16", "lenet5")
    model.quantize("int8")  # Dense layers only: int8_from_mixed_bfloat16
    copy = float32_model(model)
    assert copy.get_layer("predictions").dtype_policy.name == "int8_from_float32"
    assert reduced_precision_layers(copy) == {}
    images = np.random.default_rng(0).uniform(size=(2, 32, 32, 1)).astype("float32")
    np.testing.assert_allclose(copy(images), np.asarray(model(images), "float32"), atol=0.01)


# --- the whole flow under each precision -------------------------------------------------


@pytest.fixture(scope="module", params=PRECISIONS)
def trained_run(request, tmp_path_factory):
    """(precision, run folder, test images, labels, calibration images) of a LeNet-5 run."""
    precision = request.param
    keras.utils.set_random_seed(0)
    output_dir = tmp_path_factory.mktemp(f"runs_{precision}")
    metrics = training.train(training.RunConfig(model="lenet5", data="digits", precision=precision, epochs=EPOCHS,
                                                output_dir=str(output_dir), run_name=precision, verbose=0))
    print(f"{precision}: test accuracy after {EPOCHS} epochs {metrics['test_accuracy']:.3f}")
    assert keras.config.dtype_policy().name == "float32"  # train restores the global policy
    preprocessing = keras_archs.model_info("lenet5").preprocessing
    images, labels = export.real_images((32, 32, 1), preprocessing, split="test", count=TEST_IMAGES)
    calibration, _ = export.real_images((32, 32, 1), preprocessing, split="train", count=CALIBRATION_IMAGES)
    return precision, output_dir / precision, images, labels, calibration


def _load(run_dir):
    return keras.saving.load_model(run_dir / "model.keras")


def test_a_run_saves_a_float32_model(trained_run):
    _, run_dir, images, _, _ = trained_run
    model = _load(run_dir)
    assert {layer.dtype_policy.name for layer in model._flatten_layers()} == {"float32"}
    assert {weight.dtype for weight in model.weights} == {"float32"}
    assert model.predict(images[:4], verbose=0).dtype == np.float32


def _assert_float32_artifacts(model, output_dir, images, labels, calibration):
    """Exports SavedModel + float32 and int8 TFLite; checks they are float32/full-integer and accurate."""
    reports = export.export_model(model, output_dir, formats=("saved_model", "tflite"), quantize="int8",
                                  images=images, labels=labels, calibration_images=calibration, latency_runs=3)
    served = tf.saved_model.load(str(output_dir / "saved_model")).signatures["serving_default"]
    assert served.structured_input_signature[1][next(iter(served.structured_input_signature[1]))].dtype == tf.float32
    assert next(iter(served(tf.constant(images[:4])).values())).dtype == tf.float32
    runner = export.LiteRTRunner(output_dir / export.TFLITE_FILES["int8"])
    assert not float_ops(runner), "the int8 file computes something in float32"
    for report in reports:
        print(f"{report.format} {report.quantize}: accuracy {report.accuracy:.3f} (Keras {report.keras_accuracy:.3f}), "
              f"top-1 agreement {report.top1_agreement:.3f}")
        assert report.accuracy >= MIN_ACCURACY
    return reports


def test_the_saved_model_exports_float32_artifacts(trained_run, tmp_path):
    _, run_dir, images, labels, calibration = trained_run
    _assert_float32_artifacts(_load(run_dir), tmp_path, images, labels, calibration)


@pytest.mark.parametrize("trained_run", MIXED, indirect=True)
def test_export_casts_a_mixed_precision_model(trained_run, tmp_path):
    precision, run_dir, images, labels, calibration = trained_run
    model = _built_under(precision, "lenet5")
    model.set_weights(_load(run_dir).get_weights())
    assert model.predict(images[:4], verbose=0).dtype != np.float32  # really mixed
    reports = _assert_float32_artifacts(model, tmp_path, images, labels, calibration)
    # The parity checks compare with the float32 copy, which is what was exported.
    assert all(report.max_abs_diff <= 1e-4 for report in reports if report.quantize == "none")


def test_a_tflite_failure_on_a_reduced_precision_model_names_the_policy(monkeypatch, tmp_path):
    model = _built_under("bfloat16", "lenet5")

    def unchanged(model):
        return model

    # Skip the cast that export does, to reach the converter with bfloat16 ops.
    monkeypatch.setattr(export, "float32_model", unchanged)
    images = np.zeros((4, 32, 32, 1), "float32")
    with pytest.raises(ValueError, match="bfloat16 dtype policies") as raised:
        export.to_tflite(model, tmp_path / "model_int8.tflite", quantize="int8", representative_images=images)
    assert "builtin set" not in str(raised.value)
    assert os.listdir(tmp_path) == []


# --- augmentation in every dtype ---------------------------------------------------------


def _batch(dtype, shape=(4, 24, 24, 3)):
    return tf.cast(tf.random.stateless_uniform(shape, seed=(0, 1), minval=0, maxval=255), dtype)


def _assert_keeps_dtype_and_shape(outputs, batch):
    assert outputs.dtype == batch.dtype and outputs.shape == batch.shape
    assert np.all(np.isfinite(tf.cast(outputs, tf.float32).numpy()))


@pytest.mark.parametrize("batch_dtype", BATCH_DTYPES)
@pytest.mark.parametrize("precision", PRECISIONS)
def test_resnet_batch_layers_keep_the_batch_dtype(precision, batch_dtype):
    keras.config.set_dtype_policy(precision)
    layers = augment.get_policy("resnet").batch_layers(channels=3, seed=0, dtype=batch_dtype)
    assert any(isinstance(layer, augment.PCALighting) for layer in layers)
    batch = _batch(batch_dtype)
    for layer in layers:
        # In a graph, as tf.data runs them, and eagerly.
        _assert_keeps_dtype_and_shape(tf.function(layer)(batch, training=True), batch)
        _assert_keeps_dtype_and_shape(layer(batch, training=True), batch)


@pytest.mark.parametrize("precision", MIXED)
def test_a_mixed_global_policy_does_not_reach_the_input_pipeline(precision):
    keras.config.set_dtype_policy(precision)
    layers = augment.get_policy("resnet").batch_layers(channels=3, seed=0)
    assert {layer.compute_dtype for layer in layers} == {"float32"}
    images, _ = next(iter(load_dataset("digits", "train", batch_size=4, image_size=24, channels=3, policy="resnet",
                                        seed=0)))
    assert images.dtype == tf.float32 and np.all(np.isfinite(images.numpy()))


@pytest.mark.parametrize("batch_dtype", ("bfloat16", "float16"))
def test_pca_lighting_and_pixel_noise_keep_a_half_precision_batch(batch_dtype):
    # Built under float32 on purpose: these two keep the batch's dtype whatever their policy.
    layers = [augment.PCALighting(0.1, seed=0), augment._PixelNoise(2.0, seed=0)]
    batch = _batch(batch_dtype)
    for layer in layers:
        shifted = layer(batch, training=True)
        _assert_keeps_dtype_and_shape(shifted, batch)
        assert float(tf.reduce_max(tf.abs(tf.cast(shifted, tf.float32) - tf.cast(batch, tf.float32)))) > 0


@pytest.mark.parametrize("batch_dtype", BATCH_DTYPES)
def test_mix_layers_keep_the_batch_dtype_under_a_mixed_policy(batch_dtype):
    keras.config.set_dtype_policy("mixed_bfloat16")
    batch = {"images": _batch(batch_dtype), "labels": tf.one_hot([0, 1, 2, 3], 4)}
    for mixer in (augment.mix_layer(mixup_alpha=0.2, seed=0), augment.mix_layer(cutmix_alpha=1.0, seed=0),
                  augment.mix_layer(mixup_alpha=0.2, cutmix_alpha=1.0, seed=0)):
        mixed = tf.function(mixer)(batch)
        _assert_keeps_dtype_and_shape(mixed["images"], batch["images"])
        assert mixed["labels"].dtype == tf.float32
        np.testing.assert_allclose(mixed["labels"].numpy().sum(-1), 1.0, rtol=1e-5)


class _FakeGardenAugment:
    """Stands in for Model Garden's augment module: AutoAugment returns its uint8 input."""

    class AutoAugment:
        def __init__(self, augmentation_name):
            self.augmentation_name = augmentation_name

        def distort(self, image):
            assert image.dtype == tf.uint8  # Model Garden's operations count in uint8 levels
            return image


@pytest.mark.parametrize("channels", (1, 3))
@pytest.mark.parametrize("batch_dtype", BATCH_DTYPES)
def test_garden_autoaugment_casts_back_to_the_batch_dtype(monkeypatch, batch_dtype, channels):
    monkeypatch.setattr(augment, "garden_augment_module", lambda: _FakeGardenAugment)
    batch = _batch(batch_dtype, (2, 8, 8, channels))
    _assert_keeps_dtype_and_shape(augment.GardenAutoAugment()(batch, training=True), batch)
