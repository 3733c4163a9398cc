"""The model registry: names, constructors and the facts each model is checked against.

Every architecture registers its public constructor under one or more lowercase names
(torchvision/timm spelling where those exist). A name may fix some constructor options
(`defaults`), so one constructor serves several registered variants, for example
`lenet5` and `lenet5_paper`.
"""

import dataclasses
import difflib
import fnmatch
import inspect
import math
import re
import types
from typing import Any, Callable, Mapping, Optional, Tuple

__all__ = [
    "InputSpec",
    "ModelInfo",
    "Paper",
    "PretrainedWeights",
    "Reference",
    "TorchReference",
    "get_model",
    "list_models",
    "model_info",
    "register_model",
    "registered_name",
]

TORCH_LIBRARIES = ("torchvision", "timm")
PREPROCESSING_MODES = ("caffe", "tf", "torch", "lenet", "unit", "raw")
WEIGHT_SOURCES = ("keras", *TORCH_LIBRARIES)
# What a checkpoint's input takes: a registry mode, or "mean_std", `(pixels / 255 - mean) / std`
# with the entry's own mean and std, for a published normalization that is no Keras mode
# (e.g. timm's DPNs).
WEIGHTS_PREPROCESSING = (*PREPROCESSING_MODES, "mean_std")
INTERPOLATIONS = ("bilinear", "bicubic", "nearest")
# torchvision's ImageNet normalization, which is also keras' "torch" preprocessing mode.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# torchvision's code is BSD-3-Clause; its README ("Pre-trained Model License") adds that the
# weights may carry terms of the data they were trained on (ImageNet's are non-commercial).
TORCHVISION_WEIGHTS_URL = "https://download.pytorch.org/models"
# Where keras.applications keeps its weights files (one folder per family), and the license
# keras' documentation states for those ported from tensorflow/models.
KERAS_WEIGHTS_URL = "https://storage.googleapis.com/tensorflow/keras-applications"
TF_MODELS_LICENSE = "Apache-2.0 (tensorflow/models, as keras' documentation states)"
TORCHVISION_LICENSE = "BSD-3-Clause (torchvision); may carry ImageNet's terms (torchvision README)"

# The names of `keras_archs.training.presets.PRESETS`, kept here so that `register_model` can
# refuse a misspelt preset at import time without importing training (imports flow layers <-
# models <- registry <- training); tests/test_presets.py checks that the two lists agree.
PRESET_NAMES = (
    "lenet", "alexnet", "vgg", "googlenet", "inception_v3", "resnet", "resnet_cifar", "wide_resnet_cifar",
    "resnext_cifar", "densenet", "densenet_cifar", "mobilenet", "shufflenet", "modern",
    "nas_proxy",
)


@dataclasses.dataclass(frozen=True)
class Paper:
    """The publication an architecture comes from."""

    title: str
    authors: str
    year: int
    arxiv: Optional[str] = None
    venue: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class InputSpec:
    """What input an architecture takes.

    Attributes:
        default_size: side of the square input the paper used; the input size when
            `include_top=True` and no `input_shape` is given.
        min_size: smallest side for which every stage still has at least one pixel.
        channels: channels of the default input.
        fixed_size_top: whether the head flattens the feature map (AlexNet, VGG, LeNet),
            so that `include_top=True` needs a fixed height and width.
        requirement: why `min_size` and `fixed_size_top` hold, when a family option sets
            them (e.g. "the auxiliary classifiers need a 4x4 grid. Received:
            aux_logits=True"); added to the error a too-small input gets.
    """

    default_size: int
    min_size: int
    channels: int = 3
    fixed_size_top: bool = False
    requirement: str = ""

    @property
    def default_shape(self) -> Tuple[int, int, int]:
        return (self.default_size, self.default_size, self.channels)


# The codes that `Reference` sources abbreviate (shared/REFERENCES.md uses the same ones).
SOURCE_CODES: Mapping[str, str] = types.MappingProxyType({
    "TV": "torchvision's weight metadata (torchvision/models/<file>.py: num_params, _ops = GMACs, acc@1)",
    "KA": "keras.applications, measured with Keras 3.15.1 (the sum of trainable weights)",
    "IMG": "osmr/imgclsmob's model tables and weight-count asserts",
})
_SOURCE_CODE = re.compile(r"\b(" + "|".join(SOURCE_CODES) + r")\b")


@dataclasses.dataclass(frozen=True)
class Reference:
    """Published figures a registered model is checked against.

    Attributes:
        params: trainable parameters (== PyTorch `num_params`), or None where no exact
            published count exists.
        source: where `params` comes from (see shared REFERENCES.md).
        classes: number of classes the reference count was taken with.
        gmacs: multiply-adds in billions at the default input, or None.
        gmacs_source: where `gmacs` comes from.
        top1: reference top-1 accuracy in percent, or None.
        top1_source: where `top1` comes from.
    """

    params: Optional[int] = None
    source: str = ""
    classes: int = 1000
    gmacs: Optional[float] = None
    gmacs_source: str = ""
    top1: Optional[float] = None
    top1_source: str = ""

    @property
    def source_codes(self) -> Mapping[str, str]:
        """The source codes ("TV", "KA", "IMG") this reference's sources use, with their meaning."""
        used = _SOURCE_CODE.findall(" ".join((self.source, self.gmacs_source, self.top1_source)))
        return {code: SOURCE_CODES[code] for code in dict.fromkeys(used)}


@dataclasses.dataclass(frozen=True)
class TorchReference:
    """The PyTorch implementation a registered model computes the same function as.

    `keras_archs.convert` turns the reference's state dict into this model's weights, and
    the parity suite (tests_convert) proves the two give the same logits.

    Attributes:
        library: "torchvision" or "timm".
        constructor: the reference's model name (`torchvision.models.get_model` or
            `timm.create_model`).
        kwargs: keyword arguments of that constructor (besides the weights).
        model_kwargs: options of our constructor that give the reference's form (e.g.
            `variant="v1.5"` for torchvision's ResNet-50 under the keras.applications twin).
        mapping: the module of `keras_archs.convert` that names the reference's tensor for
            each of our layers.
        bn_epsilon: the reference's BatchNorm epsilon (state dicts do not store it); the
            converter folds a difference with ours into the moving variance.
        auxiliary: prefixes of the reference's auxiliary-head tensors (GoogLeNet's
            `aux1.`, Inception-v3's `AuxLogits.`), which its published checkpoints carry:
            converted into our auxiliary heads where the model has them
            (`aux_logits=True`), left out otherwise.
    """

    library: str
    constructor: str
    mapping: str
    kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    model_kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    bn_epsilon: float = 1e-5
    auxiliary: Tuple[str, ...] = ()

    def __post_init__(self):
        if self.library not in TORCH_LIBRARIES:
            raise ValueError(f"library must be one of {TORCH_LIBRARIES}. Received: library={self.library!r}")
        object.__setattr__(self, "kwargs", types.MappingProxyType(dict(self.kwargs)))
        object.__setattr__(self, "model_kwargs", types.MappingProxyType(dict(self.model_kwargs)))

    @property
    def call(self) -> str:
        """How the reference is built, e.g. `torchvision.models.resnet50()`."""
        options = [f"{key}={value!r}" for key, value in self.kwargs.items()]
        if self.library == "timm":
            return f"timm.create_model({', '.join([repr(self.constructor), *options])})"
        return f"torchvision.models.{self.constructor}({', '.join(options)})"


_MD5_OR_SHA256 = re.compile(r"[0-9a-f]{32}|[0-9a-f]{64}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
# torch.hub's rule for the hash in a checkpoint's file name (`HASH_REGEX`): the hex digits
# between the first "-" followed by them and a ".", e.g. "alexnet-owt-7be5be79.pth".
_TORCH_HUB_HASH = re.compile(r"-([a-f0-9]*)\.")


def torch_hub_hash_prefix(filename: str) -> str:
    """The sha256 prefix torch.hub checks for a checkpoint file name ("" if it has none)."""
    match = _TORCH_HUB_HASH.search(filename)
    return match.group(1) if match else ""


def _triple(value, argument):
    if value is None:
        return None
    if not isinstance(value, (tuple, list)) or len(value) != 3 or not all(
        isinstance(item, (int, float)) and not isinstance(item, bool) for item in value
    ):
        raise ValueError(f"{argument} must be None or three numbers (R, G, B). Received: {argument}={value!r}")
    return tuple(float(item) for item in value)


@dataclasses.dataclass(frozen=True)
class PretrainedWeights:
    """One published ImageNet checkpoint a registered model loads.

    `weights="imagenet"` loads the first entry of the model's `weights`; `weights=<tag>`
    (e.g. `"torchvision.IMAGENET1K_V1"`) any of them. keras_archs.weights downloads and
    caches the files.

    Attributes:
        source: "keras" (the keras.applications file itself, loaded as keras.applications
            loads it), "torchvision" (a `.pth` state dict converted by keras_archs.convert;
            needs torch) or "timm" (a safetensors file on the Hugging Face Hub, converted;
            no torch needed).
        checkpoint: the checkpoint's name at its source: the keras.applications
            constructor ("VGG16"), torchvision's weights enum ("VGG16_Weights.IMAGENET1K_V1",
            what `torchvision.models.get_weight` takes) or timm's pretrained name
            ("vgg16.tv_in1k", one of `timm.list_pretrained()`).
        url: where the file is: keras: the file with the classifier; torchvision; timm:
            a `.pth` file outside the Hub (timm's legacy checkpoints on GitHub releases,
            which need torch), else "" for the Hub's safetensors.
        file_hash: keras: the md5 (or sha256) keras.applications passes to `get_file`, or
            "" where it passes none (MobileNet, MobileNetV2); torchvision and timm `.pth`:
            the sha256 prefix in the file name, which torch.hub checks; timm on the Hub:
            the file's sha256, or "" to check the sha256 the Hub publishes for it (the
            ETag of its LFS object).
        url_no_top: keras: the file without the classifier (`include_top=False`).
        file_hash_no_top: keras: its md5 (or sha256), or "" where keras passes none.
        hub_id: timm on the Hub: the Hugging Face repository; default "timm/<checkpoint>".
        filename: the file's local name: keras: the name keras.applications caches it
            under (default: the URL's last part; NASNet's differ); timm on the Hub: the file
            in the repository (safetensors only: no pickle), default "model.safetensors";
            otherwise the URL's last part.
        filename_no_top: keras: the cached name of the file without the classifier.
        license: the license the weights are published under (SPDX identifier where one
            applies, plus the terms the source attaches).
        top1: ImageNet-1k validation top-1 accuracy (%) the source publishes.
        top1_source: where `top1` is published.
        preprocessing: what the model takes with these weights: a registry preprocessing
            mode, or "mean_std" (`(pixels / 255 - mean) / std` with this entry's mean and
            std); `keras_archs.preprocess_input(x, model=NAME)` applies it.
        resize_size: the published evaluation transform resizes the shorter side to this
            (None: the source publishes none).
        crop_size: and then center-crops this square; the input side with the classifier.
        interpolation: the resize's interpolation ("bilinear", "bicubic" or "nearest").
        mean: the published per-channel mean of [0, 1] RGB pixels (None where the source
            publishes a Keras preprocessing mode instead, as keras.applications does).
        std: the matching standard deviation.
        note: anything above that differs from what the source's documentation suggests,
            and why.
    """

    source: str
    checkpoint: str
    url: str = ""
    file_hash: str = ""
    url_no_top: str = ""
    file_hash_no_top: str = ""
    hub_id: str = ""
    filename: str = ""
    filename_no_top: str = ""
    license: str = ""
    top1: Optional[float] = None
    top1_source: str = ""
    preprocessing: str = "torch"
    resize_size: Optional[int] = None
    crop_size: int = 224
    interpolation: str = "bilinear"
    mean: Optional[Tuple[float, float, float]] = None
    std: Optional[Tuple[float, float, float]] = None
    note: str = ""

    def __post_init__(self):
        if self.source not in WEIGHT_SOURCES:
            raise ValueError(f"source must be one of {WEIGHT_SOURCES}. Received: source={self.source!r}")
        if not isinstance(self.checkpoint, str) or not self.checkpoint:
            raise ValueError(f"checkpoint must be a non-empty string. Received: checkpoint={self.checkpoint!r}")
        if self.preprocessing not in WEIGHTS_PREPROCESSING:
            raise ValueError(
                f"preprocessing must be one of {WEIGHTS_PREPROCESSING}. Received: preprocessing={self.preprocessing!r}"
            )
        if self.interpolation not in INTERPOLATIONS:
            raise ValueError(
                f"interpolation must be one of {INTERPOLATIONS}. Received: interpolation={self.interpolation!r}"
            )
        if self.top1 is not None and not (isinstance(self.top1, (int, float)) and 0 < self.top1 <= 100):
            raise ValueError(f"top1 must be None or a percentage in (0, 100]. Received: top1={self.top1!r}")
        object.__setattr__(self, "mean", _triple(self.mean, "mean"))
        object.__setattr__(self, "std", _triple(self.std, "std"))
        if self.preprocessing == "mean_std" and (self.mean is None or self.std is None):
            raise ValueError(
                f"preprocessing='mean_std' normalizes with the entry's mean and std. Received: mean={self.mean!r}, "
                f"std={self.std!r}"
            )
        getattr(self, f"_check_{self.source}")()

    def _check_keras(self):
        for url, file_hash, filename in (
            ("url", "file_hash", "filename"), ("url_no_top", "file_hash_no_top", "filename_no_top")
        ):
            if not getattr(self, url).startswith(("https://", "http://")) or not getattr(self, url).endswith(".h5"):
                raise ValueError(f"A keras entry needs the .h5 file's {url}. Received: {url}={getattr(self, url)!r}")
            if getattr(self, file_hash) and not _MD5_OR_SHA256.fullmatch(getattr(self, file_hash)):
                raise ValueError(
                    f"A keras entry's {file_hash} is the md5 or sha256 keras.applications checks, or \"\" where it "
                    f"checks none. Received: {file_hash}={getattr(self, file_hash)!r}"
                )
            object.__setattr__(self, filename, getattr(self, filename) or getattr(self, url).rsplit("/", 1)[-1])

    def _check_hash_prefixed_url(self):
        """A `.pth` file whose name carries its sha256 prefix, torch.hub's convention."""
        if not self.url.startswith(("https://", "http://")) or not self.url.endswith(".pth"):
            raise ValueError(f"A {self.source} .pth entry needs the file's url. Received: url={self.url!r}")
        object.__setattr__(self, "filename", self.url.rsplit("/", 1)[-1])
        prefix = torch_hub_hash_prefix(self.filename)
        if not prefix or self.file_hash != prefix:
            raise ValueError(
                f"A {self.source} .pth entry's file_hash is the sha256 prefix in its file name "
                f"({prefix!r} in {self.filename!r}). Received: file_hash={self.file_hash!r}"
            )

    def _check_torchvision(self):
        self._check_hash_prefixed_url()
        if "_Weights." not in self.checkpoint:
            raise ValueError(
                "A torchvision entry's checkpoint is its weights enum, e.g. 'VGG16_Weights.IMAGENET1K_V1'. "
                f"Received: checkpoint={self.checkpoint!r}"
            )

    def _check_timm(self):
        if "." not in self.checkpoint:
            raise ValueError(
                "A timm entry's checkpoint is its pretrained name, e.g. 'vgg16.tv_in1k'. "
                f"Received: checkpoint={self.checkpoint!r}"
            )
        if self.url:
            if self.hub_id:
                raise ValueError(
                    f"A timm entry is on the Hub (hub_id) or at a url, not both. Received: hub_id={self.hub_id!r}, "
                    f"url={self.url!r}"
                )
            self._check_hash_prefixed_url()
            return
        object.__setattr__(self, "hub_id", self.hub_id or f"timm/{self.checkpoint}")
        object.__setattr__(self, "filename", self.filename or "model.safetensors")
        if not self.filename.endswith(".safetensors"):
            raise ValueError(
                f"A timm entry loads a .safetensors file (no pickle). Received: filename={self.filename!r}"
            )
        if self.file_hash and not _SHA256.fullmatch(self.file_hash):
            raise ValueError(f"A timm entry's file_hash is a sha256 or \"\". Received: file_hash={self.file_hash!r}")

    @property
    def on_hub(self) -> bool:
        """Whether the file is fetched from the Hugging Face Hub (timm's safetensors)."""
        return self.source == "timm" and not self.url

    @property
    def needs_torch(self) -> bool:
        """Whether converting the file needs torch (a pickled `.pth` state dict)."""
        return self.source in TORCH_LIBRARIES and not self.on_hub

    @classmethod
    def from_torchvision(cls, checkpoint, url, top1, **overrides):
        """A torchvision entry with torchvision's common facts; `overrides` set what differs.

        The common facts: the hash is the prefix in the file name, torchvision's license,
        its ImageNet evaluation transform (resize 256, center crop 224, bilinear, ImageNet
        mean/std: the "torch" preprocessing mode), top-1 from the weights' meta.

        Args:
            checkpoint: the weights enum, e.g. "VGG16_Weights.IMAGENET1K_V1".
            url: the enum's `url`.
            top1: its `meta["_metrics"]["ImageNet-1K"]["acc@1"]`.
            **overrides: other `PretrainedWeights` fields.
        """
        options = {
            "file_hash": torch_hub_hash_prefix(url.rsplit("/", 1)[-1]),
            "license": TORCHVISION_LICENSE,
            "top1_source": f"torchvision 0.29.1 {checkpoint} meta (acc@1)",
            "preprocessing": "torch",
            "resize_size": 256,
            "crop_size": 224,
            "interpolation": "bilinear",
            "mean": IMAGENET_MEAN,
            "std": IMAGENET_STD,
            **overrides,
        }
        return cls(source="torchvision", checkpoint=checkpoint, url=url, top1=top1, **options)

    @classmethod
    def from_torchvision_rows(cls, rows):
        """torchvision entries from `(enum, file name, acc@1, resize side)` rows, in order.

        The files are at torchvision's address, https://download.pytorch.org/models/.
        """
        return tuple(
            cls.from_torchvision(checkpoint, f"{TORCHVISION_WEIGHTS_URL}/{file_name}", top1, resize_size=resize_size)
            for checkpoint, file_name, top1, resize_size in rows
        )

    @classmethod
    def from_keras(cls, checkpoint, url, file_hash, url_no_top, file_hash_no_top, top1, license, preprocessing,
                   **overrides):
        """A keras.applications entry: the two files `keras.applications.<checkpoint>` downloads.

        Args:
            checkpoint: the keras.applications constructor, e.g. "ResNet50" (the twin).
            url: the file with the classifier, as keras passes it to `get_file`.
            file_hash: its hash there ("" where keras passes none).
            url_no_top: the file without the classifier.
            file_hash_no_top: its hash.
            top1: the top-1 keras.io publishes for it.
            license: the weights' license, as keras' documentation states it.
            preprocessing: the mode of the twin module's `preprocess_input`.
            **overrides: other `PretrainedWeights` fields (`filename`, `filename_no_top`
                where keras caches a file under another name than the URL's).
        """
        return cls(
            source="keras", checkpoint=checkpoint, url=url, file_hash=file_hash, url_no_top=url_no_top,
            file_hash_no_top=file_hash_no_top, top1=top1, license=license, preprocessing=preprocessing,
            top1_source=overrides.pop("top1_source", "keras.io/api/applications"), **overrides,
        )

    @classmethod
    def from_timm(cls, checkpoint, top1, *, crop_size, crop_pct, interpolation, mean, std, **overrides):
        """A timm entry from its pretrained configuration (`timm.models.get_pretrained_cfg`).

        The evaluation transform is timm's: the shorter side resized to
        `floor(crop_size / crop_pct)`, then the center `crop_size` crop; the preprocessing
        mode follows the mean and std ("tf" for 0.5, "torch" for ImageNet's, else
        "mean_std"). License: apache-2.0, as timm's configurations state it.

        Args:
            checkpoint: the pretrained name, e.g. "dpn68.mx_in1k".
            top1: its top-1 in timm's results-imagenet.csv at `crop_size`.
            crop_size: the configuration's `input_size` side.
            crop_pct: its `crop_pct`.
            interpolation: its `interpolation`.
            mean: its `mean`.
            std: its `std`.
            **overrides: other `PretrainedWeights` fields (`url` with `file_hash` for a
                checkpoint outside the Hub).
        """
        statistics = tuple(mean) + tuple(std)
        preprocessing = {(0.5,) * 6: "tf", IMAGENET_MEAN + IMAGENET_STD: "torch"}.get(statistics, "mean_std")
        options = {
            "license": "apache-2.0",
            "top1_source": "timm results-imagenet.csv",
            "preprocessing": preprocessing,
            **overrides,
        }
        if options.get("url") and "file_hash" not in options:
            options["file_hash"] = torch_hub_hash_prefix(options["url"].rsplit("/", 1)[-1])
        return cls(
            source="timm", checkpoint=checkpoint, top1=top1, crop_size=crop_size,
            resize_size=math.floor(crop_size / crop_pct), interpolation=interpolation, mean=mean, std=std, **options,
        )

    @property
    def tag(self) -> str:
        """The name that selects this entry: `weights=<tag>` (e.g. "torchvision.IMAGENET1K_V1")."""
        if self.source == "keras":
            return "keras"
        return f"{self.source}.{self.checkpoint.split('.', 1)[1]}"

    @property
    def file_name(self) -> str:
        """The name of the file downloaded (with the classifier, for keras)."""
        return self.filename

    @property
    def file_name_no_top(self) -> str:
        """keras: the name of the file without the classifier."""
        return self.filename_no_top


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    """Everything the registry knows about one registered name.

    Attributes:
        preset: the default training preset (a name in `PRESET_NAMES`): the recipe of the
            paper the model comes from.
        cifar_preset: the preset for CIFAR-10/100 at 32x32 where the paper has a CIFAR
            recipe (for models designed for CIFAR, the same as `preset`); None where it has
            none.
        torch_reference: the torchvision or timm model this one equals, or None.
        weights: the published checkpoints it loads (`weights="imagenet"`: the first);
            empty where there is none.
        preprocessing_when: constructor options that change what the model takes:
            {option: {value: mode}}, e.g. MobileNetV3's `{"include_preprocessing": {False:
            "tf"}}` (without its rescaling layer it takes [-1, 1] inputs);
            `preprocessing_for` applies them.
    """

    name: str
    constructor: Callable[..., Any]
    defaults: Mapping[str, Any]
    family: str
    paper: Paper
    input_spec: InputSpec
    reference: Reference
    preprocessing: str
    preset: str
    cifar_preset: Optional[str] = None
    twin: Optional[str] = None
    torch_reference: Optional[TorchReference] = None
    weights: Tuple[PretrainedWeights, ...] = ()
    preprocessing_when: Mapping[str, Mapping[Any, str]] = dataclasses.field(
        default_factory=lambda: types.MappingProxyType({})
    )

    def preprocessing_for(self, options=None) -> str:
        """The preprocessing mode of this name built with constructor `options` (on top of its defaults)."""
        chosen = {**self.defaults, **(options or {})}
        for option, modes in self.preprocessing_when.items():
            if option in chosen and chosen[option] in modes:
                return modes[chosen[option]]
        return self.preprocessing

    @property
    def input_shape(self) -> Tuple[int, int, int]:
        """Default input shape (height, width, channels)."""
        return self.input_spec.default_shape

    @property
    def constructor_call(self) -> str:
        """How to build this model with the constructor, e.g. `NiN(variant='cifar')`."""
        options = ", ".join(f"{key}={value!r}" for key, value in self.defaults.items())
        return f"{self.constructor.__name__}({options})"

    def build(self, **kwargs):
        """Builds the model, named after the registry entry; `kwargs` override the defaults."""
        return self.constructor(**{"name": self.name, **self.defaults, **kwargs})


_REGISTRY: dict = {}


def register_model(
    name: str,
    *,
    family: str,
    paper: Paper,
    input_spec: InputSpec,
    reference: Reference = Reference(),
    preprocessing: str,
    preset: str,
    cifar_preset: Optional[str] = None,
    defaults: Optional[Mapping[str, Any]] = None,
    twin: Optional[str] = None,
    torch_reference: Optional[TorchReference] = None,
    weights: Optional[Tuple[PretrainedWeights, ...]] = None,
    preprocessing_when: Optional[Mapping[str, Mapping[Any, str]]] = None,
):
    """Registers a public constructor under `name`; use as a decorator (stackable).

    Args:
        name: lowercase registry name.
        family: the family module, e.g. "vgg".
        paper: the publication.
        input_spec: default and minimum input size.
        reference: published figures to check against.
        preprocessing: one of "caffe", "tf", "torch" (as `keras.applications`), "lenet"
            (LeCun 1998 input scaling), "unit" (pixels scaled to [0, 1]) or "raw" (pixels
            in [0, 255]: the model scales them itself, as MobileNetV3 does).
        preset: the default training preset, one of `PRESET_NAMES`: the paper's recipe, or
            "modern" where the paper publishes none (the entry says why).
        cifar_preset: the preset for CIFAR-10/100 where the paper has a CIFAR recipe (for a
            model designed for CIFAR, the same as `preset`), else None.
        defaults: constructor options this name fixes.
        twin: the `keras.applications` constructor this model matches weight for weight.
        torch_reference: the torchvision/timm model this one computes the same function as.
        weights: the published checkpoints the model loads, the default ("imagenet")
            first, or None. A "keras" entry needs `twin` (the file is the twin's); a
            "torchvision"/"timm" entry needs a `torch_reference` of that library whose
            `model_kwargs` this name builds by default (the converted weights fit the
            default build).
        preprocessing_when: `{option: {value: mode}}` for constructor options that change
            the preprocessing (see `ModelInfo.preprocessing_when`).

    Raises:
        ValueError: for a duplicate or malformed name, an unknown preprocessing mode, an
            unknown preset name, or weights entries that do not fit the model.
    """
    if not isinstance(name, str) or not name or name != name.lower() or " " in name:
        raise ValueError(f"Registry names are non-empty lowercase strings. Received: name={name!r}")
    if name in _REGISTRY:
        raise ValueError(f"A model is already registered under this name. Received: name={name!r}")
    if preprocessing not in PREPROCESSING_MODES:
        raise ValueError(
            f"preprocessing must be one of {PREPROCESSING_MODES}. Received: preprocessing={preprocessing!r}"
        )
    if preset not in PRESET_NAMES:
        raise ValueError(f"preset must be one of {PRESET_NAMES}. Received: preset={preset!r}")
    if cifar_preset is not None and cifar_preset not in PRESET_NAMES:
        raise ValueError(
            f"cifar_preset must be one of {PRESET_NAMES} or None. Received: cifar_preset={cifar_preset!r}"
        )
    frozen_defaults = types.MappingProxyType(dict(defaults or {}))
    entries = _check_weight_entries(weights, twin, torch_reference)
    conditional_modes = types.MappingProxyType({
        option: types.MappingProxyType(dict(modes)) for option, modes in (preprocessing_when or {}).items()
    })
    for option, modes in conditional_modes.items():
        unknown = [mode for mode in modes.values() if mode not in PREPROCESSING_MODES]
        if unknown:
            raise ValueError(
                f"preprocessing_when modes must be in {PREPROCESSING_MODES}. Received: preprocessing_when="
                f"{{{option!r}: {dict(modes)!r}}}"
            )

    def decorator(constructor):
        _check_converted_form(name, entries, torch_reference, frozen_defaults, constructor)
        _REGISTRY[name] = ModelInfo(
            name=name,
            constructor=constructor,
            defaults=frozen_defaults,
            family=family,
            paper=paper,
            input_spec=input_spec,
            reference=reference,
            preprocessing=preprocessing,
            preset=preset,
            cifar_preset=cifar_preset,
            twin=twin,
            torch_reference=torch_reference,
            weights=entries,
            preprocessing_when=conditional_modes,
        )
        return constructor

    return decorator


def _check_weight_entries(weights, twin, torch_reference):
    """`weights` as a tuple of entries, each checked against the model's twin and reference."""
    if weights is None:
        return ()
    if not isinstance(weights, (tuple, list)) or not weights or not all(
        isinstance(entry, PretrainedWeights) for entry in weights
    ):
        raise ValueError(
            f"weights must be None or a non-empty tuple of PretrainedWeights. Received: weights={weights!r}"
        )
    tags = [entry.tag for entry in weights]
    if len(set(tags)) != len(tags):
        raise ValueError(f"Each weights entry needs its own tag. Received: weights with tags {tags}")
    for entry in weights:
        if entry.source == "keras" and entry.checkpoint != twin:
            raise ValueError(
                "A keras weights entry is the file of the model's keras.applications twin. "
                f"Received: checkpoint={entry.checkpoint!r} with twin={twin!r}"
            )
        if entry.source in TORCH_LIBRARIES and (torch_reference is None or torch_reference.library != entry.source):
            library = torch_reference.library if torch_reference else None
            raise ValueError(
                f"A {entry.source} weights entry is converted through the model's {entry.source} torch_reference. "
                f"Received: checkpoint={entry.checkpoint!r} with a torch_reference of library {library!r}"
            )
    return tuple(weights)


def _check_converted_form(name, entries, torch_reference, defaults, constructor):
    """Refuses converted weights for a name whose default build is not the reference's form."""
    if torch_reference is None or not any(entry.source in TORCH_LIBRARIES for entry in entries):
        return
    parameters = inspect.signature(constructor).parameters
    for option, value in torch_reference.model_kwargs.items():
        default = defaults.get(option, parameters[option].default if option in parameters else inspect.Parameter.empty)
        if default != value:
            raise ValueError(
                f"Converted weights load into {name!r} as it builds by default, but the reference's form needs "
                f"{option}={value!r} (register them under a name whose defaults set it). "
                f"Received: {option}={default!r} for {name!r}"
            )


def list_models(
    pattern: str = "*",
    *,
    family: Optional[str] = None,
    twin: Optional[bool] = None,
    pretrained: Optional[bool] = None,
    has_reference: Optional[bool] = None,
):
    """Sorted registry names matching a shell-style pattern and the given facts; builds nothing.

    Args:
        pattern: shell-style pattern (`fnmatch`), e.g. `"vgg1*"`.
        family: only this family (`model_info(name).family`, e.g. "resnet").
        twin: True: only the keras.applications twins; False: only the others.
        pretrained: True: only the models with published weights
            (`model_info(name).weights`); False: only those without.
        has_reference: True: only the models with a torchvision/timm reference
            (`model_info(name).torch_reference`); False: only those without.
        None (the default of each filter) does not filter.

    Raises:
        TypeError: for a pattern or family that is not a string, or a filter that is not
            True, False or None.
    """
    if not isinstance(pattern, str):
        raise TypeError(f"pattern must be a string. Received: pattern={pattern!r}")
    if family is not None and not isinstance(family, str):
        raise TypeError(f"family must be a string or None. Received: family={family!r}")
    filters = {"twin": twin, "pretrained": pretrained, "has_reference": has_reference}
    for argument, value in filters.items():
        if value is not None and not isinstance(value, bool):
            raise TypeError(f"{argument} must be True, False or None. Received: {argument}={value!r}")
    facts = {
        "twin": lambda info: info.twin is not None,
        "pretrained": lambda info: bool(info.weights),
        "has_reference": lambda info: info.torch_reference is not None,
    }
    return sorted(
        name
        for name, info in _REGISTRY.items()
        if fnmatch.fnmatchcase(name, pattern)
        and (family is None or info.family == family)
        and all(value is None or facts[argument](info) == value for argument, value in filters.items())
    )


def registered_name(constructor, form):
    """The registry name whose default build of `constructor` has the options `form`.

    What `weights="imagenet"` looks its checkpoints up under: a constructor serves several
    names (`ResNet50` builds "resnet50" with `variant="v1"` and "tv_resnet50" with
    `variant="v1.5"`), and each name's weights fit its own form.

    Args:
        constructor: a registered public constructor.
        form: the options of this build that change its weights, e.g.
            `{"variant": "v1.5", "se_ratio": 0.0}`.

    Raises:
        ValueError: when no registered name builds that form; the message lists the ones
            that do.
    """
    parameters = inspect.signature(constructor).parameters
    forms = {}
    for name, info in _REGISTRY.items():
        if info.constructor is constructor:
            forms[name] = {option: info.defaults.get(option, parameters[option].default) for option in form}
            if forms[name] == dict(form):
                return name
    described = "; ".join(
        f"{name}: {', '.join(f'{option}={value!r}' for option, value in options.items())}"
        for name, options in forms.items()
    )
    received = ", ".join(f"{option}={value!r}" for option, value in form.items())
    raise ValueError(
        f"Pretrained weights are published for the registered forms of {constructor.__name__} ({described}), "
        f"and this build is none of them. Received: {received}"
    )


def _normalized(text):
    """`text` lowercased without separators: "ResNet-50", "resnet_50" and "resnet.50" -> "resnet50"."""
    return re.sub(r"[\s._-]", "", text.lower())


def _hint(name):
    """What an unregistered `name` probably meant, as a sentence for the error ("" if nothing).

    First the names that are `name` up to case and separators ("ResNet-50" -> "resnet50";
    the constructor's name counts where the entry fixes no options: "ResNeXt50" ->
    "resnext50_32x4d"), then the names containing it ("resnet" -> the resnet*), then close
    spellings ("resnt50" -> "resnet50"). Close spellings must begin with the numbers of
    `name`, so that "resnet9000" is not offered "resnet50".
    """
    spellings = {}
    for registered, info in _REGISTRY.items():
        spellings.setdefault(_normalized(registered), set()).add(registered)
        if not info.defaults:
            spellings.setdefault(_normalized(info.constructor.__name__), set()).add(registered)
    query = _normalized(name)
    if query in spellings:
        meant = sorted(spellings[query])
    else:
        containing = sorted(registered for registered in _REGISTRY if query and query in _normalized(registered))
        if containing:
            return f" Similar names: {', '.join(containing[:8])}."
        numbers = re.findall(r"\d+", query)
        comparable = [key for key in spellings if re.findall(r"\d+", key)[: len(numbers)] == numbers]
        close = difflib.get_close_matches(query, comparable, n=3, cutoff=0.8)
        # Best match first, as difflib ranks them.
        meant = list(dict.fromkeys(registered for key in close for registered in sorted(spellings[key])))
    return f" Did you mean {' or '.join(repr(option) for option in meant)}?" if meant else ""


def model_info(name: str) -> ModelInfo:
    """The registry entry for `name`: paper, input size, reference figures, preprocessing.

    Raises:
        ValueError: for an unregistered name, with the registered names it probably meant
            ("Did you mean 'resnet50'?" for "ResNet-50"), or the names containing it.
    """
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        hint = _hint(name) if isinstance(name, str) else ""
        raise ValueError(
            f"No model is registered under this name; see keras_archs.list_models().{hint} "
            f"Received: name={name!r}"
        ) from None


def get_model(name: str, /, **kwargs):
    """Builds the registered model `name`; keyword arguments go to its constructor.

    `name` is positional-only so that the constructor's own `name=` (the Keras model
    name, by default the registry name) can be passed through.

    Example:
        `keras_archs.get_model("vgg16_bn", classes=10, input_shape=(64, 64, 3))`
    """
    return model_info(name).build(**kwargs)
