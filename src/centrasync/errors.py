"""The one exception tree of centrasync, grouped by what the caller should do.

::

    CentrasyncError
    ├── RetryLaterError          transient: wait, then try the same call again
    │   ├── RateLimitedError         429; carries ``retry_after``
    │   ├── ServerError              5xx from the remote system
    │   ├── NetworkError             connect/read failure, timeout, dropped connection
    │   └── MalformedResponseError   body that is not the JSON the endpoint promises
    │       └── PageNotAdvancingError    a paged read answered the same page or cursor again
    ├── ConfigError              a person must fix configuration before anything works
    │   ├── AuthenticationError      wrong or missing secret / password
    │   │   └── TokenInvalidError        Integration API 403: token invalid or expired
    │   └── PermissionDeniedError    the endpoint is not in the plugin's allow list (403)
    │       └── MissingPermissionError   the Integration API token lacks a permission
    ├── DataError                one record is bad: park it, carry on with the others
    │   └── RecordValidationError    names the record and the field
    ├── GiveUpError              the remote system refused for good; do not retry blindly
    │   ├── RemoteRefusedError       Centra ``status: "no"`` / a WMS business error
    │   │   ├── CaptureDeclinedError the payment provider declined (possible fraud)
    │   │   └── MutationRefusedError an Integration API mutation answered ``userErrors``
    │   └── NotFoundError            the object does not exist on the remote side
    └── LeaseLostError           another process holds the work now: stop the pass at once

Errors carry context for people (system, endpoint, status, a truncated body) and never
secrets: every string that reaches a message passes through :func:`redact` first.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "AuthenticationError",
    "CaptureDeclinedError",
    "CentrasyncError",
    "ConfigError",
    "DataError",
    "GiveUpError",
    "LeaseLostError",
    "MalformedResponseError",
    "MissingPermissionError",
    "MutationRefusedError",
    "NetworkError",
    "NotFoundError",
    "PageNotAdvancingError",
    "PermissionDeniedError",
    "RateLimitedError",
    "RecordValidationError",
    "RemoteRefusedError",
    "RetryLaterError",
    "ServerError",
    "TokenInvalidError",
    "redact",
]

_BODY_LIMIT = 500
_SECRET_PATTERNS = (
    re.compile(
        r"(?i)(api-authorization|authorization|password|secret|token)([\"']?\s*[:=]\s*[\"']?)([^\s\"',&}]+)"
    ),
    re.compile(r"(?i)(://[^:/@\s]+:)([^@\s]+)(@)"),
)
# Neither pattern matches a text without one of these; most texts (names, SKUs) have none.
_MAYBE_SECRET = re.compile(r"(?i)authorization|password|secret|token|://")


def redact(text: str, *secrets: str | None) -> str:
    """Mask known secret values and anything that looks like a credential assignment.

    Explicit secrets are replaced wherever they occur; the patterns catch header-style
    ``Authorization: x`` pairs and ``user:password@host`` URLs that nobody passed in.
    """
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, "***")
    if not _MAYBE_SECRET.search(text):
        return text
    text = _SECRET_PATTERNS[0].sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
    return _SECRET_PATTERNS[1].sub(lambda m: f"{m.group(1)}***{m.group(3)}", text)


def _truncate(body: str | None) -> str | None:
    if body is None:
        return None
    return body if len(body) <= _BODY_LIMIT else body[:_BODY_LIMIT] + f"… ({len(body)} chars)"


class CentrasyncError(Exception):
    """Base of every error centrasync raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        system: str | None = None,
        endpoint: str | None = None,
        status: int | None = None,
        body: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.message = redact(message)
        self.system = system
        self.endpoint = endpoint
        self.status = status
        self.body = _truncate(redact(body)) if body is not None else None
        self.details = details or {}
        super().__init__(self.message)

    def __str__(self) -> str:
        where = " ".join(p for p in (self.system, self.endpoint) if p)
        parts = [f"{where}: {self.message}" if where else self.message]
        if self.status is not None:
            parts.append(f"(HTTP {self.status})")
        if self.body:
            parts.append(f"body: {self.body}")
        return " ".join(parts)


class RetryLaterError(CentrasyncError):
    """A transient failure: the same call may succeed later."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class RateLimitedError(RetryLaterError):
    """The remote system answered 429; ``retry_after`` says how long it asked us to wait."""


class ServerError(RetryLaterError):
    """The remote system failed (5xx)."""


class NetworkError(RetryLaterError):
    """The request did not complete: connect error, timeout or dropped connection."""


class MalformedResponseError(RetryLaterError):
    """The body was not what the endpoint documents (truncated JSON, HTML error page, …)."""


class PageNotAdvancingError(MalformedResponseError):
    """A paged read got the same page or cursor back: following it would loop for ever."""


class DestinationError(RetryLaterError):
    """The analytics destination (PostgreSQL, a DuckDB file) refused the load: a refused
    connection, a full disk. Nothing was committed; the next load tries again."""


class ConfigError(CentrasyncError):
    """Configuration is wrong or incomplete; nothing will work until a person fixes it."""


class AuthenticationError(ConfigError):
    """The remote system refused our credentials."""


class TokenInvalidError(AuthenticationError):
    """The Integration API answered 403: the token is invalid, expired or revoked.

    An :class:`AuthenticationError`, so the flows using the token pause the way they do
    for a refused Order API secret, until a person configures a new token.
    """


class PermissionDeniedError(ConfigError):
    """The credentials are valid but the endpoint is not allowed for them."""


class MissingPermissionError(PermissionDeniedError):
    """The Integration API token lacks a permission a field needs (Centra's top-level
    ``authorization`` error); ``permission`` and ``path`` name it and where it was needed."""

    def __init__(self, message: str, *, permission: str | None, path: str, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.permission = permission
        self.path = path


class DataError(CentrasyncError):
    """One record is unusable; park it with its payload and carry on with the rest."""


class RecordValidationError(DataError):
    """A record failed validation; names the record and the field."""

    def __init__(self, message: str, *, record: str, field: str, **kw: Any) -> None:
        super().__init__(f"{record}: field {field!r}: {message}", **kw)
        self.record = record
        self.field = field


class GiveUpError(CentrasyncError):
    """The remote system refused the request for good; retrying the same call will not help."""


class RemoteRefusedError(GiveUpError):
    """A business refusal, e.g. Centra's HTTP 200 ``{"status": "no", "msg": ...}``."""

    def __init__(self, message: str, *, remote_message: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.remote_message = remote_message


class CaptureDeclinedError(RemoteRefusedError):
    """The payment provider declined a capture. Centra: do not ship, possible fraud."""


class MutationRefusedError(RemoteRefusedError):
    """An Integration API mutation answered ``userErrors``: it failed and changed nothing.

    ``mutation`` names it; ``user_errors`` holds each error's message and dotted input path.
    """

    def __init__(
        self, message: str, *, mutation: str, user_errors: tuple[tuple[str, str], ...], **kw: Any
    ) -> None:
        super().__init__(message, **kw)
        self.mutation = mutation
        self.user_errors = user_errors


class NotFoundError(GiveUpError):
    """The requested object does not exist on the remote side."""


class LeaseLostError(CentrasyncError):
    """The lease a pass works under was lost, or is no longer certainly held.

    Not a failure of any record: another process may be working on the same records now,
    so the pass stops without writing or sending anything more, and its loop goes back to
    asking for the lease.
    """
