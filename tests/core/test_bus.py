"""Events are published only after the transaction commits; NATS JetStream carries them too."""

from __future__ import annotations

import asyncio
import os

import pytest

from conftest import need_service
from sandan.core.bus import Event, InProcessBus, NatsBus, make_bus, raise_event, subject_matches
from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.registry import schemas, service
from sandan.settings import Settings


def test_subject_wildcards() -> None:
    assert subject_matches("registry.*", "registry.company_created")
    assert subject_matches("registry.>", "registry.a.b")
    assert not subject_matches("registry.*", "registry.a.b")
    assert not subject_matches("safety.>", "registry.a")
    assert subject_matches("a.b", "a.b") and not subject_matches("a.b", "a.b.c")


async def test_events_follow_commit_and_vanish_on_rollback(settings: Settings) -> None:
    ctx = Context.build(settings)
    seen: list[Event] = []

    async def handler(event: Event) -> None:
        seen.append(event)

    ctx.bus.subscribe("registry.>", handler)
    await ctx.bus.start()
    system = Principal.system("t")
    try:
        with pytest.raises(RuntimeError), ctx.db.unit(system) as s:
            service.create_complex(
                s, system, schemas.ComplexIn(code="X", name="x", center_lat=36, center_lon=128)
            )
            raise_event(s, "registry.test_rolled_back", {})
            raise RuntimeError("abort")
        with ctx.db.unit(system) as s:
            raise_event(s, "registry.test_committed", {"n": 1})
            await asyncio.sleep(0.05)
            assert seen == []  # not before the commit
        for _ in range(50):
            if seen:
                break
            await asyncio.sleep(0.02)
        assert [e.subject for e in seen] == ["registry.test_committed"]
        assert seen[0].payload == {"n": 1}
    finally:
        await ctx.bus.stop()
        ctx.db.dispose()


async def test_a_failing_handler_does_not_stop_others() -> None:
    bus = InProcessBus()
    got: list[str] = []

    async def broken(event: Event) -> None:
        raise ValueError("boom")

    async def fine(event: Event) -> None:
        got.append(event.subject)

    bus.subscribe("a.*", broken)
    bus.subscribe("a.*", fine)
    await bus.start()
    await bus.publish(Event("a.b", {}))
    await bus.stop()
    assert got == ["a.b"]


def test_unknown_bus_url_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown bus URL"):
        make_bus("kafka://x")


async def test_nats_jetstream_round_trip() -> None:
    url = os.environ.get("SANDAN_TEST_NATS_URL")
    if not url:
        need_service("set SANDAN_TEST_NATS_URL to test the NATS JetStream bus")
    prefix = f"sandantest{os.getpid()}"
    bus = NatsBus(url, stream=prefix.upper(), prefix=prefix)
    received: asyncio.Queue[Event] = asyncio.Queue()

    async def handler(event: Event) -> None:
        await received.put(event)

    bus.subscribe("registry.*", handler)
    await bus.start()
    try:
        sent = Event("registry.company_created", {"company_id": 7})
        bus.publish_threadsafe([sent])
        got = await asyncio.wait_for(received.get(), timeout=10)
        assert (got.id, got.subject, got.payload) == (sent.id, sent.subject, sent.payload)
        info = await bus._js.stream_info(prefix.upper())
        assert info.state.messages >= 1  # durable: kept in the stream
    finally:
        await bus._js.delete_stream(prefix.upper())
        await bus.stop()


async def test_nats_keeps_the_operators_stream_limits_and_sends_early_events() -> None:
    url = os.environ.get("SANDAN_TEST_NATS_URL")
    if not url:
        need_service("set SANDAN_TEST_NATS_URL to test the NATS JetStream bus")
    from nats.js.api import StreamConfig

    prefix = f"sandanlimits{os.getpid()}"
    name = prefix.upper()
    first = NatsBus(url, stream=name, prefix=prefix)
    await first.start()
    await first._js.update_stream(StreamConfig(name=name, subjects=[f"{prefix}.>"], max_msgs=1000))
    await first.stop()
    second = NatsBus(url, stream=name, prefix=prefix)
    second.publish_threadsafe([Event("registry.before_start", {"n": 1})])  # buffered
    await second.start()
    try:
        info = await second._js.stream_info(name)
        assert info.config.max_msgs == 1000
        for _ in range(50):
            info = await second._js.stream_info(name)
            if info.state.messages >= 1:
                break
            await asyncio.sleep(0.05)
        assert info.state.messages == 1
    finally:
        await second._js.delete_stream(name)
        await second.stop()
