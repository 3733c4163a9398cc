"""MirroredStrategy over two logical CPUs and MultiWorkerMirroredStrategy over loopback.

Both run in fresh processes: logical devices must be configured before TensorFlow starts,
and each worker of a multi-worker cluster is its own process (TF_CONFIG).
"""

import json
import os
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow", "CUDA_VISIBLE_DEVICES": ""}

# A tiny convolutional classifier on the real digits, identical in every process.
COMMON = textwrap.dedent(
    """
    import json, os, sys
    import numpy as np
    import tensorflow as tf
    import keras
    from keras_archs.data import load_dataset
    from keras_archs.training import Trainer

    def tiny_model():
        keras.utils.set_random_seed(0)
        inputs = keras.Input((16, 16, 1))
        x = keras.layers.Conv2D(4, 3, strides=2, activation="relu")(inputs)
        x = keras.layers.Flatten()(x)
        return keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))

    def digits(input_context=None, batch=16, repeat=False):
        return load_dataset("digits", "train", batch_size=batch, image_size=16, channels=1, preprocessing="unit",
                            shuffle=False, training=False, drop_remainder=True, repeat=repeat, input_context=input_context)
    """
)

MIRRORED = COMMON + textwrap.dedent(
    """
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    results = {}
    for name, strategy in (("one", tf.distribute.OneDeviceStrategy("/cpu:0")),
                           ("mirrored", tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))):
        with strategy.scope():
            model = tiny_model()
            optimizer = keras.optimizers.SGD(0.1)
        trainer = Trainer(model, optimizer, keras.losses.CategoricalCrossentropy(), strategy=strategy)
        first = trainer.fit(digits().take(1), epochs=1, verbose=0).history["loss"][0]
        first_weights = [w.tolist() for w in model.get_weights()]
        history = trainer.fit(digits(), epochs=2, verbose=0).history
        results[name] = {"replicas": strategy.num_replicas_in_sync, "first_loss": first, "first_weights": first_weights,
                         "losses": history["loss"], "accuracy": history["accuracy"][-1]}
    print("RESULT " + json.dumps(results))
    """
)

WORKER = COMMON + textwrap.dedent(
    """
    out = sys.argv[1]
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    with strategy.scope():
        model = tiny_model()
        optimizer = keras.optimizers.SGD(0.5, momentum=0.9)
    trainer = Trainer(model, optimizer, keras.losses.CategoricalCrossentropy(), strategy=strategy)
    history = trainer.fit(lambda context: digits(context, batch=32, repeat=True), epochs=1, steps_per_epoch=20,
                          validation_data=lambda context: load_dataset("digits", "validation", batch_size=32,
                              image_size=16, channels=1, preprocessing="unit", input_context=context), verbose=0)
    np.savez(out, *model.get_weights())
    print("RESULT " + json.dumps({"epochs": len(history.history["loss"]), "loss": history.history["loss"][-1],
                                  "val_accuracy": history.history["val_accuracy"][-1],
                                  "replicas": strategy.num_replicas_in_sync}))
    """
)


def _result(output):
    lines = [line for line in output.splitlines() if line.startswith("RESULT ")]
    assert lines, output[-3000:]
    return json.loads(lines[-1][len("RESULT "):])


def test_mirrored_two_cpus_matches_one_device():
    run = subprocess.run([sys.executable, "-c", MIRRORED], capture_output=True, text=True, env=ENV, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    results = _result(run.stdout)
    one, mirrored = results["one"], results["mirrored"]
    assert one["replicas"] == 1 and mirrored["replicas"] == 2
    # Same global batch of 16: the mirrored step averages two halves of 8, which must equal
    # the mean over 16 up to float32 summation order.
    assert mirrored["first_loss"] == pytest.approx(one["first_loss"], rel=1e-5)
    for ours, reference in zip(mirrored["first_weights"], one["first_weights"]):
        np.testing.assert_allclose(ours, reference, rtol=1e-4, atol=1e-5)
    # Two more epochs follow the same trajectory, and the model learns.
    np.testing.assert_allclose(mirrored["losses"], one["losses"], rtol=1e-3)
    assert mirrored["losses"][-1] < 0.5 * mirrored["first_loss"]
    assert mirrored["accuracy"] > 0.8


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def test_multi_worker_two_processes_agree(tmp_path):
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    workers = []
    for index in range(2):
        config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        workers.append(subprocess.Popen(
            [sys.executable, "-c", WORKER, str(tmp_path / f"weights{index}.npz")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**ENV, "TF_CONFIG": config},
        ))
    outputs = []
    try:
        for worker in workers:
            stdout, stderr = worker.communicate(timeout=300)
            assert worker.returncode == 0, stderr[-3000:]
            outputs.append(_result(stdout))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    for result in outputs:
        assert result["epochs"] == 1 and result["replicas"] == 2
        assert np.isfinite(result["loss"])
    # Metrics are all-reduced: both workers report the same validation accuracy.
    assert outputs[0]["val_accuracy"] == pytest.approx(outputs[1]["val_accuracy"])
    first, second = (np.load(tmp_path / f"weights{index}.npz") for index in range(2))
    assert len(first.files) == 4
    for key in first.files:
        np.testing.assert_array_equal(first[key], second[key])
