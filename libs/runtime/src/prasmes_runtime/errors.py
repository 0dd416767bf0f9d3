"""Domain errors. Pure Python: a domain may raise them; `prasmes_runtime.http` maps them to HTTP once.

- NotFound -> 404; also what a caller gets for another person's object (never a hint it exists).
- Conflict -> 409 with the current state.
- InvalidInput -> 422 naming the field and the rule; request validation errors get the same shape.
- Unauthorized -> 401 (no valid token); Forbidden -> 403 (a role the caller lacks).
- Unavailable -> 503 (a dependency such as the identity provider's key set does not answer).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


class DomainError(Exception):
    status = 400
    code = "error"
    headers: ClassVar[dict[str, str] | None] = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message}


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"
    headers: ClassVar[dict[str, str] | None] = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


class Unavailable(DomainError):
    """Something this request depends on does not answer now (503)."""

    status = 503
    code = "unavailable"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    status = 409
    code = "conflict"

    def __init__(self, message: str, current: dict[str, Any]) -> None:
        super().__init__(message)
        self.current = current

    def body(self) -> dict[str, Any]:
        return {**super().body(), "current": self.current}


@dataclass(frozen=True)
class Violation:
    field: str
    rule: str
    message: str


class InvalidInput(DomainError):
    status = 422
    code = "invalid_input"

    def __init__(self, *violations: Violation) -> None:
        super().__init__("; ".join(f"{v.field}: {v.message}" for v in violations))
        self.violations = violations

    @classmethod
    def of(cls, field: str, rule: str, message: str) -> InvalidInput:
        return cls(Violation(field, rule, message))

    def body(self) -> dict[str, Any]:
        return {**super().body(), "errors": [v.__dict__ for v in self.violations]}
