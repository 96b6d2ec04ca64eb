"""HTTP plumbing shared by every client: retry policy, rate budget, transport wrapper.

Knows HTTP and nothing about Centra or any WMS; imports nothing else of centrasync. What is
exported here loads no HTTP library (the flows ask the send check, see :mod:`.guard`); the
transport wrapper is :mod:`centrasync.http.transports`.
"""

from .budget import Priority, RateBudget
from .closing import AsyncClosing
from .guard import SendCheck, check_before_sending, current_send_check, guarding_sends
from .retry import Outcome, RetryPolicy, parse_retry_after

__all__ = [
    "AsyncClosing",
    "Outcome",
    "Priority",
    "RateBudget",
    "RetryPolicy",
    "SendCheck",
    "check_before_sending",
    "current_send_check",
    "guarding_sends",
    "parse_retry_after",
]
