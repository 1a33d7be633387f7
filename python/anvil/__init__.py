"""Anvil's runtime from Python: run compiled .anvil artifacts on numpy
arrays (`Model`) and generate text with the LLM engine (`Engine`).

Failures raise `Error` (a subclass per status code of the C API, with
`.code` and `.message`). docs/python.md is the reference.
"""
from .engine import Completion, Engine, Event, Stream
from .errors import (Error, ExecutionFailedError, IncompatibleError,
                     InternalError, InvalidArgumentError, InvalidArtifactError,
                     NotFoundError, ResourceExhaustedError, StatusCode)
from .model import Model, Signature, Size, TensorInfo

__all__ = [
    "Model", "Signature", "TensorInfo", "Size",
    "Engine", "Stream", "Event", "Completion",
    "Error", "StatusCode", "InvalidArgumentError", "NotFoundError",
    "InvalidArtifactError", "IncompatibleError", "ResourceExhaustedError",
    "InternalError", "ExecutionFailedError",
]
