"""Augmentation: the Inception crop, PCA lighting, CIFAR pad-and-crop, named policies."""

import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_archs import augment
from keras_archs.data import load_dataset


def _coordinate_image(side=120):
    rows, columns = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    return np.stack([rows, columns, np.zeros_like(rows)], axis=-1).astype("float32")


def test_inception_crop_area_and_aspect_ranges():
    side = 120
    image = tf.constant(_coordinate_image(side))
    areas, aspects = [], []
    for seed in range(40):
        crop = augment.inception_crop(image, 24, seed=tf.constant([seed, 7])).numpy()
        assert crop.shape == (24, 24, 3)
        # Pixel values are source coordinates: the corners give the sampled box.
        height = crop[-1, -1, 0] - crop[0, 0, 0] + side / 24
        width = crop[-1, -1, 1] - crop[0, 0, 1] + side / 24
        areas.append(height * width / side**2)
        aspects.append(width / height)
    # Szegedy 2015 §6: 8%-100% of the area, aspect 3/4-4/3 (slack for pixel rounding).
    assert 0.06 <= min(areas) and max(areas) <= 1.05
    assert 0.70 <= min(aspects) and max(aspects) <= 1.42
    assert max(areas) - min(areas) > 0.3  # it really varies
    again = augment.inception_crop(image, 24, seed=tf.constant([3, 7]))
    np.testing.assert_array_equal(again, augment.inception_crop(image, 24, seed=tf.constant([3, 7])))


def test_inception_crop_decodes_only_the_box_of_a_jpeg():
    pixels = np.random.default_rng(0).integers(0, 255, (60, 80, 3)).astype(np.uint8)
    for encoded in (tf.io.encode_jpeg(pixels), tf.io.encode_png(pixels)):
        crop = augment.inception_crop(encoded, (32, 48), seed=tf.constant([1, 2]))
        assert crop.shape == (32, 48, 3) and crop.dtype == tf.float32
        assert 0 <= float(tf.reduce_min(crop)) and float(tf.reduce_max(crop)) <= 255.5


def test_pca_lighting_shifts_each_image_along_the_eigenvectors():
    images = tf.constant(np.random.default_rng(0).uniform(0, 255, (4, 6, 6, 3)).astype("float32"))
    layer = augment.PCALighting(std=0.1, seed=0)
    shifted = layer(images, training=True).numpy()
    difference = shifted - images.numpy()
    # One RGB offset per image, the same at every pixel (illumination, not texture).
    np.testing.assert_allclose(difference, np.broadcast_to(difference[:, :1, :1, :], difference.shape), atol=1e-4)
    offsets = difference[:, 0, 0, :]
    assert np.abs(offsets).max() > 0
    # offset = V @ (alpha * eigenvalues): solving gives alphas of plausible size for std 0.1.
    vectors = np.array(augment.IMAGENET_EIGENVECTORS)
    alphas = np.linalg.solve(vectors, offsets.T).T / np.array(augment.IMAGENET_EIGENVALUES)
    assert np.abs(alphas).max() < 0.6
    np.testing.assert_array_equal(layer(images, training=False), images)
    restored = augment.PCALighting.from_config(layer.get_config())
    assert restored.std == 0.1 and restored.eigenvectors == layer.eigenvectors


def test_pad_and_crop_is_a_shift_of_at_most_four_pixels():
    image = tf.constant(np.random.default_rng(1).uniform(1, 255, (32, 32, 3)).astype("float32"))
    for seed in range(10):
        crop = augment.pad_and_crop(image, 32, seed=tf.constant([seed, 0])).numpy()
        assert crop.shape == (32, 32, 3)
        padded = np.pad(image.numpy(), ((4, 4), (4, 4), (0, 0)))
        assert any(np.array_equal(crop, padded[top : top + 32, left : left + 32])
                   for top in range(9) for left in range(9))


# AutoAugment needs the garden extra: tests_garden/ covers it in its own environment.
@pytest.mark.parametrize("policy", sorted(name for name, policy in augment.POLICIES.items() if not policy.autoaugment))
def test_named_policies_produce_training_batches(policy):
    images, labels = next(iter(load_dataset("digits", "train", batch_size=4, image_size=36, channels=3,
                                            policy=policy, seed=0)))
    assert images.shape == (4, 36, 36, 3) and labels.shape == (4,)
    assert np.isfinite(images.numpy()).all()


def test_policies_match_the_papers():
    assert augment.get_policy("cifar").crop == "pad_crop" and augment.get_policy("cifar").flip
    assert augment.get_policy("alexnet").pca_lighting == 0.1
    assert augment.get_policy("inception").crop == "inception"
    layers = augment.get_policy("randaugment").batch_layers()
    assert any(isinstance(layer, keras.layers.RandAugment) for layer in layers)
    assert augment.get_policy("none").batch_layers() == []
    with pytest.raises(ValueError, match="policy="):
        augment.get_policy("autoaugment_v9")


def _hide_model_garden(monkeypatch):
    # A None entry makes `import official...` fail; submodules too, in case an earlier test
    # (in the garden environment) has imported them already.
    for name in [name for name in sys.modules if name.startswith("official.")] + ["official"]:
        monkeypatch.setitem(sys.modules, name, None)


@pytest.mark.parametrize("policy", ["autoaugment", "autoaugment_v0"])
def test_autoaugment_without_model_garden_names_the_extra(monkeypatch, policy):
    _hide_model_garden(monkeypatch)
    install = r'pip install "keras-archs\[garden\]"'
    with pytest.raises(ImportError, match=install):
        augment.get_policy(policy)
    with pytest.raises(ImportError, match=install):
        augment.get_policy(augment.POLICIES[policy])
    # Before any data is read, not after a data set has been opened.
    with pytest.raises(ImportError, match=install):
        load_dataset("digits", "train", batch_size=4, image_size=16, policy=policy)
    with pytest.raises(ImportError, match=install):
        augment.GardenAutoAugment()
    # The other policies never touch Model Garden.
    assert augment.get_policy("randaugment").batch_layers()


def test_autoaugment_policy_names_are_checked_without_model_garden(monkeypatch):
    _hide_model_garden(monkeypatch)
    assert augment.POLICIES["autoaugment"].autoaugment == "reduced_imagenet"  # the paper's ImageNet table
    with pytest.raises(ValueError, match="Received: autoaugment='v9'"):
        augment.Policy("mine", autoaugment="v9")


def test_mixup_and_cutmix_mix_labels():
    images, labels = next(iter(load_dataset("digits", "train", batch_size=32, image_size=16, channels=3,
                                            mixup_alpha=0.4, cutmix_alpha=1.0, seed=0)))
    labels = labels.numpy()
    assert labels.shape == (32, 10)
    np.testing.assert_allclose(labels.sum(axis=1), 1.0, rtol=1e-5)
    assert (labels.max(axis=1) < 1.0).any()  # some examples are mixtures


def test_eigen_decomposition_recovers_a_known_covariance():
    rng = np.random.default_rng(0)
    pixels = rng.normal(size=(20000, 3)) * np.array([30.0, 5.0, 1.0])
    values, vectors = augment.eigen_decomposition(pixels.reshape(100, 200, 3))
    np.testing.assert_allclose(values, [900.0, 25.0, 1.0], rtol=0.05)
    np.testing.assert_allclose(np.abs(np.array(vectors)), np.eye(3), atol=0.02)
