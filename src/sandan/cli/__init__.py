"""The `sandan` command: demo, serve, simulate, db, users, import, audit, ingest, telemetry,
mqtt, sharing, sparkplug. The Typer apps live in `common` (`sparkplug`'s in its module);
importing a module registers its commands (`server` before `simulation` keeps demo, serve,
simulate first in the help)."""

from __future__ import annotations

from sandan.cli import (  # noqa: F401
    admin,
    ingest,
    server,
    sharing,
    simulation,
    sparkplug,
    telemetry,
)
from sandan.cli.common import app

__all__ = ["app", "main"]


def main() -> None:
    app()
