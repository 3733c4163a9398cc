"""Train a model on ImageNet as its paper did: input size, 1,000 classes, the paper's preset.

    python recipes/train_imagenet.py --model resnet50 --data imagenet2012 --manual-dir /data/imagenet-tars --download
    python recipes/train_imagenet.py --model inception_v3 --data tfrecord:/data/imagenet --label-offset -1 \\
        --strategy multi_worker    # with TF_CONFIG set on every host

The input size is the model's default (224, 299 for Inception-v3, 331 for NASNet-Large), the
preset is the one the registry names for the model (`preset` in `keras-archs info NAME`), the
validation split is ImageNet's 50,000 images; TFRecords (imagenet_to_gcs.py layout) need
--label-offset -1 and know their size from --train-examples (default 1,281,167).
"""

import sys

from keras_archs.training.cli import main

IMAGENET_TRAIN_EXAMPLES = 1_281_167

if __name__ == "__main__":
    sys.exit(main(description=__doc__, data="imagenet2012", classes=1000,
                  train_examples=IMAGENET_TRAIN_EXAMPLES, validation_split="validation", test_split="validation"))
