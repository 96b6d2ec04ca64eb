"""Who may use the console: operators' password hashes or one token, sessions, CSRF, throttling.

Passwords are argon2id hashes (argon2-cffi) in ``centrasync.toml``; a token comes from the
environment. The session lives in Starlette's signed cookie (itsdangerous), HTTP-only and
SameSite=strict; it holds the operator's name and a CSRF token that every form and htmx
request sends back. Failed logins are counted per client address and per name, so neither
one address trying many names nor many addresses trying one name gets far.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from centrasync.config import ConsoleSettings

__all__ = [
    "TOKEN_OPERATOR",
    "LoginThrottle",
    "Operators",
    "hash_password",
    "new_csrf_token",
    "same_token",
]

TOKEN_OPERATOR = "token"
"""The name an operator who logged in with the shared token goes by in the audit log."""
_HASHER = PasswordHasher()
# Checked against when the name is unknown, so a wrong name costs what a wrong password
# does and the answer's timing does not tell which names exist.
_DECOY = _HASHER.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """An argon2id hash for ``centrasync.toml`` (what ``centrasync user add`` writes)."""
    return _HASHER.hash(password)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(given: str | None, expected: str | None) -> bool:
    """Constant-time equality; an absent value never matches."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


class Operators:
    """Checks a login against the configured hashes and token."""

    def __init__(self, settings: ConsoleSettings) -> None:
        self._users = dict(settings.users)
        self._token = settings.token

    @property
    def names(self) -> list[str]:
        return sorted(self._users)

    def verify(self, name: str, password: str) -> str | None:
        """The operator's name when ``password`` is theirs (or the token), else ``None``.

        With a token configured, the token alone logs in, whatever name is given.
        """
        if self._token is not None and same_token(password, self._token.get_secret_value()):
            return TOKEN_OPERATOR
        hashed = self._users.get(name)
        try:
            _HASHER.verify(hashed or _DECOY, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        return name if hashed is not None else None


@dataclass
class LoginThrottle:
    """At most ``limit`` failed logins per key in ``window`` seconds (keys: address, name).

    Keys live only while they have recent failures, and at most ``max_keys`` of them: past
    that the oldest is forgotten, so a flood of made-up names cannot fill the memory.
    """

    limit: int
    window: float = 300.0
    max_keys: int = 10_000
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, deque[float]] = field(default_factory=dict)

    def blocked(self, *keys: str) -> bool:
        now = self.clock()
        return any(self._count(key, now) >= self.limit for key in keys)

    def failed(self, *keys: str) -> None:
        now = self.clock()
        for key in keys:
            self._count(key, now)
            if key not in self._failures and len(self._failures) >= self.max_keys:
                del self._failures[next(iter(self._failures))]
            self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)

    def _count(self, key: str, now: float) -> int:
        found = self._failures.get(key)
        if found is None:
            return 0
        while found and found[0] <= now - self.window:
            found.popleft()
        if not found:
            del self._failures[key]
        return len(found)
