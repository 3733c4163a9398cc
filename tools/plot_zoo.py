"""Draws the "top-1 accuracy vs operations" chart of the model zoo to docs/zoo.png.

    pip install matplotlib && python tools/plot_zoo.py [--output docs/zoo.png]

x: multiply-adds (GMACs, measured by keras_archs.profile at the default input, log scale);
y: the reference ImageNet top-1 of `keras_archs.model_info(name).reference`; bubble area:
trainable parameters. Only models with a reference top-1 at 1000 classes are drawn.
"""

import argparse
import os

from keras_archs.cli import measure
from keras_archs.cli_types import first_line
from keras_archs.fileio import atomic_write
from keras_archs.registry import list_models, model_info

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def imagenet_rows():
    names = [
        name for name in list_models()
        if model_info(name).reference.top1 is not None and model_info(name).reference.classes == 1000
    ]
    return [measure(name) for name in names]


def main(argv=None):
    parser = argparse.ArgumentParser(description=first_line(__doc__))
    parser.add_argument("--output", default=os.path.join(ROOT, "docs", "zoo.png"))
    args = parser.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = imagenet_rows()
    figure, axes = plt.subplots(figsize=(11, 7))
    for row in rows:
        axes.scatter(row.gmacs, row.top1, s=row.trainable_params / 2e5, alpha=0.45)
        axes.annotate(row.name, (row.gmacs, row.top1), fontsize=7, ha="center", va="bottom")
    axes.set_xscale("log")
    axes.set_xlabel("multiply-adds per image (G, log scale)")
    axes.set_ylabel("reference ImageNet top-1 (%)")
    axes.set_title("keras_archs: top-1 vs operations (bubble area ~ parameters)")
    axes.grid(True, which="both", alpha=0.3)
    atomic_write(args.output, lambda temp_path: figure.savefig(temp_path, dpi=120, bbox_inches="tight", format="png"))
    print(f"{len(rows)} models drawn to {args.output}")


if __name__ == "__main__":
    main()
