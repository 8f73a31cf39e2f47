"""Why the domain refuses a request: each error's text is what the client is told.

The HTTP layer answers each kind with a ProblemDetails status: :class:`NotFound` 404,
:class:`Invalid` 400, :class:`Conflict` and :class:`AlreadyRegistered` 409.
"""

from __future__ import annotations

from pydantic import ValidationError


class DomainError(Exception):
    """A refused request; ``detail`` says what went wrong and how to fix it."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    """A resource, or an action on one, that does not exist."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} does not exist (it may have been deleted)")


class Invalid(DomainError):
    """A value the domain cannot take; ``errors`` lists each wrong field when there are several."""

    def __init__(self, detail: str, errors: list[str] | None = None) -> None:
        super().__init__(detail)
        self.errors = errors


class Conflict(DomainError):
    """An action the resource does not allow in its current state."""


class AlreadyRegistered(DomainError):
    """A processing step name@version that is registered already."""


def field_errors(error: ValidationError, whole: str = "body") -> list[str]:
    """pydantic's errors as ``Field.Path: message`` lines, in the wire's field names."""
    return [f"{'.'.join(str(p) for p in e['loc']) or whole}: {e['msg']}" for e in error.errors()]
