"""The classifier head and feature pooling, the same for every family."""

import keras

__all__ = ["classifier_head", "conv_classifier_head", "pool_features"]

POOLING_CHOICES = (None, "avg", "max")


def pool_features(x, pooling):
    """What `include_top=False` returns: the feature map, or its global avg/max pool."""
    if pooling == "avg":
        return keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if pooling == "max":
        return keras.layers.GlobalMaxPooling2D(name="max_pool")(x)
    return x


def classifier_head(
    x,
    *,
    classes,
    classifier_activation,
    flatten=False,
    hidden_units=(),
    hidden_activation="relu",
    hidden_dropout_rate=0.0,
    dropout_rate=0.0,
    hidden_bias_initializer="zeros",
):
    """Global pooling (or Flatten), optional hidden FC layers, then the classifier.

    Layer names follow `keras.applications`: `avg_pool` or `flatten`, `fc1`, `fc2`, ...,
    `predictions`; dropout layers are `fc1_dropout`, ... and `dropout`.

    Args:
        x: feature map.
        classes: output units.
        classifier_activation: activation of `predictions`; None returns logits.
        flatten: Flatten (AlexNet, VGG) instead of global average pooling.
        hidden_units: units of the hidden fully connected layers.
        hidden_activation: their activation.
        hidden_dropout_rate: dropout after each hidden layer (AlexNet and VGG use 0.5).
        dropout_rate: dropout right before `predictions` (GoogLeNet uses 0.4).
        hidden_bias_initializer: bias initializer of the hidden layers (AlexNet: ones).

    Returns:
        The class scores.
    """
    if flatten:
        x = keras.layers.Flatten(name="flatten")(x)
    else:
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    for index, units in enumerate(hidden_units, start=1):
        x = keras.layers.Dense(
            units,
            activation=hidden_activation,
            bias_initializer=hidden_bias_initializer,
            name=f"fc{index}",
        )(x)
        if hidden_dropout_rate:
            x = keras.layers.Dropout(hidden_dropout_rate, name=f"fc{index}_dropout")(x)
    if dropout_rate:
        x = keras.layers.Dropout(dropout_rate, name="dropout")(x)
    return keras.layers.Dense(classes, activation=classifier_activation, name="predictions")(x)


def conv_classifier_head(x, *, classes, classifier_activation, dropout_rate=0.0, class_activation=None,
                         class_conv_name="class_conv"):
    """A 1x1 convolution to one map per class, then global average pooling.

    Network-in-Network's head (Lin 2014, §3.2), also SqueezeNet's: no dense layer, each
    class map averages to that class's score.

    Args:
        x: feature map.
        classes: output maps.
        classifier_activation: applied after pooling; None returns logits.
        dropout_rate: dropout before the class convolution (SqueezeNet uses 0.5).
        class_activation: activation of the class maps before pooling (SqueezeNet's
            conv10 has a ReLU); None keeps them as logits.
        class_conv_name: name of the class convolution.

    Returns:
        The class scores.
    """
    if dropout_rate:
        x = keras.layers.Dropout(dropout_rate, name="dropout")(x)
    x = keras.layers.Conv2D(classes, 1, activation=class_activation, name=class_conv_name)(x)
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    return keras.layers.Activation(classifier_activation, name="predictions")(x)
