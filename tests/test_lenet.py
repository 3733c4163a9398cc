import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_archs
from keras_archs.layers import classic
from keras_archs.models.lenet import C3_CONNECTION_TABLE

from conftest import trainable_count

PAPER_COUNTS = {"c1": 156, "s2": 12, "c3": 1_516, "s4": 32, "c5": 48_120, "f6": 10_164, "rbf": 0}


def test_paper_form_has_the_per_layer_counts_of_section_2b():
    model = keras_archs.LeNet5(variant="paper")
    for layer_name, count in PAPER_COUNTS.items():
        assert trainable_count(model.get_layer(layer_name)) == count, layer_name
    assert model.output.shape == (None, 10)


def test_connection_table_is_table_one_and_the_kernel_is_sparse():
    sizes = [len(inputs) for inputs in C3_CONNECTION_TABLE]
    assert sizes == [3] * 6 + [4] * 9 + [6]
    # Table I, row by row: the C3 maps each S2 map feeds.
    rows = {
        0: {0, 4, 5, 6, 9, 10, 11, 12, 14, 15},
        1: {0, 1, 5, 6, 7, 10, 11, 12, 13, 15},
        2: {0, 1, 2, 6, 7, 8, 11, 13, 14, 15},
        3: {1, 2, 3, 6, 7, 8, 9, 12, 14, 15},
        4: {2, 3, 4, 7, 8, 9, 10, 12, 13, 15},
        5: {3, 4, 5, 8, 9, 10, 11, 13, 14, 15},
    }
    for s2_map, c3_maps in rows.items():
        assert {j for j, inputs in enumerate(C3_CONNECTION_TABLE) if s2_map in inputs} == c3_maps

    layer = classic.ConnectionTableConv2D(C3_CONNECTION_TABLE, 5, name="c3")
    x = np.random.default_rng(0).normal(size=(2, 14, 14, 6)).astype("float32")
    sparse_out = layer(x)
    dense_kernel = keras.ops.convert_to_numpy(layer.dense_kernel())
    for j, inputs in enumerate(C3_CONNECTION_TABLE):
        for i in range(6):
            assert np.any(dense_kernel[:, :, i, j] != 0) == (i in inputs)
    reference = keras.layers.Conv2D(16, 5)
    reference.build((None, 14, 14, 6))
    reference.set_weights([dense_kernel, keras.ops.convert_to_numpy(layer.bias)])
    np.testing.assert_allclose(sparse_out, reference(x), rtol=1e-5, atol=1e-5)


def test_trainable_subsampling_is_coefficient_times_sum_plus_bias():
    layer = classic.TrainableSubsampling(2)
    x = np.arange(2 * 4 * 4 * 3, dtype="float32").reshape(2, 4, 4, 3)
    layer.build(x.shape)
    layer.set_weights([np.array([1.0, 2.0, -0.5], "float32"), np.array([0.0, 1.0, 3.0], "float32")])
    window_sums = x.reshape(2, 2, 2, 2, 2, 3).sum(axis=(2, 4))
    expected = window_sums * np.array([1.0, 2.0, -0.5]) + np.array([0.0, 1.0, 3.0])
    np.testing.assert_allclose(layer(x), expected, rtol=1e-6)


def test_rbf_outputs_negated_squared_distances_to_fixed_digit_bitmaps():
    layer = classic.EuclideanRBF(10)
    x = np.random.default_rng(1).normal(size=(3, 84)).astype("float32")
    penalties = -keras.ops.convert_to_numpy(layer(x))
    centers = keras.ops.convert_to_numpy(layer.centers)
    assert centers.shape == (84, 10) and set(np.unique(centers)) == {-1.0, 1.0}
    assert len({tuple(column) for column in centers.T}) == 10
    assert not layer.centers.trainable
    expected = ((x[:, :, None] - centers[None]) ** 2).sum(axis=1)
    np.testing.assert_allclose(penalties, expected, rtol=1e-4)


def test_scaled_tanh_maps_plus_minus_one_to_themselves():
    values = keras.ops.convert_to_numpy(classic.scaled_tanh(np.array([-1.0, 0.0, 1.0], "float32")))
    np.testing.assert_allclose(values, [-1.0, 0.0, 1.0], atol=1e-3)


def test_modern_form_options_and_validation():
    model = keras_archs.LeNet5(activation="tanh", pool="avg")
    assert trainable_count(model) == 61_706
    assert isinstance(model.get_layer("s2"), keras.layers.AveragePooling2D)
    for kwargs, argument in (({"variant": "1989"}, "variant"), ({"pool": "l2"}, "pool"), ({"activation": "nope"}, "activation")):
        with pytest.raises(ValueError, match=argument):
            keras_archs.LeNet5(**kwargs)


@pytest.fixture
def float32_everywhere():
    """Full float32 math for the test, whatever the machine: no mixed policy, no TF32."""
    policy = keras.mixed_precision.global_policy()
    tf32 = tf.config.experimental.tensor_float_32_execution_enabled()
    keras.mixed_precision.set_global_policy("float32")
    tf.config.experimental.enable_tensor_float_32_execution(False)
    yield
    keras.mixed_precision.set_global_policy(policy)
    tf.config.experimental.enable_tensor_float_32_execution(tf32)


# Seeded runs here (float32, 8 epochs, seeds 0-4) reach 0.95-0.98 (modern) and 0.93-0.97
# (paper) test accuracy; seed 0 gives 0.967 and 0.950. The 0.9 bound sits below every seed,
# so another CPU's rounding, which changes the trajectory like another seed does, still passes.
LEARNING_SEED = 0
LEARNED_ACCURACY = 0.9


@pytest.mark.parametrize("variant", ["paper", "modern"])
def test_learns_the_real_handwritten_digits(variant, float32_everywhere):
    """Gradients flow through every custom layer: both forms learn scikit-learn's digits."""
    from keras_archs.data import digits_arrays

    def split(name):
        # The package's held-out split: a fixed permutation, so every writer is in both parts.
        images, labels = digits_arrays(name)
        resized = tf.image.resize(images.astype("float32"), (32, 32)).numpy()
        return keras_archs.preprocess_input(resized, "lenet"), labels

    (train_images, train_labels), (test_images, test_labels) = split("train"), split("test")
    keras.utils.set_random_seed(LEARNING_SEED)  # weights, and fit's shuffling
    model = keras_archs.LeNet5(variant=variant)
    assert model.dtype_policy.name == "float32"
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(train_images, train_labels, epochs=8, batch_size=32, verbose=0)
    _, accuracy = model.evaluate(test_images, test_labels, verbose=0)
    assert accuracy >= LEARNED_ACCURACY
