"""The training command line: one-line answers to bad settings, run directories, progress output."""

import json
import os
import subprocess
import sys

import pytest

from keras_archs.training import cli
from keras_archs.training import loop as loop_module

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
# A short LeNet-5 run on the digits.
QUICK = ["--model", "lenet5", "--data", "digits", "--epochs", "1", "--steps-per-epoch", "2", "--batch-size", "16",
         "--precision", "float32", "--verbose", "0"]


def _run(tmp_path, *flags, run_name="run"):
    return cli.main([*QUICK, "--output-dir", str(tmp_path), "--run-name", run_name, *flags])


def _one_error_line(capsys):
    error = capsys.readouterr().err.strip()
    assert "Traceback" not in error
    lines = [line for line in error.splitlines() if line.strip()]
    assert len(lines) == 1, error
    return lines[0]


@pytest.mark.parametrize("flags, named", [
    (["--epochs", "0"], "--epochs"),
    (["--batch-size", "0"], "--batch-size"),
    (["--learning-rate", "-1"], "--learning-rate"),
    (["--steps-per-epoch", "-3"], "--steps-per-epoch"),
    (["--model-options", "[1,2]"], "--model-options"),
    (["--model-options", "{not json"], "--model-options"),
    (["--verbose", "loud"], "--verbose"),
])
def test_bad_flag_values_are_one_usage_line_naming_flag_and_value(tmp_path, capsys, flags, named):
    with pytest.raises(SystemExit) as exit_info:
        _run(tmp_path, *flags)
    assert exit_info.value.code == 2
    line = _one_error_line(capsys)
    assert named in line and flags[1] in line
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("flags, expected", [
    (["--model-options", '{"nonsense_option": 3}'], "nonsense_option"),
    (["--model-options", '{"classes": 3}'], "classes"),
    (["--model", "LeNet-5"], "Did you mean 'lenet5'"),
])
def test_bad_settings_exit_2_with_one_line_and_leave_no_run_directory(tmp_path, capsys, flags, expected):
    assert _run(tmp_path, *flags) == 2
    assert expected in _one_error_line(capsys)
    assert os.listdir(tmp_path) == []


def test_a_batch_larger_than_the_data_is_refused_with_the_data_size(tmp_path, capsys):
    # The preset's epochs, whole passes over the data (no --steps-per-epoch).
    assert cli.main(["--model", "lenet5", "--batch-size", "4096", "--output-dir", str(tmp_path)]) == 2
    line = _one_error_line(capsys)
    assert "1258 training examples" in line and "batch_size=4096" in line
    assert os.listdir(tmp_path) == []


def test_reusing_a_run_name_for_another_model_refuses_before_touching_it(tmp_path, capsys):
    assert _run(tmp_path) == 0
    config_file = tmp_path / "run" / "config.json"
    before = config_file.read_text()
    checkpoints = sorted(os.listdir(tmp_path / "run" / "checkpoints"))
    capsys.readouterr()
    assert _run(tmp_path, "--model", "resnet20") == 2
    line = _one_error_line(capsys)
    assert "model='lenet5'" in line and "model='resnet20'" in line and "--run-name" in line
    assert config_file.read_text() == before
    assert sorted(os.listdir(tmp_path / "run" / "checkpoints")) == checkpoints


def test_a_run_failing_before_its_first_checkpoint_removes_its_directory(tmp_path, monkeypatch):
    def failing_fit(*args, **kwargs):
        raise RuntimeError("the data went away")

    monkeypatch.setattr(loop_module.Trainer, "fit", failing_fit)
    with pytest.raises(RuntimeError):
        _run(tmp_path)
    assert os.listdir(tmp_path) == []


def test_resumed_run_prints_the_epoch_and_step_it_continues_from(tmp_path, capsys):
    assert _run(tmp_path) == 0
    capsys.readouterr()
    assert _run(tmp_path, "--epochs", "2", "--verbose", "2") == 0
    resumed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Resuming")]
    assert len(resumed) == 1 and "epoch 2 of 2, step 0 of 2" in resumed[0], resumed


def test_progress_without_a_terminal_is_plain_lines_one_per_epoch(tmp_path, capsys):
    # The later --verbose wins over QUICK's.
    assert _run(tmp_path, "--verbose", "auto", "--epochs", "2", run_name="plain") == 0
    printed = capsys.readouterr().out
    assert "\r" not in printed and "\x1b[" not in printed
    assert [line for line in printed.splitlines() if line.startswith("Epoch ")] == ["Epoch 1/2", "Epoch 2/2"]
    config = json.loads((tmp_path / "plain" / "config.json").read_text())
    assert config["verbose"] == "auto"


def test_every_flag_has_help_text():
    parser = cli.build_parser("x")
    missing = [action.option_strings for action in parser._actions if action.option_strings and not action.help]
    assert missing == []


@pytest.mark.parametrize("recipe, shown", [
    ("train_cifar.py", ["(default: cifar10)", "(default: 32)"]),
    ("train_imagenet.py", ["(default: imagenet2012)", "(default: 1000)"]),
    ("train.py", ["(default: digits)", "(default: lenet5)"]),
])
def test_recipe_help_shows_the_recipe_defaults(recipe, shown):
    run = subprocess.run([sys.executable, os.path.join(ROOT, "recipes", recipe), "--help"],
                         capture_output=True, text=True, env=ENV, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    text = " ".join(run.stdout.split())
    for default in shown:
        assert default in text, (default, run.stdout)


def test_an_unknown_data_set_name_is_one_short_line_with_a_suggestion(tmp_path, capsys):
    assert _run(tmp_path, "--data", "cifar1O") == 2
    line = _one_error_line(capsys)
    assert "Did you mean 'cifar10'" in line and "data='cifar1O'" in line and len(line) < 400
    assert os.listdir(tmp_path) == []


def test_an_unprepared_tfds_data_set_says_how_to_prepare_it(tmp_path, capsys):
    assert _run(tmp_path / "runs", "--data", "cifar10", "--data-dir", str(tmp_path / "tfds")) == 2
    line = _one_error_line(capsys)
    assert "--download" in line and "data='cifar10'" in line
    assert not (tmp_path / "runs").exists()
