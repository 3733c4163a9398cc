"""One training loop for every `tf.distribute` strategy, driving ordinary Keras callbacks.

Why not `model.fit`: under `MultiWorkerMirroredStrategy`, Keras 3.15 / TF 2.21 `fit` fails
with "Attempt to convert a value (PerReplica...) to a Tensor" (keras-team/keras#20585),
while a step run through `strategy.run` inside a `tf.function` works under every strategy.
So the step is ours and everything around it is Keras: a `keras.callbacks.CallbackList`
(progress bar, History, TensorBoard, CSVLogger, TerminateOnNaN, ReduceLROnPlateau, ...),
Keras metrics (sync-on-read variables, summed across replicas when read) and the model's
compiled optimizer. The same code runs on one device, MirroredStrategy, multi-worker and
TPU strategies.

Fault tolerance is checkpoint based: every epoch (and every `checkpoint_every_steps`) the
model, the optimizer and the epoch counter go to a `tf.train.CheckpointManager`; a restarted
run restores the latest and continues from the epoch after it. The manager writes the new
checkpoint before it moves the `checkpoint` index, so a crash mid-write keeps the old one.
"""

import os
import shutil
import sys
import tempfile
from typing import Callable, Optional, Sequence, Union

import keras
import numpy as np
import tensorflow as tf

from keras_archs.training.strategy import is_chief

__all__ = ["Trainer"]


def _as_list(outputs):
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def _unreduced(loss):
    """The same Keras loss, returning one value per example."""
    loss = keras.losses.get(loss)
    if isinstance(loss, keras.losses.Loss):
        config = loss.get_config()
        config["reduction"] = None
        return type(loss).from_config(config)
    return loss


class Trainer:
    """Trains and evaluates a Keras model under any `tf.distribute` strategy.

    Args:
        model: a Keras model built inside `strategy.scope()`. With several outputs (aux
            classifiers), the first is the main one; metrics use it.
        optimizer: a Keras optimizer created inside `strategy.scope()`.
        loss: a Keras loss (instance or name); it is applied to every output.
        strategy: the strategy (default: the current one).
        metrics: Keras metric names or instances for the main output.
        loss_weights: one weight per output (default 1.0 for the first, `aux_loss_weight`
            for the others).
        aux_loss_weight: weight of every auxiliary output's loss when `loss_weights` is None
            (0.3 in GoogLeNet, Szegedy 2015 §5).
        jit_compile: compile the replica step with XLA.
        steps_per_execution: training steps per `tf.function` call; callbacks see a batch
            end every `steps_per_execution` steps.
    """

    def __init__(
        self,
        model,
        optimizer,
        loss,
        *,
        strategy: Optional[tf.distribute.Strategy] = None,
        metrics: Sequence = ("accuracy",),
        loss_weights: Optional[Sequence[float]] = None,
        aux_loss_weight: float = 0.3,
        jit_compile: bool = False,
        steps_per_execution: int = 1,
    ):
        if not isinstance(steps_per_execution, int) or steps_per_execution < 1:
            raise ValueError(f"steps_per_execution must be a positive integer. Received: steps_per_execution={steps_per_execution!r}")
        self.model = model
        self.strategy = strategy or tf.distribute.get_strategy()
        self.loss = _unreduced(loss)
        outputs = len(model.outputs) if getattr(model, "outputs", None) else 1
        self.loss_weights = list(loss_weights) if loss_weights is not None else [1.0] + [aux_loss_weight] * (outputs - 1)
        if len(self.loss_weights) != outputs:
            raise ValueError(f"loss_weights needs one weight per output ({outputs}). Received: loss_weights={loss_weights!r}")
        self.jit_compile = bool(jit_compile)
        self.steps_per_execution = steps_per_execution
        with self.strategy.scope():
            # Compiling gives callbacks `model.optimizer` (ReduceLROnPlateau, TensorBoard's
            # learning-rate log) and makes saved `.keras` files ready to evaluate.
            model.compile(optimizer=optimizer, loss=[loss] * outputs if outputs > 1 else loss,
                          loss_weights=self.loss_weights if outputs > 1 else None)
            self.train_metrics = [keras.metrics.Mean(name="loss")] + self._make_metrics(metrics)
            self.eval_metrics = [keras.metrics.Mean(name="loss")] + self._make_metrics(metrics)
        self.optimizer = model.optimizer
        self._train_function = None
        self._eval_function = None

    @staticmethod
    def _make_metrics(metrics):
        made = []
        for metric in metrics:
            if metric == "accuracy":
                made.append(keras.metrics.CategoricalAccuracy(name="accuracy"))
            elif metric == "top5":
                made.append(keras.metrics.TopKCategoricalAccuracy(5, name="top5"))
            else:
                made.append(keras.metrics.get(metric))
        return made

    # -- the replica steps -------------------------------------------------------------

    def _dense_labels(self, labels, predictions):
        if labels.shape.rank == predictions.shape.rank:
            return tf.cast(labels, tf.float32)
        return tf.one_hot(tf.cast(labels, tf.int32), tf.shape(predictions)[-1])

    def _per_example_loss(self, labels, outputs):
        outputs = [tf.cast(output, tf.float32) for output in _as_list(outputs)]
        labels = self._dense_labels(labels, outputs[0])
        total = 0.0
        for weight, output in zip(self.loss_weights, outputs):
            total += weight * self.loss(labels, output)
        return total, labels, outputs[0]

    def _train_step(self, images, labels):
        model = self.model
        with tf.GradientTape() as tape:
            outputs = model(images, training=True)
            per_example, dense_labels, main = self._per_example_loss(labels, outputs)
            # Divides by the global batch: the optimizer sums gradients over replicas.
            loss = tf.nn.compute_average_loss(per_example)
            regularization = tf.add_n([tf.cast(term, tf.float32) for term in model.losses]) if model.losses else 0.0
            loss += tf.nn.scale_regularization_loss(regularization)
            scaled = self.optimizer.scale_loss(loss)
        gradients = tape.gradient(scaled, model.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        self.train_metrics[0].update_state(per_example + regularization)
        for metric in self.train_metrics[1:]:
            metric.update_state(dense_labels, main)

    def _eval_step(self, images, labels):
        outputs = self.model(images, training=False)
        main = tf.cast(_as_list(outputs)[0], tf.float32)
        dense_labels = self._dense_labels(labels, main)
        self.eval_metrics[0].update_state(self.loss(dense_labels, main))
        for metric in self.eval_metrics[1:]:
            metric.update_state(dense_labels, main)

    def _make_train_function(self):
        replica_step = tf.function(self._train_step, jit_compile=self.jit_compile, reduce_retracing=True)
        strategy = self.strategy

        @tf.function
        def train_function(iterator, steps):
            for _ in tf.range(steps):
                images, labels = next(iterator)
                strategy.run(replica_step, args=(images, labels))

        return train_function

    def _make_eval_function(self):
        replica_step = tf.function(self._eval_step, jit_compile=self.jit_compile, reduce_retracing=True)
        strategy = self.strategy

        @tf.function
        def eval_function(batch):
            strategy.run(replica_step, args=batch)

        return eval_function

    # -- data ----------------------------------------------------------------------------

    def distribute(self, data: Union[tf.data.Dataset, Callable]):
        """A distributed dataset from a global-batch dataset or an `input_context` function."""
        if isinstance(data, tf.data.Dataset):
            return self.strategy.experimental_distribute_dataset(data)
        if callable(data):
            return self.strategy.distribute_datasets_from_function(data)
        return data

    @staticmethod
    def _logs(metrics, prefix=""):
        return {prefix + metric.name: float(np.asarray(metric.result())) for metric in metrics}

    # -- public API ----------------------------------------------------------------------

    def evaluate(self, data, callbacks=None):
        """Evaluates the main output over the whole of `data`; returns {"loss", metric...}.

        Workers may hold different numbers of batches: the distributed iterator agrees on
        the end of data across workers, and replicas without data run on empty batches.
        """
        if self._eval_function is None:
            self._eval_function = self._make_eval_function()
        for metric in self.eval_metrics:
            metric.reset_state()
        distributed = self.distribute(data)
        iterator = iter(distributed)
        step = 0
        while True:
            optional = iterator.get_next_as_optional()
            if not bool(optional.has_value()):
                break
            if callbacks is not None:
                callbacks.on_test_batch_begin(step)
            self._eval_function(optional.get_value())
            if callbacks is not None:
                callbacks.on_test_batch_end(step, self._logs(self.eval_metrics))
            step += 1
        return self._logs(self.eval_metrics)

    def fit(
        self,
        data,
        *,
        epochs: int,
        steps_per_epoch: Optional[int] = None,
        validation_data=None,
        callbacks: Sequence[keras.callbacks.Callback] = (),
        checkpoint_dir: Optional[str] = None,
        checkpoint_every_steps: Optional[int] = None,
        max_checkpoints: int = 2,
        verbose: Union[int, str] = "auto",
    ):
        """Trains for `epochs`, resuming from the latest checkpoint in `checkpoint_dir`.

        Args:
            data: a `tf.data.Dataset` of global batches, or a function of a
                `tf.distribute.InputContext` returning per-replica batches (sharded).
                With `steps_per_epoch`, one iterator runs through all epochs, so the data
                should repeat; without it, every epoch is one pass (cardinality must be
                known). Multi-worker runs need `steps_per_epoch` and repeating data, so
                that every worker takes the same number of steps.
            epochs: total epochs, counting the ones a resumed run already did.
            steps_per_epoch: steps per epoch.
            validation_data: evaluated after every epoch; logged as `val_*`.
            callbacks: Keras callbacks.
            checkpoint_dir: where resume checkpoints go (None: no resume).
            checkpoint_every_steps: also checkpoint inside epochs (None: at epoch ends).
            max_checkpoints: checkpoints kept.
            verbose: 0 silent, 1 progress bar, 2 one line per epoch; "auto" is 0 on
                workers other than the chief, and on the chief 1 when standard output is a
                terminal, else 2 (no progress-bar escapes in log files).

        Returns:
            The `keras.callbacks.History`.
        """
        chief = is_chief(self.strategy)
        if verbose == "auto":
            verbose = (1 if sys.stdout.isatty() else 2) if chief else 0
        per_epoch_pass = steps_per_epoch is None
        if per_epoch_pass:
            if not isinstance(data, tf.data.Dataset):
                raise ValueError("steps_per_epoch is needed when data is a dataset function.")
            steps_per_epoch = int(data.cardinality())
            if steps_per_epoch < 1:
                raise ValueError(f"Pass steps_per_epoch for data of unknown or infinite size. Received: cardinality={steps_per_epoch}")
        if self._train_function is None:
            self._train_function = self._make_train_function()

        epoch_counter = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
        step_in_epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="step_in_epoch")
        manager = None
        if checkpoint_dir:
            manager, epoch_counter, step_in_epoch = self._restore(checkpoint_dir, chief, max_checkpoints, epoch_counter, step_in_epoch)
        initial_epoch, initial_step = int(epoch_counter.numpy()), int(step_in_epoch.numpy())
        if verbose and initial_epoch >= epochs:
            print(f"Resuming from {checkpoint_dir}: all {epochs} epochs are done; nothing to train", flush=True)
        elif verbose and (initial_epoch or initial_step):
            print(f"Resuming from {checkpoint_dir}: epoch {initial_epoch + 1} of {epochs}, step {initial_step} "
                  f"of {steps_per_epoch}", flush=True)

        callback_list = keras.callbacks.CallbackList(
            list(callbacks), add_history=True, add_progbar=verbose != 0, model=self.model,
            verbose=verbose, epochs=epochs, steps=steps_per_epoch,
        )
        self.model.stop_training = False
        distributed = self.distribute(data)
        iterator = None if per_epoch_pass else iter(distributed)
        callback_list.on_train_begin()
        logs = {}
        for epoch in range(initial_epoch, epochs):
            for metric in self.train_metrics:
                metric.reset_state()
            if per_epoch_pass:
                iterator = iter(distributed)
            callback_list.on_epoch_begin(epoch)
            step = initial_step if epoch == initial_epoch else 0
            while step < steps_per_epoch and not self.model.stop_training:
                count = min(self.steps_per_execution, steps_per_epoch - step)
                if checkpoint_every_steps:
                    count = min(count, checkpoint_every_steps - step % checkpoint_every_steps)
                callback_list.on_train_batch_begin(step)
                self._train_function(iterator, tf.constant(count, dtype=tf.int32))
                step += count
                logs = self._logs(self.train_metrics)
                callback_list.on_train_batch_end(step - 1, logs)
                if manager is not None and checkpoint_every_steps and step % checkpoint_every_steps == 0 and step < steps_per_epoch:
                    epoch_counter.assign(epoch)
                    step_in_epoch.assign(step)
                    manager.save()
            epoch_logs = dict(logs)
            if validation_data is not None and not self.model.stop_training:
                validation_logs = self.evaluate(validation_data)
                epoch_logs.update({f"val_{key}": value for key, value in validation_logs.items()})
            callback_list.on_epoch_end(epoch, epoch_logs)
            logs = epoch_logs
            if manager is not None:
                epoch_counter.assign(epoch + 1)
                step_in_epoch.assign(0)
                manager.save()
            if self.model.stop_training:
                break
        callback_list.on_train_end(logs)
        if manager is not None and not chief:
            shutil.rmtree(manager.directory, ignore_errors=True)
        return self.model.history

    def _restore(self, checkpoint_dir, chief, max_checkpoints, epoch_counter, step_in_epoch):
        # Every worker saves (the save may need collectives); only the chief's copy is kept.
        directory = checkpoint_dir if chief else tempfile.mkdtemp(prefix="worker-checkpoint-")
        if not self.optimizer.built:
            with self.strategy.scope():
                self.optimizer.build(self.model.trainable_variables)
        checkpoint = tf.train.Checkpoint(model=self.model, optimizer=self.optimizer, epoch=epoch_counter, step_in_epoch=step_in_epoch)
        manager = tf.train.CheckpointManager(checkpoint, directory, max_to_keep=max_checkpoints)
        latest = tf.train.latest_checkpoint(checkpoint_dir) if os.path.isdir(checkpoint_dir) else None
        if latest:
            checkpoint.restore(latest).assert_existing_objects_matched()
        return manager, epoch_counter, step_in_epoch
