import re

import pytest

import keras_archs
from keras_archs import registry


def test_duplicate_names_are_refused():
    with pytest.raises(ValueError, match="already registered"):
        registry.register_model(
            "vgg16", family="vgg", paper=registry.Paper("t", "a", 2015),
            input_spec=registry.InputSpec(224, 32), preprocessing="caffe", preset="vgg",
        )
    assert keras_archs.model_info("vgg16").constructor is keras_archs.VGG16


@pytest.mark.parametrize("bad_name", ["VGG16", "", "vgg 16", None])
def test_malformed_names_are_refused(bad_name):
    with pytest.raises(ValueError, match="name"):
        registry.register_model(
            bad_name, family="x", paper=registry.Paper("t", "a", 2000),
            input_spec=registry.InputSpec(32, 32), preprocessing="unit", preset="modern",
        )


def test_unknown_preprocessing_mode_is_refused():
    with pytest.raises(ValueError, match="preprocessing"):
        registry.register_model(
            "brand_new_net", family="x", paper=registry.Paper("t", "a", 2000),
            input_spec=registry.InputSpec(32, 32), preprocessing="imagenet", preset="modern",
        )
    assert "brand_new_net" not in keras_archs.list_models()


@pytest.mark.parametrize("argument", ["preset", "cifar_preset"])
def test_unknown_preset_name_is_refused(argument):
    options = {"preset": "modern", argument: "resnet_imagenet"}
    with pytest.raises(ValueError, match=f"Received: {argument}='resnet_imagenet'"):
        registry.register_model(
            "brand_new_net", family="x", paper=registry.Paper("t", "a", 2000),
            input_spec=registry.InputSpec(32, 32), preprocessing="unit", **options,
        )
    assert "brand_new_net" not in keras_archs.list_models()


def test_list_models_matches_shell_patterns():
    assert keras_archs.list_models("vgg1?") == ["vgg11", "vgg13", "vgg16", "vgg19"]
    assert keras_archs.list_models("vgg1*_bn") == ["vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn"]
    assert keras_archs.list_models("no_such_family*") == []
    everything = keras_archs.list_models()
    assert everything == sorted(everything)
    with pytest.raises(TypeError, match="pattern"):
        keras_archs.list_models(3)


def test_unknown_name_is_a_clear_error():
    with pytest.raises(ValueError, match=r"Received: name='vgg17'.*|Similar names") as error:
        keras_archs.get_model("vgg17")
    assert "vgg17" in str(error.value)
    with pytest.raises(ValueError, match="lenet5"):
        keras_archs.model_info("lenet")


def test_model_info_carries_paper_input_reference_preprocessing_and_preset():
    info = keras_archs.model_info("vgg16")
    assert info.paper.arxiv == "1409.1556" and info.paper.year == 2015
    assert info.input_shape == (224, 224, 3)
    assert info.reference.params == 138_357_544 and info.reference.source == "KA VGG16"
    assert info.preprocessing == "caffe"
    assert info.twin == "VGG16"
    assert info.preset == "vgg" and info.cifar_preset is None
    lenet = keras_archs.model_info("lenet5_paper")
    assert lenet.input_shape == (32, 32, 1) and lenet.defaults == {"variant": "paper"}
    assert lenet.constructor_call == "LeNet5(variant='paper')"


def test_get_model_applies_registered_defaults_and_lets_kwargs_override_them():
    model = keras_archs.get_model("nin_cifar10")
    assert model.output.shape == (None, 10) and model.name == "nin_cifar10"
    model = keras_archs.get_model("nin_cifar10", classes=4, name="mine")
    assert model.output.shape == (None, 4) and model.name == "mine"
    assert model.input.shape == (None, 32, 32, 3)


def test_list_models_filters_by_registered_facts():
    everything = keras_archs.list_models()
    infos = {name: keras_archs.model_info(name) for name in everything}
    assert keras_archs.list_models(family="dpn") == ["dpn107", "dpn131", "dpn68", "dpn92", "dpn98"]
    twins = keras_archs.list_models(twin=True)
    assert len(twins) == 20 and twins == [name for name in everything if infos[name].twin]
    assert sorted(twins + keras_archs.list_models(twin=False)) == everything
    assert keras_archs.list_models(has_reference=False) == [n for n in everything if infos[n].torch_reference is None]
    assert keras_archs.list_models(pretrained=False) == [n for n in everything if not infos[n].weights]
    assert keras_archs.list_models("vgg*", pretrained=True, has_reference=True, twin=True) == ["vgg16", "vgg19"]
    assert keras_archs.list_models(family="no_such_family") == []
    for options, argument in (({"family": 3}, "family"), ({"twin": 1}, "twin"), ({"has_reference": "yes"},
                                                                                  "has_reference")):
        with pytest.raises(TypeError, match=f"Received: {argument}="):
            keras_archs.list_models(**options)


def test_preprocessing_follows_the_options_that_change_it():
    twin, torchvision_form = keras_archs.model_info("mobilenet_v3_large"), keras_archs.model_info("tv_mobilenet_v3_large")
    assert twin.preprocessing_for() == "raw"  # its rescaling layer takes [0, 255] pixels
    assert twin.preprocessing_for({"include_preprocessing": False}) == "tf"
    assert torchvision_form.preprocessing_for() == "torch"
    assert torchvision_form.preprocessing_for({"include_preprocessing": True}) == "raw"
    assert keras_archs.model_info("resnet50").preprocessing_for({"drop_path_rate": 0.1}) == "caffe"
    with pytest.raises(ValueError, match="preprocessing_when modes must be in"):
        registry.register_model(
            "brand_new_net", family="x", paper=registry.Paper("t", "a", 2000), input_spec=registry.InputSpec(32, 32),
            preprocessing="unit", preset="modern", preprocessing_when={"scale": {False: "imagenet"}},
        )
    assert "brand_new_net" not in keras_archs.list_models()


def test_reference_source_codes_are_defined_and_explained():
    """Every source code the references use is defined in the package (shared/REFERENCES.md's codes)."""
    used = set()
    for name in keras_archs.list_models():
        reference = keras_archs.model_info(name).reference
        text = " ".join((reference.source, reference.gmacs_source, reference.top1_source))
        used |= set(re.findall(r"\b(?:TV|KA|IMG)\b", text))
        assert set(reference.source_codes) <= set(registry.SOURCE_CODES)
    assert used == set(registry.SOURCE_CODES)
    assert keras_archs.model_info("resnet50").reference.source_codes == {"KA": registry.SOURCE_CODES["KA"]}
