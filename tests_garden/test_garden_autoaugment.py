"""AutoAugment (Cubuk et al. 2019, arXiv 1805.09501) from TF Model Garden, through keras_archs."""

import dataclasses

import numpy as np
import tensorflow as tf

from keras_archs import augment
from keras_archs.data import load_dataset

# Rows of the paper's ImageNet policy (appendix table; the same in torchvision's
# AutoAugmentPolicy.IMAGENET and timm's "original" policy), and of the TPU EfficientNet "v0".
PAPER_IMAGENET_ROWS = {
    0: [("Posterize", 0.4, 8), ("Rotate", 0.6, 9)],
    1: [("Solarize", 0.6, 5), ("AutoContrast", 0.6, 5)],
    24: [("Equalize", 0.8, 8), ("Equalize", 0.6, 3)],
}
EFFICIENTNET_V0_FIRST_ROW = [("Equalize", 0.8, 1), ("ShearY", 0.8, 4)]


def _autoaugment_layer(policy="autoaugment"):
    (layer,) = [layer for layer in augment.get_policy(policy).batch_layers() if isinstance(layer, augment.GardenAutoAugment)]
    return layer


# Model Garden distorts image by image, about a second each in eager mode here: small batches.
def _real_digits(batch=8, side=32):
    images, _ = next(iter(load_dataset("digits", "train", batch_size=batch, image_size=side, channels=3,
                                       shuffle=False)))
    return images


def test_autoaugment_policy_is_the_papers_imagenet_table():
    table = [[tuple(operation) for operation in row] for row in _autoaugment_layer().augmenter.policies]
    assert len(table) == 25  # 5 sub-policies from each of the 5 best searched policies (§4.2)
    for index, row in PAPER_IMAGENET_ROWS.items():
        assert table[index] == row
    v0 = [tuple(operation) for operation in _autoaugment_layer("autoaugment_v0").augmenter.policies[0]]
    assert v0 == EFFICIENTNET_V0_FIRST_ROW
    assert augment.get_policy("autoaugment").crop == "inception" and augment.get_policy("autoaugment").flip


def test_autoaugment_changes_real_digits_keeping_shape_dtype_and_range():
    images = _real_digits()
    assert float(tf.reduce_max(images)) > 200  # real [0, 255] pixels, not a blank batch
    tf.random.set_seed(1)
    augmented = _autoaugment_layer()(images)
    assert augmented.shape == images.shape and augmented.dtype == images.dtype
    values = augmented.numpy()
    assert values.min() >= 0 and values.max() <= 255
    # Model Garden works on uint8: whole numbers come back.
    np.testing.assert_array_equal(values, np.round(values))
    changed = np.abs(values - np.round(images.numpy())).reshape(len(values), -1).max(axis=1) > 0
    assert changed.sum() >= len(values) // 2, changed
    np.testing.assert_array_equal(_autoaugment_layer()(images, training=False), images)


def test_autoaugment_keeps_grayscale_images_single_channel():
    gray = tf.image.rgb_to_grayscale(_real_digits(batch=2))
    tf.random.set_seed(2)
    augmented = _autoaugment_layer()(gray)
    assert augmented.shape == gray.shape
    assert 0 <= float(tf.reduce_min(augmented)) and float(tf.reduce_max(augmented)) <= 255


def test_autoaugment_repeats_under_a_fixed_global_seed():
    images = _real_digits(batch=4)
    layer = _autoaugment_layer()
    runs = []
    for seed in (5, 5, 6):
        tf.random.set_seed(seed)
        runs.append(layer(images).numpy())
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


def test_autoaugment_runs_in_the_recipes_input_pipeline():
    # The named policy without its random crop and flip, against no augmentation: only
    # AutoAugment differs between the two pipelines (same order, same labels).
    autoaugment_only = dataclasses.replace(augment.get_policy("autoaugment"), crop="center", flip=False)
    batches = []
    for policy in ("none", autoaugment_only):
        dataset = load_dataset("digits", "train", batch_size=16, image_size=32, channels=3, policy=policy,
                               seed=0, deterministic=True)
        batches.append(next(iter(dataset)))
    (images, labels), (augmented, augmented_labels) = batches
    np.testing.assert_array_equal(labels, augmented_labels)
    assert augmented.shape == (16, 32, 32, 3) and augmented.dtype == tf.float32
    assert 0 <= float(tf.reduce_min(augmented)) and float(tf.reduce_max(augmented)) <= 255
    differs = np.abs(augmented.numpy() - np.round(images.numpy())).reshape(16, -1).max(axis=1) > 0
    assert differs.sum() >= 8, differs
