import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_readme_test_command_is_what_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text()
    command = re.search(r"^TEST_COMMAND='(.+)'$", ci, re.MULTILINE).group(1)
    readme = (ROOT / "README.md").read_text()
    assert command in readme
    commands = re.findall(r"```bash\n(python3 -m venv .+)\n```", readme)
    assert len(commands) == 2, "the README gives exactly two commands: main job and tests"
    assert commands[1] == command


def test_readme_main_job_installs_the_extra_its_export_needs():
    from keras_archs.cli import EXTRAS

    readme = (ROOT / "README.md").read_text()
    main_job = re.findall(r"```bash\n(python3 -m venv .+)\n```", readme)[0]
    export_format = re.search(r"keras-archs export \S+ --format (\w+)", main_job).group(1)
    extra = EXTRAS[export_format][0]
    installed = re.search(r"pip install -q -e (\S+)", main_job).group(1).strip("\"'")
    assert installed == f".[{extra}]", (installed, extra)


def test_readme_tables_are_the_registry_s(monkeypatch):
    """`python tools/model_table.py --check` passes: both tables are what the registry holds, row for row."""
    monkeypatch.syspath_prepend(str(ROOT / "tools"))
    import model_table  # noqa: PLC0415 - a script under tools/

    import keras_archs  # noqa: PLC0415

    assert model_table.main(["--check"]) == 0
    readme = (ROOT / "README.md").read_text()

    def rows(markers):
        table = readme.split(markers[0])[1].split(markers[1])[0]
        return [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| name")]

    assert [row.split(" | ")[0][2:] for row in rows(model_table.MODEL_TABLE)] == keras_archs.list_models()
    assert len(rows(model_table.WEIGHTS_TABLE)) == sum(
        len(keras_archs.model_info(name).weights) for name in keras_archs.list_models(pretrained=True)
    )
