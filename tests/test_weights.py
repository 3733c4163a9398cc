"""weights="imagenet": downloads, hashes, caches, mirror and offline errors, without network.

Every download here is served by a loopback HTTP server on 127.0.0.1 that the test starts,
from files the test generates (real model weights in the format of each source), and
KERAS_HOME points into tmp_path, so that nothing touches the real cache.
"""

import dataclasses
import hashlib
import http.server
import inspect
import os
import re
import shutil
import threading
import types

import h5py
import keras
import numpy as np
import pytest

import keras_archs
from keras_archs import registry, weights
from keras_archs.registry import PretrainedWeights
from conftest import infer

SMALL = "squeezenet1_1"  # 1.2M parameters: a real model whose files are quick to make


class LoopbackServer:
    """Serves `files` ({url path: bytes}) on 127.0.0.1; records the paths asked for."""

    def __init__(self, files, hub_commit=None):
        self.files = dict(files)
        self.requests = []
        self.hub_commit = hub_commit
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self, body):
                server.requests.append((self.command, self.path))
                content = server.files.get(self.path)
                if content is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(content)))
                if server.hub_commit:
                    # What huggingface_hub's HEAD needs of a Hub: the commit, and the ETag (an LFS
                    # file's sha256, which names its blob in the cache).
                    self.send_header("X-Repo-Commit", server.hub_commit)
                    self.send_header("ETag", f'"{hashlib.sha256(content).hexdigest()}"')
                self.end_headers()
                if body:
                    self.wfile.write(content)

            def do_GET(self):  # noqa: N802 - http.server's naming
                self._answer(body=True)

            def do_HEAD(self):  # noqa: N802
                self._answer(body=False)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def serve():
    servers = []

    def start(files, **options):
        servers.append(LoopbackServer(files, **options))
        return servers[-1]

    yield start
    for server in servers:
        if server.thread.is_alive():
            server.stop()


def _closed_port_url():
    """A 127.0.0.1 address nothing listens on (as a machine without network sees every server)."""
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()
    return f"http://127.0.0.1:{port}"


@pytest.fixture(autouse=True)
def keras_home(tmp_path, monkeypatch):
    home = tmp_path / "keras_home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.delenv(weights.MIRROR_VARIABLE, raising=False)
    for variable in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(variable, raising=False)
    return home


def _keras_h5(model, path):
    """`model`'s weights in keras.applications' file format (legacy HDF5 `save_weights`)."""
    full = str(path) + ".model.h5"
    keras.saving.save_model(model, full)
    # keras.applications' files hold the `model_weights` group of a full save at their root.
    with h5py.File(full, "r") as source, h5py.File(path, "w") as target:
        group = source["model_weights"]
        for key in group:
            group.copy(group[key], target, key)
        for key, value in group.attrs.items():
            target.attrs[key] = value
    os.remove(full)
    return path.read_bytes()


def _md5(content):
    return hashlib.md5(content).hexdigest()


def _with_weights(monkeypatch, name, *entries):
    """Registers `entries` as `name`'s weights for this test."""
    info = keras_archs.model_info(name)
    monkeypatch.setitem(registry._REGISTRY, name, dataclasses.replace(info, weights=tuple(entries)))


@pytest.fixture
def keras_files(tmp_path):
    """SMALL's weights with and without the top, as keras.applications files (bytes)."""
    model = keras_archs.get_model(SMALL)
    top = _keras_h5(model, tmp_path / "top.h5")
    features = keras_archs.get_model(SMALL, include_top=False)
    # keras' no-top files are the same weights without the classifier's.
    features.set_weights(model.get_weights()[: len(features.get_weights())])
    no_top = _keras_h5(features, tmp_path / "no_top.h5")
    return model.get_weights(), top, no_top


def _keras_entry(base_url, top, no_top, **changes):
    return PretrainedWeights(
        source="keras", checkpoint="SqueezeNet", url=f"{base_url}/files/small_top.h5", file_hash=_md5(top),
        url_no_top=f"{base_url}/files/small_notop.h5", file_hash_no_top=_md5(no_top), license="test",
        preprocessing="torch", **changes,
    )


def _equal_weights(model, expected):
    return all(np.array_equal(a, b) for a, b in zip(model.get_weights(), expected, strict=True))


def test_keras_file_downloads_once_and_then_loads_from_the_cache(serve, monkeypatch, keras_home, keras_files):
    expected, top, no_top = keras_files
    server = serve({"/files/small_top.h5": top, "/files/small_notop.h5": no_top})
    _with_weights(monkeypatch, SMALL, _keras_entry(server.url, top, no_top))

    model = keras_archs.get_model(SMALL, weights="imagenet")
    assert _equal_weights(model, expected)
    assert server.requests == [("GET", "/files/small_top.h5")]
    # keras.applications' cache: the same folder and file name as its get_file calls use.
    assert (keras_home / "models" / "small_top.h5").read_bytes() == top

    server.stop()
    again = keras_archs.get_model(SMALL, weights="imagenet")
    assert _equal_weights(again, expected)


def test_a_model_named_by_the_user_loads_the_checkpoint_of_its_registry_entry(
    serve, monkeypatch, keras_home, keras_files
):
    expected, top, no_top = keras_files
    server = serve({"/files/small_top.h5": top, "/files/small_notop.h5": no_top})
    _with_weights(monkeypatch, SMALL, _keras_entry(server.url, top, no_top))
    model = keras_archs.get_model(SMALL, weights="imagenet", name="my_classifier")
    assert model.name == "my_classifier"
    assert _equal_weights(model, expected)


def test_keras_file_without_top_is_the_no_top_file(serve, monkeypatch, keras_home, keras_files):
    expected, top, no_top = keras_files
    server = serve({"/files/small_top.h5": top, "/files/small_notop.h5": no_top})
    _with_weights(monkeypatch, SMALL, _keras_entry(server.url, top, no_top))
    features = keras_archs.get_model(SMALL, weights="imagenet", include_top=False, pooling="avg")
    assert server.requests == [("GET", "/files/small_notop.h5")]
    assert _equal_weights(features, expected[: len(features.get_weights())])


def test_wrong_hash_is_refused_and_nothing_is_cached(serve, monkeypatch, keras_home, keras_files):
    _, top, no_top = keras_files
    server = serve({"/files/small_top.h5": no_top, "/files/small_notop.h5": no_top})  # the wrong file
    _with_weights(monkeypatch, SMALL, _keras_entry(server.url, top, no_top))
    with pytest.raises(ValueError, match=r"not the published small_top\.h5.*deleted; nothing was cached"):
        keras_archs.get_model(SMALL, weights="imagenet")
    assert os.listdir(keras_home / "models") == []


def test_without_network_the_error_says_which_file_to_put_where(tmp_path, monkeypatch, keras_home, keras_files):
    expected, top, no_top = keras_files
    _with_weights(monkeypatch, SMALL, _keras_entry(_closed_port_url(), top, no_top))
    destination = keras_home / "models" / "small_top.h5"
    with pytest.raises(OSError, match="Could not download small_top.h5") as error:
        keras_archs.get_model(SMALL, weights="imagenet")
    message = str(error.value)
    assert f"copy small_top.h5 (hash {_md5(top)}) to {destination}" in message
    assert weights.MIRROR_VARIABLE in message
    # Doing what it says is enough.
    destination.write_bytes(top)
    assert _equal_weights(keras_archs.get_model(SMALL, weights="imagenet"), expected)


def test_mirror_variable_points_every_download_at_the_mirror(serve, monkeypatch, keras_files):
    expected, top, no_top = keras_files
    mirror = serve({"/mirror/small_top.h5": top})
    # The published address is unreachable: only the mirror can answer.
    _with_weights(monkeypatch, SMALL, _keras_entry(_closed_port_url(), top, no_top))
    monkeypatch.setenv(weights.MIRROR_VARIABLE, f"{mirror.url}/mirror/")
    assert _equal_weights(keras_archs.get_model(SMALL, weights="imagenet"), expected)
    assert mirror.requests == [("GET", "/mirror/small_top.h5")]


def _torchvision_entry(base_url, content, stem="small"):
    prefix = hashlib.sha256(content).hexdigest()[:8]
    return PretrainedWeights.from_torchvision(
        "SqueezeNet1_1_Weights.IMAGENET1K_V1", f"{base_url}/models/{stem}-{prefix}.pth", 58.0
    )


def test_torchvision_weights_without_torch_say_what_to_install_before_any_download(serve, monkeypatch,
                                                                                    layers_created):
    monkeypatch.setattr(weights, "_installed", lambda package: package != "torch")
    server = serve({})
    _with_weights(monkeypatch, SMALL, _torchvision_entry(server.url, b"checkpoint"))
    with pytest.raises(ImportError, match=re.escape('needs torch: pip install "keras-archs[convert]"')):
        keras_archs.get_model(SMALL, weights="imagenet")
    assert server.requests == [] and not layers_created


def test_converted_weights_load_from_the_cache_without_torch_or_network(monkeypatch, keras_home):
    entry = _torchvision_entry(_closed_port_url(), b"checkpoint")
    _with_weights(monkeypatch, SMALL, entry)
    converted = keras_archs.get_model(SMALL)
    path = weights.converted_path(SMALL, entry)
    assert path == str(keras_home / "keras_archs" / f"{SMALL}.torchvision.IMAGENET1K_V1.weights.h5")
    os.makedirs(os.path.dirname(path))
    converted.save_weights(path)
    assert _equal_weights(keras_archs.get_model(SMALL, weights="imagenet"), converted.get_weights())
    # One converted file serves the model without its classifier too.
    features = keras_archs.get_model(SMALL, weights="imagenet", include_top=False)
    assert _equal_weights(features, converted.get_weights()[: len(features.get_weights())])


def test_torchvision_download_checks_the_hash_prefix_of_its_file_name(serve, keras_home):
    content = b"a torchvision checkpoint"
    file_name = f"small-{hashlib.sha256(content).hexdigest()[:8]}.pth"
    server = serve({f"/models/{file_name}": content, "/models/small-00000000.pth": content})
    good = _torchvision_entry(server.url, content)
    path, ours = weights._url_checkpoint(good, converted="unused")
    assert (path, ours) == (str(keras_home / "keras_archs" / file_name), True)

    bad = dataclasses.replace(good, url=f"{server.url}/models/small-00000000.pth", file_hash="00000000")
    with pytest.raises(ValueError, match="sha256 does not start with 00000000.*nothing was cached"):
        weights._url_checkpoint(bad, converted="unused")
    assert sorted(os.listdir(keras_home / "keras_archs")) == [file_name]


def test_torchvision_offline_error_names_the_checkpoint_and_its_conversion(monkeypatch, keras_home):
    entry = _torchvision_entry(_closed_port_url(), b"x")
    with pytest.raises(OSError) as error:
        weights._url_checkpoint(entry, converted=weights.converted_path(SMALL, entry))
    message = str(error.value)
    assert f"to {keras_home / 'keras_archs' / entry.file_name}" in message
    assert f"its conversion (keras_archs.weights.convert_checkpoint) at {weights.converted_path(SMALL, entry)}" in message


def _hub_entry(content=b"", **changes):
    return PretrainedWeights(
        source="timm", checkpoint="small.test_in1k", license="test",
        file_hash=hashlib.sha256(content).hexdigest() if content else "", **changes,
    )


def test_hub_weights_without_huggingface_hub_say_what_to_install(monkeypatch, layers_created):
    monkeypatch.setattr(weights, "_installed", lambda package: package != "huggingface_hub")
    _with_weights(monkeypatch, "dpn68", _hub_entry())
    with pytest.raises(ImportError, match="needs huggingface_hub: pip install huggingface_hub safetensors"):
        keras_archs.get_model("dpn68", weights="imagenet")
    assert not layers_created


def test_hub_download_checks_the_published_sha256(serve, monkeypatch, tmp_path):
    # hf_hub_download reads its cache folder from here at each call.
    constants = pytest.importorskip("huggingface_hub.constants")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    content = b"safetensors bytes"
    path = "/timm/small.test_in1k/resolve/main/model.safetensors"
    server = serve({path: content}, hub_commit="0123456789abcdef0123456789abcdef01234567")
    monkeypatch.setenv(weights.MIRROR_VARIABLE, server.url)  # the mirror is a Hub endpoint

    found, ours = weights._hub_checkpoint(_hub_entry(), converted="unused")  # the Hub's own sha256 (ETag)
    assert open(found, "rb").read() == content and not ours
    assert ("GET", path) in server.requests

    shutil.rmtree(tmp_path / "hub")
    with pytest.raises(ValueError, match="not the published timm/small.test_in1k/model.safetensors"):
        weights._hub_checkpoint(_hub_entry(b"other bytes"), converted="unused")
    blobs = tmp_path / "hub" / "models--timm--small.test_in1k" / "blobs"
    assert not blobs.exists() or os.listdir(blobs) == []


def test_hub_offline_error_says_where_to_put_the_file(monkeypatch, tmp_path, keras_home):
    # hf_hub_download reads its cache folder from here at each call.
    constants = pytest.importorskip("huggingface_hub.constants")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv(weights.MIRROR_VARIABLE, _closed_port_url())
    # huggingface_hub retries a refused connection with backoff (23 s in all); skip the waits.
    http = pytest.importorskip("huggingface_hub.utils._http")
    monkeypatch.setattr(http, "time", types.SimpleNamespace(sleep=lambda seconds: None))
    entry = _hub_entry()
    with pytest.raises(OSError, match="Could not download model.safetensors") as error:
        weights._hub_checkpoint(entry, converted="unused")
    dropped = keras_home / "keras_archs" / "timm--small.test_in1k--model.safetensors"
    assert f"to {dropped}" in str(error.value)
    # A file put there is used without the Hub.
    os.makedirs(dropped.parent)
    dropped.write_bytes(b"by hand")
    assert weights._hub_checkpoint(entry, converted="unused") == (str(dropped), True)


@pytest.mark.parametrize(
    ("options", "argument"),
    [
        ({"classes": 10}, "classes"),
        ({"input_shape": (200, 200, 3)}, "input_shape"),
        ({"include_top": False, "input_shape": (64, 64, 1)}, "input_shape"),
        ({"classifier_activation": "sigmoid"}, "classifier_activation"),
        ({"weights": "torchvision.IMAGENET1K_V2"}, "weights"),
    ],
)
def test_keras_rules_for_pretrained_weights_fail_before_any_layer(options, argument, layers_created):
    with pytest.raises(ValueError, match=f"Received: {argument}=") as error:
        keras_archs.get_model("vgg16", **{"weights": "imagenet", **options})
    assert "weights" in str(error.value)
    assert not layers_created


def test_models_without_published_weights_say_so(layers_created):
    with pytest.raises(ValueError, match="No pretrained weights are published for 'lenet5'.*Received: weights="):
        keras_archs.get_model("lenet5", weights="imagenet")
    with pytest.raises(ValueError, match="registry name.*Received: weights='imagenet'"):
        keras_archs.GoogLeNet(variant="paper", weights="imagenet")
    assert not layers_created


@pytest.mark.parametrize(
    ("build", "name"),
    [
        (lambda: keras_archs.ResNet50(variant="v1.5", weights="imagenet"), "tv_resnet50"),
        (lambda: keras_archs.InceptionV3(implementation="torchvision", weights="imagenet"), "tv_inception_v3"),
        (lambda: keras_archs.MobileNetV3Large(implementation="torchvision", include_preprocessing=False,
                                              weights="imagenet"), "tv_mobilenet_v3_large"),
    ],
)
def test_a_constructor_option_selects_the_weights_of_the_name_it_builds(build, name, monkeypatch, layers_created):
    """One constructor serves several names; weights="imagenet" takes the checkpoint of the form built
    (here torchvision's, which asks for torch before anything is built or downloaded)."""
    monkeypatch.setattr(weights, "_installed", lambda package: package != "torch")
    entry = keras_archs.model_info(name).weights[0]
    with pytest.raises(ImportError, match=re.escape(f"{entry.checkpoint} is a PyTorch file; converting it for {name!r}")):
        build()
    assert not layers_created


def test_a_form_no_name_registers_has_no_weights(layers_created):
    message = (
        "Pretrained weights are published for the registered forms of ResNet50 (resnet50: variant='v1', "
        "se_ratio=0.0; tv_resnet50: variant='v1.5', se_ratio=0.0), and this build is none of them. "
        "Received: variant='v1', se_ratio=0.25"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        keras_archs.ResNet50(se_ratio=0.25, weights="imagenet")
    assert not layers_created


def test_keras_files_have_no_auxiliary_classifier(serve, monkeypatch):
    mirror = serve({})
    monkeypatch.setenv(weights.MIRROR_VARIABLE, mirror.url)
    with pytest.raises(ValueError, match="has no auxiliary classifier.*Received: weights='imagenet' with aux_logits"):
        keras_archs.InceptionV3(aux_logits=True, weights="imagenet")
    assert mirror.requests == []


def test_a_custom_model_name_keeps_its_weights(monkeypatch, keras_home):
    """The registry entry comes from the configuration, not from `name=`."""
    entry = _torchvision_entry(_closed_port_url(), b"checkpoint")
    _with_weights(monkeypatch, SMALL, entry)
    converted = keras_archs.get_model(SMALL)
    os.makedirs(keras_home / "keras_archs")
    converted.save_weights(weights.converted_path(SMALL, entry))
    model = keras_archs.SqueezeNet(version="1_1", weights="imagenet", name="my_base")
    assert model.name == "my_base" and _equal_weights(model, converted.get_weights())


def test_weights_tags_select_a_checkpoint():
    assert weights.select("vgg16").source == "keras"
    assert weights.select("vgg16", "torchvision.IMAGENET1K_V1").checkpoint == "VGG16_Weights.IMAGENET1K_V1"
    with pytest.raises(ValueError, match=r"one of \('imagenet', 'keras', 'torchvision.IMAGENET1K_V1'\)"):
        weights.select("vgg16", "timm.tv_in1k")


def test_list_models_pretrained_lists_the_models_with_weights():
    pretrained = keras_archs.list_models(pretrained=True)
    assert {"vgg16", "vgg19_bn", "densenet121", "densenet161", "alexnet", "googlenet", "squeezenet1_0",
            "shufflenet_v2_x2_0"} <= set(pretrained)
    assert "lenet5" not in pretrained and "densenet264" not in pretrained
    assert pretrained == [name for name in keras_archs.list_models() if keras_archs.model_info(name).weights]
    assert keras_archs.list_models("vgg1?", pretrained=True) == ["vgg11", "vgg13", "vgg16", "vgg19"]
    with pytest.raises(TypeError, match="pretrained"):
        keras_archs.list_models(pretrained="yes")


class _Downloaded(Exception):
    """Stops keras.applications at its download: the test needs only what it asks for."""


def _keras_downloads(twin, include_top):
    """What `keras.applications.<twin>(weights="imagenet")` passes to `get_file`: (name, origin, hash, subdir)."""
    calls = []

    def record(fname=None, origin=None, **options):
        calls.append((fname, origin, options.get("file_hash"), options.get("cache_subdir")))
        raise _Downloaded

    # keras' application modules call `file_utils.get_file` through the module attribute.
    from keras.src.utils import file_utils  # noqa: PLC0415

    original = file_utils.get_file
    file_utils.get_file = record
    try:
        getattr(keras.applications, twin)(weights="imagenet", include_top=include_top)
    except _Downloaded:
        pass
    finally:
        file_utils.get_file = original
    assert len(calls) == 1, calls
    return calls[0]


TWINS = [name for name in keras_archs.list_models() if keras_archs.model_info(name).twin]


def test_every_twin_loads_keras_applications_file_by_default():
    """keras.applications twins 20 of its models; each one's "imagenet" is keras' own file."""
    assert len(TWINS) == 20
    for name in TWINS:
        entry = keras_archs.model_info(name).weights[0]
        assert (entry.source, entry.checkpoint) == ("keras", keras_archs.model_info(name).twin), name


@pytest.mark.parametrize("name", TWINS)
def test_keras_files_are_the_ones_keras_applications_downloads(name):
    """Same file name, URL, hash and cache folder as keras.applications, with and without the top,
    as its own constructor asks `get_file` for them (it is stopped before any download)."""
    entry = keras_archs.model_info(name).weights[0]
    for include_top, ours in (
        (True, (entry.file_name, entry.url, entry.file_hash or None, weights.KERAS_SUBDIR)),
        (False, (entry.file_name_no_top, entry.url_no_top, entry.file_hash_no_top or None, weights.KERAS_SUBDIR)),
    ):
        assert ours == _keras_downloads(entry.checkpoint, include_top)


@pytest.mark.parametrize("name", TWINS)
def test_twin_preprocessing_is_keras_applications_own(name):
    """preprocess_input(model=NAME) is what the twin's keras.applications module applies."""
    module = inspect.getmodule(getattr(keras.applications, keras_archs.model_info(name).twin))
    pixels = np.random.default_rng(0).uniform(0, 255, (2, 4, 4, 3)).astype("float32")
    expected = keras.ops.convert_to_numpy(module.preprocess_input(pixels.copy()))
    ours = keras.ops.convert_to_numpy(keras_archs.preprocess_input(pixels.copy(), model=name))
    np.testing.assert_allclose(ours, expected, rtol=1e-6)


def test_a_real_twin_loads_keras_applications_file_format(serve, monkeypatch, tmp_path):
    """keras.applications.DenseNet121's own weights file (random weights, its format) in our twin."""
    reference = keras.applications.DenseNet121(weights=None)
    content = _keras_h5(reference, tmp_path / "densenet121.h5")
    info = keras_archs.model_info("densenet121")
    entry = info.weights[0]
    mirror = serve({f"/{entry.file_name}": content})
    monkeypatch.setenv(weights.MIRROR_VARIABLE, mirror.url)
    _with_weights(monkeypatch, "densenet121", dataclasses.replace(entry, file_hash=_md5(content)), *info.weights[1:])
    ours = keras_archs.DenseNet121(weights="imagenet")
    images = np.random.default_rng(0).uniform(-1, 1, (2, 224, 224, 3)).astype("float32")
    np.testing.assert_allclose(infer(ours, images), infer(reference, images), atol=1e-6)


def _register(name, **options):
    return registry.register_model(
        name, family="x", paper=registry.Paper("t", "a", 2000), input_spec=registry.InputSpec(32, 32),
        preprocessing="torch", preset="modern", **options,
    )


TV_REFERENCE = registry.TorchReference(library="torchvision", constructor="squeezenet1_1", mapping="squeezenet")
TV_ENTRY = PretrainedWeights.from_torchvision(
    "SqueezeNet1_1_Weights.IMAGENET1K_V1", "https://download.pytorch.org/models/squeezenet1_1-b8a52dc0.pth", 58.178
)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"weights": (TV_ENTRY,)}, "torch_reference of library None"),
        ({"weights": (TV_ENTRY, TV_ENTRY), "torch_reference": TV_REFERENCE}, "its own tag"),
        ({"weights": TV_ENTRY, "torch_reference": TV_REFERENCE}, "tuple of PretrainedWeights"),
        ({"weights": (dataclasses.replace(keras_archs.model_info("vgg16").weights[0]),), "twin": "VGG19"},
         "Received: checkpoint='VGG16' with twin='VGG19'"),
    ],
)
def test_weights_entries_that_do_not_fit_the_model_are_refused(options, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        _register("brand_new_net", **options)
    assert "brand_new_net" not in keras_archs.list_models()


def test_converted_weights_need_the_reference_form_by_default():
    """The converted file fits the reference's form, so that form must be the name's default build."""
    reference = dataclasses.replace(TV_REFERENCE, model_kwargs={"version": "1_1"})

    def constructor(version="1_0", **kwargs):
        raise AssertionError("never built")

    decorate = _register("brand_new_net", weights=(TV_ENTRY,), torch_reference=reference)
    with pytest.raises(ValueError, match=r"needs version='1_1'.*Received: version='1_0'"):
        decorate(constructor)
    assert "brand_new_net" not in keras_archs.list_models()


@pytest.mark.parametrize(
    ("changes", "argument"),
    [
        ({"source": "github"}, "source"),
        ({"file_hash": "397923af"}, "file_hash"),  # not the prefix in this file's name
        ({"url": "https://download.pytorch.org/models/squeezenet1_1-b8a52dc0.safetensors"}, "url"),
        ({"checkpoint": "squeezenet1_1"}, "checkpoint"),
        ({"preprocessing": "imagenet"}, "preprocessing"),
        ({"interpolation": "lanczos"}, "interpolation"),
        ({"top1": 580.0}, "top1"),
        ({"mean": (0.5, 0.5)}, "mean"),
    ],
)
def test_malformed_weights_entries_are_refused(changes, argument):
    with pytest.raises(ValueError, match=f"Received: {argument}="):
        dataclasses.replace(TV_ENTRY, **changes)


def test_hub_entries_load_safetensors_only():
    entry = PretrainedWeights(source="timm", checkpoint="vgg16.tv_in1k", license="bsd-3-clause")
    assert (entry.hub_id, entry.filename, entry.tag) == ("timm/vgg16.tv_in1k", "model.safetensors", "timm.tv_in1k")
    with pytest.raises(ValueError, match=r"\.safetensors file \(no pickle\)"):
        dataclasses.replace(entry, filename="pytorch_model.bin")
