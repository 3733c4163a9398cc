"""TFLite/LiteRT size and CPU latency per quantization, as ratios to float32 in one run.

    python tools/benchmark_tflite.py [--models lenet5 mobilenet_v2] [--runs 50] [--threads 1 2] [--ops]
    python tools/benchmark_tflite.py --models 'lenet5*' 'mobilenet*' 'shufflenet*' 'squeezenet*' nasnet_mobile amoebanet_a

--models takes registry names or shell patterns, so the second line converts every mobile
model (builtin ops only) and runs each file in the LiteRT interpreter: the sweep that backs
"every mobile model converts and runs". --quantize picks the quantizations (float32 is always
converted: it is the baseline of the ratios).

Calibrates int8 on real images (scikit-learn's handwritten digits through
keras_archs.data, resized and, for RGB models, tiled to 3 channels) and times batch-1 inference in the LiteRT interpreter
(median of --runs, the quantizations timed in turn so that a shared machine's drifting load
falls on all of them alike), at each of --threads. Prints the CPU (model name and the flags
that pick XNNPACK's kernels) and one table; the figures go into docs/benchmarks.md.

The weights are untrained, but their BatchNormalization statistics are re-estimated over the
calibration images first (--precise-bn, on by default): with the initial statistics (mean 0,
variance 1) the activations of a deep random network shrink layer by layer to ranges no
trained model has, the int8 scales follow them, and XNNPACK refuses ops whose scale ratios
fall outside its kernels' range, so the int8 file would not be the one a trained model gives.

--kernels times single layers instead, float32 against int8: the ratio the CPU's kernels
allow whatever the graph. --ops prints, for each model's float32 and int8 files, where the time goes: every op measured
alone, whether LiteRT's XNNPACK delegate takes it, summed per op type (keras_archs.litert_ops).

    python tools/benchmark_tflite.py --models mobilenet_v2 lenet5 --train-epochs 30 --train-size 32
    python tools/benchmark_tflite.py --kernels

--train-epochs first trains each model on the real digits' training split (keras_archs.training's
Trainer, Adam) at --train-size pixels, then measures every quantization on the 359 held-out test
digits: Keras and TFLite test accuracy, top-1 agreement and max abs diff. Untrained weights make
agreement figures meaningless (near-uniform softmax); these are the ones to quote.
"""

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_archs  # noqa: E402
from keras_archs.cli_types import first_line  # noqa: E402
from keras_archs import export, litert_ops, training  # noqa: E402
from keras_archs.data import load_dataset  # noqa: E402


def train_on_digits(name, size, epochs, batch_size, learning_rate, seed):
    """Builds `name` for the 10 digit classes at `size` pixels and trains it on the digits."""
    info = keras_archs.model_info(name)
    shape = (size, size, info.input_shape[-1])
    keras.utils.set_random_seed(seed)
    model = info.build(input_shape=shape, classes=10)
    data = load_dataset("digits", "train", batch_size=batch_size, image_size=size, channels=shape[-1],
                        preprocessing=info.preprocessing, seed=seed)
    validation = load_dataset("digits", "validation", batch_size=batch_size, image_size=size, channels=shape[-1],
                              preprocessing=info.preprocessing)
    trainer = training.Trainer(model, keras.optimizers.Adam(learning_rate), keras.losses.CategoricalCrossentropy())
    trainer.fit(data, epochs=epochs, validation_data=validation, verbose=0)
    return model, shape, info.preprocessing


def held_out_accuracy(model, images, labels):
    """Top-1 accuracy of the Keras model in inference mode."""
    return float(np.mean(model.predict(images, verbose=0).argmax(-1) == labels))


def trained_agreement(name, args, directory):
    """Trains `name` on the digits, then measures each quantization on the held-out test digits."""
    model, shape, mode = train_on_digits(name, args.train_size, args.train_epochs, args.train_batch_size,
                                         args.train_learning_rate, args.seed)
    calibration, _ = export.real_images(shape, mode, split="train", count=args.calibration_samples)
    images, labels = export.real_images(shape, mode, split="test", count=None)
    note = f"{name}: Keras test accuracy {held_out_accuracy(model, images, labels):.2%} with the run's moving BN statistics"
    if args.precise_bn and training.reestimate_batch_norm(model, calibration, args.train_batch_size):
        note += f", {held_out_accuracy(model, images, labels):.2%} after re-estimating them over the training digits"
    rows, float_size = [], None
    for quantize in args.quantizations:
        path = os.path.join(directory, f"{name}_trained_{quantize}.tflite")
        export.to_tflite(model, path, quantize=quantize, representative_images=calibration,
                         xnnpack_forms=args.xnnpack_forms)
        report = export.compare_with_keras(model, path, images, labels, quantize=quantize,
                                           float32_size=float_size, latency_runs=1)
        float_size = float_size or report.size_bytes
        rows.append(report)
    return shape, rows, note


def print_trained_table(names, args, directory):
    print("| model | input | epochs | quantization | size (KB) | size / float32 | Keras test accuracy "
          "| TFLite test accuracy | top-1 agreement (test digits) | max abs diff (test digits) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    notes = []
    for index, name in enumerate(names, 1):
        print(f"[{index}/{len(names)}] training {name} for {args.train_epochs} epochs, then converting", file=sys.stderr,
              flush=True)
        try:
            shape, rows, note = trained_agreement(name, args, directory)
        except Exception as error:  # one model's failure is a finding of the run, not its end
            print(f"| {name} | failed: {type(error).__name__}: {str(error).splitlines()[0][:200]} |", flush=True)
            continue
        notes.append(note)
        for report in rows:
            print(
                f"| {name} | {'x'.join(map(str, shape))} | {args.train_epochs} | {report.quantize} | "
                f"{report.size_bytes / 1024:.0f} | {report.size_ratio_to_float32 or 1.0:.2f} | "
                f"{report.keras_accuracy:.2%} | {report.accuracy:.2%} | {report.top1_agreement:.2%} | "
                f"{report.max_abs_diff:.2e} |", flush=True
            )
    print()
    for note in notes:
        print(note)


def interleaved_latency_ms(runners, image, runs, warmup=5, call=lambda runner, image: runner.invoke(image)):
    """Median batch-1 latency of each runner, timed round-robin rather than one after another.

    On a shared machine the load drifts within seconds; timing the variants in turn, with the
    order rotated every round, lets the drift fall on all of them alike, so their ratios hold.
    """
    for runner in runners:
        for _ in range(warmup):
            call(runner, image)
    timings = [[] for _ in runners]
    for round_index in range(runs):
        for offset in range(len(runners)):
            index = (round_index + offset) % len(runners)
            start = time.perf_counter()
            call(runners[index], image)
            timings[index].append((time.perf_counter() - start) * 1e3)
    return [statistics.median(values) for values in timings]


def cpu_description():
    """The CPU's model name and the instruction-set flags that decide XNNPACK's kernels."""
    name, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    name = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
                    break
    except OSError:  # not Linux: the name from platform, no flags
        pass
    shown = [flag for flag in KERNEL_FLAGS if flag in flags]
    return f"{name}, {os.cpu_count()} logical CPUs, flags: {' '.join(shown) or 'unknown'}"


KERNEL_FLAGS = ("sse4_1", "avx", "f16c", "fma", "avx2", "avx_vnni", "avx512f", "avx512bw", "avx512_vnni",
                "avx512_bf16", "avx512_fp16", "amx_bf16", "amx_int8")


def benchmark(name, args, directory):
    """Converts `name` (untrained, default input) to each quantization; size, latency per thread count, parity rows."""
    info = keras_archs.model_info(name)
    model = info.build(input_shape=info.input_shape, classes=info.reference.classes)
    images, _ = export.real_images(info.input_shape, info.preprocessing, count=args.calibration_samples)
    if args.precise_bn:
        training.reestimate_batch_norm(model, images, args.train_batch_size)
    expected = model.predict(images[:32], verbose=0)
    sizes, paths, parity = [], [], []
    for quantize in args.quantizations:
        path = os.path.join(directory, f"{name}_{quantize}.tflite")
        export.to_tflite(model, path, quantize=quantize, representative_images=images,
                         xnnpack_forms=args.xnnpack_forms)
        actual = export.LiteRTRunner(path).predict(images[:32])
        parity.append((float(np.mean(actual.argmax(-1) == expected.argmax(-1))), float(np.max(np.abs(actual - expected)))))
        sizes.append(os.path.getsize(path))
        paths.append(path)
    latencies = {
        threads: interleaved_latency_ms([export.LiteRTRunner(path, num_threads=threads) for path in paths],
                                        images[0], args.runs)
        for threads in args.threads
    }
    rows = [(quantize, size, [latencies[threads][index] for threads in args.threads], *checks)
            for index, (quantize, size, checks) in enumerate(zip(args.quantizations, sizes, parity))]
    return rows, paths


KERNEL_CASES = (
    ("1x1 convolution, 56x56x128 -> 128", (56, 56, 128), lambda: keras.layers.Conv2D(128, 1)),
    ("3x3 convolution, 28x28x64 -> 64", (28, 28, 64), lambda: keras.layers.Conv2D(64, 3, padding="same")),
    ("3x3 depthwise, 56x56x144", (56, 56, 144), lambda: keras.layers.DepthwiseConv2D(3, padding="same")),
    ("5x5 depthwise, 28x28x44", (28, 28, 44), lambda: keras.layers.DepthwiseConv2D(5, padding="same")),
    ("7x7 depthwise, 28x28x44", (28, 28, 44), lambda: keras.layers.DepthwiseConv2D(7, padding="same")),
)


def print_kernels(args, directory):
    """One layer per file, float32 against int8, as written and in XNNPACK's forms: the kernels' own ratio.

    The four files of a layer are timed round-robin (1 thread, median of --runs)."""
    print("| layer | graph | float32 ms | int8 ms | int8 / float32 |")
    print("|---|---|---|---|---|")
    rng = np.random.default_rng(args.seed)
    for label, shape, make in KERNEL_CASES:
        inputs = keras.Input(shape)
        model = keras.Model(inputs, make()(inputs))
        images = rng.uniform(-1, 1, (16, *shape)).astype("float32")
        runners = []
        for forms in (False, True):
            for quantize in ("none", "int8"):
                path = os.path.join(directory, f"kernel_{forms}_{quantize}.tflite")
                # int8 input and output: no float conversion ops beside the layer's own kernel
                export.to_tflite(model, path, quantize=quantize, representative_images=images, xnnpack_forms=forms,
                                 int8_io=quantize == "int8")
                runners.append(export.LiteRTRunner(path, num_threads=1))
        for runner in runners:  # the input is set once: only invoke() is timed, the kernel's own time
            runner.invoke(images[0])
        timings = interleaved_latency_ms(runners, None, args.runs, call=lambda runner, _: runner.interpreter.invoke())
        for graph, (float32, int8) in (("as written", timings[:2]), ("XNNPACK forms", timings[2:])):
            print(f"| {label} | {graph} | {float32:.3f} | {int8:.3f} | {int8 / float32:.2f} |", flush=True)


def print_ops(name, paths, args):
    """The per-op-type tables of the float32 and int8 files (ops measured alone, 1 thread)."""
    for quantize, path in zip(args.quantizations, paths):
        if quantize in ("none", "int8"):
            report = litert_ops.op_report(path, num_threads=1, runs=args.op_runs)
            print(report.markdown(f"{name} {'float32' if quantize == 'none' else quantize}"), end="\n\n", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=first_line(__doc__))
    parser.add_argument("--models", nargs="+", default=["lenet5", "mobilenet_v2"])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--threads", type=int, nargs="+", default=[1],
                        help="interpreter threads; each file is timed at each count (e.g. --threads 1 2)")
    parser.add_argument("--calibration-samples", type=int, default=100,
                        help="real digits that calibrate int8 (and re-estimate BatchNorm statistics)")
    parser.add_argument("--ops", action="store_true",
                        help="also print where each float32 and int8 file spends its time, op by op")
    parser.add_argument("--op-runs", type=int, default=20, help="invokes per op median with --ops")
    parser.add_argument("--kernels", action="store_true",
                        help="only time single layers (1x1/3x3 convolutions, 3x3/5x5/7x7 depthwise) in float32 "
                        "and int8: the ratio the CPU's kernels allow")
    parser.add_argument("--xnnpack-forms", action=argparse.BooleanOptionalAction, default=True,
                        help="convert the forms XNNPACK runs fast (keras_archs.litert_forms); "
                        "--no-xnnpack-forms converts the layers as written, to compare")
    parser.add_argument("--quantize", nargs="+", choices=export.QUANTIZATIONS, default=list(export.QUANTIZATIONS),
                        help="quantizations to convert; float32 ('none') is always first, the baseline of the ratios")
    parser.add_argument("--train-epochs", type=int, default=0,
                        help="train each model on the real digits first and report held-out accuracy and agreement")
    parser.add_argument("--train-size", type=int, default=32, help="input side for --train-epochs")
    parser.add_argument("--train-batch-size", type=int, default=64)
    parser.add_argument("--train-learning-rate", type=float, default=1e-3)
    parser.add_argument("--precise-bn", action=argparse.BooleanOptionalAction, default=True,
                        help="re-estimate BatchNormalization statistics over the training digits before converting")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    names = [name for pattern in args.models for name in keras_archs.list_models(pattern)]
    if not names:
        parser.error(f"no registered model matches {args.models}")
    for option in ("runs", "train_size", "train_batch_size", "calibration_samples", "op_runs"):
        if getattr(args, option) < 1:
            parser.error(f"--{option.replace('_', '-')} must be a positive integer. Received: {getattr(args, option)}")
    if min(args.threads) < 1:
        parser.error(f"--threads must be positive integers. Received: {args.threads}")
    if args.train_epochs < 0:
        parser.error(f"--train-epochs must be >= 0. Received: {args.train_epochs}")
    args.quantizations = ["none"] + [q for q in export.QUANTIZATIONS if q in args.quantize and q != "none"]
    if args.train_epochs:
        with tempfile.TemporaryDirectory() as directory:
            print_trained_table(names, args, directory)
        return
    if args.kernels:
        print(f"CPU: {cpu_description()}")
        print()
        with tempfile.TemporaryDirectory() as directory:
            print_kernels(args, directory)
        return
    print(f"CPU: {cpu_description()}")
    print()
    thread_columns = "".join(f" latency ms ({threads} thread{'s' if threads > 1 else ''}) | / float32 |"
                             for threads in args.threads)
    print(f"| model | quantization | size (KB) | size / float32 |{thread_columns} "
          "top-1 agreement (32 images, untrained weights) | max abs diff |")
    print("|---|---|---|---|" + "---|---|" * len(args.threads) + "---|---|")
    with tempfile.TemporaryDirectory() as directory:
        for index, name in enumerate(names, 1):
            print(f"[{index}/{len(names)}] converting and timing {name}", file=sys.stderr, flush=True)
            try:
                rows, paths = benchmark(name, args, directory)
            except Exception as error:  # one model's failure is a finding of the sweep, not its end
                print(f"| {name} | failed: {type(error).__name__}: {str(error).splitlines()[0][:200]} |", flush=True)
                continue
            float_size, float_latencies = rows[0][1], rows[0][2]
            for quantize, size, latencies, agreement, max_diff in rows:
                timing = "".join(f" {latency:.3f} | {latency / baseline:.2f} |"
                                 for latency, baseline in zip(latencies, float_latencies))
                print(f"| {name} | {quantize} | {size / 1024:.0f} | {size / float_size:.2f} |{timing} "
                      f"{agreement:.2f} | {max_diff:.2e} |", flush=True)
            if args.ops:
                print()
                print_ops(name, paths, args)


if __name__ == "__main__":
    main()
