"""`keras-archs`: list the registered models, show one, print its profile, or export it.

    keras-archs list [PATTERN] [--family F] [--twin] [--pretrained] [--has-reference] [--markdown] [--build]
    keras-archs info NAME
    keras-archs weights [PATTERN] [--markdown]
    keras-archs summary NAME
    keras-archs export MODEL_OR_PATH --format saved_model|tflite|onnx [--quantize ...] [--data ...]
    keras-archs convert NAME CHECKPOINT -o OUT.weights.h5
"""

import dataclasses
import importlib.util
import os
import sys
import zipfile
from typing import Optional

import keras

from keras_archs.cli_types import OneLineErrorParser, fail, first_line, positive_int
from keras_archs.profile import profile
from keras_archs.recursion import DEEP_GRAPH_FRAMES, recursion_limit
from keras_archs.registry import list_models, model_info

__all__ = [
    "ZooRow", "build_parser", "main", "measure", "measure_all", "registry_table", "weights_table", "zoo_table",
]

# What each export format needs beyond the base install, and the extra that brings it:
# ONNX conversion (tf2onnx, onnx) and its parity check (onnxruntime); the TFLite parity
# check and latency run in the LiteRT interpreter.
EXTRAS = {
    "onnx": ("onnx", ("onnx", "tf2onnx", "onnxruntime")),
    "tflite": ("litert", ("ai_edge_litert",)),
}


@dataclasses.dataclass(frozen=True)
class ZooRow:
    """One model as built: what the registry claims next to what was measured."""

    name: str
    constructor: str
    input_size: str
    trainable_params: int
    reference_params: Optional[int]
    gmacs: float
    year: int
    paper: str = ""
    top1: Optional[float] = None
    torch_reference: str = "-"

    @property
    def match(self) -> str:
        if self.reference_params is None:
            return "-"
        return "yes" if self.trainable_params == self.reference_params else "NO"


def measure(name):
    """Builds `name` at its default input (reference class count) and counts it."""
    info = model_info(name)
    model = info.build(classes=info.reference.classes)
    counts = profile(model)
    keras.backend.clear_session()
    height, width, channels = info.input_shape
    return ZooRow(
        name=name,
        constructor=info.constructor_call,
        input_size=f"{height}x{width}x{channels}",
        trainable_params=counts.trainable_params,
        reference_params=info.reference.params,
        gmacs=counts.gmacs,
        year=info.paper.year,
        paper=info.paper.title,
        top1=info.reference.top1,
        torch_reference=_reference_cell(info.torch_reference),
    )


def _reference_cell(reference):
    """"torchvision resnet50 (variant='v1.5')": the PyTorch model, and our options that equal it."""
    if reference is None:
        return "-"
    options = ", ".join(f"{key}={value!r}" for key, value in reference.model_kwargs.items())
    return f"{reference.library} {reference.constructor}" + (f" ({options})" if options else "")


def measure_all(names, stream=None):
    """`measure` for each name, with one progress line per model on `stream` (stderr).

    Building and counting 80 models takes minutes; the lines show it is moving.
    """
    stream = sys.stderr if stream is None else stream
    rows = []
    for index, name in enumerate(names, 1):
        if len(names) > 1:
            print(f"[{index}/{len(names)}] measuring {name}", file=stream, flush=True)
        rows.append(measure(name))
    return rows


def zoo_table(rows, markdown=False):
    """Formats measured rows as a text table, or as Markdown with the papers' titles."""
    header = ["name", "constructor", "input", "trainable params", "reference", "match", "GMACs", "top-1 %", "year",
              "PyTorch reference"]
    cells = [
        [
            row.name,
            row.constructor,
            row.input_size,
            f"{row.trainable_params:,}",
            "-" if row.reference_params is None else f"{row.reference_params:,}",
            row.match,
            f"{row.gmacs:.4g}",
            "-" if row.top1 is None else f"{row.top1:g}",
            str(row.year),
            row.torch_reference,
        ]
        for row in rows
    ]
    return _format_table(header, cells, markdown=markdown, numeric={3, 4, 6, 7},
                         papers=[row.paper for row in rows])


def _format_table(header, cells, *, markdown, numeric=frozenset(), papers=None):
    """`cells` (rows of strings) under `header`: Markdown, or aligned text with `numeric` columns right-aligned.

    `papers`: one title per row, inserted as the second column of the Markdown form only.
    """
    if markdown:
        if papers is not None:
            header = [header[0], "paper", *header[1:]]
            cells = [[cell[0], paper, *cell[1:]] for cell, paper in zip(cells, papers)]
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(cell) + " |" for cell in cells]
        return "\n".join(lines)
    widths = [max(len(value) for value in column) for column in zip(header, *cells)]

    def render(values):
        return "  ".join(
            value.rjust(width) if index in numeric else value.ljust(width)
            for index, (value, width) in enumerate(zip(values, widths))
        ).rstrip()

    return "\n".join([render(header), *(render(cell) for cell in cells)])


def registry_table(names, markdown=False):
    """What the registry says of `names` (reference counts and GMACs, which the tests verify); builds nothing."""
    header = ["name", "constructor", "input", "params", "GMACs", "top-1 %", "year", "twin", "PyTorch reference",
              "weights"]
    cells = []
    for name in names:
        info = model_info(name)
        reference = info.reference
        height, width, channels = info.input_shape
        cells.append([
            name,
            info.constructor_call,
            f"{height}x{width}x{channels}",
            "-" if reference.params is None else f"{reference.params:,}",
            "-" if reference.gmacs is None else f"{reference.gmacs:g}",
            "-" if reference.top1 is None else f"{reference.top1:g}",
            str(info.paper.year),
            info.twin or "-",
            _reference_cell(info.torch_reference),
            info.weights[0].source if info.weights else "-",
        ])
    return _format_table(header, cells, markdown=markdown, numeric={3, 4, 5, 6},
                         papers=[model_info(name).paper.title for name in names])


def _transform(entry):
    """The published evaluation transform and input scaling of a weights entry, in words."""
    scaling = entry.preprocessing
    if entry.preprocessing == "mean_std":
        scaling = f"mean {tuple(round(value, 3) for value in entry.mean)}, std {tuple(round(value, 3) for value in entry.std)}"
    if entry.resize_size is None:  # keras.applications publishes the input side and the mode only
        return f"input {entry.crop_size}; {scaling}"
    return f"resize {entry.resize_size}, crop {entry.crop_size}, {entry.interpolation}; {scaling}"


def weights_table(names, markdown=False):
    """One row per published checkpoint of `names` (the registry's weights entries; builds nothing)."""
    header = ["name", "weights=", "source", "checkpoint", "top-1 %", "license", "evaluation; preprocessing"]
    cells = []
    for name in names:
        for index, entry in enumerate(model_info(name).weights):
            tags = f"imagenet, {entry.tag}" if index == 0 else entry.tag
            top1 = "-" if entry.top1 is None else f"{entry.top1:g}"
            cells.append([name, tags, entry.source, entry.checkpoint, top1, entry.license, _transform(entry)])
    return _format_table(header, cells, markdown=markdown)


def _weights(args):
    names = list_models(args.pattern, pretrained=True)
    if not names:
        print(f"No model with published weights matches {args.pattern!r}.", file=sys.stderr)
        return 1
    print(weights_table(names, markdown=args.markdown))
    return 0


def _list(args):
    filters = {"family": args.family, "twin": args.twin, "pretrained": args.pretrained,
               "has_reference": args.has_reference}
    names = list_models(args.pattern, **filters)
    if not names:
        chosen = "".join(f", {key}={value!r}" for key, value in filters.items() if value is not None)
        print(f"No model matches {args.pattern!r}{chosen}.", file=sys.stderr)
        return 1
    if args.build:
        print(zoo_table(measure_all(names), markdown=args.markdown))
    else:
        print(registry_table(names, markdown=args.markdown))
    return 0


def _cifar_preset(name):
    from keras_archs.training.presets import preset_for_model

    return preset_for_model(name, cifar=True).name


def _describe(info):
    reference = info.reference
    lines = [
        f"name: {info.name}",
        f"constructor: keras_archs.{info.constructor_call}",
        f"family: {info.family}",
        f"paper: {info.paper.title} ({info.paper.authors}, {info.paper.year}"
        + (f", arXiv {info.paper.arxiv}" if info.paper.arxiv else "")
        + (f", {info.paper.venue}" if info.paper.venue else "")
        + ")",
        f"default input: {info.input_shape} (smallest side {info.input_spec.min_size})",
        f"preprocessing: {info.preprocessing}"
        + "".join(f"; {mode} with {option}={value!r}" for option, modes in info.preprocessing_when.items()
                  for value, mode in modes.items()),
        f"training preset: {info.preset} (recipes/train.py); CIFAR: {_cifar_preset(info.name)} (recipes/train_cifar.py)",
        "reference params: "
        + ("-" if reference.params is None else f"{reference.params:,} for {reference.classes} classes ({reference.source})"),
    ]
    if reference.gmacs is not None:
        lines.append(f"reference GMACs: {reference.gmacs} ({reference.gmacs_source})")
    if reference.top1 is not None:
        lines.append(f"reference top-1: {reference.top1}% ({reference.top1_source})")
    for code, meaning in reference.source_codes.items():
        lines.append(f"source {code}: {meaning}")
    if info.twin:
        lines.append(f"keras.applications twin: {info.twin}")
    if info.torch_reference is None:
        from keras_archs.convert import WITHOUT_REFERENCE  # noqa: PLC0415 - convert imports the models

        lines.append(f"PyTorch reference: none ({WITHOUT_REFERENCE.get(info.name, 'none registered')})")
    else:
        options = "".join(f", {key}={value!r}" for key, value in info.torch_reference.model_kwargs.items())
        lines.append(
            f"PyTorch reference: {info.torch_reference.call}, the same function as "
            f"keras_archs.get_model({info.name!r}{options}); weights: keras-archs convert {info.name} CHECKPOINT -o OUT.weights.h5"
        )
    if not info.weights:
        lines.append("pretrained weights: none published")
    for index, entry in enumerate(info.weights):
        selected = f'weights="imagenet" or "{entry.tag}"' if index == 0 else f'weights="{entry.tag}"'
        top1 = "" if entry.top1 is None else f", top-1 {entry.top1:g}% ({entry.top1_source})"
        lines.append(
            f"pretrained weights: {selected}: {entry.source} {entry.checkpoint}{top1}; license {entry.license}; "
            f"{_transform(entry)}"
        )
    return "\n".join(lines)


def _info(args):
    print(_describe(model_info(args.name)))
    return 0


def _summary(args):
    info = model_info(args.name)
    model = info.build(classes=info.reference.classes)
    model.summary(print_fn=print)
    print(_describe(info))
    print(profile(model).table())
    return 0


def _load_model_file(path):
    """The model in a `.keras` file; any failure to load it is a one-line ValueError."""
    if not os.path.exists(path):
        raise ValueError(f"No such model file. Received: model={path!r}")
    if not os.path.isfile(path):
        raise ValueError(f"The model path is not a file. Received: model={path!r}")
    # Keras answers a file that is not a zip archive with "File not found": say what is wrong.
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"This is not a Keras model file (a .keras file is a zip archive saved by model.save). "
            f"Received: model={path!r}"
        )
    try:
        # A 1000-layer CIFAR net's graph is walked one Python frame per layer.
        with recursion_limit(DEEP_GRAPH_FRAMES):
            return keras.saving.load_model(path)
    except Exception as error:  # a zip without a model, an object safe_mode refuses, an unregistered class, ...
        reason = " ".join(str(error).split())[:300]
        raise ValueError(
            f"This is not a Keras model file that loads ({type(error).__name__}: {reason}). Received: model={path!r}"
        ) from None


def _model_for_export(model_or_path, input_size):
    """A trained `.keras` file, or a registered name built with random weights."""
    if model_or_path.endswith(".keras"):
        model = _load_model_file(model_or_path)
        registered = model.name in list_models()
        return model, model_info(model.name).preprocessing if registered else "unit"
    if os.path.exists(model_or_path):
        raise ValueError(
            "export takes a registry name or a trained .keras file; this path is neither. "
            f"Received: model={model_or_path!r}"
        )
    info = model_info(model_or_path)
    height, width, channels = info.input_shape
    shape = (input_size, input_size, channels) if input_size else (height, width, channels)
    try:
        model = info.build(input_shape=shape, classes=info.reference.classes)
    except ValueError as error:
        if input_size:  # the shape in the message came from the flag: say so
            raise ValueError(f"--input-size {input_size} does not fit {model_or_path}: {error}") from None
        raise
    return model, info.preprocessing


def _check_export_args(args):
    """Refuses flag combinations that cannot work, before a model is built or a file written."""
    if args.quantize != "none" and args.format != "tflite":
        raise ValueError(
            f"--quantize applies to --format tflite only. Received: --quantize {args.quantize} "
            f"with --format {args.format}"
        )
    for flag, given in (("--int8-io", args.int8_io), ("--allow-select-tf-ops", args.allow_select_tf_ops)):
        if given and args.format != "tflite":
            raise ValueError(f"{flag} applies to --format tflite only. Received: --format {args.format}")
    if args.int8_io and args.quantize != "int8":
        raise ValueError(f"--int8-io needs --quantize int8. Received: --quantize {args.quantize}")
    if args.input_size is not None and args.model.endswith(".keras"):
        raise ValueError(
            "--input-size applies to a registry name; a .keras file keeps its own input. "
            f"Received: --input-size {args.input_size} with model={args.model!r}"
        )
    if args.format in EXTRAS:
        extra, modules = EXTRAS[args.format]
        missing = [module for module in modules if importlib.util.find_spec(module) is None]
        if missing:
            raise ValueError(
                f'--format {args.format} needs {", ".join(missing)}: pip install "keras-archs[{extra}]". '
                f"Received: --format {args.format}"
            )


def _export(args):
    from keras_archs.export import export_model, real_images

    _check_export_args(args)
    model, preprocessing = _model_for_export(args.model, args.input_size)
    input_shape = tuple(model.inputs[0].shape[1:])
    images, labels = real_images(input_shape, preprocessing, source=args.data, split=args.split, count=args.samples)
    calibration_images, _ = real_images(input_shape, preprocessing, source=args.data, split=args.calibration_split,
                                        count=args.calibration_samples)
    output = args.output or (
        os.path.dirname(args.model) if args.model.endswith(".keras") else os.path.join("saved_models", model.name)
    )
    if not args.model.endswith(".keras"):
        # Only now, after the data loaded: an error before this is then the one line on stderr.
        print(f"note: {args.model} has random weights; export a trained .keras file to ship it", file=sys.stderr)
    reports = export_model(
        model, output, formats=[args.format], quantize=args.quantize, images=images, labels=labels,
        calibration_images=calibration_images, int8_io=args.int8_io,
        allow_select_tf_ops=args.allow_select_tf_ops, latency_runs=args.latency_runs,
    )

    def show(value, pattern):
        return "-" if value is None else format(value, pattern)

    print(f"{'artifact':44} {'KB':>9} {'/float32':>9} {'max|diff|':>10} {'top-1 agree':>12} {'accuracy':>9} {'keras acc':>9} {'ms (median)':>12}")
    for report in reports:
        print(
            f"{report.path:44} {report.size_bytes / 1024:9.1f} {show(report.size_ratio_to_float32, '9.2f')} "
            f"{show(report.max_abs_diff, '10.2e')} {show(report.top1_agreement, '12.4f')} {show(report.accuracy, '9.4f')} "
            f"{show(report.keras_accuracy, '9.4f')} {show(report.latency_ms_median, '12.3f')}"
        )
    extent = "the whole split" if args.samples is None else f"--samples {args.samples}"
    print(f"parity and accuracy over {len(images)} images of {args.data} '{args.split}' ({extent})"
          + (f"; int8 calibrated on {len(calibration_images)} images of '{args.calibration_split}'"
             if args.quantize == "int8" else ""))
    print(f"report: {os.path.join(output, 'export_report.json')}")
    return 0


def _check_convert_args(args):
    from keras_archs.convert import reference_for  # noqa: PLC0415 - only this command needs it

    reference = reference_for(args.name)
    if not args.output.endswith(".weights.h5"):
        raise ValueError(f"The output is a Keras weights file and ends in .weights.h5. Received: --output={args.output!r}")
    if not os.path.isfile(args.checkpoint):
        raise ValueError(f"No such checkpoint file. Received: checkpoint={args.checkpoint!r}")
    return reference


def _convert(args):
    from keras_archs import convert  # noqa: PLC0415 - only this command needs it

    reference = _check_convert_args(args)
    convert.convert_file(args.name, args.checkpoint, args.output)
    options = "".join(f", {key}={value!r}" for key, value in reference.model_kwargs.items())
    print(f"wrote {args.output}: {args.name} with the weights of {reference.call}")
    print(f"load it with keras_archs.get_model({args.name!r}{options}, weights={args.output!r})")
    return 0


def build_parser():
    """The `keras-archs` argument parser: every flag has help, numbers are checked by type."""
    parser = OneLineErrorParser(prog="keras-archs", description=first_line(__doc__))
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="table of registered models, from the registry")
    listing.add_argument("pattern", nargs="?", default="*", help="shell-style name pattern")
    listing.add_argument("--family", help="only this family (e.g. resnet)")
    for flag, text in (("--twin", "keras.applications twins"), ("--pretrained", "models with published weights"),
                       ("--has-reference", "models with a torchvision/timm reference")):
        listing.add_argument(flag, action="store_true", default=None, help=f"only the {text}")
    listing.add_argument("--markdown", action="store_true", help="print a Markdown table")
    listing.add_argument("--build", action="store_true",
                         help="build and count every model, next to its reference (minutes; one line per model)")
    listing.set_defaults(run=_list)
    pretrained = commands.add_parser("weights", help="the published checkpoints of weights=, from the registry")
    pretrained.add_argument("pattern", nargs="?", default="*", help="shell-style name pattern")
    pretrained.add_argument("--markdown", action="store_true", help="print a Markdown table")
    pretrained.set_defaults(run=_weights)
    for command, run, text in (
        ("info", _info, "paper, input size, references of one model"),
        ("summary", _summary, "Keras summary, info and per-layer profile of one model"),
    ):
        sub = commands.add_parser(command, help=text)
        sub.add_argument("name", help="registry name, see `keras-archs list`")
        sub.set_defaults(run=run)
    exporting = commands.add_parser("export", help="SavedModel / TFLite / ONNX with a parity report")
    exporting.add_argument("model", help="registry name (random weights) or a trained .keras file")
    exporting.add_argument("--format", choices=("saved_model", "tflite", "onnx"), default="tflite",
                           help='artifact to write (default: tflite); its parity check needs the extra "keras-archs[litert]" '
                           'for tflite, "keras-archs[onnx]" for onnx')
    exporting.add_argument("--quantize", choices=("none", "float16", "dynamic", "int8"), default="none",
                           help="TFLite quantization written beside the float32 file (--format tflite only)")
    exporting.add_argument("--data", default="digits", help="digits, a TFDS name or an image folder: real "
                           "images for int8 calibration and the parity report")
    exporting.add_argument("--split", default="test", help="held-out split for the parity report")
    exporting.add_argument("--calibration-split", default="train", help="split that calibrates int8")
    exporting.add_argument("--samples", type=positive_int,
                           help="held-out images for the parity and accuracy report (default: the whole split)")
    exporting.add_argument("--calibration-samples", type=positive_int, default=256,
                           help="images of --calibration-split that calibrate int8 (default: 256)")
    exporting.add_argument("--output", help="folder (default saved_models/<model name>)")
    exporting.add_argument("--input-size", type=positive_int,
                           help="side for a registry model (default: the paper's)")
    exporting.add_argument("--int8-io", action="store_true",
                           help="int8 input and output tensors (needs --quantize int8)")
    exporting.add_argument("--allow-select-tf-ops", action="store_true",
                           help="allow TensorFlow ops outside the TFLite builtins (needs the Flex delegate to run)")
    exporting.add_argument("--latency-runs", type=positive_int, default=50,
                           help="LiteRT interpreter runs behind each median latency")
    exporting.set_defaults(run=_export)
    converting = commands.add_parser(
        "convert", help="a torchvision/timm checkpoint as the weights of our model (keras_archs.convert)"
    )
    converting.add_argument("name", help="registry name with a PyTorch reference (keras_archs.convert.REFERENCES)")
    converting.add_argument("checkpoint", help="the reference's state dict: .safetensors, or .pth/.pt (needs torch)")
    converting.add_argument("-o", "--output", required=True, help="the Keras weights file to write (.weights.h5)")
    converting.set_defaults(run=_convert)
    return parser


def main(argv=None):
    """Entry point of the `keras-archs` console script; returns the exit code.

    Bad input (a flag value, a model name, a file) ends with exit code 2 and one line
    on stderr, before any model is built or file written.
    """
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # argparse exits on a usage error or --help: return its code, as for the rest
        return exit_.code
    try:
        return args.run(args)
    except ValueError as error:
        return fail("keras-archs", error)


if __name__ == "__main__":
    sys.exit(main())
