"""What a search found: the trials, the Pareto front of accuracy against MACs, and its chart.

`write_report` writes, beside the search's KerasTuner project:

    trials.csv     one row per trial: id, status, reward, accuracy, MACs, parameters,
                   training seconds, latency, how it was made, its genotype (JSON text)
    report.json    the same rows, the Pareto front, the references, the best trial
    report.md      the tables in Markdown
    pareto.png     accuracy against MACs: every trial, the front, the references
                   (needs matplotlib, the `tools` extra; skipped without it)

Every file is written through a temp path and renamed into place.
"""

import csv
import importlib.util
import io
import json
import math
import os

from keras_archs.fileio import atomic_write, write_json
from keras_archs.layers.nas import genotype_to_json

__all__ = ["best_record", "pareto_front", "plot_pareto", "trial_records", "write_report"]

COLUMNS = ("trial", "status", "reward", "accuracy", "macs", "params", "seconds", "latency_ms", "origin", "genotype")
METRICS = ("reward", "accuracy", "macs", "params", "seconds", "latency_ms")


def trial_records(oracle):
    """One dict per trial of a `GenotypeOracle`, in the order the trials started (see `COLUMNS`)."""
    records = []
    for trial_id in oracle.start_order:
        trial = oracle.trials[trial_id]
        record = {"trial": trial_id, "status": trial.status}
        for name in METRICS:
            record[name] = trial.metrics.get_last_value(name) if trial.metrics.exists(name) else None
        record["origin"] = oracle.origins.get(trial_id)
        record["genotype"] = genotype_to_json(oracle.genotype(trial))
        records.append(record)
    return records


def _scored(records):
    return [r for r in records if r.get("accuracy") is not None and r.get("macs") is not None
            and math.isfinite(r["accuracy"])]


def pareto_front(records):
    """The records no other record beats on both accuracy (higher) and MACs (lower), by MACs."""
    scored = _scored(records)
    front = [
        r for r in scored
        if not any(o["accuracy"] >= r["accuracy"] and o["macs"] <= r["macs"]
                   and (o["accuracy"] > r["accuracy"] or o["macs"] < r["macs"]) for o in scored)
    ]
    return sorted(front, key=lambda r: (r["macs"], -r["accuracy"], r["trial"]))


def best_record(records):
    """The completed record of the highest reward (the earliest on ties), or None."""
    done = [r for r in records if r.get("reward") is not None and math.isfinite(r["reward"])]
    return max(done, key=lambda r: r["reward"]) if done else None


def plot_pareto(path, records, references=None, title="Search"):
    """Draws accuracy against MACs: the trials, their Pareto front and the references.

    Returns:
        `path`, or None when matplotlib is not installed (`pip install "keras-archs[tools]"`).
    """
    if importlib.util.find_spec("matplotlib") is None:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(6.4, 4.4))
    scored = _scored(records)
    axes.scatter([r["macs"] / 1e6 for r in scored], [r["accuracy"] for r in scored], s=18, color="0.6",
                 label="trials")
    front = pareto_front(records)
    axes.plot([r["macs"] / 1e6 for r in front], [r["accuracy"] for r in front], "o-", color="tab:blue",
              label="Pareto front")
    for (name, reference), marker in zip(sorted((references or {}).items()), ("s", "^", "D", "v")):
        axes.scatter([reference["macs"] / 1e6], [reference["accuracy"]], marker=marker, s=60, label=name)
    axes.set_xlabel("multiply-adds (millions)")
    axes.set_ylabel("validation accuracy")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right", fontsize="small")
    figure.tight_layout()

    def write(temporary):
        figure.savefig(temporary, format="png", dpi=120)

    try:
        atomic_write(path, write)
    finally:
        pyplot.close(figure)
    return path


def _cell(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        # Counts (MACs, parameters) are whole; rates and seconds are not.
        return f"{int(value):,}" if value.is_integer() else f"{value:.4g}"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _markdown(rows, columns):
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row.get(column)) for column in columns) + " |" for row in rows]
    return "\n".join(lines)


def write_report(directory, records, references=None, *, objective="accuracy", title="Search"):
    """Writes trials.csv, report.json, report.md and pareto.png into `directory`.

    Args:
        directory: the search folder.
        records: `trial_records(oracle)`.
        references: {name: metrics} of reference genotypes trained the same way.
        objective: the reward's objective text, for the report.
        title: the chart's title.

    Returns:
        The report dict (also written to report.json).
    """
    directory = os.fspath(directory)
    references = dict(references or {})
    front = pareto_front(records)
    best = best_record(records)
    report = {"objective": objective, "trials": records, "pareto_front": [r["trial"] for r in front],
              "best": best, "references": references}
    write_json(report, os.path.join(directory, "report.json"))

    def write_csv(temporary):
        with open(temporary, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            for record in records:
                writer.writerow({key: json.dumps(value) if isinstance(value, dict) else value
                                 for key, value in record.items()})

    atomic_write(os.path.join(directory, "trials.csv"), write_csv)
    text = io.StringIO()
    text.write(f"# {title}\n\nObjective: {objective}. {len(records)} trials, "
               f"{sum(r['status'] == 'COMPLETED' for r in records)} completed.\n\n## Trials\n\n")
    text.write(_markdown(records, COLUMNS[:-1]) + "\n\n## Pareto front (validation accuracy against MACs)\n\n")
    text.write(_markdown(front, ("trial", "accuracy", "macs", "params", "reward")) + "\n")
    if references:
        rows = [{"reference": name, **metrics} for name, metrics in sorted(references.items())]
        text.write("\n## References, trained the same way\n\n")
        text.write(_markdown(rows, ("reference", "accuracy", "macs", "params", "reward", "seconds")) + "\n")
    if best:
        text.write(f"\n## Best trial\n\n{best['trial']}: reward {_cell(best['reward'])}, "
                   f"genotype `{best['genotype']}`\n")
    def write_markdown(temporary):
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text.getvalue())

    atomic_write(os.path.join(directory, "report.md"), write_markdown)
    chart = plot_pareto(os.path.join(directory, "pareto.png"), records, references, title=title)
    report["chart"] = chart
    return report
