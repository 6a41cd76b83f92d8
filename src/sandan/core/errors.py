"""One error hierarchy. Services raise these; one handler renders one JSON body."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldProblem:
    """A reason a named field was rejected."""

    field: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason}


class SandanError(Exception):
    """Base of every error a caller may see; carries the HTTP status it maps to."""

    status_code: int = 400

    def __init__(self, message: str, *, status_code: int | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        self.extra = extra

    def body(self) -> dict[str, Any]:
        """The JSON body: {"error": ClassName, "detail": message, ...extra}."""
        return {"error": type(self).__name__, "detail": self.message, **self.extra}


class ValidationFailed(SandanError):
    """Input broke a rule; names every field and why."""

    status_code = 422

    def __init__(self, problems: list[FieldProblem], message: str | None = None) -> None:
        text = message or "; ".join(f"{p.field}: {p.reason}" for p in problems)
        super().__init__(text, fields=[p.as_dict() for p in problems])
        self.problems = problems

    @classmethod
    def one(cls, field: str, reason: str) -> ValidationFailed:
        return cls([FieldProblem(field, reason)])


class NotAuthenticated(SandanError):
    """No valid session, token or device credential came with the request."""

    status_code = 401


class PermissionDenied(SandanError):
    """The principal is known but may not do this."""

    status_code = 403


class NotFound(SandanError):
    """No such row, or none the principal may see (we do not tell which)."""

    status_code = 404


class Conflict(SandanError):
    """The write clashes with existing data, e.g. a duplicate key."""

    status_code = 409


class Throttled(SandanError):
    """Too many attempts; try again later."""

    status_code = 429
