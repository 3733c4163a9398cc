"""Search strategies over the NASNet cell space, as KerasTuner oracles.

Each strategy is a `keras_tuner.Oracle`: KerasTuner keeps the trials, their state on disk,
resumption (an interrupted trial is run again, finished ones are not) and distribution
(a chief oracle serving workers over gRPC). A trial's hyperparameters are the decisions
of `SearchSpace.decisions()`: every node's two inputs and two operations, per cell.

- `RandomSearchOracle`: uniform samples, the baseline every NAS paper compares with.
- `EvolutionOracle`: regularized (aging) evolution, Real et al. 2019, "Regularized
  Evolution for Image Classifier Architecture Search", arXiv 1802.01548, Algorithm 1:
  P random genotypes, then each new one mutates the best of S drawn (with replacement)
  from the P most recently finished; the oldest leaves the population.
- `ReinforceOracle`: a recurrent controller emits a genotype decision by decision and is
  trained with REINFORCE on the rewards, with a moving-average baseline and an entropy
  bonus (Zoph and Le 2017, "Neural Architecture Search with Reinforcement Learning",
  arXiv 1611.01578, §3.2), emitting the cells of Zoph et al. 2018 (arXiv 1707.07012, §3:
  one LSTM layer, a softmax per decision, each choice fed back as the next input; that
  paper trained its controller with PPO instead of REINFORCE).

Every oracle maximizes `OBJECTIVE`, the "reward" metric a trial reports.
"""

import base64
import io
import math
import random

import keras
import keras_tuner
import numpy as np
import tensorflow as tf

from keras_archs.checks import check_positive_int, check_rate
from keras_archs.fileio import write_json
from keras_archs.search.space import SearchSpace

__all__ = [
    "OBJECTIVE", "STRATEGIES", "Controller", "EvolutionOracle", "GenotypeOracle", "RandomSearchOracle",
    "ReinforceOracle", "make_oracle", "search_hyperparameters",
]

OBJECTIVE = keras_tuner.Objective("reward", direction="max")
COMPLETED = keras_tuner.engine.trial.TrialStatus.COMPLETED
RUNNING = keras_tuner.engine.trial.TrialStatus.RUNNING


def search_hyperparameters(space):
    """The KerasTuner hyperparameters of `space`: one Choice per decision."""
    hyperparameters = keras_tuner.HyperParameters()
    for decision in space.decisions():
        hyperparameters.Choice(decision.name, list(decision.choices), ordered=False)
    return hyperparameters


def _check_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0. Received: seed={seed!r}")


def _check_finite(value, argument, *, minimum, inclusive):
    number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not number or not (value >= minimum if inclusive else value > minimum):
        bound = f">= {minimum}" if inclusive else f"above {minimum}"
        raise ValueError(f"{argument} must be a finite number {bound}. Received: {argument}={value!r}")


class GenotypeOracle(keras_tuner.Oracle):
    """An oracle whose trials are genotypes of a `SearchSpace`.

    Subclasses implement `propose(trial_id)`. The randomness of trial `i` comes from
    `(seed, i)` alone, so a resumed search draws what an uninterrupted one would have.

    Args:
        space: the `SearchSpace` (default: NASNet's, 5 nodes, every operation).
        max_trials: trials in all.
        seed: seeds every draw.
        **kwargs: other `keras_tuner.Oracle` arguments (e.g. `max_retries_per_trial`).
    """

    strategy = None

    def __init__(self, space=None, max_trials=20, seed=0, **kwargs):
        space = SearchSpace() if space is None else space
        if not isinstance(space, SearchSpace):
            raise ValueError(f"space must be a keras_archs.search.space.SearchSpace. Received: space={space!r}")
        check_positive_int(max_trials, "max_trials")
        _check_seed(seed)
        # KerasTuner replaces a seed of 0 by a random one; its own draws are unused here.
        super().__init__(
            objective=OBJECTIVE, max_trials=max_trials, hyperparameters=search_hyperparameters(space),
            allow_new_entries=False, tune_new_entries=False, seed=seed + 1, **kwargs,
        )
        self.space = space
        self.search_seed = seed
        # trial id -> how its genotype was made ({"method": "random"}, a parent and mutation, ...).
        self.origins = {}

    def rng(self, trial_id):
        """The `random.Random` of one trial's draws."""
        return random.Random(f"{self.search_seed}::{trial_id}")

    def propose(self, trial_id):
        """Returns `(genotype, origin)` for a new trial; `origin` is JSON data."""
        raise NotImplementedError

    def populate_space(self, trial_id):
        genotype, origin = self.propose(trial_id)
        self.origins[trial_id] = origin
        return {"status": RUNNING, "values": self.space.to_values(genotype)}

    def genotype(self, trial):
        """The genotype a trial evaluated."""
        return self.space.from_values(trial.hyperparameters.values, argument=f"trial {trial.trial_id}")

    def completed_trials(self):
        """The completed trials, in the order they finished."""
        return [self.trials[trial_id] for trial_id in self.end_order if self.trials[trial_id].status == COMPLETED]

    def get_state(self):
        state = super().get_state()
        # KerasTuner's end_trial saves before it drops the ended trial from ongoing_trials;
        # reload() would hand that finished trial out again.
        state["ongoing_trials"] = {tuner_id: trial_id for tuner_id, trial_id in state["ongoing_trials"].items()
                                   if self.trials[trial_id].status == RUNNING}
        return {**state, "origins": self.origins}

    def set_state(self, state):
        super().set_state(state)
        self.origins = dict(state.get("origins", {}))

    # KerasTuner writes its JSON files in place; these write them through a temp file and
    # rename, so a search killed mid-write resumes from the previous state.
    def save(self):
        write_json(self.get_state(), self._get_oracle_fname())

    def _save_trial(self, trial):
        write_json(trial.get_state(), f"{self._get_trial_dir(trial.trial_id)}/trial.json")


class RandomSearchOracle(GenotypeOracle):
    """Uniformly sampled genotypes (`SearchSpace.sample`): the baseline of every NAS paper."""

    strategy = "random"

    def propose(self, trial_id):
        return self.space.sample(self.rng(trial_id)), {"method": "random"}


class EvolutionOracle(GenotypeOracle):
    """Regularized (aging) evolution (Real et al. 2019, Algorithm 1).

    The first `population_size` trials are uniform samples. Every later one draws
    `sample_size` trials with replacement from the population (the `population_size`
    most recently completed trials: the oldest is dropped as each new one finishes),
    and mutates the genotype of the one with the highest reward (`SearchSpace.mutate`:
    a hidden-state, an operation or the identity mutation).

    Args:
        space, max_trials, seed, **kwargs: as `GenotypeOracle`.
        population_size: P (the paper: 100 for 20,000 models).
        sample_size: S, at most P (the paper: 25).
    """

    strategy = "evolution"

    def __init__(self, space=None, max_trials=20, seed=0, population_size=10, sample_size=3, **kwargs):
        check_positive_int(population_size, "population_size")
        check_positive_int(sample_size, "sample_size")
        if sample_size > population_size:
            raise ValueError(
                f"sample_size must be at most population_size ({population_size}). Received: sample_size={sample_size}"
            )
        super().__init__(space=space, max_trials=max_trials, seed=seed, **kwargs)
        self.population_size = population_size
        self.sample_size = sample_size

    def propose(self, trial_id):
        rng = self.rng(trial_id)
        population = self.completed_trials()[-self.population_size:]
        # Until P trials have started, and while none has finished (parallel workers), the
        # population is still being drawn.
        if len(self.start_order) < self.population_size or not population:
            return self.space.sample(rng), {"method": "random"}
        sample = [rng.choice(population) for _ in range(self.sample_size)]
        parent = max(sample, key=lambda trial: trial.score)
        child, mutation = self.space.mutate(self.genotype(parent), rng)
        return child, {"method": "mutation", "parent": parent.trial_id, "mutation": mutation}


class Controller:
    """A one-layer LSTM that emits a genotype decision by decision (the controller of Zoph 2018 §3).

    Each step reads the embedding of the previous choice, and a softmax over the
    current decision's choices (an input head masked to the node's earlier states, or
    an operation head) gives the next one. Trained by REINFORCE: the loss is
    -(reward - baseline) x log p(genotype) - entropy_weight x entropy, with Adam.

    Args:
        space: the `SearchSpace`.
        units: LSTM units (Zoph 2018: 100).
        learning_rate: Adam's step.
        entropy_weight: weight of the entropy bonus (keeps the controller exploring).
        seed: seeds the initial weights.
    """

    def __init__(self, space, units=64, learning_rate=0.01, entropy_weight=1e-3, seed=0):
        self.space = space
        self.decisions = space.decisions()
        self.entropy_weight = entropy_weight
        max_inputs = space.nodes + 1
        self.operation_offset = max_inputs
        start_token = max_inputs + len(space.operations)
        self.start_token = start_token
        def initializer(offset):
            # Zoph and Le 2017 §4.1: uniform in [-0.08, 0.08]; one seed per weight.
            return keras.initializers.RandomUniform(-0.08, 0.08, seed=seed * 8 + offset)

        self.embedding = keras.layers.Embedding(start_token + 1, units, embeddings_initializer=initializer(0),
                                                dtype="float32")
        self.cell = keras.layers.LSTMCell(units, kernel_initializer=initializer(1),
                                          recurrent_initializer=initializer(2), dtype="float32")
        self.heads = {
            "input": keras.layers.Dense(max_inputs, kernel_initializer=initializer(3), dtype="float32"),
            "operation": keras.layers.Dense(len(space.operations), kernel_initializer=initializer(4),
                                            dtype="float32"),
        }
        self.embedding.build((None,))
        self.cell.build((None, units))
        for head in self.heads.values():
            head.build((None, units))
        self.units = units
        self.optimizer = keras.optimizers.Adam(learning_rate)
        self.optimizer.build(self.variables)

    @property
    def variables(self):
        return [*self.embedding.trainable_variables, *self.cell.trainable_variables,
                *[v for head in self.heads.values() for v in head.trainable_variables]]

    def _token(self, decision, choice_index):
        return choice_index + (self.operation_offset if decision.kind == "operation" else 0)

    def _log_probs(self, state, token, decision):
        output, state = self.cell(self.embedding(tf.constant([token])), state)
        logits = self.heads[decision.kind](output)[0, :len(decision.choices)]
        return tf.nn.log_softmax(logits), state

    def _initial_state(self):
        return [tf.zeros((1, self.units)), tf.zeros((1, self.units))]

    def sample(self, rng):
        """Draws one genotype; returns `(values, probabilities of the choices made)`.

        Args:
            rng: a `numpy.random.Generator`.
        """
        state, token, values = self._initial_state(), self.start_token, {}
        for decision in self.decisions:
            log_probs, state = self._log_probs(state, token, decision)
            probabilities = np.exp(log_probs.numpy().astype("float64"))
            index = int(rng.choice(len(decision.choices), p=probabilities / probabilities.sum()))
            values[decision.name] = decision.choices[index]
            token = self._token(decision, index)
        return values

    def log_probability_and_entropy(self, values):
        """log p(values) and the summed entropy of the softmaxes along the way."""
        state, token = self._initial_state(), self.start_token
        log_probability, entropy = 0.0, 0.0
        for decision in self.decisions:
            log_probs, state = self._log_probs(state, token, decision)
            index = decision.choices.index(values[decision.name])
            log_probability += log_probs[index]
            entropy -= tf.reduce_sum(tf.exp(log_probs) * log_probs)
            token = self._token(decision, index)
        return log_probability, entropy

    def update(self, values, advantage):
        """One REINFORCE step on a genotype whose reward exceeded the baseline by `advantage`."""
        with tf.GradientTape() as tape:
            log_probability, entropy = self.log_probability_and_entropy(values)
            loss = -advantage * log_probability - self.entropy_weight * entropy
        self.optimizer.apply_gradients(zip(tape.gradient(loss, self.variables), self.variables))

    def get_weights(self):
        """The controller's and Adam's variables, as one base64 text of a `.npz`."""
        buffer = io.BytesIO()
        arrays = [v.numpy() for v in self.variables] + [v.numpy() for v in self.optimizer.variables]
        np.savez(buffer, *arrays)
        return base64.b64encode(buffer.getvalue()).decode("ascii")

    def set_weights(self, text):
        with np.load(io.BytesIO(base64.b64decode(text))) as data:
            arrays = [data[f"arr_{index}"] for index in range(len(data.files))]
        for variable, value in zip([*self.variables, *self.optimizer.variables], arrays, strict=True):
            variable.assign(value)


class ReinforceOracle(GenotypeOracle):
    """A recurrent controller trained with REINFORCE (Zoph and Le 2017 §3.2) over Zoph 2018's cells.

    Every new trial is a genotype sampled from the controller; every completed trial
    updates it once with advantage `reward - baseline`, the baseline being an
    exponential moving average of the rewards (decay `baseline_decay`). The
    controller's weights, its optimizer and the baseline are part of the oracle's
    saved state, so a resumed search continues the same controller.

    Args:
        space, max_trials, seed, **kwargs: as `GenotypeOracle`.
        units, learning_rate, entropy_weight: the `Controller`'s.
        baseline_decay: the moving average's decay, in [0, 1).
    """

    strategy = "reinforce"

    def __init__(self, space=None, max_trials=20, seed=0, units=64, learning_rate=0.01, entropy_weight=1e-3,
                 baseline_decay=0.95, **kwargs):
        check_positive_int(units, "units")
        _check_finite(learning_rate, "learning_rate", minimum=0, inclusive=False)
        _check_finite(entropy_weight, "entropy_weight", minimum=0, inclusive=True)
        check_rate(baseline_decay, "baseline_decay")
        super().__init__(space=space, max_trials=max_trials, seed=seed, **kwargs)
        self.controller = Controller(self.space, units=units, learning_rate=learning_rate,
                                     entropy_weight=entropy_weight, seed=seed)
        self.baseline_decay = baseline_decay
        self.baseline = None
        self.updates = 0

    def propose(self, trial_id):
        rng = np.random.default_rng(self.rng(trial_id).getrandbits(64))
        values = self.controller.sample(rng)
        return self.space.from_values(values), {"method": "controller", "updates": self.updates}

    def score_trial(self, trial):
        super().score_trial(trial)
        reward = trial.score
        if reward is None or not math.isfinite(reward):
            return
        if self.baseline is None:
            self.baseline = reward
        advantage = reward - self.baseline
        self.controller.update(trial.hyperparameters.values, advantage)
        self.baseline = self.baseline_decay * self.baseline + (1 - self.baseline_decay) * reward
        self.updates += 1

    def get_state(self):
        return {**super().get_state(), "controller": self.controller.get_weights(), "baseline": self.baseline,
                "updates": self.updates}

    def set_state(self, state):
        super().set_state(state)
        self.controller.set_weights(state["controller"])
        self.baseline = state["baseline"]
        self.updates = state["updates"]


STRATEGIES = {oracle.strategy: oracle for oracle in (EvolutionOracle, ReinforceOracle, RandomSearchOracle)}


def make_oracle(strategy, **options):
    """The oracle of a strategy name ("evolution", "reinforce" or "random") with its options."""
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {tuple(STRATEGIES)}. Received: strategy={strategy!r}")
    return STRATEGIES[strategy](**options)
