"""structlog setup: readable console lines by default, JSON lines for log shippers."""

from __future__ import annotations

import logging

import structlog


def configure_logging(json_lines: bool, level: int = logging.INFO) -> None:
    """Configure structlog once per process (the CLI calls this before serving)."""
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json_lines else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )
