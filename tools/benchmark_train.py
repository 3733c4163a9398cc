"""Training throughput (images/s) of a registered model, next to its keras.applications twin.

    python tools/benchmark_train.py --model resnet50 --batch-size 64 --precision mixed_bfloat16 --jit-compile true
    python tools/benchmark_train.py --model lenet5 --batch-size 256 --steps 50
    python tools/benchmark_train.py --model resnet50 --option variant=v1.5 --garden --steps 10

Synthetic data already on the device, so this measures the model and the training step
(`keras_archs.training.Trainer`, the loop the recipes use), not the input pipeline
(see tools/benchmark_input.py). Both models run the same step; the ratio ours/twin should
be ~1.0 for twins, which have the same layers.

`--garden` (needs the `garden` extra, tf-models-official) adds TF Model Garden's ResNet-50
(`official.vision` ResNet(model_id=50) backbone + ClassificationModel 1000-way head), a
tf_keras (Keras 2) model trained with its own compile/fit on the same batch, optimizer and
precision. It is ResNet-50 v1.5 without conv biases: `--model resnet50 --option variant=v1.5`
is the same architecture (25,557,032 trainable parameters both).
"""

import argparse
import ast
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_archs  # noqa: E402
from keras_archs.cli_types import first_line  # noqa: E402
from keras_archs import training  # noqa: E402


def synthetic_batch(batch_size, shape, classes):
    """One fixed batch of images in [-1, 1] and integer labels, the same for every model."""
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (batch_size, *shape)).astype("float32")
    labels = rng.integers(0, classes, batch_size).astype("int32")
    return images, labels


def _repeated(images, labels):
    return tf.data.Dataset.from_tensors((images, labels)).repeat().prefetch(2)


def _timed(fit, batch_size, steps, warmup):
    fit(warmup)
    start = time.perf_counter()
    fit(steps)
    # fit returns after the last step's metrics are read, so the work is done.
    return steps * batch_size / (time.perf_counter() - start)


def images_per_second(model, batch_size, steps, warmup, jit_compile, strategy):
    shape = tuple(model.input_shape[1:])
    classes = model.output_shape[-1] if not isinstance(model.output_shape, list) else model.output_shape[0][-1]
    data = _repeated(*synthetic_batch(batch_size, shape, classes))
    with strategy.scope():
        optimizer = keras.optimizers.SGD(0.01, momentum=0.9)
    trainer = training.Trainer(model, optimizer, keras.losses.CategoricalCrossentropy(), strategy=strategy,
                               jit_compile=jit_compile, steps_per_execution=1)
    return _timed(lambda count: trainer.fit(data, epochs=1, steps_per_epoch=count, verbose=0), batch_size, steps, warmup)


def _garden_modules():
    try:
        import tf_keras
        from official.vision.modeling import classification_model
        from official.vision.modeling.backbones import resnet
    except ImportError as error:
        raise SystemExit(f"--garden needs TF Model Garden: pip install \"keras-archs[garden]\" ({error})")
    return tf_keras, classification_model, resnet


def garden_resnet50(shape, classes, precision):
    """TF Model Garden's ResNet-50 classifier (a tf_keras model, logits out)."""
    tf_keras, classification_model, resnet = _garden_modules()
    # tf_keras keeps its own global dtype policy, separate from Keras 3's.
    tf_keras.mixed_precision.set_global_policy(precision)
    input_specs = tf_keras.layers.InputSpec(shape=[None, *shape])
    backbone = resnet.ResNet(model_id=50, input_specs=input_specs)
    return classification_model.ClassificationModel(backbone=backbone, num_classes=classes, input_specs=input_specs)


def garden_images_per_second(shape, classes, precision, batch_size, steps, warmup, jit_compile, strategy):
    """Builds Model Garden's ResNet-50 under `strategy`; returns (images/s, trainable params)."""
    tf_keras = _garden_modules()[0]
    images, labels = synthetic_batch(batch_size, shape, classes)
    data = _repeated(images, tf.one_hot(labels, classes))
    with strategy.scope():
        model = garden_resnet50(shape, classes, precision)
        model.compile(
            optimizer=tf_keras.optimizers.SGD(0.01, momentum=0.9),
            loss=tf_keras.losses.CategoricalCrossentropy(from_logits=True),
            jit_compile=jit_compile,
            steps_per_execution=1,
        )
    rate = _timed(lambda count: model.fit(data, epochs=1, steps_per_epoch=count, verbose=0), batch_size, steps, warmup)
    return rate, _trainable(model)


def _option(text):
    """KEY=VALUE, the value a Python literal when it parses as one (variant=v1.5, alpha=0.5)."""
    key, separator, value = text.partition("=")
    if not separator or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE. Received: {text!r}")
    try:
        value = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        pass
    return key, value


def _trainable(model):
    return sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)


def main(argv=None):
    parser = argparse.ArgumentParser(description=first_line(__doc__))
    parser.add_argument("--model", default="resnet50")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--image-size", type=int)
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--precision", default="float32", choices=training.PRECISIONS)
    parser.add_argument("--jit-compile", default="false", choices=("auto", "true", "false"))
    parser.add_argument("--strategy", default="auto", choices=training.STRATEGIES)
    parser.add_argument("--no-twin", action="store_true", help="skip the keras.applications model")
    parser.add_argument("--option", type=_option, action="append", default=[], metavar="KEY=VALUE",
                        help="family option of our model, e.g. variant=v1.5 (repeatable)")
    parser.add_argument("--garden", action="store_true",
                        help="also TF Model Garden's ResNet-50 (needs the garden extra)")
    args = parser.parse_args(argv)
    if args.garden:
        _garden_modules()  # fail before minutes of our own benchmark, not after

    jit_compile = training.resolve_jit_compile({"auto": "auto", "true": True, "false": False}[args.jit_compile])
    policy = training.set_precision(args.precision)
    strategy = training.select_strategy(args.strategy)
    info = keras_archs.model_info(args.model)
    size = args.image_size or info.input_spec.default_size
    shape = (size, size, info.input_spec.channels)
    print(f"model={args.model} input={shape} batch={args.batch_size} precision={policy} jit_compile={jit_compile} "
          f"replicas={strategy.num_replicas_in_sync} devices={[d.name for d in tf.config.list_logical_devices()]}")
    options = dict(args.option)
    with strategy.scope():
        ours = info.build(classes=args.classes, input_shape=shape, **options)
    ours_params = _trainable(ours)
    print(f"timing {args.model}: {args.warmup} warmup + {args.steps} steps", file=sys.stderr, flush=True)
    ours_rate = images_per_second(ours, args.batch_size, args.steps, args.warmup, jit_compile, strategy)
    label = " ".join([f"keras_archs.{info.constructor_call}", *(f"{key}={value!r}" for key, value in options.items())])
    print(f"{label}: {ours_rate:.1f} images/s ({ours_params:,} trainable)")
    if info.twin and not args.no_twin:
        keras.backend.clear_session()
        with strategy.scope():
            twin = getattr(keras.applications, info.twin)(weights=None, classes=args.classes, input_shape=shape)
        print(f"timing keras.applications.{info.twin}: {args.warmup} warmup + {args.steps} steps", file=sys.stderr,
              flush=True)
        twin_rate = images_per_second(twin, args.batch_size, args.steps, args.warmup, jit_compile, strategy)
        print(f"keras.applications.{info.twin}: {twin_rate:.1f} images/s")
        print(f"ratio ours/twin: {ours_rate / twin_rate:.3f}")
    else:
        print("no keras.applications twin" if not info.twin else "twin skipped")
    if args.garden:
        keras.backend.clear_session()
        print(f"timing TF Model Garden ResNet-50: {args.warmup} warmup + {args.steps} steps", file=sys.stderr, flush=True)
        garden_rate, garden_params = garden_images_per_second(
            shape, args.classes, policy, args.batch_size, args.steps, args.warmup, jit_compile, strategy)
        print(f"TF Model Garden ResNet-50 (tf_keras): {garden_rate:.1f} images/s ({garden_params:,} trainable)")
        print(f"ratio ours/garden: {ours_rate / garden_rate:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
