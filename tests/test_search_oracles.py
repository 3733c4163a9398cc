"""The search oracles on a cheap surrogate objective, their resumption, the reward and the report.

No candidate is trained here: an oracle is driven directly, as `CellSearchTuner` drives it
(create a trial, report its reward, end it), and a trial's reward is computed from its
genotype alone (`_surrogate_reward`), so that hundreds of trials take seconds.
"""

import base64
import csv
import io
import json
import math
import random

import numpy as np
import pytest

from keras_archs.layers.nas import genotype_from_json, genotype_to_json
from keras_archs.search.oracles import STRATEGIES, EvolutionOracle, make_oracle
from keras_archs.search.report import best_record, pareto_front, trial_records, write_report
from keras_archs.search.reward import Reward
from keras_archs.search.space import MUTATIONS, SearchSpace

# KerasTuner 1.4 calls threading.currentThread().getName() in every oracle call.
pytestmark = [pytest.mark.filterwarnings("ignore:currentThread:DeprecationWarning"),
              pytest.mark.filterwarnings("ignore:getName:DeprecationWarning")]

# The surrogate: a 2-node space of 3 operations, 8 operation slots in all (2 cells x 2 nodes
# x 2 sides). Its "accuracy" is the fraction of slots that are sep_conv_3x3 and its "MACs" the
# summed cost of the slots' operations, so the MnasNet reward at a target of 8 has a single
# optimum: every slot sep_conv_3x3, accuracy 1 at cost 8 = the target, reward exactly 1.0.
SURROGATE_SPACE = SearchSpace(nodes=2, operations=("sep_conv_3x3", "identity", "max_pool_3x3"))
SURROGATE_COST = {"sep_conv_3x3": 1.0, "identity": 1.0, "max_pool_3x3": 2.0}
SURROGATE_REWARD = Reward(cost="macs", target=8.0)
OPTIMUM = 1.0
SLOTS = 8
BUDGET = 300
SEEDS = range(5)
# The settings under which the trials of the optimum were measured (budget 300, seeds 0..4).
STRATEGY_OPTIONS = {
    "evolution": {"population_size": 10, "sample_size": 3},
    "reinforce": {"learning_rate": 0.02},
    "random": {},
}


def _operations(genotype):
    """The operations of a genotype's slots, normal cell first, node by node, left then right."""
    return [operation for cell in (genotype.normal, genotype.reduction) for node in cell.nodes
            for operation, _ in (node.left, node.right)]


def _surrogate_reward(genotype):
    operations = _operations(genotype)
    assert len(operations) == SLOTS
    accuracy = sum(operation == "sep_conv_3x3" for operation in operations) / SLOTS
    return SURROGATE_REWARD(accuracy, {"macs": sum(SURROGATE_COST[operation] for operation in operations)})


def _oracle(strategy, directory, *, space=SURROGATE_SPACE, budget=BUDGET, seed=0, **options):
    """An oracle of `strategy` whose project folder is `directory/p`, without a tuner."""
    oracle = make_oracle(strategy, space=space, max_trials=budget, seed=seed, **options)
    oracle._set_project_dir(str(directory), "p")
    oracle.verbose = 0
    return oracle


def _finish(oracle, trial, reward):
    """Reports `reward` for `trial` and ends it as completed, as the tuner does."""
    oracle.update_trial(trial.trial_id, {"reward": reward})
    trial.status = "COMPLETED"
    oracle.end_trial(trial)


def _run(oracle, trials, reward=_surrogate_reward, stop_at=None):
    """Runs `trials` trials; returns [(trial_id, genotype, reward)], stopping after a reward of `stop_at`."""
    history = []
    for _ in range(trials):
        trial = oracle.create_trial("tuner0")
        assert trial.status == "RUNNING"
        genotype = oracle.genotype(trial)
        value = reward(genotype)
        _finish(oracle, trial, value)
        history.append((trial.trial_id, genotype, value))
        if stop_at is not None and value == stop_at:
            break
    return history


def _controller_arrays(oracle):
    """The arrays of a `ReinforceOracle`'s controller and Adam state, decoded from `get_weights()`."""
    with np.load(io.BytesIO(base64.b64decode(oracle.controller.get_weights()))) as data:
        return [data[f"arr_{index}"] for index in range(len(data.files))]


def test_the_surrogate_optimum_is_every_slot_sep_conv_3x3_at_reward_one():
    best = SURROGATE_SPACE.from_values({
        decision.name: decision.choices[0] if decision.kind == "input" else "sep_conv_3x3"
        for decision in SURROGATE_SPACE.decisions()
    })
    assert _surrogate_reward(best) == OPTIMUM
    # One slot off the optimum scores less, whichever operation it takes.
    values = SURROGATE_SPACE.to_values(best)
    for operation in ("identity", "max_pool_3x3"):
        worse = SURROGATE_SPACE.from_values({**values, "reduction_1_right_operation": operation})
        assert _surrogate_reward(worse) < OPTIMUM


# Measured with budget 300 on seeds 0..4, the optimum came at these trials: evolution
# (P=10, S=3) 164, 149, 103, 119, 213; REINFORCE (learning rate 0.02) 10, 7, 32, 10, 9 (with
# the controller initialized uniformly in [-0.08, 0.08]; 10, 11, 21, 14, 13 before that).
# Random search never found it, as expected: a uniform draw hits the optimum only when its 8
# operations are all sep_conv_3x3 (the inputs do not matter), a chance of 3**-8 = 1/6561, so
# 300 draws find it with probability 1 - (1 - 1/6561)**300, about 4.5%, and a strategy that
# finds it on all 5 seeds learns from the rewards. Random search and evolution draw with
# Python's `random` alone (string-seeded per trial) and compare exact rewards, so their runs
# are the same on any CPU; REINFORCE's draws go through float32 TensorFlow arithmetic,
# which may round differently elsewhere, but its margin (at most 32 of 300 trials) is large.
@pytest.mark.parametrize(("strategy", "finds_optimum"), [("evolution", True), ("reinforce", True), ("random", False)])
def test_learning_strategies_find_the_surrogate_optimum_and_random_search_does_not(tmp_path, monkeypatch, strategy,
                                                                                   finds_optimum):
    found = {}
    for seed in SEEDS:
        oracle = _oracle(strategy, tmp_path / f"seed{seed}", seed=seed, **STRATEGY_OPTIONS[strategy])
        # Writing oracle.json and trial.json after every change is most of the time of random
        # search and evolution here (1,500 and 750 trials); it changes no proposal, and the
        # resumption tests below keep it.
        monkeypatch.setattr(oracle, "save", lambda: None)
        monkeypatch.setattr(oracle, "_save_trial", lambda trial: None)
        history = _run(oracle, BUDGET, stop_at=OPTIMUM)
        found[seed] = len(history) if history[-1][2] == OPTIMUM else None
        assert all(reward <= OPTIMUM for _, _, reward in history)
    if finds_optimum:
        assert None not in found.values(), f"{strategy} missed the optimum within {BUDGET} trials: {found}"
    else:
        assert set(found.values()) == {None}, f"{strategy} found the optimum: {found}"


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_every_proposed_genotype_is_valid_in_the_space_and_round_trips_its_values(tmp_path, strategy):
    # Every operation and three nodes: the inputs of later nodes have more choices to get wrong.
    space = SearchSpace(nodes=3)
    options = {"population_size": 4, "sample_size": 2} if strategy == "evolution" else {}
    if strategy == "reinforce":
        options = {"units": 16}
    oracle = _oracle(strategy, tmp_path, space=space, budget=12, seed=1, **options)

    def reward(genotype):  # any reward that depends on the genotype, so that evolution and REINFORCE move
        operations = [op for cell in (genotype.normal, genotype.reduction) for node in cell.nodes
                      for op, _ in (node.left, node.right)]
        return operations.count("identity") / len(operations)

    history = _run(oracle, 12, reward)
    assert len(history) == 12
    for trial_id, genotype, _ in history:
        genotype.validate()
        space.check_genotype(genotype)
        values = space.to_values(genotype)
        assert values == oracle.trials[trial_id].hyperparameters.values
        assert space.from_values(values) == genotype
        assert genotype_from_json(genotype_to_json(genotype)) == genotype
        for cell in (genotype.normal, genotype.reduction):
            for index, node in enumerate(cell.nodes):
                assert {source for _, source in (node.left, node.right)} <= set(range(index + 2))
    # The budget is kept: the next trial is a stop.
    assert oracle.create_trial("tuner0").status == "STOPPED"


@pytest.mark.parametrize(
    ("strategy", "options", "budget", "interrupted_after"),
    [
        ("evolution", {"population_size": 5, "sample_size": 2}, 24, 13),  # resumed within the mutations
        ("evolution", {"population_size": 5, "sample_size": 2}, 12, 3),  # resumed within the random start
        ("random", {}, 12, 5),
    ],
)
def test_a_reloaded_oracle_proposes_what_an_uninterrupted_one_does(tmp_path, strategy, options, budget,
                                                                   interrupted_after):
    uninterrupted = _oracle(strategy, tmp_path / "uninterrupted", budget=budget, seed=3, **options)
    expected = _run(uninterrupted, budget)

    first = _oracle(strategy, tmp_path / "resumed", budget=budget, seed=3, **options)
    before = _run(first, interrupted_after)
    first.save()  # as CellSearchTuner.on_trial_end does after end_trial
    del first
    resumed = _oracle(strategy, tmp_path / "resumed", budget=budget, seed=3, **options)
    resumed.reload()
    assert len(resumed.completed_trials()) == interrupted_after
    after = _run(resumed, budget - interrupted_after)

    assert [(i, g) for i, g, _ in before + after] == [(i, g) for i, g, _ in expected]
    assert resumed.origins == uninterrupted.origins
    assert resumed.create_trial("tuner0").status == "STOPPED"


def test_a_reloaded_reinforce_oracle_restores_its_controller_and_proposes_what_an_uninterrupted_one_does(tmp_path):
    budget, interrupted_after = 7, 4
    options = {"learning_rate": 0.02, "units": 16}
    uninterrupted = _oracle("reinforce", tmp_path / "uninterrupted", budget=budget, seed=2, **options)
    expected = _run(uninterrupted, budget)

    first = _oracle("reinforce", tmp_path / "resumed", budget=budget, seed=2, **options)
    before = _run(first, interrupted_after)
    first.save()  # as CellSearchTuner.on_trial_end does after end_trial
    resumed = _oracle("reinforce", tmp_path / "resumed", budget=budget, seed=2, **options)
    # A fresh controller starts from the initial weights, not the trained ones.
    assert any(not np.array_equal(a, b) for a, b in zip(_controller_arrays(resumed), _controller_arrays(first)))
    resumed.reload()

    saved, restored = _controller_arrays(first), _controller_arrays(resumed)
    assert len(saved) == len(restored) == len(resumed.controller.variables) + len(
        resumed.controller.optimizer.variables)
    for a, b in zip(saved, restored):
        np.testing.assert_array_equal(a, b)
    assert resumed.baseline == first.baseline
    assert first.baseline is not None
    assert resumed.updates == first.updates == interrupted_after
    assert int(resumed.controller.optimizer.iterations.numpy()) == interrupted_after

    after = _run(resumed, budget - interrupted_after)
    assert [(i, g) for i, g, _ in before + after] == [(i, g) for i, g, _ in expected]
    assert resumed.updates == uninterrupted.updates == budget
    assert resumed.baseline == uninterrupted.baseline


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_a_trial_running_when_the_oracle_was_saved_is_handed_out_again_and_no_completed_one_is(tmp_path,
                                                                                             strategy):
    budget = 8
    options = {"population_size": 3, "sample_size": 2} if strategy == "evolution" else {}
    if strategy == "reinforce":
        options = {"units": 16}
    oracle = _oracle(strategy, tmp_path, budget=budget, seed=4, **options)
    completed = [trial_id for trial_id, _, _ in _run(oracle, 4)]
    running = oracle.create_trial("tuner0")  # started, never ended: the process died here
    running_values = dict(running.hyperparameters.values)
    running_origin = oracle.origins[running.trial_id]
    del oracle

    resumed = _oracle(strategy, tmp_path, budget=budget, seed=4, **options)
    resumed.reload()
    retried = resumed.create_trial("tuner0")
    assert retried.trial_id == running.trial_id
    assert retried.status == "RUNNING"
    assert retried.hyperparameters.values == running_values
    assert resumed.origins[retried.trial_id] == running_origin
    _finish(resumed, retried, _surrogate_reward(resumed.genotype(retried)))

    rest = [trial_id for trial_id, _, _ in _run(resumed, budget - len(completed) - 1)]
    assert resumed.create_trial("tuner0").status == "STOPPED"
    handed_out = completed + [retried.trial_id] + rest
    assert len(handed_out) == len(set(handed_out)) == budget
    assert not set(rest) & set(completed + [retried.trial_id])
    assert [trial.trial_id for trial in resumed.completed_trials()] == handed_out


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_a_trial_completed_just_before_the_process_died_is_not_handed_out_again(tmp_path, strategy):
    # The oracle.json that end_trial itself writes: what a search killed right after a trial
    # ended leaves (before the tuner saves again), and what the chief of a distributed search
    # leaves when its server stops (no save follows the last end_trial).
    options = {"units": 16} if strategy == "reinforce" else {}
    oracle = _oracle(strategy, tmp_path, budget=6, seed=4, **options)
    completed = [trial_id for trial_id, _, _ in _run(oracle, 3)]
    updates = getattr(oracle, "updates", None)

    resumed = _oracle(strategy, tmp_path, budget=6, seed=4, **options)
    resumed.reload()
    assert [trial.trial_id for trial in resumed.completed_trials()] == completed
    rest = [trial_id for trial_id, _, _ in _run(resumed, 3)]
    assert not set(rest) & set(completed), f"completed trials {completed} handed out again: {rest}"
    assert resumed.end_order == completed + rest
    if strategy == "reinforce":
        assert resumed.updates == updates + 3  # one controller step per trial, none twice


def _elements(genotype):
    return {(kind, index, side): pair
            for kind, cell in (("normal", genotype.normal), ("reduction", genotype.reduction))
            for index, node in enumerate(cell.nodes)
            for side, pair in enumerate((node.left, node.right))}


def test_evolution_starts_with_random_genotypes_then_mutates_a_member_of_the_aging_population(tmp_path):
    population_size, budget = 6, 40
    oracle = _oracle("evolution", tmp_path, budget=budget, seed=5, population_size=population_size, sample_size=3)
    finished, genotypes, mutations = [], {}, []
    for index in range(budget):
        population = list(finished[-population_size:])  # the most recently completed, before this trial
        trial = oracle.create_trial("tuner0")
        genotype = oracle.genotype(trial)
        origin = oracle.origins[trial.trial_id]
        if index < population_size:
            assert origin == {"method": "random"}
        else:
            assert origin["method"] == "mutation"
            assert origin["parent"] in population
            assert origin["mutation"] in MUTATIONS
            mutations.append(origin["mutation"])
            parent, child = _elements(genotypes[origin["parent"]]), _elements(genotype)
            changed = [key for key in parent if parent[key] != child[key]]
            if origin["mutation"] == "identity":
                assert changed == []
            else:
                assert len(changed) == 1
                (old_operation, old_source), (new_operation, new_source) = parent[changed[0]], child[changed[0]]
                if origin["mutation"] == "hidden_state":
                    assert old_operation == new_operation and old_source != new_source
                else:
                    assert old_source == new_source and old_operation != new_operation
        genotypes[trial.trial_id] = genotype
        _finish(oracle, trial, _surrogate_reward(genotype))
        finished.append(trial.trial_id)
    assert set(mutations) == set(MUTATIONS)


@pytest.mark.parametrize(
    ("strategy", "options", "expected"),
    [
        ("evolution", {"population_size": 3, "sample_size": 5}, r"sample_size must be at most population_size.*"
                                                                r"Received: sample_size=5"),
        ("evolution", {"population_size": 0}, r"population_size must be a positive integer.*population_size=0"),
        ("evolution", {"sample_size": 0}, r"sample_size must be a positive integer.*sample_size=0"),
        ("random", {"max_trials": 0}, r"max_trials must be a positive integer.*max_trials=0"),
        ("random", {"seed": -1}, r"seed must be an integer >= 0.*seed=-1"),
        ("evolution", {"seed": 1.5}, r"seed must be an integer >= 0.*seed=1.5"),
        ("random", {"space": "nasnet"}, r"space must be a keras_archs.search.space.SearchSpace.*space='nasnet'"),
        ("annealing", {}, r"strategy must be one of \('evolution', 'reinforce', 'random'\).*strategy='annealing'"),
        ("reinforce", {"baseline_decay": 1.0}, r"baseline_decay must be a number in \[0, 1\).*baseline_decay=1.0"),
        ("reinforce", {"baseline_decay": -0.1}, r"baseline_decay.*baseline_decay=-0.1"),
        ("reinforce", {"learning_rate": 0}, r"learning_rate must be .*above 0.*learning_rate=0"),
        ("reinforce", {"learning_rate": float("nan")}, r"learning_rate.*learning_rate=nan"),
        ("reinforce", {"entropy_weight": -1.0}, r"entropy_weight.*entropy_weight=-1.0"),
        ("reinforce", {"units": 0}, r"units must be a positive integer.*units=0"),
    ],
)
def test_bad_oracle_arguments_are_refused_naming_the_argument_and_value(strategy, options, expected):
    with pytest.raises(ValueError, match=expected):
        make_oracle(strategy, **options)


def test_strategies_name_their_oracles():
    assert set(STRATEGIES) == {"evolution", "reinforce", "random"}
    assert STRATEGIES["evolution"] is EvolutionOracle
    for name, oracle in STRATEGIES.items():
        assert oracle.strategy == name


# The reward.


def test_an_accuracy_reward_is_the_accuracy_whatever_the_costs():
    reward = Reward()
    assert reward.objective == "accuracy"
    assert reward(0.8, {}) == 0.8
    assert reward(0.8, {"macs": 1e9, "params": 1e7}) == 0.8


def test_a_cost_reward_is_mnasnets_accuracy_times_the_cost_ratio_to_the_power_w():
    reward = Reward(cost="macs", target=1e6)  # w = -0.07, MnasNet's soft constraint
    # Twice the target: 0.8 x 2^-0.07 = 0.8 / 1.049717 = 0.762110.
    assert reward(0.8, {"macs": 2e6}) == pytest.approx(0.8 / math.exp(0.07 * math.log(2.0)), rel=1e-12)
    assert reward(0.8, {"macs": 2e6}) == pytest.approx(0.762110, abs=1e-6)
    assert reward(0.8, {"macs": 1e6}) == 0.8  # at the target: the accuracy
    assert reward(0.8, {"macs": 5e5}) > 0.8  # below the target: a bonus
    hard = Reward(cost="params", target=100.0, exponent=-1.0)
    assert hard(0.9, {"params": 300.0}) == pytest.approx(0.3, rel=1e-12)
    assert Reward(cost="latency_ms", target=4.0, exponent=0)(0.7, {"latency_ms": 40.0}) == 0.7


@pytest.mark.parametrize(
    ("objective", "targets", "cost", "target"),
    [
        ("accuracy", None, None, None),
        ("accuracy", {"macs": None, "params": None}, None, None),  # flags not given
        ("accuracy,macs", {"macs": 2e6, "params": None}, "macs", 2e6),
        (" accuracy , params ", {"params": 5e5}, "params", 5e5),
        ("accuracy,latency_ms", {"latency_ms": 3.5}, "latency_ms", 3.5),
    ],
)
def test_reward_from_objective_parses_the_objective_and_its_target(objective, targets, cost, target):
    reward = Reward.from_objective(objective, targets, exponent=-0.1)
    assert (reward.cost, reward.target, reward.exponent) == (cost, target, -0.1)
    assert reward.objective == ("accuracy" if cost is None else f"accuracy,{cost}")


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: Reward(target=1e6), r"target needs a cost objective.*target=1000000.0"),
        (lambda: Reward.from_objective("accuracy", {"macs": 1e6}), r"target_macs needs the objective accuracy,macs.*target_macs=1000000.0"),
        (lambda: Reward(cost="macs"), r"macs objective needs a positive target.*target=None"),
        (lambda: Reward.from_objective("accuracy,macs", {"macs": None}), r"needs target_macs.*no target_macs"),
        (lambda: Reward(cost="macs", target=0.0), r"positive target.*target=0.0"),
        (lambda: Reward.from_objective("accuracy,macs", {"macs": 1e6, "params": 5.0}),
         r"target_params needs the objective accuracy,params.*objective='accuracy,macs', target_params=5.0"),
        (lambda: Reward.from_objective("speed"), r"objective must be one of .*objective='speed'"),
        (lambda: Reward.from_objective("accuracy,flops", {}), r"objective must be one of .*objective='accuracy,flops'"),
        (lambda: Reward.from_objective("macs,accuracy", {}), r"objective must be one of .*objective='macs,accuracy'"),
        (lambda: Reward(cost="flops", target=1.0), r"cost must be None or one of .*cost='flops'"),
        (lambda: Reward(exponent=0.5), r"exponent must be a number <= 0.*exponent=0.5"),
        (lambda: Reward.from_objective("accuracy", exponent=0.07), r"exponent must be a number <= 0.*exponent=0.07"),
        (lambda: Reward(exponent=float("nan")), r"exponent.*exponent=nan"),
    ],
)
def test_bad_reward_settings_are_refused_naming_the_argument(make, expected):
    with pytest.raises(ValueError, match=expected):
        make()


# The report.


def _record(trial, accuracy, macs, reward=None, status="COMPLETED"):
    return {"trial": trial, "status": status, "reward": accuracy if reward is None else reward, "accuracy": accuracy,
            "macs": macs, "params": 1000.0, "seconds": 1.5, "latency_ms": None, "origin": {"method": "random"},
            "genotype": genotype_to_json(SURROGATE_SPACE.sample(random.Random(trial)))}


def test_the_pareto_front_keeps_the_records_no_other_beats_on_accuracy_and_macs():
    records = [
        _record("0", 0.90, 100.0),
        _record("1", 0.80, 50.0),
        _record("2", 0.85, 120.0),  # beaten by 0: less accurate, more MACs
        _record("3", 0.90, 100.0),  # ties 0 on both: neither beats the other
        _record("4", 0.80, 60.0),  # beaten by 1: as accurate, more MACs
        _record("5", 0.95, 100.0),  # beats 0 and 3: more accurate, as many MACs
        _record("6", 0.99, 400.0),
        {**_record("7", 0.99, 10.0), "accuracy": None, "reward": None, "status": "FAILED"},  # unscored
        {**_record("8", 0.99, 10.0), "accuracy": float("nan")},
    ]
    assert [r["trial"] for r in pareto_front(records)] == ["1", "5", "6"]
    without_5 = [r for r in records if r["trial"] != "5"]
    assert [r["trial"] for r in pareto_front(without_5)] == ["1", "0", "3", "6"]  # ties kept, by trial
    assert pareto_front([]) == []


def test_the_best_record_has_the_highest_reward_the_earliest_on_ties():
    records = [_record("0", 0.5, 1.0), _record("1", 0.7, 1.0, reward=0.9), _record("2", 0.95, 1.0, reward=None),
               _record("3", 0.6, 1.0, reward=0.9), _record("4", 0.99, 1.0, reward=float("nan"))]
    records[2]["reward"] = None
    assert best_record(records)["trial"] == "1"
    assert best_record([records[2], records[4]]) is None
    assert best_record([]) is None


def test_write_report_writes_the_tables_and_the_chart(tmp_path):
    oracle = _oracle("random", tmp_path / "search", budget=4, seed=0)
    for accuracy, macs in ((0.5, 300.0), (0.8, 200.0), (0.7, 100.0), (0.6, 400.0)):
        trial = oracle.create_trial("tuner0")
        oracle.update_trial(trial.trial_id, {"reward": accuracy, "accuracy": accuracy, "macs": macs,
                                             "params": 10.0, "seconds": 2.0})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    records = trial_records(oracle)
    assert [r["trial"] for r in records] == ["0", "1", "2", "3"]
    assert [r["accuracy"] for r in records] == [0.5, 0.8, 0.7, 0.6]
    assert all(r["origin"] == {"method": "random"} and r["latency_ms"] is None for r in records)

    references = {"nasnet_a": {"accuracy": 0.9, "macs": 500.0, "params": 20.0, "reward": 0.9, "seconds": 3.0}}
    report = write_report(tmp_path, records, references, objective="accuracy", title="surrogate")

    assert {path.name for path in tmp_path.iterdir()} >= {"trials.csv", "report.json", "report.md", "pareto.png"}
    with open(tmp_path / "trials.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(records)
    assert [row["trial"] for row in rows] == ["0", "1", "2", "3"]
    assert [float(row["accuracy"]) for row in rows] == [0.5, 0.8, 0.7, 0.6]
    assert [genotype_from_json(row["genotype"]) for row in rows] == [oracle.genotype(oracle.trials[t])
                                                                    for t in ("0", "1", "2", "3")]
    assert json.loads(rows[0]["origin"]) == {"method": "random"}

    saved = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert saved["pareto_front"] == report["pareto_front"] == ["2", "1"]
    assert saved["best"]["trial"] == "1"
    assert saved["references"] == references
    assert len(saved["trials"]) == 4
    markdown = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "4 trials, 4 completed" in markdown and "nasnet_a" in markdown and "## Best trial" in markdown
    assert report["chart"] == str(tmp_path / "pareto.png")
    assert (tmp_path / "pareto.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Every file went through a temp path that was renamed into place: none is left over.
    assert not [path.name for path in tmp_path.iterdir() if path.name.startswith(".") or "tmp" in path.name]


# The costs a trial is charged.


def test_a_latency_reward_measures_the_candidates_float32_tflite_file_in_litert(tmp_path):
    """CandidateTraining.measure: MACs and parameters from keras_archs.profile, latency from LiteRT."""
    import keras_archs
    from keras_archs.fileio import write_json
    from keras_archs.search.tuner import CandidateTraining

    genotype = SearchSpace(nodes=1, operations=("sep_conv_3x3", "identity")).sample(random.Random(0))
    training = CandidateTraining(cells=1, filters=8, reward=Reward(cost="latency_ms", target=1.0), latency_runs=3)
    write_json({"resolved": {"classes": 10, "image_size": 32, "channels": 1}}, tmp_path / "config.json")
    costs = training.measure(genotype, str(tmp_path))
    model = keras_archs.NASNet(genotype=genotype, num_cells=1, filters=8, stem_filters=8, classes=10,
                               input_shape=(32, 32, 1))
    assert costs["macs"] == keras_archs.profile(model).macs
    assert costs["params"] == sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)
    assert (tmp_path / "model.tflite").is_file()
    assert costs["latency_ms"] > 0
