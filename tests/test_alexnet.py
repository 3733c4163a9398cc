import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_archs
from keras_archs.convert import layer_map
from keras_archs.layers.classic import LocalResponseNormalization

from conftest import trainable_count


def test_paper_form_has_two_towers_lrn_and_the_papers_initialization():
    model = keras_archs.AlexNet(variant="paper")
    groups = {f"conv{i}": model.get_layer(f"conv{i}").groups for i in range(1, 6)}
    assert groups == {"conv1": 1, "conv2": 2, "conv3": 1, "conv4": 2, "conv5": 2}
    assert [layer.name for layer in model.layers if isinstance(layer, LocalResponseNormalization)] == ["conv1_lrn", "conv2_lrn"]
    pools = [layer for layer in model.layers if isinstance(layer, keras.layers.MaxPooling2D)]
    assert [(p.pool_size, p.strides) for p in pools] == [((3, 3), (2, 2))] * 3  # overlapping pooling, §3.4
    assert model.get_layer("conv1").output.shape[1:3] == (55, 55)  # 227 input, 11x11/4, no padding
    for name in ("conv2", "conv4", "conv5", "fc1", "fc2"):
        assert np.all(model.get_layer(name).bias.numpy() == 1.0), name
    for name in ("conv1", "conv3", "predictions"):
        assert np.all(model.get_layer(name).bias.numpy() == 0.0), name
    assert np.std(model.get_layer("conv3").kernel.numpy()) == pytest.approx(0.01, rel=0.05)
    assert trainable_count(model) == pytest.approx(60e6, rel=0.02)  # "60 million parameters"


def test_single_tower_is_torchvisions_layout_with_dropout_after_the_hidden_layers():
    model = keras_archs.AlexNet()
    assert [model.get_layer(f"conv{i}").filters for i in range(1, 6)] == [64, 192, 384, 256, 256]
    assert not any(isinstance(layer, LocalResponseNormalization) for layer in model.layers)
    assert model.get_layer("pool5").output.shape[1:] == (6, 6, 256)
    dropouts = [layer for layer in model.layers if isinstance(layer, keras.layers.Dropout)]
    assert [(d.name, d.rate) for d in dropouts] == [("fc1_dropout", 0.5), ("fc2_dropout", 0.5)]
    assert not any(isinstance(layer, keras.layers.Dropout) for layer in keras_archs.AlexNet(dropout_rate=0.0).layers)
    with pytest.raises(ValueError, match="dropout_rate"):
        keras_archs.AlexNet(dropout_rate=1.5)
    with pytest.raises(ValueError, match="variant"):
        keras_archs.AlexNet(variant="two_gpus")


def test_local_response_normalization_matches_tensorflows_kernel():
    x = np.random.default_rng(0).normal(scale=20.0, size=(2, 5, 5, 12)).astype("float32")
    ours = LocalResponseNormalization(size=5, bias=2.0, alpha=1e-4, beta=0.75)(x)
    theirs = tf.nn.local_response_normalization(x, depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    with pytest.raises(ValueError, match="size"):
        LocalResponseNormalization(size=4)


def test_single_tower_names_torchvisions_alexnet_and_the_paper_form_none():
    reference = keras_archs.model_info("alexnet").torch_reference
    assert reference.call == "torchvision.models.alexnet()"
    model = keras_archs.get_model("alexnet")
    mapping = layer_map(model, reference)
    # torchvision's Sequentials: Conv, ReLU(, MaxPool) and Dropout, Linear, ReLU.
    assert [mapping[f"conv{index}"] for index in range(1, 6)] == [
        "features.0", "features.3", "features.6", "features.8", "features.10",
    ]
    assert [mapping[name] for name in ("fc1", "fc2", "predictions")] == [
        "classifier.1", "classifier.4", "classifier.6",
    ]
    # The two-tower 2012 network has no PyTorch implementation to compare with.
    assert keras_archs.model_info("alexnet_paper").torch_reference is None
