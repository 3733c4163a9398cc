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


def test_training_pipeline_drops_the_last_partial_batch():
    dataset = load_dataset("digits", "train", batch_size=64, image_size=32, channels=1)
    assert int(dataset.cardinality()) == 1258 // 64
    assert dataset.options().experimental_distribute.auto_shard_policy == tf.data.experimental.AutoShardPolicy.DATA


def _seeded_epochs(policy, seed, epochs=1, batches=24):
    # Small batches and many of them: parallel map calls overlap, which is when a random state
    # shared between calls (a Keras layer's SeedGenerator) gives different draws per run.
    dataset = load_dataset("digits", "train", batch_size=4, image_size=16, channels=3, policy=policy,
                           mixup_alpha=0.2 if policy == "inception" else 0.0,
                           cutmix_alpha=1.0 if policy == "inception" else 0.0, deterministic=True, seed=seed)
    return [[images.numpy() for images, _ in dataset.take(batches)] for _ in range(epochs)]


@pytest.mark.parametrize("policy", ["inception", "resnet", "alexnet", "cifar", "randaugment", "basic", "digits"])
def test_seeded_deterministic_pipeline_gives_the_same_batches_in_every_run(policy):
    first, again = _seeded_epochs(policy, seed=3)[0], _seeded_epochs(policy, seed=3)[0]
    for index, (batch, repeat) in enumerate(zip(first, again)):
        np.testing.assert_array_equal(batch, repeat, err_msg=f"batch {index}")
    other = _seeded_epochs(policy, seed=4)[0]
    assert any(not np.array_equal(batch, different) for batch, different in zip(first, other))


def test_seeded_pipeline_augments_each_epoch_anew_and_each_run_alike():
    first_run, second_run = _seeded_epochs("inception", seed=3, epochs=2), _seeded_epochs("inception", seed=3, epochs=2)
    np.testing.assert_array_equal(np.stack(first_run[1]), np.stack(second_run[1]))
    assert not np.array_equal(np.stack(first_run[0]), np.stack(first_run[1]))


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
    # A JPEG signature followed by garbage: the header walk at listing finds no valid segment.
    (root / "dogs" / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4)
    jpeg, png = (tf.io.read_file(str(root / "cats" / name)).numpy() for name in ("0.jpg", "1.png"))
    (root / "cats" / "truncated.jpg").write_bytes(jpeg[: len(jpeg) * 2 // 3])  # no end marker
    (root / "dogs" / "truncated.png").write_bytes(png[: len(png) // 2])  # no IEND chunk
    # Headers that parse but a sample precision libjpeg refuses: passes listing, fails to decode.
    frame = jpeg.index(b"\xff\xc0")
    (root / "dogs" / "bad_precision.jpg").write_bytes(jpeg[: frame + 4] + bytes([7]) + jpeg[frame + 5 :])
    return ["notes.txt", "truncated.jpg", "renamed.jpg", "corrupt.jpg", "truncated.png"]


def test_image_folder_names_skipped_files_and_drops_undecodable_ones(tmp_path):
    skipped = _image_folder(tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dataset, info = load_dataset(str(tmp_path), "all", batch_size=4, image_size=16, training=False, return_info=True)
    messages = [str(warning.message) for warning in caught if "Skipped" in str(warning.message)]
    assert len(messages) == 1 and messages[0].startswith("Skipped 5 file(s)")
    for name in skipped:
        assert os.sep + name + " (" in messages[0], name
    assert "bad_precision.jpg" not in messages[0]
    assert info.class_names == ("cats", "dogs") and info.num_examples == 11
    images, labels = _collect(dataset)  # bad_precision.jpg fails to decode: dropped, nothing crashes
    assert images.shape == (10, 16, 16, 3)
    assert sorted(labels.tolist()) == [0] * 5 + [1] * 5
    train = load_dataset(str(tmp_path), "train", batch_size=2, image_size=16, policy="inception", validation_fraction=0.4)
    held_out = load_dataset(str(tmp_path), "validation", batch_size=2, image_size=16, validation_fraction=0.4)
    assert sum(1 for _ in held_out.unbatch()) + sum(1 for _ in train.unbatch()) <= 10
    assert sum(1 for _ in held_out.unbatch()) == 4  # 2 of 5 cats, 2 of 6 listed dog files


def test_a_training_folder_with_one_class_is_refused(tmp_path):
    os.makedirs(tmp_path / "cats")
    for index in range(3):
        _write_image(tmp_path / "cats" / f"{index}.jpg", seed=index)
    with pytest.raises(ValueError, match=r"at least 2 classes; folder:.* has 1\. Received: source="):
        load_dataset(str(tmp_path), "train", batch_size=2, image_size=16)
    assert load_dataset(str(tmp_path), "all", batch_size=2, image_size=16, training=False) is not None


def test_a_training_tfds_set_with_one_class_is_refused(tmp_path):
    builder = OneClassImages(data_dir=str(tmp_path))
    builder.download_and_prepare()
    with pytest.raises(ValueError, match="at least 2 classes; one_class_images has 1"):
        load_dataset("one_class_images", "train", batch_size=2, image_size=8, data_dir=str(tmp_path))


class OneClassImages(tfds.core.GeneratorBasedBuilder):
    """A TFDS image-classification set of one class, prepared from four generated images."""

    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
        # DatasetInfo itself: dataset_info_from_configs reads metadata files beside a package.
        return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({
            "image": tfds.features.Image(shape=(8, 8, 3)), "label": tfds.features.ClassLabel(num_classes=1)}),
            supervised_keys=("image", "label"))

    def _split_generators(self, dl_manager):
        return {"train": self._generate_examples()}

    def _generate_examples(self):
        for index in range(4):
            yield index, {"image": np.full((8, 8, 3), 60 * index, np.uint8), "label": 0}


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
