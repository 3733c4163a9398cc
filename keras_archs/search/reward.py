"""The search's reward: validation accuracy, optionally traded against a cost.

Tan et al. 2019, "MnasNet: Platform-Aware Neural Architecture Search for Mobile",
arXiv 1807.11626, eq. 2: reward = ACC(m) x (cost(m) / T)^w, with w = -0.07 in the
paper's soft form (§3): a model at twice the target cost needs about 5% more accuracy
to score the same. The cost is multiply-adds or parameters (`keras_archs.profile`), or
the float32 TFLite latency measured in the LiteRT interpreter (batch 1, one thread).
"""

import dataclasses
import math
import numbers
from typing import Mapping, Optional

__all__ = ["COSTS", "MNASNET_EXPONENT", "Reward"]

# What a trial can be charged for: MACs and parameters from keras_archs.profile, and the
# median LiteRT latency in milliseconds of the float32 TFLite file.
COSTS = ("macs", "params", "latency_ms")
# MnasNet's soft constraint (Tan 2019 §3): alpha = beta = -0.07.
MNASNET_EXPONENT = -0.07


@dataclasses.dataclass(frozen=True)
class Reward:
    """accuracy, or accuracy x (cost / target)^exponent (MnasNet, eq. 2).

    Attributes:
        cost: None (accuracy alone) or one of `COSTS`.
        target: T, the cost the search aims at (required with a cost, refused without).
        exponent: w, at most 0: -0.07 is MnasNet's soft trade-off.
    """

    cost: Optional[str] = None
    target: Optional[float] = None
    exponent: float = MNASNET_EXPONENT

    def __post_init__(self):
        if self.cost is not None and self.cost not in COSTS:
            raise ValueError(f"cost must be None or one of {COSTS}. Received: cost={self.cost!r}")
        if self.cost is None and self.target is not None:
            raise ValueError(
                f"target needs a cost objective (one of {COSTS}) to compare with. Received: target={self.target!r}"
            )
        if self.cost is not None:
            if not _finite_number(self.target) or self.target <= 0:
                raise ValueError(
                    f"A {self.cost} objective needs a positive target. Received: target={self.target!r}"
                )
        if not _finite_number(self.exponent) or self.exponent > 0:
            raise ValueError(f"exponent must be a number <= 0. Received: exponent={self.exponent!r}")

    @classmethod
    def from_objective(cls, objective, targets=None, exponent=MNASNET_EXPONENT, names=None):
        """The reward an objective text names: "accuracy" or "accuracy,<cost>".

        Args:
            objective: "accuracy", "accuracy,macs", "accuracy,params" or
                "accuracy,latency_ms".
            targets: {cost: target or None}; only the objective's cost may have one.
            exponent: w.
            names: how error messages name the arguments: {"objective": ..., cost: ...}
                (a command line passes its flags); default "objective" and "target_<cost>".

        Raises:
            ValueError: naming the argument, for another objective, a missing target, or
                a target for a cost the objective does not name.
        """
        names = {"objective": "objective", **{cost: f"target_{cost}" for cost in COSTS}, **(names or {})}
        parts = [part.strip() for part in str(objective).split(",")]
        allowed = ["accuracy"] + [f"accuracy,{cost}" for cost in COSTS]
        if parts[0] != "accuracy" or len(parts) > 2 or (len(parts) == 2 and parts[1] not in COSTS):
            raise ValueError(f"{names['objective']} must be one of {allowed}. Received: {names['objective']}={objective!r}")
        cost = parts[1] if len(parts) == 2 else None
        given = {name: value for name, value in (targets or {}).items() if value is not None}
        for name, value in given.items():
            if name != cost:
                raise ValueError(
                    f"{names[name]} needs the objective accuracy,{name}. "
                    f"Received: {names['objective']}={objective!r}, {names[name]}={value!r}"
                )
        if cost is not None and cost not in given:
            raise ValueError(
                f"The objective accuracy,{cost} needs {names[cost]}, the target T of accuracy x (cost/T)^w. "
                f"Received: {names['objective']}={objective!r} and no {names[cost]}"
            )
        return cls(cost=cost, target=given.get(cost), exponent=exponent)

    @property
    def objective(self):
        """The objective text this reward answers ("accuracy" or "accuracy,<cost>")."""
        return "accuracy" if self.cost is None else f"accuracy,{self.cost}"

    def __call__(self, accuracy, costs: Mapping[str, float]):
        """The reward of a trial of `accuracy` whose measured costs are `costs`."""
        if self.cost is None:
            return float(accuracy)
        return float(accuracy) * (float(costs[self.cost]) / self.target) ** self.exponent


def _finite_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
