"""torchvision `squeezenet1_0`, `squeezenet1_1` -> `keras_archs.models.squeezenet`.

torchvision's `features` is one `nn.Sequential`: conv1 (0), its ReLU, a max pooling, then
the Fire modules with the other poolings between them, so a Fire module's index counts
the poolings before it. The class convolution is `classifier.1` (after the dropout).
"""

from keras_archs.convert.core import layer_map_from_rules
from keras_archs.models.squeezenet import VERSIONS

__all__ = ["layer_map"]

# Our Fire layer suffix -> torchvision's `Fire` attribute.
_FIRE_PARTS = {"squeeze1x1": "squeeze", "expand1x1": "expand1x1", "expand3x3": "expand3x3"}


def layer_map(model, reference):
    *_, pool_after = VERSIONS[reference.constructor.removeprefix("squeezenet")]

    def fire(match):
        number = int(match.group(1))
        # conv1, its ReLU and pool1 take indices 0-2; fire2 is 3.
        index = number + 1 + sum(1 for after in pool_after if after < number)
        return f"features.{index}.{_FIRE_PARTS[match.group(2)]}"

    return layer_map_from_rules(model, [
        ("conv1", "features.0"),
        (rf"fire(\d+)_({'|'.join(_FIRE_PARTS)})", fire),
        ("conv10", "classifier.1"),
    ])
