"""Layers of the early papers that Keras does not ship.

LeNet-5's squashing function, trainable subsampling, sparse connection-table
convolution and Euclidean RBF output (LeCun et al. 1998), and AlexNet's local response
normalization (Krizhevsky et al. 2012). Each is a registered serializable layer with a
full `get_config`, so `.keras` files load with `safe_mode` on.
"""

import numpy as np
import keras
from keras import ops

__all__ = [
    "ConnectionTableConv2D",
    "EuclideanRBF",
    "LocalResponseNormalization",
    "TrainableSubsampling",
    "scaled_tanh",
]

_PACKAGE = "keras_archs"

# LeCun 1998, Appendix A: f(a) = A tanh(S a) with A = 1.7159 and S = 2/3, chosen so that
# f(1) = 1 and f(-1) = -1 and the gain is close to 1 over the normal operating range.
SQUASH_AMPLITUDE = 1.7159
SQUASH_SLOPE = 2.0 / 3.0


def _scale_side(side, divisor=1, border=0):
    """Output side of a valid window op; None stays None (unknown input size)."""
    return None if side is None else (side - border) // divisor


@keras.saving.register_keras_serializable(package=_PACKAGE)
def scaled_tanh(x):
    """LeNet-5's squashing function `1.7159 * tanh(2/3 * x)` (LeCun 1998, Appendix A)."""
    return SQUASH_AMPLITUDE * ops.tanh(SQUASH_SLOPE * x)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class TrainableSubsampling(keras.layers.Layer):
    """LeNet-5's subsampling layer (S2, S4): per map, coefficient x (2x2 sum) + bias.

    "The four inputs to a unit in S2 are added, then multiplied by a trainable
    coefficient, and added to a trainable bias" (LeCun 1998, §II.B): two trainable
    parameters per feature map. The squashing function is applied after this layer.

    Args:
        pool_size: side of the non-overlapping receptive field (2 in the paper).
    """

    def __init__(self, pool_size=2, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = int(pool_size)

    def build(self, input_shape):
        channels = input_shape[-1]
        self.coefficient = self.add_weight(shape=(channels,), initializer="ones", name="coefficient")
        self.bias = self.add_weight(shape=(channels,), initializer="zeros", name="bias")

    def call(self, inputs):
        window_sum = ops.average_pool(
            inputs, pool_size=self.pool_size, strides=self.pool_size, padding="valid"
        ) * float(self.pool_size**2)
        return window_sum * self.coefficient + self.bias

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        return (batch, _scale_side(height, divisor=self.pool_size), _scale_side(width, divisor=self.pool_size), channels)

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ConnectionTableConv2D(keras.layers.Layer):
    """A convolution in which each output map sees only a listed subset of input maps.

    LeNet-5's C3 (LeCun 1998, Table I) connects each of its 16 maps to 3, 4 or 6 of the
    6 S2 maps, "to break the symmetry in the network" and to keep the connections down.
    Only the listed connections are parameters: C3 has 1,516, where a full 5x5
    convolution would have 2,416. The packed kernel is scattered into a dense one by a
    constant 0/1 matrix, so inference is one ordinary convolution.

    Args:
        connection_table: for each output map, the indices of the input maps it reads.
        kernel_size: side of the square kernel.
        padding: "valid" or "same".
        activation: optional activation.
        kernel_initializer: initializer of the packed kernel.
        bias_initializer: initializer of the bias.
    """

    def __init__(
        self,
        connection_table,
        kernel_size,
        padding="valid",
        activation=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        table = tuple(tuple(int(index) for index in inputs) for inputs in connection_table)
        if not table or any(not inputs for inputs in table):
            raise ValueError(
                "connection_table must list at least one input map for every output map. "
                f"Received: connection_table={connection_table!r}"
            )
        self.connection_table = table
        self.filters = len(table)
        self.kernel_size = int(kernel_size)
        self.padding = padding
        self.activation = keras.activations.get(activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    @property
    def connections(self):
        return sum(len(inputs) for inputs in self.connection_table)

    def build(self, input_shape):
        in_channels = input_shape[-1]
        largest = max(max(inputs) for inputs in self.connection_table)
        if largest >= in_channels:
            raise ValueError(
                f"connection_table reads input map {largest} but the input has {in_channels} maps."
            )
        scatter = np.zeros((self.connections, in_channels * self.filters), dtype="float32")
        slot = 0
        for output_map, inputs in enumerate(self.connection_table):
            for input_map in inputs:
                scatter[slot, input_map * self.filters + output_map] = 1.0
                slot += 1
        self._scatter = scatter
        self._in_channels = in_channels
        self.kernel = self.add_weight(
            shape=(self.kernel_size, self.kernel_size, self.connections),
            initializer=self.kernel_initializer,
            name="kernel",
        )
        self.bias = self.add_weight(shape=(self.filters,), initializer=self.bias_initializer, name="bias")

    def dense_kernel(self):
        """The (k, k, in_channels, filters) kernel with zeros where no connection exists."""
        taps = self.kernel_size * self.kernel_size
        packed = ops.reshape(self.kernel, (taps, self.connections))
        dense = ops.matmul(packed, ops.convert_to_tensor(self._scatter, dtype=self.kernel.dtype))
        return ops.reshape(dense, (self.kernel_size, self.kernel_size, self._in_channels, self.filters))

    def call(self, inputs):
        outputs = ops.conv(inputs, self.dense_kernel(), strides=1, padding=self.padding) + self.bias
        return self.activation(outputs) if self.activation is not None else outputs

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape
        border = 0 if self.padding == "same" else self.kernel_size - 1
        return (batch, _scale_side(height, border=border), _scale_side(width, border=border), self.filters)

    def compute_macs(self, output_shape):
        """Multiply-adds: each output pixel of each map reads k*k*len(inputs) values."""
        _, height, width, _ = output_shape
        return height * width * self.kernel_size**2 * self.connections

    def get_config(self):
        return {
            **super().get_config(),
            "connection_table": [list(inputs) for inputs in self.connection_table],
            "kernel_size": self.kernel_size,
            "padding": self.padding,
            "activation": keras.activations.serialize(self.activation),
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        }


# Stylized 7x12 bitmaps of the digits for the RBF centers (LeCun 1998, Fig. 3): "#" is +1,
# "." is -1. Drawn for this package after the paper's description; the paper's exact
# bitmaps are not published as data.
_DIGIT_BITMAPS = {
    0: ".#####.|##...##|#.....#|#.....#|#.....#|#.....#|#.....#|#.....#|#.....#|#.....#|##...##|.#####.",
    1: "...#...|..##...|.#.#...|...#...|...#...|...#...|...#...|...#...|...#...|...#...|...#...|.#####.",
    2: ".#####.|##...##|......#|......#|.....##|....##.|...##..|..##...|.##....|##.....|#......|#######",
    3: ".#####.|##...##|......#|......#|.....##|..####.|.....##|......#|......#|......#|##...##|.#####.",
    4: "....##.|...#.#.|..#..#.|.#...#.|#....#.|#....#.|#######|.....#.|.....#.|.....#.|.....#.|.....#.",
    5: "#######|#......|#......|#......|######.|.....##|......#|......#|......#|......#|##...##|.#####.",
    6: "..####.|.##....|##.....|#......|#.####.|##...##|#.....#|#.....#|#.....#|#.....#|##...##|.#####.",
    7: "#######|......#|.....##|.....#.|....##.|....#..|...##..|...#...|..##...|..#....|..#....|..#....",
    8: ".#####.|##...##|#.....#|#.....#|##...##|.#####.|##...##|#.....#|#.....#|#.....#|##...##|.#####.",
    9: ".#####.|##...##|#.....#|#.....#|#.....#|##...##|.####.#|......#|......#|.....##|....##.|.####..",
}


def digit_rbf_centers():
    """The (84, 10) matrix of +1/-1 digit bitmaps, one column per digit."""
    columns = []
    for digit in range(10):
        rows = _DIGIT_BITMAPS[digit].split("|")
        columns.append([1.0 if pixel == "#" else -1.0 for row in rows for pixel in row])
    return np.array(columns, dtype="float32").T


@keras.saving.register_keras_serializable(package=_PACKAGE)
class EuclideanRBF(keras.layers.Layer):
    """LeNet-5's output layer: one Euclidean radial basis function unit per class.

    Unit i outputs the squared distance between its input and a parameter vector
    (LeCun 1998, eq. 7), a penalty: the smaller, the better the match. This layer
    returns the negated penalties, so they serve as logits: cross-entropy on them is the
    paper's discriminative criterion (eq. 9) in the limit of its constant j.

    The parameter vectors "were chosen by hand and kept fixed (at least initially)": for
    10 classes of 84 inputs they are the stylized 7x12 digit bitmaps; otherwise random
    +1/-1 codes from a fixed seed. They are not trainable unless `trainable_centers`.

    Args:
        units: number of classes.
        trainable_centers: whether the parameter vectors are learned.
        seed: seed of the random codes used when no bitmap set fits.
    """

    def __init__(self, units, trainable_centers=False, seed=1998, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.trainable_centers = bool(trainable_centers)
        self.seed = int(seed)

    def _initial_centers(self, in_features):
        if in_features == 84 and self.units == 10:
            return digit_rbf_centers()
        codes = np.random.default_rng(self.seed).choice([-1.0, 1.0], size=(in_features, self.units))
        return codes.astype("float32")

    def build(self, input_shape):
        in_features = input_shape[-1]
        self.centers = self.add_weight(
            shape=(in_features, self.units),
            initializer=keras.initializers.Constant(self._initial_centers(in_features)),
            trainable=self.trainable_centers,
            name="centers",
        )

    def call(self, inputs):
        # The negated penalty -(|x|^2 - 2 x.c + |c|^2), written with products and differences
        # only: TFLite's integer kernels cover MUL and SUB but not SQUARE or NEG, which would
        # leave float ops inside a full-integer model.
        squared_inputs = ops.sum(inputs * inputs, axis=-1, keepdims=True)
        squared_centers = ops.sum(self.centers * self.centers, axis=0)
        return 2.0 * ops.matmul(inputs, self.centers) - squared_inputs - squared_centers

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def compute_macs(self, output_shape):
        """Multiply-adds of the distance computation, as for a dense layer."""
        return int(self.centers.shape[0]) * self.units

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "trainable_centers": self.trainable_centers,
            "seed": self.seed,
        }


@keras.saving.register_keras_serializable(package=_PACKAGE)
class LocalResponseNormalization(keras.layers.Layer):
    """AlexNet's local response normalization across adjacent channels.

    b = a / (k + alpha * sum of a^2 over `size` adjacent maps)^beta (Krizhevsky 2012,
    §3.3), with the paper's constants k=2, n=5, alpha=1e-4, beta=0.75. The sum is not
    divided by n: the paper's form, not Caffe's or PyTorch's (which use alpha/n).

    Args:
        size: number of adjacent maps summed (odd).
        bias: k.
        alpha: scale of the sum.
        beta: exponent.
    """

    def __init__(self, size=5, bias=2.0, alpha=1e-4, beta=0.75, **kwargs):
        super().__init__(**kwargs)
        if int(size) < 1 or int(size) % 2 == 0:
            raise ValueError(f"size must be a positive odd integer. Received: size={size!r}")
        self.size = int(size)
        self.bias = float(bias)
        self.alpha = float(alpha)
        self.beta = float(beta)

    def call(self, inputs):
        radius = self.size // 2
        channels = inputs.shape[-1]
        padded = ops.pad(ops.square(inputs), [[0, 0], [0, 0], [0, 0], [radius, radius]])
        window_sum = padded[..., 0:channels]
        for offset in range(1, self.size):
            window_sum = window_sum + padded[..., offset : offset + channels]
        return inputs / ops.power(self.bias + self.alpha * window_sum, self.beta)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "size": self.size,
            "bias": self.bias,
            "alpha": self.alpha,
            "beta": self.beta,
        }
