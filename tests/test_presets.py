"""Training presets come from the registry: every model names its paper's preset."""

import os
import runpy

import pytest

import keras_archs
from keras_archs import registry
from keras_archs.training import presets, run

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CIFAR_RESNETS = ["resnet20", "resnet32", "resnet44", "resnet56", "resnet110", "resnet1202"]


def test_registry_preset_names_are_the_presets():
    assert sorted(registry.PRESET_NAMES) == sorted(presets.PRESETS)


def test_every_registered_model_names_known_presets():
    unknown = {
        name: (info.preset, info.cifar_preset)
        for name in keras_archs.list_models()
        for info in [keras_archs.model_info(name)]
        if info.preset not in presets.PRESETS or info.cifar_preset not in (None, *presets.PRESETS)
    }
    assert unknown == {}


def test_preset_for_model_returns_the_registered_presets():
    for name in keras_archs.list_models():
        info = keras_archs.model_info(name)
        assert presets.preset_for_model(name).name == info.preset, name
        cifar = info.cifar_preset or presets.CIFAR_FALLBACK
        assert presets.preset_for_model(name, cifar=True).name == cifar, name


@pytest.mark.parametrize("name", CIFAR_RESNETS)
def test_cifar_resnets_resolve_to_resnet_cifar(name):
    assert keras_archs.model_info(name).preset == "resnet_cifar"
    assert presets.preset_for_model(name).name == "resnet_cifar"
    assert presets.preset_for_model(name, cifar=True).name == "resnet_cifar"


@pytest.mark.parametrize("name, preset, cifar_preset", [
    ("resnet50", "resnet", "resnet_cifar"),
    ("resnext50_32x4d", "resnet", "resnext_cifar"),
    ("wide_resnet50_2", "resnet", "wide_resnet_cifar"),
    ("densenet121", "densenet", "densenet_cifar"),
    ("wide_resnet28_10", "wide_resnet_cifar", "wide_resnet_cifar"),
    ("resnext29_8x64d", "resnext_cifar", "resnext_cifar"),
    ("densenet_bc100_k12", "densenet_cifar", "densenet_cifar"),
    ("preact_resnet164", "resnet_cifar", "resnet_cifar"),
    ("nin_cifar10", "resnet_cifar", "resnet_cifar"),
    ("lenet5", "lenet", "resnet_cifar"),
    ("vgg16_bn", "vgg", "resnet_cifar"),
    ("googlenet", "googlenet", "resnet_cifar"),
    ("inception_v3", "inception_v3", "resnet_cifar"),
    ("mobilenet_v2", "mobilenet", "resnet_cifar"),
    ("shufflenet_v2_x1_0", "shufflenet", "resnet_cifar"),
    ("squeezenet1_0", "modern", "resnet_cifar"),
])
def test_preset_for_model_of_each_family(name, preset, cifar_preset):
    assert presets.preset_for_model(name).name == preset
    assert presets.preset_for_model(name, cifar=True).name == cifar_preset


class _Resolved(Exception):
    """Stops a run once it has resolved its preset."""


def test_run_without_a_preset_resolves_it_through_preset_for_model(monkeypatch, tmp_path):
    resolved = []
    real = presets.preset_for_model

    def spy(model_name, cifar=False):
        resolved.append((model_name, cifar, real(model_name, cifar=cifar).name))
        raise _Resolved

    monkeypatch.setattr(run.preset_module, "preset_for_model", spy)
    with pytest.raises(_Resolved):
        run.train(run.RunConfig(model="resnet20", output_dir=str(tmp_path), strategy="one_device",
                                precision="float32", jit_compile=False))
    assert resolved == [("resnet20", False, "resnet_cifar")]


def test_train_cifar_recipe_takes_the_registry_cifar_preset():
    # Run as a module, not as __main__: the recipe defines its functions without training.
    cifar_preset = runpy.run_path(os.path.join(ROOT, "recipes", "train_cifar.py"))["cifar_preset"]
    assert [cifar_preset(name) for name in ("resnet20", "resnet50", "wide_resnet28_10", "vgg16")] == [
        "resnet_cifar", "resnet_cifar", "wide_resnet_cifar", "resnet_cifar"]


def test_preset_for_model_refuses_an_unregistered_name():
    with pytest.raises(ValueError, match="nonexistent_net"):
        presets.preset_for_model("nonexistent_net")


def test_linear_schedule_falls_to_zero_at_the_last_step():
    schedule = presets.get_preset("shufflenet").schedule_for(global_batch=1024, steps_per_epoch=10, epochs=2)
    assert [float(schedule(step)) for step in (0, 10, 20)] == pytest.approx([0.5, 0.25, 0.0])


@pytest.mark.parametrize("name, boundaries, factor", [
    ("wide_resnet_cifar", (60, 120, 160), 0.2),
    ("resnext_cifar", (150, 225), 0.1),
])
def test_cifar_step_presets_decay_at_their_epochs(name, boundaries, factor):
    preset = presets.get_preset(name)
    schedule = preset.schedule_for(global_batch=128, steps_per_epoch=10)
    # The decayed rate starts at the first step of each boundary epoch.
    rates = [float(schedule(epoch * 10)) for epoch in boundaries]
    assert rates == pytest.approx([0.1 * factor ** (index + 1) for index in range(len(boundaries))])
    assert float(schedule(boundaries[0] * 10 - 1)) == pytest.approx(0.1)
