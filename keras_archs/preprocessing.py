"""Input scaling for each registry `preprocessing` mode."""

import keras

from keras_archs.models.base import check_choice
from keras_archs.registry import PREPROCESSING_MODES

__all__ = ["preprocess_input"]

# LeCun 1998, §II.B: background at -0.1 and foreground at 1.175, so that the mean input is
# roughly 0 and the variance roughly 1 (for dark-background digits, as MNIST stores them).
LENET_BACKGROUND = -0.1
LENET_FOREGROUND = 1.175


def preprocess_input(x, mode):
    """Scales images in [0, 255] the way a model expects.

    Args:
        x: images, channels last, values in [0, 255].
        mode: a registry preprocessing mode (`keras_archs.model_info(name).preprocessing`):
            "caffe", "tf" or "torch" as in `keras.applications`, "lenet" (LeCun 1998),
            "unit" ([0, 1]) or "raw" (unchanged [0, 255]: the model rescales inside).

    Returns:
        The scaled images.
    """
    check_choice(mode, PREPROCESSING_MODES, "mode")
    if mode in ("caffe", "tf", "torch"):
        return keras.applications.imagenet_utils.preprocess_input(x, mode=mode)
    pixels = keras.ops.convert_to_tensor(x, dtype="float32")
    if mode == "raw":
        return pixels
    scaled = pixels / 255.0
    if mode == "unit":
        return scaled
    return LENET_BACKGROUND + scaled * (LENET_FOREGROUND - LENET_BACKGROUND)
