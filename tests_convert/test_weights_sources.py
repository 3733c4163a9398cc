"""Pretrained weights against their sources, offline: torchvision's own metadata,
and the download -> hash check -> conversion -> cache path end to end on generated checkpoints
served from 127.0.0.1 (real checkpoints cannot be downloaded on these machines)."""

import dataclasses
import hashlib
import http.server
import importlib.resources
import json
import math
import os
import threading

import keras
import numpy as np
import pytest
import timm
import torch
import torchvision
from safetensors.torch import save_file

import keras_archs
from keras_archs import convert, preprocessing, registry, weights

import parity

ENTRIES = [
    (name, entry)
    for name in keras_archs.list_models(pretrained=True)
    for entry in keras_archs.model_info(name).weights
]
TORCHVISION = [(name, entry) for name, entry in ENTRIES if entry.source == "torchvision"]
TIMM = [(name, entry) for name, entry in ENTRIES if entry.source == "timm"]


def _ids(pairs):
    return [f"{name}-{entry.tag}" for name, entry in pairs]


@pytest.mark.parametrize(("name", "entry"), TORCHVISION, ids=_ids(TORCHVISION))
def test_torchvision_entries_are_what_torchvision_publishes(name, entry):
    published = torchvision.models.get_weight(entry.checkpoint)
    assert entry.url == published.url
    assert entry.top1 == published.meta["_metrics"]["ImageNet-1K"]["acc@1"]
    transform = published.transforms()
    assert [entry.resize_size] == list(transform.resize_size)
    assert [entry.crop_size] == list(transform.crop_size)
    assert entry.interpolation == transform.interpolation.value
    assert entry.mean == pytest.approx(tuple(transform.mean)) and entry.std == pytest.approx(tuple(transform.std))
    # The weights belong to the architecture we convert into: torchvision's model of that enum.
    reference = keras_archs.model_info(name).torch_reference
    assert torchvision.models.get_model_weights(reference.constructor) is type(published)
    assert entry.license == registry.TORCHVISION_LICENSE


@pytest.mark.parametrize("name", sorted(n for n, r in convert.REFERENCES.items() if r.library == "torchvision"))
def test_every_torchvision_checkpoint_of_a_reference_is_an_entry_default_first(name):
    """All of torchvision's ImageNet classifiers for the reference's architecture, its DEFAULT first (VGG16's
    IMAGENET1K_FEATURES, a feature extractor whose classifier is not trained, publishes no accuracy)."""
    constructor = convert.REFERENCES[name].constructor
    published = torchvision.models.get_model_weights(constructor)
    classifiers = [str(w) for w in published if not math.isnan(w.meta["_metrics"]["ImageNet-1K"]["acc@1"])]
    ours = [entry.checkpoint for entry in keras_archs.model_info(name).weights if entry.source == "torchvision"]
    assert sorted(ours) == sorted(classifiers)
    assert ours[0] == str(published.DEFAULT)


@pytest.mark.parametrize(("name", "entry"), TIMM, ids=_ids(TIMM))
def test_timm_entries_are_what_timm_publishes(name, entry):
    """Name, file, transform and license of timm's pretrained configuration for the reference's architecture."""
    assert entry.checkpoint in timm.list_pretrained()
    config = timm.models.get_pretrained_cfg(entry.checkpoint).to_dict()
    assert config["architecture"] == keras_archs.model_info(name).torch_reference.constructor
    if entry.on_hub:
        assert (entry.hub_id, entry.filename) == (config["hf_hub_id"], "model.safetensors")
    else:  # timm's legacy checkpoints, which it fetches from its GitHub releases
        assert not config.get("hf_hub_id") and entry.url == config["url"]
    assert config["num_classes"] == 1000 and not config.get("label_offset")
    assert [entry.crop_size] * 2 == list(config["input_size"][1:])
    assert entry.resize_size == math.floor(entry.crop_size / config["crop_pct"])  # timm's eval transform
    assert entry.interpolation == config["interpolation"] and config.get("crop_mode", "center") == "center"
    assert entry.mean == pytest.approx(tuple(config["mean"])) and entry.std == pytest.approx(tuple(config["std"]))
    assert entry.license == config["license"]


@pytest.mark.parametrize("name", sorted(n for n, r in convert.REFERENCES.items() if r.library == "timm"))
def test_every_timm_reference_with_a_checkpoint_loads_timm_default(name):
    """Where timm publishes ImageNet weights for the reference's architecture, the first timm entry is the
    checkpoint timm.create_model(pretrained=True) loads. A reference built with other than the name's default
    options (the MobileNetV3 twins' include_preprocessing=False) cannot take converted weights: those names load
    keras.applications' file."""
    reference = convert.REFERENCES[name]
    assert timm.list_pretrained(f"{reference.constructor}.*")
    ours = [entry.checkpoint for entry in keras_archs.model_info(name).weights if entry.source == "timm"]
    if reference.model_kwargs:
        assert not ours and keras_archs.model_info(name).weights[0].source == "keras"
        return
    default = timm.models.get_pretrained_cfg(reference.constructor)
    assert ours[0] == f"{reference.constructor}.{default.tag}"


def test_googlenet_weights_take_tf_scaling():
    """torchvision's googlenet(weights=...) turns on transform_input; ours has no such layer, so it takes
    what that layer makes of the published (ImageNet mean/std) input: (pixel - 0.5) / 0.5."""
    entry = keras_archs.model_info("googlenet").weights[0]
    assert entry.preprocessing == "tf" and entry.mean == registry.IMAGENET_MEAN
    torch.manual_seed(0)
    with_transform = torchvision.models.googlenet(aux_logits=False, init_weights=True, transform_input=True).eval()
    without = torchvision.models.googlenet(aux_logits=False, init_weights=False, transform_input=False).eval()
    without.load_state_dict(with_transform.state_dict())
    pixels = torch.rand(2, 3, 64, 64)
    mean, std = torch.tensor(entry.mean).view(1, 3, 1, 1), torch.tensor(entry.std).view(1, 3, 1, 1)
    with torch.no_grad():
        published = with_transform((pixels - mean) / std)
        tf_mode = without((pixels - 0.5) / 0.5)
    torch.testing.assert_close(published, tf_mode, rtol=1e-4, atol=1e-5)
    scaled = keras_archs.preprocess_input(pixels.permute(0, 2, 3, 1).numpy() * 255.0, model="googlenet")
    np.testing.assert_allclose(scaled, ((pixels - 0.5) / 0.5).permute(0, 2, 3, 1).numpy(), atol=1e-5)


def test_class_index_is_generated_from_timm_synset_files():
    """The package's ImageNet class index: timm's class order (imagenet_synsets.txt) and each
    synset's first lemma (imagenet_synset_to_lemma.txt), spaces as underscores, in keras' JSON."""
    info = importlib.resources.files("timm.data") / "_info"
    synsets = (info / "imagenet_synsets.txt").read_text().split()
    lemmas = dict(line.split("\t", 1) for line in (info / "imagenet_synset_to_lemma.txt").read_text().splitlines())
    index = {str(i): [synset, lemmas[synset].split(",")[0].strip().replace(" ", "_")] for i, synset in enumerate(synsets)}
    shipped = importlib.resources.files("keras_archs").joinpath(preprocessing.CLASS_INDEX_FILE).read_text()
    assert shipped == json.dumps(index)


class _Server:
    """Serves {url path: bytes} on 127.0.0.1; `hub_commit` adds the headers a Hub's HEAD answers with."""

    def __init__(self, files, hub_commit=None):
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self, body):
                outer.requests.append((self.command, self.path))
                content = files.get(self.path)
                if content is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(content)))
                if hub_commit:
                    self.send_header("X-Repo-Commit", hub_commit)
                    self.send_header("ETag", f'"{hashlib.sha256(content).hexdigest()}"')
                self.end_headers()
                if body:
                    self.wfile.write(content)

            def do_GET(self):  # noqa: N802
                self._answer(True)

            def do_HEAD(self):  # noqa: N802
                self._answer(False)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def caches(tmp_path, monkeypatch):
    """KERAS_HOME, TORCH_HOME and the Hub cache in tmp_path; no mirror, no proxy."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    import huggingface_hub.constants  # noqa: PLC0415

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.delenv(weights.MIRROR_VARIABLE, raising=False)
    for variable in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(variable, raising=False)
    return tmp_path


def _with_weights(monkeypatch, name, entry):
    info = keras_archs.model_info(name)
    monkeypatch.setitem(registry._REGISTRY, name, dataclasses.replace(info, weights=(entry,)))


def _logits(model, images):
    return keras.ops.convert_to_numpy(model(images, training=False))


def _torch_logits(reference, images):
    with torch.no_grad():
        return reference(torch.from_numpy(images.transpose(0, 3, 1, 2).copy())).numpy()


def _hash_named_checkpoint(name, stem, folder):
    """`(reference, path)`: `name`'s reference with random weights, its state dict saved in `folder` as
    `<stem>-<sha256 prefix>.pth`, the file name torch.hub (and our download) checks the content against."""
    reference = parity.build_reference(convert.REFERENCES[name], parity.images(224, 224, batch=2)).float().eval()
    folder.mkdir(parents=True, exist_ok=True)
    saved = folder / "checkpoint.pth"
    torch.save(reference.state_dict(), saved)
    path = saved.rename(folder / f"{stem}-{hashlib.sha256(saved.read_bytes()).hexdigest()[:8]}.pth")
    return reference, path


def test_torchvision_checkpoint_downloads_converts_once_and_loads(caches, monkeypatch):
    name = "squeezenet1_1"
    reference, checkpoint = _hash_named_checkpoint(name, "squeezenet1_1", caches / "served")
    file_name = checkpoint.name
    server = _Server({f"/models/{file_name}": checkpoint.read_bytes()})
    entry = registry.PretrainedWeights.from_torchvision(
        "SqueezeNet1_1_Weights.IMAGENET1K_V1", f"{server.url}/models/{file_name}", 58.178
    )
    _with_weights(monkeypatch, name, entry)

    images = parity.images(224, 224, batch=2).astype("float32")
    ours = keras_archs.get_model(name, weights="imagenet", classifier_activation=None)
    assert parity.relative_difference(_logits(ours, images), _torch_logits(reference, images)) <= 1e-4
    assert server.requests == [("GET", f"/models/{file_name}")]
    # The conversion is cached; the checkpoint, converted, is gone.
    assert os.listdir(caches / "keras" / "keras_archs") == [os.path.basename(weights.converted_path(name, entry))]

    server.stop()
    again = keras_archs.get_model(name, weights="imagenet", classifier_activation=None)
    np.testing.assert_array_equal(_logits(again, images), _logits(ours, images))


def test_torchvision_checkpoint_in_torch_hub_cache_is_not_downloaded_again(caches, monkeypatch):
    name = "squeezenet1_1"
    hub = caches / "torch" / "hub" / "checkpoints"
    reference, checkpoint = _hash_named_checkpoint(name, "squeezenet1_1", hub)
    file_name = checkpoint.name
    # torch.hub's copy is used: the published address is never asked.
    entry = registry.PretrainedWeights.from_torchvision(
        "SqueezeNet1_1_Weights.IMAGENET1K_V1", f"http://127.0.0.1:9/models/{file_name}", 58.178
    )
    _with_weights(monkeypatch, name, entry)
    images = parity.images(224, 224, batch=1).astype("float32")
    ours = keras_archs.get_model(name, weights="imagenet", classifier_activation=None)
    assert parity.relative_difference(_logits(ours, images), _torch_logits(reference, images)) <= 1e-4
    assert (hub / file_name).exists()  # torch.hub's cache is left as it was


def test_torchvision_checkpoint_with_a_wrong_hash_is_refused(caches, monkeypatch):
    content = b"not the published checkpoint"
    server = _Server({"/models/squeezenet1_1-b8a52dc0.pth": content})
    monkeypatch.setenv(weights.MIRROR_VARIABLE, f"{server.url}/models")
    with pytest.raises(ValueError, match="sha256 does not start with b8a52dc0.*nothing was cached"):
        keras_archs.get_model("squeezenet1_1", weights="imagenet")  # the real entry, through the mirror
    assert os.listdir(caches / "keras" / "keras_archs") == []


def test_googlenet_checkpoint_with_auxiliary_heads_loads_into_both_forms(caches, monkeypatch):
    """torchvision's GoogLeNet checkpoint carries aux1/aux2: GoogLeNet() leaves them out, and
    GoogLeNet(aux_logits=True) takes them, each from its own converted file (Keras matches a
    weights file to a model by layer order), both converted from one download."""
    torch.manual_seed(0)
    reference = torchvision.models.googlenet(aux_logits=True, init_weights=True).eval()
    checkpoint = caches / "googlenet.pth"
    torch.save(reference.state_dict(), checkpoint)
    content = checkpoint.read_bytes()
    file_name = f"googlenet-{hashlib.sha256(content).hexdigest()[:8]}.pth"
    server = _Server({f"/{file_name}": content})
    published = keras_archs.model_info("googlenet").weights[0]
    _with_weights(monkeypatch, "googlenet", dataclasses.replace(
        published, url=f"{server.url}/{file_name}", file_hash=file_name.split("-")[1][:8]
    ))
    with_heads = keras_archs.GoogLeNet(aux_logits=True, weights="imagenet")
    expected = convert.from_state_dict("googlenet", convert.read_state_dict(checkpoint), aux_logits=True)
    assert all(np.array_equal(a, b) for a, b in zip(with_heads.get_weights(), expected.get_weights(), strict=True))
    plain = keras_archs.GoogLeNet(weights="imagenet", classifier_activation=None)
    images = parity.images(224, 224, batch=1).astype("float32")
    assert parity.relative_difference(_logits(plain, images), _torch_logits(reference, images)) <= 1e-4
    assert server.requests == [("GET", f"/{file_name}")]  # both forms converted from one download
    assert sorted(os.listdir(caches / "keras" / "keras_archs")) == [
        "googlenet.torchvision.IMAGENET1K_V1.aux.weights.h5", "googlenet.torchvision.IMAGENET1K_V1.weights.h5"
    ]


def test_timm_checkpoint_from_a_hub_mirror_converts_without_torch_load(caches, monkeypatch):
    name = "timm_xception"
    side = keras_archs.model_info(name).input_spec.default_size
    reference = parity.build_reference(convert.REFERENCES[name], parity.images(side, side, batch=2)).float().eval()
    checkpoint = caches / "model.safetensors"
    save_file({key: value.contiguous() for key, value in reference.state_dict().items()}, str(checkpoint))
    content = checkpoint.read_bytes()
    path = "/timm/legacy_xception.test_in1k/resolve/main/model.safetensors"
    server = _Server({path: content}, hub_commit="0123456789abcdef0123456789abcdef01234567")
    monkeypatch.setenv(weights.MIRROR_VARIABLE, server.url)  # the Hub endpoint
    entry = registry.PretrainedWeights(
        source="timm", checkpoint="legacy_xception.test_in1k", license="apache-2.0", preprocessing="mean_std",
        mean=(0.486, 0.459, 0.408), std=(0.235, 0.235, 0.235), crop_size=side,
    )
    _with_weights(monkeypatch, name, entry)
    monkeypatch.setattr(torch, "load", None)  # safetensors only: torch.load must not be needed

    images = parity.images(side, side, batch=2).astype("float32")
    ours = keras_archs.get_model(name, weights="imagenet", classifier_activation=None)
    assert parity.relative_difference(_logits(ours, images), _torch_logits(reference, images)) <= 1e-4
    assert ("GET", path) in server.requests
    # The Hub's cache keeps the file (timm shares it); ours keeps only the conversion.
    assert os.listdir(caches / "keras" / "keras_archs") == [os.path.basename(weights.converted_path(name, entry))]
    pixels = np.full((1, 1, 1, 3), 255.0, "float32")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(keras_archs.preprocess_input(pixels, model=name)).ravel(),
        (1 - np.array(entry.mean)) / np.array(entry.std), rtol=1e-6,
    )


def test_timm_checkpoint_outside_the_hub_is_a_hash_checked_pth(caches, monkeypatch):
    """timm's legacy SE-ResNet-50 checkpoint lives on GitHub releases: fetched as torchvision's are."""
    name = "seresnet50"
    reference, checkpoint = _hash_named_checkpoint(name, "se_resnet50", caches / "served")
    file_name = checkpoint.name
    server = _Server({f"/v0.1-cadene/{file_name}": checkpoint.read_bytes()})
    published = keras_archs.model_info(name).weights[0]
    assert (published.source, published.on_hub, published.needs_torch) == ("timm", False, True)
    entry = dataclasses.replace(published, url=f"{server.url}/v0.1-cadene/{file_name}",
                                file_hash=registry.torch_hub_hash_prefix(file_name))
    _with_weights(monkeypatch, name, entry)

    images = parity.images(224, 224, batch=2).astype("float32")
    ours = keras_archs.get_model(name, weights="imagenet", classifier_activation=None)
    assert parity.relative_difference(_logits(ours, images), _torch_logits(reference, images)) <= 1e-4
    assert server.requests == [("GET", f"/v0.1-cadene/{file_name}")]
    assert os.listdir(caches / "keras" / "keras_archs") == [os.path.basename(weights.converted_path(name, entry))]
