"""Command line of the training recipes (`recipes/*.py`, `keras-archs-train`)."""

import argparse
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__all__ = ["build_parser", "main"]


def _bool_or_auto(value):
    lowered = value.lower()
    if lowered == "auto":
        return "auto"
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected auto, true or false, got {value!r}")


def build_parser(description, **defaults):
    """The recipes' argument parser; `defaults` change flag defaults (e.g. data="cifar10")."""
    from keras_archs.augment import POLICIES
    from keras_archs.training.presets import PRESETS
    from keras_archs.training.strategy import PRECISIONS, STRATEGIES

    parser = argparse.ArgumentParser(description=description)
    add = parser.add_argument
    add("--model", default="lenet5", help="registry name (keras-archs list)")
    add("--data", default="digits", help="digits, a TFDS name, an image folder, or TFRecords (tfrecord:GLOB)")
    add("--preset", choices=sorted(PRESETS), help="training preset (default: the model's paper)")
    add("--epochs", type=int)
    add("--batch-size", type=int, help="global batch, split across replicas")
    add("--learning-rate", type=float, help="base rate at the preset's base batch (scaled with the batch)")
    add("--image-size", type=int, help="input side (default: the model's)")
    add("--channels", type=int, help="input channels (default: the model's)")
    add("--classes", type=int, help="number of classes (default: what the data says)")
    garden = [name for name, policy in POLICIES.items() if policy.autoaugment]
    add("--policy", help=f"augmentation policy ({', '.join(POLICIES)}; {', '.join(garden)} need the garden extra)")
    add("--mixup-alpha", type=float)
    add("--cutmix-alpha", type=float)
    add("--label-smoothing", type=float)
    add("--strategy", choices=STRATEGIES, default="auto")
    add("--precision", choices=PRECISIONS, default="auto")
    add("--jit-compile", type=_bool_or_auto, default="auto", help="XLA: auto (GPU/TPU only), true, false")
    add("--steps-per-execution", type=int, default=1)
    add("--steps-per-epoch", type=int)
    add("--train-examples", type=int, help="size of the training split when the data cannot tell")
    add("--validation-steps", type=int)
    add("--train-split", default="train")
    add("--validation-split")
    add("--test-split")
    add("--data-dir", help="TFDS data_dir")
    add("--manual-dir", help="TFDS manual_dir (imagenet2012 tar files)")
    add("--download", action="store_true", help="let TFDS download and prepare the data set")
    add("--label-offset", type=int, default=0, help="added to TFRecord labels (-1 for 1-based ImageNet records)")
    add("--output-dir", default="saved_models")
    add("--run-name", help="default MODEL-DATA; rerunning the same name resumes")
    add("--seed", type=int, default=0)
    add("--deterministic", action="store_true")
    add("--model-options", type=json.loads, default={}, help='JSON constructor options, e.g. \'{"aux_logits": true}\'')
    add("--checkpoint-every-steps", type=int)
    add("--verbose", default="auto", help="auto, 0, 1 or 2")
    parser.set_defaults(**defaults)
    return parser


def main(argv=None, description="Train a keras_archs model.", preset_for=None, **defaults):
    """Parses flags, trains, prints the final evaluation; returns the exit code.

    Args:
        argv: flags (default: the command line).
        description: first line of `--help`.
        preset_for: function of the model name giving the preset used when `--preset` is
            not given (default: the model's paper, `preset_for_model`).
        **defaults: flag defaults of this recipe.
    """
    args = build_parser(description, **defaults).parse_args(argv)
    if args.preset is None and preset_for is not None:
        args.preset = preset_for(args.model)
    from keras_archs.training.run import RunConfig, train

    fields = {key: value for key, value in vars(args).items()}
    if fields["verbose"] != "auto":
        fields["verbose"] = int(fields["verbose"])
    try:
        metrics = train(RunConfig(**fields))
    except ValueError as error:
        print(f"train: {error}", file=sys.stderr)
        return 2
    print(f"test accuracy: {metrics['test_accuracy']:.4f} ({metrics['split']} split, {metrics['seconds']} s)")
    print(json.dumps(metrics, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
