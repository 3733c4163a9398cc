"""Train a model on CIFAR-10/100 with its paper's CIFAR recipe.

    python recipes/train_cifar.py --model resnet20 --data cifar10
    python recipes/train_cifar.py --model densenet121 --data cifar100 --strategy mirrored

32x32 inputs. The preset is the one the registry names for CIFAR (`cifar_preset` in
`keras-archs info NAME`: resnet_cifar for the CIFAR ResNets and ResNet-50, densenet_cifar for
DenseNets, wide_resnet_cifar, resnext_cifar), and resnet_cifar (He 2015 §4.2) for models whose
paper has no CIFAR recipe. CIFAR has no validation split: its test split serves.
"""

import sys

from keras_archs.training.cli import main
from keras_archs.training.presets import CIFAR_FALLBACK, preset_for_model


def cifar_preset(model):
    """The name of the registry's CIFAR preset for `model` (see `preset_for_model`)."""
    return preset_for_model(model, cifar=True).name


if __name__ == "__main__":
    sys.exit(main(description=__doc__, preset_for=cifar_preset, data="cifar10", image_size=32,
                  validation_split="test",
                  preset_help=f"the model's cifar_preset (keras-archs info NAME), else {CIFAR_FALLBACK}"))
