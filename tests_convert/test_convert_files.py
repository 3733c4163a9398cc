"""Reference checkpoints on disk: `.pth` (torch.load with weights_only) and `.safetensors`,
read and written by `keras-archs convert`, load into our model as the same function."""

import dataclasses

import keras
import numpy as np
import pytest
import torch
from safetensors.torch import save_file

import keras_archs
from keras_archs import convert
from keras_archs.cli import main

import parity

NAME = "squeezenet1_1"  # the smallest torchvision reference


@pytest.fixture(scope="module")
def reference():
    calibration = parity.images(224, 224, batch=4, seed=parity.SEED - 1)
    return parity.build_reference(convert.REFERENCES[NAME], calibration).float()


def _expected(model):
    images = parity.images(224, 224, batch=1).astype("float32")
    with torch.no_grad():
        logits = model(torch.from_numpy(images.transpose(0, 3, 1, 2).copy())).numpy()
    return images, logits


def _check_same_function(ours, reference):
    images, theirs = _expected(reference)
    mine = keras.ops.convert_to_numpy(ours(images, training=False))
    assert parity.relative_difference(mine, theirs) <= 1e-4


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_cli_converts_checkpoint_file_into_loadable_weights(reference, tmp_path, capsys, suffix):
    checkpoint = tmp_path / f"{NAME}{suffix}"
    if suffix == ".pth":
        torch.save({"state_dict": reference.state_dict()}, checkpoint)  # a training checkpoint
    else:
        save_file(reference.state_dict(), str(checkpoint))
    output = tmp_path / f"{NAME}.weights.h5"
    assert main(["convert", NAME, str(checkpoint), "-o", str(output)]) == 0
    assert f"weights={str(output)!r}" in capsys.readouterr().out
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted([checkpoint.name, output.name])
    ours = keras_archs.get_model(NAME, classifier_activation=None, weights=str(output),
                                 **convert.REFERENCES[NAME].model_kwargs)
    _check_same_function(ours, reference)


def test_read_state_dict_refuses_pickled_objects(tmp_path):
    checkpoint = tmp_path / "model.pth"
    torch.save({"conv.weight": torch.zeros(1), "note": object()}, checkpoint)
    with pytest.raises(ValueError, match=r"not a state dict that loads with torch\.load\(weights_only=True\)"):
        convert.read_state_dict(checkpoint)


def test_cli_convert_of_mismatched_checkpoint_is_one_line_and_writes_nothing(reference, tmp_path, capsys):
    checkpoint = tmp_path / "wrong.safetensors"
    state = {key: value for key, value in reference.state_dict().items() if not key.startswith("classifier")}
    save_file(state, str(checkpoint))
    output = tmp_path / "out.weights.h5"
    assert main(["convert", NAME, str(checkpoint), "-o", str(output)]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "classifier" in error[0]
    assert not output.exists() and len(list(tmp_path.iterdir())) == 1


def test_include_top_false_takes_features_and_leaves_classifier_unused(reference):
    features = convert.from_state_dict(NAME, parity.state_dict_arrays(reference), include_top=False)
    images = parity.images(224, 224, batch=1).astype("float32")
    with torch.no_grad():
        theirs = reference.features(torch.from_numpy(images.transpose(0, 3, 1, 2).copy())).numpy()
    mine = keras.ops.convert_to_numpy(features(images, training=False))
    assert parity.relative_difference(mine, theirs.transpose(0, 2, 3, 1)) <= 1e-4


@pytest.mark.parametrize("name", ["googlenet", "tv_inception_v3"])
def test_auxiliary_head_tensors_of_published_checkpoints_convert_with_or_without_the_heads(name):
    # torchvision's published GoogLeNet and Inception-v3 checkpoints carry the auxiliary heads.
    reference = convert.REFERENCES[name]
    size = keras_archs.model_info(name).input_spec.default_size
    with_heads = dataclasses.replace(reference, kwargs={**reference.kwargs, "aux_logits": True})
    torch_model = parity.build_reference(with_heads, parity.images(size, size, batch=2, seed=parity.SEED - 1))
    state = parity.state_dict_arrays(torch_model)
    assert any(key.startswith(reference.auxiliary) for key in state)
    images = parity.images(size, size, batch=2)
    theirs = parity.reference_outputs(torch_model, images)
    for aux_logits in (False, True):
        ours = parity.converted(name, state, aux_logits=aux_logits)
        outputs = ours(images, training=False)
        main_logits = keras.ops.convert_to_numpy(outputs[0] if aux_logits else outputs)
        assert parity.spread_difference(main_logits, theirs) <= 1e-4
        keras.backend.clear_session()
