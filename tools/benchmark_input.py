"""Input-pipeline throughput: JPEG decode + Inception crop + flip, images/s per CPU core.

    python tools/benchmark_input.py --images 512 --threads 2
    python tools/benchmark_input.py --folder /data/imagenet/train --threads 16 --batches 200

Without --folder, synthetic JPEGs of ImageNet's typical size (500x375, quality 90) are
written to a temporary folder first. The pipeline is `keras_archs.data.load_dataset`
exactly as the recipes use it, with tf.data's private thread pool set to --threads.
"""

import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_archs import augment  # noqa: E402
from keras_archs.cli_types import first_line  # noqa: E402
from keras_archs.data import load_dataset  # noqa: E402

CROP_AND_FLIP = augment.Policy("inception_crop_flip", crop="inception", flip=True)


def write_jpegs(folder, count, width=500, height=375, classes=10):
    rng = np.random.default_rng(0)
    for index in range(count):
        class_folder = os.path.join(folder, f"class{index % classes:02d}")
        os.makedirs(class_folder, exist_ok=True)
        # Smooth random fields compress like photos, unlike white noise.
        small = rng.integers(0, 255, (height // 16 + 1, width // 16 + 1, 3)).astype("float32")
        image = tf.image.resize(small, (height, width), method="bicubic")
        image = tf.cast(tf.clip_by_value(image + rng.normal(0, 8, (height, width, 3)), 0, 255), tf.uint8)
        tf.io.write_file(os.path.join(class_folder, f"{index}.jpg"), tf.io.encode_jpeg(image, quality=90))


def main(argv=None):
    parser = argparse.ArgumentParser(description=first_line(__doc__))
    parser.add_argument("--folder", help="an image folder (one subfolder per class); default: synthetic JPEGs")
    parser.add_argument("--images", type=int, default=512, help="synthetic JPEGs to write")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--policy", default=None, help="a named policy instead of crop + flip")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as scratch:
        folder = args.folder
        if folder is None:
            folder = scratch
            print(f"writing {args.images} synthetic JPEGs", file=sys.stderr, flush=True)
            write_jpegs(folder, args.images)
        dataset = load_dataset(folder, "all", training=True, batch_size=args.batch_size, image_size=args.image_size,
                               policy=args.policy or CROP_AND_FLIP, repeat=True, seed=0)
        options = tf.data.Options()
        options.threading.private_threadpool_size = args.threads
        dataset = dataset.with_options(options)
        iterator = iter(dataset)
        for _ in range(5):
            next(iterator)
        print(f"timing {args.batches} batches of {args.batch_size}", file=sys.stderr, flush=True)
        start = time.perf_counter()
        for _ in range(args.batches):
            next(iterator)
        rate = args.batches * args.batch_size / (time.perf_counter() - start)
    print(f"{rate:.1f} images/s with {args.threads} threads = {rate / args.threads:.1f} images/s per core "
          f"(decode + {args.policy or 'inception crop + flip'}, {args.image_size}x{args.image_size})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
