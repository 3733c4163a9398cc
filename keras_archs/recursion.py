"""Python's recursion limit, raised only while a very deep Keras graph is built or loaded.

Keras walks a functional graph recursively (`keras.src.ops.function.map_graph`), one Python
frame per layer on the longest path from the output back to the input. The 1000-layer
CIFAR nets (ResNet-1202's 4,212 layers, pre-activation ResNet-1001) exceed Python's default
limit of 1,000 frames when they are built and when a `.keras` file of one is loaded.
Raising the limit for the whole process would change it for every program that imports
`keras_archs`, so the builders raise it for the duration of the build only:

    with recursion_limit(DEEP_GRAPH_FRAMES):
        model = keras.saving.load_model("resnet1202.keras")
"""

import contextlib
import sys

__all__ = ["DEEP_GRAPH_FRAMES", "recursion_limit"]

# Enough for ResNet-1202 built and loaded, with room for the caller's own frames.
DEEP_GRAPH_FRAMES = 20_000


@contextlib.contextmanager
def recursion_limit(frames):
    """Raises `sys.getrecursionlimit()` to at least `frames` inside the block, then restores it.

    The limit is never lowered: inside the block it is `max(current, frames)`; on leaving
    (normally or by an exception) it is set back to the value it had on entry.

    Args:
        frames: the limit the block needs.

    Yields:
        The limit in force inside the block.
    """
    previous = sys.getrecursionlimit()
    raised = max(previous, frames)
    sys.setrecursionlimit(raised)
    try:
        yield raised
    finally:
        sys.setrecursionlimit(previous)
