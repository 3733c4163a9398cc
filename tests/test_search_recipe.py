"""recipes/search.py end to end: a search killed mid-trial resumes; a chief and two workers.

Every run is tiny (one-node cells of three operations, 8 filters, the embedded digits,
one or two epochs) and runs the recipe as a subprocess, as a user would. These tests
train, so they carry the `search` marker: pytest.ini deselects it, and .ci/run runs
them as `pytest -n 2 -m search`.

Each scenario is one test function, not a module-scoped fixture shared by several:
pytest-xdist's default scheduling sends a module's tests to both workers, which would
run the costly scenario twice.
"""

import csv
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

import keras_archs
from conftest import infer, random_images, trainable_count
from keras_archs.layers.nas import genotype_from_json, genotype_to_json

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECIPE = os.path.join(ROOT, "recipes", "search.py")
# No KERASTUNER_* from the caller's environment: only the distributed test sets them.
ENV = {
    **{key: value for key, value in os.environ.items() if not key.startswith("KERASTUNER_")},
    "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow", "PYTHONUNBUFFERED": "1", "CUDA_VISIBLE_DEVICES": "",
}
# The smallest space that still has a convolution, a pooling and the identity.
TINY = ["--strategy", "evolution", "--nodes", "1", "--operations", "sep_conv_3x3,identity,avg_pool_3x3",
        "--precise-bn", "64", "--no-references", "--verbose", "2"]


def _command(output_dir, name, *flags):
    return [sys.executable, RECIPE, *TINY, "--output-dir", str(output_dir), "--search-name", name, *flags]


def _start(command, log_path, env=ENV):
    """Starts `command` in its own process group, its output going to `log_path`."""
    with open(log_path, "w") as log:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _kill_group(process):
    """SIGKILLs the process group of a process `_start` started, if it still runs."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait()


def _tail(path, characters=4000):
    with open(path, errors="replace") as handle:
        return handle.read()[-characters:]


def _read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _read_json(path):
    return json.loads(_read(path))


def _history_epochs(run_dir):
    with open(os.path.join(run_dir, "history.csv"), newline="") as handle:
        return [int(row["epoch"]) for row in csv.DictReader(handle)]


def _trials_csv(search_dir):
    with open(os.path.join(search_dir, "trials.csv"), newline="") as handle:
        return list(csv.DictReader(handle))


def _epoch_starts(output):
    """The "Epoch i/n" lines Keras prints (verbose 2) as an epoch starts, as "i/n".

    Keras prints them only for a training of more than one epoch.
    """
    return re.findall(r"^Epoch (\d+/\d+)\s*$", output, flags=re.MULTILINE)


def _epochs_trained(output):
    """How many epochs a recipe's output shows trained: verbose 2 prints a line as each ends."""
    return len(re.findall(r"^\d+/\d+ - .* - accuracy: .* - val_accuracy: ", output, flags=re.MULTILINE))


@pytest.mark.search
def test_a_search_killed_during_a_trial_resumes_it_from_its_checkpoint_and_reports_and_exports_the_best(tmp_path):
    """SIGKILL in trial 1's second epoch; the rerun finishes trials 1 and 2 and the final model.

    Trial 0 (finished before the kill) is not run again, trial 1 resumes at epoch 2 from
    its checkpoint, every trial is COMPLETED once; then the report, best_genotype.json
    (which builds with `keras_archs.NASNet`) and the int8 TFLite export of the final model.
    """
    command = _command(tmp_path, "resume", "--trials", "3", "--epochs", "2", "--final-epochs", "1")
    search_dir = tmp_path / "resume"
    tuner_dir = search_dir / "tuner"
    trial_0, trial_1 = tuner_dir / "trial_0", tuner_dir / "trial_1"
    # The trainer writes the `checkpoint` index (atomically) after the checkpoint's files at
    # each epoch's end, and history.csv's row before it: once trial 1's index exists, its
    # epoch 1 is in history.csv and the checkpoint, and epoch 2 is running.
    checkpoint_index = trial_1 / "run" / "checkpoints" / "checkpoint"

    first_log = tmp_path / "first.log"
    process = _start(command, first_log)
    try:
        deadline = time.time() + 400
        while not checkpoint_index.exists():
            assert process.poll() is None, f"the search ended before trial 1's first checkpoint:\n{_tail(first_log)}"
            assert time.time() < deadline, f"no checkpoint of trial 1 in 400 s:\n{_tail(first_log)}"
            time.sleep(0.02)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    finally:
        _kill_group(process)
    assert process.returncode == -signal.SIGKILL, _tail(first_log)

    # The kill landed where it was meant to: trial 0 finished, trial 1 in its second epoch.
    assert 'model_checkpoint_path: "ckpt-1"' in _read(checkpoint_index), _read(checkpoint_index)
    assert _history_epochs(trial_1 / "run") == [0]
    assert _read_json(trial_1 / "trial.json")["status"] == "RUNNING"
    assert not (trial_1 / "run" / "metrics.json").exists()
    assert not (tuner_dir / "trial_2").exists()
    oracle = _read_json(tuner_dir / "oracle.json")
    assert oracle["end_order"] == ["0"] and list(oracle["ongoing_trials"].values()) == ["1"]
    trial_0_before = {name: _read(trial_0 / name) for name in
                      ("trial.json", "genotype.json", "run/history.csv", "run/metrics.json", "run/checkpoints/checkpoint")}
    assert _read_json(trial_0 / "trial.json")["status"] == "COMPLETED"
    # Nothing half-written is left behind by the kill.
    assert not [name for _, _, names in os.walk(search_dir) for name in names if ".tmp" in name]

    rerun = subprocess.run(command, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=500)
    output = rerun.stdout
    assert rerun.returncode == 0, output[-4000:] + rerun.stderr[-4000:]

    # Trial 1 resumed at epoch 2 from its checkpoint; trial 0 was not trained again.
    resumed = [line for line in output.splitlines() if line.startswith("Resuming from ")]
    assert len(resumed) == 1 and re.search(r"trial_1[/\\]run[/\\]checkpoints: epoch 2 of 2,", resumed[0]), resumed
    # Trial 1's second epoch, trial 2's two epochs, then the final model's one.
    assert _epoch_starts(output) == ["2/2", "1/2", "2/2"], output[-4000:]
    assert _epochs_trained(output) == 4, output[-4000:]
    assert {name: _read(trial_0 / name) for name in trial_0_before} == trial_0_before
    for trial in ("trial_0", "trial_1", "trial_2"):
        assert _history_epochs(tuner_dir / trial / "run") == [0, 1], trial

    # Every trial COMPLETED, and ended, exactly once.
    assert sorted(name for name in os.listdir(tuner_dir) if name.startswith("trial_")) == ["trial_0", "trial_1", "trial_2"]
    for trial_id in "012":
        assert _read_json(tuner_dir / f"trial_{trial_id}" / "trial.json")["status"] == "COMPLETED", trial_id
    oracle = _read_json(tuner_dir / "oracle.json")
    assert oracle["start_order"] == ["0", "1", "2"]
    assert oracle["end_order"] == ["0", "1", "2"]
    assert oracle["run_times"] == {"0": 1, "1": 1, "2": 1}
    assert oracle["ongoing_trials"] == {} and oracle["retry_queue"] == []

    # The report: every trial once, and the best of them.
    rows = _trials_csv(search_dir)
    assert [(row["trial"], row["status"]) for row in rows] == [("0", "COMPLETED"), ("1", "COMPLETED"), ("2", "COMPLETED")]
    assert "3 trials, 3 completed" in _read(search_dir / "report.md")
    assert (search_dir / "pareto.png").stat().st_size > 0
    report = _read_json(search_dir / "report.json")
    best = max(report["trials"], key=lambda record: record["reward"])
    assert report["best"]["trial"] == best["trial"]

    # The printed best trial, its accuracy and MACs, and its genotype, as saved.
    printed = re.search(r"^best trial (\d+): reward [\d.]+, validation accuracy ([\d.]+), ([\d.]+)M MACs, "
                        r"([\d,]+) parameters$", output, flags=re.MULTILINE)
    assert printed, output[-4000:]
    assert printed[1] == best["trial"]
    assert printed[2] == f"{best['accuracy']:.4f}" and printed[3] == f"{best['macs'] / 1e6:.2f}"
    printed_genotype = re.search(r"^best genotype: (\{.*\})$", output, flags=re.MULTILINE)
    assert printed_genotype, output[-4000:]
    genotype = genotype_from_json(_read(search_dir / "best_genotype.json"))
    assert genotype_to_json(genotype) == genotype_to_json(genotype_from_json(printed_genotype[1])) == best["genotype"]
    model = keras_archs.NASNet(genotype=genotype, num_cells=1, filters=8, classes=10, input_shape=(32, 32, 3))
    assert infer(model, random_images(32)).shape == (2, 10)
    # At the search's stem width it is the best candidate itself.
    candidate = keras_archs.NASNet(genotype=genotype, num_cells=1, filters=8, stem_filters=8, classes=10,
                                   input_shape=(32, 32, 3))
    assert trainable_count(candidate) == best["params"]

    # The final model: the best genotype, trained, exported to int8 TFLite, as printed.
    final_dir = search_dir / "final"
    assert genotype_to_json(genotype_from_json(_read(final_dir / "genotype.json"))) == best["genotype"]
    assert (final_dir / "run" / "model.keras").exists()
    summary = _read_json(final_dir / "summary.json")
    assert 0.0 <= summary["int8_accuracy"] <= 1.0
    exported = re.search(r"^final model .*int8 TFLite accuracy ([\d.]+) on (\d+) images, ([\d.]+) KB: (.+)$", output,
                         flags=re.MULTILINE)
    assert exported, output[-4000:]
    tflite = exported[4]
    assert os.path.samefile(tflite, final_dir / "model_int8.tflite")
    assert exported[1] == f"{summary['int8_accuracy']:.4f}" and int(exported[2]) == summary["int8_images"]
    assert exported[3] == f"{os.path.getsize(tflite) / 1024:.1f}"
    export_report = _read_json(final_dir / "export_report.json")
    int8 = [entry for entry in export_report.values() if entry["quantize"] == "int8"]
    assert len(int8) == 1 and os.path.samefile(int8[0]["path"], tflite)
    assert int8[0]["accuracy"] == summary["int8_accuracy"] and int8[0]["size_bytes"] == os.path.getsize(tflite)


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _events_pids(run_dir):
    """The ids of the processes that wrote a run's TensorBoard training logs.

    TensorFlow names an events file events.out.tfevents.<time>.<host>.<pid>.<n>.v2.
    """
    names = os.listdir(os.path.join(run_dir, "logs", "train"))
    return {int(re.fullmatch(r"events\.out\.tfevents\..+\.(\d+)\.\d+\.v2", name)[1]) for name in names}


@pytest.mark.search
def test_a_chief_and_two_workers_run_every_trial_once_and_the_chief_reports_them_all(tmp_path):
    """KerasTuner's distributed mode: the chief serves the oracle, two workers share the trials.

    Each of the 4 trials is trained by exactly one worker, both workers train, the chief
    trains none; the chief's report lists every trial once, COMPLETED.
    """
    port = _free_port()
    command = _command(tmp_path, "distributed", "--trials", "4", "--epochs", "1", "--no-final")
    processes, logs = {}, {}
    try:
        for tuner_id in ("chief", "worker0", "worker1"):
            env = {**ENV, "KERASTUNER_TUNER_ID": tuner_id, "KERASTUNER_ORACLE_IP": "127.0.0.1",
                   "KERASTUNER_ORACLE_PORT": str(port)}
            logs[tuner_id] = tmp_path / f"{tuner_id}.log"
            processes[tuner_id] = _start(command, logs[tuner_id], env=env)
        # The chief checks every 20 s whether the workers are done before it reports.
        deadline = time.time() + 600
        for tuner_id, process in processes.items():
            try:
                process.wait(timeout=max(1.0, deadline - time.time()))
            except subprocess.TimeoutExpired:
                pytest.fail(f"{tuner_id} still runs after 600 s:\n"
                            + "\n".join(f"--- {name}\n{_tail(path, 2000)}" for name, path in logs.items()))
    finally:
        for process in processes.values():
            _kill_group(process)
    for tuner_id, process in processes.items():
        assert process.returncode == 0, f"{tuner_id}:\n{_tail(logs[tuner_id])}"
    output = {tuner_id: _read(path) for tuner_id, path in logs.items()}
    search_dir = tmp_path / "distributed"
    tuner_dir = search_dir / "tuner"
    trial_ids = ["0", "1", "2", "3"]

    # The chief's report: every trial once, all COMPLETED.
    report = _read_json(search_dir / "report.json")
    assert sorted(record["trial"] for record in report["trials"]) == trial_ids
    assert all(record["status"] == "COMPLETED" for record in report["trials"]), report["trials"]
    rows = _trials_csv(search_dir)
    assert sorted(row["trial"] for row in rows) == trial_ids and {row["status"] for row in rows} == {"COMPLETED"}
    assert "trials: 4, completed: 4" in output["chief"], output["chief"][-4000:]
    assert (search_dir / "best_genotype.json").exists() and (search_dir / "report.md").exists()
    oracle = _read_json(tuner_dir / "oracle.json")
    assert sorted(oracle["end_order"]) == trial_ids and sorted(oracle["start_order"]) == trial_ids
    assert oracle["run_times"] == {trial_id: 1 for trial_id in trial_ids}
    # Saved after the last trial ended: a rerun of the chief finds no trial to run again.
    assert oracle["ongoing_trials"] == {}
    assert sorted(name for name in os.listdir(tuner_dir) if name.startswith("trial_")) == [f"trial_{i}" for i in trial_ids]
    for trial_id in trial_ids:
        assert _read_json(tuner_dir / f"trial_{trial_id}" / "trial.json")["status"] == "COMPLETED", trial_id
        assert _history_epochs(tuner_dir / f"trial_{trial_id}" / "run") == [0], trial_id

    # Who trained what: each trial's logs were written by one worker, and each worker
    # trained (one epoch per trial) exactly the trials whose logs it wrote.
    workers = {processes[tuner_id].pid: tuner_id for tuner_id in ("worker0", "worker1")}
    trained_by = {}
    for trial_id in trial_ids:
        pids = _events_pids(tuner_dir / f"trial_{trial_id}" / "run")
        assert len(pids) == 1 and pids <= set(workers), (trial_id, pids, workers)
        trained_by[trial_id] = workers[pids.pop()]
    for tuner_id in ("worker0", "worker1"):
        ran = [trial_id for trial_id, worker in trained_by.items() if worker == tuner_id]
        assert ran, f"{tuner_id} trained no trial: {trained_by}"
        assert _epochs_trained(output[tuner_id]) == len(ran), output[tuner_id][-4000:]
        assert f"worker {tuner_id}: no trials left" in output[tuner_id]
    assert _epochs_trained(output["chief"]) == 0, output["chief"][-4000:]


@pytest.mark.search
def test_a_search_on_tfds_data_scores_on_a_held_out_slice_of_train_and_reports_on_test(tmp_path, capsys):
    """The TFDS code path (tfds.testing.mock_data for CIFAR-10) with the papers' held-out training slice."""
    import tensorflow_datasets as tfds

    from keras_archs.search import cli

    tiny = ["--nodes", "1", "--operations", "identity,avg_pool_3x3", "--epochs", "1", "--precise-bn", "16",
            "--precision", "float32", "--no-references", "--output-dir", str(tmp_path)]
    with tfds.testing.mock_data(num_examples=40):
        # A batch larger than the training slice is refused by the first trial, before it trains.
        code = cli.main(["--data", "cifar10", "--train-split", "train[:75%]", "--validation-split", "train[75%:]",
                         "--trials", "2", "--search-name", "too-big", *tiny])
        err = capsys.readouterr().err
        assert code == 2 and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1 and "batch_size=64" in err
        assert not (tmp_path / "too-big").exists()

        code = cli.main(["--data", "cifar10", "--train-split", "train[:75%]", "--validation-split", "train[75%:]",
                         "--trials", "2", "--batch-size", "8", "--export-samples", "16", "--calibration-samples", "16",
                         "--search-name", "cifar", *tiny])
    assert code == 0
    search = tmp_path / "cifar"
    for trial_id in ("0", "1"):
        config = json.loads((search / "tuner" / f"trial_{trial_id}" / "run" / "config.json").read_text())
        assert (config["data"], config["train_split"]) == ("cifar10", "train[:75%]")
        assert config["validation_split"] == config["test_split"] == "train[75%:]"
    summary = json.loads((search / "final" / "summary.json").read_text())
    assert summary["test_split"] == "test" and summary["int8_images"] == 16
    assert (search / "final" / "model_int8.tflite").is_file()
