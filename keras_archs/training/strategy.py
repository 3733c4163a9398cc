"""Choosing the distribution strategy, the precision policy and XLA for the hardware at hand."""

import json
import os

import keras
import tensorflow as tf

__all__ = [
    "PRECISIONS",
    "STRATEGIES",
    "is_chief",
    "resolve_jit_compile",
    "resolve_precision",
    "select_strategy",
    "set_precision",
]

STRATEGIES = ("auto", "one_device", "mirrored", "multi_worker", "tpu")
PRECISIONS = ("auto", "float32", "mixed_float16", "mixed_bfloat16")
# CPU flags of fast bfloat16 matrix units (Linux /proc/cpuinfo spelling).
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


def select_strategy(name="auto", devices=None, tpu_address=None):
    """A `tf.distribute.Strategy` by name.

    Args:
        name: "auto" (MirroredStrategy over all visible GPUs when there are several, a
            multi-worker strategy when TF_CONFIG names several workers, else the default
            one-device strategy), "one_device", "mirrored", "multi_worker" (cluster from
            TF_CONFIG) or "tpu".
        devices: devices for "mirrored"/"one_device" (default: all GPUs, else the CPU).
        tpu_address: TPU name or grpc address for "tpu" (default: the local TPU).

    Returns:
        The strategy. Create models and optimizers inside its `scope()`.
    """
    if name not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}. Received: strategy={name!r}")
    gpus = [device.name for device in tf.config.list_logical_devices("GPU")]
    if name == "auto":
        if _tf_config_workers() > 1:
            name = "multi_worker"
        elif len(gpus) > 1:
            name = "mirrored"
        else:
            return tf.distribute.get_strategy()
    if name == "one_device":
        return tf.distribute.OneDeviceStrategy((devices or gpus or ["/cpu:0"])[0])
    if name == "mirrored":
        return tf.distribute.MirroredStrategy(devices or gpus or None)
    if name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu_address or "")
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)


def _tf_config_workers():
    try:
        cluster = json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster", {})
    except ValueError:
        return 0
    return sum(len(cluster.get(kind, [])) for kind in ("chief", "worker"))


def is_chief(strategy):
    """Whether this process writes the run's artifacts (logs, checkpoints, models)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None:
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    if task_type == "chief" or task_type is None:
        return True
    return task_type == "worker" and task_id == 0 and "chief" not in resolver.cluster_spec().as_dict()


def _read_cpuinfo():
    """The text of /proc/cpuinfo; "" where there is none (macOS, Windows). Tests replace it."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return ""


def _cpu_has_fast_bfloat16():
    flags = set(_read_cpuinfo().split())
    return any(flag in flags for flag in BF16_CPU_FLAGS)


def _has_tpu():
    return bool(tf.config.list_logical_devices("TPU"))


def _gpu_compute_capabilities():
    capabilities = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        capabilities.append(details.get("compute_capability", (0, 0)))
    return capabilities


def resolve_precision(precision="auto"):
    """The Keras dtype policy name for `precision`.

    "auto": mixed_bfloat16 on TPUs, on GPUs of compute capability 8.0 and up and on CPUs
    with AVX512_BF16 or AMX; mixed_float16 on GPUs of 7.x (tensor cores without bfloat16);
    float32 otherwise. With several GPUs the least capable one decides.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}. Received: precision={precision!r}")
    if precision != "auto":
        return precision
    if _has_tpu():
        return "mixed_bfloat16"
    capabilities = _gpu_compute_capabilities()
    if capabilities:
        lowest = min(capabilities)
        if lowest >= (8, 0):
            return "mixed_bfloat16"
        return "mixed_float16" if lowest >= (7, 0) else "float32"
    return "mixed_bfloat16" if _cpu_has_fast_bfloat16() else "float32"


def set_precision(precision="auto"):
    """Sets the global Keras dtype policy (before models are built); returns its name."""
    policy = resolve_precision(precision)
    keras.mixed_precision.set_global_policy(policy)
    return policy


def resolve_jit_compile(jit_compile="auto"):
    """XLA on GPUs and TPUs by default; off on CPUs, where it measured slower here."""
    if jit_compile == "auto":
        return bool(tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("TPU"))
    if not isinstance(jit_compile, bool):
        raise ValueError(f"jit_compile must be True, False or 'auto'. Received: jit_compile={jit_compile!r}")
    return jit_compile
