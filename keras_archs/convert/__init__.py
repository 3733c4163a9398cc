"""PyTorch reference checkpoints (torchvision, timm) as weights of our models.

`REFERENCES` lists every registered model that computes the same function as a torchvision
or timm model (the registry's `torch_reference`; the parity suite in tests_convert proves
each one). `from_state_dict` builds our model in the reference's form and moves the
reference's tensors into it; `read_state_dict` reads them from a safetensors file (no
pickle) or, with torch installed, a `.pth` file through `torch.load(weights_only=True)`.

    from keras_archs import convert
    model = convert.from_state_dict("tv_resnet50", convert.read_state_dict("resnet50.safetensors"))

Each family module here (`resnet`, `vgg`, ...) has `layer_map(model, reference)`: which
reference tensor prefix each of our weighted layers takes.
"""

import importlib
import os
import types
from typing import Mapping

import numpy as np

from keras_archs.convert.core import transfer
from keras_archs.fileio import atomic_write
from keras_archs.registry import TorchReference, _REGISTRY, model_info

__all__ = [
    "REFERENCES",
    "TorchReference",
    "WITHOUT_REFERENCE",
    "convert_file",
    "from_state_dict",
    "layer_map",
    "read_state_dict",
    "reference_for",
]

REFERENCES: Mapping[str, TorchReference] = types.MappingProxyType(
    {name: info.torch_reference for name, info in sorted(_REGISTRY.items()) if info.torch_reference is not None}
)

_CIFAR = "a CIFAR model; torchvision and timm have none"
_TWIN = "the keras.applications twin keeps TensorFlow's conventions; the reference's form is {}"
# Why each registered model without a PyTorch reference has none (tests check that every
# registered model is in REFERENCES or here).
WITHOUT_REFERENCE: Mapping[str, str] = types.MappingProxyType({
    "alexnet_paper": "the paper's two-tower form with LRN; torchvision's alexnet is the one-tower form (alexnet)",
    "amoebanet_a": "torchvision and timm have no AmoebaNet",
    "bn_inception": "torchvision and timm have no BN-Inception (only Cadene's pretrainedmodels)",
    "densenet264": "torchvision has none; timm's densenet264d has a deep stem",
    "densenet_bc100_k12": _CIFAR,
    "densenet_bc190_k40": _CIFAR,
    "highway19": "no PyTorch library implements Highway Networks",
    "highway32": "no PyTorch library implements Highway Networks",
    "inception_resnet_v1": "torchvision and timm have no Inception-ResNet-v1",
    "inception_resnet_v2": _TWIN.format("timm_inception_resnet_v2"),
    "inception_v3": _TWIN.format("tv_inception_v3"),
    "lenet5": "no PyTorch library implements LeNet-5",
    "lenet5_paper": "no PyTorch library implements LeNet-5",
    "mobilenet": _TWIN.format("timm_mobilenet"),
    "mobilenet_v2": _TWIN.format("tv_mobilenet_v2"),
    "nasnet_large": _TWIN.format("timm_nasnet_large"),
    "nasnet_mobile": "torchvision and timm have no NASNet-A Mobile (timm has only the Large one)",
    "nin_cifar10": _CIFAR,
    "nin_cifar100": _CIFAR,
    "nin_imagenet": "torchvision and timm have no Network-in-Network",
    "preact_resnet1001": _CIFAR,
    "preact_resnet164": _CIFAR,
    "resnet50": _TWIN.format("tv_resnet50"),
    "resnet101": _TWIN.format("tv_resnet101"),
    "resnet152": _TWIN.format("tv_resnet152"),
    "resnet101_v2": "timm's resnetv2_101 strides in the first unit of a stage and has no convolution biases",
    "resnet110": _CIFAR,
    "resnet1202": _CIFAR,
    "resnet20": _CIFAR,
    "resnet32": _CIFAR,
    "resnet44": _CIFAR,
    "resnet50_v2": "timm's resnetv2_50 strides in the first unit of a stage and has no convolution biases",
    "resnet152_v2": "timm's resnetv2_152 strides in the first unit of a stage and has no convolution biases",
    "resnet56": _CIFAR,
    "resnext29_16x64d": _CIFAR,
    "resnext29_8x64d": _CIFAR,
    "ror3_resnet110": _CIFAR,
    "ror3_wrn58_4": _CIFAR,
    "shufflenet_g3_w1": "ShuffleNet v1 is in neither torchvision nor timm",
    "shufflenet_g8_w1": "ShuffleNet v1 is in neither torchvision nor timm",
    "wide_resnet28_10": _CIFAR,
    "xception": _TWIN.format("timm_xception"),
})

_SAFETENSORS_SUFFIXES = (".safetensors",)
_TORCH_SUFFIXES = (".pth", ".pt", ".bin")


def reference_for(name) -> TorchReference:
    """The `TorchReference` of registered model `name`.

    Raises:
        ValueError: for an unregistered name or a model without a PyTorch reference.
    """
    info = model_info(name)
    if info.torch_reference is None:
        reason = WITHOUT_REFERENCE.get(name, "none is registered")
        raise ValueError(
            f"Model {name!r} has no PyTorch reference to convert from ({reason}); the models that have one are "
            f"keras_archs.convert.REFERENCES. Received: name={name!r}"
        )
    return info.torch_reference


def layer_map(model, reference: TorchReference):
    """`{layer name: reference prefix}` for `model` built in `reference`'s form."""
    module = importlib.import_module(f"keras_archs.convert.{reference.mapping}")
    return module.layer_map(model, reference)


def from_state_dict(name, state_dict, **model_kwargs):
    """Builds registered model `name` in its reference's form with the reference's weights.

    Args:
        name: a name in `REFERENCES`.
        state_dict: the reference's parameter and buffer names mapped to arrays (numpy, or
            anything `np.asarray` takes).
        **model_kwargs: constructor options (`include_top`, `pooling`, `input_shape`,
            `classifier_activation`, `aux_logits`, ...) on top of the reference's form.
            With `include_top=False` the reference's classifier tensors are left unused;
            auxiliary-head tensors (`reference.auxiliary`) are used only by a model built
            with its auxiliary heads.

    Returns:
        The `keras.Model`.

    Raises:
        ValueError: for a model without a reference, or a state dict that does not fit
            it (the layer, tensor and shapes are named).
    """
    reference = reference_for(name)
    if not isinstance(state_dict, Mapping):
        raise TypeError(
            f"state_dict must map tensor names to arrays. Received: state_dict of type {type(state_dict).__name__}"
        )
    model = model_info(name).build(**{**reference.model_kwargs, **model_kwargs})
    return transfer(
        model,
        layer_map(model, reference),
        state_dict,
        reference_epsilon=reference.bn_epsilon,
        strict=model_kwargs.get("include_top", True),
        optional=reference.auxiliary,
    )


def convert_file(name, checkpoint, output, **model_kwargs):
    """Converts the reference checkpoint file of `name` into a Keras `.weights.h5` file.

    Args:
        name: a name in `REFERENCES`.
        checkpoint: the state dict file (`read_state_dict`).
        output: the `.weights.h5` file, written through a temp path and renamed.
        **model_kwargs: as for `from_state_dict` (e.g. `aux_logits=True`).

    Returns:
        `output`.
    """
    model = from_state_dict(name, read_state_dict(checkpoint), **model_kwargs)
    return atomic_write(output, model.save_weights, suffix=".weights.h5")


def _unwrap(checkpoint):
    """The state dict inside a training checkpoint (`{"state_dict": ...}` or `{"model": ...}`)."""
    for key in ("state_dict", "model", "model_state_dict"):
        if isinstance(checkpoint, Mapping) and isinstance(checkpoint.get(key), Mapping):
            return checkpoint[key]
    return checkpoint


def _read_torch(path):
    try:
        import torch  # noqa: PLC0415 - optional, only for .pth files
    except ImportError:
        raise ValueError(
            f"Reading a PyTorch file needs torch (pip install keras-archs[convert]), or a .safetensors "
            f"copy of it. Received: path={path!r}"
        ) from None
    try:
        # weights_only: tensors and plain containers only; no pickled code runs.
        checkpoint = _unwrap(torch.load(path, map_location="cpu", weights_only=True))
    except Exception as error:  # torch raises UnpicklingError or RuntimeError, with pages of advice
        reason = " ".join(str(error).split())[:200]
        raise ValueError(
            f"{path!r} is not a state dict that loads with torch.load(weights_only=True) ({reason})"
        ) from None
    if not isinstance(checkpoint, Mapping):
        raise ValueError(f"{path!r} is not a state dict: it holds a {type(checkpoint).__name__}")
    arrays = {}
    for key, tensor in checkpoint.items():
        if not isinstance(tensor, torch.Tensor):
            raise ValueError(f"{path!r} is not a state dict: {key!r} holds a {type(tensor).__name__}")
        tensor = tensor.detach()
        if tensor.is_floating_point() and tensor.dtype != torch.float64:
            tensor = tensor.float()
        arrays[key.removeprefix("module.")] = tensor.numpy()
    return arrays


def _read_safetensors(path):
    try:
        from safetensors.numpy import load_file  # noqa: PLC0415 - optional
    except ImportError:
        raise ValueError(
            f"Reading a safetensors file needs the safetensors package (pip install keras-archs[convert]). "
            f"Received: path={path!r}"
        ) from None
    return {key.removeprefix("module."): value for key, value in load_file(path).items()}


def read_state_dict(path) -> dict:
    """The state dict in a `.safetensors` file, or in a `.pth`/`.pt`/`.bin` file (needs torch).

    Raises:
        ValueError: for a missing file, an unknown suffix, or a file that is not a state dict.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"No such file. Received: path={path!r}")
    lowered = path.lower()
    if lowered.endswith(_SAFETENSORS_SUFFIXES):
        arrays = _read_safetensors(path)
    elif lowered.endswith(_TORCH_SUFFIXES):
        arrays = _read_torch(path)
    else:
        raise ValueError(
            f"A state dict file ends in one of {_SAFETENSORS_SUFFIXES + _TORCH_SUFFIXES}. Received: path={path!r}"
        )
    return {key: np.asarray(value) for key, value in arrays.items()}
