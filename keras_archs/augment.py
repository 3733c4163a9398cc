"""Training-time augmentation as the papers used it, built on Keras 3 core preprocessing layers.

Two stages, so that each runs where it is cheapest in `tf.data`:

- a per-image *crop* that also fixes the output size (images of many sizes come in, one
  size goes out): `inception_crop` (Szegedy et al. 2015, "Going Deeper with Convolutions",
  arXiv 1409.4842, §6: patches of 8%-100% of the image area, aspect ratio 3/4-4/3),
  AlexNet's resize-then-random-crop, ResNet's scale augmentation (He et al. 2015, "Deep
  Residual Learning for Image Recognition", arXiv 1512.03385, §3.4: shorter side drawn from
  [256, 480], then a 224 crop), CIFAR's 4-pixel pad and crop (He 2015, §4.2);
- *batch layers*: Keras core layers (`RandomFlip`, `RandomColorJitter`, `RandAugment`,
  `MixUp`, `CutMix`, ...) plus `PCALighting`, AlexNet's colour noise along the principal
  components of ImageNet RGB (Krizhevsky et al. 2012, "ImageNet Classification with Deep
  Convolutional Neural Networks", NeurIPS, §4.1), which Keras core lacks.

Images stay in [0, 255] float32 through augmentation; model-specific scaling
(`keras_archs.preprocess_input`) comes after. AutoAugment (Cubuk et al. 2019, "AutoAugment:
Learning Augmentation Policies from Data", arXiv 1805.09501) is not in Keras core;
`policy="autoaugment"` takes the paper's ImageNet policy from TF Model Garden
(`official.vision.ops.augment`, the optional `garden` extra), imported only when that policy
is asked for, and says how to install it when it is missing.
"""

import dataclasses
import contextlib
from typing import Optional, Tuple

import keras
import numpy as np
import tensorflow as tf

__all__ = [
    "GARDEN_AUTOAUGMENT_POLICIES",
    "IMAGENET_EIGENVALUES",
    "IMAGENET_EIGENVECTORS",
    "POLICIES",
    "GardenAutoAugment",
    "PCALighting",
    "Policy",
    "basic_layers",
    "call_seeded",
    "center_crop",
    "eigen_decomposition",
    "garden_augment_module",
    "get_policy",
    "inception_crop",
    "mix_layer",
    "pad_and_crop",
    "resize_and_crop",
    "scale_and_crop",
]

# Principal components of ImageNet RGB pixels (values in [0, 255]), as published with
# fb.resnet.torch and used by most AlexNet/ResNet reimplementations.
IMAGENET_EIGENVALUES = (55.46, 4.794, 1.148)
IMAGENET_EIGENVECTORS = (
    (-0.5675, 0.7192, 0.4009),
    (-0.5808, -0.0045, -0.8140),
    (-0.5836, -0.6948, 0.4203),
)

# Inception crop bounds (Szegedy 2015 §6); also torchvision's RandomResizedCrop defaults.
INCEPTION_AREA_RANGE = (0.08, 1.0)
INCEPTION_ASPECT_RANGE = (3.0 / 4.0, 4.0 / 3.0)
# Evaluation crops the central 87.5% (224 of 256), the usual ImageNet protocol.
CENTER_CROP_FRACTION = 0.875


def _size_pair(size):
    return (size, size) if isinstance(size, int) else tuple(size)


def _is_encoded(image):
    return image.dtype == tf.string


def _decode(image, channels):
    if not _is_encoded(image):
        return image
    decoded = tf.io.decode_image(image, channels=channels, expand_animations=False)
    decoded.set_shape([None, None, channels])
    return decoded


def _resize(image, size):
    return tf.image.resize(tf.cast(image, tf.float32), _size_pair(size), method="bilinear", antialias=True)


def inception_crop(
    image,
    size,
    channels=3,
    area_range=INCEPTION_AREA_RANGE,
    aspect_ratio_range=INCEPTION_ASPECT_RANGE,
    max_attempts=10,
    seed=None,
):
    """Random-resized crop of Szegedy et al. 2015 (§6) for one image.

    Samples a box covering `area_range` of the image with an aspect ratio in
    `aspect_ratio_range` (`tf.image.sample_distorted_bounding_box`; the whole image after
    `max_attempts` failures) and resizes it to `size`. A JPEG string is decoded only inside
    the box (`tf.image.decode_and_crop_jpeg`), which is what makes this crop cheap.

    Args:
        image: a decoded (H, W, C) image, or an encoded JPEG/PNG/GIF/BMP string.
        size: output side (int) or (height, width).
        channels: channels to decode an encoded image to.
        area_range: fraction of the image area the crop covers.
        aspect_ratio_range: width / height of the crop.
        max_attempts: samples tried before falling back to the whole image.
        seed: None (stateful randomness), or a shape-[2] integer tensor for stateless,
            reproducible crops (`load_dataset` gives every element its own).

    Returns:
        float32 image of `size`, values in the input's range.
    """

    def sample(height_width_channels):
        options = dict(
            bounding_boxes=tf.constant([[[0.0, 0.0, 1.0, 1.0]]]),
            min_object_covered=0.0,
            aspect_ratio_range=aspect_ratio_range,
            area_range=area_range,
            max_attempts=max_attempts,
            use_image_if_no_bounding_boxes=True,
        )
        if seed is None:
            begin, extent, _ = tf.image.sample_distorted_bounding_box(height_width_channels, **options)
        else:
            begin, extent, _ = tf.image.stateless_sample_distorted_bounding_box(height_width_channels, seed=seed, **options)
        return begin, extent

    if _is_encoded(image):

        def from_jpeg():
            begin, extent = sample(tf.io.extract_jpeg_shape(image))
            window = tf.stack([begin[0], begin[1], extent[0], extent[1]])
            return tf.image.decode_and_crop_jpeg(image, window, channels=channels)

        def from_other():
            decoded = _decode(image, channels)
            begin, extent = sample(tf.shape(decoded))
            return tf.slice(decoded, begin, extent)

        crop = tf.cond(tf.io.is_jpeg(image), from_jpeg, from_other)
        crop.set_shape([None, None, channels])
    else:
        begin, extent = sample(tf.shape(image))
        crop = tf.slice(image, begin, extent)
    return _resize(crop, size)


def _resize_shorter_side(image, shorter):
    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    scale = tf.cast(shorter, tf.float32) / tf.reduce_min(shape)
    new_shape = tf.cast(tf.math.round(shape * scale), tf.int32)
    return tf.image.resize(tf.cast(image, tf.float32), new_shape, method="bilinear", antialias=True)


def _random_crop(image, size, seed):
    height, width = _size_pair(size)
    crop_shape = [height, width, tf.shape(image)[-1]]
    if seed is None:
        return tf.image.random_crop(image, crop_shape)
    return tf.image.stateless_random_crop(image, crop_shape, seed=seed)


def _other_seed(seed):
    # A second independent stateless seed from the first.
    return None if seed is None else tf.cast(seed, tf.int64) + tf.constant([0, 1], tf.int64)


def resize_and_crop(image, size, channels=3, resize_fraction=CENTER_CROP_FRACTION, seed=None):
    """AlexNet's crop (Krizhevsky 2012 §4.1): resize to `size / 0.875` square, random `size` crop."""
    height, width = _size_pair(size)
    image = _decode(image, channels)
    resized = _resize(image, (round(height / resize_fraction), round(width / resize_fraction)))
    return _random_crop(resized, size, seed)


def scale_and_crop(image, size, channels=3, shorter_range=(256, 480), seed=None):
    """ResNet's scale augmentation (He 2015 §3.4): shorter side in `shorter_range`, random crop.

    The range is given for a 224 crop and scales with `size`.
    """
    height, width = _size_pair(size)
    factor = max(height, width) / 224.0
    low, high = int(round(shorter_range[0] * factor)), int(round(shorter_range[1] * factor))
    if seed is None:
        shorter = tf.random.uniform([], low, high + 1, dtype=tf.int32)
    else:
        shorter = tf.random.stateless_uniform([], seed=seed, minval=low, maxval=high + 1, dtype=tf.int32)
    return _random_crop(_resize_shorter_side(_decode(image, channels), shorter), size, _other_seed(seed))


def pad_and_crop(image, size, channels=3, padding=4, seed=None):
    """CIFAR augmentation (He 2015 §4.2): resize to `size`, zero-pad `padding` pixels, random crop."""
    height, width = _size_pair(size)
    image = _resize_if_needed(_decode(image, channels), size)
    padded = tf.pad(image, [[padding, padding], [padding, padding], [0, 0]])
    return _random_crop(padded, (height, width), seed)


def _resize_if_needed(image, size):
    height, width = _size_pair(size)
    image = tf.cast(image, tf.float32)
    static = image.shape
    if static[0] == height and static[1] == width:
        return image
    return tf.image.resize(image, (height, width), method="bilinear", antialias=True)


def center_crop(image, size, channels=3, crop_fraction: Optional[float] = CENTER_CROP_FRACTION):
    """Evaluation transform: shorter side to `size / crop_fraction`, central `size` crop.

    With `crop_fraction=None` the image is resized straight to `size` (small data sets such
    as digits and CIFAR, whose images already frame the object).
    """
    image = _decode(image, channels)
    if crop_fraction is None:
        return _resize_if_needed(image, size)
    height, width = _size_pair(size)
    resized = _resize_shorter_side(image, int(round(max(height, width) / crop_fraction)))
    shape = tf.shape(resized)
    top = (shape[0] - height) // 2
    left = (shape[1] - width) // 2
    return tf.slice(resized, [top, left, 0], [height, width, -1])


@keras.saving.register_keras_serializable(package="keras_archs")
class PCALighting(keras.layers.Layer):
    """AlexNet's colour augmentation (Krizhevsky 2012 §4.1), for batches of RGB images.

    Adds `eigvec @ (alpha * eigval)` to every pixel of an image, `alpha ~ N(0, std)` drawn
    once per image: intensity and colour of the illumination change, the object does not.
    Keras core has no equivalent. Active only when `training=True`.

    Args:
        std: standard deviation of `alpha` (0.1 in the paper).
        eigenvalues: the three eigenvalues of the RGB covariance (pixel scale [0, 255]).
        eigenvectors: 3x3, one eigenvector per column.
        seed: optional int seed.

    The output has the input's dtype (float16, bfloat16 or float32), whatever the layer's
    dtype policy; the shift is computed in float32.
    """

    def __init__(self, std=0.1, eigenvalues=IMAGENET_EIGENVALUES, eigenvectors=IMAGENET_EIGENVECTORS, seed=None, **kwargs):
        # No input autocast: the batch keeps its dtype instead of taking the layer's policy.
        kwargs.setdefault("autocast", False)
        super().__init__(**kwargs)
        if not std >= 0:
            raise ValueError(f"std must be non-negative. Received: std={std}")
        self.std = float(std)
        self.eigenvalues = tuple(float(value) for value in eigenvalues)
        self.eigenvectors = tuple(tuple(float(value) for value in row) for row in eigenvectors)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=True):
        if not training or self.std == 0:
            return images
        batch = keras.ops.shape(images)[0]
        alpha = keras.random.normal((batch, 3), stddev=self.std, dtype="float32", seed=self.seed_generator)
        weights = alpha * keras.ops.convert_to_tensor(self.eigenvalues, dtype="float32")
        shift = keras.ops.matmul(weights, keras.ops.transpose(keras.ops.convert_to_tensor(self.eigenvectors, dtype="float32")))
        return images + keras.ops.cast(keras.ops.reshape(shift, (batch, 1, 1, 3)), images.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "std": self.std,
            "eigenvalues": self.eigenvalues,
            "eigenvectors": self.eigenvectors,
            "seed": self.seed,
        }


@contextlib.contextmanager
def _layers_dtype_policy(dtype):
    """Builds the augmentation layers made inside it under the dtype policy `dtype`.

    Keras preprocessing layers compute in, and cast batches to, the dtype policy they were
    built under, and a mixed-precision training policy has no place in the input pipeline
    (half-precision pixels). So the layers are built under the batches' dtype, "float32",
    "bfloat16" or "float16", which the batches then keep. None is float32 under a mixed
    global policy and the global policy otherwise (so a builder called by another inherits
    its dtype).
    """
    previous = keras.config.dtype_policy()
    if dtype is None:
        dtype = "float32" if previous.name.startswith("mixed_") else previous.name
    keras.config.set_dtype_policy(dtype)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def basic_layers(seed=None, flip=True, rotation=0.05, zoom=0.1, translation=0.1, shear=0.05,
                 brightness=0.1, contrast=0.1, perspective=0.05, noise_stddev=2.0, fill_mode="reflect", dtype=None):
    """The generic list from the project seed, as Keras core layers, for batches in [0, 255].

    Random flips, scaling (zoom), rotations, intensity (brightness) and contrast changes,
    crop/pad (translation), affine (shear) and perspective transforms, Gaussian noise. A
    factor of 0 leaves that transform out. Each layer gets its own seed derived from `seed`.
    `dtype`: the batches' dtype; None is float32 under a mixed global policy (`_layers_dtype_policy`).
    """
    with _layers_dtype_policy(dtype):
        layers = []
        if flip:
            layers.append(keras.layers.RandomFlip("horizontal", seed=_layer_seed(seed, 0)))
        if rotation:
            layers.append(keras.layers.RandomRotation(rotation, fill_mode=fill_mode, seed=_layer_seed(seed, 1)))
        if zoom:
            layers.append(keras.layers.RandomZoom(zoom, fill_mode=fill_mode, seed=_layer_seed(seed, 2)))
        if translation:
            layers.append(keras.layers.RandomTranslation(translation, translation, fill_mode=fill_mode, seed=_layer_seed(seed, 3)))
        if shear:
            layers.append(keras.layers.RandomShear(x_factor=shear, y_factor=shear, fill_mode=fill_mode, seed=_layer_seed(seed, 4)))
        if perspective:
            layers.append(keras.layers.RandomPerspective(factor=perspective, scale=1.0, seed=_layer_seed(seed, 5)))
        if brightness:
            layers.append(keras.layers.RandomBrightness(brightness, value_range=(0, 255), seed=_layer_seed(seed, 6)))
        if contrast:
            layers.append(keras.layers.RandomContrast(contrast, value_range=(0, 255), seed=_layer_seed(seed, 7)))
        if noise_stddev:
            # keras.layers.GaussianNoise accepts stddev <= 1 only, far too little on [0, 255].
            layers.append(_PixelNoise(noise_stddev, _layer_seed(seed, 8)))
    return layers


class _PixelNoise:
    """Additive Gaussian noise on [0, 255] images, called like a Keras layer."""

    def __init__(self, stddev, seed=None):
        self.stddev = stddev
        self.seed_generator = keras.random.SeedGenerator(seed)

    def __call__(self, images, training=True):
        if not training:
            return images
        images = keras.ops.convert_to_tensor(images)
        shape = keras.ops.shape(images)
        noise = keras.random.normal(shape, stddev=self.stddev, dtype="float32", seed=self.seed_generator)
        return images + keras.ops.cast(noise, images.dtype)


@dataclasses.dataclass(frozen=True)
class Policy:
    """A named augmentation recipe.

    Attributes:
        name: the policy name.
        crop: per-image crop that sets the output size: "inception", "resize_crop"
            (AlexNet), "scale_crop" (ResNet), "pad_crop" (CIFAR) or "center" (no random crop).
        flip: random horizontal flip.
        color_jitter: (brightness, contrast, saturation, hue) factors of
            `keras.layers.RandomColorJitter`, or None.
        pca_lighting: std of AlexNet's PCA lighting noise, 0 for none.
        randaugment: (num_ops, factor) of `keras.layers.RandAugment`, or None.
        basic: add `basic_layers()` (the seed's generic list).
        affine: (rotation, zoom, translation) factors of small random affine transforms
            with a constant (background) fill, no flip: for digits and characters.
        autoaugment: name of a TF Model Garden AutoAugment policy to apply
            (`GARDEN_AUTOAUGMENT_POLICIES`), or None.
    """

    name: str
    crop: str = "center"
    flip: bool = False
    color_jitter: Optional[Tuple[float, float, float, float]] = None
    pca_lighting: float = 0.0
    randaugment: Optional[Tuple[int, float]] = None
    basic: bool = False
    affine: Optional[Tuple[float, float, float]] = None
    autoaugment: Optional[str] = None

    def __post_init__(self):
        if self.autoaugment is not None:
            _check_garden_policy(self.autoaugment, "autoaugment")

    def crop_image(self, image, size, channels=3, seed=None, eval_crop_fraction=CENTER_CROP_FRACTION):
        """The per-image training crop (float32, `size`); an encoded string is decoded here."""
        if self.crop == "inception":
            return inception_crop(image, size, channels=channels, seed=seed)
        if self.crop == "resize_crop":
            return resize_and_crop(image, size, channels=channels, seed=seed)
        if self.crop == "scale_crop":
            return scale_and_crop(image, size, channels=channels, seed=seed)
        if self.crop == "pad_crop":
            return pad_and_crop(image, size, channels=channels, padding=max(1, round(4 * _size_pair(size)[0] / 32)), seed=seed)
        return center_crop(image, size, channels=channels, crop_fraction=eval_crop_fraction)

    def batch_layers(self, channels=3, seed=None, dtype=None):
        """Keras layers applied to batches of cropped images in [0, 255], each seeded apart from `seed`.

        `dtype`: the batches' dtype; None is float32 under a mixed global policy (`_layers_dtype_policy`).
        """
        with _layers_dtype_policy(dtype):
            layers = []
            if self.flip:
                layers.append(keras.layers.RandomFlip("horizontal", seed=_layer_seed(seed, 100)))
            if self.basic:
                layers.extend(basic_layers(seed=_layer_seed(seed, 200), flip=not self.flip))
            if self.affine:
                rotation, zoom, translation = self.affine
                layers.extend(basic_layers(seed=_layer_seed(seed, 300), flip=False, rotation=rotation, zoom=zoom, translation=translation,
                                           shear=0, brightness=0, contrast=0, perspective=0, noise_stddev=0, fill_mode="constant"))
            rgb = channels == 3
            if self.color_jitter and rgb:
                brightness, contrast, saturation, hue = self.color_jitter
                layers.append(
                    keras.layers.RandomColorJitter(
                        value_range=(0, 255),
                        brightness_factor=brightness or None,
                        contrast_factor=contrast or None,
                        saturation_factor=saturation or None,
                        hue_factor=hue or None,
                        seed=_layer_seed(seed, 400),
                    )
                )
            if self.randaugment and rgb:
                num_ops, factor = self.randaugment
                layers.append(keras.layers.RandAugment(value_range=(0, 255), num_ops=num_ops, factor=factor, seed=_layer_seed(seed, 500)))
            if self.autoaugment:
                layers.append(GardenAutoAugment(self.autoaugment))
            if self.pca_lighting and rgb:
                layers.append(PCALighting(self.pca_lighting, seed=_layer_seed(seed, 600)))
        return layers


# Model Garden's names for the AutoAugment policies offered here. The paper's ImageNet policy
# (arXiv 1805.09501, appendix; torchvision's AutoAugmentPolicy.IMAGENET, timm's "original")
# is "reduced_imagenet" there; "v0" is the variant of the TPU EfficientNet code (timm's "v0").
GARDEN_AUTOAUGMENT_POLICIES = ("reduced_imagenet", "v0")
GARDEN_INSTALL_HINT = 'pip install "keras-archs[garden]"'


def _check_garden_policy(name, argument):
    if name not in GARDEN_AUTOAUGMENT_POLICIES:
        raise ValueError(f"{argument} must be one of {GARDEN_AUTOAUGMENT_POLICIES}. Received: {argument}={name!r}")


def garden_augment_module():
    """`official.vision.ops.augment` of TF Model Garden, imported on first use.

    Raises:
        ImportError: naming the `garden` extra, when tf-models-official is not installed.
    """
    try:
        from official.vision.ops import augment as garden_augment
    except ImportError as error:
        raise ImportError(
            f"AutoAugment comes from TF Model Garden, which is not installed: {GARDEN_INSTALL_HINT} "
            "(tf-models-official; it pins TensorFlow 2.20). Keras core has RandAugment: policy='randaugment'."
        ) from error
    return garden_augment


class GardenAutoAugment:
    """TF Model Garden's AutoAugment on a batch of images in [0, 255], called like a Keras layer.

    Each image gets one sub-policy drawn at random (Cubuk 2019). Model Garden draws with
    stateful TensorFlow ops and takes no seed: `tf.random.set_seed` makes eager calls repeat,
    but inside a parallel `tf.data` map the draws are not reproducible. Grayscale images go
    through as gray RGB, which every operation keeps gray.

    Args:
        policy: a Model Garden policy name from `GARDEN_AUTOAUGMENT_POLICIES`.
    """

    def __init__(self, policy="reduced_imagenet"):
        _check_garden_policy(policy, "policy")
        self.policy = policy
        self.augmenter = garden_augment_module().AutoAugment(augmentation_name=policy)

    def __call__(self, images, training=True):
        if not training:
            return images
        images = tf.convert_to_tensor(images)
        gray = images.shape[-1] == 1
        rgb = tf.image.grayscale_to_rgb(images) if gray else images

        def distort(image):
            # The operations work on uint8 (posterize, solarize, equalize count in levels).
            return tf.cast(self.augmenter.distort(tf.cast(tf.clip_by_value(image, 0, 255), tf.uint8)), images.dtype)

        distorted = tf.map_fn(distort, rgb, fn_output_signature=images.dtype)
        return distorted[..., :1] if gray else distorted


POLICIES = {
    "none": Policy("none"),
    # Krizhevsky 2012 §4.1: random 224 crops of the 256 image, mirror, PCA lighting.
    "alexnet": Policy("alexnet", crop="resize_crop", flip=True, pca_lighting=0.1),
    # Szegedy 2015 §6 crop; photometric distortions as Inception implementations use them.
    "inception": Policy("inception", crop="inception", flip=True, color_jitter=(0.125, 0.5, 0.5, 0.1)),
    # He 2015 §3.4: scale augmentation, 224 crop, mirror, AlexNet's colour augmentation.
    "resnet": Policy("resnet", crop="scale_crop", flip=True, pca_lighting=0.1),
    # He 2015 §4.2: 4-pixel padding, 32x32 crop, mirror.
    "cifar": Policy("cifar", crop="pad_crop", flip=True),
    # Cubuk et al. 2020, "RandAugment", arXiv 1909.13719: N=2 ops at magnitude 9 of 10.
    "randaugment": Policy("randaugment", crop="inception", flip=True, randaugment=(2, 0.9)),
    # Cubuk et al. 2019, "AutoAugment", arXiv 1805.09501: the paper's ImageNet policy (via TF
    # Model Garden) on top of the Inception crop and flips, the paper's baseline preprocessing.
    "autoaugment": Policy("autoaugment", crop="inception", flip=True, autoaugment="reduced_imagenet"),
    # The AutoAugment variant of the TPU EfficientNet code, Model Garden's default.
    "autoaugment_v0": Policy("autoaugment_v0", crop="inception", flip=True, autoaugment="v0"),
    # The seed's generic list (flips, scaling, rotation, intensity, contrast, crop/pad,
    # noise, affine, perspective) on top of a plain resize.
    "basic": Policy("basic", crop="center", basic=True),
    # Small rotations, scalings and shifts: the distortions LeCun 1998 (§III.C) added to
    # MNIST, for handwritten digits (never flipped).
    "digits": Policy("digits", crop="center", affine=(0.04, 0.1, 0.08)),
}


def get_policy(policy):
    """A `Policy` by name (see `POLICIES`), or the `Policy` itself.

    Raises:
        ValueError: for an unknown name.
        ImportError: for an AutoAugment policy without TF Model Garden installed, here rather
            than after a data set has been opened.
    """
    if policy is None:
        return POLICIES["none"]
    if not isinstance(policy, Policy):
        if policy not in POLICIES:
            raise ValueError(f"policy must be one of {tuple(POLICIES)}. Received: policy={policy!r}")
        policy = POLICIES[policy]
    if policy.autoaugment:
        garden_augment_module()
    return policy


def mix_layer(mixup_alpha=0.0, cutmix_alpha=0.0, seed=None):
    """Keras core MixUp/CutMix on {"images", "labels"} batches (one-hot labels), or None.

    With both alphas set, each batch gets one of the two at random, as in timm and the
    DeiT recipe. The two layers get different seeds, so their draws are not alike.
    """
    choices = []
    if mixup_alpha:
        choices.append(keras.layers.MixUp(alpha=mixup_alpha, seed=_layer_seed(seed, 0)))
    if cutmix_alpha:
        choices.append(keras.layers.CutMix(factor=cutmix_alpha, seed=_layer_seed(seed, 1)))
    choices = [_MixInFloat32(layer) for layer in choices]
    if not choices:
        return None
    if len(choices) == 1:
        return choices[0]
    return _MixUpOrCutMix(*choices, seed=_layer_seed(seed, 2))


class _MixUpOrCutMix:
    """One of MixUp and CutMix per batch, drawn with even odds; called like a Keras layer."""

    def __init__(self, mixup, cutmix, seed=None):
        self.mixup = mixup
        self.cutmix = cutmix
        # A keras SeedGenerator, not tf.random.uniform(seed=...): that op keeps its state in
        # its kernel, which parallel tf.data calls share; this one `call_seeded` can replace.
        self.seed_generator = keras.random.SeedGenerator(seed)

    def __call__(self, batch, training=True):
        if not training:
            return batch
        use_mixup = keras.random.uniform([], seed=self.seed_generator) < 0.5
        return tf.cond(use_mixup, lambda: self.mixup(dict(batch), training=True),
                       lambda: self.cutmix(dict(batch), training=True))


class _MixInFloat32(keras.layers.Layer):
    """A MixUp/CutMix layer run in float32, whose output keeps the batch's dtypes.

    Keras 3.15's MixUp and CutMix fail in float16 and bfloat16 (float32 constants meet
    half-precision tensors), under a mixed global policy too. A Layer, so that
    `call_seeded` finds the wrapped layer's seed generator.
    """

    def __init__(self, layer, **kwargs):
        # No input autocast: `call` casts, and casts back to the batch's dtypes.
        # A name of its own: the class name's leading underscore is no valid TF name scope.
        super().__init__(autocast=False, **{"name": f"{layer.name}_in_float32", **kwargs})
        layer.dtype_policy = "float32"
        self.layer = layer

    def call(self, batch, training=True):
        batch = dict(batch)
        dtypes = {key: batch[key].dtype for key in ("images", "labels")}
        mixed = self.layer({key: keras.ops.cast(batch[key], "float32") for key in dtypes}, training=training)
        return {**batch, **{key: keras.ops.cast(mixed[key], dtype) for key, dtype in dtypes.items()}}


def _layer_seed(seed, index):
    # Layers built from one int seed would start from the same draws (a flip and a brightness
    # change of one batch correlated): every layer of a list gets its own.
    return None if seed is None else seed + index


class _StatelessSeeds(keras.random.SeedGenerator):
    """Stand-in `SeedGenerator` whose draws are functions of one seed tensor only.

    A Keras random layer draws through a `SeedGenerator` whose state variable is read and
    incremented on every call. Parallel `tf.data` calls race for that variable, so which
    batch gets which draw depends on thread timing (and `enable_op_determinism` would make
    the whole pipeline serial for it). The n-th draw of one traced call is
    `stateless_fold_in(seed, n)` here: no state, the same draws on any machine.
    """

    def __init__(self, seed):
        # No super().__init__(): it creates the state variable this class exists to avoid.
        self._seed = tf.cast(seed, tf.int64)
        self._draws = 0

    def next(self, ordered=True):
        self._draws += 1
        return tf.random.experimental.stateless_fold_in(self._seed, self._draws)


def _seed_holders(obj):
    """`obj` and every Keras layer reachable through its attributes (sublayers included)."""
    holders, pending, seen = [], [obj], set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        holders.append(current)
        pending.extend(value for value in vars(current).values() if isinstance(value, keras.layers.Layer))
    return holders


def call_seeded(layer, data, seed):
    """`layer(data, training=True)` with every `keras.random` draw made from `seed`, statelessly.

    For batch augmentation in parallel `tf.data` maps: each call gets its own seed (a shape-[2]
    integer tensor), so the result does not depend on which thread ran first. Every
    `keras.random.SeedGenerator` attribute of `layer` and of its sublayers (Keras
    preprocessing layers, `PCALighting`, the layer-like objects here) is replaced by
    `_StatelessSeeds(seed)` while the call is traced, then put back. On the TensorFlow
    backend; `GardenAutoAugment` draws with Model Garden's stateful ops and is not seeded.

    Args:
        layer: a Keras layer or a layer-like callable taking `training`.
        data: what `layer` takes (a batch of images, or an {"images", "labels"} dict).
        seed: shape-[2] integer tensor.

    Returns:
        `layer`'s output.
    """
    stream = _StatelessSeeds(seed)
    swapped = []
    for holder in _seed_holders(layer):
        for name, value in list(vars(holder).items()):
            if isinstance(value, keras.random.SeedGenerator):
                swapped.append((holder, name, value))
                # Past Keras' attribute tracking, which would count the stand-in as a layer state.
                object.__setattr__(holder, name, stream)
    try:
        return layer(data, training=True)
    finally:
        for holder, name, value in swapped:
            object.__setattr__(holder, name, value)


def eigen_decomposition(images):
    """Eigenvalues and eigenvectors (columns) of the RGB covariance of `images` in [0, 255].

    For data sets other than ImageNet: `PCALighting(eigenvalues=..., eigenvectors=...)`.
    """
    pixels = np.asarray(images, dtype=np.float64).reshape(-1, 3)
    values, vectors = np.linalg.eigh(np.cov(pixels, rowvar=False))
    order = np.argsort(values)[::-1]
    return tuple(values[order]), tuple(map(tuple, vectors[:, order]))

