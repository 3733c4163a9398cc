"""A run killed with SIGKILL during epoch 2 resumes at epoch 2 when started again."""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import keras
import keras_archs

RECIPE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "recipes", "train.py")
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow", "PYTHONUNBUFFERED": "1",
       "CUDA_VISIBLE_DEVICES": ""}


def _command(output_dir):
    # Small epochs of LeNet-5 on the digits; 3 epochs, a line per epoch.
    return [sys.executable, RECIPE, "--model", "lenet5", "--data", "digits", "--epochs", "3",
            "--steps-per-epoch", "40", "--batch-size", "32", "--output-dir", str(output_dir),
            "--run-name", "resume", "--verbose", "2", "--precision", "float32"]


def test_sigkill_in_epoch_two_resumes_at_epoch_two(tmp_path):
    process = subprocess.Popen(_command(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV)
    seen = []
    try:
        deadline = time.time() + 240
        for line in process.stdout:
            seen.append(line)
            if line.startswith("Epoch 2/3"):
                process.send_signal(signal.SIGKILL)
                break
            assert time.time() < deadline, "".join(seen[-20:])
    finally:
        process.kill()
        process.wait()
    assert process.returncode == -signal.SIGKILL, "".join(seen[-20:])
    run_dir = tmp_path / "resume"
    assert not (run_dir / "metrics.json").exists()
    assert (run_dir / "last.keras").exists()
    # Nothing half-written is left behind by the kill.
    assert not [name for name in os.listdir(run_dir) if ".tmp" in name]

    rerun = subprocess.run(_command(tmp_path), capture_output=True, text=True, env=ENV, timeout=240)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    epochs_run = [line.split()[1] for line in rerun.stdout.splitlines() if line.startswith("Epoch ")]
    assert epochs_run == ["2/3", "3/3"]
    with open(run_dir / "history.csv", newline="") as handle:
        assert [int(row["epoch"]) for row in csv.DictReader(handle)] == [0, 1, 2]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["test_accuracy"] > 0.5
    reloaded = keras.models.load_model(run_dir / "model.keras")
    assert reloaded.count_params() == keras_archs.get_model("lenet5").count_params()

