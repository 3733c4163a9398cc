"""TFLite/LiteRT size and CPU latency per quantization, as ratios to float32 in one run.

    python tools/benchmark_tflite.py [--models lenet5 mobilenet_v2] [--runs 50] [--threads 1]
    python tools/benchmark_tflite.py --models 'mobilenet*' 'shufflenet*' 'squeezenet*' nasnet_mobile amoebanet_a

--models takes registry names or shell patterns, so the second line converts every mobile
model (builtin ops only) and runs each file in the LiteRT interpreter: the sweep that backs
"every mobile model converts and runs".

Calibrates int8 on real images (scikit-learn's handwritten digits through
keras_archs.data, resized and, for RGB models, tiled to 3 channels) and times batch-1 inference in the LiteRT interpreter
(median of --runs). Prints one table; the figures go into docs/benchmarks.md.
"""

import argparse
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

import keras_archs  # noqa: E402
from keras_archs import export  # noqa: E402
from keras_archs.data import load_dataset  # noqa: E402


def digit_images(shape, mode, count=200):
    """Real digits at the model's input shape, preprocessed for it, from keras_archs.data."""
    height, width, channels = shape
    dataset = load_dataset("digits", "train", batch_size=count, image_size=(height, width), channels=channels,
                           training=False, preprocessing=mode)
    images, _ = next(iter(dataset))
    return images.numpy()


def benchmark(name, runs, threads, directory):
    info = keras_archs.model_info(name)
    model = info.build(input_shape=info.input_shape, classes=info.reference.classes)
    images = digit_images(info.input_shape, info.preprocessing)
    rows = []
    for quantize in export.QUANTIZATIONS:
        path = os.path.join(directory, f"{name}_{quantize}.tflite")
        export.to_tflite(model, path, quantize=quantize, representative_images=images)
        runner = export.LiteRTRunner(path, num_threads=threads)
        expected = model.predict(images[:32], verbose=0)
        actual = runner.predict(images[:32])
        agreement = float(np.mean(actual.argmax(-1) == expected.argmax(-1)))
        max_diff = float(np.max(np.abs(actual - expected)))
        rows.append((quantize, os.path.getsize(path), runner.median_latency_ms(images[0], runs=runs), agreement, max_diff))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["lenet5", "mobilenet_v2"])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    names = [name for pattern in args.models for name in keras_archs.list_models(pattern)]
    if not names:
        parser.error(f"no registered model matches {args.models}")
    print(f"| model | quantization | size (KB) | size / float32 | latency ms (median of {args.runs}, {args.threads} thread) "
          "| latency / float32 | top-1 agreement (32 images, untrained weights) | max abs diff |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as directory:
        for name in names:
            rows = benchmark(name, args.runs, args.threads, directory)
            float_size, float_latency = rows[0][1], rows[0][2]
            for quantize, size, latency, agreement, max_diff in rows:
                print(
                    f"| {name} | {quantize} | {size / 1024:.0f} | {size / float_size:.2f} | {latency:.3f} | "
                    f"{latency / float_latency:.2f} | {agreement:.2f} | {max_diff:.2e} |", flush=True
                )


if __name__ == "__main__":
    main()
