import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import keras_archs  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    """Fixed seeds for every test; the Keras graph is cleared after each."""
    keras.utils.set_random_seed(0)
    yield
    keras.backend.clear_session(free_memory=False)


def small_side(name):
    """The side tests build `name` at: its minimum, but at least 32 pixels."""
    return max(keras_archs.model_info(name).input_spec.min_size, 32)


def random_images(side, channels=3, batch=2, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, size=(batch, side, side, channels)).astype("float32")


def trainable_count(model):
    return int(sum(np.prod(weight.shape) for weight in model.trainable_weights))
