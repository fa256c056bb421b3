"""Domain errors: plain exceptions, no HTTP in them (api/errors.py maps them to statuses)."""

from dataclasses import dataclass


class DomainError(Exception):
    """Base of every error a use case can raise on purpose."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotAuthenticated(DomainError):
    """No caller could be established: missing, expired or forged credentials."""


class Forbidden(DomainError):
    """The caller is known but lacks the role or scope for this action."""


class NotFound(DomainError):
    """The record does not exist for the caller's organization (another tenant's looks the
    same as none at all)."""

    def __init__(self, resource: str, field: str | None = None) -> None:
        super().__init__(f"{resource} not found")
        self.resource = resource
        self.field = field


class Conflict(DomainError):
    """The request clashes with the current state (a duplicate, a record in use)."""


class PreconditionFailed(DomainError):
    """`If-Match` named a version that is no longer current."""


class Contended(DomainError):
    """A concurrent request held what this one needed (the database broke a deadlock, or
    could not serialise the two); nothing was written, and the same request may be sent
    again."""


class Unavailable(DomainError):
    """What the request needs cannot be reached just now (the database refuses new
    connections, or is starting or stopping); nothing was written, and the same request
    may be sent again shortly."""


class TooManyRequests(DomainError):
    """The caller must wait `retry_after` seconds before trying again."""

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class Gone(DomainError):
    """What was asked for has been removed for good (an event past the retention window)."""


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str


class InvalidInput(DomainError):
    """Input that is well-formed but breaks a rule; names each offending field."""

    def __init__(self, *errors: FieldError) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors

    @classmethod
    def of(cls, field: str, message: str) -> "InvalidInput":
        return cls(FieldError(field, message))


def check_version(current: int, expected: int | None) -> None:
    """A write that names the version it read (`If-Match`) is refused once that version has
    moved on; a write that names none is applied to whatever is current."""
    if expected is not None and expected != current:
        raise PreconditionFailed(
            f"the record is at version {current}, not {expected}: read it again")
