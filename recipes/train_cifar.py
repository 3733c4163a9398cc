"""Train a model on CIFAR-10/100 with the papers' CIFAR recipes (He 2015 §4.2, Huang 2017 §4.2).

    python recipes/train_cifar.py --model resnet20 --data cifar10
    python recipes/train_cifar.py --model densenet121 --data cifar100 --strategy mirrored

32x32 inputs; the preset is the paper's CIFAR one where it has one (ResNet, DenseNet: 4-pixel
pad, crop, flip), else resnet_cifar. CIFAR has no validation split: its test split serves.
"""

import sys

from keras_archs.training.cli import main
from keras_archs.training.presets import preset_for_model


def cifar_preset(model):
    return preset_for_model(model, cifar=True).name


if __name__ == "__main__":
    sys.exit(main(description=__doc__.splitlines()[0], preset_for=cifar_preset, data="cifar10", image_size=32,
                  validation_split="test"))
