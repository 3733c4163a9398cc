"""The NASNet cell search space: sampled and mutated genotypes are valid, the text form round-trips."""

import json
import random

import numpy as np
import pytest

import keras_archs
from keras_archs.layers.nas import OPERATIONS, Genotype
from keras_archs.models.nasnet import AMOEBANET_A, NASNET_A
from keras_archs.search.space import MUTATIONS, SearchSpace, genotype_from_json, genotype_to_json, unused_states

SEEDS = range(50)


def _pairs(genotype):
    return {kind: [(node.left, node.right) for node in getattr(genotype, kind).nodes] for kind in ("normal", "reduction")}


def _elements(genotype):
    """Every (cell, node, side) -> (operation, input) of a genotype."""
    return {
        (kind, index, side): pair[side]
        for kind, pairs in _pairs(genotype).items()
        for index, pair in enumerate(pairs)
        for side in (0, 1)
    }


@pytest.mark.parametrize("nodes", [1, 2, 5])
def test_sampled_genotypes_are_valid_and_concatenate_their_unused_node_outputs(nodes):
    space = SearchSpace(nodes=nodes)
    for seed in SEEDS:
        genotype = space.sample(random.Random(seed))
        genotype.validate()
        space.check_genotype(genotype)
        for cell in (genotype.normal, genotype.reduction):
            read = {source for node in cell.nodes for _, source in (node.left, node.right)}
            assert cell.concat == tuple(s for s in range(2, nodes + 2) if s not in read)
            assert cell.concat[-1] == nodes + 1  # the last node is read by none


def test_sampling_reaches_every_operation_and_every_input():
    space = SearchSpace()
    elements = [element for seed in SEEDS for element in _elements(space.sample(random.Random(seed))).items()]
    assert {operation for _, (operation, _) in elements} == set(OPERATIONS)
    for index in range(space.nodes):
        assert {source for (_, i, _), (_, source) in elements if i == index} == set(range(index + 2))


def test_sampling_is_reproducible_from_the_seed():
    space = SearchSpace()
    assert space.sample(random.Random(3)) == space.sample(random.Random(3))
    assert space.sample(random.Random(3)) != space.sample(random.Random(4))


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_a_mutation_changes_what_it_names_and_nothing_else(mutation):
    space = SearchSpace()
    for seed in SEEDS:
        rng = random.Random(seed)
        parent = space.sample(rng)
        child, applied = space.mutate(parent, rng, mutation=mutation)
        assert applied == mutation
        child.validate()
        before, after = _elements(parent), _elements(child)
        changed = [key for key in before if before[key] != after[key]]
        if mutation == "identity":
            assert child == parent
            continue
        assert len(changed) == 1
        (old_operation, old_source), (new_operation, new_source) = before[changed[0]], after[changed[0]]
        if mutation == "hidden_state":
            assert old_operation == new_operation and old_source != new_source
            assert new_source < changed[0][1] + 2  # an earlier state: no loop
        else:
            assert old_source == new_source and old_operation != new_operation
            assert new_operation in space.operations
        for cell in (child.normal, child.reduction):
            assert cell.concat == unused_states(cell.nodes)


def test_random_mutations_draw_each_kind():
    space = SearchSpace()
    rng = random.Random(0)
    genotype = space.sample(rng)
    applied = set()
    for _ in range(60):
        genotype, mutation = space.mutate(genotype, rng)
        genotype.validate()
        applied.add(mutation)
    assert applied == set(MUTATIONS)


def test_a_restricted_space_samples_and_mutates_within_its_operations():
    space = SearchSpace(nodes=3, operations=("identity", "sep_conv_3x3"))
    rng = random.Random(1)
    genotype = space.sample(rng)
    for _ in range(20):
        genotype, _ = space.mutate(genotype, rng, mutation="operation")
        assert {operation for operation, _ in _elements(genotype).values()} <= {"identity", "sep_conv_3x3"}


def test_text_form_round_trips_sampled_genotypes_and_is_canonical():
    space = SearchSpace()
    for seed in SEEDS:
        genotype = space.sample(random.Random(seed))
        text = genotype_to_json(genotype)
        assert genotype_from_json(text) == genotype
        assert genotype_to_json(genotype_from_json(text)) == text
        assert text == json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))


@pytest.mark.parametrize("genotype", [NASNET_A, AMOEBANET_A], ids=["nasnet_a", "amoebanet_a"])
def test_text_form_keeps_a_published_genotypes_function(genotype):
    parsed = genotype_from_json(genotype_to_json(genotype))
    assert _pairs(parsed) == _pairs(genotype)
    assert parsed.normal.concat == genotype.normal.concat
    assert parsed.reduction.concat == genotype.reduction.concat


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("not json", "must be a genotype's JSON text"),
        ("[]", "genotype.normal must be"),
        ('{"normal": {"nodes": [[["identity", 0]]], "concat": [2]}}', "genotype.normal must be"),
        ('{"normal": {"nodes": [[["identity", 0], ["identity", true]]], "concat": [2]}}', "genotype.normal must be"),
    ],
)
def test_malformed_text_is_refused_naming_the_argument(text, expected):
    with pytest.raises(ValueError, match=expected):
        genotype_from_json(text)


def test_text_of_an_invalid_genotype_is_refused_by_validation():
    genotype = SearchSpace(nodes=2).sample(random.Random(0))
    data = json.loads(genotype_to_json(genotype))
    data["normal"]["nodes"][0][0] = ["conv_9x9", 0]
    with pytest.raises(ValueError, match="genotype.normal node 0"):
        genotype_from_json(json.dumps(data))
    data = json.loads(genotype_to_json(genotype))
    data["reduction"]["nodes"][1][1] = ["identity", 3]  # node 1 may read states 0..2
    with pytest.raises(ValueError, match="genotype.reduction node 1"):
        genotype_from_json(json.dumps(data), argument="genotype")


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"nodes": 0}, "nodes must be a positive integer"),
        ({"operations": ()}, "operations must be a non-empty tuple"),
        ({"operations": ("conv_9x9",)}, "operations must be one of"),
        ({"operations": ("identity", "identity")}, "operations must not repeat"),
    ],
)
def test_bad_space_arguments_are_refused(arguments, expected):
    with pytest.raises(ValueError, match=expected):
        SearchSpace(**arguments)


def test_mutate_refuses_a_genotype_of_another_space_and_an_unknown_mutation():
    genotype = SearchSpace(nodes=2).sample(random.Random(0))
    with pytest.raises(ValueError, match="must have 5 nodes"):
        SearchSpace().mutate(genotype, random.Random(0))
    with pytest.raises(ValueError, match="mutation must be one of"):
        SearchSpace(nodes=2).mutate(genotype, random.Random(0), mutation="crossover")
    with pytest.raises(TypeError, match="rng must be a random.Random"):
        SearchSpace(nodes=2).mutate(genotype, 0)
    with pytest.raises(ValueError, match="genotype must be a keras_archs.layers.nas.Genotype"):
        SearchSpace().mutate("genotype", random.Random(0))


def test_sampled_and_mutated_genotypes_build_and_run_as_nasnet():
    space = SearchSpace(nodes=3)
    rng = random.Random(7)
    parent = space.sample(rng)
    child, _ = space.mutate(parent, rng, mutation="operation")
    for genotype in (parent, child):
        assert isinstance(genotype, Genotype)
        model = keras_archs.NASNet(
            genotype=genotype, num_cells=1, filters=8, stem_filters=8, input_shape=(32, 32, 3), classes=10,
        )
        scores = np.asarray(model(np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3)).astype("float32")))
        assert scores.shape == (2, 10)
        np.testing.assert_allclose(scores.sum(axis=1), 1.0, rtol=1e-5)
