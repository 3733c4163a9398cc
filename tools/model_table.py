"""Regenerates README.md's model and weights tables from the registry (never edit them by hand).

    python tools/model_table.py            # rewrite both tables between their markers
    python tools/model_table.py --check    # exit 1 if either is out of date (tests/test_readme.py runs it)

Both come from the registry alone (no model is built): the counts and GMACs are the
references the tests check each model against.
"""

import argparse
import os
import sys

from keras_archs.cli import registry_table, weights_table
from keras_archs.cli_types import first_line
from keras_archs.fileio import atomic_write
from keras_archs.registry import list_models

MODEL_TABLE = ("<!-- model-table:start -->", "<!-- model-table:end -->")
WEIGHTS_TABLE = ("<!-- weights-table:start -->", "<!-- weights-table:end -->")
README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")


def render_readme(text, table, markers=MODEL_TABLE):
    """README text with the part between `markers` (start, end) replaced by `table`."""
    start, end = markers
    head, found_start, rest = text.partition(start)
    _, found_end, tail = rest.partition(end)
    if not (found_start and found_end):
        raise ValueError(f"README.md must contain {start} and {end}")
    return f"{head}{start}\n{table}\n{end}{tail}"


def render_tables(text):
    """README text with both tables regenerated from the registry."""
    text = render_readme(text, registry_table(list_models(), markdown=True), MODEL_TABLE)
    return render_readme(text, weights_table(list_models(pretrained=True), markdown=True), WEIGHTS_TABLE)


def main(argv=None):
    parser = argparse.ArgumentParser(description=first_line(__doc__))
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    args = parser.parse_args(argv)
    with open(README, encoding="utf-8") as handle:
        current = handle.read()
    updated = render_tables(current)
    if args.check:
        if updated != current:
            print("README.md's tables are out of date: run python tools/model_table.py", file=sys.stderr)
            return 1
        return 0
    def write(temp_path):
        with open(temp_path, "w", encoding="utf-8") as handle:
            handle.write(updated)

    atomic_write(README, write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
