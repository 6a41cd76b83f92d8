"""Schemathesis fuzzes every operation of the OpenAPI schema: whatever the input, the answer is
never a server error, and every error carries the one JSON error body."""

from __future__ import annotations

import atexit
import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings

from conftest import build_world
from sandan.app import create_app
from sandan.core.context import Context
from sandan.migrate import upgrade
from sandan.settings import Settings


def _app() -> tuple[Any, dict[str, str]]:
    """A migrated SQLite app with the test world, built once for this module."""
    holder = tempfile.TemporaryDirectory(prefix="sandan-fuzz-")
    atexit.register(holder.cleanup)
    config = Settings(data_dir=Path(holder.name), secret_key="fuzz")
    upgrade(config)
    ctx = Context.build(config)
    world = build_world(ctx)
    return create_app(config, with_ui=False, ctx=ctx), world.headers("operator")


APP, HEADERS = _app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_input_makes_a_server_error(case: Any) -> None:
    response = case.call(headers=HEADERS)
    assert response.status_code < 500, (case.method, case.path, response.text[:500])
    content_type = str(response.headers.get("content-type", ""))
    if response.status_code >= 400 and "application/json" in content_type:
        body = response.json()
        assert isinstance(body, dict) and body.get("error") and "detail" in body, body
