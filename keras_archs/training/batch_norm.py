"""Re-estimating BatchNormalization statistics after training ("precise BN").

Wu & Johnson, "Rethinking 'Batch' in BatchNorm", 2021, arXiv:2105.07576, §3.
"""

import keras

__all__ = ["batch_norm_layers", "reestimate_batch_norm"]


def batch_norm_layers(layer):
    """Every BatchNormalization inside `layer`, nested models included, in graph order."""
    if isinstance(layer, keras.layers.BatchNormalization):
        return [layer]
    return [found for child in getattr(layer, "layers", []) for found in batch_norm_layers(child)]


def reestimate_batch_norm(model, images, batch_size=64):
    """Replaces each BatchNormalization's moving statistics by their average over `images`.

    A momentum of 0.999 (keras.applications' MobileNets, EfficientNets) forgets the initial
    mean 0 / variance 1 only after thousands of steps: after a short run the moving
    statistics are still mostly the initial ones, and inference mode predicts near chance
    while training-mode accuracy is high. Averaging the trained network's batch statistics
    over the training images gives the statistics a long run would have converged to, and
    exporting folds them into the convolutions. The weights are not changed.

    Args:
        model: a trained Keras model.
        images: a numpy array of training images, preprocessed for the model.
        batch_size: images per forward pass (the statistics of each pass are averaged).

    Returns:
        The number of BatchNormalization layers re-estimated.

    Raises:
        ValueError: if `images` is empty or `batch_size` is not a positive integer.
    """
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer. Received: batch_size={batch_size!r}")
    if len(images) == 0:
        raise ValueError(f"images must hold at least one image. Received: images with shape {images.shape}")
    layers = batch_norm_layers(model)
    momenta = [layer.momentum for layer in layers]
    try:
        for step, start in enumerate(range(0, len(images), batch_size)):
            # With momentum step/(step+1) the moving value is the running mean of the batch values.
            for layer in layers:
                layer.momentum = step / (step + 1)
            model(images[start:start + batch_size], training=True)
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum
    return len(layers)
