"""API errors as types, turned into an upstream `Status` at one edge.

Raised deep (storage, registry, admission) and rendered once by the REST layer;
the client raises the same types when the server answers with a `Status`.

    APIError
     ├── BadRequest          400
     ├── Unauthorized        401
     ├── Forbidden           403
     ├── NotFound            404
     ├── MethodNotAllowed    405
     ├── NotAcceptable       406
     ├── AlreadyExists       409
     ├── Conflict            409
     ├── Gone / Expired      410
     ├── RequestEntityTooLarge 413
     ├── UnsupportedMediaType 415
     ├── Invalid             422  (carries field causes)
     ├── TooManyRequests     429
     ├── InternalError       500
     ├── ServiceUnavailable  503
     └── Timeout             504
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class Cause:
    """One field problem inside an `Invalid` (or strict-decoding `BadRequest`) error."""

    reason: str  # e.g. FieldValueRequired, FieldValueInvalid, FieldValueNotSupported
    message: str
    field: str = ""

    def to_dict(self) -> dict[str, str]:
        out = {"reason": self.reason, "message": self.message}
        if self.field:
            out["field"] = self.field
        return out


class APIError(Exception):
    """Base of every error that maps to an upstream `Status`."""

    code: ClassVar[int] = 500
    reason: ClassVar[str] = "InternalError"

    def __init__(
        self,
        message: str,
        *,
        name: str = "",
        kind: str = "",
        group: str = "",
        causes: list[Cause] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.name = name
        self.kind = kind  # the resource plural, as upstream puts it in details.kind
        self.group = group
        self.causes = list(causes or [])
        self.retry_after = retry_after

    def status(self) -> dict[str, Any]:
        """The `Status` object upstream would answer with."""
        out: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        details: dict[str, Any] = {}
        if self.name:
            details["name"] = self.name
        if self.group:
            details["group"] = self.group
        if self.kind:
            details["kind"] = self.kind
        if self.causes:
            details["causes"] = [c.to_dict() for c in self.causes]
        if self.retry_after is not None:
            details["retryAfterSeconds"] = self.retry_after
        if details:
            out["details"] = details
        return out


class BadRequest(APIError):
    code = 400
    reason = "BadRequest"


class Unauthorized(APIError):
    code = 401
    reason = "Unauthorized"


class Forbidden(APIError):
    code = 403
    reason = "Forbidden"


class NotFound(APIError):
    code = 404
    reason = "NotFound"


class MethodNotAllowed(APIError):
    code = 405
    reason = "MethodNotAllowed"


class NotAcceptable(APIError):
    code = 406
    reason = "NotAcceptable"


class AlreadyExists(APIError):
    code = 409
    reason = "AlreadyExists"


class Conflict(APIError):
    code = 409
    reason = "Conflict"


class Gone(APIError):
    code = 410
    reason = "Gone"


class Expired(APIError):
    code = 410
    reason = "Expired"


class RequestEntityTooLarge(APIError):
    code = 413
    reason = "RequestEntityTooLarge"


class UnsupportedMediaType(APIError):
    code = 415
    reason = "UnsupportedMediaType"


class Invalid(APIError):
    code = 422
    reason = "Invalid"


class TooManyRequests(APIError):
    code = 429
    reason = "TooManyRequests"


class InternalError(APIError):
    code = 500
    reason = "InternalError"


class ServiceUnavailable(APIError):
    code = 503
    reason = "ServiceUnavailable"


class Timeout(APIError):
    code = 504
    reason = "Timeout"


_BY_REASON: dict[str, type[APIError]] = {
    cls.reason: cls
    for cls in (
        BadRequest, Unauthorized, Forbidden, NotFound, MethodNotAllowed, NotAcceptable,
        AlreadyExists, Conflict, Gone, Expired, RequestEntityTooLarge, UnsupportedMediaType, Invalid,
        TooManyRequests, InternalError, ServiceUnavailable, Timeout,
    )
}
_BY_CODE: dict[int, type[APIError]] = {}
for _cls in _BY_REASON.values():
    _BY_CODE.setdefault(_cls.code, _cls)


def from_status(status: dict[str, Any], http_code: int | None = None) -> APIError:
    """Rebuild the typed error from a `Status` the server sent (used by the client)."""
    reason = str(status.get("reason") or "")
    code = int(status.get("code") or http_code or 500)
    cls = _BY_REASON.get(reason) or _BY_CODE.get(code) or InternalError
    details = status.get("details") or {}
    causes = [
        Cause(c.get("reason", ""), c.get("message", ""), c.get("field", ""))
        for c in details.get("causes") or []
    ]
    return cls(
        str(status.get("message") or reason or f"HTTP {code}"),
        name=str(details.get("name") or ""),
        kind=str(details.get("kind") or ""),
        group=str(details.get("group") or ""),
        causes=causes,
        retry_after=details.get("retryAfterSeconds"),
    )


def is_not_found(exc: BaseException) -> bool:
    return isinstance(exc, NotFound)


def is_conflict(exc: BaseException) -> bool:
    return isinstance(exc, Conflict)


def aggregate(messages: list[str]) -> str:
    """apimachinery `utilerrors.NewAggregate(...).Error()`: repeats dropped, one message alone, more in brackets."""
    unique = list(dict.fromkeys(messages))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"
