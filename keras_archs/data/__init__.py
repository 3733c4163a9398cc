"""Input pipelines: embedded digits, TFDS, image folders and ImageNet-layout TFRecords.

    import keras_archs.data
    train = keras_archs.data.load_dataset("digits", "train", batch_size=64, image_size=32, channels=1)
    train = keras_archs.data.load_dataset("cifar10", "train", batch_size=128, image_size=32, policy="cifar")
    train = keras_archs.data.load_dataset("/data/flowers", "train", batch_size=64, image_size=224, policy="inception")
"""

from keras_archs.data.pipeline import load_dataset, resolve_source
from keras_archs.data.sources import DatasetInfo, digits_arrays

__all__ = ["DatasetInfo", "digits_arrays", "load_dataset", "resolve_source"]
