"""The package works under `python -OO`, where every docstring is None."""

import os
import pathlib
import subprocess
import sys

RECIPE = pathlib.Path(__file__).resolve().parents[1] / "recipes" / "search.py"

SCRIPT = (
    "import keras_archs\n"
    "from keras_archs import cli\n"
    "keras_archs.get_model('resnet18', input_shape=(32, 32, 3), classes=3)\n"
    "keras_archs.get_model('resnet20', input_shape=(32, 32, 3), classes=3)\n"
    "cli.build_parser()\n"
    "from keras_archs.search import cli as search_cli\n"
    "search_cli.build_parser()\n"
    "import runpy, sys\n"
    "sys.argv = ['search.py', '--help']\n"
    "try:\n"
    f"    runpy.run_path({str(RECIPE)!r}, run_name='__main__')\n"
    "except SystemExit as exit_:\n"
    "    assert exit_.code == 0, exit_.code\n"
    "assert keras_archs.ResNet50.__doc__ is None\n"  # really optimized, not a silent -OO no-op
)


def test_import_build_and_cli_parser_under_python_oo():
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow"}
    result = subprocess.run([sys.executable, "-OO", "-c", SCRIPT], capture_output=True, text=True, timeout=600,
                            env=environment)
    assert result.returncode == 0, result.stderr[-3000:]
