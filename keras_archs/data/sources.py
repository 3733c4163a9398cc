"""Where examples come from: each reader yields unbatched (image, label) and a `DatasetInfo`.

Images are either decoded uint8/float tensors (digits, TFDS) or encoded strings (image
folders, TFRecords), decoded later in parallel. Each reader shards at its source when given
a `tf.distribute.InputContext`, so every input pipeline reads only its own files/examples.
"""

import dataclasses
import difflib
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
# Skipped files named in the warning (the count covers all).
SKIPPED_NAMED = 5


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

    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError:
        # TFDS's own message lists every registered data set: several KB for one wrong name.
        close = difflib.get_close_matches(name.split(":")[0], tfds.list_builders(), n=3, cutoff=0.75)
        hint = f" Did you mean {', '.join(repr(match) for match in close)}?" if close else ""
        raise ValueError(f"The data is neither 'digits', an image folder, TFRecord files nor a TFDS data set "
                         f"(tfds.list_builders()).{hint} Received: data={name!r}") from None
    if download:
        config = tfds.download.DownloadConfig(manual_dir=manual_dir) if manual_dir else None
        builder.download_and_prepare(download_config=config)
    features = builder.info.features
    image_keys = [key for key, feature in features.items() if isinstance(feature, tfds.features.Image)]
    if "label" not in features or not image_keys:
        raise ValueError(f"Not an image-classification data set (needs 'image' and 'label' features). Received: name={name!r}")
    image_shape = features[image_keys[0]].shape
    read_config = tfds.ReadConfig(shuffle_seed=seed, input_context=input_context, interleave_cycle_length=tf.data.AUTOTUNE)
    try:
        dataset = builder.as_dataset(split=split, as_supervised=True, shuffle_files=shuffle_files, read_config=read_config)
    except AssertionError:
        # TFDS asserts that the data was prepared; say which flags prepare it.
        raise ValueError(f"The TFDS data set {name!r} is not prepared in {builder.data_dir}: pass download=True "
                         f"(--download) once, or data_dir (--data-dir) where it is. Received: data={name!r}") from None
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


# JPEG start-of-frame markers (baseline, progressive, lossless, arithmetic); C4, C8 and CC
# share the range but are tables.
JPEG_FRAME_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
JPEG_START_OF_SCAN = 0xDA
# Header segments read before giving up: real headers have a handful (APPn, DQT, DHT, SOF).
JPEG_MAX_SEGMENTS = 64
# Bytes at the end searched for the JPEG end marker: room for the padding some writers add
# after it (a longer trailer makes a valid file count as truncated, and it is named).
JPEG_END_WINDOW = 4096
PNG_IHDR = b"\x00\x00\x00\x0dIHDR"
PNG_END = b"IEND\xaeB`\x82"


def _jpeg_problem(handle, size):
    # Walks the marker segments from SOI to the start of scan: a frame header must come first
    # and every segment must fit in the file. Reads a few small headers, not the image data.
    position, frame = 2, False
    for _ in range(JPEG_MAX_SEGMENTS):
        handle.seek(position)
        segment = handle.read(4)
        if len(segment) < 4 or segment[0] != 0xFF:
            return "broken JPEG header"
        marker = segment[1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        length = int.from_bytes(segment[2:4], "big")
        if length < 2 or position + 2 + length > size:
            return "broken or truncated JPEG header"
        if marker in JPEG_FRAME_MARKERS:
            frame = True
        elif marker == JPEG_START_OF_SCAN:
            if not frame:
                return "JPEG without a frame header"
            # TensorFlow refuses a JPEG without its end marker; entropy-coded data never holds
            # FF D9, so one in the last bytes after the scan starts marks a complete file.
            handle.seek(max(position + 2 + length, size - JPEG_END_WINDOW))
            return None if b"\xff\xd9" in handle.read() else "truncated JPEG (no end marker)"
        position += 2 + length
    return "broken JPEG header"


def _image_problem(path):
    """Why `path` is not a readable image, or None. Reads headers and the end, never decodes.

    Checks the signature, then per format: the JPEG marker segments up to the start of scan
    and the end marker, PNG's IHDR and IEND chunks, GIF's screen descriptor, the BMP file size. Cheap enough for
    ImageNet-sized folders (a few small reads a file); a file whose image data alone is
    corrupt passes, fails to decode in the pipeline and is dropped there.
    """
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as handle:
            head = handle.read(32)
            if not any(head.startswith(signature) for signature in IMAGE_SIGNATURES):
                return "no image signature"
            if head.startswith(b"\xff\xd8\xff"):
                return _jpeg_problem(handle, size)
            handle.seek(max(0, size - 32))
            tail = handle.read()
    except OSError as error:
        return f"unreadable: {error.strerror or error}"
    if head.startswith(b"\x89PNG"):
        return None if head[8:16] == PNG_IHDR and PNG_END in tail else "broken or truncated PNG"
    if head.startswith(b"GIF"):
        return None if size > 13 else "truncated GIF"
    declared = int.from_bytes(head[2:6], "little")
    return None if 26 <= declared <= size and int.from_bytes(head[10:14], "little") < size else "broken or truncated BMP"


def list_image_folder(root):
    """(paths, labels, class_names, skipped): one subfolder per class, sorted by name.

    Files without an image extension or with a broken image header (`_image_problem`) are
    skipped; `skipped` holds (path, reason) pairs.
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
                if file_name.startswith("."):
                    continue
                path = os.path.join(folder, file_name)
                problem = _image_problem(path) if file_name.lower().endswith(IMAGE_EXTENSIONS) else "not an image file name"
                if problem is None:
                    paths.append(path)
                    labels.append(label)
                else:
                    skipped.append((path, problem))
    return paths, labels, tuple(class_names), skipped


def image_folder(root, split="train", validation_fraction=0.1, seed=0, input_context=None):
    """Images in `root/<class>/...` (JPEG, PNG, GIF, BMP).

    If `root/<split>` exists (`val` also stands for `validation`) that folder is read;
    otherwise `root` itself is split deterministically: `validation_fraction` of every
    class (a fixed permutation) is "validation"/"test", the rest "train" ("all" keeps all).
    Non-image files and images with a broken header are skipped, counted and named in a
    warning; an image whose data alone fails to decode is dropped by the pipeline.

    Raises:
        ValueError: no folder, no class subfolders, or no images in the split.
    """
    candidates = [split] + (["val"] if split == "validation" else [])
    for candidate in candidates:
        if os.path.isdir(os.path.join(root, candidate)):
            root, split = os.path.join(root, candidate), "all"
            break
    paths, labels, class_names, skipped = list_image_folder(root)
    if skipped:
        named = ", ".join(f"{path} ({problem})" for path, problem in skipped[:SKIPPED_NAMED])
        warnings.warn(
            f"Skipped {len(skipped)} file(s) that are not readable images in {root}: {named}"
            + (" ..." if len(skipped) > SKIPPED_NAMED else ""),
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
