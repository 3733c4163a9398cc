"""Where examples come from: each reader yields unbatched (image, label) and a `DatasetInfo`.

Images are either decoded uint8/float tensors (digits, TFDS) or encoded strings (image
folders, TFRecords), decoded later in parallel. Each reader shards at its source when given
a `tf.distribute.InputContext`, so every input pipeline reads only its own files/examples.
"""

import dataclasses
import glob
import os
import warnings
from typing import Optional, Tuple

import numpy as np
import tensorflow as tf

__all__ = ["DatasetInfo", "digits", "image_folder", "tfds_dataset", "tfrecords"]

DIGITS_SPLITS = ("train", "validation", "test")
# Held-out fractions of the 1,797 digits; the permutation seed fixes the split for good.
DIGITS_TEST_FRACTION = 0.2
DIGITS_VALIDATION_FRACTION = 0.1
DIGITS_SPLIT_SEED = 1998

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".bmp")
# File signatures of the formats tf.io.decode_image reads.
IMAGE_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM")


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What a pipeline needs to know about a source.

    Attributes:
        name: the source ("digits", a TFDS name, "folder:<path>", "tfrecord:<pattern>").
        num_classes: number of classes, or None where the source cannot tell.
        num_examples: examples in the split (before sharding), or None if unknown.
        channels: channels of the stored images.
        encoded: whether images are encoded strings (decoded in the pipeline).
        class_names: class names where known.
        small_images: the images frame their object already (digits, CIFAR, MNIST):
            evaluation resizes instead of centre-cropping.
    """

    name: str
    num_classes: Optional[int]
    num_examples: Optional[int]
    channels: int
    encoded: bool
    class_names: Tuple[str, ...] = ()
    small_images: bool = False


def _shard(dataset, input_context):
    if input_context is None or input_context.num_input_pipelines == 1:
        return dataset
    return dataset.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)


def digits_arrays(split):
    """The scikit-learn digits of one split as (images uint8 (N, 8, 8, 1) in [0, 255], labels)."""
    from sklearn.datasets import load_digits

    if split not in DIGITS_SPLITS:
        raise ValueError(f"digits splits are {DIGITS_SPLITS}. Received: split={split!r}")
    bunch = load_digits()
    order = np.random.default_rng(DIGITS_SPLIT_SEED).permutation(len(bunch.target))
    test_count = int(round(DIGITS_TEST_FRACTION * len(order)))
    validation_count = int(round(DIGITS_VALIDATION_FRACTION * len(order)))
    parts = {
        "test": order[:test_count],
        "validation": order[test_count : test_count + validation_count],
        "train": order[test_count + validation_count :],
    }
    chosen = np.sort(parts[split])
    # 0-16 ink levels on a 0 background: scaled to 0-255, dark background as MNIST stores it.
    images = np.round(bunch.images[chosen] * (255.0 / 16.0)).astype(np.uint8)[..., None]
    return images, bunch.target[chosen].astype(np.int32)


def digits(split="train", input_context=None):
    """scikit-learn's 1,797 real 8x8 handwritten digits (UCI), shipped inside the package.

    Deterministic held-out split: 20% test, 10% validation, 70% train.
    """
    images, labels = digits_arrays(split)
    info = DatasetInfo("digits", 10, len(labels), 1, encoded=False, class_names=tuple(map(str, range(10))), small_images=True)
    dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    return _shard(dataset, input_context), info


def tfds_dataset(name, split="train", data_dir=None, manual_dir=None, download=False, shuffle_files=False,
                 seed=None, input_context=None):
    """A TFDS image-classification data set (`cifar10`, `mnist`, `imagenette`, `imagenet2012`, ...).

    `imagenet2012` needs its tar files in `manual_dir` and `download=True` once to prepare.
    """
    import tensorflow_datasets as tfds

    builder = tfds.builder(name, data_dir=data_dir)
    if download:
        config = tfds.download.DownloadConfig(manual_dir=manual_dir) if manual_dir else None
        builder.download_and_prepare(download_config=config)
    features = builder.info.features
    image_keys = [key for key, feature in features.items() if isinstance(feature, tfds.features.Image)]
    if "label" not in features or not image_keys:
        raise ValueError(f"Not an image-classification data set (needs 'image' and 'label' features). Received: name={name!r}")
    image_shape = features[image_keys[0]].shape
    read_config = tfds.ReadConfig(shuffle_seed=seed, input_context=input_context, interleave_cycle_length=tf.data.AUTOTUNE)
    dataset = builder.as_dataset(split=split, as_supervised=True, shuffle_files=shuffle_files, read_config=read_config)
    try:
        num_examples = builder.info.splits[split].num_examples
    except (KeyError, ValueError, TypeError):
        num_examples = None
    if not num_examples:
        cardinality = int(dataset.cardinality())
        num_examples = cardinality if cardinality >= 0 else None
    label = features["label"]
    info = DatasetInfo(
        name,
        getattr(label, "num_classes", None),
        num_examples,
        image_shape[-1] or 3,
        encoded=False,
        class_names=tuple(getattr(label, "names", ()) or ()),
        small_images=bool(image_shape[0]) and image_shape[0] <= 64,
    )
    dataset = dataset.map(lambda image, target: (image, tf.cast(target, tf.int32)), num_parallel_calls=tf.data.AUTOTUNE)
    return dataset, info


def _looks_like_image(path):
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError:
        return False
    return any(head.startswith(signature) for signature in IMAGE_SIGNATURES)


def list_image_folder(root):
    """(paths, labels, class_names, skipped): one subfolder per class, sorted by name.

    Files without an image extension or an image signature are skipped and counted.
    """
    if not os.path.isdir(root):
        raise ValueError(f"Image folder not found. Received: path={root!r}")
    class_names = sorted(entry.name for entry in os.scandir(root) if entry.is_dir() and not entry.name.startswith("."))
    if not class_names:
        raise ValueError(f"An image folder needs one subfolder per class. Received: path={root!r}")
    paths, labels, skipped = [], [], []
    for label, class_name in enumerate(class_names):
        for folder, _, files in sorted(os.walk(os.path.join(root, class_name))):
            for file_name in sorted(files):
                path = os.path.join(folder, file_name)
                if file_name.lower().endswith(IMAGE_EXTENSIONS) and _looks_like_image(path):
                    paths.append(path)
                    labels.append(label)
                elif not file_name.startswith("."):
                    skipped.append(path)
    return paths, labels, tuple(class_names), skipped


def image_folder(root, split="train", validation_fraction=0.1, seed=0, input_context=None):
    """Images in `root/<class>/...` (JPEG, PNG, GIF, BMP).

    If `root/<split>` exists (`val` also stands for `validation`) that folder is read;
    otherwise `root` itself is split deterministically: `validation_fraction` of every
    class (a fixed permutation) is "validation"/"test", the rest "train" ("all" keeps all).
    Non-image files are skipped and counted in a warning; images that fail to decode are
    dropped by the pipeline.
    """
    candidates = [split] + (["val"] if split == "validation" else [])
    for candidate in candidates:
        if os.path.isdir(os.path.join(root, candidate)):
            root, split = os.path.join(root, candidate), "all"
            break
    paths, labels, class_names, skipped = list_image_folder(root)
    if skipped:
        warnings.warn(
            f"Skipped {len(skipped)} file(s) that are not images in {root}: {', '.join(skipped[:5])}"
            + (" ..." if len(skipped) > 5 else ""),
            stacklevel=3,
        )
    if split != "all":
        if split not in ("train", "validation", "test"):
            raise ValueError(f"split must be 'train', 'validation', 'test' or 'all'. Received: split={split!r}")
        rng = np.random.default_rng(seed)
        keep = np.zeros(len(paths), dtype=bool)
        labels_array = np.asarray(labels)
        for label in range(len(class_names)):
            members = rng.permutation(np.flatnonzero(labels_array == label))
            held_out = members[: int(round(validation_fraction * len(members)))]
            keep[held_out] = True
        if split == "train":
            keep = ~keep
        paths = [path for path, kept in zip(paths, keep) if kept]
        labels = [label for label, kept in zip(labels, keep) if kept]
    if not paths:
        raise ValueError(f"No images found for this split. Received: path={root!r}, split={split!r}")
    info = DatasetInfo(f"folder:{root}", len(class_names), len(paths), 3, encoded=True, class_names=class_names)
    dataset = tf.data.Dataset.from_tensor_slices((paths, np.asarray(labels, dtype=np.int32)))
    dataset = _shard(dataset, input_context)
    dataset = dataset.map(lambda path, label: (tf.io.read_file(path), label), num_parallel_calls=tf.data.AUTOTUNE)
    return dataset, info


TFRECORD_FEATURES = {
    "image/encoded": tf.io.FixedLenFeature([], tf.string),
    "image/class/label": tf.io.FixedLenFeature([], tf.int64),
}


def tfrecords(pattern, split="train", num_classes=1000, label_offset=0, shuffle_files=False, seed=None,
              input_context=None):
    """TFRecords in the common ImageNet layout (`image/encoded`, `image/class/label`).

    Args:
        pattern: a glob of files, or a folder holding `<split>-*` files (`validation-*`).
        num_classes: number of classes (the records do not say).
        label_offset: added to the stored label; -1 for files from `imagenet_to_gcs.py`,
            which numbers ImageNet classes 1-1000.
    """
    if os.path.isdir(pattern):
        pattern = os.path.join(pattern, f"{split}-*")
    files = sorted(glob.glob(pattern))
    if not files:
        raise ValueError(f"No TFRecord files match. Received: pattern={pattern!r}")
    file_dataset = tf.data.Dataset.from_tensor_slices(files)
    # Shard by file when there are enough files for every pipeline, else by record.
    by_file = input_context is not None and len(files) >= input_context.num_input_pipelines
    if by_file:
        file_dataset = _shard(file_dataset, input_context)
    if shuffle_files:
        file_dataset = file_dataset.shuffle(len(files), seed=seed)
    dataset = file_dataset.interleave(
        tf.data.TFRecordDataset, cycle_length=tf.data.AUTOTUNE, num_parallel_calls=tf.data.AUTOTUNE, deterministic=seed is not None
    )
    if not by_file:
        dataset = _shard(dataset, input_context)

    def parse(record):
        parsed = tf.io.parse_single_example(record, TFRECORD_FEATURES)
        return parsed["image/encoded"], tf.cast(parsed["image/class/label"], tf.int32) + label_offset

    info = DatasetInfo(f"tfrecord:{pattern}", num_classes, None, 3, encoded=True)
    return dataset.map(parse, num_parallel_calls=tf.data.AUTOTUNE), info
