"""anvil.Model: open a compiled .anvil artifact, inspect it, run it on numpy.

    model = anvil.Model("resnet.anvil")
    model.entry_points                      # ['main']
    model.signature().inputs[0]             # TensorInfo(name='input', dtype='f32', shape=(1, 3, 224, 224))
    out = model.run(input=np.zeros((1, 3, 224, 224), np.float32))

Loading an artifact runs its native code: open only artifacts you trust
(docs/security.md), or pass `public_key` to require a signature.
"""
import dataclasses
import os
from typing import Dict, Optional, Tuple, Union

import numpy as np

from . import _anvil, dtypes
from .errors import InvalidArgumentError


@dataclasses.dataclass(frozen=True)
class Size:
    """A run-time size of an entry point (anvilc --dim=NAME=MIN..MAX):
    its value comes from the inputs at each run, within [min, max]."""
    name: str
    min: int
    max: int


@dataclasses.dataclass(frozen=True)
class TensorInfo:
    """One input or output of an entry point.

    `dtype` is Anvil's name ('f32', 'i64', 'bool', ...), `numpy_dtype` the
    numpy dtype that holds it (None for packed 4-bit and fp8 types).
    `shape` holds an int per static dim and, for a run-time size, its name
    (a str, as ONNX Runtime shows symbolic dims); `sizes` maps those names
    to their `Size`.
    """
    name: str
    dtype: str
    numpy_dtype: Optional[np.dtype]
    shape: Tuple[Union[int, str], ...]
    sizes: Dict[str, Size]


@dataclasses.dataclass(frozen=True)
class Signature:
    """An entry point's inputs and outputs (in the order the C API takes
    them) and its run-time sizes."""
    entry_point: str
    inputs: Tuple[TensorInfo, ...]
    outputs: Tuple[TensorInfo, ...]
    sizes: Tuple[Size, ...]


def _tensor_info(raw, sizes):
    name, dtype, dims, size_of_dim = raw
    shape = tuple(sizes[s].name if s >= 0 else d
                  for d, s in zip(dims, size_of_dim))
    used = {sizes[s].name: sizes[s] for s in size_of_dim if s >= 0}
    return TensorInfo(name, dtypes.name(dtype), dtypes.numpy_dtype(dtype),
                      shape, used)


class Model:
    """An open artifact (`anvil_model`).

    Args:
      path: the .anvil file.
      num_threads: threads of the model's own thread pool, the caller's
        included; None or 0 is one per hardware thread.
      skip_checksums: skip the section checksums (the header and section
        table are always checked).
      public_key: None, or the 32 raw bytes of an Ed25519 public key whose
        signature the artifact must carry (checked before any of its code
        loads).

    Raises:
      NotFoundError: no such file, or not a regular file.
      InvalidArtifactError: a corrupt or truncated artifact, a manifest
        that disagrees with its code, a missing or wrong signature.
      IncompatibleError: another format or ABI version, target or CPU.
      ResourceExhaustedError: out of memory, or the threads were refused.
      InvalidArgumentError: a bad option (num_threads out of range, a key
        that is not 32 bytes).

    Runs from several threads at once are allowed (each gets its own
    scratch memory); the GIL is released while a run computes. `close()`
    (or leaving a `with` block) releases the model once no run is going on.
    """

    def __init__(self, path, num_threads=None, skip_checksums=False,
                 public_key=None):
        path = os.fspath(path)
        if num_threads is not None and not isinstance(num_threads, int):
            raise InvalidArgumentError(
                f"num_threads must be an int, not {type(num_threads).__name__}")
        if public_key is not None:
            public_key = bytes(public_key)
        self._native = _anvil.Model(path, num_threads or 0,
                                    bool(skip_checksums), public_key)
        self.path = path
        self._signatures = {}

    # -- inspection ---------------------------------------------------------

    @property
    def entry_points(self):
        """The entry points' names (list of str), in the artifact's order."""
        return list(self._native.entry_points)

    @property
    def target(self):
        """The target the artifact was compiled for ('cpu')."""
        return self._native.target

    @property
    def manifest(self):
        """The artifact's manifest (JSON text, docs/artifact-format.md)."""
        return self._native.manifest

    def _entry(self, entry):
        if entry is not None:
            return entry
        names = self.entry_points
        if len(names) == 1:
            return names[0]
        if "main" in names:
            return "main"
        raise InvalidArgumentError(
            f"the artifact has {len(names)} entry points "
            f"({', '.join(names)}): name one with entry=")

    def signature(self, entry=None):
        """The `Signature` of `entry` (default: the only entry point, or
        'main'). Raises NotFoundError for an unknown entry point."""
        entry = self._entry(entry)
        if entry not in self._signatures:
            raw = self._native.signature(entry)
            sizes = [Size(*s) for s in raw["sizes"]]
            self._signatures[entry] = Signature(
                entry,
                tuple(_tensor_info(t, sizes) for t in raw["inputs"]),
                tuple(_tensor_info(t, sizes) for t in raw["outputs"]),
                tuple(sizes))
        return self._signatures[entry]

    # -- running ------------------------------------------------------------

    def run(self, inputs=None, /, *, entry=None, **arrays):
        """Runs an entry point on numpy arrays; returns {output name: array}.

        Inputs are given by name, as keywords (`model.run(x=a)`) or, for
        names that are not Python identifiers ('past_key_values.0.key'), in
        a dict (`model.run({"past_key_values.0.key": a, ...})`); both may
        be mixed. Every input of the signature must be given, each an
        array (or anything np.asarray takes) of exactly the input's numpy
        dtype (no implicit casts) and its shape; a run-time size takes any
        value in its bounds, the same in every input that has it. Outputs
        are new arrays shaped by the signature with the sizes' values.

        Raises:
          InvalidArgumentError: an unknown or missing input name, a wrong
            dtype or rank, a dtype numpy cannot hold; a wrong dim, a size
            out of its bounds or with two values (the runtime's message
            names the tensor, dim and size).
          NotFoundError: an unknown entry point.
          ExecutionFailedError: the model rejected its inputs while running
            (e.g. a gather index out of range).
        """
        given = dict(inputs or {})
        for name, value in arrays.items():
            if name in given:
                raise InvalidArgumentError(f"input '{name}' is given twice")
            given[name] = value
        signature = self.signature(entry)
        where = f"entry point '{signature.entry_point}'"
        expected = [t.name for t in signature.inputs]
        unknown = [n for n in given if n not in expected]
        if unknown:
            raise InvalidArgumentError(
                f"{where} has no input named {', '.join(map(repr, unknown))}"
                f" (inputs: {', '.join(expected)})")
        missing = [n for n in expected if n not in given]
        if missing:
            raise InvalidArgumentError(
                f"{where}: missing input {', '.join(map(repr, missing))}")
        ordered = []
        for info in signature.inputs:
            value = np.asarray(given[info.name])
            if info.numpy_dtype is None:
                raise InvalidArgumentError(
                    f"input '{info.name}' is {info.dtype}, which numpy "
                    f"cannot hold; this entry point cannot be run from Python")
            if value.dtype != info.numpy_dtype:
                raise InvalidArgumentError(
                    f"input '{info.name}' of {where} is {info.dtype} "
                    f"({info.numpy_dtype}), not {value.dtype}")
            if value.ndim != len(info.shape):
                raise InvalidArgumentError(
                    f"input '{info.name}' of {where} has rank "
                    f"{len(info.shape)} (shape {_shape_text(info.shape)}), "
                    f"not {value.ndim} (shape {value.shape})")
            ordered.append(np.ascontiguousarray(value))
        outputs = [np.empty(self._output_shape(signature, info, ordered),
                            info.numpy_dtype) for info in signature.outputs]
        self._native.run(signature.entry_point,
                         [_raw(a) for a in ordered], [_raw(a) for a in outputs])
        return {info.name: array
                for info, array in zip(signature.outputs, outputs)}

    @staticmethod
    def _output_shape(signature, output, inputs):
        """The output's shape with each run-time size's value from the
        first input that has it (a conflict, or a value out of bounds, is
        the runtime's to report)."""
        if output.numpy_dtype is None:
            raise InvalidArgumentError(
                f"output '{output.name}' is {output.dtype}, which numpy "
                f"cannot hold; this entry point cannot be run from Python")
        values = {}
        for info, array in zip(signature.inputs, inputs):
            for dim, extent in zip(info.shape, array.shape):
                if isinstance(dim, str):
                    values.setdefault(dim, extent)
        shape = []
        for dim in output.shape:
            if isinstance(dim, str) and dim not in values:
                raise InvalidArgumentError(
                    f"output '{output.name}' has run-time size '{dim}', "
                    f"which no input of entry point "
                    f"'{signature.entry_point}' carries")
            shape.append(values[dim] if isinstance(dim, str) else dim)
        return tuple(shape)

    # -- lifetime -----------------------------------------------------------

    def close(self):
        """Releases the model (after any run in progress). Later calls
        raise InvalidArgumentError. An engine made from it keeps working."""
        self._native.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f"anvil.Model({self.path!r})"


def _raw(array):
    """A view the buffer protocol can export: numpy refuses it for dtypes
    from extensions (ml_dtypes' bfloat16), so those go as unsigned
    integers of the same width."""
    if array.dtype.num >= 256:  # NPY_USERDEF: a dtype an extension made
        return array.view(f"u{array.dtype.itemsize}")
    return array


def _shape_text(shape):
    return "[" + "x".join(str(d) for d in shape) + "]"


__all__ = ["Model", "Signature", "TensorInfo", "Size"]
