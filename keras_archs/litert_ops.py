"""Where a `.tflite` file spends its time: its ops, which ones XNNPACK takes, and time per op.

LiteRT's Python interpreter has no per-op profiler, so each operator is measured alone: it is
cut out of the file into a one-operator model (its constant inputs kept, its other inputs made
the model's inputs), loaded into the LiteRT interpreter with the default XNNPACK delegate, and
timed (median of `runs` invokes). The delegate either replaces the lone node with its own
kernel node (the op is delegated) or leaves it to LiteRT's builtin kernels; both are
recorded. Timed alone, an op's cost leaves out what the whole graph adds around it (a switch
between XNNPACK partitions and builtin kernels, cache effects), so the whole file's latency and
its number of delegate partitions are measured too (`ModelOps`).

Typical use: `print(op_report("model_int8.tflite").markdown())`.
"""

import collections
import dataclasses
import os
import statistics
import time
from typing import Tuple

import numpy as np

from keras_archs.checks import check_positive_int

__all__ = ["ModelOps", "OpTiming", "op_report", "op_name_table"]

_DELEGATE_NODE = "DELEGATE"  # the name LiteRT gives a delegate's kernel node


@dataclasses.dataclass(frozen=True)
class OpTiming:
    """One operator of a `.tflite` file, measured alone."""

    index: int
    op: str
    dtype: str
    output_shape: Tuple[int, ...]
    delegated: bool
    ms: float


@dataclasses.dataclass(frozen=True)
class ModelOps:
    """A `.tflite` file's operators and how the LiteRT interpreter runs the whole of it."""

    path: str
    num_threads: int
    ops: Tuple[OpTiming, ...]
    partitions: int
    model_ms: float

    @property
    def delegated_fraction(self):
        """The share of the summed per-op time spent in ops the XNNPACK delegate takes."""
        total = sum(op.ms for op in self.ops)
        return sum(op.ms for op in self.ops if op.delegated) / total if total else 1.0

    def by_op(self):
        """Rows (op, dtype, delegated, count, total ms), the costliest first."""
        groups = collections.defaultdict(lambda: [0, 0.0])
        for op in self.ops:
            group = groups[(op.op, op.dtype, op.delegated)]
            group[0] += 1
            group[1] += op.ms
        return sorted(((*key, count, ms) for key, (count, ms) in groups.items()), key=lambda row: -row[-1])

    def markdown(self, title=None):
        """The per-op-type table: count, XNNPACK or builtin kernels, summed time, share."""
        total = sum(op.ms for op in self.ops) or 1.0
        lines = [] if title is None else [f"**{title}**: {len(self.ops)} ops, {self.partitions} XNNPACK "
                                          f"partition(s), whole file {self.model_ms:.3f} ms, ops alone "
                                          f"{sum(op.ms for op in self.ops):.3f} ms ({self.num_threads} thread)", ""]
        lines += ["| op | dtype | run by | count | ms (alone, summed) | share |", "|---|---|---|---|---|---|"]
        for op, dtype, delegated, count, ms in self.by_op():
            lines.append(f"| {op} | {dtype} | {'XNNPACK' if delegated else 'builtin kernel'} | {count} | "
                         f"{ms:.3f} | {ms / total:.0%} |")
        return "\n".join(lines)


def _schema():
    from ai_edge_litert import schema_py_generated

    return schema_py_generated


def op_name_table():
    """Builtin operator codes to their names (e.g. 3 -> "CONV_2D")."""
    operators = _schema().BuiltinOperator
    return {value: name for name, value in vars(operators).items() if not name.startswith("_")}


_TYPE_NAMES = {0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 7: "int16", 9: "int8"}


def _read_model(path):
    schema = _schema()
    with open(path, "rb") as handle:
        content = handle.read()
    return schema.ModelT.InitFromObj(schema.Model.GetRootAs(content, 0))


def _has_data(model, tensor):
    buffer = model.buffers[tensor.buffer]
    return buffer is not None and buffer.data is not None and len(buffer.data) > 0


def _one_op_model(model, operator):
    """A model that runs `operator` alone, and the original indices of its inputs.

    Its tensors are renumbered and only the buffers it reads are kept.
    """
    schema = _schema()
    import flatbuffers

    graph = model.subgraphs[0]
    used = [index for index in list(operator.inputs) + list(operator.outputs) if index >= 0]
    renumber = {old: new for new, old in enumerate(dict.fromkeys(used))}
    buffers, tensors, inputs = [schema.BufferT()], [], []
    for old in renumber:
        tensor = graph.tensors[old]
        copy = schema.TensorT()
        copy.__dict__.update(tensor.__dict__)
        if _has_data(model, tensor):
            buffers.append(model.buffers[tensor.buffer])
            copy.buffer = len(buffers) - 1
        else:
            copy.buffer = 0
            if old in operator.inputs:
                inputs.append(renumber[old])
        tensors.append(copy)
    single = schema.OperatorT()
    single.__dict__.update(operator.__dict__)
    single.inputs = [renumber.get(index, -1) for index in operator.inputs]
    single.outputs = [renumber[index] for index in operator.outputs]
    subgraph = schema.SubGraphT()
    subgraph.tensors, subgraph.inputs, subgraph.operators = tensors, inputs, [single]
    subgraph.outputs = list(single.outputs)
    result = schema.ModelT()
    result.version, result.operatorCodes, result.subgraphs, result.buffers = 3, model.operatorCodes, [subgraph], buffers
    builder = flatbuffers.Builder(1024)
    builder.Finish(result.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output()), [list(renumber)[index] for index in inputs]


def _random_inputs(interpreter, rng):
    for detail in interpreter.get_input_details():
        dtype = detail["dtype"]
        if np.issubdtype(dtype, np.floating):
            value = rng.standard_normal(detail["shape"]).astype(dtype)
        else:
            limits = np.iinfo(dtype)
            value = rng.integers(limits.min, limits.max, detail["shape"], endpoint=True).astype(dtype)
        interpreter.set_tensor(detail["index"], value)


def _all_tensor_values(path, rng):
    """Every tensor of one run of the whole file on random input, by index (shapes, indices, activations)."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interpreter = Interpreter(model_path=path, experimental_preserve_all_tensors=True,
                              experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interpreter.allocate_tensors()
    _random_inputs(interpreter, rng)
    interpreter.invoke()
    values = {}
    for detail in interpreter.get_tensor_details():
        try:
            values[detail["index"]] = interpreter.get_tensor(detail["index"])
        except ValueError:  # a tensor without data (an optional or a constant one)
            continue
    return values


def _median_invoke_ms(interpreter, runs, warmup=3):
    for _ in range(warmup):
        interpreter.invoke()
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        interpreter.invoke()
        timings.append((time.perf_counter() - start) * 1e3)
    return statistics.median(timings)


def _delegate_nodes(interpreter):
    native = interpreter._interpreter  # the node list is only exposed on the wrapped interpreter
    return sum(native.NodeName(index) == _DELEGATE_NODE for index in range(native.NumNodes()))


def op_report(path, *, num_threads=1, runs=20, seed=0):
    """Measures every operator of a `.tflite` file alone, and the whole file.

    Args:
        path: a `.tflite` file with one subgraph.
        num_threads: interpreter threads.
        runs: invokes per median.
        seed: seed of the random inputs.

    Returns:
        A `ModelOps`.

    Raises:
        ValueError: when `path` is not a readable `.tflite` file or the counts are not positive.
    """
    from ai_edge_litert.interpreter import Interpreter

    path = os.fspath(path)
    if not path.endswith(".tflite") or not os.path.isfile(path):
        raise ValueError(f"path must be an existing '.tflite' file. Received: path={path!r}")
    check_positive_int(num_threads, "num_threads")
    check_positive_int(runs, "runs")
    model = _read_model(path)
    names = op_name_table()
    graph = model.subgraphs[0]
    rng = np.random.default_rng(seed)
    values = _all_tensor_values(path, rng)
    timings = []
    for index, operator in enumerate(graph.operators):
        code = model.operatorCodes[operator.opcodeIndex]
        op = names.get(max(code.builtinCode, code.deprecatedBuiltinCode), code.customCode or "CUSTOM")
        output = graph.tensors[operator.outputs[0]]
        first_input = graph.tensors[operator.inputs[0]]
        content, original_inputs = _one_op_model(model, operator)
        interpreter = Interpreter(model_content=content, num_threads=num_threads)
        interpreter.allocate_tensors()
        for detail, original in zip(interpreter.get_input_details(), original_inputs):
            interpreter.set_tensor(detail["index"], values[original])
        timings.append(OpTiming(
            index=index,
            op=op,
            dtype=_TYPE_NAMES.get(first_input.type, str(first_input.type)),
            output_shape=tuple(int(size) for size in output.shape),
            delegated=_delegate_nodes(interpreter) > 0,
            ms=_median_invoke_ms(interpreter, runs),
        ))
    whole = Interpreter(model_path=path, num_threads=num_threads)
    whole.allocate_tensors()
    _random_inputs(whole, rng)
    return ModelOps(path=path, num_threads=num_threads, ops=tuple(timings), partitions=_delegate_nodes(whole),
                    model_ms=_median_invoke_ms(whole, runs))
