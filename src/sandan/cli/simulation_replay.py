"""`sandan simulate --replay FILE`: recorded readings published again through the registry's
devices, in their recorded spacing divided by `--speed` (see `simulator/replay.py`)."""

from __future__ import annotations

import asyncio
import signal
from dataclasses import dataclass
from pathlib import Path

import typer
from rich.markup import escape

from sandan.cli.common import _context, _progress, console
from sandan.core.mqtt import Broker
from sandan.settings import Settings


@dataclass(frozen=True)
class ReplayOptions:
    path: Path
    protocol: str  # json (MQTT) or http
    mqtt: str | Broker
    qos: int
    api_url: str
    token: str | None
    speed: float
    loop: bool
    device: int | None  # for a CSV that names tags without a device_id column


def run_replay(settings: Settings, options: ReplayOptions) -> None:
    """Read the recording, then send it in time with a progress bar until done or stopped."""
    from sandan.simulator.publish import HttpPublisher, JsonPublisher
    from sandan.simulator.replay import Replay, ReplayError, layout_of, read_recording
    from sandan.simulator.run import load_fleet

    if options.protocol not in ("json", "http"):
        raise typer.BadParameter("a replay publishes over json or http", param_hint="--protocol")
    if options.protocol == "http" and not options.token:
        raise typer.BadParameter(
            "HTTP needs an API token with telemetry:write", param_hint="--token"
        )
    if not options.speed > 0:
        raise typer.BadParameter("must be above 0", param_hint="--speed")
    fleet = load_fleet(_context(settings).db)
    try:
        recording = read_recording(options.path, fleet.rows, options.device)
        layout, _ = layout_of(recording.rows)
        publisher: JsonPublisher | HttpPublisher
        if options.protocol == "json":
            publisher = JsonPublisher(Broker.of(options.mqtt), layout, [], options.qos)
        else:
            assert options.token is not None
            devices = list(range(len(layout.device_ids)))
            publisher = HttpPublisher(options.api_url, options.token, layout, devices)
        replay = Replay(recording, publisher, speed=options.speed, loop=options.loop)
    except (ReplayError, ValueError) as exc:
        console.print(f"[red]{escape(str(exc))}[/]")
        raise typer.Exit(2) from None
    for reason, count in recording.skipped.items():
        console.print(f"[yellow]{count} readings left out: {escape(reason)}[/]")
    seconds = (int(recording.ts_ms[-1]) - int(recording.ts_ms[0])) / 1000 / options.speed
    tags = len(set(recording.tag.tolist()))
    console.print(
        f"Replaying {len(recording)} readings of {tags} tags over {options.protocol}: "
        f"{seconds:,.1f} s at {options.speed:g}x" + (", looping" if options.loop else "")
    )

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await replay.start()
            with _progress() as progress:
                task = progress.add_task("Replaying", total=len(recording))

                def advance(sent: int) -> None:
                    report = replay.report
                    done = report.sent - report.rounds * len(recording)
                    about = f"Replaying (pass {report.rounds + 1}, {replay.stats.errors} errors)"
                    progress.update(task, completed=done, description=about)

                await replay.run(stop, advance)
        finally:
            await replay.close()

    try:
        asyncio.run(run())
    except (ReplayError, OSError) as exc:
        console.print(f"[red]{escape(str(exc))}[/]")
        raise typer.Exit(1) from None
    report, stats = replay.report, replay.stats
    parts = [
        f"replayed {report.sent} readings in {stats.messages} messages",
        f"{report.rounds} passes",
        f"{stats.errors} errors",
    ]
    if report.behind:
        parts.append(f"{report.behind} batches more than 1 s late (lower --speed)")
    console.print("; ".join(parts))
    if stats.errors:
        console.print(f"[yellow]last error: {escape(stats.last_error)}[/]")
