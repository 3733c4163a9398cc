"""keras_archs.litert_forms: the same function, in ops LiteRT's XNNPACK delegate takes (float32 and int8)."""

import keras
import numpy as np
import pytest

from keras_archs import export, litert_forms, litert_ops


def _every_form():
    """One small model with each form for_litert rewrites, and one it must leave alone."""
    inputs = keras.Input((20, 20, 4), name="pixels")
    parts = [keras.layers.Conv2D(2, 1, name=f"part{index}")(inputs) for index in range(6)]
    wide = keras.layers.Concatenate(name="six_way")(parts)  # more than 4 inputs
    # ReLU of a concatenation whose inputs fuse it (each part has one consumer)
    distributed = keras.layers.ReLU(name="relu_of_concatenation")(
        keras.layers.Concatenate(name="two_way")([keras.layers.Conv2D(4, 1)(inputs), keras.layers.Conv2D(4, 1)(inputs)]))
    # a ReLU whose input has another consumer: it cannot fuse
    shared = keras.layers.Add(name="shared")([keras.layers.Conv2D(8, 1)(wide), distributed])
    standalone = keras.layers.Activation("relu", name="standalone_relu")(shared)
    pooled = [
        keras.layers.AveragePooling2D(3, strides=1, padding="same", name="avg_same")(standalone),
        keras.layers.AveragePooling2D(3, strides=2, padding="same", name="avg_same_strided")(shared),
        keras.layers.AveragePooling2D(2, name="avg_valid")(standalone),
        keras.layers.AveragePooling2D(1, strides=2, name="avg_subsample")(shared),
    ]
    separable = keras.layers.SeparableConv2D(8, 7, padding="same", name="sep7")(pooled[0])
    depthwise = keras.layers.DepthwiseConv2D(7, strides=2, padding="same", name="dw7_strided")(shared)
    hard_swish = keras.layers.Activation("hard_swish", name="hswish")(
        keras.layers.BatchNormalization()(keras.layers.Conv2D(8, 3, padding="same")(pooled[2])))
    kept = keras.layers.DepthwiseConv2D(5, padding="same", name="dw5")(hard_swish)  # 25 taps: fast as it is
    heads = [keras.layers.GlobalAveragePooling2D()(x) for x in (separable, depthwise, kept, *pooled[1:])]
    return keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Concatenate()(heads)), name="every_form")


@pytest.fixture(scope="module")
def every_form():
    keras.utils.set_random_seed(0)
    model = _every_form()
    images = np.random.default_rng(0).uniform(-1, 1, (48, 20, 20, 4)).astype("float32")
    for layer in model.layers:  # BatchNormalization statistics of these images: realistic int8 ranges
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.moving_variance.assign(np.full(layer.moving_variance.shape, 4.0, "float32"))
    return model, images


@pytest.mark.parametrize("quantize", ["none", "int8"])
def test_the_rewritten_model_computes_the_same_function(every_form, quantize):
    model, images = every_form
    rewritten = litert_forms.for_litert(model, quantize)
    assert rewritten is not model
    expected = model.predict(images, verbose=0)
    np.testing.assert_allclose(rewritten.predict(images, verbose=0), expected, rtol=1e-5,
                               atol=1e-5 * np.abs(expected).max())
    assert rewritten.layers[0].name == "pixels"  # the file's signature keeps the input's name
    taps = [layer.kernel_size[0] * layer.kernel_size[1] for layer in rewritten.layers
            if isinstance(layer, (keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D))]
    assert max(taps) <= litert_forms.MAX_FAST_DEPTHWISE_TAPS
    assert rewritten.get_layer("dw5") is model.get_layer("dw5")  # untouched layers are shared, not copied
    widths = [len(layer.input) for layer in rewritten.layers if isinstance(layer, keras.layers.Concatenate)]
    assert max(widths) <= litert_forms.MAX_CONCATENATION_INPUTS


@pytest.mark.parametrize("quantize", ["none", "int8"])
def test_every_op_of_the_converted_file_runs_in_xnnpack(every_form, quantize, tmp_path):
    model, images = every_form
    plain = export.to_tflite(model, tmp_path / "plain.tflite", quantize=quantize, representative_images=images,
                             xnnpack_forms=False)
    # converted as written, the forms this model is made of fall out of XNNPACK
    assert not all(op.delegated for op in litert_ops.op_report(plain, runs=1).ops)
    path = export.to_tflite(model, tmp_path / "model.tflite", quantize=quantize, representative_images=images)
    report = litert_ops.op_report(path, runs=1)
    assert [op.op for op in report.ops if not op.delegated] == []
    assert report.partitions == 1
    names = {op.op for op in report.ops}
    assert not names & {"RELU", "AVERAGE_POOL_2D", "HARD_SWISH"} if quantize == "int8" else "AVERAGE_POOL_2D" in names
    parity = export.compare_with_keras(model, path, images, latency_runs=1)
    scale = np.abs(model.predict(images, verbose=0)).max()
    assert parity.max_abs_diff <= (1e-5 if quantize == "none" else 0.1) * scale


def test_a_model_without_such_forms_is_returned_as_it_is():
    inputs = keras.Input((8, 8, 3))
    model = keras.Model(inputs, keras.layers.ReLU()(keras.layers.Conv2D(4, 3)(inputs)))
    assert litert_forms.for_litert(model, "int8") is model
    assert litert_forms.for_litert(model, "none") is model


def test_the_new_layers_are_float32_under_a_mixed_global_policy(every_form):
    model, _ = every_form
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        rewritten = litert_forms.for_litert(model, "int8")
        assert keras.config.dtype_policy().name == "mixed_bfloat16"  # restored
    finally:
        keras.config.set_dtype_policy(previous)
    new = [layer for layer in rewritten.layers if layer not in model.layers]
    assert new and all(layer.dtype_policy.name == "float32" for layer in new)


def test_an_int8_form_litert_cannot_load_falls_back_to_the_layers_as_written(tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    # The model pads 20 zero rows below a 3-row image: the 7x7 kernel's last band (its
    # last row), at every output row, reads only those zeros, its int8 output calibrates to
    # a zero range, and XNNPACK refuses that file at load time.
    inputs = keras.Input((3, 16, 4))
    padded = keras.layers.ZeroPadding2D(((0, 20), (0, 0)))(inputs)
    model = keras.Model(inputs, keras.layers.DepthwiseConv2D(7, use_bias=False)(padded))
    images = np.random.default_rng(3).uniform(-1, 1, (16, 3, 16, 4)).astype("float32")
    rewritten = litert_forms.for_litert(model, "int8")
    assert rewritten is not model
    refused = export.to_tflite(rewritten, tmp_path / "bands.tflite", quantize="int8", representative_images=images,
                               xnnpack_forms=False)
    with pytest.raises(RuntimeError):
        Interpreter(model_path=str(refused)).allocate_tensors()
    path = export.to_tflite(model, tmp_path / "model.tflite", quantize="int8", representative_images=images)
    assert [op.op for op in litert_ops.op_report(path, runs=1).ops].count("DEPTHWISE_CONV_2D") == 1
    parity = export.compare_with_keras(model, path, images, latency_runs=1)
    assert parity.max_abs_diff <= 0.1 * np.abs(model.predict(images, verbose=0)).max()
