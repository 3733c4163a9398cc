"""`recipes/search.py` refuses bad settings with a one-line usage error, before anything is written.

The recipe's `main` runs in-process: argparse's errors raise SystemExit(2) and the checks
of `_plan` (which builds one small candidate) return 2, both after printing one line on
stderr that names the flag and the value received.
"""

import json
import os

import pytest

from keras_archs.fileio import write_json
from keras_archs.search import cli

pytestmark = [pytest.mark.filterwarnings("ignore:currentThread:DeprecationWarning"),
              pytest.mark.filterwarnings("ignore:getName:DeprecationWarning")]

NOT_JSON = "not json {"
NOT_A_GENOTYPE = json.dumps({"normal": [1, 2], "reduction": "sep_conv_3x3"})
# Node 0 may read states 0 and 1 (the cell inputs) only; here its right input reads state 2.
READS_A_LATER_STATE = json.dumps({
    "normal": {"nodes": [[["identity", 0], ["sep_conv_3x3", 2]]], "concat": [2]},
    "reduction": {"nodes": [[["identity", 0], ["identity", 1]]], "concat": [2]},
})


def _run_main(argv, capsys):
    """Runs the recipe; returns (exit code, stderr), whether argparse exits or `main` returns."""
    try:
        code = cli.main(argv)
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.err


def _assert_one_line_usage_error(code, err, *expected):
    assert code == 2
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "error:" in lines[0]
    for text in expected:  # a text, or a tuple of texts one of which must appear
        texts = text if isinstance(text, tuple) else (text,)
        assert any(t in lines[0] for t in texts), f"{text!r} not in {lines[0]!r}"


def _ids(cases):
    return [" ".join(flags) for flags, _ in cases]


PARSER_CASES = [
    (["--strategy", "annealing"], ["--strategy", "'annealing'"]),
    (["--trials", "0"], ["--trials", "'0'"]),
    (["--trials", "-1"], ["--trials", "'-1'"]),
    (["--cost-exponent", "0.5"], ["--cost-exponent", "'0.5'"]),
    (["--cost-exponent", "nan"], ["--cost-exponent", "'nan'"]),
    (["--population", "0"], ["--population", "'0'"]),
    (["--nodes", "0"], ["--nodes", "'0'"]),
    (["--controller-learning-rate", "0"], ["--controller-learning-rate", "'0'"]),
]


@pytest.mark.parametrize(("flags", "expected"), PARSER_CASES, ids=_ids(PARSER_CASES))
def test_bad_flag_values_are_refused_by_the_parser(tmp_path, capsys, flags, expected):
    output_dir = tmp_path / "out"
    code, err = _run_main([*flags, "--output-dir", str(output_dir)], capsys)
    _assert_one_line_usage_error(code, err, *expected)
    assert not output_dir.exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (NOT_JSON, ["must be a genotype's JSON text", repr(NOT_JSON)]),
        (NOT_A_GENOTYPE, [".normal must be", "[1, 2]"]),
        (READS_A_LATER_STATE, [".normal node 0 must read an earlier state (0..1)", "('sep_conv_3x3', 2)"]),
    ],
    ids=["not_json", "not_a_genotype", "reads_a_later_state"],
)
def test_a_malformed_genotype_file_is_refused_naming_the_file(tmp_path, capsys, text, expected):
    path = tmp_path / "genotype.json"
    path.write_text(text, encoding="utf-8")
    output_dir = tmp_path / "out"
    code, err = _run_main(["--genotype", str(path), "--output-dir", str(output_dir)], capsys)
    _assert_one_line_usage_error(code, err, f"--genotype {path}", *expected)
    assert not output_dir.exists()


def test_a_missing_genotype_file_is_refused_naming_the_file(tmp_path, capsys):
    path = tmp_path / "missing.json"
    output_dir = tmp_path / "out"
    code, err = _run_main(["--genotype", str(path), "--output-dir", str(output_dir)], capsys)
    _assert_one_line_usage_error(code, err, "--genotype", str(path), "No such file or directory")
    assert not output_dir.exists()


SETTINGS_CASES = [
    # A target for a cost the objective does not charge.
    (["--objective", "accuracy", "--target-macs", "1e6"],
     ["--target-macs", ("1000000", "1e+06", "1e6"), "--objective", "accuracy"]),
    (["--objective", "accuracy,macs", "--target-macs", "1e6", "--target-params", "5e4"],
     ["--target-params", ("50000", "5e+04", "5e4"), "--objective", "accuracy,macs"]),
    # A cost objective without its target.
    (["--objective", "accuracy,macs"], ["--target-macs", "accuracy,macs"]),
    (["--objective", "speed"], ["--objective", "speed"]),
    (["--operations", "sep_conv_3x3,conv_9x9"], ["--operations", "sep_conv_3x3,conv_9x9"]),
    (["--operations", " , "], ["--operations"]),
    (["--strategy", "random", "--population", "4"], ["--population", "--strategy random"]),
    (["--strategy", "reinforce", "--sample-size", "2"], ["--sample-size", "--strategy reinforce"]),
    (["--strategy", "reinforce", "--baseline-decay", "1"], ["--baseline-decay", "1"]),
    (["--strategy", "evolution", "--population", "2", "--sample-size", "3"], ["--sample-size", "3", "--population"]),
    (["--seed", "-1"], ["--seed", "-1"]),
    # Candidates scored on the split the final model is reported on.
    (["--validation-split", "test"], ["--validation-split test", "--test-split test", "Hold out"]),
    (["--preset", "no_such_preset"], ["preset", "'no_such_preset'"]),
]


@pytest.mark.parametrize(("flags", "expected"), SETTINGS_CASES, ids=_ids(SETTINGS_CASES))
def test_bad_settings_are_refused_before_anything_is_written(tmp_path, capsys, flags, expected):
    output_dir = tmp_path / "out"
    code, err = _run_main([*flags, "--output-dir", str(output_dir)], capsys)
    _assert_one_line_usage_error(code, err, *expected)
    assert not output_dir.exists()


def test_an_image_size_the_network_cannot_take_is_refused_before_training(tmp_path, capsys):
    output_dir = tmp_path / "out"
    code, err = _run_main(["--image-size", "8", "--filters", "4", "--output-dir", str(output_dir)], capsys)
    _assert_one_line_usage_error(code, err, "--image-size", "8", "does not build")
    assert not output_dir.exists()


def test_a_final_size_the_network_cannot_take_is_refused_before_the_search(tmp_path, capsys, monkeypatch):
    # The search size builds; the final one is checked too (a final model of 0 filters is
    # refused by the parser, so the final size here fails in the model builder instead).
    from keras_archs.registry import model_info

    info = model_info("nasnet_mobile")
    build = info.build

    def failing_build(*args, num_cells=None, **kwargs):
        if num_cells == 3:
            raise ValueError("num_cells=3 is refused by this test's builder")
        return build(*args, num_cells=num_cells, **kwargs)

    monkeypatch.setattr(type(info), "build", lambda self, *a, **k: failing_build(*a, **k))
    output_dir = tmp_path / "out"
    code, err = _run_main(["--nodes", "2", "--final-cells", "3", "--output-dir", str(output_dir)], capsys)
    _assert_one_line_usage_error(code, err, "A candidate of 3 cells and 8 filters", "does not build",
                                 "num_cells=3 is refused")
    assert not output_dir.exists()


def _plan(argv):
    return cli._plan(cli.build_parser().parse_args(argv))


def test_a_search_folder_holding_other_settings_is_refused(tmp_path, capsys):
    common = ["--nodes", "2", "--output-dir", str(tmp_path), "--search-name", "s"]
    plan = _plan(["--trials", "6", *common])
    search_json = os.path.join(plan.search_dir, "search.json")
    write_json(plan.settings, search_json)
    written = open(search_json, encoding="utf-8").read()
    cli._check_search_dir(plan)  # the same settings resume

    code, err = _run_main(["--trials", "7", *common], capsys)
    _assert_one_line_usage_error(code, err, os.path.join(str(tmp_path), "s"), "oracle", '"max_trials": 7',
                                 "--search-name")
    assert os.listdir(plan.search_dir) == ["search.json"]
    assert open(search_json, encoding="utf-8").read() == written

    code, err = _run_main(["--trials", "6", "--strategy", "random", *common], capsys)
    _assert_one_line_usage_error(code, err, "strategy", '"random"')
    assert os.listdir(plan.search_dir) == ["search.json"]


def test_an_unreadable_search_json_is_refused(tmp_path, capsys):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "search.json").write_text("{ truncated", encoding="utf-8")
    code, err = _run_main(["--nodes", "2", "--output-dir", str(tmp_path), "--search-name", "s"], capsys)
    _assert_one_line_usage_error(code, err, "search.json is unreadable", "--search-name s")
    assert os.listdir(folder) == ["search.json"]
    assert (folder / "search.json").read_text(encoding="utf-8") == "{ truncated"


def test_a_final_size_other_than_the_folders_is_refused(tmp_path, capsys):
    """A rerun asking for another final size would find the first one's final model: refused."""
    common = ["--nodes", "2", "--output-dir", str(tmp_path), "--search-name", "s"]
    plan = _plan(["--final-cells", "2", *common])
    write_json(plan.settings, os.path.join(plan.search_dir, "search.json"))
    code, err = _run_main(["--final-cells", "3", *common], capsys)
    _assert_one_line_usage_error(code, err, "final", '"cells": 3')
    assert os.listdir(plan.search_dir) == ["search.json"]


def test_a_genotype_run_has_its_own_folder_and_keys_it_on_the_genotype(tmp_path):
    from keras_archs.layers.nas import genotype_to_json
    from keras_archs.models.nasnet import AMOEBANET_A, NASNET_A

    paths = {}
    for name, genotype in (("a", NASNET_A), ("b", AMOEBANET_A)):
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(genotype_to_json(genotype), encoding="utf-8")
    plan = _plan(["--genotype", str(paths["a"]), "--output-dir", str(tmp_path)])
    assert os.path.basename(plan.search_dir) == "genotype-a-digits"
    assert plan.settings["genotype"] == genotype_to_json(NASNET_A)
    other = _plan(["--genotype", str(paths["b"]), "--output-dir", str(tmp_path), "--search-name", "genotype-a-digits"])
    write_json(plan.settings, os.path.join(plan.search_dir, "search.json"))
    with pytest.raises(ValueError, match="genotype"):
        cli._check_search_dir(other)
