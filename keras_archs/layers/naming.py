"""Layer names: structured ones, or the ones Keras gives unnamed layers."""

import collections

__all__ = ["LayerNames"]


class LayerNames:
    """Hands out layer names: structured ones, or keras' automatic ones for twins.

    Keras names an unnamed layer after its class with a per-class counter (`conv2d`,
    `conv2d_1`, ...), counting only the layers it names itself. keras.applications leaves
    layers unnamed in Inception-v3, Xception, MobileNetV3 and NASNet. With `keras_auto=True`
    this object counts the same way, so a twin built in keras' creation order gets keras'
    names (and its weight files map by name) whatever else the session has built;
    otherwise the structured name is used. An `explicit` name is always used.
    """

    def __init__(self, keras_auto=False):
        self.keras_auto = keras_auto
        self._counts = collections.Counter()

    def __call__(self, kind, structured=None, explicit=False):
        """The name for a layer whose keras automatic name stem is `kind` (e.g. "re_lu").

        Args:
            kind: the snake-case class name keras numbers, e.g. "conv2d".
            structured: the name used without keras' automatic naming.
            explicit: use `structured` even with `keras_auto=True`.

        Returns:
            The layer name.
        """
        if explicit or not self.keras_auto:
            return structured
        index = self._counts[kind]
        self._counts[kind] += 1
        return kind if index == 0 else f"{kind}_{index}"
