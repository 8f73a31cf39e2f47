"""procon's exception hierarchy, so step code that raises or catches it imports cleanly.

``user_message`` is what the platform shows as the job's error when it is set; batchrun's
workers honour it the same way.
"""

from __future__ import annotations


class ProConException(Exception):
    """Base of every procon error; ``user_message`` overrides the text users see."""

    def __init__(self, *args: object, user_message: str | None = None) -> None:
        super().__init__(*args)
        self.user_message = user_message


class ProConBadMessage(ProConException):
    """A message could not be parsed."""


class ProConMessageRejected(ProConException):
    """A message was refused."""


class ProConWorkerNotAvailable(ProConException):
    """No worker can take the job."""


class ProConShutdown(ProConException):
    """The worker is shutting down."""


class ProConJobExecutionError(ProConException):
    """A job failed while running."""


class ProConSchemaError(ProConException):
    """A step's signature cannot be turned into a schema."""


class ProConSchemaValidationError(ProConException):
    """Parameters or a return value do not match a step's signature."""


class ProConDataslotError(ProConException):
    """A data slot could not be read or written."""


class ProConUnknownFunctionError(ProConException):
    """No step of the requested name and version exists."""
