"""Regenerates the model table in README.md from the registry (never edit it by hand).

    python tools/model_table.py            # rewrite README.md between the table markers
    python tools/model_table.py --check    # exit 1 if README.md's table is out of date
"""

import argparse
import os
import sys

from keras_archs.cli import measure_all, zoo_table
from keras_archs.cli_types import first_line
from keras_archs.fileio import atomic_write
from keras_archs.registry import list_models

START = "<!-- model-table:start -->"
END = "<!-- model-table:end -->"
README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")


def render_readme(text, table):
    """README text with the part between the markers replaced by `table`."""
    head, found_start, rest = text.partition(START)
    _, found_end, tail = rest.partition(END)
    if not (found_start and found_end):
        raise ValueError(f"README.md must contain {START} and {END}")
    return f"{head}{START}\n{table}\n{END}{tail}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=first_line(__doc__))
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    args = parser.parse_args(argv)
    table = zoo_table(measure_all(list_models()), markdown=True)  # one progress line per model on stderr
    with open(README, encoding="utf-8") as handle:
        current = handle.read()
    updated = render_readme(current, table)
    if args.check:
        if updated != current:
            print("README.md's model table is out of date: run python tools/model_table.py", file=sys.stderr)
            return 1
        return 0
    def write(temp_path):
        with open(temp_path, "w", encoding="utf-8") as handle:
            handle.write(updated)

    atomic_write(README, write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
