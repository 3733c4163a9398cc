"""The model registry: names, constructors and the facts each model is checked against.

Every architecture registers its public constructor under one or more lowercase names
(torchvision/timm spelling where those exist). A name may fix some constructor options
(`defaults`), so one constructor serves several registered variants, for example
`lenet5` and `lenet5_paper`.
"""

import dataclasses
import difflib
import fnmatch
import re
import types
from typing import Any, Callable, Mapping, Optional, Tuple

__all__ = [
    "InputSpec",
    "ModelInfo",
    "Paper",
    "Reference",
    "TorchReference",
    "get_model",
    "list_models",
    "model_info",
    "register_model",
]

TORCH_LIBRARIES = ("torchvision", "timm")
PREPROCESSING_MODES = ("caffe", "tf", "torch", "lenet", "unit", "raw")

# The names of `keras_archs.training.presets.PRESETS`, kept here so that `register_model` can
# refuse a misspelt preset at import time without importing training (imports flow layers <-
# models <- registry <- training); tests/test_presets.py checks that the two lists agree.
PRESET_NAMES = (
    "lenet", "alexnet", "vgg", "googlenet", "inception_v3", "resnet", "resnet_cifar", "wide_resnet_cifar",
    "resnext_cifar", "densenet", "densenet_cifar", "mobilenet", "shufflenet", "modern",
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

    Raises:
        ValueError: for a duplicate or malformed name, an unknown preprocessing mode or an
            unknown preset name.
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

    def decorator(constructor):
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
        )
        return constructor

    return decorator


def list_models(pattern: str = "*"):
    """Sorted registry names matching a shell-style pattern, e.g. `"vgg1*"`."""
    if not isinstance(pattern, str):
        raise TypeError(f"pattern must be a string. Received: pattern={pattern!r}")
    return sorted(name for name in _REGISTRY if fnmatch.fnmatchcase(name, pattern))


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
