"""Search strategies on equal budgets: best accuracy, its MACs, time per trial, next to random search.

    python tools/benchmark_search.py --trials 8 --seeds 2 --nodes 3
    python tools/benchmark_search.py --trials 8 --seeds 2 --nodes 3 --output-dir saved_models/bench-search --markdown

Runs `recipes/search.py` (the real recipe: `keras_archs.search.cli`) once per strategy and
seed on the digits, every search with the same budget (--trials candidates of --epochs
epochs, the same space and candidate size), without the references and the final model
(`--no-final --no-references`). The runs are interleaved seed-major (seed 0: evolution,
reinforce, random; seed 1: ...), so that a shared machine's drifting load falls on every
strategy alike. Each search is a subprocess (`python recipes/search.py ...`, its output in
`<output-dir>/<strategy>-seed<k>.log`), so no Keras or TensorFlow state leaks from one search to
the next, and its wall time includes what a user waits for (start-up, data, the report).

Regularized evolution runs with an explicit population P (default: trials // 2, at least 2)
and sample size S (default: 2), so that it has trials left to evolve: the first P trials
are random samples, the remaining trials - P are mutations.

Per strategy it prints, over the seeds: the best validation accuracy (mean, min and max; the
recipe's best trial is the one of the highest reward, here the accuracy), the MACs of those
best trials, the mean accuracy of all trials, the mean training seconds per trial (the
training run of a trial, `seconds` of report.json), and the wall time of one search; the best
accuracy as a ratio to random search's, the peer, measured in the same run. A per-search
table follows. With an --output-dir, finished searches (a report.json and the wall time this
script wrote beside it) are read back instead of run again, so an interrupted benchmark
resumes and --markdown can reprint a finished one.
"""

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

STRATEGIES = ("evolution", "reinforce", "random")
PEER = "random"
RECIPE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "recipes", "search.py")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer. Received: {text!r}")
    return value


def search_name(strategy, seed):
    return f"{strategy}-seed{seed}"


def recipe_arguments(args, strategy, seed, output_dir):
    """The command line of `recipes/search.py` for one search of the benchmark."""
    argv = [
        "--strategy", strategy, "--data", "digits", "--trials", str(args.trials), "--epochs", str(args.epochs),
        "--nodes", str(args.nodes), "--cells", str(args.cells), "--filters", str(args.filters),
        "--seed", str(seed), "--no-final", "--no-references", "--output-dir", output_dir,
        "--search-name", search_name(strategy, seed),
    ]
    if args.operations:
        argv += ["--operations", args.operations]
    if args.precision:
        argv += ["--precision", args.precision]
    if strategy == "evolution":
        argv += ["--population", str(args.population), "--sample-size", str(args.sample_size)]
    return argv


def run_search(args, strategy, seed, output_dir):
    """Runs (or reads back) one search; returns {"report": report.json, "wall_s": seconds}."""
    name = search_name(strategy, seed)
    folder = os.path.join(output_dir, name)
    report_path = os.path.join(folder, "report.json")
    timing_path = os.path.join(output_dir, f"{name}.wall.json")
    argv = recipe_arguments(args, strategy, seed, output_dir)
    if os.path.isfile(report_path) and os.path.isfile(timing_path):
        with open(timing_path, encoding="utf-8") as handle:
            timing = json.load(handle)
        if timing.get("argv") == argv:
            print(f"{name}: finished before, read back from {folder}", file=sys.stderr, flush=True)
            with open(report_path, encoding="utf-8") as handle:
                return {"report": json.load(handle), "wall_s": timing["wall_s"]}
    log_path = os.path.join(output_dir, f"{name}.log")
    print(f"{name}: python recipes/search.py {' '.join(argv)}  (log: {log_path})", file=sys.stderr, flush=True)
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"))
    start = time.perf_counter()
    with open(log_path, "w", encoding="utf-8") as log:
        code = subprocess.call([sys.executable, RECIPE, *argv], stdout=log, stderr=subprocess.STDOUT, env=environment)
    wall = time.perf_counter() - start
    if code != 0 or not os.path.isfile(report_path):
        with open(log_path, encoding="utf-8", errors="replace") as log:
            tail = log.read()[-3000:]
        raise SystemExit(f"{name} failed (exit code {code}); the end of {log_path}:\n{tail}")
    with open(timing_path, "w", encoding="utf-8") as handle:
        json.dump({"argv": argv, "wall_s": wall}, handle)
    with open(report_path, encoding="utf-8") as handle:
        report = json.load(handle)
    best = report["best"] or {}
    print(f"{name}: {wall:.0f} s, best accuracy {best.get('accuracy', float('nan')):.4f}", file=sys.stderr, flush=True)
    return {"report": report, "wall_s": wall}


def _completed(report):
    return [trial for trial in report["trials"] if trial["status"] == "COMPLETED" and trial.get("accuracy") is not None]


def search_row(strategy, seed, result):
    """One search's figures."""
    report = result["report"]
    trials = _completed(report)
    best = report["best"] or {}
    mutated = sum((trial.get("origin") or {}).get("method") == "mutation" for trial in report["trials"])
    return {
        "strategy": strategy, "seed": seed, "completed": len(trials), "trials": len(report["trials"]),
        "best_trial": best.get("trial"), "best_accuracy": best.get("accuracy", math.nan),
        "best_macs": best.get("macs", math.nan), "best_params": best.get("params", math.nan),
        "mean_accuracy": statistics.fmean(t["accuracy"] for t in trials) if trials else math.nan,
        "trial_seconds": [t["seconds"] for t in trials if t.get("seconds") is not None],
        "mutated": mutated, "wall_s": result["wall_s"],
    }


def summarize(rows):
    """Per strategy, over the seeds."""
    summary = {}
    for strategy in dict.fromkeys(row["strategy"] for row in rows):
        mine = [row for row in rows if row["strategy"] == strategy]
        accuracies = [row["best_accuracy"] for row in mine]
        seconds = [value for row in mine for value in row["trial_seconds"]]
        summary[strategy] = {
            "seeds": len(mine),
            "best_mean": statistics.fmean(accuracies), "best_min": min(accuracies), "best_max": max(accuracies),
            "macs_mean": statistics.fmean(row["best_macs"] for row in mine),
            "macs_min": min(row["best_macs"] for row in mine), "macs_max": max(row["best_macs"] for row in mine),
            "mean_accuracy": statistics.fmean(row["mean_accuracy"] for row in mine),
            "trial_s": statistics.fmean(seconds) if seconds else math.nan,
            "wall_s": statistics.fmean(row["wall_s"] for row in mine),
            "wall_total_s": sum(row["wall_s"] for row in mine),
            "completed": sum(row["completed"] for row in mine), "trials": sum(row["trials"] for row in mine),
        }
    peer = summary.get(PEER)
    for values in summary.values():
        values["ratio"] = values["best_mean"] / peer["best_mean"] if peer and peer["best_mean"] else math.nan
    return summary


def _macs(value):
    return f"{value / 1e6:.3f}M"


def print_tables(rows, summary, markdown):
    """The per-strategy table, then the per-search one (Markdown or aligned text)."""
    headers = ["strategy", "seeds", "best val. accuracy (mean)", "best val. accuracy (min-max)", f"ratio to {PEER}",
               "MACs of the best (mean)", "MACs of the best (min-max)", "mean accuracy of all trials",
               "s per trial (training)", "wall s per search", "trials completed"]
    table = [[strategy, str(s["seeds"]), f"{s['best_mean']:.4f}", f"{s['best_min']:.4f}-{s['best_max']:.4f}",
              f"{s['ratio']:.3f}", _macs(s["macs_mean"]), f"{_macs(s['macs_min'])}-{_macs(s['macs_max'])}",
              f"{s['mean_accuracy']:.4f}", f"{s['trial_s']:.1f}", f"{s['wall_s']:.0f}",
              f"{s['completed']}/{s['trials']}"]
             for strategy, s in summary.items()]
    searches_headers = ["search", "best trial", "best val. accuracy", "MACs", "params", "mean accuracy",
                        "mutated trials", "s per trial", "wall s"]
    searches = [[search_name(row["strategy"], row["seed"]), str(row["best_trial"]), f"{row['best_accuracy']:.4f}",
                 _macs(row["best_macs"]), f"{row['best_params']:,.0f}", f"{row['mean_accuracy']:.4f}",
                 str(row["mutated"]),
                 f"{statistics.fmean(row['trial_seconds']):.1f}" if row["trial_seconds"] else "-",
                 f"{row['wall_s']:.0f}"]
                for row in rows]
    for head, body in ((headers, table), (searches_headers, searches)):
        if markdown:
            print("| " + " | ".join(head) + " |")
            print("|" + "---|" * len(head))
            for line in body:
                print("| " + " | ".join(line) + " |")
        else:
            widths = [max(len(cell) for cell in column) for column in zip(head, *body)]
            for line in (head, *body):
                print("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())
        print()


def main(argv=None):
    parser = argparse.ArgumentParser(description=(__doc__ or "").strip().splitlines()[0] if __doc__ else None)
    parser.add_argument("--trials", type=_positive_int, default=8, help="candidates per search (default: 8)")
    parser.add_argument("--seeds", type=_positive_int, default=2,
                        help="searches per strategy: seeds 0..N-1 (default: 2)")
    parser.add_argument("--epochs", type=_positive_int, default=3, help="training epochs per candidate (default: 3)")
    parser.add_argument("--nodes", type=_positive_int, default=5, help="B, nodes per cell (default: 5)")
    parser.add_argument("--cells", type=_positive_int, default=1, help="N of a candidate (default: 1)")
    parser.add_argument("--filters", type=_positive_int, default=8, help="F of a candidate (default: 8)")
    parser.add_argument("--operations", help="comma-separated operations of the space (default: all)")
    parser.add_argument("--precision", help="--precision of the recipe (default: the recipe's, auto)")
    parser.add_argument("--population", type=_positive_int, help="evolution's P (default: trials // 2, at least 2)")
    parser.add_argument("--sample-size", type=_positive_int, default=2, help="evolution's S (default: 2)")
    parser.add_argument("--strategies", nargs="+", choices=STRATEGIES, default=list(STRATEGIES),
                        help=f"strategies, in this order per seed (default: all; {PEER} is the peer of the ratios)")
    parser.add_argument("--output-dir", help="where the searches go, kept (default: a temporary folder, removed)")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables (for docs/search.md)")
    args = parser.parse_args(argv)
    args.population = args.population or max(2, args.trials // 2)
    if args.sample_size > args.population:
        parser.error(f"--sample-size must be at most the population ({args.population}). "
                     f"Received: --sample-size {args.sample_size}")
    if args.population >= args.trials and "evolution" in args.strategies:
        print(f"warning: population {args.population} >= trials {args.trials}: evolution never mutates, it is "
              f"random search", file=sys.stderr)

    output_dir = args.output_dir or tempfile.mkdtemp(prefix="benchmark_search_")
    os.makedirs(output_dir, exist_ok=True)
    print(f"digits, {args.trials} trials x {args.epochs} epochs per search, space: {args.nodes} nodes, "
          f"operations {args.operations or 'all'}; candidates: {args.cells} cell(s), {args.filters} filters; "
          f"evolution P={args.population}, S={args.sample_size}; seeds 0..{args.seeds - 1}; "
          f"interleaved seed-major: {', '.join(args.strategies)}; cpus={os.cpu_count()}, "
          f"load average {', '.join(f'{v:.1f}' for v in os.getloadavg())} at the start", flush=True)
    rows = []
    start = time.perf_counter()
    try:
        for seed in range(args.seeds):
            for strategy in args.strategies:
                rows.append(search_row(strategy, seed, run_search(args, strategy, seed, output_dir)))
    finally:
        if not args.output_dir:
            shutil.rmtree(output_dir, ignore_errors=True)
    total = time.perf_counter() - start
    print(f"benchmark wall time {total:.0f} s; load average {', '.join(f'{v:.1f}' for v in os.getloadavg())} "
          f"at the end\n", flush=True)
    print_tables(rows, summarize(rows), args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
