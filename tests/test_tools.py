"""The benchmark scripts under tools/ run end to end on a tiny configuration (no timings asserted)."""

import importlib.util
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _table_rows(output, model):
    return [line.split("|")[1:-1] for line in output.splitlines() if line.startswith(f"| {model} |")]


def _run_tool(*args):
    result = subprocess.run([sys.executable, str(ROOT / "tools" / args[0]), *args[1:]], capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_benchmark_tflite_converts_runs_and_reports_ratios_to_float32_with_progress_on_stderr():
    result = _run_tool("benchmark_tflite.py", "--models", "lenet5", "--quantize", "int8", "--runs", "2",
                       "--threads", "1", "2", "--ops", "--op-runs", "1")
    assert "[1/1] converting and timing lenet5" in result.stderr.splitlines()
    assert result.stdout.startswith("CPU: ") and " flags: " in result.stdout.splitlines()[0]
    rows = [row for row in _table_rows(result.stdout, "lenet5") if row[1].strip() in ("none", "int8")]
    assert [row[1].strip() for row in rows] == ["none", "int8"]
    float_row, int8_row = rows
    # size, then latency and its ratio at 1 thread and at 2 threads
    assert float(float_row[3]) == 1.0 and float(float_row[5]) == 1.0 and float(float_row[7]) == 1.0
    assert float(int8_row[4]) > 0 and float(int8_row[6]) > 0
    assert 0.2 < float(int8_row[3]) < 0.4  # int8 weights: about a quarter of the float32 file
    # --ops: where each file's time goes, op by op
    assert "**lenet5 float32**: " in result.stdout and "**lenet5 int8**:" in result.stdout
    assert "| CONV_2D | int8 | XNNPACK | 3 |" in result.stdout


def test_benchmark_tflite_trains_then_measures_agreement_on_held_out_digits():
    output = _run_tool("benchmark_tflite.py", "--models", "lenet5", "--quantize", "int8", "--runs", "2",
                       "--train-epochs", "2").stdout
    rows = {row[3].strip(): row for row in _table_rows(output, "lenet5")}
    assert set(rows) == {"none", "int8"}
    keras_accuracy = float(rows["int8"][6].strip(" %"))
    assert keras_accuracy > 50  # two epochs on the digits are far above chance (10%)
    assert float(rows["none"][8].strip(" %")) == 100.0  # float32 TFLite: the same predictions


def _load_tool(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--model", "lenet5"], "needs a keras.applications twin. Received: 'lenet5'"),
        (["--batch-size", "0"], "--batch-size must be a positive integer. Received: 0"),
    ],
)
def test_benchmark_train_jax_rejects_bad_arguments(argv, message, capsys):
    tool = _load_tool("benchmark_train_jax")
    with pytest.raises(SystemExit):
        tool.parse_args(argv)
    assert message in capsys.readouterr().err


def test_benchmark_train_jax_twins_give_the_same_outputs_on_this_backend():
    tool = _load_tool("benchmark_train_jax")
    import keras

    import keras_archs

    build = dict(weights=None, input_shape=(32, 32, 3), classes=4, classifier_activation=None)
    batch = tool.synthetic_batch(2, 32, 4)
    difference = tool.twin_output_difference(keras_archs.get_model("mobilenet_v2", **build),
                                             keras.applications.MobileNetV2(**build), batch)
    assert difference == 0.0
