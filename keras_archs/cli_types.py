"""Argument types and a parser for the command-line tools: one-line usage errors.

`keras-archs`, `keras-archs-train` and the recipes share these, so that every bad flag
value is refused by argparse the same way: exit code 2 and one line on stderr that names
the flag and the value received, e.g.

    keras-archs export: error: argument --samples: must be a positive integer. Received: '0'
"""

import argparse
import json
import math
import sys

__all__ = [
    "OneLineErrorParser",
    "fail",
    "first_line",
    "json_object",
    "non_negative_float",
    "positive_float",
    "positive_int",
]


class OneLineErrorParser(argparse.ArgumentParser):
    """An `argparse.ArgumentParser` whose usage errors are one line: no usage block.

    Subparsers made with `add_subparsers` are of this class too.
    """

    def error(self, message):
        """Prints `prog: error: message` and the `--help` pointer on one line; exits with 2."""
        self.exit(2, f"{self.prog}: error: {' '.join(str(message).split())} (see {self.prog} --help)\n")


def first_line(doc):
    """The first line of a docstring, for an argparse description; None under `python -OO`.

    Args:
        doc: a module's `__doc__`, None when Python runs with -OO.
    """
    return doc.strip().splitlines()[0] if doc and doc.strip() else None


def _number_type(name, convert, kind, minimum, *, inclusive, example):
    """An argparse `type` function that parses with `convert` and refuses values below `minimum`.

    Args:
        name: the function's name (argparse and `--help` show it in some messages).
        convert: `int` or `float`.
        kind: what a good value is, for the message: "a positive integer".
        minimum: the smallest value, or the bound values must exceed.
        inclusive: whether `minimum` itself is accepted.
        example: a flag with a good value, for the docstring.
    """

    def parse(text):
        try:
            value = convert(text)
        except (TypeError, ValueError):
            value = None
        # float("nan") and float("inf") parse, but no count, rate or size is either.
        good = value is not None and math.isfinite(value) and (value >= minimum if inclusive else value > minimum)
        if not good:
            raise argparse.ArgumentTypeError(f"must be {kind}. Received: {text!r}")
        return value

    parse.__name__ = parse.__qualname__ = name
    parse.__doc__ = (
        f"An argparse `type`: {kind}, e.g. `{example}`.\n\n    Raises:\n"
        "        argparse.ArgumentTypeError: for anything else; argparse adds the flag.\n"
    )
    return parse


positive_int = _number_type("positive_int", int, "a positive integer", 1, inclusive=True, example="--samples 256")
positive_float = _number_type("positive_float", float, "a positive number", 0, inclusive=False,
                              example="--learning-rate 0.1")
non_negative_float = _number_type("non_negative_float", float, "a number >= 0", 0, inclusive=True,
                                  example="--weight-decay 0")


_JSON_KINDS = {list: "array", str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}


def json_object(text):
    """An argparse `type`: a JSON object, e.g. `--model-options '{"variant": "v1.5"}'`.

    Returns:
        The object as a dict.

    Raises:
        argparse.ArgumentTypeError: for invalid JSON or JSON that is not an object.
    """
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"must be a JSON object ({error.msg}). Received: {text!r}") from None
    if not isinstance(value, dict):
        kind = _JSON_KINDS.get(type(value), type(value).__name__)
        raise argparse.ArgumentTypeError(
            f'must be a JSON object such as \'{{"key": 1}}\', not a JSON {kind}. Received: {text!r}'
        )
    return value


def fail(prog, message):
    """Prints `prog: message` as one line on stderr and returns the usage-error exit code 2.

    For errors found after parsing (a file that is not a model, a missing extra).
    """
    print(f"{prog}: {' '.join(str(message).split())}", file=sys.stderr)
    return 2
