"""Training machinery: strategy and precision selection, per-paper presets, the loop, whole runs.

    from keras_archs import training
    metrics = training.train(training.RunConfig(model="lenet5", data="digits"))

    strategy = training.select_strategy("mirrored")
    with strategy.scope():
        model = keras_archs.get_model("resnet18", classes=10, input_shape=(32, 32, 3))
        preset = training.get_preset("resnet_cifar")
        optimizer = preset.optimizer(global_batch=128, steps_per_epoch=390)
    trainer = training.Trainer(model, optimizer, preset.loss(), strategy=strategy)
    trainer.fit(dataset, epochs=10, checkpoint_dir="saved_models/run/checkpoints")
"""

from keras_archs.training.batch_norm import reestimate_batch_norm
from keras_archs.training.loop import Trainer
from keras_archs.training.presets import PRESETS, Preset, get_preset, preset_for_model
from keras_archs.training.run import RunConfig, resolve_splits, train
from keras_archs.training.strategy import (
    PRECISIONS,
    STRATEGIES,
    is_chief,
    resolve_jit_compile,
    resolve_precision,
    select_strategy,
    set_precision,
)

__all__ = [
    "PRECISIONS",
    "PRESETS",
    "STRATEGIES",
    "Preset",
    "RunConfig",
    "Trainer",
    "get_preset",
    "is_chief",
    "preset_for_model",
    "reestimate_batch_norm",
    "resolve_jit_compile",
    "resolve_splits",
    "resolve_precision",
    "select_strategy",
    "set_precision",
    "train",
]
