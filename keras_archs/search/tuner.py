"""Training and measuring search candidates, and the KerasTuner tuner that runs them.

A candidate is `NASNet(genotype=..., num_cells=N, filters=F)` (registry name
"nasnet_mobile" with model options), trained by the recipes' loop
(`keras_archs.training.train`) in its own run folder, so an interrupted trial resumes
from its last checkpoint. Its reward is the accuracy on the validation split (never the
test split the final model is reported on), optionally traded against its cost
(`keras_archs.search.reward.Reward`).
"""

import dataclasses
import json
import os
from typing import Any, Optional

import keras_tuner

from keras_archs.checks import check_positive_int
from keras_archs.fileio import write_json
from keras_archs.layers.nas import genotype_to_json
from keras_archs.search.reward import Reward

__all__ = ["CandidateTraining", "CellSearchTuner", "CANDIDATE_MODEL"]

# The registry name whose constructor builds any genotype (`NASNet`).
CANDIDATE_MODEL = "nasnet_mobile"


@dataclasses.dataclass(frozen=True)
class CandidateTraining:
    """How every candidate is built, trained and measured.

    Attributes:
        data: any data source of the recipes ("digits", a TFDS name, a folder, TFRecords).
        cells: N, normal cells per stack.
        filters: F, filters of the first stack.
        stem_filters: filters of the stem convolution (None: F).
        image_size: input side.
        channels: input channels (None: the model's, 3).
        epochs: training epochs per candidate.
        batch_size, learning_rate, policy: override the preset.
        preset: the training preset (`keras_archs.training.PRESETS`).
        precision: "auto", "float32", "mixed_bfloat16" or "mixed_float16".
        seed: seeds weights, data order and augmentation of every candidate.
        precise_bn: training images that re-estimate the BatchNorm statistics after
            training (NASNet's momentum 0.9997 leaves them at their initial values in
            a short run); None keeps the moving averages.
        train_split, validation_split, test_split: the splits that train, score
            (the reward) and report (the final model); None: the recipes' defaults.
        data_dir, download: TFDS data_dir, and whether TFDS may download the data.
        reward: the `Reward`.
        latency_runs: LiteRT runs per latency median (a "latency_ms" cost only).
        verbose: Keras verbosity of the training runs.
    """

    data: str = "digits"
    cells: int = 1
    filters: int = 8
    stem_filters: Optional[int] = None
    image_size: int = 32
    channels: Optional[int] = None
    epochs: int = 3
    batch_size: Optional[int] = None
    learning_rate: Optional[float] = None
    policy: Optional[str] = None
    preset: str = "nas_proxy"
    precision: str = "auto"
    seed: int = 0
    precise_bn: Optional[int] = 512
    train_split: str = "train"
    validation_split: Optional[str] = None
    test_split: Optional[str] = None
    data_dir: Optional[str] = None
    download: bool = False
    reward: Reward = Reward()
    latency_runs: int = 20
    verbose: Any = 0

    def __post_init__(self):
        for argument in ("cells", "filters", "image_size", "epochs", "latency_runs"):
            check_positive_int(getattr(self, argument), argument)
        if self.stem_filters is not None:
            check_positive_int(self.stem_filters, "stem_filters")
        if not isinstance(self.reward, Reward):
            raise ValueError(f"reward must be a keras_archs.search.reward.Reward. Received: reward={self.reward!r}")

    def model_options(self, genotype, cells=None, filters=None):
        filters = filters or self.filters
        return {
            "genotype": genotype_to_json(genotype), "num_cells": cells or self.cells, "filters": filters,
            "stem_filters": self.stem_filters or filters,
        }

    def splits(self):
        """`(validation split, test split)`: the split that scores candidates, the one that reports the final model."""
        from keras_archs.training import resolve_splits

        return resolve_splits(self.data, self.validation_split, self.test_split)

    def run_config(self, genotype, output_dir, run_name, *, cells=None, filters=None, epochs=None, final=False):
        """The `keras_archs.training.RunConfig` of one candidate.

        A candidate is scored on the validation split; the final model (`final=True`)
        on the test split.
        """
        from keras_archs.training import RunConfig

        validation_split, test_split = self.splits()
        return RunConfig(
            model=CANDIDATE_MODEL, data=self.data, preset=self.preset, epochs=epochs or self.epochs,
            batch_size=self.batch_size, learning_rate=self.learning_rate, image_size=self.image_size,
            channels=self.channels, policy=self.policy, precision=self.precision, seed=self.seed,
            train_split=self.train_split, validation_split=validation_split,
            test_split=test_split if final else validation_split,
            data_dir=self.data_dir, download=self.download, output_dir=os.fspath(output_dir), run_name=run_name,
            model_options=self.model_options(genotype, cells, filters), precise_bn=self.precise_bn,
            verbose=self.verbose,
        )

    def measure(self, genotype, run_dir, *, cells=None, filters=None):
        """MACs and parameters (and the float32 TFLite latency for a latency reward) of a run's model."""
        import keras_archs
        from keras_archs.registry import model_info

        with open(os.path.join(run_dir, "config.json"), encoding="utf-8") as handle:
            resolved = json.load(handle)["resolved"]
        model = model_info(CANDIDATE_MODEL).build(
            classes=resolved["classes"], input_shape=(resolved["image_size"], resolved["image_size"], resolved["channels"]),
            **self.model_options(genotype, cells, filters),
        )
        measured = keras_archs.profile(model)
        costs = {"macs": float(measured.macs), "params": float(measured.trainable_params)}
        if self.reward.cost == "latency_ms":
            import numpy as np

            from keras_archs.export import LiteRTRunner, to_tflite

            path = to_tflite(model, os.path.join(run_dir, "model.tflite"))
            runner = LiteRTRunner(path, num_threads=1)
            costs["latency_ms"] = runner.median_latency_ms(np.zeros(model.inputs[0].shape[1:], "float32"),
                                                           runs=self.latency_runs)
        return costs

    def evaluate(self, genotype, directory, run_name="run", *, cells=None, filters=None, epochs=None, final=False):
        """Trains one candidate under `directory/run_name`; returns its metrics.

        Returns:
            {"reward", "accuracy" (on the validation split; the test split when `final`),
            "macs", "params", "seconds" (training), and "latency_ms" for a latency reward}.
        """
        from keras_archs import training

        config = self.run_config(genotype, directory, run_name, cells=cells, filters=filters, epochs=epochs,
                                 final=final)
        write_json(json.loads(genotype_to_json(genotype)), os.path.join(directory, "genotype.json"))
        metrics = training.train(config)
        costs = self.measure(genotype, os.path.join(directory, run_name), cells=cells, filters=filters)
        accuracy = float(metrics["test_accuracy"])
        return {"reward": self.reward(accuracy, costs), "accuracy": accuracy, **costs, "seconds": metrics["seconds"]}


class CellSearchTuner(keras_tuner.engine.base_tuner.BaseTuner):
    """Runs the trials of a `GenotypeOracle`: each trains one candidate.

    Its project folder holds KerasTuner's files (`oracle.json`, `trial_<id>/trial.json`)
    and, in each trial folder, `genotype.json` and the training run (`run/`).

    Args:
        oracle: a `keras_archs.search.oracles.GenotypeOracle`.
        training: the `CandidateTraining`.
        directory, project_name: the project folder (`directory/project_name`).
        overwrite: start afresh instead of resuming what the folder holds.
    """

    def __init__(self, oracle, training, directory, project_name="tuner", overwrite=False):
        self.space = oracle.space
        self.training = training
        super().__init__(oracle=oracle, directory=os.fspath(directory), project_name=project_name,
                         overwrite=overwrite)

    def run_trial(self, trial):
        genotype = self.space.from_values(trial.hyperparameters.values, argument=f"trial {trial.trial_id}")
        try:
            return self.training.evaluate(genotype, self.get_trial_dir(trial.trial_id))
        except ValueError as error:
            # `training.train` checks its settings before it trains: every trial would fail
            # the same way, so the search stops here instead of failing trial after trial.
            raise keras_tuner.errors.FatalError(str(error)) from error

    def on_search_begin(self):
        super().on_search_begin()
        # Saved before the first trial, so that a search killed during it reloads and
        # resumes that trial instead of starting a new project.
        self.save()

    def save(self):
        if not self._is_worker():
            self.oracle.save()
        write_json(self.get_state(), self._get_tuner_fname())
