"""One logger setup: structlog, JSON lines, bound to request id and trace id."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from opentelemetry import trace

_SECRET_KEYS = frozenset({"personal_code", "authorization", "password", "token"})


def _add_trace_ids(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event.setdefault("trace_id", format(context.trace_id, "032x"))
        event.setdefault("span_id", format(context.span_id, "016x"))
    return event


def _redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    # Defence in depth: personal data must never reach a log line, even by a careless call.
    for key in _SECRET_KEYS.intersection(event):
        event[key] = "[redacted]"
    return event


_SQL_PARAMETERS = re.compile(r"^\[parameters: .*$", re.MULTILINE)
"""SQLAlchemy's rendering of a statement's parameters (every engine of the runtime hides them; this is in case
an engine made elsewhere does not)."""
_DRIVER_ARGUMENT = re.compile(r"(invalid input for query argument \$\d+: ).*$", re.MULTILINE)
"""asyncpg names the value it could not encode, in its own message."""


def _scrub_sql_parameters(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    # After the exception is rendered: a statement's values may be personal data (names, e-mail, phone).
    for key, value in event.items():
        if isinstance(value, str) and ("[parameters: " in value or "query argument $" in value):
            value = _SQL_PARAMETERS.sub("[parameters: redacted]", value)
            event[key] = _DRIVER_ARGUMENT.sub(r"\1[redacted]", value)
    return event


def configure_logging(service: str, level: str = "INFO", fmt: str = "json") -> None:
    # Tracebacks as plain text, never with the frames' local variables (which hold request data): the console
    # renderer would otherwise show locals whenever `rich` or `better-exceptions` happens to be installed.
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _add_trace_ids,
            _redact,
            structlog.processors.format_exc_info,
            _scrub_sql_parameters,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger
