import keras

import keras_archs

from conftest import trainable_count


def _conv_params(kernel, fan_in, filters):
    return kernel * kernel * fan_in * filters + filters


def test_imagenet_form_count_by_the_caffe_model_zoo_layer_sizes():
    # conv 11x11/4 96, cccp 96, 96 | 5x5 256, 256, 256 | 3x3 384, 384, 384 | 3x3 1024, 1024, 1000
    expected = (
        _conv_params(11, 3, 96) + 2 * _conv_params(1, 96, 96)
        + _conv_params(5, 96, 256) + 2 * _conv_params(1, 256, 256)
        + _conv_params(3, 256, 384) + 2 * _conv_params(1, 384, 384)
        + _conv_params(3, 384, 1024) + _conv_params(1, 1024, 1024) + _conv_params(1, 1024, 1000)
    )
    assert trainable_count(keras_archs.get_model("nin_imagenet")) == expected


def test_no_fully_connected_layer_one_map_per_class_averaged():
    for name in ("nin_cifar10", "nin_imagenet"):
        model = keras_archs.get_model(name, classes=17)
        assert not any(isinstance(layer, keras.layers.Dense) for layer in model.layers)
        assert model.get_layer("class_conv").filters == 17
        assert isinstance(model.get_layer("avg_pool"), keras.layers.GlobalAveragePooling2D)


def test_cifar_form_pools_and_dropout_as_the_paper():
    model = keras_archs.get_model("nin_cifar10")
    assert isinstance(model.get_layer("block1_pool"), keras.layers.MaxPooling2D)
    assert isinstance(model.get_layer("block2_pool"), keras.layers.AveragePooling2D)
    assert [layer.name for layer in model.layers if isinstance(layer, keras.layers.Dropout)] == [
        "block1_dropout", "block2_dropout",
    ]
    assert model.get_layer("block3_conv2").output.shape[1:] == (8, 8, 192)
    features = keras_archs.get_model("nin_cifar10", include_top=False)
    assert features.output.shape[-1] == 192
