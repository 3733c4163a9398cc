"""The NASNet cell search space: sampling, mutation and a canonical text form of genotypes.

The space is the one the models are built from (`keras_archs.layers.nas.Genotype`): a
normal and a reduction cell of B nodes, each node applying one operation to each of two
earlier hidden states and adding the results (Zoph et al. 2018, "Learning Transferable
Architectures for Scalable Image Recognition", §3, arXiv 1707.07012). The cell's output
concatenates the node outputs no node reads, as in §3 ("all unused hidden states ... are
concatenated"); the cell inputs (states 0 and 1) are never part of it, so a reduction
cell never concatenates a full-size input.

Mutations are those of regularized evolution (Real et al. 2019, "Regularized Evolution
for Image Classifier Architecture Search", §3 and Fig. 2, arXiv 1802.01548): a uniform
choice of cell, node and element of the node's pair, then either the element's hidden
state is replaced by another earlier one (no loops can form: a node reads only states
made before it), or its operation by another one; the identity mutation changes nothing.
"""

import dataclasses
import random
from typing import Tuple

from keras_archs.checks import check_choice, check_positive_int
from keras_archs.layers.nas import (
    CELL_KINDS, OPERATIONS, CellGenotype, Genotype, Node, check_is_genotype, genotype_from_json, genotype_to_json,
)

__all__ = [
    "CELL_KINDS", "MUTATIONS", "Decision", "SearchSpace", "genotype_from_json", "genotype_to_json", "unused_states",
]

MUTATIONS = ("hidden_state", "operation", "identity")


SIDES = ("left", "right")


@dataclasses.dataclass(frozen=True)
class Decision:
    """One choice that makes a genotype: a node input (a state index) or a node operation.

    Attributes:
        name: e.g. "normal_2_left_input", "reduction_0_right_operation".
        kind: "input" or "operation".
        choices: what may be chosen, in order.
    """

    name: str
    kind: str
    choices: tuple


def unused_states(nodes):
    """The node outputs (states 2..B+1) that no node of `nodes` reads, in order."""
    read = {source for node in nodes for _, source in (node.left, node.right)}
    return tuple(state for state in range(2, len(nodes) + 2) if state not in read)


@dataclasses.dataclass(frozen=True)
class SearchSpace:
    """Cells of `nodes` nodes whose operations come from `operations`.

    Attributes:
        nodes: B, the nodes per cell (the papers: 5).
        operations: the operations a node may apply, a subset of
            `keras_archs.layers.nas.OPERATIONS` (default: all of them).
    """

    nodes: int = 5
    operations: Tuple[str, ...] = OPERATIONS

    def __post_init__(self):
        check_positive_int(self.nodes, "nodes")
        if not isinstance(self.operations, tuple) or not self.operations:
            raise ValueError(f"operations must be a non-empty tuple. Received: operations={self.operations!r}")
        for operation in self.operations:
            check_choice(operation, OPERATIONS, "operations")
        if len(set(self.operations)) != len(self.operations):
            raise ValueError(f"operations must not repeat. Received: operations={self.operations!r}")

    def _cell(self, pairs):
        nodes = tuple(Node(left, right) for left, right in pairs)
        return CellGenotype(nodes=nodes, concat=unused_states(nodes))

    def sample(self, rng):
        """A genotype drawn uniformly: every input among the earlier states, every operation.

        Args:
            rng: a `random.Random`.

        Returns:
            A `Genotype` that passes `Genotype.validate()`.
        """
        _check_rng(rng)
        cells = {}
        for kind in CELL_KINDS:
            pairs = [
                tuple((rng.choice(self.operations), rng.randrange(index + 2)) for _ in range(2))
                for index in range(self.nodes)
            ]
            cells[kind] = self._cell(pairs)
        return Genotype(**cells)

    def mutate(self, genotype, rng, mutation=None):
        """One mutation of `genotype` (Real et al. 2019, §3).

        Args:
            genotype: a `Genotype` of this space (`nodes` nodes per cell).
            rng: a `random.Random`.
            mutation: one of `MUTATIONS`, or None to draw one uniformly.

        Returns:
            `(child, mutation)`: the mutated genotype (labels dropped; the concatenation
            recomputed) and the mutation applied.
        """
        _check_rng(rng)
        self.check_genotype(genotype)
        if mutation is None:
            mutation = rng.choice(MUTATIONS)
        check_choice(mutation, MUTATIONS, "mutation")
        cells = {kind: [[node.left, node.right] for node in getattr(genotype, kind).nodes] for kind in CELL_KINDS}
        if mutation != "identity":
            kind = rng.choice(CELL_KINDS)
            index = rng.randrange(self.nodes)
            side = rng.randrange(2)
            operation, source = cells[kind][index][side]
            if mutation == "hidden_state":
                choices = [state for state in range(index + 2) if state != source]
                # The first node reads only the two cell inputs: swapping between them is its one change.
                source = rng.choice(choices)
            else:
                choices = [op for op in self.operations if op != operation]
                operation = rng.choice(choices) if choices else operation
            cells[kind][index][side] = (operation, source)
        return Genotype(**{kind: self._cell(pairs) for kind, pairs in cells.items()}), mutation

    def decisions(self):
        """The choices that make a genotype, in the order a controller emits them.

        Per cell (normal, then reduction) and node: the two inputs, then the two
        operations (Zoph 2018 §3, Fig. 3 steps 1-4; step 5 is always addition here).
        """
        decisions = []
        for kind in CELL_KINDS:
            for index in range(self.nodes):
                for side in SIDES:
                    decisions.append(Decision(f"{kind}_{index}_{side}_input", "input", tuple(range(index + 2))))
                for side in SIDES:
                    decisions.append(Decision(f"{kind}_{index}_{side}_operation", "operation", self.operations))
        return tuple(decisions)

    def to_values(self, genotype):
        """`genotype` as {decision name: choice} (see `decisions`)."""
        self.check_genotype(genotype)
        values = {}
        for kind in CELL_KINDS:
            for index, node in enumerate(getattr(genotype, kind).nodes):
                for side, (operation, source) in zip(SIDES, (node.left, node.right)):
                    values[f"{kind}_{index}_{side}_input"] = source
                    values[f"{kind}_{index}_{side}_operation"] = operation
        return values

    def from_values(self, values, argument="values"):
        """The genotype of {decision name: choice}; the inverse of `to_values`.

        Raises:
            ValueError: naming `argument`, when a decision is missing or its choice is
                not one of its choices.
        """
        for decision in self.decisions():
            if decision.name not in values or values[decision.name] not in decision.choices:
                raise ValueError(
                    f"{argument} must choose {decision.name} among {decision.choices}. "
                    f"Received: {argument}[{decision.name!r}]={values.get(decision.name)!r}"
                )
        cells = {}
        for kind in CELL_KINDS:
            pairs = [
                tuple((values[f"{kind}_{index}_{side}_operation"], values[f"{kind}_{index}_{side}_input"])
                      for side in SIDES)
                for index in range(self.nodes)
            ]
            cells[kind] = self._cell(pairs)
        return Genotype(**cells)

    def check_genotype(self, genotype, argument="genotype"):
        """Raises ValueError unless `genotype` is a valid genotype of this space."""
        check_is_genotype(genotype, argument)
        genotype.validate(argument)
        for kind in CELL_KINDS:
            cell = getattr(genotype, kind)
            if len(cell.nodes) != self.nodes:
                raise ValueError(
                    f"{argument}.{kind} must have {self.nodes} nodes in this space. Received: {len(cell.nodes)} nodes"
                )
            for node in cell.nodes:
                for operation, _ in (node.left, node.right):
                    if operation not in self.operations:
                        raise ValueError(
                            f"{argument}.{kind} uses {operation!r}, which is not in this space's operations "
                            f"{self.operations}. Received: {argument}.{kind} node={node!r}"
                        )


def _check_rng(rng):
    if not isinstance(rng, random.Random):
        raise TypeError(f"rng must be a random.Random. Received: rng={rng!r}")
