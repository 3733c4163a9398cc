"""keras_archs.convert without torch: tensor layouts against numpy references, errors, files.

The layouts are checked against PyTorch's definitions written out in numpy (cross-
correlation over (out, in / groups, kh, kw) kernels, NCHW flattening, BatchNorm with the
reference's epsilon); tests_convert proves whole models against torchvision and timm.
"""

import numpy as np
import keras
import pytest

from keras_archs import convert
from keras_archs.cli import main
from keras_archs.convert.core import layer_map_from_rules, transfer

RNG = np.random.default_rng(7)


def _torch_conv(images, weight, bias, groups=1, strides=1):
    """PyTorch's Conv2d (no padding) in numpy, on NHWC images: the definition, in loops."""
    batch, height, width, channels = images.shape
    out_channels, group_in, kh, kw = weight.shape
    group_out = out_channels // groups
    out_h, out_w = (height - kh) // strides + 1, (width - kw) // strides + 1
    outputs = np.zeros((batch, out_h, out_w, out_channels))
    for o in range(out_channels):
        g = o // group_out
        window_channels = images[..., g * group_in:(g + 1) * group_in]
        for i in range(out_h):
            for j in range(out_w):
                patch = window_channels[:, i * strides:i * strides + kh, j * strides:j * strides + kw, :]
                outputs[:, i, j, o] = np.einsum("nuvc,cuv->n", patch, weight[o]) + bias[o]
    return outputs


def _model(inputs, outputs, name="probe"):
    return keras.Model(inputs, outputs, name=name)


def _run(model, images):
    return keras.ops.convert_to_numpy(model(images.astype("float32"), training=False))


@pytest.mark.parametrize("groups", [1, 2])
def test_conv2d_kernel_takes_pytorch_layout(groups):
    images = RNG.standard_normal((2, 6, 7, 4))
    weight, bias = RNG.standard_normal((6, 4 // groups, 3, 2)), RNG.standard_normal(6)
    inputs = keras.Input((6, 7, 4))
    model = _model(inputs, keras.layers.Conv2D(6, (3, 2), strides=2, groups=groups, name="conv")(inputs))
    transfer(model, {"conv": "features.0"}, {"features.0.weight": weight, "features.0.bias": bias},
             reference_epsilon=1e-5)
    np.testing.assert_allclose(_run(model, images), _torch_conv(images, weight, bias, groups, strides=2), atol=1e-4)


def test_depthwise_kernel_takes_pytorch_grouped_layout():
    # A depthwise Conv2d with multiplier 2: output channel c * 2 + j reads input channel c.
    images = RNG.standard_normal((1, 5, 5, 3))
    weight, bias = RNG.standard_normal((6, 1, 3, 3)), RNG.standard_normal(6)
    inputs = keras.Input((5, 5, 3))
    model = _model(inputs, keras.layers.DepthwiseConv2D(3, depth_multiplier=2, name="dw")(inputs))
    transfer(model, {"dw": "dw"}, {"dw.weight": weight, "dw.bias": bias}, reference_epsilon=1e-5)
    np.testing.assert_allclose(_run(model, images), _torch_conv(images, weight, bias, groups=3), atol=1e-4)


def test_separable_conv_takes_depthwise_then_pointwise():
    images = RNG.standard_normal((1, 5, 5, 3))
    depthwise, pointwise = RNG.standard_normal((3, 1, 3, 3)), RNG.standard_normal((4, 3, 1, 1))
    inputs = keras.Input((5, 5, 3))
    model = _model(inputs, keras.layers.SeparableConv2D(4, 3, use_bias=False, name="sep")(inputs))
    transfer(model, {"sep": ("conv1", "pointwise")}, {"conv1.weight": depthwise, "pointwise.weight": pointwise},
             reference_epsilon=1e-5)
    expected = _torch_conv(_torch_conv(images, depthwise, np.zeros(3), groups=3), pointwise, np.zeros(4))
    np.testing.assert_allclose(_run(model, images), expected, atol=1e-4)


def test_dense_behind_flatten_reads_pytorch_chw_order():
    images = RNG.standard_normal((2, 2, 3, 4))
    weight, bias = RNG.standard_normal((5, 24)), RNG.standard_normal(5)
    inputs = keras.Input((2, 3, 4))
    outputs = keras.layers.Dense(5, name="fc")(keras.layers.Flatten()(inputs))
    model = _model(inputs, outputs)
    transfer(model, {"fc": "classifier.1"}, {"classifier.1.weight": weight, "classifier.1.bias": bias},
             reference_epsilon=1e-5)
    torch_flattened = images.transpose(0, 3, 1, 2).reshape(2, -1)
    np.testing.assert_allclose(_run(model, images), torch_flattened @ weight.T + bias, atol=1e-4)


def test_linear_onto_pointwise_conv():
    features = RNG.standard_normal((2, 1, 1, 6))
    weight, bias = RNG.standard_normal((3, 6)), RNG.standard_normal(3)
    inputs = keras.Input((1, 1, 6))
    model = _model(inputs, keras.layers.Conv2D(3, 1, name="head")(inputs))
    transfer(model, {"head": "fc"}, {"fc.weight": weight, "fc.bias": bias}, reference_epsilon=1e-5)
    np.testing.assert_allclose(_run(model, features)[:, 0, 0], features[:, 0, 0] @ weight.T + bias, atol=1e-4)


def test_pointwise_conv_onto_dense():
    features = RNG.standard_normal((2, 6))
    weight, bias = RNG.standard_normal((3, 6, 1, 1)), RNG.standard_normal(3)
    inputs = keras.Input((6,))
    model = _model(inputs, keras.layers.Dense(3, name="head")(inputs))
    transfer(model, {"head": "classifier"}, {"classifier.weight": weight, "classifier.bias": bias},
             reference_epsilon=1e-5)
    np.testing.assert_allclose(_run(model, features), features @ weight[:, :, 0, 0].T + bias, atol=1e-4)


def _bn_state(channels, gamma=None):
    return {
        "bn.weight": RNG.uniform(0.5, 1.5, channels) if gamma is None else gamma,
        "bn.bias": RNG.standard_normal(channels),
        "bn.running_mean": RNG.standard_normal(channels),
        "bn.running_var": RNG.uniform(1e-4, 2e-4, channels),  # small, so that epsilon matters
        "bn.num_batches_tracked": np.array(10),
    }


def test_batch_norm_folds_reference_epsilon_into_variance():
    images = RNG.standard_normal((2, 3, 3, 4))
    state = _bn_state(4)
    inputs = keras.Input((3, 3, 4))
    model = _model(inputs, keras.layers.BatchNormalization(epsilon=1e-3, name="bn")(inputs))
    transfer(model, {"bn": "bn"}, state, reference_epsilon=1e-5)
    expected = (images - state["bn.running_mean"]) / np.sqrt(state["bn.running_var"] + 1e-5)
    expected = expected * state["bn.weight"] + state["bn.bias"]
    np.testing.assert_allclose(_run(model, images), expected, rtol=1e-4, atol=1e-4)


def test_batch_norm_equals_reference_when_epsilon_folds_into_variance():
    images = RNG.standard_normal((2, 3, 3, 4))
    state = {**_bn_state(4), "bn.running_var": RNG.uniform(0.5, 2.0, 4)}
    inputs = keras.Input((3, 3, 4))
    model = _model(inputs, keras.layers.BatchNormalization(epsilon=1.001e-5, scale=False, name="bn")(inputs))
    state["bn.weight"] = np.ones(4)
    transfer(model, {"bn": "bn"}, state, reference_epsilon=1e-5)
    expected = (images - state["bn.running_mean"]) / np.sqrt(state["bn.running_var"] + 1e-5) + state["bn.bias"]
    np.testing.assert_allclose(_run(model, images), expected, rtol=1e-5, atol=1e-5)


def test_batch_norm_without_gamma_refuses_what_needs_one():
    inputs = keras.Input((3, 3, 4))
    model = _model(inputs, keras.layers.BatchNormalization(scale=False, name="bn")(inputs))
    large_variance = RNG.uniform(0.5, 2.0, 4)
    with pytest.raises(ValueError, match=r"'bn' has no BatchNorm gamma.*reference's bn needs one"):
        transfer(model, {"bn": "bn"}, {**_bn_state(4), "bn.running_var": large_variance}, reference_epsilon=1e-5)
    with pytest.raises(ValueError, match=r"'bn' has no BatchNorm gamma"):  # var + 1e-5 below our 1e-3
        transfer(model, {"bn": "bn"}, _bn_state(4, gamma=np.ones(4)), reference_epsilon=1e-5)
    transfer(model, {"bn": "bn"}, {**_bn_state(4, gamma=np.ones(4)), "bn.running_var": large_variance},
             reference_epsilon=1e-5)
    assert len(model.get_layer("bn").get_weights()) == 3


def _conv_model():
    inputs = keras.Input((4, 4, 3))
    return _model(inputs, keras.layers.Conv2D(2, 1, name="conv")(inputs))


def test_transfer_names_missing_tensor():
    with pytest.raises(ValueError, match=r"no tensor 'c\.bias'"):
        transfer(_conv_model(), {"conv": "c"}, {"c.weight": np.zeros((2, 3, 1, 1))}, reference_epsilon=1e-5)


def test_transfer_names_shape_mismatch():
    state = {"c.weight": np.zeros((5, 3, 1, 1)), "c.bias": np.zeros(5)}
    with pytest.raises(ValueError, match=r"Layer 'conv' has weights of shapes \[\(1, 1, 3, 2\), \(2,\)\]"):
        transfer(_conv_model(), {"conv": "c"}, state, reference_epsilon=1e-5)


def test_transfer_names_leftover_tensors_and_leaves_weights_alone():
    model = _conv_model()
    before = [weight.copy() for weight in model.get_weights()]
    state = {"c.weight": np.ones((2, 3, 1, 1)), "c.bias": np.ones(2), "aux.fc.weight": np.ones((3, 3))}
    with pytest.raises(ValueError, match=r"1 reference tensors have no layer.*aux\.fc\.weight"):
        transfer(model, {"conv": "c"}, state, reference_epsilon=1e-5)
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)
    transfer(model, {"conv": "c"}, state, reference_epsilon=1e-5, strict=False)
    np.testing.assert_array_equal(model.get_layer("conv").get_weights()[1], np.ones(2))


def test_transfer_names_unmapped_layer():
    with pytest.raises(ValueError, match=r"no reference tensor for layer 'conv'"):
        transfer(_conv_model(), {}, {}, reference_epsilon=1e-5)


def test_rules_name_every_weighted_layer_or_list_the_rest():
    inputs = keras.Input((4, 4, 3))
    x = keras.layers.Conv2D(2, 1, name="block1_conv")(inputs)
    x = keras.layers.Conv2D(2, 1, name="block2_conv")(x)
    model = _model(inputs, keras.layers.Dense(2, name="head")(x))
    rules = [(r"block(\d)_conv", lambda match: f"features.{int(match[1]) - 1}")]
    with pytest.raises(ValueError, match="head"):
        layer_map_from_rules(model, rules)
    mapping = layer_map_from_rules(model, [*rules, ("head", "fc")])
    assert mapping == {"block1_conv": "features.0", "block2_conv": "features.1", "head": "fc"}


def test_references_point_at_registered_models_with_known_libraries():
    assert convert.REFERENCES, "no registered model has a PyTorch reference"
    for name, reference in convert.REFERENCES.items():
        assert keras_archs_info(name).torch_reference is reference
        assert reference.library in ("torchvision", "timm")


def test_every_registered_model_has_a_reference_or_the_reason_it_has_none():
    import keras_archs

    with_reference, without = set(convert.REFERENCES), set(convert.WITHOUT_REFERENCE)
    assert not with_reference & without
    assert with_reference | without == set(keras_archs.list_models())


def keras_archs_info(name):
    import keras_archs

    return keras_archs.model_info(name)


def test_from_state_dict_refuses_model_without_reference():
    with pytest.raises(ValueError, match=r"'lenet5' has no PyTorch reference.*Received: name='lenet5'"):
        convert.from_state_dict("lenet5", {})


def test_from_state_dict_refuses_non_mapping():
    name = next(iter(convert.REFERENCES))
    with pytest.raises(TypeError, match="state_dict must map tensor names to arrays.*list"):
        convert.from_state_dict(name, [])


def test_read_state_dict_reads_safetensors(tmp_path):
    from safetensors.numpy import save_file

    arrays = {"conv1.weight": RNG.standard_normal((2, 3, 1, 1)).astype("float32"), "module.fc.bias": np.ones(2)}
    path = tmp_path / "weights.safetensors"
    save_file(arrays, str(path))
    read = convert.read_state_dict(path)
    assert sorted(read) == ["conv1.weight", "fc.bias"]  # DataParallel's "module." prefix is dropped
    np.testing.assert_array_equal(read["conv1.weight"], arrays["conv1.weight"])


def test_read_state_dict_refuses_unknown_suffix_and_missing_file(tmp_path):
    path = tmp_path / "weights.npz"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=r"ends in one of .*Received: path=.*weights\.npz"):
        convert.read_state_dict(path)
    with pytest.raises(ValueError, match="No such file"):
        convert.read_state_dict(tmp_path / "absent.safetensors")


def test_cli_convert_refuses_model_without_reference(tmp_path, capsys):
    checkpoint = tmp_path / "weights.safetensors"
    checkpoint.write_bytes(b"")
    assert main(["convert", "lenet5", str(checkpoint), "-o", str(tmp_path / "out.weights.h5")]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "'lenet5' has no PyTorch reference" in error[0]
    assert not list(tmp_path.glob("*.h5"))


def test_cli_convert_refuses_output_without_weights_suffix(tmp_path, capsys):
    name = next(iter(convert.REFERENCES))
    checkpoint = tmp_path / "weights.safetensors"
    checkpoint.write_bytes(b"")
    assert main(["convert", name, str(checkpoint), "-o", str(tmp_path / "out.h5")]) == 2
    assert "ends in .weights.h5. Received: --output=" in capsys.readouterr().err


def test_cli_convert_refuses_missing_checkpoint(tmp_path, capsys):
    name = next(iter(convert.REFERENCES))
    assert main(["convert", name, str(tmp_path / "absent.pth"), "-o", str(tmp_path / "out.weights.h5")]) == 2
    assert "No such checkpoint file" in capsys.readouterr().err


def test_cli_info_names_the_reference_and_the_options_that_equal_it(capsys):
    assert main(["info", "squeezenet1_1"]) == 0
    out = capsys.readouterr().out
    assert "PyTorch reference: torchvision.models.squeezenet1_1(), the same function as " in out
    assert "keras-archs convert squeezenet1_1 CHECKPOINT -o OUT.weights.h5" in out


def test_cli_info_says_why_a_model_has_no_reference(capsys):
    assert main(["info", "inception_v3"]) == 0
    assert "PyTorch reference: none (the keras.applications twin keeps TensorFlow's conventions; " \
        "the reference's form is tv_inception_v3)" in capsys.readouterr().out


def test_model_table_has_a_pytorch_reference_column():
    from keras_archs.cli import measure, zoo_table

    table = zoo_table([measure("squeezenet1_1"), measure("lenet5")], markdown=True).splitlines()
    assert table[0].endswith("| PyTorch reference |")
    assert table[2].endswith("| torchvision squeezenet1_1 |") and table[3].endswith("| - |")
