"""Builds a PyTorch reference with random weights and compares its logits with ours.

Both sides compute in float64: with random weights the deepest references (Inception-v4,
SENet-154) move their float32 logits by 1e-3 for a 1e-6 change of the input, which would
hide or fake a difference of function. The BatchNorm statistics are calibrated on a batch
of other images (after random gammas and betas): with arbitrary statistics a random deep
network maps every image to nearly the same logits, and a wrong padding would vanish
below any tolerance. Differences are measured against how much the logits of two images
differ (`spread_difference`), so a small difference means the same function of the input.
"""

import contextlib

import numpy as np
import keras
import timm
import torch
import torchvision

from keras_archs.convert import from_state_dict

SEED = 20261202


def build_reference(reference, calibration_images):
    """The torchvision or timm model of `reference`: random weights, random BatchNorm
    gammas and betas, statistics calibrated on NHWC `calibration_images`; eval, float64."""
    torch.manual_seed(SEED)
    if reference.library == "timm":
        model = timm.create_model(reference.constructor, pretrained=False, **reference.kwargs)
    else:
        model = torchvision.models.get_model(reference.constructor, weights=None, **reference.kwargs)
    model = model.double()
    randomize_batch_norm(model)
    calibrate_batch_norm(model, calibration_images)
    return model.eval()


def _batch_norms(model):
    return [module for module in model.modules() if isinstance(module, torch.nn.modules.batchnorm._BatchNorm)]


def randomize_batch_norm(model):
    """Gammas in [0.5, 1.5] and betas around 0, so that each one matters."""
    generator = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for module in _batch_norms(model):
            if module.affine:
                module.weight.copy_(0.5 + torch.rand(module.num_features, generator=generator))
                module.bias.copy_(0.2 * torch.randn(module.num_features, generator=generator))


def calibrate_batch_norm(model, images):
    """Running statistics of one forward pass over `images` (dropout off)."""
    for module in _batch_norms(model):
        module.reset_running_stats()
        module.momentum = None  # a cumulative average: exactly the batch's statistics
    model.train()
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.eval()
    with torch.no_grad():
        model(torch.from_numpy(images.transpose(0, 3, 1, 2).copy()))


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


def spread_difference(ours, theirs):
    """The largest difference over the largest difference between the reference's outputs
    for the first two images: below 1e-4, our function is the reference's."""
    spread = np.max(np.abs(theirs[0] - theirs[1]))
    return float(np.max(np.abs(ours - theirs)) / max(spread, 1e-300))


def images(height, width, batch, seed=SEED):
    return np.random.default_rng(seed).standard_normal((batch, height, width, 3))
