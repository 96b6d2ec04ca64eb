"""Structured logs for every ``centrasync`` command: JSON lines for machines, columns for people.

When stderr is not a terminal (a container, systemd, a pipe) each event is one JSON object
per line, ready for a log shipper; on a terminal it is rendered as readable columns.
Timestamps are ISO 8601 in UTC whatever the host's zone, so lines from several hosts sort.

Every event passes a scrubber before it is rendered: the values of registered secrets and
anything that looks like a credential assignment (:func:`centrasync.errors.redact`) become
``***`` in keys, values, nested containers and formatted tracebacks alike, so a careless
``log.info("call", headers=...)`` cannot leak a secret.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Mapping
from datetime import date
from typing import Any

import structlog
from structlog.dev import ConsoleRenderer, plain_traceback
from structlog.typing import EventDict, Processor, WrappedLogger

from centrasync.errors import redact

__all__ = [
    "HANDOVER",
    "LEVELS",
    "SecretScrubber",
    "configure_logging",
    "handover",
    "register_secret",
]

LEVELS = ("debug", "info", "warning", "error", "critical")


class SecretScrubber:
    """A structlog processor replacing known secrets and credential-looking text with ``***``.

    Longer secrets are replaced first, so a secret that contains another is masked whole.
    Objects that are not plain data are turned into text here, before scrubbing, because
    the renderers would otherwise ``repr`` them afterwards, out of the scrubber's reach.
    """

    def __init__(self) -> None:
        self._secrets: list[str] = []

    def add(self, value: str) -> None:
        if value and value not in self._secrets:
            self._secrets.append(value)
            self._secrets.sort(key=len, reverse=True)

    def scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            return redact(value, *self._secrets)
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, bytes):
            return self.scrub(value.decode("utf-8", "replace"))
        if isinstance(value, Mapping):
            return {self.scrub(str(key)): self.scrub(item) for key, item in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self.scrub(item) for item in value]
        if isinstance(value, date):
            return value.isoformat()
        return self.scrub(str(value))

    def __call__(self, _logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
        return {self.scrub(str(key)): self.scrub(value) for key, value in event_dict.items()}


# structlog's configuration is process-wide by design, so the secrets its scrubber knows
# are too: the CLI registers them once, right after loading the settings.
_SCRUBBER = SecretScrubber()


def register_secret(value: str) -> None:
    """Mask ``value`` in every log event from now on."""
    _SCRUBBER.add(value)


HANDOVER = "hand-over"
"""The event of :func:`handover`."""

_handovers = structlog.get_logger("centrasync.handover")


def handover(stage: str, **where: Any) -> None:
    """One hand-over on a webhook's way to the WMS, logged at debug level with its time.

    ``stage`` is one of ``received`` (signature checked), ``inbox`` (committed), ``worker``
    (claimed by the worker), ``centra`` (read from Centra), ``wms`` (the WMS answered) and
    ``ledger`` (confirmed). At the default level the call costs next to nothing; at debug
    the events trace each webhook, and ``benchmarks/webhook_latency.py`` times them.
    ``at`` is the wall clock (seconds since the epoch), comparable across processes.
    """
    _handovers.debug(HANDOVER, stage=stage, at=time.time(), **where)


def _stderr_logger(*_args: Any) -> structlog.PrintLogger:
    # Resolved per logger, not once: test runners and Typer's CliRunner swap sys.stderr.
    return structlog.PrintLogger(sys.stderr)


def configure_logging(*, json_output: bool | None = None, level: str = "info") -> None:
    """Configure structlog for this process; ``json_output=None`` decides by stderr's tty-ness.

    Exceptions are formatted into plain text before the scrubber runs, so tracebacks are
    scrubbed too; the console renderer therefore shows plain tracebacks, never Rich's
    variant that prints local variables (which may hold secrets).
    """
    if level.lower() not in LEVELS:
        raise ValueError(f"unknown log level {level!r} (use one of {', '.join(LEVELS)})")
    if json_output is None:
        json_output = not sys.stderr.isatty()
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if json_output
        else ConsoleRenderer(exception_formatter=plain_traceback)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            _SCRUBBER,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
