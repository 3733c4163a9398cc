"""Export for serving and for phones: SavedModel and TFLite/LiteRT, with measured parity.

Conversions go through Keras' own exporters (`model.export(..., format=...)`); every file
is written to a temporary path beside its destination and renamed into place, so a failed
or interrupted export never leaves a partial artifact. Each export can be checked against
the Keras model on real images: size, maximum absolute difference, top-1 agreement,
accuracy, and median CPU latency in the LiteRT interpreter (`ai_edge_litert`).

Artifacts are float32 whatever policy the model trained under: every export works on
`keras_archs.precision.float32_model(model)`, so a mixed-precision model gives a SavedModel
that serves float32 and TFLite files of builtin ops (full-integer where asked).
"""

import dataclasses
import json
import os
import re
import statistics
import time
from typing import Optional

import numpy as np
import tensorflow as tf

from keras_archs.checks import check_bool, check_choice, check_positive_int
from keras_archs.fileio import atomic_write, atomic_write_dir, write_json
from keras_archs.litert_forms import for_litert
from keras_archs.precision import float32_model, reduced_precision_layers

__all__ = [
    "FORMATS",
    "QUANTIZATIONS",
    "ExportReport",
    "LiteRTRunner",
    "compare_with_keras",
    "export_model",
    "real_images",
    "to_onnx",
    "to_saved_model",
    "to_tflite",
]

QUANTIZATIONS = ("none", "float16", "dynamic", "int8")
REPRESENTATIVE_SAMPLES = 100
# Batch size used to read a whole split for parity checks; any size reads the same images.
WHOLE_SPLIT_BATCH = 256


@dataclasses.dataclass
class ExportReport:
    """What one export produced and how closely it follows the Keras model."""

    format: str
    path: str
    quantize: str
    size_bytes: int
    size_ratio_to_float32: Optional[float] = None
    max_abs_diff: Optional[float] = None
    top1_agreement: Optional[float] = None
    accuracy: Optional[float] = None
    keras_accuracy: Optional[float] = None
    latency_ms_median: Optional[float] = None
    latency_runs: Optional[int] = None
    images: Optional[int] = None
    calibration_images: Optional[int] = None


def _size(path):
    if os.path.isdir(path):
        return sum(os.path.getsize(os.path.join(root, name)) for root, _, names in os.walk(path) for name in names)
    return os.path.getsize(path)


def to_saved_model(model, directory):
    """Exports a TensorFlow SavedModel with a `serving_default` signature.

    Args:
        model: a Keras model (a mixed-precision one is exported as its float32 copy).
        directory: destination folder (replaced if it exists).

    Returns:
        The destination path.
    """
    model = float32_model(model)
    return atomic_write_dir(directory, lambda staging: model.export(staging, format="tf_saved_model", verbose=False))


def real_images(input_shape, preprocessing, *, source="digits", split="train", count=REPRESENTATIVE_SAMPLES):
    """The first `count` real images of a data source, shaped and scaled for a model.

    The calibration set of full-integer quantization and the images of parity checks:
    read through `keras_archs.data.load_dataset` (evaluation resize, grayscale tiled to
    RGB or RGB averaged to gray as `input_shape` asks), in file order.

    Args:
        input_shape: the model's (height, width, channels).
        preprocessing: its registry preprocessing mode (`model_info(name).preprocessing`).
        source: "digits", a TFDS name, an image folder or TFRecords.
        split: the split to read.
        count: how many images (fewer if the split is smaller); None reads the whole split.

    Returns:
        (images, labels) as numpy arrays, float32 (N, H, W, C) and int (N,).
    """
    from keras_archs.data import load_dataset

    if count is not None:
        check_positive_int(count, "count")
    height, width, channels = input_shape
    dataset = load_dataset(source, split, batch_size=count or WHOLE_SPLIT_BATCH, image_size=(height, width),
                           channels=channels, training=False, preprocessing=preprocessing)
    if count is not None:
        dataset = dataset.take(1)
    batches = [(images.numpy(), labels.numpy()) for images, labels in dataset]
    return np.concatenate([images for images, _ in batches]), np.concatenate([labels for _, labels in batches])


def _representative_dataset(images):
    samples = np.asarray(images, dtype="float32")

    def generate():
        for sample in samples:
            yield [sample[None]]

    return generate


def _converter_options(quantize, representative_images, int8_io, allow_select_tf_ops):
    builtins = tf.lite.OpsSet.TFLITE_BUILTINS_INT8 if quantize == "int8" else tf.lite.OpsSet.TFLITE_BUILTINS
    ops = [builtins] + ([tf.lite.OpsSet.SELECT_TF_OPS] if allow_select_tf_ops else [])
    options = {"target_spec": {"supported_ops": ops}}
    if quantize == "none":
        return options
    options["optimizations"] = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        options["target_spec"]["supported_types"] = [tf.float16]
    if quantize == "int8":
        options["representative_dataset"] = _representative_dataset(representative_images)
        if int8_io:
            options["inference_input_type"] = tf.int8
            options["inference_output_type"] = tf.int8
    return options


_SELECT_OPS = re.compile(r"TF Select ops: ([\w, ]+)")
_UNSUPPORTED_OP = re.compile(r"'(tf\.\w+)' op is neither a custom op nor a flex op")


def _unsupported_ops(message):
    listed = _SELECT_OPS.search(message)
    if listed:
        return sorted({name.strip() for name in listed.group(1).split(",") if name.strip()})
    return sorted(set(_UNSUPPORTED_OP.findall(message)))


def to_tflite(
    model,
    path,
    *,
    quantize="none",
    representative_images=None,
    int8_io=False,
    allow_select_tf_ops=False,
    xnnpack_forms=True,
):
    """Converts a Keras model to a TFLite/LiteRT flatbuffer.

    By default the converter is given the model in the forms LiteRT's XNNPACK delegate
    runs fast (`keras_archs.litert_forms.for_litert`: the same function, other ops), so
    the file runs in XNNPACK as far as the quantization's kernels allow.

    Args:
        model: a Keras model with a fixed input size (build it with `input_shape=`); a
            mixed-precision one is converted as its float32 copy.
        path: destination `.tflite` file.
        quantize: "none" (float32), "float16" (float16 weights), "dynamic" (int8
            weights, float activations) or "int8" (full-integer, calibrated on
            `representative_images`).
        representative_images: real, preprocessed images (N, H, W, C) for "int8"; every
            one of them calibrates the activation ranges.
        int8_io: with "int8", make the model's input and output int8 too (for
            integer-only accelerators); otherwise they stay float32.
        allow_select_tf_ops: allow TensorFlow ops outside the builtin set (the app then
            needs the Select TF ops runtime); off by default.
        xnnpack_forms: False converts the layers as they are written (to compare, or for
            a runtime other than XNNPACK).

    Returns:
        The destination path.

    Raises:
        ValueError: for bad arguments, or when the model needs ops outside the builtin
            set (the message names them); no file is left behind.
    """
    check_choice(quantize, QUANTIZATIONS, "quantize")
    path = os.fspath(path)
    if not path.endswith(".tflite"):
        raise ValueError(f"path must end with '.tflite'. Received: path={path!r}")
    if quantize == "int8" and (representative_images is None or len(representative_images) == 0):
        raise ValueError(
            "quantize='int8' calibrates on real images: pass representative_images. "
            f"Received: representative_images={representative_images!r}"
        )
    if int8_io and quantize != "int8":
        raise ValueError(f"int8_io needs quantize='int8'. Received: quantize={quantize!r}")
    check_bool(xnnpack_forms, "xnnpack_forms")
    options = _converter_options(quantize, representative_images, int8_io, allow_select_tf_ops)
    model = float32_model(model)
    rewritten = for_litert(model, quantize) if xnnpack_forms else model

    def convert(temporary):
        rewritten.export(temporary, format="litert", verbose=False, **options)
        if rewritten is not model and not _prepares_in_litert(temporary):
            # Calibration can give a rewritten op a range XNNPACK refuses at load time (an
            # all-zero tensor): the file as written is the one that loads.
            model.export(temporary, format="litert", verbose=False, **options)

    try:
        atomic_write(path, convert)
    except Exception as error:  # the converter raises its own ConverterError class
        reduced = reduced_precision_layers(model)
        if reduced:
            # float16/bfloat16 ops fail conversion as if they were outside the builtin set:
            # name the real cause rather than the ops.
            policies = ", ".join(f"{name}: {policy}" for name, policy in reduced.items())
            raise ValueError(
                f"TFLite conversion failed on a model with float16/bfloat16 dtype policies ({policies}); "
                "convert a float32 model "
                f"(keras_archs.precision.float32_model). Received: model={model.name!r}"
            ) from error
        unsupported = _unsupported_ops(str(error))
        if unsupported:
            raise ValueError(
                f"The model uses ops outside the TFLite builtin set: {', '.join(unsupported)}. "
                "Replace them, or pass allow_select_tf_ops=True and ship the Select TF ops "
                f"runtime. Received: model={model.name!r}"
            ) from None
        raise
    return path


def _prepares_in_litert(path):
    """Whether LiteRT (with its default XNNPACK delegate) loads the file; True without LiteRT installed."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        return True
    try:
        Interpreter(model_path=os.fspath(path)).allocate_tensors()
    except RuntimeError:
        return False
    return True


def to_onnx(model, path):
    """Exports ONNX through Keras (`pip install keras-archs[onnx]`), via a temp file; float32 as to_tflite."""
    model = float32_model(model)
    # A dynamic batch; Keras' exporter would otherwise need the model to have been called.
    signature = [tf.TensorSpec((None, *model.inputs[0].shape[1:]), tf.float32, name=model.inputs[0].name)]
    return atomic_write(
        path, lambda temporary: model.export(temporary, format="onnx", verbose=False, input_signature=signature)
    )


class LiteRTRunner:
    """Runs a `.tflite` file in the LiteRT interpreter, one image at a time.

    Quantizes float inputs and dequantizes outputs when the model's input/output are
    integer, so callers always pass and receive float32.
    """

    def __init__(self, path, num_threads=None):
        from ai_edge_litert.interpreter import Interpreter

        self.interpreter = Interpreter(model_path=os.fspath(path), num_threads=num_threads)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]

    def _quantize(self, image):
        scale, zero_point = self.input["quantization"]
        if self.input["dtype"] == np.float32 or scale == 0:
            return image.astype(self.input["dtype"])
        limits = np.iinfo(self.input["dtype"])
        return np.clip(np.round(image / scale + zero_point), limits.min, limits.max).astype(self.input["dtype"])

    def _dequantize(self, values):
        scale, zero_point = self.output["quantization"]
        if self.output["dtype"] == np.float32 or scale == 0:
            return values.astype("float32")
        return (values.astype("float32") - zero_point) * scale

    def invoke(self, image):
        """Runs one image (H, W, C); returns the float output row."""
        self.interpreter.set_tensor(self.input["index"], self._quantize(np.asarray(image, "float32")[None]))
        self.interpreter.invoke()
        return self._dequantize(self.interpreter.get_tensor(self.output["index"]))[0]

    def predict(self, images):
        return np.stack([self.invoke(image) for image in images])

    def median_latency_ms(self, image, runs=50, warmup=5):
        for _ in range(warmup):
            self.invoke(image)
        timings = []
        for _ in range(runs):
            start = time.perf_counter()
            self.invoke(image)
            timings.append((time.perf_counter() - start) * 1e3)
        return statistics.median(timings)


def _parity(expected, actual, labels):
    report = {
        "max_abs_diff": float(np.max(np.abs(actual - expected))),
        "top1_agreement": float(np.mean(actual.argmax(-1) == expected.argmax(-1))),
    }
    if labels is not None:
        labels = np.asarray(labels)
        report["accuracy"] = float(np.mean(actual.argmax(-1) == labels))
        report["keras_accuracy"] = float(np.mean(expected.argmax(-1) == labels))
    return report


def compare_with_keras(model, path, images, labels=None, *, quantize="none", float32_size=None, latency_runs=50,
                       calibration_images=None):
    """Measures a `.tflite` file against its Keras model on real images.

    Args:
        model: the Keras model the file was converted from (compared as its float32 copy,
            which is what was converted).
        path: the `.tflite` file.
        images: preprocessed images (N, H, W, C).
        labels: optional integer labels, for accuracy.
        quantize: how the file was quantized (recorded in the report).
        float32_size: size of the float32 export, for the size ratio.
        latency_runs: interpreter runs for the median latency (batch 1).
        calibration_images: how many images calibrated the file (recorded for int8).

    Returns:
        An `ExportReport`; its `images` is how many images the figures are over.
    """
    model = float32_model(model)
    runner = LiteRTRunner(path)
    size = _size(path)
    report = ExportReport(
        format="tflite",
        path=os.fspath(path),
        quantize=quantize,
        size_bytes=size,
        size_ratio_to_float32=None if not float32_size else size / float32_size,
        latency_ms_median=runner.median_latency_ms(images[0], runs=latency_runs),
        latency_runs=latency_runs,
        images=len(images),
        calibration_images=calibration_images,
        **_parity(model.predict(images, verbose=0), runner.predict(images), labels),
    )
    return report


FORMATS = ("saved_model", "tflite", "onnx")
TFLITE_FILES = {"none": "model.tflite", "float16": "model_float16.tflite", "dynamic": "model_dynamic.tflite", "int8": "model_int8.tflite"}


def _saved_model_report(model, directory, images, labels):
    served = tf.saved_model.load(directory).signatures["serving_default"]
    actual = next(iter(served(tf.constant(images)).values())).numpy()
    expected = model.predict(images, verbose=0)
    return ExportReport(format="saved_model", path=directory, quantize="none", size_bytes=_size(directory),
                        images=len(images), **_parity(expected, actual, labels))


def _onnx_report(model, path, images, labels):
    import onnxruntime

    session = onnxruntime.InferenceSession(path)
    actual = session.run(None, {session.get_inputs()[0].name: images})[0]
    return ExportReport(format="onnx", path=path, quantize="none", size_bytes=_size(path),
                        images=len(images), **_parity(model.predict(images, verbose=0), actual, labels))


def export_model(
    model,
    output_dir,
    *,
    formats=("tflite",),
    quantize="none",
    images,
    labels=None,
    calibration_images=None,
    int8_io=False,
    allow_select_tf_ops=False,
    latency_runs=50,
):
    """Exports `model` in each format into `output_dir` and checks every artifact.

    Layout (see saved_models/README.md): `saved_model/`, `model.tflite` (always, the float32
    baseline of the size ratios), `model_<quantize>.tflite`, `model.onnx`, and
    `export_report.json` with one entry per artifact.

    Args:
        model: a Keras model with a fixed input size; a mixed-precision one is exported
            (and checked) as its float32 copy.
        output_dir: destination folder.
        formats: any of "saved_model", "tflite", "onnx".
        quantize: TFLite quantization beside float32: "none", "float16", "dynamic", "int8".
        images: real, preprocessed images for the parity checks (held-out ones: a whole
            split, for accuracy figures to quote).
        labels: their labels, for accuracy.
        calibration_images: real, preprocessed images that calibrate "int8" (training
            images; every one is used); defaults to `images`.
        int8_io: int8 input/output for the "int8" file.
        allow_select_tf_ops: allow ops outside the TFLite builtin set.
        latency_runs: interpreter runs per latency median.

    Returns:
        The list of `ExportReport`s (also written to `export_report.json`).
    """
    formats = (formats,) if isinstance(formats, str) else tuple(formats)
    for value in formats:
        check_choice(value, FORMATS, "formats")
    check_choice(quantize, QUANTIZATIONS, "quantize")
    # Once here, so every format and parity check below uses the same float32 copy.
    model = float32_model(model)
    images = np.asarray(images, dtype="float32")
    labels = None if labels is None else np.asarray(labels)
    output_dir = os.fspath(output_dir)
    reports = []
    if "saved_model" in formats:
        directory = to_saved_model(model, os.path.join(output_dir, "saved_model"))
        reports.append(_saved_model_report(model, directory, images, labels))
    if "tflite" in formats:
        float_path = to_tflite(model, os.path.join(output_dir, TFLITE_FILES["none"]), allow_select_tf_ops=allow_select_tf_ops)
        float_size = _size(float_path)
        variants = ["none"] + ([quantize] if quantize != "none" else [])
        calibration = images if calibration_images is None else np.asarray(calibration_images, dtype="float32")
        for variant in variants:
            path = float_path if variant == "none" else to_tflite(
                model, os.path.join(output_dir, TFLITE_FILES[variant]), quantize=variant,
                representative_images=calibration,
                int8_io=int8_io and variant == "int8",
                allow_select_tf_ops=allow_select_tf_ops,
            )
            reports.append(compare_with_keras(model, path, images, labels, quantize=variant,
                                              float32_size=float_size, latency_runs=latency_runs,
                                              calibration_images=len(calibration) if variant == "int8" else None))
    if "onnx" in formats:
        path = to_onnx(model, os.path.join(output_dir, "model.onnx"))
        reports.append(_onnx_report(model, path, images, labels))

    report_path = os.path.join(output_dir, "export_report.json")
    entries = {}
    if os.path.exists(report_path):
        with open(report_path, encoding="utf-8") as handle:
            entries = json.load(handle)
    entries.update({os.path.basename(report.path): dataclasses.asdict(report) for report in reports})
    write_json(entries, report_path)
    return reports
