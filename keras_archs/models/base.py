"""The one input-to-head path that every architecture is built through.

A family builder supplies its `features` (input tensor -> feature map) and its `head`
(feature map -> class scores); `build_model` validates the keras.applications-style
arguments before any layer exists, makes the input, adds the head or the feature
pooling, and loads weights.
"""

import dataclasses
import numbers
import os
from typing import Any, Callable, Optional

import keras

from keras_archs.checks import check_activation, check_bool, check_choice, check_positive_int
from keras_archs.layers.heads import POOLING_CHOICES, pool_features
from keras_archs.registry import WEIGHT_SOURCES, registered_name

__all__ = ["ApplicationArguments", "AuxiliaryHeads", "append_to_docstring", "build_model"]

WEIGHT_SUFFIXES = (".weights.h5", ".keras", ".h5")


def append_to_docstring(function, text):
    """Appends `text` to `function.__doc__`, which is None under `python -OO`.

    Args:
        function: the function whose docstring grows.
        text: what to append.
    """
    # -OO strips docstrings: there is nothing to extend, and `None += str` would fail at import.
    if function.__doc__ is not None:
        function.__doc__ += text


def _check_image_data_format():
    """Raises ValueError unless Keras is set to channels-last images."""
    data_format = keras.config.image_data_format()
    if data_format != "channels_last":
        raise ValueError(
            "keras_archs models are built channels-last (height, width, channels): call "
            'keras.config.set_image_data_format("channels_last") before building one, and '
            "transpose channels-first inputs (or convert the exported model). "
            f"Received: keras.config.image_data_format()={data_format!r}"
        )


def _names_pretrained(weights):
    """Whether `weights` names published weights ("imagenet" or a tag like "keras") rather than a file."""
    return (
        isinstance(weights, str)
        and not weights.endswith(WEIGHT_SUFFIXES)
        and (weights == "imagenet" or weights.partition(".")[0] in WEIGHT_SOURCES)
    )


def _check_weights(weights):
    """Checks a weights file argument (`build_model` checks published weights with their entry)."""
    if weights is None or _names_pretrained(weights):
        return
    if not isinstance(weights, (str, os.PathLike)):
        raise ValueError(
            "weights must be None, 'imagenet' or a path to a weights file. "
            f"Received: weights={weights!r}"
        )
    path = os.fspath(weights)
    if not path.endswith(WEIGHT_SUFFIXES):
        raise ValueError(
            f"weights must be 'imagenet' or a file ending in one of {WEIGHT_SUFFIXES}. Received: weights={weights!r}"
        )
    if not os.path.isfile(path):
        raise ValueError(f"The weights file does not exist. Received: weights={weights!r}")


def _is_dimension(value):
    return value is None or (
        isinstance(value, numbers.Integral) and not isinstance(value, bool) and value > 0
    )


def _resolve_input_shape(input_shape, input_tensor, input_spec, include_top):
    """The (height, width, channels) the model is built for, checked against the spec."""
    if input_shape is not None:
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3 or not all(
            _is_dimension(value) for value in input_shape
        ):
            raise ValueError(
                "input_shape must be a tuple (height, width, channels) of positive integers "
                f"(None allowed for height and width). Received: input_shape={input_shape!r}"
            )
        input_shape = tuple(input_shape)
    if input_tensor is not None:
        if not keras.backend.is_keras_tensor(input_tensor):
            raise ValueError(
                "input_tensor must be a Keras tensor, e.g. keras.Input(shape=(224, 224, 3)). "
                f"Received: input_tensor={input_tensor!r}"
            )
        tensor_shape = tuple(input_tensor.shape)
        if len(tensor_shape) != 4:
            raise ValueError(
                "input_tensor must be a batch of images (rank 4, channels last). "
                f"Received: input_tensor with shape {tensor_shape}"
            )
        if input_shape is not None and input_shape != tensor_shape[1:]:
            raise ValueError(
                f"input_shape and input_tensor disagree. Received: input_shape={input_shape!r} "
                f"and input_tensor with shape {tensor_shape}"
            )
        shape, argument = tensor_shape[1:], "input_tensor"
    elif input_shape is not None:
        shape, argument = input_shape, "input_shape"
    elif include_top:
        shape, argument = input_spec.default_shape, "input_shape"
    else:
        shape, argument = (None, None, input_spec.channels), "input_shape"

    height, width, channels = shape
    if channels is None:
        raise ValueError(f"The number of channels must be known. Received: {argument}={shape!r}")
    requirement = f" ({input_spec.requirement})" if input_spec.requirement else ""
    for side in (height, width):
        if side is not None and side < input_spec.min_size:
            raise ValueError(
                f"Input height and width must be at least {input_spec.min_size} for this "
                f"model{requirement}. Received: {argument}={shape!r}"
            )
    if include_top and input_spec.fixed_size_top and (height is None or width is None):
        reason = input_spec.requirement or "this model flattens its feature map"
        raise ValueError(
            f"With include_top=True height and width must be fixed ({reason}). "
            f"Received: {argument}={shape!r}"
        )
    return shape


@dataclasses.dataclass(frozen=True)
class ApplicationArguments:
    """The eight arguments every constructor shares with `keras.applications`.

    A constructor keeps them in its signature (users read it in `help()`) and hands them
    on in one way, `ApplicationArguments.of(locals())`, whatever its family.
    """

    include_top: Any = True
    weights: Any = None
    input_tensor: Any = None
    input_shape: Any = None
    pooling: Any = None
    classes: Any = 1000
    classifier_activation: Any = "softmax"
    name: Any = None

    @classmethod
    def of(cls, namespace):
        """The common arguments found in `namespace` (a constructor's `locals()`)."""
        return cls(**{field.name: namespace[field.name] for field in dataclasses.fields(cls)})


@dataclasses.dataclass(frozen=True)
class AuxiliaryHeads:
    """Auxiliary classifiers (GoogLeNet §5, Inception-v3 §4), gated and sized in one place.

    Attributes:
        enabled: the constructor's `aux_logits`; the heads are built only with
            `include_top=True` as well.
        min_size: the smallest input side whose grid the heads' pooling and "FC" layers
            fit; with the heads on, `build_model` refuses a smaller or unfixed input
            before any layer exists.
        build: `build(x, *args, classes=..., classifier_activation=...)` returning one
            head's class scores; the features call `add_auxiliary(x, *args)` where a head
            branches off.
        count: how many heads the model adds (for the message).
    """

    enabled: bool
    min_size: int
    build: Callable
    count: int = 1

    def input_spec(self, input_spec):
        """`input_spec` as the heads need it: fixed, and at least `min_size`."""
        needs = "the auxiliary classifiers need" if self.count > 1 else "the auxiliary classifier needs"
        return dataclasses.replace(
            input_spec, min_size=max(input_spec.min_size, self.min_size), fixed_size_top=True,
            requirement=f"{needs} a {self.min_size}x{self.min_size} input or larger, of fixed size. "
            "Received: aux_logits=True",
        )


def build_model(
    *,
    features,
    head,
    input_spec,
    arguments,
    default_name,
    registry_name=None,
    form=None,
    auxiliary: Optional[AuxiliaryHeads] = None,
):
    """Validates the common arguments, then builds `keras.Model(input, head(features(input)))`.

    The common arguments mean what they mean in `keras.applications`:

    Args:
        features: callable from the input tensor to the feature map; with `auxiliary`,
            `features(x, add_auxiliary)`, where `add_auxiliary(x, *args)` adds a head
            (GoogLeNet, Inception-v3) whose output follows the main one.
        head: callable `(feature_map, classes=..., classifier_activation=...)` returning
            the class scores; used when `include_top=True`.
        input_spec: the architecture's `keras_archs.registry.InputSpec`.
        arguments: the constructor's `ApplicationArguments`, whose fields are:
            include_top: whether to add the classifier head.
            weights: None (random initialization), "imagenet" (the registry's default
                published checkpoint for `registry_name`, as keras.applications loads its own:
                1000 classes and the default input with the top, RGB input), a checkpoint's
                tag (e.g. "torchvision.IMAGENET1K_V1"; see `keras_archs.model_info(name).weights`),
                or the path of a `.weights.h5` or `.keras` file to load.
            input_tensor: optional Keras tensor to use as the model's input.
            input_shape: optional (height, width, channels); defaults to the paper's input with
                `include_top=True` and to (None, None, channels) without.
            pooling: with `include_top=False`: None returns the 4D feature map, "avg" or
                "max" its global pooling.
            classes: number of classes of the head.
            classifier_activation: activation of the head's output; None returns logits.
            name: model name; None names it `default_name`.
        default_name: the registry name of the configuration the constructor builds.
        registry_name: the registry name of the configuration being built, under which
            `weights="imagenet"` finds its checkpoints; default `default_name`, whatever
            `name` the user gives the model.
        form: instead of `registry_name`, for a constructor that serves several names:
            `(constructor, options)`, the options of this build that change its weights;
            the name is the one registered with that form (`registry.registered_name`).
        auxiliary: the model's `AuxiliaryHeads`, if it has any.

    Returns:
        A `keras.Model`.

    Raises:
        ValueError: naming the argument and the received value, before any layer is built;
            also when `keras.config.image_data_format()` is not "channels_last".
        ImportError: when published weights need a package that is missing (before any
            layer is built or file downloaded).
        OSError: when published weights cannot be downloaded (the message says which file
            to put where).
    """
    include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation, name = (
        getattr(arguments, field.name) for field in dataclasses.fields(ApplicationArguments)
    )
    name = default_name if name is None else name
    _check_image_data_format()
    check_bool(include_top, "include_top")
    with_auxiliary = auxiliary is not None and auxiliary.enabled and include_top
    if auxiliary is not None:
        check_bool(auxiliary.enabled, "aux_logits")
        if with_auxiliary:
            input_spec = auxiliary.input_spec(input_spec)
    _check_weights(weights)
    check_choice(pooling, POOLING_CHOICES, "pooling")
    check_positive_int(classes, "classes")
    check_activation(classifier_activation, "classifier_activation")
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string. Received: name={name!r}")
    shape = _resolve_input_shape(input_shape, input_tensor, input_spec, include_top)
    weights_module = None
    if _names_pretrained(weights):
        # keras_archs.weights sits above the models in the import order (it reads the registry
        # that the model modules fill, and converts through keras_archs.convert, which builds
        # models): imported here, when published weights are asked for, it keeps that order and
        # keeps the download code out of every other build.
        from keras_archs import weights as weights_module  # noqa: PLC0415

        if form is not None:
            registry_name = registered_name(*form)
        registry_name = registry_name or default_name
        entry = weights_module.select(registry_name, weights)
        weights_module.check_arguments(
            entry, include_top=include_top, classes=classes, classifier_activation=classifier_activation,
            shape=shape, default_shape=input_spec.default_shape,
        )
        weights_module.check_requirements(registry_name, entry)

    if input_tensor is None:
        inputs = x = keras.Input(shape=shape, name="input_layer")
    else:
        inputs, x = keras.utils.get_source_inputs(input_tensor), input_tensor
    auxiliary_outputs = []
    if auxiliary is None:
        x = features(x)
    else:
        def add_auxiliary(branch, *args):
            if with_auxiliary:
                auxiliary_outputs.append(auxiliary.build(
                    branch, *args, classes=classes, classifier_activation=classifier_activation
                ))

        x = features(x, add_auxiliary)
    if include_top:
        outputs = head(x, classes=classes, classifier_activation=classifier_activation)
        if auxiliary_outputs:
            outputs = [outputs, *auxiliary_outputs]
    else:
        outputs = pool_features(x, pooling)
    model = keras.Model(inputs, outputs, name=name)
    if weights_module is not None:
        model.load_weights(weights_module.weights_file(
            registry_name, weights, include_top=include_top, auxiliary=bool(auxiliary_outputs)
        ))
    elif weights is not None:
        model.load_weights(os.fspath(weights))
    return model
