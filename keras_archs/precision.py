"""Float32 copies of mixed-precision models, so that no artifact inherits a training policy.

Mixed precision (`mixed_float16`, `mixed_bfloat16`) is a training speed-up: the layers of
a model built under it compute in half precision and return half-precision outputs. A
`.keras` file, SavedModel or TFLite file written from such a model would serve float16 or
bfloat16, and TFLite's full-integer converter rejects it. `float32_model` rebuilds the
same architecture (layer names, custom layers, nested models) with float32 policies and
copies the weights. Backend-agnostic: plain Keras serialization, no TensorFlow.
"""

import keras

__all__ = ["REDUCED_DTYPES", "float32_model", "has_reduced_precision", "reduced_precision_layers"]

# Floating dtypes below float32: a policy that computes or stores in one is "reduced".
REDUCED_DTYPES = ("float16", "bfloat16")
_REDUCED_POLICY_NAMES = ("mixed_float16", "mixed_bfloat16", *REDUCED_DTYPES)
# Keys of a serialized dtype policy's config that name a float policy: "name"
# (DTypePolicy), "source_name" (QuantizedDTypePolicy, e.g. int8 from mixed_bfloat16).
_POLICY_NAME_KEYS = ("name", "source_name")


def _is_reduced(policy):
    return policy.compute_dtype in REDUCED_DTYPES or policy.variable_dtype in REDUCED_DTYPES


def _layers(model):
    # `_flatten_layers` is Keras' own walk over nested models and a layer's sublayers; the
    # public `model.layers` stops at the first level.
    return model._flatten_layers(include_self=True, recursive=True)


def reduced_precision_layers(model):
    """{layer name: policy name} of the layers that compute or store in float16/bfloat16.

    Nested models and sublayers count, and so does `model` itself.
    """
    return {layer.name: layer.dtype_policy.name for layer in _layers(model) if _is_reduced(layer.dtype_policy)}


def has_reduced_precision(model):
    """Whether any layer of `model` (nested ones included) computes or stores below float32."""
    return bool(reduced_precision_layers(model))


def _float32_policy_name(name):
    return "float32" if name in _REDUCED_POLICY_NAMES else name


def _to_float32(value):
    """`value` (a serialized Keras object) with every reduced dtype and policy made float32."""
    if isinstance(value, list):
        return [_to_float32(item) for item in value]
    if not isinstance(value, dict):
        return value
    converted = {}
    for key, item in value.items():
        if key == "dtype" and isinstance(item, str):
            item = _float32_policy_name(item)
        elif key == "dtype" and isinstance(item, dict) and isinstance(item.get("config"), dict):
            # A serialized policy: {"class_name": "DTypePolicy", "config": {"name": ...}, ...}.
            policy = item["config"]
            item = {**item, "config": {field: _float32_policy_name(name) if field in _POLICY_NAME_KEYS else name
                                       for field, name in policy.items()}}
        converted[key] = _to_float32(item)
    return converted


def float32_model(model):
    """`model` with float32 dtype policies everywhere, for saving and export.

    Args:
        model: a Keras model that `get_config`/`from_config` can rebuild (functional and
            sequential models, nested ones, registered custom layers).

    Returns:
        `model` itself when no layer computes or stores in float16/bfloat16. Otherwise a
        new, uncompiled model of the same architecture, layer names and weights (cast to
        float32), whose every layer has a float32 policy: its outputs are float32.

    Raises:
        ValueError: when `model` cannot be rebuilt from its configuration.
    """
    if not has_reduced_precision(model):
        return model
    serialized = keras.saving.serialize_keras_object(model)
    # The copy is for saving and serving: the training state stays with the original.
    serialized.pop("compile_config", None)
    serialized = _to_float32(serialized)
    previous = keras.config.dtype_policy()
    # Layers without a dtype in their config (the model itself, input layers, sublayers a
    # custom layer creates) take the global policy when they are rebuilt.
    keras.config.set_dtype_policy("float32")
    try:
        rebuilt = keras.saving.deserialize_keras_object(serialized)
    except Exception as error:  # noqa: BLE001 - any failure means the config cannot rebuild it
        raise ValueError(
            f"Cannot rebuild the model in float32 from its configuration ({error}). Build it under "
            f"keras.config.set_dtype_policy('float32') and load its weights. Received: model={model.name!r}"
        ) from error
    finally:
        keras.config.set_dtype_policy(previous)
    # get_weights gives numpy arrays; bfloat16 ones (ml_dtypes) cast with astype too.
    rebuilt.set_weights([weight.astype("float32") if str(weight.dtype) in REDUCED_DTYPES else weight
                         for weight in model.get_weights()])
    remaining = reduced_precision_layers(rebuilt)
    if remaining:
        raise ValueError(
            f"Layers kept a float16/bfloat16 policy through the rebuild: {remaining}. Received: model={model.name!r}"
        )
    return rebuilt
