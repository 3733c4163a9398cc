"""Tests of the `garden` extra (tf-models-official), run in its own environment:

    python3 -m venv .venv-garden && .venv-garden/bin/pip install -e ".[garden,test]"
    .venv-garden/bin/pytest tests_garden

Outside `testpaths`, so the main suite never collects them: without the extra they would fail.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    keras.utils.set_random_seed(0)
    yield
    keras.backend.clear_session(free_memory=False)
