"""The recipes' command line: flags, presets per recipe, and a TFDS run end to end (mocked)."""

import json
import os
import subprocess
import sys

import tensorflow_datasets as tfds

from keras_archs.training import cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}


def test_flags_map_onto_the_run_config():
    args = cli.build_parser("x").parse_args(
        ["--model", "resnet50", "--strategy", "mirrored", "--precision", "mixed_bfloat16", "--jit-compile", "false",
         "--steps-per-execution", "8", "--model-options", '{"aux_logits": true}'])
    assert (args.model, args.strategy, args.precision, args.jit_compile, args.steps_per_execution) == (
        "resnet50", "mirrored", "mixed_bfloat16", False, 8)
    assert args.model_options == {"aux_logits": True}
    assert cli.build_parser("x", data="cifar10").parse_args([]).data == "cifar10"


def test_tfds_training_run_end_to_end(tmp_path, capsys):
    with tfds.testing.mock_data(num_examples=32):
        code = cli.main(["--model", "lenet5", "--data", "cifar10", "--epochs", "2", "--batch-size", "8",
                         "--steps-per-epoch", "3", "--validation-split", "test", "--output-dir", str(tmp_path),
                         "--run-name", "cifar", "--verbose", "0", "--precision", "float32"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "test accuracy:" in printed
    metrics = json.loads((tmp_path / "cifar" / "metrics.json").read_text())
    assert metrics["data"] == "cifar10" and 0.0 <= metrics["test_accuracy"] <= 1.0
    config = json.loads((tmp_path / "cifar" / "config.json").read_text())
    assert config["resolved"]["classes"] == 10 and config["resolved"]["channels"] == 1


def test_recipe_scripts_start_with_their_defaults():
    run = subprocess.run([sys.executable, os.path.join(ROOT, "recipes", "train_cifar.py"), "--model", "resnet50", "--help"],
                         capture_output=True, text=True, env=ENV, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "CIFAR" in run.stdout and "--strategy" in run.stdout
    run = subprocess.run([sys.executable, os.path.join(ROOT, "recipes", "train_imagenet.py"), "--model", "nonexistent_net"],
                         capture_output=True, text=True, env=ENV, timeout=120)
    assert run.returncode == 2 and "nonexistent_net" in run.stderr
