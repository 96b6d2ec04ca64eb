"""What the operations commands do (``check``, ``records``, ``dead``, ``retry``), behind the CLI.

Like ``cli`` and ``server``, this is a composition root: it builds concrete clients and
opens the state store. ``cli`` only parses arguments and maps errors to exit codes.
"""

from __future__ import annotations

from .check import CheckResult, Outcome, run_checks, validate_store_rules
from .records import (
    RecordView,
    RetryDone,
    Skipped,
    cli_operator,
    database_url_from_config,
    list_dead_letters,
    open_existing_store,
    parse_ref,
    retry_dead,
    retry_record,
    retry_records,
    retry_refusal,
    store_url,
    view_record,
)
from .render import print_checks, print_dead_letters, print_record, print_records

__all__ = [
    "CheckResult",
    "Outcome",
    "RecordView",
    "RetryDone",
    "Skipped",
    "cli_operator",
    "database_url_from_config",
    "list_dead_letters",
    "open_existing_store",
    "parse_ref",
    "print_checks",
    "print_dead_letters",
    "print_record",
    "print_records",
    "retry_dead",
    "retry_record",
    "retry_records",
    "retry_refusal",
    "run_checks",
    "store_url",
    "validate_store_rules",
    "view_record",
]
