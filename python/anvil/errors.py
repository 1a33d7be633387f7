"""anvil.Error and one subclass per status code of the C API (anvil.h).

Every failure of the runtime, and every argument the bindings refuse, raises
an `Error` whose `code` is the C API's `anvil_status_code` (a `StatusCode`)
and whose `message` is the runtime's own wording (it names the tensor, dim,
field or file). Catch `anvil.Error` for all of them, or a subclass for one
code.
"""
import enum


class StatusCode(enum.IntEnum):
    """anvil_status_code (anvil.h); the numbers never change."""
    INVALID_ARGUMENT = 1
    NOT_FOUND = 2
    INVALID_ARTIFACT = 3
    INCOMPATIBLE = 4
    RESOURCE_EXHAUSTED = 5
    INTERNAL = 6
    EXECUTION_FAILED = 7


class Error(Exception):
    """A failed runtime call: `code` (StatusCode) and `message` (str)."""

    code = None

    def __init__(self, message, code=None):
        if code is not None:
            self.code = code
        super().__init__(message)
        self.message = message

    def __str__(self):
        name = self.code.name if isinstance(self.code, StatusCode) else self.code
        return f"{self.message} [{name}]"


class InvalidArgumentError(Error):
    """Wrong tensor names, counts, dtypes or shapes; a size out of bounds;
    bad sampling parameters or options."""
    code = StatusCode.INVALID_ARGUMENT


class NotFoundError(Error):
    """No such file, entry point or tensor; a text prompt without a
    tokenizer."""
    code = StatusCode.NOT_FOUND


class InvalidArtifactError(Error):
    """A corrupt, truncated or malformed artifact, or a failed signature
    check."""
    code = StatusCode.INVALID_ARTIFACT


class IncompatibleError(Error):
    """Another format or ABI version, a target without a device here, a
    missing CPU feature; an engine on an artifact with no paged step."""
    code = StatusCode.INCOMPATIBLE


class ResourceExhaustedError(Error):
    """Out of memory, a thread the system refuses, a request that can never
    fit in the KV pool."""
    code = StatusCode.RESOURCE_EXHAUSTED


class InternalError(Error):
    """A bug in Anvil or in the generated code."""
    code = StatusCode.INTERNAL


class ExecutionFailedError(Error):
    """The model rejected its inputs while running (a gather index out of
    range, ...), or an engine step failed for a request."""
    code = StatusCode.EXECUTION_FAILED


_BY_CODE = {cls.code: cls for cls in (
    InvalidArgumentError, NotFoundError, InvalidArtifactError,
    IncompatibleError, ResourceExhaustedError, InternalError,
    ExecutionFailedError)}


def error_for_code(code, message):
    """The exception for a C status code (the native module raises these)."""
    try:
        code = StatusCode(code)
    except ValueError:
        return Error(message, code)
    return _BY_CODE[code](message)
