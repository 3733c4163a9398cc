"""A whole training run: strategy, precision, data, model, preset, loop, artifacts.

Everything a run writes lives in `<output_dir>/<run_name>/`:

    config.json        the run's settings
    checkpoints/       resume checkpoints (model, optimizer, epoch); a rerun continues
    logs/              TensorBoard events
    history.csv        one row per epoch (CSVLogger)
    best.keras         the model of the best validation accuracy so far
    last.keras         the model after the last finished epoch
    metrics.json       final evaluation of the trained model (held-out split)

Files are written to a temporary name in the same folder and renamed into place, so a
crash never leaves a half-written artifact. Only the chief writes in multi-worker runs.
"""

import dataclasses
import importlib.util
import inspect
import json
import os
import re
import time
import warnings
from typing import Any, Mapping, Optional

import keras

from keras_archs.data import load_dataset
from keras_archs.fileio import atomic_write, write_json
from keras_archs.registry import model_info
from keras_archs.training import presets as preset_module
from keras_archs.training.loop import Trainer
from keras_archs.training.strategy import is_chief, resolve_jit_compile, select_strategy, set_precision

__all__ = ["RunConfig", "SaveModels", "train"]


@dataclasses.dataclass
class RunConfig:
    """Settings of one run (command-line flags of the recipes map onto these fields).

    Attributes:
        model: registry name (`keras_archs.list_models()`).
        data: "digits", a TFDS name, an image folder, or TFRecords.
        preset: preset name; None picks the model's paper (`preset_for_model`).
        epochs, batch_size, learning_rate: override the preset (batch is global).
        image_size, channels: model input; None: the registry default size and the
            model's default channels (grayscale sources are tiled to 3).
        classes: number of classes; None: what the data says.
        policy, mixup_alpha, cutmix_alpha, label_smoothing: override the preset.
        strategy, precision, jit_compile, steps_per_execution: see `keras_archs.training`.
        train_split, validation_split, test_split: split names; validation/test None
            picks "validation"/"test" where the source has them.
        steps_per_epoch, train_examples: for sources that do not know their size.
        validation_steps: None evaluates the whole validation split.
        data_dir, manual_dir, download, label_offset: data options.
        output_dir, run_name: where artifacts go; the same run name resumes.
        seed, deterministic: reproducibility.
        model_options: extra constructor options (e.g. {"aux_logits": True}).
        checkpoint_every_steps: also checkpoint inside epochs.
        verbose: Keras verbosity ("auto": progress bar on the chief).
    """

    model: str = "lenet5"
    data: str = "digits"
    preset: Optional[str] = None
    epochs: Optional[int] = None
    batch_size: Optional[int] = None
    learning_rate: Optional[float] = None
    image_size: Optional[int] = None
    channels: Optional[int] = None
    classes: Optional[int] = None
    policy: Optional[str] = None
    mixup_alpha: Optional[float] = None
    cutmix_alpha: Optional[float] = None
    label_smoothing: Optional[float] = None
    strategy: str = "auto"
    precision: str = "auto"
    jit_compile: Any = "auto"
    steps_per_execution: int = 1
    train_split: str = "train"
    validation_split: Optional[str] = None
    test_split: Optional[str] = None
    steps_per_epoch: Optional[int] = None
    train_examples: Optional[int] = None
    validation_steps: Optional[int] = None
    data_dir: Optional[str] = None
    manual_dir: Optional[str] = None
    download: bool = False
    label_offset: int = 0
    output_dir: str = "saved_models"
    run_name: Optional[str] = None
    seed: int = 0
    deterministic: bool = False
    model_options: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    checkpoint_every_steps: Optional[int] = None
    verbose: Any = "auto"

    def resolved_run_name(self):
        if self.run_name:
            return self.run_name
        data = os.path.basename(os.path.normpath(self.data.split(":", 1)[-1])) or "data"
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{self.model}-{data}")


class SaveModels(keras.callbacks.Callback):
    """Writes `last.keras` every epoch and `best.keras` when `monitor` improves (temp + rename)."""

    def __init__(self, run_dir, monitor="val_accuracy", mode="max", enabled=True):
        super().__init__()
        self.run_dir = run_dir
        self.monitor = monitor
        self.better = (lambda new, old: new > old) if mode == "max" else (lambda new, old: new < old)
        self.best = None
        self.enabled = enabled
        self._best_file = os.path.join(run_dir, "best.json")

    def on_train_begin(self, logs=None):
        if os.path.exists(self._best_file):
            with open(self._best_file, encoding="utf-8") as handle:
                self.best = json.load(handle)["value"]

    def on_epoch_end(self, epoch, logs=None):
        if not self.enabled:
            return
        logs = logs or {}
        atomic_write(os.path.join(self.run_dir, "last.keras"), self.model.save)
        value = logs.get(self.monitor, logs.get(self.monitor.replace("val_", "")))
        if value is not None and (self.best is None or self.better(value, self.best)):
            self.best = value
            atomic_write(os.path.join(self.run_dir, "best.keras"), self.model.save)
            write_json({"monitor": self.monitor, "value": value, "epoch": epoch + 1}, self._best_file)


def _default_split(source, wanted, fallback):
    """`wanted` if the source has it, else `fallback` (e.g. CIFAR has no validation split)."""
    from keras_archs.data import resolve_source

    kind, location = resolve_source(source)
    if kind != "tfds":
        return wanted
    try:
        import tensorflow_datasets as tfds

        splits = tfds.builder(location).info.splits
        if splits and wanted not in splits:
            return fallback
    except Exception:  # noqa: BLE001 - unknown builders fail later with their own message
        return wanted
    return wanted


def train(config: RunConfig):
    """Runs (or resumes) training as `config` says; returns the final metrics dict.

    The global Keras dtype policy is set for the run and restored afterwards.
    """
    previous_policy = keras.mixed_precision.global_policy()
    try:
        return _train(config)
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)


def _train(config):
    started = time.time()
    strategy = select_strategy(config.strategy)
    precision = set_precision(config.precision)
    jit_compile = resolve_jit_compile(config.jit_compile)
    chief = is_chief(strategy)
    info = model_info(config.model)
    preset = preset_module.get_preset(config.preset) if config.preset else preset_module.preset_for_model(config.model)
    epochs = config.epochs or preset.epochs
    batch_size = config.batch_size or preset.batch_size
    if batch_size % strategy.num_replicas_in_sync:
        raise ValueError(f"batch_size must divide among {strategy.num_replicas_in_sync} replicas. Received: batch_size={batch_size}")
    image_size = config.image_size or info.input_spec.default_size
    channels = config.channels or info.input_spec.channels
    policy = config.policy or preset.policy
    mixup = preset.mixup_alpha if config.mixup_alpha is None else config.mixup_alpha
    cutmix = preset.cutmix_alpha if config.cutmix_alpha is None else config.cutmix_alpha
    validation_split = config.validation_split or _default_split(config.data, "validation", "test")
    test_split = config.test_split or _default_split(config.data, "test", validation_split)

    common = dict(
        batch_size=batch_size, image_size=image_size, channels=channels, one_hot=True,
        preprocessing=info.preprocessing, seed=config.seed, deterministic=config.deterministic,
        data_dir=config.data_dir, manual_dir=config.manual_dir, num_classes=config.classes,
        label_offset=config.label_offset,
    )
    _, train_info = load_dataset(config.data, config.train_split, download=config.download, return_info=True, **common)
    classes = config.classes or train_info.num_classes
    examples = config.train_examples or train_info.num_examples
    steps_per_epoch = config.steps_per_epoch or (examples // batch_size if examples else None)
    if not steps_per_epoch:
        raise ValueError("The data does not say its size: pass steps_per_epoch or train_examples.")

    def train_input(input_context):
        return load_dataset(config.data, config.train_split, training=True, policy=policy, mixup_alpha=mixup,
                            cutmix_alpha=cutmix, repeat=True, input_context=input_context, **common)

    def eval_input(split):
        def make(input_context):
            dataset = load_dataset(config.data, split, training=False, input_context=input_context, **common)
            return dataset.take(config.validation_steps) if config.validation_steps else dataset

        return make

    options = dict(config.model_options)
    if preset.dropout_rate is not None and "dropout_rate" in _parameters(info.constructor):
        options.setdefault("dropout_rate", preset.dropout_rate)
    run_dir = os.path.join(config.output_dir, config.resolved_run_name())
    if chief:
        os.makedirs(run_dir, exist_ok=True)
        write_json({
            **dataclasses.asdict(config), "resolved": {
                "preset": preset.name, "epochs": epochs, "batch_size": batch_size, "image_size": image_size,
                "channels": channels, "classes": classes, "policy": policy, "precision": precision,
                "jit_compile": jit_compile, "replicas": strategy.num_replicas_in_sync,
                "steps_per_epoch": steps_per_epoch,
            }}, os.path.join(run_dir, "config.json"))

    if config.label_smoothing is not None:
        preset = dataclasses.replace(preset, label_smoothing=config.label_smoothing)
    with strategy.scope():
        model = info.build(classes=classes, input_shape=(image_size, image_size, channels), **options)
        optimizer = preset.optimizer(batch_size, steps_per_epoch, epochs=epochs, learning_rate=config.learning_rate)
    trainer = Trainer(model, optimizer, preset.loss(), strategy=strategy,
                      metrics=("accuracy", "top5") if classes and classes > 10 else ("accuracy",),
                      aux_loss_weight=preset.aux_loss_weight, jit_compile=jit_compile,
                      steps_per_execution=config.steps_per_execution)
    callbacks = [keras.callbacks.TerminateOnNaN(), *preset.callbacks()]
    if chief:
        callbacks.append(keras.callbacks.CSVLogger(os.path.join(run_dir, "history.csv"), append=True))
        # TensorFlow 2.21 no longer installs TensorBoard, which tf.summary needs.
        if importlib.util.find_spec("tensorboard") is not None:
            callbacks.append(keras.callbacks.TensorBoard(os.path.join(run_dir, "logs"), update_freq="epoch"))
        else:
            warnings.warn("TensorBoard is not installed (pip install tensorboard): no TensorBoard logs.", stacklevel=2)
    callbacks.append(SaveModels(run_dir, enabled=chief))
    trainer.fit(train_input, epochs=epochs, steps_per_epoch=steps_per_epoch, validation_data=eval_input(validation_split),
                callbacks=callbacks, checkpoint_dir=os.path.join(run_dir, "checkpoints"),
                checkpoint_every_steps=config.checkpoint_every_steps, verbose=config.verbose)
    if preset.use_ema:
        optimizer.finalize_variable_values(model.trainable_variables)
    results = trainer.evaluate(eval_input(test_split))
    metrics = {
        "model": config.model, "data": config.data, "split": test_split,
        **{f"test_{key}": value for key, value in results.items()},
        "epochs": epochs, "preset": preset.name, "seconds": round(time.time() - started, 1),
    }
    if chief:
        atomic_write(os.path.join(run_dir, "model.keras"), model.save)
        write_json(metrics, os.path.join(run_dir, "metrics.json"))
    return metrics


def _parameters(function):
    return inspect.signature(function).parameters
