import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

# torch (and torchvision, timm) before TensorFlow: the CUDA build of torch from the package
# index brings triton, whose library crashes the process when it loads after TensorFlow's.
import timm  # noqa: F401
import torch
import torchvision  # noqa: F401

# Two pytest-xdist workers share the CI machine's cores; one thread each keeps them apart.
if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)
