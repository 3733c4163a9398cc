"""torchvision `densenet121/161/169/201` -> `keras_archs.models.densenet`.

Our layers carry keras.applications' names (`conv{stage}_block{layer}_{0,1,2}_*` in dense
block `stage - 1`, `pool{stage}_*` for the transition after it); torchvision's are
`features.denseblock{block}.denselayer{layer}.{norm1,conv1,norm2,conv2}` and
`features.transition{block}.{norm,conv}`. keras.applications' BatchNorm epsilon is
1.001e-5 against torchvision's 1e-5; the transfer folds the difference into the variance.
"""

from keras_archs.convert.core import layer_map_from_rules

__all__ = ["layer_map"]

# Our dense-layer suffix -> torchvision's `_DenseLayer` attribute.
_DENSE_LAYER = {"0_bn": "norm1", "1_conv": "conv1", "1_bn": "norm2", "2_conv": "conv2"}
_TRANSITION = {"bn": "norm", "conv": "conv"}


def _dense_layer(match):
    stage, layer, part = match.groups()
    return f"features.denseblock{int(stage) - 1}.denselayer{layer}.{_DENSE_LAYER[part]}"


def _transition(match):
    stage, part = match.groups()
    return f"features.transition{int(stage) - 1}.{_TRANSITION[part]}"


def layer_map(model, reference):
    del reference  # the four depths share one layout
    return layer_map_from_rules(model, [
        ("conv1_conv", "features.conv0"),
        ("conv1_bn", "features.norm0"),
        (rf"conv(\d)_block(\d+)_({'|'.join(_DENSE_LAYER)})", _dense_layer),
        (rf"pool(\d)_({'|'.join(_TRANSITION)})", _transition),
        ("bn", "features.norm5"),
        ("predictions", "classifier"),
    ])
