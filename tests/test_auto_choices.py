"""Every branch of the "auto" strategy and XLA choices, forced with faked devices and clusters.

The CPU-only machines that run the tests take one branch of each; the others are reached by
faking what TensorFlow reports (visible devices, TF_CONFIG) and recording which strategy
class would be built, so each branch is tested on any machine.
"""

import collections
import json

import pytest
import tensorflow as tf

from keras_archs.training import strategy as strategy_module

FakeDevice = collections.namedtuple("FakeDevice", "name device_type")


def _fake_devices(monkeypatch, gpus=0, tpus=0):
    devices = {"GPU": [FakeDevice(f"/device:GPU:{index}", "GPU") for index in range(gpus)],
               "TPU": [FakeDevice(f"/device:TPU:{index}", "TPU") for index in range(tpus)]}
    monkeypatch.setattr(tf.config, "list_logical_devices", lambda kind=None: devices.get(kind, []))


def _record_strategies(monkeypatch):
    built = []

    def recorder(kind):
        def build(*args, **kwargs):
            built.append((kind, args, kwargs))
            return kind

        return build

    monkeypatch.setattr(tf.distribute, "MirroredStrategy", recorder("mirrored"))
    monkeypatch.setattr(tf.distribute, "MultiWorkerMirroredStrategy", recorder("multi_worker"))
    return built


def _cluster(workers, chief=False):
    cluster = {"worker": [f"localhost:{12000 + index}" for index in range(workers)]}
    if chief:
        cluster["chief"] = ["localhost:11999"]
    return json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 0}})


def test_auto_strategy_on_one_device_is_the_default_strategy(monkeypatch):
    _fake_devices(monkeypatch, gpus=1)
    monkeypatch.delenv("TF_CONFIG", raising=False)
    built = _record_strategies(monkeypatch)
    assert strategy_module.select_strategy("auto") is tf.distribute.get_strategy()
    assert built == []


def test_auto_strategy_with_several_gpus_mirrors_over_all_of_them(monkeypatch):
    _fake_devices(monkeypatch, gpus=4)
    monkeypatch.delenv("TF_CONFIG", raising=False)
    built = _record_strategies(monkeypatch)
    assert strategy_module.select_strategy("auto") == "mirrored"
    assert built == [("mirrored", ([f"/device:GPU:{index}" for index in range(4)],), {})]


@pytest.mark.parametrize("workers, chief", [(2, False), (1, True)])
def test_auto_strategy_with_a_tf_config_cluster_is_multi_worker(monkeypatch, workers, chief):
    _fake_devices(monkeypatch, gpus=2)
    monkeypatch.setenv("TF_CONFIG", _cluster(workers, chief))
    built = _record_strategies(monkeypatch)
    assert strategy_module.select_strategy("auto") == "multi_worker"
    assert [kind for kind, _, _ in built] == ["multi_worker"]


def test_auto_strategy_with_a_one_worker_tf_config_stays_on_one_host(monkeypatch):
    _fake_devices(monkeypatch, gpus=0)
    monkeypatch.setenv("TF_CONFIG", _cluster(1))
    built = _record_strategies(monkeypatch)
    assert strategy_module.select_strategy("auto") is tf.distribute.get_strategy()
    assert built == []


@pytest.mark.parametrize("gpus, tpus, expected", [(0, 0, False), (1, 0, True), (0, 8, True)])
def test_auto_xla_is_on_for_gpus_and_tpus_and_off_on_cpus(monkeypatch, gpus, tpus, expected):
    _fake_devices(monkeypatch, gpus=gpus, tpus=tpus)
    assert strategy_module.resolve_jit_compile("auto") is expected


@pytest.mark.parametrize("forced", [True, False])
def test_forced_xla_ignores_the_devices(monkeypatch, forced):
    _fake_devices(monkeypatch, gpus=1)
    assert strategy_module.resolve_jit_compile(forced) is forced
