"""Anvil element types and the numpy dtypes that hold them.

The table comes from anvil/dtypes.def through the native module. A dtype
that numpy cannot hold element by element (the packed 4-bit i4/u4, the fp8
types) has no numpy dtype here: tensors of it cannot be passed or returned
by `Model.run`. bf16 maps to `ml_dtypes.bfloat16` when ml_dtypes is
installed.
"""
import numpy as np

from . import _anvil


def _numpy_dtype(name, descriptor):
    if name == "bf16":
        try:
            import ml_dtypes
        except ImportError:
            return None
        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(descriptor) if descriptor else None


#: anvil dtype number -> (name, bits, numpy dtype or None)
DTYPES = {value: (name, bits, _numpy_dtype(name, npy))
          for value, name, bits, npy in _anvil.dtype_table()}


def name(value):
    """'f32', 'i64', ... for an anvil dtype number."""
    return DTYPES[value][0]


def numpy_dtype(value):
    """The numpy dtype for an anvil dtype number, or None."""
    return DTYPES[value][2]
