"""Command line of `recipes/search.py`: search the NASNet cell space, report, build the best.

Everything lands in `<output-dir>/<search-name>/` (default saved_models/search-STRATEGY-DATA):

    search.json         the settings; a rerun with other settings is refused
    tuner/              KerasTuner's project: oracle.json, trial_<id>/trial.json, and per
                        trial genotype.json and the training run (run/)
    references/         NASNet-A and AmoebaNet-A trained the same way (--references)
    trials.csv, report.json, report.md, pareto.png   (keras_archs.search.report)
    best_genotype.json  the genotype of the highest reward
    final/              the best genotype at --final-cells/--final-filters: the training
                        run (run/model.keras), model_int8.tflite and export_report.json

Rerunning the same command resumes: finished trials are kept, an interrupted one runs
again from its last checkpoint. With KERASTUNER_TUNER_ID, KERASTUNER_ORACLE_IP and
KERASTUNER_ORACLE_PORT set, the process is the chief ("chief": it serves the oracle,
then reports and builds the final model) or a worker (any other id: it runs trials).
"""

import argparse
import dataclasses
import json
import os
import random
import shutil
import sys

import keras_tuner
from keras_tuner.src.distribute import utils as distribute_utils

from keras_archs.cli_types import OneLineErrorParser, fail, non_negative_float, positive_float, positive_int
from keras_archs.fileio import write_json

__all__ = ["build_parser", "main"]

REFERENCE_GENOTYPES = ("nasnet_a", "amoebanet_a")


def _cost_exponent(text):
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not value <= 0 or value == float("-inf"):
        raise argparse.ArgumentTypeError(f"must be a number <= 0. Received: {text!r}")
    return value


def build_parser(description=None, epilog=None):
    """The search recipe's argument parser."""
    from keras_archs.augment import POLICIES
    from keras_archs.search.oracles import STRATEGIES
    from keras_archs.training.presets import PRESETS
    from keras_archs.training.strategy import PRECISIONS

    parser = OneLineErrorParser(description=description or "Search the NASNet cell space.", epilog=epilog,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--strategy", choices=tuple(STRATEGIES), default="evolution",
        help="evolution (Real 2019), reinforce (Zoph and Le 2017 over Zoph 2018's cells) or random "
        "(default: evolution)")
    add("--data", default="digits", help="digits, a TFDS name, an image folder or tfrecord:GLOB (default: digits)")
    add("--trials", type=positive_int, default=20, help="candidates to train (default: 20)")
    add("--cells", type=positive_int, default=1, help="N, normal cells per stack of a candidate (default: 1)")
    add("--filters", type=positive_int, default=8, help="F, filters of a candidate's first stack (default: 8)")
    add("--stem-filters", type=positive_int, help="filters of the stem convolution (default: F)")
    add("--nodes", type=positive_int, default=5, help="B, nodes per cell (default: 5, as the papers)")
    add("--operations", help="comma-separated operations of the space (default: all of "
        "keras_archs.layers.nas.OPERATIONS)")
    add("--epochs", type=positive_int, default=3, help="training epochs per candidate (default: 3)")
    add("--batch-size", type=positive_int, help="batch (default: the preset's)")
    add("--learning-rate", type=positive_float, help="base learning rate (default: the preset's)")
    add("--image-size", type=positive_int, default=32, help="input side (default: 32)")
    add("--channels", type=int, choices=(1, 3), help="input channels (default: 3)")
    add("--preset", choices=sorted(PRESETS), default="nas_proxy", metavar="PRESET",
        help="training preset of the candidates (default: nas_proxy)")
    add("--policy", choices=list(POLICIES), metavar="POLICY", help="augmentation policy (default: the preset's, none)")
    add("--precision", choices=PRECISIONS, default="auto",
        help="auto: mixed_bfloat16 on bf16 hardware, mixed_float16 on GPUs 7.x, else float32 (default: auto)")
    add("--precise-bn", type=positive_int, default=512, metavar="IMAGES",
        help="training images that re-estimate BatchNorm statistics after each training (default: 512)")
    add("--train-split", default="train", help="split that trains the candidates (default: train)")
    add("--validation-split", help="split that scores them (default: validation, else test)")
    add("--test-split", help="split the final model is reported on (default: test)")
    add("--data-dir", help="TFDS data_dir")
    add("--download", action="store_true", help="let TFDS download and prepare the data set")
    add("--objective", default="accuracy",
        help="accuracy, or accuracy,macs / accuracy,params / accuracy,latency_ms (default: accuracy)")
    add("--target-macs", type=positive_float, help="T of an accuracy,macs objective (multiply-adds)")
    add("--target-params", type=positive_float, help="T of an accuracy,params objective")
    add("--target-latency-ms", type=positive_float, help="T of an accuracy,latency_ms objective (LiteRT, 1 thread)")
    add("--cost-exponent", type=_cost_exponent, default=-0.07, help="w of accuracy x (cost/T)^w (default: -0.07)")
    add("--population", type=positive_int, help="evolution: P (default: half the trials, 2 to 100)")
    add("--sample-size", type=positive_int, help="evolution: S (default: a quarter of P, at least 2)")
    add("--controller-units", type=positive_int, default=64, help="reinforce: LSTM units (default: 64)")
    add("--controller-learning-rate", type=positive_float, default=0.02,
        help="reinforce: Adam's learning rate (default: 0.02)")
    add("--entropy-weight", type=non_negative_float, default=1e-3, help="reinforce: entropy bonus (default: 0.001)")
    add("--baseline-decay", type=non_negative_float, default=0.95,
        help="reinforce: decay of the reward baseline, below 1 (default: 0.95)")
    add("--seed", type=int, default=0, help="seeds the search and every training (default: 0)")
    add("--output-dir", default="saved_models", help="where the search folder goes (default: saved_models)")
    add("--search-name", help="search folder name (default: search-STRATEGY-DATA); the same name resumes")
    add("--references", action=argparse.BooleanOptionalAction, default=True,
        help="train NASNet-A and AmoebaNet-A the same way for the report (default: on)")
    add("--genotype", metavar="FILE", help="skip the search: build, train and export this genotype file "
        "(the JSON of best_genotype.json)")
    add("--final", action=argparse.BooleanOptionalAction, default=True,
        help="build, train and export the best genotype at the final size (default: on)")
    add("--final-cells", type=positive_int, help="N of the final model (default: --cells)")
    add("--final-filters", type=positive_int, help="F of the final model (default: --filters)")
    add("--final-epochs", type=positive_int, help="training epochs of the final model (default: --epochs)")
    add("--export-samples", type=positive_int, default=10_000,
        help="held-out images the int8 file is checked on, at most the split (default: 10000)")
    add("--calibration-samples", type=positive_int, default=256,
        help="training images that calibrate int8 (default: 256)")
    add("--verbose", type=int, choices=(0, 1, 2), default=0, help="Keras verbosity of the trainings (default: 0)")
    return parser


@dataclasses.dataclass
class _Plan:
    """Everything the settings decide, checked before any training."""

    search_dir: str
    training: object
    space: object
    oracle_options: dict
    settings: dict
    genotype: object = None


def _space(args):
    from keras_archs.layers.nas import OPERATIONS
    from keras_archs.search.space import SearchSpace

    operations = OPERATIONS
    if args.operations:
        operations = tuple(part.strip() for part in args.operations.split(",") if part.strip())
        unknown = [name for name in operations if name not in OPERATIONS]
        if unknown or not operations:
            raise ValueError(f"--operations must name some of {OPERATIONS}. Received: --operations {args.operations}")
    return SearchSpace(nodes=args.nodes, operations=operations)


def _read_genotype(path):
    from keras_archs.layers.nas import genotype_from_json

    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as error:
        raise ValueError(f"--genotype must be a readable genotype file ({error.strerror}). Received: --genotype {path}") from None
    return genotype_from_json(text, argument=f"--genotype {path}")


def _oracle_options(args, space):
    options = {"space": space, "max_trials": args.trials, "seed": args.seed}
    if args.strategy == "evolution":
        population = args.population or min(100, max(2, args.trials // 2))
        if args.sample_size is not None and args.sample_size > population:
            raise ValueError(f"--sample-size must be at most --population ({population}). "
                             f"Received: --sample-size {args.sample_size}")
        sample = args.sample_size or max(2, population // 4)
        options.update(population_size=population, sample_size=sample)
    elif args.strategy == "reinforce":
        if args.baseline_decay >= 1:
            raise ValueError(f"--baseline-decay must be below 1. Received: --baseline-decay {args.baseline_decay}")
        options.update(units=args.controller_units, learning_rate=args.controller_learning_rate,
                       entropy_weight=args.entropy_weight, baseline_decay=args.baseline_decay)
    for flag, value in (("--population", args.population), ("--sample-size", args.sample_size)):
        if value is not None and args.strategy != "evolution":
            raise ValueError(f"{flag} applies to --strategy evolution. Received: --strategy {args.strategy}")
    return options


def _check_splits(args, candidate):
    """Refuses a search that would score its candidates on the split the final model is reported on."""
    validation, test = candidate.splits()
    if validation == test:
        raise ValueError(
            f"The candidates would be scored on the {test!r} split the final model is reported on: "
            f"{args.data} has no validation split. Hold out part of the training data, e.g. "
            "--train-split 'train[:90%]' --validation-split 'train[90%:]' (TFDS slices). "
            f"Received: --validation-split {validation}, --test-split {test}"
        )


def _plan(args):
    """Checks every setting (building one candidate) before any data is trained on."""
    from keras_archs.layers.nas import genotype_to_json
    from keras_archs.registry import model_info
    from keras_archs.search.oracles import make_oracle
    from keras_archs.search.reward import COSTS, Reward
    from keras_archs.search.tuner import CANDIDATE_MODEL, CandidateTraining
    from keras_archs.training.run import folder_name

    if args.seed < 0:
        raise ValueError(f"--seed must be an integer >= 0. Received: --seed {args.seed}")
    reward = Reward.from_objective(
        args.objective, {cost: getattr(args, f"target_{cost}") for cost in COSTS}, exponent=args.cost_exponent,
        names={"objective": "--objective", **{cost: f"--target-{cost.replace('_', '-')}" for cost in COSTS}},
    )
    space = _space(args)
    genotype = _read_genotype(args.genotype) if args.genotype else None
    candidate = CandidateTraining(
        data=args.data, cells=args.cells, filters=args.filters, stem_filters=args.stem_filters,
        image_size=args.image_size, channels=args.channels, epochs=args.epochs, batch_size=args.batch_size,
        learning_rate=args.learning_rate, policy=args.policy, preset=args.preset, precision=args.precision,
        seed=args.seed, precise_bn=args.precise_bn, train_split=args.train_split,
        validation_split=args.validation_split, test_split=args.test_split, data_dir=args.data_dir,
        download=args.download, reward=reward, verbose=args.verbose,
    )
    _check_splits(args, candidate)
    options = _oracle_options(args, space)
    # The oracle's own checks (population, controller settings), before anything is written.
    make_oracle(args.strategy, **options)
    # One candidate at the search size and one at the final size: a size the network cannot
    # take fails here, not in the first trial.
    probe = genotype or space.sample(random.Random(args.seed))
    info = model_info(CANDIDATE_MODEL)
    shape = (args.image_size, args.image_size, args.channels or info.input_spec.channels)
    for cells, filters in ((args.cells, args.filters), (args.final_cells or args.cells, args.final_filters or args.filters)):
        try:
            info.build(classes=10, input_shape=shape, **candidate.model_options(probe, cells, filters))
        except ValueError as error:
            raise ValueError(f"A candidate of {cells} cells and {filters} filters at --image-size {args.image_size} "
                             f"does not build: {error}") from None
    if args.genotype:
        prefix = f"genotype-{os.path.splitext(os.path.basename(args.genotype))[0]}"
    else:
        prefix = f"search-{args.strategy}"
    name = args.search_name or folder_name(prefix, args.data)
    settings = {
        "training": {key: value for key, value in dataclasses.asdict(candidate).items() if key != "verbose"},
        # The final model's size: a rerun at another size would find this one's files.
        "final": {"cells": args.final_cells or args.cells, "filters": args.final_filters or args.filters,
                  "epochs": args.final_epochs or args.epochs},
    }
    if genotype is None:
        settings.update(strategy=args.strategy, space={"nodes": space.nodes, "operations": list(space.operations)},
                        oracle={key: value for key, value in options.items() if key != "space"})
    else:
        settings["genotype"] = genotype_to_json(genotype)
    settings = json.loads(json.dumps(settings, default=str))
    return _Plan(os.path.join(args.output_dir, name), candidate, space, options, settings, genotype)


def _check_search_dir(plan):
    """Refuses to resume a search folder that holds a search with other settings."""
    path = os.path.join(plan.search_dir, "search.json")
    if os.path.isfile(path):
        try:
            with open(path, encoding="utf-8") as handle:
                saved = json.load(handle)
        except (OSError, ValueError):
            raise ValueError(f"{path} is unreadable; remove {plan.search_dir} or pass another --search-name. "
                             f"Received: --search-name {os.path.basename(plan.search_dir)}") from None
        if saved != plan.settings:
            differences = sorted(key for key in set(saved) | set(plan.settings) if saved.get(key) != plan.settings.get(key))
            raise ValueError(
                f"{plan.search_dir} holds a search with other {', '.join(differences)} settings; pass another "
                f"--search-name, or remove the folder to start afresh. Received: "
                + "; ".join(f"{key}={json.dumps(plan.settings.get(key), sort_keys=True)}" for key in differences)
            )


def _cached(path, compute):
    """The JSON at `path`, or `compute()` written there (a rerun skips finished work)."""
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    result = compute()
    write_json(result, path)
    return result


def _references(plan):
    from keras_archs.models.nasnet import AMOEBANET_A, NASNET_A

    results = {}
    for name, genotype in zip(REFERENCE_GENOTYPES, (NASNET_A, AMOEBANET_A)):
        directory = os.path.join(plan.search_dir, "references", name)
        print(f"reference {name}: training it as the candidates", flush=True)
        results[name] = _cached(os.path.join(directory, "result.json"),
                                lambda: plan.training.evaluate(genotype, directory))
    return results


def _final(plan, args, genotype):
    """Trains `genotype` at the final size and exports it to int8 TFLite; returns the summary."""
    import keras

    from keras_archs.export import export_model, real_images
    from keras_archs.registry import model_info
    from keras_archs.search.tuner import CANDIDATE_MODEL

    directory = os.path.join(plan.search_dir, "final")
    cells, filters = args.final_cells or args.cells, args.final_filters or args.filters
    epochs = args.final_epochs or args.epochs

    def compute():
        metrics = plan.training.evaluate(genotype, directory, cells=cells, filters=filters, epochs=epochs, final=True)
        model = keras.saving.load_model(os.path.join(directory, "run", "model.keras"))
        _, test_split = plan.training.splits()
        shape = tuple(model.inputs[0].shape[1:])
        preprocessing = model_info(CANDIDATE_MODEL).preprocessing
        images, labels = real_images(shape, preprocessing, source=args.data, split=test_split,
                                     count=args.export_samples)
        calibration, _ = real_images(shape, preprocessing, source=args.data, split=args.train_split,
                                     count=args.calibration_samples)
        reports = export_model(model, directory, formats=("tflite",), quantize="int8", images=images, labels=labels,
                               calibration_images=calibration, latency_runs=20)
        int8 = next(report for report in reports if report.quantize == "int8")
        return {
            "cells": cells, "filters": filters, "epochs": epochs, "test_split": test_split,
            "keras_accuracy": metrics["accuracy"], "int8_accuracy": int8.accuracy, "int8_images": len(labels),
            "int8_top1_agreement": int8.top1_agreement, "tflite": int8.path, "tflite_bytes": int8.size_bytes,
            "macs": metrics["macs"], "params": metrics["params"],
        }

    return _cached(os.path.join(directory, "summary.json"), compute)


def _search(plan, args):
    from keras_archs.layers.nas import genotype_from_json
    from keras_archs.search.oracles import make_oracle
    from keras_archs.search.report import best_record, trial_records, write_report
    from keras_archs.search.tuner import CellSearchTuner

    oracle = make_oracle(args.strategy, **plan.oracle_options)
    tuner = CellSearchTuner(oracle, plan.training, plan.search_dir)
    tuner.search()
    if distribute_utils.has_chief_oracle() and not distribute_utils.is_chief_oracle():
        print(f"worker {os.environ['KERASTUNER_TUNER_ID']}: no trials left")
        return None
    records = trial_records(tuner.oracle)
    references = _references(plan) if args.references else {}
    report = write_report(plan.search_dir, records, references, objective=plan.training.reward.objective,
                          title=f"{args.strategy} on {args.data}")
    best = best_record(records)
    if best is None:
        raise RuntimeError(f"No trial completed; see the messages in {plan.search_dir}/tuner/trial_*/trial.json")
    write_json(json.loads(best["genotype"]), os.path.join(plan.search_dir, "best_genotype.json"))
    print(f"trials: {len(records)}, completed: {sum(r['status'] == 'COMPLETED' for r in records)}; "
          f"report: {os.path.join(plan.search_dir, 'report.md')}" + (f", chart: {report['chart']}" if report["chart"] else ""))
    print(f"best trial {best['trial']}: reward {best['reward']:.4f}, validation accuracy {best['accuracy']:.4f}, "
          f"{best['macs'] / 1e6:.2f}M MACs, {int(best['params']):,} parameters")
    print(f"best genotype: {best['genotype']}")
    print(f"  saved as {os.path.join(plan.search_dir, 'best_genotype.json')}")
    return genotype_from_json(best["genotype"])


def main(argv=None, description=None):
    """Parses flags, searches, reports, builds the best genotype; returns the exit code.

    Bad flags and settings end in a one-line error on stderr and exit code 2, before
    any training.
    """
    # Under `python -OO` every docstring is None.
    first_line, _, rest = (description or __doc__ or "Search the NASNet cell space.").strip().partition("\n")
    parser = build_parser(first_line, rest.strip("\n") or None)
    args = parser.parse_args(argv)
    try:
        plan = _plan(args)
        _check_search_dir(plan)
    except ValueError as error:
        return fail(parser.prog, f"error: {error}")
    created = not os.path.exists(plan.search_dir)
    write_json(plan.settings, os.path.join(plan.search_dir, "search.json"))
    try:
        genotype = plan.genotype or _search(plan, args)
    except keras_tuner.errors.FatalError as error:
        # A setting only the data can judge (e.g. a batch larger than the training split):
        # the first trial refused it before training, so a new folder holds nothing of use.
        if created:
            shutil.rmtree(plan.search_dir, ignore_errors=True)
        return fail(parser.prog, f"error: {error}")
    if genotype is None or not args.final:
        return 0
    summary = _final(plan, args, genotype)
    print(f"final model ({summary['cells']} cells, {summary['filters']} filters, {summary['epochs']} epochs): "
          f"Keras accuracy {summary['keras_accuracy']:.4f} on the {summary['test_split']} split; "
          f"int8 TFLite accuracy {summary['int8_accuracy']:.4f} on {summary['int8_images']} images, "
          f"{summary['tflite_bytes'] / 1024:.1f} KB: {summary['tflite']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
