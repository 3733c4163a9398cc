"""Input scaling for each registry `preprocessing` mode, and ImageNet class names.

    x = keras_archs.preprocess_input(images, model="vgg16")   # what vgg16's weights take
    keras_archs.decode_predictions(model.predict(x), top=3)   # offline: the index ships here
"""

import functools
import importlib.resources
import json

import keras
import numpy as np

from keras_archs.checks import check_choice, check_positive_int
from keras_archs.registry import PREPROCESSING_MODES, model_info

__all__ = ["decode_predictions", "imagenet_class_index", "preprocess_input"]

# LeCun 1998, §II.B: background at -0.1 and foreground at 1.175, so that the mean input is
# roughly 0 and the variance roughly 1 (for dark-background digits, as MNIST stores them).
LENET_BACKGROUND = -0.1
LENET_FOREGROUND = 1.175
# keras' imagenet_class_index.json, byte for byte (the md5 keras.applications checks,
# c2c37ea517e94d9795004a39431a14cb; tests/test_preprocessing_weights.py compares them): index -> [WordNet
# id, the synset's first lemma with underscores]. Generated from timm's
# timm/data/_info/imagenet_synsets.txt (the class order) and imagenet_synset_to_lemma.txt.
CLASS_INDEX_FILE = "imagenet_class_index.json"


def _preprocessing_for(model, weights):
    """`(mode, entry)`: what registered `model` takes with `weights` (see `preprocess_input`)."""
    info = model_info(model)
    if weights is None or not info.weights:
        return info.preprocessing, None
    if weights == "imagenet":
        return info.weights[0].preprocessing, info.weights[0]
    for entry in info.weights:
        if entry.tag == weights:
            return entry.preprocessing, entry
    tags = ("imagenet", *(entry.tag for entry in info.weights))
    raise ValueError(f"weights must be None or one of {tags} for {model!r}. Received: weights={weights!r}")


def preprocess_input(x, mode=None, *, model=None, weights="imagenet"):
    """Scales images in [0, 255] the way a model expects.

    Args:
        x: images, channels last, values in [0, 255].
        mode: a registry preprocessing mode (`keras_archs.model_info(name).preprocessing`):
            "caffe", "tf" or "torch" as in `keras.applications`, "lenet" (LeCun 1998),
            "unit" ([0, 1]) or "raw" (unchanged [0, 255]: the model rescales inside).
        model: instead of `mode`, a registry name: the preprocessing its weights take (a
            mode, or the checkpoint's own mean and std where it publishes no Keras mode).
        weights: with `model`: "imagenet" (its default checkpoint; for a model without
            published weights, its registry preprocessing), a checkpoint tag (e.g.
            "torchvision.IMAGENET1K_V1", which may differ from the default's: vgg16's
            keras file takes "caffe", torchvision's "torch"), or None (the registry's
            preprocessing, for training from scratch).

    Returns:
        The scaled images.

    Raises:
        ValueError: for an unknown mode or model, or for both or neither of `mode` and `model`.
    """
    if (mode is None) == (model is None):
        raise ValueError(
            "Pass either a preprocessing mode or a model name (model=...). "
            f"Received: mode={mode!r}, model={model!r}"
        )
    if model is not None:
        mode, entry = _preprocessing_for(model, weights)
        if mode == "mean_std":
            pixels = keras.ops.convert_to_tensor(x, dtype="float32") / 255.0
            return (pixels - np.asarray(entry.mean, "float32")) / np.asarray(entry.std, "float32")
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


@functools.lru_cache(maxsize=1)
def _class_index():
    text = importlib.resources.files("keras_archs").joinpath(CLASS_INDEX_FILE).read_text(encoding="utf-8")
    index = json.loads(text)
    return tuple(tuple(index[str(position)]) for position in range(len(index)))


def imagenet_class_index():
    """The 1000 ImageNet-1k classes in the models' output order: `(wordnet_id, name)` pairs."""
    return _class_index()


def decode_predictions(preds, top=5):
    """The `top` classes of each ImageNet prediction, as `keras.applications` decodes them.

    Offline: the class index ships with the package (keras' own file).

    Args:
        preds: a (samples, 1000) array of scores (probabilities or logits).
        top: how many classes per sample.

    Returns:
        One list per sample of `(wordnet_id, class_name, score)` tuples, best first.

    Raises:
        ValueError: for predictions that are not (samples, 1000), or a bad `top`.
    """
    check_positive_int(top, "top")
    scores = np.asarray(keras.ops.convert_to_numpy(preds))
    if scores.ndim != 2 or scores.shape[1] != 1000:
        raise ValueError(
            "decode_predictions takes a batch of ImageNet predictions, shape (samples, 1000). "
            f"Received: preds with shape {scores.shape}"
        )
    index = _class_index()
    results = []
    for row in scores:
        best = np.argsort(row, kind="stable")[::-1][:top]
        results.append([(*index[position], row[position]) for position in best])
    return results
