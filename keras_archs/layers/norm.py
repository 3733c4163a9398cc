"""BatchNormalization settings of the implementations the models follow, as named presets.

Each preset is the `bn_epsilon`/`bn_momentum` pair the conv blocks take (Keras' momentum
convention: PyTorch's `momentum=0.1` is Keras' 0.9).
"""

import types

__all__ = ["DENSENET_BN", "KERAS_BN", "NASNET_BN", "TORCH_BN"]

# Keras' BatchNormalization defaults.
KERAS_BN = types.MappingProxyType({"bn_epsilon": 1e-3, "bn_momentum": 0.99})
# torch.nn.BatchNorm2d's defaults (eps=1e-5, momentum=0.1), as torchvision and timm build.
TORCH_BN = types.MappingProxyType({"bn_epsilon": 1e-5, "bn_momentum": 0.9})
# keras.applications' ResNet and DenseNet (epsilon 1.001e-5).
DENSENET_BN = types.MappingProxyType({"bn_epsilon": 1.001e-5, "bn_momentum": 0.99})
# keras.applications' NASNet (TF-slim's decay 0.9997).
NASNET_BN = types.MappingProxyType({"bn_epsilon": 1e-3, "bn_momentum": 0.9997})
