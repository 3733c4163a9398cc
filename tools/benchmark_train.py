"""Training throughput (images/s) of a registered model, next to its keras.applications twin.

    python tools/benchmark_train.py --model resnet50 --batch-size 64 --precision mixed_bfloat16 --jit-compile true
    python tools/benchmark_train.py --model lenet5 --batch-size 256 --steps 50

Synthetic data already on the device, so this measures the model and the training step
(`keras_archs.training.Trainer`, the loop the recipes use), not the input pipeline
(see tools/benchmark_input.py). Both models run the same step; the ratio ours/twin should
be ~1.0 for twins, which have the same layers.
"""

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_archs  # noqa: E402
from keras_archs import training  # noqa: E402


def images_per_second(model, batch_size, steps, warmup, jit_compile, strategy):
    shape = tuple(model.input_shape[1:])
    classes = model.output_shape[-1] if not isinstance(model.output_shape, list) else model.output_shape[0][-1]
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (batch_size, *shape)).astype("float32")
    labels = rng.integers(0, classes, batch_size).astype("int32")
    data = tf.data.Dataset.from_tensors((images, labels)).repeat().prefetch(2)
    with strategy.scope():
        optimizer = keras.optimizers.SGD(0.01, momentum=0.9)
    trainer = training.Trainer(model, optimizer, keras.losses.CategoricalCrossentropy(), strategy=strategy,
                               jit_compile=jit_compile, steps_per_execution=1)
    trainer.fit(data, epochs=1, steps_per_epoch=warmup, verbose=0)
    start = time.perf_counter()
    trainer.fit(data, epochs=1, steps_per_epoch=steps, verbose=0)
    # fit returns after the last step's metrics are read, so the work is done.
    return steps * batch_size / (time.perf_counter() - start)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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
    args = parser.parse_args(argv)

    jit_compile = training.resolve_jit_compile({"auto": "auto", "true": True, "false": False}[args.jit_compile])
    policy = training.set_precision(args.precision)
    strategy = training.select_strategy(args.strategy)
    info = keras_archs.model_info(args.model)
    size = args.image_size or info.input_spec.default_size
    shape = (size, size, info.input_spec.channels)
    print(f"model={args.model} input={shape} batch={args.batch_size} precision={policy} jit_compile={jit_compile} "
          f"replicas={strategy.num_replicas_in_sync} devices={[d.name for d in tf.config.list_logical_devices()]}")
    with strategy.scope():
        ours = info.build(classes=args.classes, input_shape=shape)
    ours_rate = images_per_second(ours, args.batch_size, args.steps, args.warmup, jit_compile, strategy)
    print(f"keras_archs.{info.constructor_call}: {ours_rate:.1f} images/s")
    if info.twin and not args.no_twin:
        keras.backend.clear_session()
        with strategy.scope():
            twin = getattr(keras.applications, info.twin)(weights=None, classes=args.classes, input_shape=shape)
        twin_rate = images_per_second(twin, args.batch_size, args.steps, args.warmup, jit_compile, strategy)
        print(f"keras.applications.{info.twin}: {twin_rate:.1f} images/s")
        print(f"ratio ours/twin: {ours_rate / twin_rate:.3f}")
    else:
        print("no keras.applications twin" if not info.twin else "twin skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
