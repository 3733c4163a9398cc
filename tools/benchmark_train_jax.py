"""Training throughput (images/s) on Keras's JAX backend, ours next to keras.applications (and torchvision).

    KERAS_BACKEND=jax python tools/benchmark_train_jax.py --model resnet50 --batch-size 256 \
        --precision float32 mixed_bfloat16 --torchvision

The same `keras_archs` constructors run on every Keras 3 backend; this script measures them
where TensorFlow is absent, e.g. a GPU machine that has JAX and PyTorch but no TensorFlow
(tools/benchmark_train.py measures the TensorFlow training loop of the recipes). JAX compiles
every step with XLA, so the figures are "with XLA". Each model trains with Keras `fit`
(SGD, momentum 0.9, sparse cross-entropy) on one synthetic batch that stays on the device, so
the figures measure the model and the optimizer step, not an input pipeline. The
keras.applications twin runs in the same process on the same batch; the ratio ours/twin
should be ~1.0 because twins have the same layers. With `--torchvision`, torchvision's model
of the same name trains with autocast to the same precision and channels-last memory, as an
outside peer (eager PyTorch; not compiled).

Before timing, the script copies the twin's weights into ours and prints the largest output
difference, so a reader sees the two networks are the same function on this backend too.
"""

import argparse
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_archs  # noqa: E402
from keras_archs.cli_types import first_line  # noqa: E402

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


def synthetic_batch(batch_size, side, classes, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.uniform(-1, 1, (batch_size, side, side, 3)).astype("float32")
    labels = rng.integers(0, classes, batch_size).astype("int32")
    return images, labels


def on_device(batch):
    """The batch as backend arrays, placed once so every step reuses it without a host copy."""
    return tuple(keras.ops.convert_to_tensor(array) for array in batch)


def repeat_forever(batch):
    while True:
        yield batch


def keras_images_per_second(model, batch, steps, warmup):
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=True)
    data = repeat_forever(on_device(batch))
    model.fit(data, epochs=1, steps_per_epoch=warmup, verbose=0)
    start = time.perf_counter()
    # fit returns once the epoch's loss has been read back, so every step has finished.
    model.fit(data, epochs=1, steps_per_epoch=steps, verbose=0)
    return steps * len(batch[0]) / (time.perf_counter() - start)


def torchvision_images_per_second(name, batch, classes, precision, steps, warmup):
    import torch
    import torchvision

    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = getattr(torchvision.models, name)(num_classes=classes).to(device)
    model = model.to(memory_format=torch.channels_last).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    images = torch.from_numpy(batch[0]).permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
    images, labels = images.to(device), torch.from_numpy(batch[1]).long().to(device)
    autocast_dtype = {"mixed_float16": torch.float16, "mixed_bfloat16": torch.bfloat16}.get(precision)
    scaler = torch.amp.GradScaler(device, enabled=precision == "mixed_float16")

    def step():
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device, dtype=autocast_dtype or torch.float32, enabled=autocast_dtype is not None):
            outputs = model(images)
            # Inception v3 and GoogLeNet return their auxiliary logits too while training.
            logits = outputs[0] if isinstance(outputs, tuple) else outputs
            loss = torch.nn.functional.cross_entropy(logits, labels)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

    for _ in range(warmup):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    return steps * len(batch[0]) / (time.perf_counter() - start)


def twin_output_difference(ours, twin, batch):
    ours.set_weights(twin.get_weights())
    images = batch[0][:8]
    return float(np.max(np.abs(ours.predict(images, verbose=0) - twin.predict(images, verbose=0))))


def parse_args(argv):
    parser = argparse.ArgumentParser(description=first_line(__doc__))
    parser.add_argument("--model", default="resnet50", help="a registered name with a keras.applications twin")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--image-size", type=int, help="default: the model's default input size")
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--precision", nargs="+", default=["float32", "mixed_bfloat16"], choices=PRECISIONS)
    parser.add_argument("--torchvision", action="store_true", help="also time torchvision's model of this name")
    args = parser.parse_args(argv)
    for option in ("batch_size", "classes", "steps", "warmup"):
        if getattr(args, option) < 1:
            parser.error(f"--{option.replace('_', '-')} must be a positive integer. Received: {getattr(args, option)}")
    info = keras_archs.model_info(args.model)  # a clear ValueError for an unknown name
    if not info.twin:
        parser.error(f"--model needs a keras.applications twin. Received: {args.model!r}")
    args.twin = info.twin
    args.image_size = args.image_size or info.input_spec.default_size
    return args


def main(argv=None):
    args = parse_args(argv)
    print(f"backend {keras.backend.backend()}, devices {describe_devices()}")
    batch = synthetic_batch(args.batch_size, args.image_size, args.classes)
    shape = (args.image_size, args.image_size, 3)
    header = f"{'precision':<15} {'ours img/s':>11} {'twin img/s':>11} {'ours/twin':>9}"
    rows = []
    for precision in args.precision:
        keras.mixed_precision.set_dtype_policy(precision)
        keras.utils.set_random_seed(0)
        build = dict(weights=None, input_shape=shape, classes=args.classes, classifier_activation=None)
        twin = getattr(keras.applications, args.twin)(**build)
        ours = keras_archs.get_model(args.model, **build)
        difference = twin_output_difference(ours, twin, batch)
        twin_rate = keras_images_per_second(twin, batch, args.steps, args.warmup)
        ours_rate = keras_images_per_second(ours, batch, args.steps, args.warmup)
        row = f"{precision:<15} {ours_rate:>11.1f} {twin_rate:>11.1f} {ours_rate / twin_rate:>9.3f}"
        if args.torchvision:
            torch_rate = torchvision_images_per_second(args.model, batch, args.classes, precision,
                                                       args.steps, args.warmup)
            row += f" {torch_rate:>16.1f} {ours_rate / torch_rate:>13.3f}"
        rows.append(f"{row}   (same weights, max |ours - twin| = {difference:.2e})")
        del ours, twin
        keras.backend.clear_session()
    if args.torchvision:
        header += f" {'torchvision img/s':>16} {'ours/torchvis.':>13}"
    print(f"{args.model} vs keras.applications.{args.twin}, batch {args.batch_size}, {args.image_size}px, "
          f"{args.steps} timed steps after {args.warmup}")
    print(header)
    print("\n".join(rows))
    return 0


def describe_devices():
    if keras.backend.backend() == "jax":
        import jax

        return ", ".join(sorted({device.device_kind for device in jax.devices()}))
    return "see the backend"


if __name__ == "__main__":
    sys.exit(main())
