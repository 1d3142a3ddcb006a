"""Read a .tflite file into a Graph, defensively.

The file may be anything: not a regular file, huge, not a flatbuffer, truncated,
bit-flipped. Only regular files up to MAX_MODEL_BYTES are read; every table, offset
and length is checked by mcugen.model.flatbuf before use, and every failure is a
ModelError that names the table, field and byte offset (and the tensor or operator)
that is wrong: never a crash, a hang or a huge allocation.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path
from types import MappingProxyType

import numpy as np
from tflite.BuiltinOperator import BuiltinOperator

from mcugen.errors import ModelError
from mcugen.model.custom import decode_custom_options
from mcugen.model.flatbuf import Buffer, FlatbufferError, Table
from mcugen.model.graph import DTYPES, Graph, Operator, Quantization, Tensor
from mcugen.model.options import OPTION_TYPE_NAMES, decode_options
from mcugen.text import printable, quoted

FILE_IDENTIFIER = b"TFL3"  # TFLite schema file_identifier, bytes 4..8
# Far above any model a microcontroller holds (the largest external flash is a few tens
# of MiB), far below what would strain the host.
MAX_MODEL_BYTES = 64 << 20
MAX_RANK = 8  # TFLite kernels take at most 6 dimensions; more is a corrupt file
MAX_ELEMENTS = (1 << 31) - 1  # TFLite counts elements and bytes in 32-bit ints
MAX_ENTRIES = 100_000  # tensors, operators, buffers or operator codes: far above any MCU model
PATH_LIMIT = 200  # characters of a file path in a message

OPCODE_NAMES: dict[int, str] = {
    v: k for k, v in vars(BuiltinOperator).items() if not k.startswith("_") and isinstance(v, int)
}

# Field slots of the TFLite schema tables (4 + 2 * field id).
MODEL_OPERATOR_CODES, MODEL_SUBGRAPHS, MODEL_DESCRIPTION, MODEL_BUFFERS = 6, 8, 10, 12
CODE_DEPRECATED_BUILTIN, CODE_CUSTOM, CODE_VERSION, CODE_BUILTIN = 4, 6, 8, 10
SUBGRAPH_TENSORS, SUBGRAPH_INPUTS, SUBGRAPH_OUTPUTS, SUBGRAPH_OPERATORS = 4, 6, 8, 10
TENSOR_SHAPE, TENSOR_TYPE, TENSOR_BUFFER, TENSOR_NAME, TENSOR_QUANTIZATION = 4, 6, 8, 10, 12
TENSOR_IS_VARIABLE, TENSOR_SPARSITY, TENSOR_SHAPE_SIGNATURE = 14, 16, 18
QUANT_SCALE, QUANT_ZERO_POINT, QUANT_DIMENSION = 8, 10, 16
OP_OPCODE_INDEX, OP_INPUTS, OP_OUTPUTS, OP_OPTIONS_TYPE, OP_OPTIONS, OP_INTERMEDIATES = 4, 6, 8, 10, 12, 20
OP_CUSTOM_OPTIONS = 14
BUFFER_DATA, BUFFER_OFFSET, BUFFER_SIZE = 4, 6, 8


def _corrupt(name: str, detail: str) -> ModelError:
    return ModelError(
        f"{quoted(name)} is a corrupt or truncated TFLite file: {detail}.",
        hint="Re-export the model; check that the file was copied completely.",
    )


def _count(table: Table, n: int, what: str) -> int:
    if n > MAX_ENTRIES:
        raise FlatbufferError(table.where, f"it lists {n:,} {what}, more than any model mcugen takes "
                              f"({MAX_ENTRIES:,})")
    return n


def _opcode(code: Table) -> tuple[str, int, str | None]:
    builtin = max(int(code.scalar(CODE_BUILTIN, "i", "builtin_code")),
                  int(code.scalar(CODE_DEPRECATED_BUILTIN, "b", "deprecated_builtin_code")))
    name = OPCODE_NAMES.get(builtin, f"UNKNOWN_{builtin}")
    custom = code.string(CODE_CUSTOM, "custom_code") if name == "CUSTOM" else None
    return name, int(code.scalar(CODE_VERSION, "i", "version", 1)), custom


def _quantization(t: Table, where: str) -> Quantization | None:
    q = t.table(TENSOR_QUANTIZATION, "quantization", f"{where} quantization")
    if q is None:
        return None
    scale = q.numbers(QUANT_SCALE, "scale", "f")
    zp = q.numbers(QUANT_ZERO_POINT, "zero_point", "q")
    if scale.size == 0:
        return None
    if zp.size == 0:
        zp = np.zeros(scale.size, dtype=np.int64)
    if zp.size != scale.size:
        raise FlatbufferError(q.where, f"{scale.size:,} scales but {zp.size:,} zero points")
    return Quantization(
        scale=tuple(float(s) for s in scale),
        zero_point=tuple(int(z) for z in zp),
        axis=int(q.scalar(QUANT_DIMENSION, "i", "quantized_dimension")),
    )


class _Parser:
    def __init__(self, data: bytes, name: str) -> None:
        self.buf = Buffer(data)
        self.name = name
        self.model = self.buf.root()
        self.buffers = self.model.tables(MODEL_BUFFERS, "buffers", "buffers")
        _count(self.model, len(self.buffers), "buffers")

    def buffer_data(self, index: int, where: str) -> memoryview | None:
        if index == 0:
            return None  # buffer 0 is the schema's empty sentinel
        if index >= len(self.buffers):
            raise FlatbufferError(where, f"buffer index {index:,} out of range (the model has "
                                  f"{len(self.buffers):,} buffers)")
        b = self.buffers.get(index, f"Buffer {index} (of {where})")
        offset = b.scalar(BUFFER_OFFSET, "Q", "offset")
        size = b.scalar(BUFFER_SIZE, "Q", "size")
        if offset > 1:
            # Large models keep buffers after the flatbuffer, addressed by file offset.
            if offset + size > self.buf.size:
                raise FlatbufferError(b.where, f"its data (offset {offset:,}, size {size:,}) lies beyond the end "
                                      f"of the file ({self.buf.size:,} bytes)")
            return memoryview(self.buf.data)[offset : offset + size]
        data = b.bytes_view(BUFFER_DATA, "data")
        return data if len(data) else None

    def tensor(self, index: int, t: Table) -> Tensor:
        raw_name = t.string(TENSOR_NAME, "name")
        where = t.where = f"Tensor {index} {quoted(raw_name)}" if raw_name else f"Tensor {index}"
        type_id = t.scalar(TENSOR_TYPE, "b", "type")
        if type_id not in DTYPES:
            raise FlatbufferError(where, f"unknown type code {type_id}", None)
        dtype, np_dtype, elem = DTYPES[type_id]
        shape = tuple(int(d) for d in t.numbers(TENSOR_SHAPE, "shape", "i"))
        signature = tuple(int(d) for d in t.numbers(TENSOR_SHAPE_SIGNATURE, "shape_signature", "i"))
        _check_dims(where, shape)
        count = 1
        for d in shape:
            count *= d
        data = self.buffer_data(int(t.scalar(TENSOR_BUFFER, "I", "buffer")), where)
        array = None
        if data is not None:
            if np_dtype is None:
                raise ModelError(f"{where} holds constant data of type {dtype}, which mcugen cannot read.")
            if len(data) != count * elem:
                raise FlatbufferError(where, f"its buffer holds {len(data):,} bytes but shape {list(shape)} of "
                                      f"{dtype} needs {count * elem:,}")
            array = np.frombuffer(data, dtype=np_dtype).reshape(shape)
        if t.has(TENSOR_SPARSITY):
            raise ModelError(f"{where} is sparse; mcugen needs dense weights.")
        return Tensor(
            index=index,
            name=raw_name or f"tensor_{index}",
            shape=shape,
            dtype=dtype,
            quant=_quantization(t, where),
            data=array,
            shape_signature=signature,
            is_variable=bool(t.scalar(TENSOR_IS_VARIABLE, "?", "is_variable")),
        )

    def refs(self, table: Table, slot: int, field: str, n_tensors: int, allow_absent: bool) -> tuple[int, ...]:
        values = table.numbers(slot, field, "i")
        low = -1 if allow_absent else 0
        bad = np.flatnonzero((values < low) | (values >= n_tensors))
        if bad.size:
            j = int(bad[0])
            start, _ = table.vector(slot, field, 4)
            raise FlatbufferError(table.where, f"{field} entry {j} is tensor index {int(values[j]):,}, out of range "
                                  f"(the subgraph has {n_tensors:,} tensors)", start + 4 * j)
        return tuple(int(v) for v in values)

    def operator(self, i: int, op: Table, opcodes: list[tuple[str, int, str | None]], n_tensors: int) -> Operator:
        code_index = op.scalar(OP_OPCODE_INDEX, "I", "opcode_index")
        if code_index >= len(opcodes):
            raise FlatbufferError(op.where, f"operator code index {code_index:,} out of range (the model has "
                                  f"{len(opcodes):,} operator codes)")
        opcode, version, custom = opcodes[code_index]
        op.where = f"Operator {i} ({opcode}, subgraph 0)"
        inputs = self.refs(op, OP_INPUTS, "inputs", n_tensors, True)
        outputs = self.refs(op, OP_OUTPUTS, "outputs", n_tensors, False)
        intermediates = self.refs(op, OP_INTERMEDIATES, "intermediates", n_tensors, True)
        options = {}
        type_id = op.scalar(OP_OPTIONS_TYPE, "B", "builtin_options_type")
        type_name = OPTION_TYPE_NAMES.get(type_id)
        if type_id and type_name:
            table = op.table(OP_OPTIONS, "builtin_options", f"{op.where} builtin_options ({type_name})")
            if table is not None:
                options = decode_options(table, type_name)
        if custom:  # the custom ops mcugen lowers itself: their flexbuffer options (model/custom.py)
            options = decode_custom_options(custom, bytes(op.bytes_view(OP_CUSTOM_OPTIONS, "custom_options")), op.where)
        return Operator(index=i, opcode=opcode, inputs=inputs, outputs=outputs,
                        options=MappingProxyType(options), version=version, custom_code=custom,
                        intermediates=intermediates)

    def other_subgraph_ops(self, subgraphs, opcodes: list[tuple[str, int, str | None]]
                           ) -> tuple[tuple[int, int, str, str | None], ...]:
        """The operators of subgraphs 1.. (control-flow bodies): which op each is, checked like
        subgraph 0's (opcode index and tensor references in range)."""
        found = []
        for k in range(1, len(subgraphs)):
            sg = subgraphs.get(k, f"Subgraph {k}")
            n_tensors = _count(sg, len(sg.tables(SUBGRAPH_TENSORS, "tensors", "tensors")), "tensors")
            op_tables = sg.tables(SUBGRAPH_OPERATORS, "operators", "operators")
            _count(sg, len(op_tables), "operators")
            for i in range(len(op_tables)):
                op = self.operator(i, op_tables.get(i, f"Operator {i} (subgraph {k})"), opcodes, n_tensors)
                found.append((k, i, op.opcode, op.custom_code))
        return tuple(found)

    def graph(self) -> Graph:
        model = self.model
        subgraphs = model.tables(MODEL_SUBGRAPHS, "subgraphs", "subgraphs")
        if len(subgraphs) == 0:
            raise ModelError(f"{quoted(self.name)} has no subgraph (Model.subgraphs is empty).")
        _count(model, len(subgraphs), "subgraphs")
        codes = model.tables(MODEL_OPERATOR_CODES, "operator_codes", "operator codes")
        _count(model, len(codes), "operator codes")
        opcodes = [_opcode(codes.get(i, f"Operator code {i}")) for i in range(len(codes))]
        sg = subgraphs.get(0, "Subgraph 0")
        tables = sg.tables(SUBGRAPH_TENSORS, "tensors", "tensors")
        n_tensors = _count(sg, len(tables), "tensors")
        tensors = tuple(self.tensor(i, tables.get(i, f"Tensor {i}")) for i in range(n_tensors))
        op_tables = sg.tables(SUBGRAPH_OPERATORS, "operators", "operators")
        _count(sg, len(op_tables), "operators")
        operators = tuple(self.operator(i, op_tables.get(i, f"Operator {i} (subgraph 0)"), opcodes, n_tensors)
                          for i in range(len(op_tables)))
        inputs = self.refs(sg, SUBGRAPH_INPUTS, "inputs", n_tensors, False)
        outputs = self.refs(sg, SUBGRAPH_OUTPUTS, "outputs", n_tensors, False)
        return Graph(
            subgraph_ops=self.other_subgraph_ops(subgraphs, opcodes),
            name=self.name,
            tensors=tensors,
            operators=operators,
            inputs=inputs,
            outputs=outputs,
            model_hash=hashlib.sha256(self.buf.data).hexdigest(),
            model_bytes=bytes(self.buf.data),
            description=model.string(MODEL_DESCRIPTION, "description"),
        )


def _check_dims(where: str, shape: tuple[int, ...]) -> None:
    """Refuse shapes no tensor can have: too many dimensions, negative ones, 32-bit overflow.

    Zero dimensions are judged later (mcugen.model.check), where it is known whether the
    tensor is an operator's intermediate (empty by design) or carries data."""
    if len(shape) > MAX_RANK:
        raise ModelError(f"{where} has {len(shape)} dimensions; TFLite tensors have at most {MAX_RANK}.",
                         hint="The file is corrupt; re-export the model.")
    negative = [d for d in shape if d < 0]
    if negative:
        raise ModelError(
            f"{where} has a negative dimension in its shape {list(shape)}.",
            hint="mcugen needs static shapes: export the model with a fixed input size and batch 1."
            if negative == [-1] else "The file is corrupt; re-export the model.",
        )
    count = 1
    for d in shape:
        count *= d
    if count > MAX_ELEMENTS:
        raise ModelError(f"{where} has {count:,} elements (shape {list(shape)}), more than a 32-bit size can hold.",
                         hint="The file is corrupt; re-export the model.")


def parse_model(buf: bytes, name: str = "model") -> Graph:
    """Parse .tflite bytes into a Graph (no semantic checks; see model.check)."""
    if len(buf) < 8:
        raise ModelError(f"{quoted(name)} is not a TFLite model: the file is only {len(buf)} bytes long.")
    if buf[4:8] != FILE_IDENTIFIER:
        raise ModelError(
            f"{quoted(name)} is not a TFLite model: no 'TFL3' identifier at byte 4 (found "
            f"{printable(repr(bytes(buf[4:8])))}).",
            hint="Give mcugen a .tflite file produced by the TFLite converter.",
        )
    if len(buf) > MAX_MODEL_BYTES:
        raise _too_large(name, len(buf))
    try:
        graph = _Parser(bytes(buf), name).graph()
    except FlatbufferError as exc:
        raise _corrupt(name, str(exc)) from None
    _check_static_inputs(graph)
    return graph


def _check_static_inputs(graph: Graph) -> None:
    """A -1 in an input's shape signature, other than an open batch, is a dynamic size.

    Inner tensors inherit -1s from the batch; only the inputs say what the user feeds.
    """
    for t in graph.input_tensors:
        sig = t.shape_signature
        if sig and len(sig) == len(t.shape):
            dynamic = [d for d, v in enumerate(sig) if v < 0 and not (d == 0 and t.shape[0] == 1)]
            if dynamic:
                raise ModelError(
                    f"Input {quoted(t.name)} (tensor {t.index}) has unknown dimension(s) {dynamic} (shape signature "
                    f"{list(sig)}).",
                    hint="mcugen needs static shapes: export the model with a fixed input size.",
                )


def _too_large(path: str | Path, size: int) -> ModelError:
    return ModelError(
        f"Model file {quoted(str(path), PATH_LIMIT)} is {size:,} bytes; mcugen reads models up to "
        f"{MAX_MODEL_BYTES >> 20} MiB "
        f"({MAX_MODEL_BYTES:,} bytes).",
        hint="No microcontroller model is that large: check that this is the right file.",
    )


_FILE_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
               (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def _not_regular(path: Path, mode: int) -> ModelError:
    kind = next((what for test, what in _FILE_KINDS if test(mode)), "not a regular file")
    return ModelError(f"{quoted(str(path), PATH_LIMIT)} is {kind}, not a .tflite file.",
                      hint="Give mcugen the path of a .tflite model file.")


def read_model_file(path: str | Path) -> bytes:
    """The bytes of a regular file of at most MAX_MODEL_BYTES; ModelError for anything else.

    The type is checked before opening, so a FIFO, a device or a socket is never opened
    (opening a FIFO blocks); O_NONBLOCK and a second check on the open descriptor close
    the race with a file swapped in between."""
    path = Path(path)
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise _not_regular(path, st.st_mode)
        if st.st_size > MAX_MODEL_BYTES:
            raise _too_large(path, st.st_size)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise _not_regular(path, st.st_mode)
            chunks = []
            total = 0
            while True:
                chunk = os.read(fd, min(1 << 20, MAX_MODEL_BYTES + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
                if total > MAX_MODEL_BYTES:  # the file grew while being read
                    raise _too_large(path, total)
            return b"".join(chunks)
        finally:
            os.close(fd)
    except FileNotFoundError as exc:
        raise ModelError(f"Model file {quoted(str(path), PATH_LIMIT)} does not exist.") from exc
    except OSError as exc:
        reason = exc.strerror or errno.errorcode.get(exc.errno or 0, "error")
        raise ModelError(f"Cannot read model file {quoted(str(path), PATH_LIMIT)}: {reason}.") from exc


def model_name_from_path(path: str | Path) -> str:
    return Path(path).stem
