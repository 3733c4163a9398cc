"""keras_archs: the milestone CNN architectures as Keras 3 applications.

    import keras_archs
    model = keras_archs.VGG16(weights=None)
    model = keras_archs.get_model("vgg16_bn", classes=10, input_shape=(64, 64, 3))
    keras_archs.list_models("vgg*")
"""

from keras_archs.models import *  # noqa: F401,F403
from keras_archs.models import __all__ as _model_constructors
from keras_archs.features import feature_extractor, feature_info
from keras_archs.preprocessing import decode_predictions, preprocess_input
from keras_archs.profile import profile
from keras_archs.recursion import DEEP_GRAPH_FRAMES, recursion_limit
from keras_archs.registry import get_model, list_models, model_info, register_model

__version__ = "0.1.0"

__all__ = [
    *_model_constructors,
    "DEEP_GRAPH_FRAMES",
    "decode_predictions",
    "feature_extractor",
    "feature_info",
    "get_model",
    "list_models",
    "model_info",
    "preprocess_input",
    "profile",
    "recursion_limit",
    "register_model",
]
