from setuptools import find_packages, setup

setup(
    name="keras-archs",
    version="0.1.0",
    description="The milestone CNN architectures as Keras 3 applications, with recipes and export.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["keras_archs", "keras_archs.*"]),
    # decode_predictions reads the ImageNet class index offline.
    package_data={"keras_archs": ["imagenet_class_index.json"]},
    python_requires=">=3.10",
    install_requires=[
        "tensorflow>=2.20",
        "keras>=3.13",
        "numpy",
        "tensorflow-datasets",
        "scikit-learn",  # the embedded handwritten digits of the main job
        "tensorboard",  # TensorFlow 2.21 no longer pulls it in; training writes its logs
        "keras-tuner",  # keras_archs.search: its oracles keep the trials, resumption and distribution
    ],
    extras_require={
        "test": ["pytest", "pytest-xdist", "ai-edge-litert", "onnx", "onnxruntime", "tf2onnx", "safetensors", "huggingface_hub",
                 "matplotlib"],
        "litert": ["ai-edge-litert"],
        "onnx": ["onnx", "onnxruntime", "tf2onnx"],
        "tools": ["matplotlib"],
        # AutoAugment's ImageNet policy and the Model Garden ResNet-50 benchmark peer;
        # tf-models-official pins tensorflow~=2.20, so it gets its own environment.
        "garden": ["tf-models-official"],
        # keras_archs.convert: PyTorch reference checkpoints, and the parity suite that builds
        # the references (tests_convert).
        "convert": ["torch", "torchvision", "timm", "safetensors"],
        # timm's pretrained weights (safetensors from the Hugging Face Hub) without torch.
        "hub": ["huggingface_hub", "safetensors"],
    },
    entry_points={
        "console_scripts": [
            "keras-archs=keras_archs.cli:main",
            "keras-archs-train=keras_archs.training.cli:main",
        ]
    },
)
