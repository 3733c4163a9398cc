"""Argument checks shared by the models, the preprocessing and the export code.

Each raises ValueError naming the argument and the value received, before any work starts,
as the public API contract asks (DESIGN.md). They sit below `keras_archs.models` so that
`preprocessing` and `export` use them without importing a model module.
"""

import numbers

import keras

__all__ = ["check_activation", "check_bool", "check_choice", "check_positive_int", "check_rate"]


def check_bool(value, argument):
    """Raises ValueError unless `value` is True or False (0 and 1 are refused)."""
    if not isinstance(value, bool):
        raise ValueError(f"{argument} must be True or False. Received: {argument}={value!r}")


def check_positive_int(value, argument):
    """Raises ValueError unless `value` is an int >= 1 (bool excluded)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{argument} must be a positive integer. Received: {argument}={value!r}")


def check_rate(value, argument):
    """Raises ValueError unless `value` is a number in [0, 1) (bool excluded)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"{argument} must be a number in [0, 1). Received: {argument}={value!r}")


def check_choice(value, choices, argument):
    """Raises ValueError unless `value` is one of `choices` (use `check_bool` for flags)."""
    # `True in (0, 1)` and `0 in (False, True)` hold in Python: a flag needs `check_bool`.
    if value not in choices:
        raise ValueError(f"{argument} must be one of {tuple(choices)}. Received: {argument}={value!r}")


def check_activation(value, argument):
    """Raises ValueError unless `value` is None, a Keras activation name or a callable."""
    if value is None or callable(value):
        return
    try:
        keras.activations.get(value)
    except (ValueError, TypeError):
        raise ValueError(
            f"{argument} must be None, a Keras activation name or a callable. "
            f"Received: {argument}={value!r}"
        ) from None
