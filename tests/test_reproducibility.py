"""Seeded runs repeat: the same `--seed --deterministic` run twice gives the same history.

Also `augment.call_seeded`, which makes batch augmentation in parallel tf.data maps draw from
per-batch seeds instead of the layers' shared SeedGenerator state.
"""

import csv

import keras
import numpy as np
import tensorflow as tf

from keras_archs import augment
from keras_archs.training import RunConfig, train

# Columns of history.csv that measure time, not training, if the logger writes any.
WALL_CLOCK_COLUMNS = ("time", "seconds", "epoch_seconds", "duration")


def _history(output_dir, run_name, **overrides):
    options = dict(model="lenet5", data="digits", epochs=2, seed=0, deterministic=True, precision="float32",
                   output_dir=str(output_dir), run_name=run_name, verbose=0)
    options.update(overrides)
    train(RunConfig(**options))
    with open(output_dir / run_name / "history.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows, "history.csv has no epochs"
    return [{key: value for key, value in row.items() if key not in WALL_CLOCK_COLUMNS} for row in rows]


def test_a_seeded_deterministic_run_repeats_its_history_and_another_seed_does_not(tmp_path):
    first = _history(tmp_path, "a")
    assert len(first) == 2
    assert _history(tmp_path, "b") == first
    assert _history(tmp_path, "c", seed=1) != first


def test_a_seeded_run_with_augmentation_and_mixing_repeats_its_history(tmp_path):
    # resnet20's preset augments (pad-and-crop, flips), MixUp or CutMix on top; a few steps at
    # 32x32 keep it cheap.
    small = dict(model="resnet20", epochs=1, batch_size=16, steps_per_epoch=4, validation_steps=2, image_size=32,
                 mixup_alpha=0.2, cutmix_alpha=1.0)
    first = _history(tmp_path, "a", **small)
    assert _history(tmp_path, "b", **small) == first
    assert _history(tmp_path, "c", seed=1, **small) != first


def _seeded_layers():
    return [
        keras.layers.RandomFlip("horizontal", seed=1),
        keras.layers.RandomRotation(0.1, seed=2),
        keras.layers.RandomColorJitter(value_range=(0, 255), brightness_factor=0.2, contrast_factor=0.3,
                                       saturation_factor=0.3, hue_factor=0.1, seed=3),
        keras.layers.RandAugment(value_range=(0, 255), num_ops=2, factor=0.9, seed=4),
        augment.PCALighting(0.1, seed=5),
        *augment.basic_layers(seed=6, flip=False),
    ]


def _parallel_augmented(layers, batches=48):
    def apply(images, seed):
        for index, layer in enumerate(layers):
            images = augment.call_seeded(layer, images, tf.random.experimental.stateless_fold_in(seed, index))
        return images

    images = tf.data.Dataset.from_tensors(tf.fill([2, 12, 12, 3], 120.0)).repeat(batches)
    seeds = tf.data.Dataset.range(batches).map(lambda index: tf.stack([index, tf.constant(7, tf.int64)]))
    dataset = tf.data.Dataset.zip(images, seeds).map(apply, num_parallel_calls=8, deterministic=True)
    return np.stack([batch.numpy() for batch in dataset])


def test_call_seeded_draws_depend_on_the_seed_only_in_parallel_maps():
    # Many small batches in 8 parallel calls: with the layers' own SeedGenerators the calls
    # race for the shared state and most batches differ from run to run.
    first = _parallel_augmented(_seeded_layers())
    np.testing.assert_array_equal(first, _parallel_augmented(_seeded_layers()))
    assert len({batch.tobytes() for batch in first}) == len(first)  # every batch seed draws anew


def test_call_seeded_traces_no_variable_reads_or_writes():
    layers = _seeded_layers() + [augment.mix_layer(0.2, 1.0, seed=8)]

    @tf.function
    def apply(images, labels, seed):
        for index, layer in enumerate(layers[:-1]):
            images = augment.call_seeded(layer, images, tf.random.experimental.stateless_fold_in(seed, index))
        return augment.call_seeded(layers[-1], {"images": images, "labels": labels}, seed)

    graph = apply.get_concrete_function(tf.TensorSpec([4, 12, 12, 3]), tf.TensorSpec([4, 10]),
                                        tf.TensorSpec([2], tf.int64)).graph
    definition = graph.as_graph_def()
    # tf.cond's branches (MixUp or CutMix) are library functions of the graph: look into them too.
    op_types = {node.op for node in definition.node}
    op_types.update(node.op for function in definition.library.function for node in function.node_def)
    stateful = {"ReadVariableOp", "AssignVariableOp", "AssignAddVariableOp", "VarHandleOp", "RandomUniform",
                "RandomStandardNormal", "RandomUniformInt"}
    assert not op_types & stateful, sorted(op_types & stateful)
    # The layers' own generators are back in place and were never advanced.
    for layer in layers[:-1]:
        for holder in augment._seed_holders(layer):
            for value in vars(holder).values():
                if isinstance(value, keras.random.SeedGenerator):
                    assert type(value) is keras.random.SeedGenerator
                    assert int(keras.ops.convert_to_numpy(value.state)[1]) == 0
