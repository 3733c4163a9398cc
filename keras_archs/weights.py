"""Pretrained ImageNet weights: the files behind `weights="imagenet"`.

Each registered model lists its published checkpoints in `model_info(name).weights`
(`keras_archs.registry.PretrainedWeights`); `weights="imagenet"` loads the first, and
`weights=<tag>` (e.g. "torchvision.IMAGENET1K_V1") any of them. By source:

- "keras": the keras.applications file of the twin, downloaded from the same URL and
  checked against the same hash through `keras.utils.get_file` into the same cache
  (`$KERAS_HOME/models`, by default ~/.keras/models), so that a keras.applications user
  downloads nothing twice; loaded as keras.applications loads it.
- "torchvision": the `.pth` state dict, taken from torch.hub's cache where torchvision left
  it, or downloaded through `keras.utils.get_file` into `$KERAS_HOME/keras_archs`; checked
  against the sha256 prefix in its file name (as torch.hub checks it), read with
  `torch.load(weights_only=True)` and converted by `keras_archs.convert`. Needs torch.
- "timm": the safetensors file on the Hugging Face Hub, through
  `huggingface_hub.hf_hub_download` (the Hub cache, shared with timm), checked against its
  sha256 and converted. Needs huggingface_hub and safetensors, not torch. timm's legacy
  checkpoints (SE-Nets, Xception), which are not on the Hub, are `.pth` files on GitHub
  releases, fetched and checked as torchvision's are (torch.hub's cache first).

A converted checkpoint is written once, atomically, as `$KERAS_HOME/keras_archs/
<name>.<tag>.weights.h5` (`.aux.weights.h5` with auxiliary classifiers, since Keras matches
a weights file to a model by the order of its layers); later builds load that file and need
neither network nor torch.

Without network: set `KERAS_ARCHS_WEIGHTS_MIRROR` to a server that has the files (each
file at `<mirror>/<file name>`; Hub files from the Hub-compatible endpoint `<mirror>`), or
put the file where the error message says.

Nothing loaded executes code: keras' `.h5` files are read by h5py, `.pth` files with
`torch.load(weights_only=True)`, safetensors with safetensors.numpy, and every download is
checked against its published hash before it is used.
"""

import hashlib
import importlib.util
import os
import re

import keras

from keras_archs.registry import PretrainedWeights, list_models, model_info

__all__ = [
    "MIRROR_VARIABLE",
    "cache_dir",
    "check_arguments",
    "check_requirements",
    "convert_checkpoint",
    "converted_path",
    "keras_home",
    "select",
    "weights_file",
]

MIRROR_VARIABLE = "KERAS_ARCHS_WEIGHTS_MIRROR"
# keras.applications' `cache_subdir`: the twins' files are shared with it.
KERAS_SUBDIR = "models"
# Our own files (torchvision checkpoints while they are converted, converted weights).
CONVERTED_SUBDIR = "keras_archs"
INSTALL_CONVERT = 'pip install "keras-archs[convert]"'
INSTALL_HUB = "pip install huggingface_hub safetensors"
HUB_ENDPOINT = "https://huggingface.co"
_SHA256 = re.compile(r"[0-9a-f]{64}")


def keras_home():
    """The Keras cache folder: `$KERAS_HOME`, else ~/.keras (/tmp/.keras if ~ is read-only).

    Keras reads KERAS_HOME once, when it is imported; reading it at each call gives the same
    folder to every process that sets it before starting, and lets a caller (a test) move
    the cache afterwards.
    """
    home = os.environ.get("KERAS_HOME")
    if home:
        return home
    base = os.path.expanduser("~")
    if not os.access(base, os.W_OK):
        base = "/tmp"
    return os.path.join(base, ".keras")


def cache_dir():
    """Where converted weights (and torchvision checkpoints, until converted) are kept."""
    return os.path.join(keras_home(), CONVERTED_SUBDIR)


def select(name, weights="imagenet") -> PretrainedWeights:
    """The checkpoint of registered model `name` that `weights` names.

    Args:
        name: a registry name.
        weights: "imagenet" (the model's default checkpoint) or an entry's tag, e.g.
            "keras" or "torchvision.IMAGENET1K_V1".

    Raises:
        ValueError: for a model without published weights, or a tag it does not have.
    """
    if name not in list_models():
        raise ValueError(
            f"Pretrained weights are found under the model's registry name, and {name!r} is not one: this "
            "configuration has no registered form, or a name= given to its constructor hid it (build it "
            f"without name= and rename it afterwards). Received: weights={weights!r}"
        )
    info = model_info(name)
    if not info.weights:
        raise ValueError(
            f"No pretrained weights are published for {name!r} (keras_archs.list_models(pretrained=True) "
            "lists the models that have them); pass weights=None or the path of a .weights.h5 or .keras "
            f"file. Received: weights={weights!r}"
        )
    if weights == "imagenet":
        return info.weights[0]
    for entry in info.weights:
        if entry.tag == weights:
            return entry
    tags = ("imagenet", *(entry.tag for entry in info.weights))
    raise ValueError(
        f"weights must be None, one of {tags} for {name!r}, or the path of a weights file. "
        f"Received: weights={weights!r}"
    )


def check_arguments(entry, *, include_top, classes, classifier_activation, shape, default_shape):
    """keras.applications' rules for pretrained weights, before any layer is built.

    Args:
        entry: the `PretrainedWeights` to load.
        include_top: whether the model has its classifier.
        classes: the classifier's classes.
        classifier_activation: the classifier's activation.
        shape: the (height, width, channels) the model is built for.
        default_shape: the architecture's default input shape.

    Raises:
        ValueError: with the classifier, for other than 1000 classes, an activation other
            than softmax or None, or an input other than the default; for other than 3
            channels.
    """
    if shape[-1] != 3:
        raise ValueError(
            f"Pretrained weights ({entry.tag}) take RGB images: the input must have 3 channels. "
            f"Received: input_shape={tuple(shape)!r}"
        )
    if not include_top:
        return
    if classes != 1000:
        raise ValueError(
            "With pretrained weights and include_top=True, classes must be 1000 (the ImageNet classes); "
            f"for other classes use include_top=False and a new head. Received: classes={classes!r}"
        )
    if classifier_activation is not None and keras.activations.get(classifier_activation) is not (
        keras.activations.get("softmax")
    ):
        raise ValueError(
            "With pretrained weights and include_top=True, classifier_activation must be 'softmax' or None. "
            f"Received: classifier_activation={classifier_activation!r}"
        )
    expected = (default_shape[0], default_shape[1], 3)
    if tuple(shape) != expected:
        raise ValueError(
            f"With pretrained weights and include_top=True, the input shape must be {expected}; for other "
            f"sizes use include_top=False. Received: input_shape={tuple(shape)!r}"
        )


def converted_path(name, entry, auxiliary=False):
    """Where the converted weights of `entry` for model `name` are cached.

    Args:
        name: a registry name.
        entry: one of its `PretrainedWeights`.
        auxiliary: for a model built with its auxiliary classifiers (`aux_logits=True`).
    """
    return os.path.join(cache_dir(), f"{name}.{entry.tag}{'.aux' if auxiliary else ''}.weights.h5")


def _installed(package):
    """Whether `package` can be imported (without importing it: torch takes seconds)."""
    return importlib.util.find_spec(package) is not None


def check_requirements(name, entry, auxiliary=False):
    """Raises ImportError, before any download, when `entry` needs a package that is missing.

    Nothing is needed for keras files, or once the conversion is cached.
    """
    if entry.source == "keras" or os.path.isfile(converted_path(name, entry, auxiliary)):
        return
    if entry.needs_torch:
        if not _installed("torch"):
            raise ImportError(
                f"{entry.checkpoint} is a PyTorch file; converting it for {name!r} needs torch: {INSTALL_CONVERT}"
            )
        return
    missing = [package for package in ("huggingface_hub", "safetensors") if not _installed(package)]
    if missing:
        raise ImportError(
            f"{entry.checkpoint} is on the Hugging Face Hub; fetching it for {name!r} needs "
            f"{' and '.join(missing)}: {INSTALL_HUB}"
        )


def weights_file(name, weights="imagenet", include_top=True, auxiliary=False):
    """A local file of `name`'s pretrained weights, downloaded (and converted) if needed.

    Args:
        name: a registry name.
        weights: "imagenet" or a checkpoint tag (see `select`).
        include_top: keras files only: the file with (True) or without the classifier.
            A converted file serves both (the classifier's layers come last).
        auxiliary: converted weights for a model built with its auxiliary classifiers.

    Returns:
        The path for `model.load_weights`.

    Raises:
        ValueError: for a bad `name`/`weights`, or a download whose hash is not the
            published one (the file is deleted).
        ImportError: when the conversion needs a package that is missing (before any
            download).
        OSError: when the file cannot be downloaded; the message says which file to put where.
    """
    entry = select(name, weights)
    if entry.source == "keras":
        if auxiliary:
            raise ValueError(
                f"keras.applications' {entry.checkpoint} file has no auxiliary classifier: build {name!r} with "
                f"aux_logits=False, or load a converted checkpoint that has one. Received: weights={weights!r} "
                "with aux_logits=True"
            )
        if include_top:
            return _download(entry.file_name, entry.url, KERAS_SUBDIR, entry.file_hash)
        return _download(entry.file_name_no_top, entry.url_no_top, KERAS_SUBDIR, entry.file_hash_no_top)
    target = converted_path(name, entry, auxiliary)
    if os.path.isfile(target):
        return target
    check_requirements(name, entry, auxiliary)
    if entry.on_hub:
        checkpoint, ours = _hub_checkpoint(entry, target)
    else:
        checkpoint, ours = _url_checkpoint(entry, target)
    # A checkpoint with auxiliary classifiers (GoogLeNet's) is converted into both forms at
    # once, so that it is downloaded once.
    forms = (False, True) if model_info(name).torch_reference.auxiliary else (auxiliary,)
    for form in forms:
        if not os.path.isfile(converted_path(name, entry, form)):
            convert_checkpoint(name, checkpoint, converted_path(name, entry, form), weights=entry.tag, auxiliary=form)
    if ours:
        # Only the converted file is loaded from now on; keeping the checkpoint too would
        # double the disk the weights take. Files of torch.hub's or the Hub's caches stay.
        os.remove(checkpoint)
    return target


def convert_checkpoint(name, checkpoint, output, weights="imagenet", auxiliary=False):
    """Converts a torchvision/timm checkpoint of `name` into a Keras `.weights.h5` file.

    What `weights_file` does after the download; call it yourself on a machine without
    network, with the checkpoint copied over, and put `output` where `converted_path`
    says (or load it with `weights=output`).

    Args:
        name: a registry name.
        checkpoint: the checkpoint file (.pth needs torch; .safetensors does not).
        output: the `.weights.h5` file to write (atomically).
        weights: which of `name`'s checkpoints this is ("imagenet" or a tag).
        auxiliary: convert the auxiliary classifiers too, for a model built with them
            (`aux_logits=True`); Keras matches a weights file to a model by the order of
            its layers, so each form needs its own file.

    Returns:
        `output`.
    """
    entry = select(name, weights)
    if entry.source == "keras":
        raise ValueError(
            f"{entry.checkpoint}'s keras file loads as it is, without conversion. Received: weights={weights!r}"
        )
    # keras_archs.convert builds models and reads the registry's full list of references when
    # it is imported, so it is imported when a conversion runs, after every model registered.
    from keras_archs import convert  # noqa: PLC0415

    options = {"aux_logits": True} if auxiliary else {}
    return convert.convert_file(name, checkpoint, output, **options)


def _mirrored(url, file_name):
    mirror = os.environ.get(MIRROR_VARIABLE)
    return f"{mirror.rstrip('/')}/{file_name}" if mirror else url


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _offline_error(file_name, origin, destination, reason, converted=None, file_hash=""):
    checked = f" (hash {file_hash})" if file_hash else ""
    alternative = f", or its conversion (keras_archs.weights.convert_checkpoint) at {converted}" if converted else ""
    return OSError(
        f"Could not download {file_name} from {origin} ({reason}). Without network, copy {file_name}{checked} "
        f"to {destination}{alternative}; or set {MIRROR_VARIABLE} to a server that has it."
    )


def _download(file_name, url, subdir, file_hash, converted=None):
    """`keras.utils.get_file` into `$KERAS_HOME/<subdir>/<file_name>`; a bad hash leaves nothing."""
    home = keras_home()
    # get_file falls back to /tmp/.keras when the folder is missing or read-only: make it, so
    # that the file lands where keras.applications (and the error message) look for it.
    os.makedirs(os.path.join(home, subdir), exist_ok=True)
    destination = os.path.join(home, subdir, file_name)
    origin = _mirrored(url, file_name)
    try:
        return keras.utils.get_file(file_name, origin, cache_subdir=subdir, file_hash=file_hash or None, cache_dir=home)
    except ValueError:
        # get_file's only ValueError here is its hash check, which leaves the bad file behind.
        if os.path.exists(destination):
            os.remove(destination)
        raise ValueError(
            f"The file downloaded from {origin} is not the published {file_name}: its hash is not {file_hash}. "
            "It was deleted; nothing was cached."
        ) from None
    except Exception as error:  # get_file turns every URL failure into a plain Exception
        reason = " ".join(str(error).split())[:300]
        raise _offline_error(file_name, origin, destination, reason, converted, file_hash) from None


def _torch_hub_checkpoint(file_name):
    """torch.hub's cached copy of `file_name` (where torchvision downloads it), or None."""
    if not _installed("torch"):
        return None
    import torch.hub  # noqa: PLC0415 - optional; only here when torch is installed

    path = os.path.join(torch.hub.get_dir(), "checkpoints", file_name)
    return path if os.path.isfile(path) else None


def _url_checkpoint(entry, converted):
    """`(path, ours)`: the checked `.pth` file, and whether it is in our cache (to delete)."""
    hub_copy = _torch_hub_checkpoint(entry.file_name)
    if hub_copy and _sha256(hub_copy).startswith(entry.file_hash):
        return hub_copy, False
    destination = os.path.join(cache_dir(), entry.file_name)
    if os.path.isfile(destination) and not _sha256(destination).startswith(entry.file_hash):
        # get_file keeps any file already there: an interrupted download must be fetched again.
        os.remove(destination)
    path = _download(entry.file_name, entry.url, CONVERTED_SUBDIR, None, converted=converted)
    if not _sha256(path).startswith(entry.file_hash):
        os.remove(path)
        raise ValueError(
            f"The file downloaded from {_mirrored(entry.url, entry.file_name)} is not the published "
            f"{entry.file_name}: its sha256 does not start with {entry.file_hash}. It was deleted; nothing was cached."
        )
    return path, True


def _hub_drop_path(entry):
    """Where a Hub checkpoint copied by hand is looked for (e.g. `timm--vgg16.tv_in1k.safetensors`)."""
    stem, extension = os.path.splitext(entry.filename.replace("/", "--"))
    return os.path.join(cache_dir(), f"{entry.hub_id.replace('/', '--')}--{stem}{extension}")


def _remove_hub_file(path):
    """Removes a Hub cache file: the snapshot link and the blob it points to."""
    blob = os.path.realpath(path)
    for item in {path, blob}:
        if os.path.lexists(item):
            os.remove(item)


def _hub_checkpoint(entry, converted):
    """`(path, ours)`: the checked safetensors file, and whether it is in our cache (to delete)."""
    dropped = _hub_drop_path(entry)
    if os.path.isfile(dropped):
        if entry.file_hash and _sha256(dropped) != entry.file_hash:
            os.remove(dropped)
            raise ValueError(
                f"{dropped} is not the published {entry.hub_id}/{entry.filename}: its sha256 is not "
                f"{entry.file_hash}. It was deleted."
            )
        return dropped, True
    from huggingface_hub import hf_hub_download  # noqa: PLC0415 - optional; checked by check_requirements

    endpoint = os.environ.get(MIRROR_VARIABLE) or None
    origin = f"{(endpoint or HUB_ENDPOINT).rstrip('/')}/{entry.hub_id}/resolve/main/{entry.filename}"
    try:
        path = hf_hub_download(entry.hub_id, entry.filename, endpoint=endpoint)
    except Exception as error:  # no network, no such repository, a server that is not a Hub
        reason = f"{type(error).__name__}: {' '.join(str(error).split())[:300]}"
        raise _offline_error(entry.filename, origin, dropped, reason, converted, entry.file_hash) from None
    # The Hub names an LFS file's blob after its sha256 (its ETag).
    expected = entry.file_hash or os.path.basename(os.path.realpath(path))
    if not _SHA256.fullmatch(expected) or _sha256(path) != expected:
        _remove_hub_file(path)
        raise ValueError(
            f"The file downloaded from {origin} is not the published {entry.hub_id}/{entry.filename}: its sha256 "
            f"is not {expected!r}. It was deleted; nothing was cached."
        )
    return path, False
