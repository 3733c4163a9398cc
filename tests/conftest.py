import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import keras_archs  # noqa: E402


# One or two names per family module, chosen to cover the family's custom layers and
# blocks: they take the registry suite's costly checks (.keras round trip, every pooling,
# SavedModel export). A new family must add its own here (a test checks it).
REPRESENTATIVES = {
    "alexnet": ["alexnet_paper"],  # grouped convolutions, LRN
    "densenet": ["densenet_bc100_k12"],
    "dpn": ["dpn68"],
    "googlenet": ["googlenet"],
    "highway": ["highway19"],
    "inception": ["inception_v3"],
    "lenet": ["lenet5_paper"],  # every custom LeNet layer
    "mobilenet": ["mobilenet_v3_small"],
    "nasnet": ["nasnet_mobile"],
    "nin": ["nin_cifar10"],
    "resnet": ["seresnext50_32x4d"],  # bottleneck, groups, squeeze-excitation
    "resnet_cifar": ["resnet20"],
    "shufflenet": ["shufflenet_g3_w1", "shufflenet_v2_x0_5"],
    "squeezenet": ["squeezenet1_1"],
    "vgg": ["vgg11_bn"],
    "xception": ["xception"],
}


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    """Fixed seeds for every test; the Keras graph is cleared after each."""
    keras.utils.set_random_seed(0)
    yield
    keras.backend.clear_session(free_memory=False)


@pytest.fixture
def layers_created(monkeypatch):
    """Every Keras layer constructed during the test, to prove a check ran before any was."""
    created = []
    original = keras.layers.Layer.__init__

    def recording_init(layer, *args, **kwargs):
        created.append(layer)
        original(layer, *args, **kwargs)

    monkeypatch.setattr(keras.layers.Layer, "__init__", recording_init)
    return created


def small_side(name):
    """The side tests build `name` at: its minimum, but at least 32 pixels."""
    return max(keras_archs.model_info(name).input_spec.min_size, 32)


def random_images(side, channels=3, batch=2, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, size=(batch, side, side, channels)).astype("float32")


def infer(model, images):
    """The model's inference outputs as numpy, from one eager call.

    One eager call, not `predict()`: predict traces the model into a graph first, which for
    the deep models costs three to five times the call itself (measured on 2 cores).
    """
    return keras.ops.convert_to_numpy(model(images, training=False))


def trainable_count(model):
    return int(sum(np.prod(weight.shape) for weight in model.trainable_weights))
