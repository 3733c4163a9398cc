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
import numbers
import os
import re
import shutil
import time
import warnings
from typing import Any, Mapping, Optional

import keras
import numpy as np
import tensorflow as tf
# TensorFlow exposes enable_op_determinism only; its query and undo live in this module.
from tensorflow.python.framework import config as tf_config

from keras_archs.checks import check_choice, check_positive_int, check_rate
from keras_archs.precision import float32_model

from keras_archs.data import load_dataset
from keras_archs.fileio import atomic_write, write_json
from keras_archs.registry import model_info
from keras_archs.training import presets as preset_module
from keras_archs.training.batch_norm import reestimate_batch_norm
from keras_archs.training.loop import Trainer
from keras_archs.training.strategy import is_chief, resolve_jit_compile, select_strategy, set_precision

__all__ = ["RunConfig", "SaveModels", "folder_name", "resolve_splits", "train"]


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
        precise_bn: after training, re-estimate the BatchNormalization statistics on this
            many training images (unaugmented) before the final evaluation and `model.keras`
            ("precise BN", `keras_archs.training.reestimate_batch_norm`); None keeps the
            moving averages. Short runs need it: a momentum of 0.999 or more (NASNet's
            0.9997) leaves the moving statistics near their initial values for thousands
            of steps.
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
    precise_bn: Optional[int] = None
    verbose: Any = "auto"

    def resolved_run_name(self):
        return self.run_name or folder_name(self.model, self.data)


def folder_name(prefix, data):
    """`{prefix}-{the data source's last path part}`, made safe as a folder name (e.g. "lenet5-digits")."""
    data = os.path.basename(os.path.normpath(data.split(":", 1)[-1])) or "data"
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{prefix}-{data}")


class SaveModels(keras.callbacks.Callback):
    """Writes `last.keras` every epoch and `best.keras` when `monitor` improves (temp + rename)."""

    def __init__(self, run_dir, monitor="val_accuracy", mode="max", enabled=True, saveable=None):
        super().__init__()
        self.run_dir = run_dir
        # Turns the trained model into what is written (e.g. a float32 copy of a mixed one).
        self.saveable = saveable or (lambda model: model)
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
        saved = self.saveable(self.model)
        atomic_write(os.path.join(self.run_dir, "last.keras"), saved.save)
        value = logs.get(self.monitor, logs.get(self.monitor.replace("val_", "")))
        if value is not None and (self.best is None or self.better(value, self.best)):
            self.best = value
            atomic_write(os.path.join(self.run_dir, "best.keras"), saved.save)
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


def resolve_splits(source, validation_split=None, test_split=None):
    """The validation and test splits a run of `source` uses: the given ones, else the defaults.

    Validation defaults to "validation", or "test" where a TFDS source has no validation
    split; test defaults to "test", or the validation split where there is no test split.

    Returns:
        `(validation_split, test_split)`.
    """
    validation_split = validation_split or _default_split(source, "validation", "test")
    return validation_split, test_split or _default_split(source, "test", validation_split)


def train(config: RunConfig):
    """Runs (or resumes) training as `config` says; returns the final metrics dict.

    Every setting is checked before any data is read or any file is written. The global
    Keras dtype policy (and TensorFlow op determinism, with `deterministic=True`) is set
    for the run and restored afterwards. A run that fails before its first checkpoint
    removes the run directory it created.

    Raises:
        ValueError: for a bad setting (named with the value received), or when the run
            name already holds a run of another model or input shape.
    """
    previous_policy = keras.mixed_precision.global_policy()
    determinism_was_on = tf_config.is_op_determinism_enabled()
    try:
        return _train(config)
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)
        if not determinism_was_on:
            tf_config.disable_op_determinism()


def _check_optional(value, argument, check):
    if value is not None:
        check(value, argument)


def _check_non_negative(value, argument):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"{argument} must be a number >= 0. Received: {argument}={value!r}")


def _check_positive(value, argument):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0 or value == float("inf"):
        raise ValueError(f"{argument} must be a positive number. Received: {argument}={value!r}")


# Options the run itself passes to the constructor.
_RUN_OWNED_OPTIONS = ("name", "classes", "input_shape", "input_tensor", "include_top")


def _check_config(config, info):
    """Every setting of `config` that can be judged before any data is read."""
    for argument in ("epochs", "batch_size", "image_size", "channels", "steps_per_epoch", "train_examples",
                     "validation_steps", "checkpoint_every_steps", "precise_bn"):
        _check_optional(getattr(config, argument), argument, check_positive_int)
    check_positive_int(config.steps_per_execution, "steps_per_execution")
    _check_optional(config.learning_rate, "learning_rate", _check_positive)
    for argument in ("mixup_alpha", "cutmix_alpha"):
        _check_optional(getattr(config, argument), argument, _check_non_negative)
    _check_optional(config.label_smoothing, "label_smoothing", check_rate)
    if config.classes is not None:
        check_positive_int(config.classes, "classes")
        if config.classes < 2:
            raise ValueError(f"classes must be at least 2. Received: classes={config.classes!r}")
    if config.channels is not None:
        check_choice(config.channels, (1, 3), "channels")
    if isinstance(config.seed, bool) or not isinstance(config.seed, numbers.Integral) or config.seed < 0:
        raise ValueError(f"seed must be an integer >= 0. Received: seed={config.seed!r}")
    check_choice(config.verbose, ("auto", 0, 1, 2), "verbose")
    options = config.model_options
    if not isinstance(options, Mapping):
        raise ValueError(f"model_options must be a JSON object of constructor options. Received: model_options={options!r}")
    accepted = _parameters(info.constructor)
    for key in options:
        if key in _RUN_OWNED_OPTIONS:
            raise ValueError(f"model_options cannot set {key!r}: the run sets it (see --classes, --image-size). "
                             f"Received: model_options={dict(options)!r}")
        if key not in accepted:
            known = ", ".join(sorted(set(accepted) - set(_RUN_OWNED_OPTIONS)))
            raise ValueError(f"model_options has {key!r}, which {info.constructor.__name__} does not take "
                             f"(it takes: {known}). Received: model_options={dict(options)!r}")


def _check_run_dir(run_dir, settings):
    """Refuses to reuse a run directory that holds a run of another model or shape."""
    config_path = os.path.join(run_dir, "config.json")
    if not os.path.isfile(config_path):
        return
    try:
        with open(config_path, encoding="utf-8") as handle:
            saved = json.load(handle)
        previous = {key: saved["resolved"].get(key, saved.get(key)) for key in settings}
    except (OSError, ValueError, KeyError, AttributeError):
        raise ValueError(f"The run directory holds an unreadable config.json; remove {run_dir} or pass another "
                         f"run_name. Received: run_dir={run_dir!r}") from None
    differences = [key for key in settings if previous[key] != settings[key]]
    if differences:
        was = ", ".join(f"{key}={previous[key]!r}" for key in differences)
        now = ", ".join(f"{key}={settings[key]!r}" for key in differences)
        raise ValueError(f"The run directory {run_dir} holds a run with {was}; resuming it as {now} cannot work. "
                         f"Pass another run_name (--run-name), or remove {run_dir} to start fresh. Received: {now}")


def _saveable(model):
    """The model as it is saved: float32 whatever precision trained it, compiled for evaluation."""
    saved = float32_model(model)
    if saved is model:
        return model
    optimizer = getattr(model.optimizer, "inner_optimizer", model.optimizer)
    saved.compile(optimizer=keras.optimizers.deserialize(keras.optimizers.serialize(optimizer)), loss=model.loss)
    # Built, so that loading the file finds the optimizer variables it expects; the training
    # state itself lives in the checkpoints.
    saved.optimizer.build(saved.trainable_variables)
    return saved


def _train(config):
    started = time.time()
    info = model_info(config.model)
    _check_config(config, info)
    keras.utils.set_random_seed(config.seed)
    if config.deterministic:
        tf_config.enable_op_determinism()
    strategy = select_strategy(config.strategy)
    precision = set_precision(config.precision)
    jit_compile = resolve_jit_compile(config.jit_compile)
    chief = is_chief(strategy)
    preset = preset_module.get_preset(config.preset) if config.preset else preset_module.preset_for_model(config.model)
    epochs = preset.epochs if config.epochs is None else config.epochs
    batch_size = preset.batch_size if config.batch_size is None else config.batch_size
    if batch_size % strategy.num_replicas_in_sync:
        raise ValueError(f"batch_size must divide among {strategy.num_replicas_in_sync} replicas. Received: batch_size={batch_size}")
    image_size = config.image_size or info.input_spec.default_size
    channels = config.channels or info.input_spec.channels
    policy = config.policy or preset.policy
    mixup = preset.mixup_alpha if config.mixup_alpha is None else config.mixup_alpha
    cutmix = preset.cutmix_alpha if config.cutmix_alpha is None else config.cutmix_alpha
    validation_split, test_split = resolve_splits(config.data, config.validation_split, config.test_split)

    common = dict(
        batch_size=batch_size, image_size=image_size, channels=channels, one_hot=True,
        preprocessing=info.preprocessing_for(config.model_options), seed=config.seed, deterministic=config.deterministic,
        data_dir=config.data_dir, manual_dir=config.manual_dir, num_classes=config.classes,
        label_offset=config.label_offset,
    )
    _, train_info = load_dataset(config.data, config.train_split, download=config.download, return_info=True, **common)
    classes = config.classes or train_info.num_classes
    if classes is not None and classes < 2:
        raise ValueError(f"Training needs at least 2 classes; the data has {classes}. Received: data={config.data!r}")
    examples = config.train_examples or train_info.num_examples
    if config.steps_per_epoch is None and examples and examples < batch_size:
        raise ValueError(f"The batch is larger than the data: {config.data!r} has {examples} training examples and "
                         f"training drops partial batches; pass a smaller batch_size (--batch-size). "
                         f"Received: batch_size={batch_size}")
    steps_per_epoch = config.steps_per_epoch or (examples // batch_size if examples else None)
    if not steps_per_epoch:
        raise ValueError("The data does not say its size: pass steps_per_epoch or train_examples. "
                         f"Received: data={config.data!r}")

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
    if config.label_smoothing is not None:
        preset = dataclasses.replace(preset, label_smoothing=config.label_smoothing)
    with strategy.scope():
        model = info.build(classes=classes, input_shape=(image_size, image_size, channels), **options)
        optimizer = preset.optimizer(batch_size, steps_per_epoch, epochs=epochs, learning_rate=config.learning_rate)

    run_dir = os.path.join(config.output_dir, config.resolved_run_name())
    resolved = {
        "preset": preset.name, "epochs": epochs, "batch_size": batch_size, "image_size": image_size,
        "channels": channels, "classes": classes, "policy": policy, "precision": precision,
        "jit_compile": jit_compile, "replicas": strategy.num_replicas_in_sync, "steps_per_epoch": steps_per_epoch,
    }
    # What the checkpoints' shapes depend on: a run of anything else cannot resume here.
    _check_run_dir(run_dir, {"model": config.model, "image_size": image_size, "channels": channels,
                             "classes": classes, "model_options": dict(config.model_options)})
    created = not os.path.exists(run_dir)
    checkpoint_dir = os.path.join(run_dir, "checkpoints")
    try:
        if chief:
            os.makedirs(run_dir, exist_ok=True)
            write_json({**dataclasses.asdict(config), "resolved": resolved}, os.path.join(run_dir, "config.json"))
        trainer = Trainer(model, optimizer, preset.loss(), strategy=strategy,
                          metrics=("accuracy", "top5") if classes and classes > 10 else ("accuracy",),
                          aux_loss_weight=preset.aux_loss_weight, jit_compile=jit_compile,
                          steps_per_execution=config.steps_per_execution)
        trainer.fit(train_input, epochs=epochs, steps_per_epoch=steps_per_epoch,
                    validation_data=eval_input(validation_split), callbacks=_callbacks(preset, run_dir, chief),
                    checkpoint_dir=checkpoint_dir, checkpoint_every_steps=config.checkpoint_every_steps,
                    verbose=config.verbose)
        if preset.use_ema:
            optimizer.finalize_variable_values(model.trainable_variables)
        if config.precise_bn:
            with strategy.scope():
                reestimate_batch_norm(model, _training_images(config, common, config.precise_bn), batch_size)
        results = trainer.evaluate(eval_input(test_split))
        if chief:
            atomic_write(os.path.join(run_dir, "model.keras"), _saveable(model).save)
    except BaseException:
        # Nothing to resume from: leave no half-made run behind.
        if chief and created and not tf.train.latest_checkpoint(checkpoint_dir):
            shutil.rmtree(run_dir, ignore_errors=True)
        raise
    metrics = {
        "model": config.model, "data": config.data, "split": test_split,
        **{f"test_{key}": value for key, value in results.items()},
        "epochs": epochs, "preset": preset.name, "seconds": round(time.time() - started, 1),
    }
    if chief:
        write_json(metrics, os.path.join(run_dir, "metrics.json"))
    return metrics


def _training_images(config, common, count):
    """Up to `count` unaugmented training images, as the model sees them (for precise BN)."""
    dataset = load_dataset(config.data, config.train_split, training=False, cache=False, **common)
    batches = [images.numpy() for images, _ in dataset.take(-(-count // common["batch_size"]))]
    return np.concatenate(batches)[:count]


def _callbacks(preset, run_dir, chief):
    callbacks = [keras.callbacks.TerminateOnNaN(), *preset.callbacks()]
    if chief:
        callbacks.append(keras.callbacks.CSVLogger(os.path.join(run_dir, "history.csv"), append=True))
        # TensorFlow 2.21 no longer installs TensorBoard, which tf.summary needs.
        if importlib.util.find_spec("tensorboard") is not None:
            callbacks.append(keras.callbacks.TensorBoard(os.path.join(run_dir, "logs"), update_freq="epoch"))
        else:
            warnings.warn("TensorBoard is not installed (pip install tensorboard): no TensorBoard logs.", stacklevel=2)
    callbacks.append(SaveModels(run_dir, enabled=chief, saveable=_saveable))
    return callbacks


def _parameters(function):
    return inspect.signature(function).parameters
