"""Stochastic depth (Huang, Sun, Liu, Sedra and Weinberger 2016)."""

import keras

__all__ = ["drop_path", "drop_path_rates"]


def drop_path(x, rate, *, name):
    """Drops the whole residual branch for a random subset of samples, in training only.

    "Deep Networks with Stochastic Depth" (ECCV 2016, arXiv 1603.09382). A `Dropout` whose
    noise is shared over every axis but the batch drops entire samples' branches; the
    survivors are scaled by 1/(1 - rate), so inference needs no change (the paper instead
    scales by the survival probability at test time; the two are equivalent in expectation).

    Args:
        x: the residual branch's output.
        rate: probability of dropping the branch for a sample; 0 adds no layer.
        name: layer name (convention: `{block}_drop`).

    Returns:
        The branch, dropped per sample in training.
    """
    if not rate:
        return x
    noise_shape = (None,) + (1,) * (len(x.shape) - 1)
    return keras.layers.Dropout(rate, noise_shape=noise_shape, name=name)(x)


def drop_path_rates(rate, blocks):
    """The linear decay rule: block l of L is dropped with probability rate * l / L.

    Huang et al. 2016, eq. 4 with p_L = 1 - rate: the first block is almost always kept,
    the last dropped with probability `rate`.

    Args:
        rate: drop probability of the last block.
        blocks: number of residual blocks L.

    Returns:
        A list of L drop probabilities.
    """
    return [rate * index / blocks for index in range(1, blocks + 1)]
