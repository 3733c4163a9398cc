"""The training loop, presets, strategy/precision selection, and LeNet-5 on the real digits."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_archs
from keras_archs import training
from keras_archs.data import load_dataset
from keras_archs.training import presets


def test_lenet5_reaches_97_percent_on_held_out_digits(tmp_path):
    metrics = training.train(training.RunConfig(model="lenet5", data="digits", output_dir=str(tmp_path),
                                                run_name="lenet", verbose=0, precision="float32"))
    assert metrics["split"] == "test"
    assert metrics["test_accuracy"] >= 0.97
    run_dir = tmp_path / "lenet"
    for artifact in ("model.keras", "best.keras", "last.keras", "metrics.json", "history.csv", "config.json"):
        assert (run_dir / artifact).exists(), artifact
    assert json.loads((run_dir / "metrics.json").read_text())["test_accuracy"] == pytest.approx(metrics["test_accuracy"])
    # The saved model reproduces the reported accuracy on the held-out split.
    model = keras.models.load_model(run_dir / "model.keras")
    correct = total = 0
    for images, labels in load_dataset("digits", "test", batch_size=128, image_size=32, channels=1, preprocessing="lenet"):
        correct += int(np.sum(np.argmax(model.predict_on_batch(images), axis=-1) == labels.numpy()))
        total += int(labels.shape[0])
    assert total == 359
    assert correct / total == pytest.approx(metrics["test_accuracy"], abs=1e-6)


def _batch(size, classes, batch=4, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.uniform(-1, 1, size=(batch, size, size, 3)).astype("float32")
    labels = rng.integers(0, classes, size=batch).astype("int32")
    return images, labels


def test_googlenet_step_with_aux_outputs_weighted_0_3():
    assert keras_archs.list_models("googlenet"), "googlenet is registered"
    classes, size = 5, 64
    model = keras_archs.get_model("googlenet", aux_logits=True, classes=classes, input_shape=(size, size, 3),
                                  dropout_rate=0.0, aux_dropout_rate=0.0)
    assert len(model.outputs) == 3
    images, labels = _batch(size, classes)
    # Loss by hand, before the step: BatchNorm in training mode uses batch statistics only.
    outputs = model(images, training=True)
    one_hot = tf.one_hot(labels, classes)
    cross_entropy = keras.losses.CategoricalCrossentropy()
    expected = float(cross_entropy(one_hot, outputs[0]) + 0.3 * (cross_entropy(one_hot, outputs[1]) + cross_entropy(one_hot, outputs[2])))
    before = {weight.path: weight.numpy() for weight in model.trainable_weights}
    trainer = training.Trainer(model, keras.optimizers.SGD(0.01), keras.losses.CategoricalCrossentropy(),
                               aux_loss_weight=training.get_preset("googlenet").aux_loss_weight)
    history = trainer.fit(tf.data.Dataset.from_tensors((images, labels)), epochs=1, verbose=0)
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-4)
    changed = {path for path, value in before.items()
               if not np.allclose(value, next(w for w in model.trainable_weights if w.path == path).numpy())}
    assert any("aux1" in path for path in changed) and any("aux2" in path for path in changed)
    assert any("predictions" in path for path in changed)


def test_aux_outputs_with_zero_weight_get_no_gradient():
    inputs = keras.Input((8, 8, 3))
    features = keras.layers.Conv2D(4, 3, name="trunk")(inputs)
    pooled = keras.layers.GlobalAveragePooling2D()(features)
    outputs = [keras.layers.Dense(3, activation="softmax", name=name)(pooled) for name in ("main", "aux_a", "aux_b")]
    model = keras.Model(inputs, outputs)
    before = model.get_layer("aux_a").get_weights()[0].copy()
    trainer = training.Trainer(model, keras.optimizers.SGD(0.1), "categorical_crossentropy", loss_weights=[1.0, 0.0, 0.0])
    images, labels = _batch(8, 3)
    trainer.fit(tf.data.Dataset.from_tensors((images, labels)), epochs=1, verbose=0)
    np.testing.assert_array_equal(model.get_layer("aux_a").get_weights()[0], before)
    with pytest.raises(ValueError, match="loss_weights"):
        training.Trainer(model, keras.optimizers.SGD(0.1), "categorical_crossentropy", loss_weights=[1.0])


def test_terminate_on_nan_stops_the_loop():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(inputs))
    trainer = training.Trainer(model, keras.optimizers.SGD(0.1), "categorical_crossentropy")
    features = np.ones((64, 4), "float32")
    features[8:] = np.nan  # the third batch poisons the weights
    data = tf.data.Dataset.from_tensor_slices((features, np.zeros(64, "int32"))).batch(4)
    seen = []
    record = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(batch))
    trainer.fit(data, epochs=5, callbacks=[record, keras.callbacks.TerminateOnNaN()], verbose=0)
    assert model.stop_training
    assert seen == [0, 1, 2]


def test_preset_learning_rate_scales_with_global_batch():
    resnet = training.get_preset("resnet")
    assert resnet.scaled_learning_rate(256) == pytest.approx(0.1)
    assert resnet.scaled_learning_rate(1024) == pytest.approx(0.4)
    optimizer = resnet.optimizer(global_batch=512, steps_per_epoch=10)
    schedule = optimizer.learning_rate if callable(optimizer.learning_rate) else optimizer._learning_rate
    assert isinstance(schedule, keras.optimizers.schedules.PiecewiseConstantDecay)
    # /10 at epochs 30, 60, 80 (He 2015), from 0.1 x 512/256.
    rates = [float(schedule(step)) for step in (0, 299, 300, 600, 800, 899)]
    np.testing.assert_allclose(rates, [0.2, 0.2, 0.02, 0.002, 0.0002, 0.0002], rtol=1e-5)
    assert optimizer.weight_decay == pytest.approx(1e-4) and optimizer.momentum == pytest.approx(0.9)


def test_paper_presets_match_the_papers():
    inception = training.get_preset("inception_v3")
    optimizer = inception.optimizer(global_batch=1600, steps_per_epoch=100)
    assert isinstance(optimizer, keras.optimizers.RMSprop)
    assert optimizer.rho == pytest.approx(0.9) and optimizer.epsilon == pytest.approx(1.0)
    assert optimizer.clipnorm == pytest.approx(2.0)
    schedule = optimizer._learning_rate
    np.testing.assert_allclose([float(schedule(0)), float(schedule(199)), float(schedule(200))], [0.045, 0.045, 0.045 * 0.94], rtol=1e-5)
    assert inception.loss().get_config()["label_smoothing"] == pytest.approx(0.1)

    googlenet = training.get_preset("googlenet")
    schedule = googlenet.optimizer(global_batch=256, steps_per_epoch=10)._learning_rate
    assert float(schedule(80)) == pytest.approx(0.01 * 0.96)  # -4% every 8 epochs
    assert googlenet.aux_loss_weight == pytest.approx(0.3)

    alexnet = training.get_preset("alexnet")
    assert alexnet.weight_decay == pytest.approx(5e-4) and alexnet.scaled_learning_rate(128) == pytest.approx(0.01)
    plateau = alexnet.callbacks()
    assert isinstance(plateau[0], keras.callbacks.ReduceLROnPlateau) and plateau[0].factor == pytest.approx(0.1)

    cifar = training.get_preset("resnet_cifar")
    schedule = cifar.optimizer(global_batch=128, steps_per_epoch=50_000 / 128)._learning_rate
    np.testing.assert_allclose([float(schedule(31_999)), float(schedule(32_001)), float(schedule(48_001))], [0.1, 0.01, 0.001], rtol=1e-5)
    assert cifar.epochs * 50_000 / 128 >= 64_000

    modern = training.get_preset("modern")
    optimizer = modern.optimizer(global_batch=256, steps_per_epoch=10)
    assert optimizer.use_ema and modern.label_smoothing == pytest.approx(0.1)
    assert float(optimizer._learning_rate(0)) == pytest.approx(0.0)  # warmup from zero
    assert float(optimizer._learning_rate(50)) == pytest.approx(0.1, rel=1e-3)  # peak after 5 epochs
    assert isinstance(training.get_preset("mobilenet").optimizer(96, 10), keras.optimizers.RMSprop)


def test_presets_for_models():
    assert presets.preset_for_model("lenet5").name == "lenet"
    assert presets.preset_for_model("vgg16_bn").name == "vgg"
    assert presets.preset_for_model("googlenet").name == "googlenet"
    assert presets.preset_for_model("inception_v3").name == "inception_v3"
    assert presets.preset_for_model("resnet50").name == "resnet"
    assert presets.preset_for_model("resnet50", cifar=True).name == "resnet_cifar"
    assert presets.preset_for_model("densenet121", cifar=True).name == "densenet_cifar"
    assert presets.preset_for_model("mobilenet_v2").name == "mobilenet"
    with pytest.raises(ValueError, match="preset="):
        training.get_preset("nope")


def test_strategy_precision_and_jit_choices():
    assert training.select_strategy("auto") is tf.distribute.get_strategy()
    assert training.select_strategy("one_device").num_replicas_in_sync == 1
    assert training.is_chief(tf.distribute.get_strategy())
    with pytest.raises(ValueError, match="strategy="):
        training.select_strategy("horovod")
    assert training.resolve_precision("mixed_float16") == "mixed_float16"
    assert training.resolve_precision("auto") in ("float32", "mixed_bfloat16")  # no GPU here
    with pytest.raises(ValueError, match="precision="):
        training.resolve_precision("fp8")
    assert training.resolve_jit_compile("auto") is False  # CPU only: XLA measured slower
    assert training.resolve_jit_compile(True) is True


def test_steps_per_execution_and_jit_train_the_same():
    images, labels = _batch(8, 3, batch=32)
    data = tf.data.Dataset.from_tensor_slices((images, labels)).batch(4)

    def trained(**options):
        keras.utils.set_random_seed(1)
        inputs = keras.Input((8, 8, 3))
        x = keras.layers.Flatten()(keras.layers.Conv2D(2, 3)(inputs))
        model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))
        trainer = training.Trainer(model, keras.optimizers.SGD(0.1), "categorical_crossentropy", **options)
        history = trainer.fit(data, epochs=2, verbose=0)
        return model.get_weights(), history.history["loss"]

    reference, reference_loss = trained()
    for options in ({"steps_per_execution": 3}, {"jit_compile": True}):
        weights, loss = trained(**options)
        np.testing.assert_allclose(loss, reference_loss, rtol=1e-4)
        for ours, theirs in zip(weights, reference):
            np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_trains_with_float32_variables(policy):
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy)
    try:
        inputs = keras.Input((8, 8, 3))
        x = keras.layers.Flatten()(keras.layers.Conv2D(2, 3)(inputs))
        model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))
        trainer = training.Trainer(model, keras.optimizers.SGD(0.1), "categorical_crossentropy")
    finally:
        keras.mixed_precision.set_global_policy(previous)
    # float16 needs loss scaling (Keras' compile wraps the optimizer); bfloat16 does not.
    assert isinstance(trainer.optimizer, keras.optimizers.LossScaleOptimizer) == (policy == "mixed_float16")
    images, labels = _batch(8, 3, batch=32)
    history = trainer.fit(tf.data.Dataset.from_tensor_slices((images, labels)).batch(8), epochs=3, verbose=0)
    assert model.layers[1].kernel.dtype == "float32"
    assert np.isfinite(history.history["loss"]).all() and history.history["loss"][-1] < history.history["loss"][0]


def test_resume_inside_an_epoch_from_step_checkpoints(tmp_path):
    images, labels = _batch(8, 3, batch=16)
    data = tf.data.Dataset.from_tensor_slices((images, labels)).batch(4).repeat()

    def trainer():
        keras.utils.set_random_seed(2)
        inputs = keras.Input((8, 8, 3))
        model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(inputs)))
        return training.Trainer(model, keras.optimizers.SGD(0.1, momentum=0.9), "categorical_crossentropy")

    class Crash(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if self.epoch == 1 and batch == 2:
                raise RuntimeError("power cut")

    with pytest.raises(RuntimeError, match="power cut"):
        trainer().fit(data, epochs=2, steps_per_epoch=4, checkpoint_dir=str(tmp_path), checkpoint_every_steps=2,
                      callbacks=[Crash()], verbose=0)
    seen = []
    record = keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: seen.append(("epoch", epoch)),
                                            on_train_batch_end=lambda batch, logs: seen.append(("batch", batch)))
    resumed = trainer()
    resumed.fit(data, epochs=2, steps_per_epoch=4, checkpoint_dir=str(tmp_path), checkpoint_every_steps=2,
                callbacks=[record], verbose=0)
    # The last checkpoint was taken after 2 steps of epoch 2 (index 1): it continues there.
    assert seen == [("epoch", 1), ("batch", 2), ("batch", 3)]
    assert int(resumed.optimizer.iterations.numpy()) == 8


def test_reestimate_batch_norm_sets_the_moving_statistics_to_the_data_average():
    inputs = keras.Input((4,))
    inner = keras.Sequential([keras.Input((4,)), keras.layers.BatchNormalization(momentum=0.999)])
    model = keras.Model(inputs, inner(inputs))  # nested, as a backbone inside a model
    batch_norm = inner.layers[0]
    images = (np.random.default_rng(0).normal(size=(96, 4)) * 3 + 5).astype("float32")
    assert training.reestimate_batch_norm(model, images, batch_size=32) == 1
    batches = images.reshape(3, 32, 4)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(batch_norm.moving_mean), batches.mean(axis=1).mean(axis=0),
                               rtol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(batch_norm.moving_variance),
                               batches.var(axis=1).mean(axis=0), rtol=1e-4)
    assert batch_norm.momentum == 0.999
    with pytest.raises(ValueError, match="Received: batch_size=0"):
        training.reestimate_batch_norm(model, images, batch_size=0)


def _first_batch_norm_and_its_mean_input(run_dir, images):
    model = keras.models.load_model(run_dir / "model.keras")
    batch_norm = next(layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization))
    activations = keras.ops.convert_to_numpy(keras.Model(model.inputs, batch_norm.input)(images))
    return keras.ops.convert_to_numpy(batch_norm.moving_mean), activations.mean(axis=(0, 1, 2))


def test_precise_bn_sets_the_saved_models_batch_norm_statistics_to_the_training_images_average(tmp_path):
    """RunConfig.precise_bn: the first BatchNorm of model.keras holds the mean of its inputs over those images."""
    info = keras_archs.model_info("resnet20")
    images = np.concatenate([batch.numpy() for batch, _ in load_dataset(
        "digits", "train", batch_size=32, image_size=32, channels=3, training=False,
        preprocessing=info.preprocessing).take(2)])
    assert len(images) == 64
    for run_name, precise_bn in (("precise", 64), ("moving", None)):
        training.train(training.RunConfig(
            model="resnet20", data="digits", epochs=1, batch_size=32, steps_per_epoch=4, precise_bn=precise_bn,
            output_dir=str(tmp_path), run_name=run_name, verbose=0, precision="float32"))
    moving_mean, input_mean = _first_batch_norm_and_its_mean_input(tmp_path / "precise", images)
    np.testing.assert_allclose(moving_mean, input_mean, rtol=1e-4, atol=1e-5)
    # Without it, four steps of momentum 0.9 leave the moving mean near its initial zeros.
    moving_mean, input_mean = _first_batch_norm_and_its_mean_input(tmp_path / "moving", images)
    assert not np.allclose(moving_mean, input_mean, rtol=0.05, atol=1e-3)
