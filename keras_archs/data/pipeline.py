"""`load_dataset`: one call from a source name to a batched, prefetched `tf.data.Dataset`."""

import os
from typing import Optional

import tensorflow as tf

from keras_archs import augment
from keras_archs.data import sources
from keras_archs.preprocessing import preprocess_input

__all__ = ["load_dataset", "resolve_source"]

AUTOTUNE = tf.data.AUTOTUNE
DEFAULT_SHUFFLE_BUFFER = 10_000
# Folded into the seed stream for batch augmentation, so it does not repeat the crop seeds.
BATCH_STREAM = 1


def resolve_source(source):
    """("digits"|"tfds"|"folder"|"tfrecord", location) for a source string.

    `"digits"`; `"folder:<path>"` or an existing directory with one subfolder per class;
    `"tfrecord:<glob or dir>"`, a `*.tfrecord*` glob, or a directory of `train-*` files;
    anything else is a TFDS name (`"cifar10"`, `"imagenet2012:5.1.0"`).
    """
    if not isinstance(source, str) or not source:
        raise ValueError(f"source must be a non-empty string. Received: source={source!r}")
    if source == "digits":
        return "digits", None
    for kind in ("folder", "tfrecord"):
        if source.startswith(kind + ":"):
            return kind, source[len(kind) + 1 :]
    if os.path.isdir(source):
        names = os.listdir(source)
        if any(name.startswith(("train-", "validation-")) for name in names):
            return "tfrecord", source
        return "folder", source
    if "tfrecord" in source or any(char in source for char in "*?["):
        return "tfrecord", source
    if os.sep in source:
        raise ValueError(f"No such folder or TFRecord files. Received: source={source!r}")
    return "tfds", source


def _read(source, split, *, data_dir, manual_dir, download, shuffle_files, seed, num_classes, label_offset,
          validation_fraction, input_context):
    kind, location = resolve_source(source)
    if kind == "digits":
        return sources.digits(split, input_context=input_context)
    if kind == "folder":
        return sources.image_folder(location, split, validation_fraction=validation_fraction, seed=seed or 0,
                                    input_context=input_context)
    if kind == "tfrecord":
        return sources.tfrecords(location, split, num_classes=num_classes or 1000, label_offset=label_offset,
                                 shuffle_files=shuffle_files, seed=seed, input_context=input_context)
    return sources.tfds_dataset(location, split, data_dir=data_dir, manual_dir=manual_dir, download=download,
                                shuffle_files=shuffle_files, seed=seed, input_context=input_context)


def _seed_stream(seed):
    """Shape-[2] int64 seeds, one per element: fixed by `seed`, new each epoch (iteration)."""
    return tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2, drop_remainder=True)


def _match_channels(image, channels):
    have = image.shape[-1]
    if have == channels:
        return image
    if have == 1 and channels == 3:
        return tf.image.grayscale_to_rgb(image)
    if have == 3 and channels == 1:
        return tf.image.rgb_to_grayscale(image)
    raise ValueError(f"Cannot convert {have}-channel images to channels={channels}.")


def load_dataset(
    source,
    split="train",
    *,
    batch_size=32,
    image_size=224,
    channels=3,
    training: Optional[bool] = None,
    policy="none",
    mixup_alpha=0.0,
    cutmix_alpha=0.0,
    one_hot=False,
    preprocessing: Optional[str] = None,
    shuffle: Optional[bool] = None,
    shuffle_buffer=DEFAULT_SHUFFLE_BUFFER,
    cache="auto",
    repeat=False,
    drop_remainder: Optional[bool] = None,
    deterministic=False,
    seed: Optional[int] = None,
    eval_crop_fraction: Optional[float] = augment.CENTER_CROP_FRACTION,
    data_dir=None,
    manual_dir=None,
    download=False,
    num_classes: Optional[int] = None,
    label_offset=0,
    validation_fraction=0.1,
    input_context: Optional[tf.distribute.InputContext] = None,
    return_info=False,
):
    """Batched, prefetched (image, label) pairs from digits, TFDS, an image folder or TFRecords.

    Order of work: read (sharded at the source when `input_context` is given) -> cache ->
    shuffle -> repeat -> parallel decode + crop (training: the policy's crop; evaluation:
    resize, or centre crop for photos) -> channel match -> batch -> the policy's batch
    layers (Keras preprocessing layers) -> MixUp/CutMix -> `preprocess_input` -> prefetch.

    Args:
        source: "digits", a TFDS name, an image folder, or TFRecords (see `resolve_source`).
        split: "train", "validation", "test" (TFDS split strings pass through).
        batch_size: the global batch; with `input_context`, each pipeline batches its
            per-replica share.
        image_size: output side (int) or (height, width).
        channels: output channels (grayscale sources are tiled to 3, RGB averaged to 1).
        training: random crop/augment, shuffle and drop the last partial batch; defaults
            to `split == "train"`.
        policy: augmentation policy name or `keras_archs.augment.Policy` (training only).
        mixup_alpha, cutmix_alpha: batch-level MixUp/CutMix (implies one-hot labels).
        one_hot: one-hot float labels instead of int32 class indices.
        preprocessing: a registry preprocessing mode ("caffe", "tf", "torch", "lenet",
            "unit") applied last; None leaves pixels in [0, 255].
        shuffle: defaults to `training`.
        shuffle_buffer: examples in the shuffle buffer (capped by the split size).
        cache: "auto" caches decoded small data sets (digits, small TFDS images) in memory;
            True caches whatever the source yields; False never; a path caches to files.
        repeat: repeat forever (training loops with a fixed `steps_per_epoch`).
        drop_remainder: defaults to `training`, so every step has the full global batch.
        deterministic: fixed element order and seeded randomness (seed defaults to 0): the
            same batches on any machine and thread count. Every crop and every batch
            augmentation draws from its own stateless seed (`augment.call_seeded`), so the
            parallel stages stay parallel (AutoAugment's Model Garden ops are not seeded).
        seed: seed of shuffling and augmentation; None takes them from the global seed
            (`keras.utils.set_random_seed`).
        eval_crop_fraction: evaluation centre crop for photos (None: plain resize).
        data_dir, manual_dir, download: TFDS options (`imagenet2012` needs `manual_dir`).
        num_classes: classes of TFRecords (they do not record it); default 1000.
        label_offset: added to TFRecord labels (-1 for 1-based ImageNet records).
        validation_fraction: held-out share of an image folder without split subfolders.
        input_context: from `strategy.distribute_datasets_from_function`.
        return_info: also return the `keras_archs.data.DatasetInfo`.

    Returns:
        A `tf.data.Dataset`, or (dataset, info) with `return_info=True`.

    Raises:
        ValueError: for bad arguments, and for a training split with fewer than 2 classes.
    """
    training = split == "train" if training is None else bool(training)
    shuffle = training if shuffle is None else bool(shuffle)
    drop_remainder = training if drop_remainder is None else bool(drop_remainder)
    if deterministic and seed is None:
        seed = 0
    policy = augment.get_policy(policy if training else "none")
    mixer = augment.mix_layer(mixup_alpha, cutmix_alpha, seed=seed) if training else None
    one_hot = one_hot or mixer is not None
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer. Received: batch_size={batch_size!r}")
    if input_context is not None:
        batch_size = input_context.get_per_replica_batch_size(batch_size)

    dataset, info = _read(
        source, split, data_dir=data_dir, manual_dir=manual_dir, download=download, shuffle_files=shuffle,
        seed=seed, num_classes=num_classes, label_offset=label_offset, validation_fraction=validation_fraction,
        input_context=input_context,
    )
    classes = num_classes or info.num_classes
    if training and classes is not None and classes < 2:
        raise ValueError(f"A training data set needs at least 2 classes; {info.name} has {classes}. "
                         f"Received: source={source!r}, split={split!r}")
    if one_hot and not classes:
        raise ValueError(f"One-hot labels need num_classes; the source does not say. Received: source={source!r}")

    if cache == "auto":
        cache = not info.encoded and (info.name == "digits" or info.small_images)
    if cache:
        dataset = dataset.cache(cache if isinstance(cache, str) else "")
    if shuffle:
        buffer = min(shuffle_buffer, info.num_examples) if info.num_examples else shuffle_buffer
        dataset = dataset.shuffle(max(1, buffer), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        dataset = dataset.repeat()

    crop_fraction = None if info.small_images else eval_crop_fraction
    read_channels = info.channels
    height, width = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)

    def prepare(image, label, element_seed=None):
        if training:
            image = policy.crop_image(image, image_size, channels=read_channels, seed=element_seed,
                                      eval_crop_fraction=crop_fraction)
        else:
            image = augment.center_crop(image, image_size, channels=read_channels, crop_fraction=crop_fraction)
        image = tf.cast(image, tf.float32)
        image.set_shape([height, width, read_channels])
        return _match_channels(image, channels), label

    if training:
        # Every element carries its own stateless seed, drawn before the parallel map: no two
        # calls share a random state, so seeded crops are the same on any machine and thread
        # count. The stream is seeded by `seed` (or the global seed) and differs each epoch.
        element_seeds = _seed_stream(seed)
        dataset = tf.data.Dataset.zip(dataset, element_seeds).map(
            lambda pair, element_seed: prepare(*pair, element_seed=element_seed),
            num_parallel_calls=AUTOTUNE, deterministic=deterministic or None,
        )
    else:
        dataset = dataset.map(prepare, num_parallel_calls=AUTOTUNE, deterministic=deterministic or None)
    if info.encoded:
        # Image folders skip (and name) files whose headers are broken while listing; a file
        # whose body alone is corrupt fails here, is dropped, and TensorFlow logs the error.
        dataset = dataset.ignore_errors(log_warning=True)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder, num_parallel_calls=AUTOTUNE,
                            deterministic=deterministic or None)

    layers = policy.batch_layers(channels=channels, seed=seed) if training else []

    def augment_batch(images, labels, batch_seed=None):
        # Keras random layers keep their draws in a SeedGenerator variable that parallel calls
        # would race for; `call_seeded` makes each layer draw from this batch's seed instead.
        for index, layer in enumerate(layers):
            images = augment.call_seeded(layer, images, tf.random.experimental.stateless_fold_in(batch_seed, index))
        if one_hot:
            labels = tf.one_hot(labels, classes)
        if mixer is not None:
            mixed = augment.call_seeded(mixer, {"images": images, "labels": labels},
                                        tf.random.experimental.stateless_fold_in(batch_seed, len(layers)))
            images, labels = mixed["images"], mixed["labels"]
        if preprocessing is not None:
            images = preprocess_input(images, preprocessing)
        return images, labels

    if layers or mixer is not None:
        # A second stream, so a batch's draws are not those of the crop of its first element.
        batch_seeds = _seed_stream(seed).map(lambda pair: tf.random.experimental.stateless_fold_in(pair, BATCH_STREAM))
        dataset = tf.data.Dataset.zip(dataset, batch_seeds).map(
            lambda batch, batch_seed: augment_batch(*batch, batch_seed=batch_seed),
            num_parallel_calls=AUTOTUNE, deterministic=deterministic or None,
        )
    elif one_hot or preprocessing is not None:
        dataset = dataset.map(augment_batch, num_parallel_calls=AUTOTUNE, deterministic=deterministic or None)
    dataset = dataset.prefetch(AUTOTUNE)

    options = tf.data.Options()
    # Evaluation keeps file order (cheap, and predictions line up with labels); training
    # lets parallel stages reorder unless asked to be deterministic.
    options.deterministic = bool(deterministic) or not training
    # Sharded at the source for distribute_datasets_from_function: no second sharding.
    # Otherwise DATA: correct for any number of files, unlike FILE.
    options.experimental_distribute.auto_shard_policy = (
        tf.data.experimental.AutoShardPolicy.OFF if input_context is not None else tf.data.experimental.AutoShardPolicy.DATA
    )
    dataset = dataset.with_options(options)
    return (dataset, info) if return_info else dataset
