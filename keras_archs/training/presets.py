"""Per-paper training presets: optimizer, schedule, regularization and augmentation as published.

A `Preset` is data. `Preset.optimizer(global_batch, steps_per_epoch)` builds the Keras
optimizer (its `weight_decay`, `use_ema`, `clipnorm` and a `keras.optimizers.schedules`
schedule do the work) with the learning rate scaled linearly with the global batch:
`learning_rate * global_batch / base_batch_size` (Goyal et al. 2017, "Accurate, Large
Minibatch SGD", arXiv 1706.02677). `Preset.loss()` is a `CategoricalCrossentropy` with the
paper's label smoothing. Keras' `weight_decay` is decoupled from the gradient and scaled by
the learning rate, which for plain SGD equals the papers' L2 term of the same coefficient.

Where a paper leaves a value out, the preset says what it chose and why.
"""

import dataclasses
import math
from typing import Optional, Tuple

import keras

from keras_archs.registry import model_info

__all__ = ["CIFAR_FALLBACK", "PRESETS", "Preset", "get_preset", "preset_for_model"]


@dataclasses.dataclass(frozen=True)
class Preset:
    """How one paper trained.

    Attributes:
        name: preset name.
        source: the paper and section the values come from.
        optimizer_name: "sgd", "rmsprop", "adamw" or "adam".
        learning_rate: peak learning rate at `base_batch_size`.
        base_batch_size: the global batch `learning_rate` belongs to.
        batch_size: default global batch.
        epochs: default number of epochs.
        momentum: SGD/RMSProp momentum.
        nesterov: Nesterov momentum (SGD).
        rho: RMSProp decay.
        epsilon: optimizer epsilon.
        weight_decay: decay coefficient (None: none).
        decay_norm_and_bias: apply weight decay to biases and BatchNorm too (the papers did;
            modern recipes do not).
        clipnorm: gradient clipping by norm, or None.
        schedule: "constant", "plateau" (ReduceLROnPlateau /10), "step" (piecewise at
            `boundaries` epochs, times `decay_factor` each), "exponential" (times
            `decay_factor` every `decay_epochs`, staircase), "linear" (straight down to 0
            at the last step) or "cosine".
        boundaries: epochs of the "step" schedule.
        decay_factor: multiplier at each boundary / decay period.
        decay_epochs: period of the "exponential" schedule, in epochs.
        warmup_epochs: linear warmup before a "cosine" schedule.
        plateau_patience: epochs without improvement before a "plateau" decay.
        label_smoothing: loss label smoothing.
        use_ema: keep an exponential moving average of the weights (used at the end).
        ema_momentum: EMA momentum.
        aux_loss_weight: weight of auxiliary classifiers' losses.
        dropout_rate: the paper's dropout, passed to models that take `dropout_rate`.
        policy: augmentation policy (`keras_archs.augment.POLICIES`).
        mixup_alpha, cutmix_alpha: batch mixing.
    """

    name: str
    source: str
    optimizer_name: str = "sgd"
    learning_rate: float = 0.1
    base_batch_size: int = 256
    batch_size: int = 256
    epochs: int = 90
    momentum: float = 0.9
    nesterov: bool = False
    rho: float = 0.9
    epsilon: float = 1e-7
    weight_decay: Optional[float] = None
    decay_norm_and_bias: bool = True
    clipnorm: Optional[float] = None
    schedule: str = "constant"
    boundaries: Tuple[float, ...] = ()
    decay_factor: float = 0.1
    decay_epochs: float = 1.0
    warmup_epochs: float = 0.0
    plateau_patience: int = 5
    label_smoothing: float = 0.0
    use_ema: bool = False
    ema_momentum: float = 0.9999
    aux_loss_weight: float = 0.3
    dropout_rate: Optional[float] = None
    policy: str = "none"
    mixup_alpha: float = 0.0
    cutmix_alpha: float = 0.0

    def scaled_learning_rate(self, global_batch):
        """`learning_rate * global_batch / base_batch_size` (linear scaling rule)."""
        return self.learning_rate * global_batch / self.base_batch_size

    def schedule_for(self, global_batch, steps_per_epoch, epochs=None):
        """The learning rate (float) or Keras schedule, in optimizer steps."""
        peak = self.scaled_learning_rate(global_batch)
        epochs = epochs or self.epochs
        if self.schedule in ("constant", "plateau"):
            return peak
        if self.schedule == "step":
            # PiecewiseConstantDecay switches after a boundary; `iterations` counts finished
            # steps, so the new rate starts exactly at the first step of the boundary epoch.
            boundaries = [max(0, int(round(epoch * steps_per_epoch)) - 1) for epoch in self.boundaries]
            values = [peak * self.decay_factor**index for index in range(len(boundaries) + 1)]
            return keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, values)
        if self.schedule == "exponential":
            return keras.optimizers.schedules.ExponentialDecay(
                peak, decay_steps=max(1, int(round(self.decay_epochs * steps_per_epoch))),
                decay_rate=self.decay_factor, staircase=True,
            )
        if self.schedule == "linear":
            return keras.optimizers.schedules.PolynomialDecay(
                peak, decay_steps=max(1, int(epochs * steps_per_epoch)), end_learning_rate=0.0, power=1.0
            )
        if self.schedule == "cosine":
            warmup = int(round(self.warmup_epochs * steps_per_epoch))
            total = max(1, int(epochs * steps_per_epoch) - warmup)
            if warmup:
                return keras.optimizers.schedules.CosineDecay(0.0, total, warmup_target=peak, warmup_steps=warmup)
            return keras.optimizers.schedules.CosineDecay(peak, total)
        raise ValueError(f"Unknown schedule. Received: schedule={self.schedule!r}")

    def optimizer(self, global_batch, steps_per_epoch, epochs=None, learning_rate=None):
        """A fresh Keras optimizer; create it inside the strategy scope.

        Args:
            global_batch: batch summed over replicas (scales the learning rate).
            steps_per_epoch: converts the schedule's epochs to steps.
            epochs: the run's epochs (cosine length), default the preset's.
            learning_rate: overrides the preset's base rate (still batch-scaled).
        """
        preset = self if learning_rate is None else dataclasses.replace(self, learning_rate=learning_rate)
        rate = preset.schedule_for(global_batch, steps_per_epoch, epochs)
        common = dict(
            learning_rate=rate,
            weight_decay=self.weight_decay,
            clipnorm=self.clipnorm,
            use_ema=self.use_ema,
            ema_momentum=self.ema_momentum,
        )
        if self.optimizer_name == "sgd":
            optimizer = keras.optimizers.SGD(momentum=self.momentum, nesterov=self.nesterov, **common)
        elif self.optimizer_name == "rmsprop":
            optimizer = keras.optimizers.RMSprop(rho=self.rho, momentum=self.momentum, epsilon=self.epsilon, **common)
        elif self.optimizer_name == "adamw":
            optimizer = keras.optimizers.AdamW(epsilon=self.epsilon, **{**common, "weight_decay": self.weight_decay or 0.0})
        elif self.optimizer_name == "adam":
            optimizer = keras.optimizers.Adam(epsilon=self.epsilon, **common)
        else:
            raise ValueError(f"Unknown optimizer. Received: optimizer_name={self.optimizer_name!r}")
        if self.weight_decay and not self.decay_norm_and_bias:
            optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])
        return optimizer

    def loss(self):
        """Cross-entropy on one-hot labels, with the paper's label smoothing."""
        return keras.losses.CategoricalCrossentropy(label_smoothing=self.label_smoothing)

    def callbacks(self):
        """Callbacks the schedule needs (ReduceLROnPlateau for "plateau")."""
        if self.schedule == "plateau":
            return [keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=self.decay_factor,
                                                      patience=self.plateau_patience, verbose=1)]
        return []


# He 2015 §4.2: 64k iterations of batch 128 on 50k CIFAR images, /10 at 32k and 48k.
_CIFAR_STEPS_PER_EPOCH = 50_000 / 128

PRESETS = {
    preset.name: preset
    for preset in (
        Preset(
            "lenet",
            source="LeCun 1998 §III.C trained 20 passes with a decreasing rate and distorted digits; "
            "its second-order SGD is not in Keras: SGD momentum 0.9 with a cosine decay, measured "
            "here on the 8x8 digits (>= 97% test accuracy)",
            learning_rate=0.02, base_batch_size=32, batch_size=32, epochs=30,
            weight_decay=5e-4, schedule="cosine", policy="digits",
        ),
        Preset(
            "alexnet",
            source="Krizhevsky 2012 §5: SGD batch 128, momentum 0.9, weight decay 5e-4, lr 0.01 /10 when "
            "validation error stops improving, ~90 epochs; dropout 0.5; §4.1 crops, flips, PCA lighting",
            learning_rate=0.01, base_batch_size=128, batch_size=128, epochs=90,
            weight_decay=5e-4, schedule="plateau", dropout_rate=0.5, policy="alexnet",
        ),
        Preset(
            "vgg",
            source="Simonyan & Zisserman 2014 §3.1 (arXiv 1409.1556): SGD batch 256, momentum 0.9, weight "
            "decay 5e-4, lr 0.01 /10 on plateau (3 times), 74 epochs, dropout 0.5; scale jittering, "
            "crops, flips, RGB colour shift",
            learning_rate=0.01, base_batch_size=256, batch_size=256, epochs=74,
            weight_decay=5e-4, schedule="plateau", dropout_rate=0.5, policy="resnet",
        ),
        Preset(
            "googlenet",
            source="Szegedy 2015 §6: asynchronous SGD momentum 0.9, lr -4% every 8 epochs; §5 auxiliary "
            "losses weighted 0.3; crops of 8-100% area, aspect 3/4-4/3. The initial lr, batch and "
            "epochs are not published: 0.01 at batch 256 for 90 epochs chosen, weight decay 2e-4 "
            "as in the Caffe model zoo's bvlc_googlenet solver",
            learning_rate=0.01, base_batch_size=256, batch_size=256, epochs=90,
            weight_decay=2e-4, schedule="exponential", decay_factor=0.96, decay_epochs=8,
            aux_loss_weight=0.3, policy="inception",
        ),
        Preset(
            "inception_v3",
            source="Szegedy 2016 §8 (arXiv 1512.00567): RMSProp decay 0.9 epsilon 1.0, lr 0.045 decayed "
            "x0.94 every 2 epochs, gradient clipping 2.0, batch 32 on 50 replicas, 100 epochs; §7 "
            "label smoothing 0.1; auxiliary loss weight 0.4 as in TF-slim",
            optimizer_name="rmsprop", learning_rate=0.045, base_batch_size=1600, batch_size=256,
            epochs=100, momentum=0.9, rho=0.9, epsilon=1.0, weight_decay=4e-5, clipnorm=2.0,
            schedule="exponential", decay_factor=0.94, decay_epochs=2, label_smoothing=0.1,
            aux_loss_weight=0.4, policy="inception",
        ),
        Preset(
            "resnet",
            source="He 2015 §3.4 (arXiv 1512.03385): SGD batch 256, lr 0.1 x batch/256, momentum 0.9, "
            "weight decay 1e-4, /10 at epochs 30, 60 and 80 of 90 (the fb.resnet.torch schedule the "
            "paper's 60e4 iterations correspond to); scale augmentation, flips, colour noise",
            learning_rate=0.1, base_batch_size=256, batch_size=256, epochs=90,
            weight_decay=1e-4, schedule="step", boundaries=(30, 60, 80), policy="resnet",
        ),
        Preset(
            "resnet_cifar",
            source="He 2015 §4.2: batch 128, lr 0.1, momentum 0.9, weight decay 1e-4, /10 at 32k and 48k "
            "iterations, stop at 64k (in epochs of 50k images: 81.92, 122.88, 164); pad 4, crop, flip",
            learning_rate=0.1, base_batch_size=128, batch_size=128,
            epochs=math.ceil(64_000 / _CIFAR_STEPS_PER_EPOCH),
            weight_decay=1e-4, schedule="step",
            boundaries=(32_000 / _CIFAR_STEPS_PER_EPOCH, 48_000 / _CIFAR_STEPS_PER_EPOCH), policy="cifar",
        ),
        Preset(
            "wide_resnet_cifar",
            source="Zagoruyko & Komodakis 2016 §3, implementation details (arXiv 1605.07146): SGD Nesterov "
            "momentum 0.9, batch 128, lr 0.1 x0.2 at epochs 60, 120 and 160 of 200, weight decay 5e-4; "
            "pad 4 (reflection in the paper, zeros here), crop, flip; dropout 0.3 only in the dropout "
            "runs (not the default)",
            learning_rate=0.1, base_batch_size=128, batch_size=128, epochs=200, nesterov=True,
            weight_decay=5e-4, schedule="step", boundaries=(60, 120, 160), decay_factor=0.2, policy="cifar",
        ),
        Preset(
            "resnext_cifar",
            source="Xie 2017 §5.3 and appendix A (arXiv 1611.05431): SGD momentum 0.9, batch 128, lr 0.1 "
            "/10 at epochs 150 and 225 of 300, weight decay 5e-4; He 2015's pad 4, crop, flip",
            learning_rate=0.1, base_batch_size=128, batch_size=128, epochs=300,
            weight_decay=5e-4, schedule="step", boundaries=(150, 225), policy="cifar",
        ),
        Preset(
            "densenet",
            source="Huang 2017 §4.2 (arXiv 1608.06993): ImageNet SGD batch 256, Nesterov momentum 0.9, "
            "weight decay 1e-4, lr 0.1 /10 at epochs 30 and 60 of 90",
            learning_rate=0.1, base_batch_size=256, batch_size=256, epochs=90, nesterov=True,
            weight_decay=1e-4, schedule="step", boundaries=(30, 60), policy="resnet",
        ),
        Preset(
            "densenet_cifar",
            source="Huang 2017 §4.2: CIFAR SGD batch 64, Nesterov momentum 0.9, weight decay 1e-4, lr 0.1 "
            "/10 at 50% and 75% of 300 epochs; dropout 0.2 without augmentation",
            learning_rate=0.1, base_batch_size=64, batch_size=64, epochs=300, nesterov=True,
            weight_decay=1e-4, schedule="step", boundaries=(150, 225), policy="cifar",
        ),
        Preset(
            "mobilenet",
            source="Howard 2017 §4 (arXiv 1704.04861): RMSProp, asynchronous, little regularization; the "
            "numbers are MobileNetV2's (Sandler 2018 §6.1): RMSProp decay and momentum 0.9, lr 0.045 "
            "x0.98 per epoch, weight decay 4e-5, batch 96 on 16 GPUs",
            optimizer_name="rmsprop", learning_rate=0.045, base_batch_size=1536, batch_size=256,
            epochs=300, momentum=0.9, rho=0.9, epsilon=1.0, weight_decay=4e-5,
            schedule="exponential", decay_factor=0.98, decay_epochs=1, policy="inception",
        ),
        Preset(
            "shufflenet",
            source="Zhang 2018 §4 (arXiv 1707.01083): ResNeXt's ImageNet settings (SGD momentum 0.9) except "
            "weight decay 4e-5 and a rate decaying linearly from 0.5 to 0; batch 1024 for 3e5 iterations "
            "(240 epochs of 1.28M images); the paper's milder scale augmentation is not a policy here, so "
            "the Inception crop stands in",
            learning_rate=0.5, base_batch_size=1024, batch_size=1024, epochs=240,
            weight_decay=4e-5, schedule="linear", policy="inception",
        ),
        Preset(
            "modern",
            source="Current practice (He et al. 2019 'Bag of Tricks', arXiv 1812.01187; Wightman et al. "
            "2021 'ResNet strikes back', arXiv 2110.00476): SGD Nesterov, lr 0.1 x batch/256, 5 "
            "warmup epochs then cosine, weight decay 5e-5 off BN and biases, label smoothing 0.1, "
            "RandAugment, MixUp 0.2, weight EMA",
            learning_rate=0.1, base_batch_size=256, batch_size=256, epochs=100, nesterov=True,
            weight_decay=5e-5, decay_norm_and_bias=False, schedule="cosine", warmup_epochs=5,
            label_smoothing=0.1, use_ema=True, ema_momentum=0.9999, policy="randaugment", mixup_alpha=0.2,
        ),
        Preset(
            "nas_proxy",
            source="The short proxy training of architecture-search candidates: Zoph 2018 (arXiv "
            "1707.07012) §4 trains each child network for 20 epochs on CIFAR-10, Real 2019 (arXiv "
            "1802.01548) §4 for 25; their optimizer settings are not restated here. SGD momentum 0.9 "
            "with a cosine decay and no warmup, lr 0.05 at batch 64, weight decay 5e-4, no "
            "augmentation: chosen and measured on the 8x8 digits (keras_archs.search), not published",
            learning_rate=0.05, base_batch_size=64, batch_size=64, epochs=20,
            weight_decay=5e-4, schedule="cosine", policy="none",
        ),
    )
}

# The CIFAR preset of models whose paper has no CIFAR recipe (`ModelInfo.cifar_preset` None):
# He 2015 §4.2's, the recipe most later CIFAR papers start from, with 32x32 pad-crop-flip
# augmentation (an ImageNet preset's crops and schedule do not fit 32x32 images).
CIFAR_FALLBACK = "resnet_cifar"


def get_preset(name):
    """A preset by name (see `PRESETS`)."""
    if name not in PRESETS:
        raise ValueError(f"preset must be one of {tuple(PRESETS)}. Received: preset={name!r}")
    return PRESETS[name]


def preset_for_model(model_name, cifar=False):
    """The training preset the registry names for `model_name`.

    Args:
        model_name: a registered model name.
        cifar: the preset for CIFAR-10/100 instead: `ModelInfo.cifar_preset`, or
            `CIFAR_FALLBACK` ("resnet_cifar") where the paper has no CIFAR recipe.

    Returns:
        The `Preset` (`ModelInfo.preset` when `cifar` is False).

    Raises:
        ValueError: for an unregistered model name.
    """
    info = model_info(model_name)
    if cifar:
        return get_preset(info.cifar_preset or CIFAR_FALLBACK)
    return get_preset(info.preset)
