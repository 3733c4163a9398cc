"""keras_archs.litert_ops: each op of a .tflite file cut out, run alone, and placed (XNNPACK or builtin kernel)."""

import keras
import numpy as np
import pytest

from keras_archs import export, litert_ops


def _pooling_model():
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.AveragePooling2D(2)(x)
    x = keras.layers.Conv2D(8, 1)(x)
    return keras.Model(inputs, x)


@pytest.fixture(scope="module")
def pooling_files(tmp_path_factory):
    keras.utils.set_random_seed(0)
    model = _pooling_model()
    images = np.random.default_rng(0).uniform(0, 1, (32, 16, 16, 3)).astype("float32")
    directory = tmp_path_factory.mktemp("ops")
    # Converted as written (keras_archs.litert_forms would turn the pooling into a depthwise
    # convolution): a file with an op XNNPACK does not take in int8.
    return model, images, {
        quantize: export.to_tflite(model, directory / f"pool_{quantize}.tflite", quantize=quantize,
                                   representative_images=images, xnnpack_forms=False)
        for quantize in ("none", "int8")
    }


def test_every_op_is_listed_in_file_order_with_its_output_shape(pooling_files):
    _, _, paths = pooling_files
    report = litert_ops.op_report(paths["none"], runs=2)
    assert [op.op for op in report.ops] == ["CONV_2D", "AVERAGE_POOL_2D", "CONV_2D"]
    assert [op.output_shape for op in report.ops] == [(1, 16, 16, 8), (1, 8, 8, 8), (1, 8, 8, 8)]
    assert all(op.ms > 0 for op in report.ops) and report.model_ms > 0


def test_float_ops_run_in_xnnpack_and_int8_average_pooling_in_the_builtin_kernel(pooling_files):
    _, _, paths = pooling_files
    float_ops = litert_ops.op_report(paths["none"], runs=2)
    assert all(op.delegated for op in float_ops.ops) and float_ops.partitions == 1
    int8_ops = litert_ops.op_report(paths["int8"], runs=2)
    placement = {(op.op, op.dtype): op.delegated for op in int8_ops.ops}
    assert placement[("CONV_2D", "int8")] is True
    # XNNPACK has no int8 average pooling: the graph splits around it.
    assert placement[("AVERAGE_POOL_2D", "int8")] is False
    assert int8_ops.partitions == 2
    table = int8_ops.markdown("pool int8")
    assert "| AVERAGE_POOL_2D | int8 | builtin kernel | 1 |" in table
    assert "| CONV_2D | int8 | XNNPACK | 2 |" in table


def test_an_op_cut_out_alone_computes_what_it_computes_in_the_whole_file(pooling_files):
    from ai_edge_litert.interpreter import Interpreter

    _, images, paths = pooling_files
    model = litert_ops._read_model(paths["none"])
    values = litert_ops._all_tensor_values(paths["none"], np.random.default_rng(0))
    pooling = model.subgraphs[0].operators[1]
    content, inputs = litert_ops._one_op_model(model, pooling)
    interpreter = Interpreter(model_content=content)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], values[inputs[0]])
    interpreter.invoke()
    alone = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    np.testing.assert_allclose(alone, values[pooling.outputs[0]], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"path": "missing.tflite"}, "path must be an existing '.tflite' file. Received: path='missing.tflite'"),
        ({"runs": 0}, "runs must be a positive integer. Received: runs=0"),
        ({"num_threads": 0}, "num_threads must be a positive integer. Received: num_threads=0"),
    ],
)
def test_bad_arguments_are_refused(pooling_files, kwargs, message):
    _, _, paths = pooling_files
    arguments = {"path": paths["none"], **kwargs}
    with pytest.raises(ValueError) as error:
        litert_ops.op_report(arguments.pop("path"), **arguments)
    assert message in str(error.value)
