"""Train any registered model on any data source, the way its paper trained it.

    python recipes/train.py --model lenet5 --data digits
    python recipes/train.py --model resnet18 --data /data/flowers --image-size 160 --epochs 30
    python recipes/train.py --model vgg16 --data tfrecord:/data/imagenet/train-* --label-offset -1

Rerunning the same command resumes from the last checkpoint in saved_models/<run-name>/.
`python recipes/train.py --help` lists every flag.
"""

import sys

from keras_archs.training.cli import main

if __name__ == "__main__":
    sys.exit(main(description=__doc__))
