"""Architecture families, one module each; importing them fills the registry."""

from keras_archs.models import alexnet, lenet, nin, vgg  # noqa: F401
from keras_archs.models.alexnet import AlexNet
from keras_archs.models.lenet import LeNet5
from keras_archs.models.nin import NiN
from keras_archs.models.vgg import VGG11, VGG13, VGG16, VGG19

__all__ = ["AlexNet", "LeNet5", "NiN", "VGG11", "VGG13", "VGG16", "VGG19"]
