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


def test_readme_has_a_generated_model_table():
    readme = (ROOT / "README.md").read_text()
    table = readme.split("<!-- model-table:start -->")[1].split("<!-- model-table:end -->")[0]
    assert "| lenet5 |" in table and "| vgg16 |" in table


def test_readme_main_job_installs_the_extra_its_export_needs():
    from keras_archs.cli import EXTRAS

    readme = (ROOT / "README.md").read_text()
    main_job = re.findall(r"```bash\n(python3 -m venv .+)\n```", readme)[0]
    export_format = re.search(r"keras-archs export \S+ --format (\w+)", main_job).group(1)
    extra = EXTRAS[export_format][0]
    installed = re.search(r"pip install -q -e (\S+)", main_job).group(1).strip("\"'")
    assert installed == f".[{extra}]", (installed, extra)


def test_readme_weights_table_is_the_registry_s(monkeypatch):
    """`python tools/model_table.py --weights-only --check` passes: the table is what the registry holds."""
    monkeypatch.syspath_prepend(str(ROOT / "tools"))
    import model_table  # noqa: PLC0415 - a script under tools/

    readme = (ROOT / "README.md").read_text()
    assert model_table.render_weights(readme) == readme
    table = readme.split(model_table.WEIGHTS_TABLE[0])[1].split(model_table.WEIGHTS_TABLE[1])[0]
    import keras_archs  # noqa: PLC0415

    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| name")]
    assert len(rows) == sum(len(keras_archs.model_info(name).weights)
                            for name in keras_archs.list_models(pretrained=True))
