"""Bad input gets one line: `keras-archs` exits 2 with one stderr line, the library a ValueError.

Each line names the flag or argument and the value received; nothing is built or written.
"""

import argparse
import functools
import sys

import keras
import pytest

import keras_archs
from keras_archs import cli, cli_types


def _usage_error(argv, capsys):
    """Runs `keras-archs argv`; asserts exit code 2 and one stderr line, and returns that line."""
    code = cli.main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize(
    "flags, expected",
    [
        (["--samples", "0"], "argument --samples: must be a positive integer. Received: '0'"),
        (["--samples", "many"], "argument --samples: must be a positive integer. Received: 'many'"),
        (["--calibration-samples", "0"], "argument --calibration-samples: must be a positive integer. Received: '0'"),
        (["--latency-runs", "-1"], "argument --latency-runs: must be a positive integer. Received: '-1'"),
        (["--input-size", "0"], "argument --input-size: must be a positive integer. Received: '0'"),
        (["--quantize", "int4"], "argument --quantize: invalid choice: 'int4'"),
        (["--quantize", "int8", "--format", "saved_model"],
         "--quantize applies to --format tflite only. Received: --quantize int8 with --format saved_model"),
        (["--int8-io"], "--int8-io needs --quantize int8. Received: --quantize none"),
        (["--allow-select-tf-ops", "--format", "onnx"],
         "--allow-select-tf-ops applies to --format tflite only. Received: --format onnx"),
    ],
)
def test_export_refuses_bad_flags_before_building(flags, expected, tmp_path, capsys, layers_created):
    output = tmp_path / "out"
    line = _usage_error(["export", "lenet5", "--output", str(output), *flags], capsys)
    assert expected in line
    assert not layers_created and not output.exists()


@pytest.mark.parametrize(
    "fmt, hidden, install",
    [
        ("onnx", ["tf2onnx"], 'pip install "keras-archs[onnx]"'),
        ("onnx", ["onnxruntime"], 'pip install "keras-archs[onnx]"'),
        ("tflite", ["ai_edge_litert"], 'pip install "keras-archs[litert]"'),
    ],
)
def test_export_without_the_extra_names_the_pip_install(fmt, hidden, install, tmp_path, capsys, monkeypatch,
                                                       layers_created):
    for module in hidden:
        # A None entry in sys.modules makes the module unimportable, as if not installed.
        monkeypatch.setitem(sys.modules, module, None)
    output = tmp_path / "out"
    line = _usage_error(["export", "lenet5", "--format", fmt, "--output", str(output)], capsys)
    assert install in line and f"--format {fmt}" in line and hidden[0] in line
    assert not layers_created and not output.exists()


def test_export_of_a_text_file_named_keras_says_it_is_not_a_model_file(tmp_path, capsys):
    path = tmp_path / "x.keras"
    path.write_text("not a model\n")
    line = _usage_error(["export", str(path)], capsys)
    assert "not a Keras model file" in line and repr(str(path)) in line and "File not found" not in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.keras"]


def test_export_of_a_zip_that_is_no_keras_archive_is_one_line(tmp_path, capsys):
    import zipfile

    path = tmp_path / "x.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "a zip, but no config.json")
    line = _usage_error(["export", str(path)], capsys)
    assert "not a Keras model file" in line and repr(str(path)) in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.keras"]


def test_export_of_a_missing_file_or_a_directory_names_the_path(tmp_path, capsys):
    missing = tmp_path / "missing.keras"
    assert f"No such model file. Received: model={str(missing)!r}" in _usage_error(["export", str(missing)], capsys)
    folder = tmp_path / "folder.keras"
    folder.mkdir()
    assert f"not a file. Received: model={str(folder)!r}" in _usage_error(["export", str(folder)], capsys)
    other = tmp_path / "weights.h5"
    other.write_bytes(b"")
    assert f"neither. Received: model={str(other)!r}" in _usage_error(["export", str(other)], capsys)


def test_export_input_size_below_the_minimum_names_the_flag(tmp_path, capsys):
    output = tmp_path / "out"
    line = _usage_error(["export", "vgg11", "--input-size", "8", "--output", str(output)], capsys)
    assert line.startswith("keras-archs: --input-size 8 does not fit vgg11:") and "input_shape=(8, 8, 3)" in line
    assert not output.exists()


@pytest.mark.parametrize(
    "flags, expected",
    [
        (["--data", "/no/such/folder"], "Received: source='/no/such/folder'"),
        (["--split", "tset"], "Received: split='tset'"),
        (["--calibration-split", "tran"], "Received: split='tran'"),
    ],
)
def test_export_bad_data_source_or_split_is_one_line(flags, expected, tmp_path, capsys):
    output = tmp_path / "out"
    assert expected in _usage_error(["export", "lenet5", "--output", str(output), *flags], capsys)
    assert not output.exists()


@pytest.mark.parametrize(
    "typed, meant",
    [
        ("resnet-50", "resnet50"),
        ("ResNet50", "resnet50"),
        ("Resnet_50", "resnet50"),
        ("vgg-16", "vgg16"),
        ("mobilenetv2", "mobilenet_v2"),
        ("InceptionV3", "inception_v3"),
        ("squeezenet1.1", "squeezenet1_1"),
        ("ResNeXt50", "resnext50_32x4d"),  # the constructor's name
        ("resnt50", "resnet50"),  # a typo: the close-spelling fallback
    ],
)
def test_near_miss_names_get_did_you_mean(typed, meant):
    with pytest.raises(ValueError, match=f"Did you mean '{meant}'") as error:
        keras_archs.get_model(typed)
    assert f"Received: name={typed!r}" in str(error.value)


@pytest.mark.parametrize("typed", ["transformer", "resnet9000", "resnet51", "vit_b16", "efficientnet_b0"])
def test_unrelated_names_get_no_suggestion(typed):
    with pytest.raises(ValueError, match=f"Received: name={typed!r}") as error:
        keras_archs.model_info(typed)
    assert "Did you mean" not in str(error.value) and "Similar names" not in str(error.value)


def test_cli_near_miss_is_one_line_with_the_suggestion(capsys):
    line = _usage_error(["info", "resnet-50"], capsys)
    assert "Did you mean 'resnet50'?" in line and "Received: name='resnet-50'" in line


@pytest.fixture
def channels_first():
    """Keras set to channels-first for the test; the previous setting is restored after it."""
    previous = keras.config.image_data_format()
    keras.config.set_image_data_format("channels_first")
    try:
        yield
    finally:
        keras.config.set_image_data_format(previous)


@pytest.mark.parametrize("build", [
    keras_archs.ResNet50,
    functools.partial(keras_archs.get_model, "vgg11", input_shape=(32, 32, 3), classes=2),
    functools.partial(keras_archs.get_model, "mobilenet_v2", include_top=False),
    functools.partial(keras_archs.get_model, "lenet5_paper"),
])
def test_channels_first_is_refused_before_any_layer(build, channels_first, layers_created):
    with pytest.raises(ValueError, match=r"channels_last.*Received: keras.config.image_data_format\(\)='channels_first'"):
        build()
    assert not layers_created


def test_channels_first_through_the_cli_is_one_line(channels_first, tmp_path, capsys):
    output = tmp_path / "out"
    line = _usage_error(["export", "lenet5", "--output", str(output)], capsys)
    assert "image_data_format()='channels_first'" in line and not output.exists()


def test_every_keras_archs_flag_has_help():
    parser = cli.build_parser()
    commands = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    missing = [
        f"{command} {action.dest}"
        for command, sub in commands.choices.items()
        for action in sub._actions
        if not action.help
    ]
    assert missing == []


@pytest.mark.parametrize(
    "parse, text, message",
    [
        (cli_types.positive_int, "0", "must be a positive integer. Received: '0'"),
        (cli_types.positive_int, "1.5", "must be a positive integer. Received: '1.5'"),
        (cli_types.positive_float, "0", "must be a positive number. Received: '0'"),
        (cli_types.positive_float, "nan", "must be a positive number. Received: 'nan'"),
        (cli_types.non_negative_float, "-0.1", "must be a number >= 0. Received: '-0.1'"),
        (cli_types.json_object, "[1, 2]", "not a JSON array. Received: '[1, 2]'"),
        (cli_types.json_object, "{variant: v1.5}", "must be a JSON object (Expecting property name"),
    ],
)
def test_argument_types_refuse_with_the_value(parse, text, message):
    with pytest.raises(argparse.ArgumentTypeError) as error:
        parse(text)
    assert message in str(error.value)


def test_argument_types_accept_good_values():
    assert cli_types.positive_int("3") == 3
    assert cli_types.positive_float("0.1") == 0.1
    assert cli_types.non_negative_float("0") == 0.0
    assert cli_types.json_object('{"variant": "v1.5"}') == {"variant": "v1.5"}
    assert cli_types.first_line(None) is None and cli_types.first_line("Title.\n\nBody") == "Title."
