"""Input pipelines: digits, TFDS (mocked), image folders with bad files, TFRecords, sharding."""

import os
import warnings

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from keras_archs.data import digits_arrays, load_dataset, resolve_source


def _collect(dataset):
    images, labels = [], []
    for batch_images, batch_labels in dataset:
        images.append(batch_images.numpy())
        labels.append(batch_labels.numpy())
    return np.concatenate(images), np.concatenate(labels)


def test_digits_split_is_held_out_and_fixed():
    from sklearn.datasets import load_digits

    sizes = {split: len(digits_arrays(split)[1]) for split in ("train", "validation", "test")}
    assert sizes == {"train": 1258, "validation": 180, "test": 359}
    bunch = load_digits()
    # Every digit lands in exactly one split: the splits' images, as a multiset, are the data set.
    def keys(images):
        return sorted(image.tobytes() for image in images)
    everything = keys(np.round(bunch.images * 255.0 / 16.0).astype(np.uint8)[..., None])
    assert keys(np.concatenate([digits_arrays(split)[0] for split in sizes])) == everything
    first, again = digits_arrays("test"), digits_arrays("test")
    np.testing.assert_array_equal(first[0], again[0])


def test_digits_pipeline_shapes_scaling_and_order():
    dataset = load_dataset("digits", "test", batch_size=100, image_size=32, channels=1, preprocessing="lenet")
    images, labels = _collect(dataset)
    assert images.shape == (359, 32, 32, 1) and images.dtype == np.float32
    # LeNet scaling (LeCun 1998): background -0.1, full ink 1.175.
    assert images.min() == pytest.approx(-0.1) and images.max() == pytest.approx(1.175, abs=1e-3)
    np.testing.assert_array_equal(labels, digits_arrays("test")[1])  # evaluation keeps the order
    rgb = next(iter(load_dataset("digits", "train", batch_size=8, image_size=40, channels=3)))[0]
    assert rgb.shape == (8, 40, 40, 3)
    np.testing.assert_array_equal(rgb[..., 0], rgb[..., 2])


def test_training_pipeline_drops_remainder_and_is_deterministic_when_asked():
    def first_batch():
        dataset = load_dataset("digits", "train", batch_size=64, image_size=32, channels=3, policy="inception",
                               deterministic=True, seed=3)
        return next(iter(dataset))

    (images_a, labels_a), (images_b, labels_b) = first_batch(), first_batch()
    np.testing.assert_array_equal(labels_a, labels_b)
    np.testing.assert_allclose(images_a, images_b)
    dataset = load_dataset("digits", "train", batch_size=64, image_size=32, channels=1)
    assert int(dataset.cardinality()) == 1258 // 64
    assert dataset.options().experimental_distribute.auto_shard_policy == tf.data.experimental.AutoShardPolicy.DATA


def test_input_context_shards_disjointly_with_per_replica_batches():
    seen = []
    for pipeline in range(2):
        context = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=pipeline, num_replicas_in_sync=4)
        dataset = load_dataset("digits", "validation", batch_size=40, image_size=8, channels=1, input_context=context)
        assert dataset.options().experimental_distribute.auto_shard_policy == tf.data.experimental.AutoShardPolicy.OFF
        images, labels = _collect(dataset)
        assert next(iter(dataset))[0].shape[0] == 10  # 40 global / 4 replicas
        seen.append({image.tobytes() + bytes([label]) for image, label in zip(images, labels)})
        assert len(labels) == 90
    assert not seen[0] & seen[1]


def test_tfds_path_with_mock_data():
    with tfds.testing.mock_data(num_examples=24):
        dataset, info = load_dataset("cifar10", "train", batch_size=8, image_size=32, channels=3, policy="cifar",
                                     one_hot=True, preprocessing="torch", return_info=True)
        images, labels = next(iter(dataset))
    assert info.num_classes == 10 and info.small_images and info.num_examples == 24
    assert images.shape == (8, 32, 32, 3)
    assert labels.shape == (8, 10)
    np.testing.assert_allclose(labels.numpy().sum(axis=1), 1.0)
    assert resolve_source("cifar10") == ("tfds", "cifar10")


def _write_image(path, seed, size=20, png=False):
    pixels = tf.constant(np.random.default_rng(seed).integers(0, 255, (size, size + 4, 3)), tf.uint8)
    encoded = tf.io.encode_png(pixels) if png else tf.io.encode_jpeg(pixels)
    tf.io.write_file(str(path), encoded)


def _image_folder(root):
    for label, name in enumerate(("cats", "dogs")):
        os.makedirs(root / name)
        for index in range(5):
            _write_image(root / name / f"{index}.{'png' if index % 2 else 'jpg'}", seed=10 * label + index, png=index % 2)
    (root / "cats" / "notes.txt").write_text("not an image")
    (root / "dogs" / "renamed.jpg").write_bytes(b"this is text, not a JPEG")
    # A real JPEG header followed by garbage: passes the signature check, fails to decode.
    (root / "dogs" / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4)


def test_image_folder_skips_non_images_and_drops_corrupt_files(tmp_path):
    _image_folder(tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dataset, info = load_dataset(str(tmp_path), "all", batch_size=4, image_size=16, training=False, return_info=True)
    messages = [str(warning.message) for warning in caught if "Skipped" in str(warning.message)]
    assert messages and messages[0].startswith("Skipped 2 file(s)")
    assert info.class_names == ("cats", "dogs") and info.num_examples == 11
    images, labels = _collect(dataset)  # the corrupt JPEG is dropped, nothing crashes
    assert images.shape == (10, 16, 16, 3)
    assert sorted(labels.tolist()) == [0] * 5 + [1] * 5
    train = load_dataset(str(tmp_path), "train", batch_size=2, image_size=16, policy="inception", validation_fraction=0.4)
    held_out = load_dataset(str(tmp_path), "validation", batch_size=2, image_size=16, validation_fraction=0.4)
    assert sum(1 for _ in held_out.unbatch()) + sum(1 for _ in train.unbatch()) <= 10
    assert sum(1 for _ in held_out.unbatch()) == 4  # 2 of 5 cats, 2 of 6 dog files (one corrupt)


def test_tfrecords_in_imagenet_layout(tmp_path):
    for shard in range(2):
        with tf.io.TFRecordWriter(str(tmp_path / f"train-{shard:05d}-of-00002")) as writer:
            for index in range(3):
                pixels = tf.constant(np.full((24, 30, 3), 40 * index, np.uint8))
                example = tf.train.Example(features=tf.train.Features(feature={
                    "image/encoded": tf.train.Feature(bytes_list=tf.train.BytesList(value=[tf.io.encode_jpeg(pixels).numpy()])),
                    "image/class/label": tf.train.Feature(int64_list=tf.train.Int64List(value=[1 + index + 3 * shard])),
                }))
                writer.write(example.SerializeToString())
    assert resolve_source(str(tmp_path)) == ("tfrecord", str(tmp_path))
    dataset = load_dataset(str(tmp_path), "train", batch_size=6, image_size=16, training=False, label_offset=-1, num_classes=6)
    images, labels = _collect(dataset)
    assert images.shape == (6, 16, 16, 3)
    assert sorted(labels.tolist()) == [0, 1, 2, 3, 4, 5]
    context = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=1, num_replicas_in_sync=2)
    sharded = _collect(load_dataset(f"tfrecord:{tmp_path}/train-*", "train", batch_size=2, image_size=16,
                                    training=False, label_offset=-1, input_context=context))[1]
    assert sorted(sharded.tolist()) == [3, 4, 5]  # sharded by file


def test_bad_arguments():
    with pytest.raises(ValueError, match="split="):
        load_dataset("digits", "holdout")
    with pytest.raises(ValueError, match="batch_size="):
        load_dataset("digits", batch_size=0)
    with pytest.raises(ValueError, match="policy="):
        load_dataset("digits", policy="fancy")
