"""A last word before each request goes out: may this caller still send at all?

Work done under a lease (see ``centrasync.sync.leases``) must stop sending once the lease
may have passed to another process: a request queued or retried after that could repeat
what the new holder is doing. The caller installs a check for the requests made in its
context; :class:`~centrasync.http.transports.ResilientTransport` asks it before every
attempt, and a queue that sends on its callers' behalf (a WMS write lane) asks the check of
the caller whose request it is about to send (:func:`current_send_check`). A check refuses
by raising; the request is then never sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["SendCheck", "check_before_sending", "current_send_check", "guarding_sends"]

SendCheck = Callable[[], None]

_CHECK: ContextVar[SendCheck | None] = ContextVar("centrasync_send_check", default=None)


@contextmanager
def guarding_sends(check: SendCheck) -> Iterator[None]:
    """Ask ``check`` before every request sent from this context (and tasks it starts)."""
    token = _CHECK.set(check)
    try:
        yield
    finally:
        _CHECK.reset(token)


def current_send_check() -> SendCheck | None:
    """The check of the current context, for a queue that sends later on its behalf."""
    return _CHECK.get()


def check_before_sending() -> None:
    """Raise what the current context's check raises; nothing without a check."""
    check = _CHECK.get()
    if check is not None:
        check()
