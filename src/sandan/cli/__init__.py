"""The `sandan` command: demo, serve, simulate, db, users, import, audit, ingest, telemetry,
mqtt, sharing. The Typer apps live in `common`; importing a module registers its commands
(`server` before `simulation` keeps demo, serve, simulate first in the help)."""

from __future__ import annotations

from sandan.cli import admin, ingest, server, sharing, simulation, telemetry  # noqa: F401
from sandan.cli.common import app

__all__ = ["app", "main"]


def main() -> None:
    app()
