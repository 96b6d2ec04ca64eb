"""HTTP plumbing shared by every client: retry policy, rate budget, transport wrapper.

Knows HTTP and nothing about Centra or any WMS; imports nothing else of centrasync.
"""

from .budget import Priority, RateBudget
from .closing import AsyncClosing
from .guard import SendCheck, check_before_sending, current_send_check, guarding_sends
from .retry import Outcome, RetryPolicy, parse_retry_after
from .transports import IDEMPOTENT, PRIORITY, ResilientTransport, TransportStats

__all__ = [
    "IDEMPOTENT",
    "PRIORITY",
    "AsyncClosing",
    "Outcome",
    "Priority",
    "RateBudget",
    "ResilientTransport",
    "RetryPolicy",
    "SendCheck",
    "TransportStats",
    "check_before_sending",
    "current_send_check",
    "guarding_sends",
    "parse_retry_after",
]
