"""Export sweeps over the registry (issues 5 and 7), run by CI as a second command.

Every registered configuration exports to a SavedModel whose reloaded serving signature
gives the Keras model's outputs (<= 1e-5), and every mobile model (MobileNet v1/v2/v3,
ShuffleNet v1/v2, SqueezeNet, NASNet-A Mobile, AmoebaNet-A, LeNet-5) converts to float32
and to full-integer int8 TFLite (builtin ops only) and runs in the LiteRT interpreter, with the
bounds of test_tflite_mobile.py.

Exporting everything costs more than the default run's budget, so these tests are marked
`sweep`: the default run deselects them (`-m "not sweep"` in pytest.ini) and CI runs
`pytest -n 2 -m sweep`. The default run keeps the same checks on the family
representatives (test_export_registry.py, test_tflite_mobile.py); the SavedModel sweep
covers the other names, so the two commands together export every registered model once,
except the two 1000-layer CIFAR nets (TOO_DEEP_TO_EXPORT) and the deeper repeats of an
exported configuration (DEEPER_REPEAT_OF). Likewise the TFLite sweep converts the mobile
models that test_tflite_mobile.py does not already convert with the same check.
"""

import pytest

import keras_archs

from conftest import REPRESENTATIVES
from test_export_registry import assert_saved_model_reloads_with_identical_outputs
from test_tflite_mobile import NAMES as MOBILE_NAMES
from test_tflite_mobile import (
    CONVERTED,
    QUANTIZED,
    assert_float32_tflite_matches_keras,
    assert_int8_tflite_tracks_keras,
    batch_one_model,
)

pytestmark = pytest.mark.sweep

# Started first, so that under `-n 2` the longest exports do not end up as a lone tail.
SLOWEST_FIRST = ("nasnet_large", "timm_nasnet_large", "timm_inception_resnet_v2", "senet154", "amoebanet_a", "nasnet_mobile")
# Not exported: the CIFAR nets 1202 and 1001 layers deep. resnet1202's SavedModel export
# alone ran over 20 minutes on the shared 2 cores (measured 2026-11-22; not finished when
# stopped), most of the sweep's budget. Their builder and blocks export here as resnet110
# and preact_resnet164 (the registry suite likewise builds them only for their counts).
TOO_DEEP_TO_EXPORT = ("resnet1202", "preact_resnet1001")


def _slowest_first(names):
    return sorted(names, key=lambda name: (SLOWEST_FIRST.index(name) if name in SLOWEST_FIRST else len(SLOWEST_FIRST)))


# Not exported again: the deeper or wider repeats of an exported configuration, the same
# builder with the same blocks, only more of them or wider (the model on the right is
# exported, here or by test_export_registry.py). A SavedModel export costs in proportion
# to the layers it traces, so these 17 took 13 of the sweep's 58 worker-minutes on the 2
# cores (measured 2026-12-07), for no layer that the model on the right does not export.
DEEPER_REPEAT_OF = {
    "resnet101": "resnet50", "resnet152": "resnet50",
    "resnet101_v2": "resnet50_v2", "resnet152_v2": "resnet50_v2",
    "tv_resnet101": "tv_resnet50", "tv_resnet152": "tv_resnet50",
    "resnext101_32x8d": "resnext50_32x4d", "resnext101_64x4d": "resnext50_32x4d",
    "wide_resnet101_2": "wide_resnet50_2",
    "densenet161": "densenet121", "densenet169": "densenet121", "densenet201": "densenet121",
    "densenet264": "densenet121", "densenet_bc190_k40": "densenet_bc100_k12",
    "dpn98": "dpn92", "dpn107": "dpn92", "dpn131": "dpn92",
}  # fmt: skip
REPRESENTED = {name for names in REPRESENTATIVES.values() for name in names}
SAVED_MODEL_NAMES = _slowest_first(
    name for name in keras_archs.list_models()
    if name not in REPRESENTED and name not in TOO_DEEP_TO_EXPORT and name not in DEEPER_REPEAT_OF
)
# test_tflite_mobile's mobile models (without NOT_MOBILE, the NASNet-A Large pair, whose
# nasnet_large took 7 of the sweep's 58 worker-minutes to convert, measured 2026-12-07;
# both SavedModels are still exported) and LeNet-5.
TFLITE_NAMES = _slowest_first([*MOBILE_NAMES, *keras_archs.list_models(family="lenet")])
# The default run already converts these with the same checks (at the registered
# configuration: CONVERTED's options are empty for them).
FLOAT32_NAMES = [name for name in TFLITE_NAMES if CONVERTED.get(name, None) != {}]
INT8_NAMES = [name for name in TFLITE_NAMES if name not in QUANTIZED]


@pytest.mark.parametrize("name", SAVED_MODEL_NAMES)
def test_saved_model_reloads_with_identical_outputs(name, tmp_path):
    assert_saved_model_reloads_with_identical_outputs(name, tmp_path)


@pytest.mark.parametrize("name", FLOAT32_NAMES)
def test_float32_tflite_matches_keras(name, tmp_path):
    assert_float32_tflite_matches_keras(batch_one_model(name), tmp_path)


@pytest.mark.parametrize("name", INT8_NAMES)
def test_full_integer_int8_tflite_runs_and_tracks_keras(name, tmp_path):
    assert_int8_tflite_tracks_keras(batch_one_model(name), tmp_path)


def test_each_deeper_repeat_stands_for_an_exported_model_of_its_family():
    for name, exported in DEEPER_REPEAT_OF.items():
        assert exported in SAVED_MODEL_NAMES or exported in REPRESENTED, (name, exported)
        assert keras_archs.model_info(name).family == keras_archs.model_info(exported).family, (name, exported)
        assert keras_archs.model_info(name).constructor.__module__ == keras_archs.model_info(exported).constructor.__module__
