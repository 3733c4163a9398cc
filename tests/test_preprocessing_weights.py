"""preprocess_input(x, model=NAME) follows the model's weights; decode_predictions works offline."""

import dataclasses
import hashlib
import importlib.resources
import inspect
import json
import os
import re

import keras
import numpy as np
import pytest

import keras_archs
from keras_archs import preprocessing, registry
from keras_archs.registry import IMAGENET_MEAN, IMAGENET_STD

PIXELS = np.random.default_rng(0).uniform(0, 255, (2, 4, 4, 3)).astype("float32")


def _keras(mode):
    return keras.applications.imagenet_utils.preprocess_input(PIXELS.copy(), mode=mode)


def _ours(**options):
    return keras.ops.convert_to_numpy(keras_archs.preprocess_input(PIXELS.copy(), **options))


@pytest.mark.parametrize(
    ("options", "mode"),
    [
        ({"model": "vgg16"}, "caffe"),  # keras.applications' VGG16 file
        ({"model": "vgg16", "weights": "torchvision.IMAGENET1K_V1"}, "torch"),
        ({"model": "vgg11"}, "torch"),  # torchvision's weights, though vgg11 trains with "caffe"
        ({"model": "vgg11", "weights": None}, "caffe"),  # the registry's, for training from scratch
        ({"model": "densenet121"}, "torch"),
        ({"model": "googlenet"}, "tf"),
        ({"model": "resnet20"}, keras_archs.model_info("resnet20").preprocessing),  # no published weights
    ],
)
def test_model_preprocessing_is_its_weights(options, mode):
    if mode in ("caffe", "tf", "torch"):
        np.testing.assert_allclose(_ours(**options), _keras(mode), rtol=1e-6)
    else:
        np.testing.assert_allclose(_ours(**options), _ours(mode=mode), rtol=1e-6)


def test_mode_argument_keeps_working_positionally():
    np.testing.assert_allclose(keras.ops.convert_to_numpy(keras_archs.preprocess_input(PIXELS.copy(), "torch")),
                               _keras("torch"), rtol=1e-6)


def test_mean_std_entries_normalize_with_their_own_statistics(monkeypatch):
    entry = registry.PretrainedWeights(
        source="timm", checkpoint="dpn68.mx_in1k", license="apache-2.0", preprocessing="mean_std",
        mean=(0.486, 0.459, 0.408), std=(0.235, 0.235, 0.235),
    )
    info = keras_archs.model_info("dpn68")
    monkeypatch.setitem(registry._REGISTRY, "dpn68", dataclasses.replace(info, weights=(entry,)))
    expected = (PIXELS / 255.0 - np.array(entry.mean)) / np.array(entry.std)
    np.testing.assert_allclose(_ours(model="dpn68"), expected, rtol=1e-5)
    with pytest.raises(ValueError, match="mean_std.*Received: mean=None"):
        dataclasses.replace(entry, mean=None)


@pytest.mark.parametrize(
    ("options", "argument"),
    [
        ({}, "mode"),
        ({"mode": "torch", "model": "vgg16"}, "mode"),
        ({"model": "vgg17"}, "name"),
        ({"model": "vgg16", "weights": "timm.tv_in1k"}, "weights"),
        ({"mode": "imagenet"}, "mode"),
    ],
)
def test_bad_preprocessing_arguments_are_named(options, argument):
    with pytest.raises(ValueError, match=f"Received: .*{argument}="):
        keras_archs.preprocess_input(PIXELS, **options)


ENTRIES = [
    (name, entry)
    for name in keras_archs.list_models(pretrained=True)
    for entry in keras_archs.model_info(name).weights
]


@pytest.mark.parametrize(("name", "entry"), ENTRIES, ids=[f"{name}-{entry.tag}" for name, entry in ENTRIES])
def test_each_entry_preprocessing_agrees_with_its_published_transform(name, entry):
    """"torch" is ImageNet's mean/std, "tf" is 0.5/0.5, keras files publish a mode only; an entry
    whose mode is not what its published statistics say explains why (GoogLeNet's transform_input)."""
    # With the top the weights take the architecture's default input, keras.applications' rule.
    assert entry.crop_size == keras_archs.model_info(name).input_spec.default_size
    if entry.preprocessing == "mean_std" or entry.mean is None:
        assert entry.preprocessing == "mean_std" or entry.source == "keras"
        return
    published = {IMAGENET_MEAN + IMAGENET_STD: "torch", (0.5,) * 6: "tf"}.get(entry.mean + entry.std)
    assert published == entry.preprocessing or entry.note, (published, entry.preprocessing)


def _index_file():
    return importlib.resources.files("keras_archs").joinpath(preprocessing.CLASS_INDEX_FILE)


def test_class_index_is_keras_applications_file_byte_for_byte():
    """keras.applications checks its downloaded imagenet_class_index.json against an md5; ours has it."""
    source = inspect.getsource(keras.applications.imagenet_utils.decode_predictions)
    keras_md5 = re.search(r'"imagenet_class_index\.json",\s*CLASS_INDEX_PATH,.*?file_hash="([0-9a-f]{32})"',
                          source, re.DOTALL).group(1)
    assert hashlib.md5(_index_file().read_bytes()).hexdigest() == keras_md5


def test_class_index_order_is_tensorflow_datasets_imagenet2012_labels():
    tensorflow_datasets = pytest.importorskip("tensorflow_datasets")
    labels = os.path.join(os.path.dirname(tensorflow_datasets.__file__), "datasets", "imagenet2012", "labels.txt")
    with open(labels, encoding="utf-8") as handle:
        synsets = handle.read().split()
    assert [wordnet_id for wordnet_id, _ in preprocessing.imagenet_class_index()] == synsets


def test_decode_predictions_is_keras_decode_offline(monkeypatch):
    scores = np.random.default_rng(1).random((3, 1000)).astype("float32")
    ours = keras_archs.preprocessing.decode_predictions(scores, top=4)
    # keras' own decoder, given the same index instead of downloading it.
    index = json.loads(_index_file().read_text(encoding="utf-8"))
    monkeypatch.setattr(inspect.getmodule(keras.applications.imagenet_utils.decode_predictions), "CLASS_INDEX", index)
    theirs = keras.applications.imagenet_utils.decode_predictions(scores, top=4)
    assert [[item[:2] for item in row] for row in ours] == [[item[:2] for item in row] for row in theirs]
    np.testing.assert_array_equal([[item[2] for item in row] for row in ours],
                                  [[item[2] for item in row] for row in theirs])


def test_decode_predictions_names_keras_documented_classes():
    scores = np.zeros((1, 1000))
    scores[0, [385, 101, 386]] = [0.8, 0.15, 0.05]
    assert [item[:2] for item in keras_archs.preprocessing.decode_predictions(scores, top=3)[0]] == [
        ("n02504013", "Indian_elephant"), ("n01871265", "tusker"), ("n02504458", "African_elephant"),
    ]


@pytest.mark.parametrize(("preds", "top", "argument"), [
    (np.zeros((2, 10)), 5, "preds"), (np.zeros(1000), 5, "preds"), (np.zeros((1, 1000)), 0, "top"),
])
def test_decode_predictions_refuses_what_is_not_imagenet_scores(preds, top, argument):
    with pytest.raises(ValueError, match=f"Received: {argument}"):
        keras_archs.preprocessing.decode_predictions(preds, top=top)
