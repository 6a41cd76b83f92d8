"""The CLI: schema migration and user management, as an operator would run them."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from sandan.cli import app as cli
from sandan.migrate import head_revision


def test_db_upgrade_and_users(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"SANDAN_DATA_DIR": str(tmp_path)}
    assert runner.invoke(cli, ["db", "current"], env=env).output.strip() == "not migrated"
    up = runner.invoke(cli, ["db", "upgrade"], env=env)
    assert up.exit_code == 0 and "Schema at head" in up.output
    assert runner.invoke(cli, ["db", "current"], env=env).output.strip() == head_revision()
    assert (tmp_path / "sandan.db").exists()
    made = runner.invoke(
        cli,
        [
            "users",
            "create",
            "--email",
            "Ops@Gumi.example",
            "--role",
            "complex_operator",
            "--password",
            "a-long-password",
        ],
        env=env,
    )
    assert made.exit_code == 0, made.output
    short = runner.invoke(
        cli,
        [
            "users",
            "create",
            "--email",
            "x@gumi.example",
            "--role",
            "auditor",
            "--password",
            "short",
        ],
        env=env,
    )
    assert short.exit_code == 1 and "password" in short.output
    bad_role = runner.invoke(
        cli,
        [
            "users",
            "create",
            "--email",
            "y@gumi.example",
            "--role",
            "king",
            "--password",
            "a-long-password",
        ],
        env=env,
    )
    assert bad_role.exit_code == 1 and "unknown role" in bad_role.output
    listed = runner.invoke(cli, ["users", "list"], env=env)
    assert "ops@gumi.example" in listed.output
    assert runner.invoke(cli, ["users", "deactivate", "ops@gumi.example"], env=env).exit_code == 0
    assert "no" in runner.invoke(cli, ["users", "list"], env=env).output
    verify = runner.invoke(cli, ["audit", "verify"], env=env)
    assert verify.exit_code == 0 and "2 entries" in verify.output  # create + deactivate


def test_serve_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["serve", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2 and "sandan db upgrade" in result.output


def _command_paths(group: typer.Typer, prefix: list[str]) -> list[list[str]]:
    """Every command and group below `group`, as the argument lists that name them."""
    paths = [prefix]
    for command in group.registered_commands:
        name = command.name or (command.callback.__name__ if command.callback else "")
        paths.append([*prefix, name.replace("_", "-")])
    for sub in group.registered_groups:
        assert sub.typer_instance is not None and sub.name is not None
        paths += _command_paths(sub.typer_instance, [*prefix, sub.name])
    return paths


def test_every_command_explains_itself() -> None:
    """`--help` renders for every command: a docstring that Rich reads as markup (say
    "[/<device>]") would crash it."""
    runner = CliRunner()
    paths = _command_paths(cli, [])
    assert ["ingest", "sparkplug"] in paths and ["demo"] in paths
    for path in paths:
        shown = runner.invoke(cli, [*path, "--help"])
        assert shown.exit_code == 0, (path, shown.output, shown.exception)
        assert "Usage" in shown.output
