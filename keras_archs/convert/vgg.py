"""torchvision `vgg11` ... `vgg19_bn` -> `keras_archs.models.vgg`.

torchvision numbers the layers of `features` in one `nn.Sequential`: each convolution is
followed by a ReLU (and, for `_bn`, a BatchNorm before it), each block by a max pooling,
so a layer's index depends on everything built before it. Its `classifier` is Linear,
ReLU, Dropout, Linear, ReLU, Dropout, Linear.
"""

import re

from keras_archs.convert.core import weighted_layers

__all__ = ["layer_map"]

_CONV = re.compile(r"block(\d+)_conv(\d+)")
_CLASSIFIER = {"fc1": "classifier.0", "fc2": "classifier.3", "predictions": "classifier.6"}


def layer_map(model, reference):
    del reference  # every VGG of torchvision shares one layout
    names = [layer.name for layer in weighted_layers(model)]
    batch_norm = any(name.endswith("_bn") for name in names)
    mapping, index, block = {}, 0, 1
    for name in names:
        match = _CONV.fullmatch(name)
        if match is None:
            continue
        if int(match.group(1)) != block:
            index += 1  # the max pooling that ended the previous block
            block = int(match.group(1))
        mapping[name] = f"features.{index}"
        if batch_norm:
            mapping[f"{name}_bn"] = f"features.{index + 1}"
        index += 3 if batch_norm else 2
    for name in names:
        if name in _CLASSIFIER:
            mapping[name] = _CLASSIFIER[name]
        elif name not in mapping:
            raise ValueError(f"No conversion rule names layer {name!r} of {model.name!r}")
    return mapping
