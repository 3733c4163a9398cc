"""Architecture search over the NASNet cell space of `keras_archs.layers.nas` (Zoph 2018, Real 2019).

- `space`: the genotypes: sampling, mutation (Real et al. 2019), decisions, JSON text.
- `oracles`: KerasTuner oracles: regularized evolution, a REINFORCE controller, random.
- `reward`: accuracy, optionally times (cost / target)^w (MnasNet, Tan et al. 2019).
- `tuner`: how a candidate is trained (the recipes' loop) and measured; the tuner.
- `report`: the trials, the Pareto front of accuracy against MACs, its chart.
- `cli`: `recipes/search.py`.

    python recipes/search.py --strategy evolution --data digits --trials 6
"""
