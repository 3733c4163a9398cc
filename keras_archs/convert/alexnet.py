"""torchvision `alexnet` -> `keras_archs.models.alexnet` (`variant="single_tower"`).

torchvision's `features` is one `nn.Sequential` of Conv, ReLU and MaxPool modules; its
`classifier` is Dropout, Linear, ReLU, Dropout, Linear, ReLU, Linear.
"""

from keras_archs.convert.core import layer_map_from_rules

__all__ = ["layer_map"]

_RULES = (
    ("conv1", "features.0"),
    ("conv2", "features.3"),
    ("conv3", "features.6"),
    ("conv4", "features.8"),
    ("conv5", "features.10"),
    ("fc1", "classifier.1"),
    ("fc2", "classifier.4"),
    ("predictions", "classifier.6"),
)


def layer_map(model, reference):
    del reference
    return layer_map_from_rules(model, _RULES)
