"""Command line of the training recipes (`recipes/*.py`, `keras-archs-train`)."""

import argparse
import json
import sys

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


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the recipe's examples as written and shows every default that is set."""

    def _get_help_string(self, action):
        text = action.help or ""
        if action.default not in (None, False, argparse.SUPPRESS) and "%(default)" not in text:
            text += " (default: %(default)s)"
        return text


def _verbosity(value):
    if value == "auto":
        return value
    if value in ("0", "1", "2"):
        return int(value)
    raise argparse.ArgumentTypeError(f"expected auto, 0, 1 or 2, got {value!r}")


DEFAULT_DESCRIPTION = "Train a keras_archs model."
DEFAULT_PRESET_HELP = "the model's paper preset (keras-archs info NAME)"


def build_parser(description, preset_help=DEFAULT_PRESET_HELP, epilog=None, **defaults):
    """The recipes' argument parser.

    Args:
        description: first line of `--help`.
        preset_help: what `--preset` defaults to in this recipe.
        epilog: text after the flags (the recipe's examples).
        **defaults: flag defaults of this recipe (e.g. data="cifar10"); `--help` shows them.
    """
    from keras_archs.augment import POLICIES
    from keras_archs.cli_types import OneLineErrorParser, json_object, non_negative_float, positive_float, positive_int
    from keras_archs.training.presets import PRESETS
    from keras_archs.training.strategy import PRECISIONS, STRATEGIES

    parser = OneLineErrorParser(description=description, epilog=epilog, formatter_class=_HelpFormatter)
    add = parser.add_argument
    add("--model", default="lenet5", help="registry name (keras-archs list)")
    add("--data", default="digits", help="digits, a TFDS name, an image folder, or TFRecords (tfrecord:GLOB)")
    add("--preset", choices=sorted(PRESETS), help=f"training preset (default: {preset_help})")
    add("--epochs", type=positive_int, help="epochs (default: the preset's)")
    add("--batch-size", type=positive_int, help="global batch, split across replicas (default: the preset's)")
    add("--learning-rate", type=positive_float,
        help="base rate at the preset's base batch, scaled with the batch (default: the preset's)")
    add("--image-size", type=positive_int, help="input side (default: the model's)")
    add("--channels", type=int, choices=(1, 3), help="input channels (default: the model's)")
    add("--classes", type=positive_int, help="number of classes (default: what the data says)")
    garden = [name for name, policy in POLICIES.items() if policy.autoaugment]
    add("--policy", choices=list(POLICIES), metavar="POLICY",
        help=f"augmentation policy: {', '.join(POLICIES)}; {', '.join(garden)} need the garden extra "
        "(default: the preset's)")
    add("--mixup-alpha", type=non_negative_float, help="MixUp alpha, 0 off (default: the preset's)")
    add("--cutmix-alpha", type=non_negative_float, help="CutMix alpha, 0 off (default: the preset's)")
    add("--label-smoothing", type=non_negative_float, help="label smoothing in [0, 1) (default: the preset's)")
    add("--strategy", choices=STRATEGIES, default="auto",
        help="distribution strategy; auto: mirrored over several GPUs, multi_worker with a TF_CONFIG cluster")
    add("--precision", choices=PRECISIONS, default="auto",
        help="auto: mixed_bfloat16 on bf16 hardware, mixed_float16 on GPUs 7.x, else float32; "
        "saved models are float32 in every case")
    add("--jit-compile", type=_bool_or_auto, default="auto", help="XLA: auto (GPU/TPU only), true, false")
    add("--steps-per-execution", type=positive_int, default=1, help="training steps per compiled call")
    add("--steps-per-epoch", type=positive_int, help="steps per epoch (default: training examples // batch)")
    add("--train-examples", type=positive_int, help="size of the training split when the data cannot tell")
    add("--validation-steps", type=positive_int, help="validation batches per epoch (default: the whole split)")
    add("--train-split", default="train", help="training split")
    add("--validation-split", help="split evaluated after each epoch (default: validation, else test)")
    add("--test-split", help="split of the final evaluation (default: test, else the validation split)")
    add("--data-dir", help="TFDS data_dir")
    add("--manual-dir", help="TFDS manual_dir (imagenet2012 tar files)")
    add("--download", action="store_true", help="let TFDS download and prepare the data set")
    add("--label-offset", type=int, default=0, help="added to TFRecord labels (-1 for 1-based ImageNet records)")
    add("--output-dir", default="saved_models", help="where run directories go")
    add("--run-name", help="run directory name (default: MODEL-DATA); rerunning the same name resumes")
    add("--seed", type=int, default=0, help="seeds weights, data order and augmentation")
    add("--deterministic", action="store_true",
        help="deterministic ops and data order: two runs of the same command give the same history")
    add("--model-options", type=json_object, default={},
        help='JSON object of constructor options, e.g. \'{"aux_logits": true}\'')
    add("--checkpoint-every-steps", type=positive_int, help="also checkpoint inside epochs")
    add("--precise-bn", type=positive_int, metavar="IMAGES",
        help="after training, re-estimate BatchNorm statistics on this many training images (short runs)")
    add("--verbose", type=_verbosity, default="auto",
        help="0 silent, 1 progress bar, 2 one line per epoch; auto: 1 on a terminal, else 2")
    parser.set_defaults(**defaults)
    return parser


def main(argv=None, description=None, preset_for=None, preset_help=DEFAULT_PRESET_HELP, **defaults):
    """Parses flags, trains, prints the final evaluation; returns the exit code.

    Bad flags and settings end in a one-line error on stderr and exit code 2.

    Args:
        argv: flags (default: the command line).
        description: the recipe's docstring: its first line heads `--help`, the rest (the
            examples) follows the flags; None (as under `python -OO`) gives a generic line.
        preset_for: function of the model name giving the preset used when `--preset` is
            not given (default: the model's paper preset, `preset_for_model`).
        preset_help: what `--preset` defaults to, for `--help`.
        **defaults: flag defaults of this recipe.
    """
    first_line, _, rest = (description or DEFAULT_DESCRIPTION).strip().partition("\n")
    parser = build_parser(first_line, preset_help=preset_help, epilog=rest.strip("\n") or None, **defaults)
    args = parser.parse_args(argv)
    from keras_archs.cli_types import fail
    from keras_archs.training.run import RunConfig, train

    try:
        if args.preset is None and preset_for is not None:
            args.preset = preset_for(args.model)
        metrics = train(RunConfig(**vars(args)))
    except ValueError as error:
        return fail(parser.prog, f"error: {error}")
    print(f"test accuracy: {metrics['test_accuracy']:.4f} ({metrics['split']} split, {metrics['seconds']} s)")
    print(json.dumps(metrics, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
