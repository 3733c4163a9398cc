"""Builds a PyTorch reference with random weights and compares its logits with ours.

Both sides compute in float64: with random weights the deepest references (Inception-v4,
SENet-154) move their float32 logits by 1e-3 for a 1e-6 change of the input, which would
hide or fake a difference of function.
"""

import contextlib

import numpy as np
import keras
import timm
import torch
import torchvision

from keras_archs.convert import from_state_dict

SEED = 20261202


def build_reference(reference):
    """The torchvision or timm model of `reference`, random weights, eval mode, float64."""
    torch.manual_seed(SEED)
    if reference.library == "timm":
        model = timm.create_model(reference.constructor, pretrained=False, **reference.kwargs)
    else:
        model = torchvision.models.get_model(reference.constructor, weights=None, **reference.kwargs)
    randomize_batch_norm(model)
    return model.double().eval()


def randomize_batch_norm(model):
    """Non-trivial BatchNorm affine parameters and statistics, so that each one matters."""
    generator = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                channels = module.num_features
                if module.affine:
                    module.weight.copy_(0.5 + torch.rand(channels, generator=generator))
                    module.bias.copy_(0.2 * torch.randn(channels, generator=generator))
                if module.track_running_stats:
                    module.running_mean.copy_(0.2 * torch.randn(channels, generator=generator))
                    module.running_var.copy_(0.5 + 1.5 * torch.rand(channels, generator=generator))


def state_dict_arrays(model):
    return {key: value.detach().cpu().numpy() for key, value in model.state_dict().items()}


def reference_parameter_count(model):
    return sum(parameter.numel() for parameter in model.parameters() if parameter.requires_grad)


def reference_outputs(model, images, features=False):
    """The reference's logits (or `model.features`) for NHWC `images`, as NHWC numpy."""
    with torch.no_grad():
        inputs = torch.from_numpy(images.transpose(0, 3, 1, 2).copy())
        outputs = model.features(inputs) if features else model(inputs)
    outputs = outputs.numpy()
    return outputs.transpose(0, 2, 3, 1) if outputs.ndim == 4 else outputs


@contextlib.contextmanager
def float64_policy():
    """Layers and the model's input in float64 (the Input's dtype follows floatx)."""
    previous_policy, previous_floatx = keras.config.dtype_policy(), keras.config.floatx()
    keras.config.set_dtype_policy("float64")
    keras.config.set_floatx("float64")
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous_policy)
        keras.config.set_floatx(previous_floatx)


def converted(name, state_dict, **model_kwargs):
    """Our model in float64 with the reference's tensors, logits out."""
    with float64_policy():
        return from_state_dict(name, state_dict, classifier_activation=None, **model_kwargs)


def relative_difference(ours, theirs):
    return float(np.max(np.abs(ours - theirs)) / max(np.max(np.abs(theirs)), 1e-300))


def images(height, width, batch, seed=SEED):
    return np.random.default_rng(seed).standard_normal((batch, height, width, 3))
