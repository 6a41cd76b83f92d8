"""Broker logins and ACL from the registry (`sandan mqtt acl`), checked on a real Mosquitto of
the test's own: a device publishes on its own topics only, a wrong password is refused, the
ingest login reads everything (also through the worker's shared subscription)."""

from __future__ import annotations

import asyncio
import getpass
import shutil
import socket
import subprocess
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import aiomqtt
import orjson
import pytest
from typer.testing import CliRunner

from conftest import World, free_port, need_service
from sandan.cli import app as cli
from sandan.core.context import Context
from sandan.core.identity.principal import Principal
from sandan.registry import schemas, service
from sandan.settings import Settings
from sandan.telemetry.broker import (
    INGEST_USER,
    BrokerFiles,
    Hasher,
    hash_password,
    read_password_file,
    verify_password,
    write_broker_files,
)
from sandan.telemetry.duckdb_store import DuckDBStore
from sandan.telemetry.mqtt import MqttIngest


def _need_mosquitto() -> None:
    if shutil.which("mosquitto") is None:
        need_service("the mosquitto binary is not installed")


class Broker:
    """`mosquitto -c conf` with the generated files, on a free port of 127.0.0.1."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        conf = directory / "test-mosquitto.conf"
        conf.write_text(
            f"listener {self.port} 127.0.0.1\npersistence false\n"
            # as root Mosquitto would switch to its own user, who cannot read pytest's tmp
            f"user {getpass.getuser()}\n" + (directory / "mosquitto-sandan.conf").read_text()
        )
        self.process = subprocess.Popen(
            ["mosquitto", "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        for _ in range(200):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            assert self.process.poll() is None, self.process.communicate()[0]
            time.sleep(0.05)
        raise AssertionError("mosquitto did not start")

    def client(self, username: str | None, password: str | None) -> aiomqtt.Client:
        return aiomqtt.Client(
            "127.0.0.1",
            self.port,
            username=username,
            password=password,
            identifier=f"t-{uuid.uuid4().hex[:8]}",
            protocol=aiomqtt.ProtocolVersion.V5,
        )

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


@pytest.fixture
def sparkplug_devices(ctx: Context, world: World) -> dict[str, int]:
    """A Sparkplug edge node in each company: group G1, edge nodes edge-a and edge-b."""
    system = Principal.system("test")
    made = {}
    with ctx.db.unit(system) as session:
        for key in ("A", "B"):
            device = service.create_device(
                session,
                system,
                schemas.DeviceIn(
                    site_id=world.sites[key],
                    name=f"{key}-edge",
                    protocol="sparkplug",
                    external_id=f"G1/edge-{key.lower()}",
                ),
            )
            made[key] = device.id
    return made


def _generate(ctx: Context, out: Path, hasher: Hasher = "auto") -> BrokerFiles:
    with ctx.db.unit() as session:
        return write_broker_files(session, out, hasher=hasher)


def test_our_hashes_and_mosquitto_passwd_agree(tmp_path: Path) -> None:
    ours = hash_password("s3cret-pass")
    assert ours.startswith("$7$101$") and verify_password("s3cret-pass", ours)
    assert not verify_password("s3cret-pasS", ours)
    if shutil.which("mosquitto_passwd") is None:
        need_service("mosquitto_passwd is not installed")
    path = tmp_path / "pw"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(path), "alice", "wonder-land"], check=True)
    theirs = read_password_file(path)["alice"]
    assert verify_password("wonder-land", theirs) and not verify_password("wonderland", theirs)


async def _collect(client: aiomqtt.Client, until: str, seen: list[str]) -> None:
    async for message in client.messages:
        seen.append(str(message.topic))
        if str(message.topic) == until:
            return


@pytest.mark.parametrize("hasher", ["python", "mosquitto_passwd"])
async def test_devices_publish_only_on_their_own_topics(
    ctx: Context,
    world: World,
    sparkplug_devices: dict[str, int],
    tmp_path: Path,
    hasher: Hasher,
) -> None:
    _need_mosquitto()
    if hasher == "mosquitto_passwd" and shutil.which("mosquitto_passwd") is None:
        need_service("mosquitto_passwd is not installed")
    files = _generate(ctx, tmp_path / "broker", hasher)
    passwords = {n.username: n.password for n in files.new}
    dev_a, dev_b = world.devices["A"], world.devices["B"]
    assert set(passwords) == {
        INGEST_USER,
        f"device-{dev_a}",
        f"device-{dev_b}",
        f"device-{sparkplug_devices['A']}",
        f"device-{sparkplug_devices['B']}",
    }
    acl = (tmp_path / "broker" / "acl_file").read_text()
    assert f"topic write sandan/v1/{world.companies['A']}/{dev_a}/data" in acl
    assert "topic write spBv1.0/G1/+/edge-a/#" in acl
    broker = Broker(tmp_path / "broker")
    try:
        own = f"sandan/v1/{world.companies['A']}/{dev_a}/data"
        foreign = f"sandan/v1/{world.companies['B']}/{dev_b}/data"
        marker = f"{own}"  # the last message of each round, from the same connection
        spb_own, spb_foreign = "spBv1.0/G1/NDATA/edge-a", "spBv1.0/G1/NDATA/edge-b"
        async with broker.client(INGEST_USER, passwords[INGEST_USER]) as ingest:
            await ingest.subscribe("sandan/#", qos=1)
            await ingest.subscribe("spBv1.0/#", qos=1)
            seen: list[str] = []
            listening = asyncio.create_task(_collect(ingest, marker, seen))
            user = f"device-{dev_a}"
            async with broker.client(user, passwords[user]) as device:
                await device.publish(foreign, b'{"spindle_speed": 1}', qos=1)  # refused
                await device.publish(spb_own, b"x", qos=1)  # not a Sparkplug device: refused
                await device.publish(marker, b'{"spindle_speed": 2}', qos=1)
            await asyncio.wait_for(listening, 10)
            assert seen == [own]  # nothing of what was refused reached the subscriber

            seen.clear()
            listening = asyncio.create_task(_collect(ingest, spb_own, seen))
            edge = f"device-{sparkplug_devices['A']}"
            async with broker.client(edge, passwords[edge]) as node:
                await node.publish(spb_foreign, b"x", qos=1)  # another company's edge node
                await node.publish(own, b"{}", qos=1)  # a Sparkplug login is not a JSON device
                await node.publish("spBv1.0/G1/DDATA/edge-a/press-1", b"x", qos=1)
                await node.publish(spb_own, b"x", qos=1)
            await asyncio.wait_for(listening, 10)
            assert seen == ["spBv1.0/G1/DDATA/edge-a/press-1", spb_own]

        with pytest.raises(aiomqtt.MqttError):
            async with broker.client(f"device-{dev_a}", "not-the-password"):
                pass
        with pytest.raises(aiomqtt.MqttError):
            async with broker.client(None, None):  # anonymous
                pass
    finally:
        broker.stop()


async def test_the_ingest_worker_reads_with_its_login(
    ctx: Context, world: World, tmp_path: Path
) -> None:
    """The worker's shared subscription ($share/…) is allowed by the ACL; readings arrive."""
    _need_mosquitto()
    files = _generate(ctx, tmp_path / "broker", "python")
    passwords = {n.username: n.password for n in files.new}
    broker = Broker(tmp_path / "broker")
    store = DuckDBStore(tmp_path / "telemetry.duckdb")
    try:
        url = f"mqtt://{INGEST_USER}:{passwords[INGEST_USER]}@127.0.0.1:{broker.port}"
        worker = MqttIngest(ctx.db, store, url, flush_ms=50)
        task = asyncio.create_task(worker.run())
        await asyncio.wait_for(worker.ready.wait(), 10)
        user = f"device-{world.devices['A']}"
        topic = f"sandan/v1/{world.companies['A']}/{world.devices['A']}/data"
        now_ms = int(datetime.now(UTC).timestamp() * 1000)
        async with broker.client(user, passwords[user]) as device:
            for i in range(3):
                payload = orjson.dumps({"ts": now_ms - i, "values": {"spindle_speed": i}})
                await device.publish(topic, payload, qos=1)
        deadline = asyncio.get_running_loop().time() + 10
        while worker.stats.stored < 3:
            assert asyncio.get_running_loop().time() < deadline, worker.stats
            await asyncio.sleep(0.05)
        await worker.stop()
        await asyncio.wait_for(task, 10)
        assert store.count() == 3
    finally:
        store.close()
        broker.stop()


def test_a_second_run_keeps_passwords_drops_disabled_devices_and_rotates(
    ctx: Context, world: World, tmp_path: Path
) -> None:
    out = tmp_path / "broker"
    first = _generate(ctx, out, "python")
    before = read_password_file(out / "password_file")
    system = Principal.system("test")
    with ctx.db.unit(system) as session:
        service.update_device(
            session, system, world.devices["B"], schemas.DevicePatch(enabled=False)
        )
    second = _generate(ctx, out, "python")
    after = read_password_file(out / "password_file")
    assert len(first.new) == 3 and second.new == [] and second.kept == 2
    assert second.removed == [f"device-{world.devices['B']}"]
    assert after == {k: v for k, v in before.items() if k != f"device-{world.devices['B']}"}
    assert f"device-{world.devices['B']}" not in (out / "acl_file").read_text()
    with ctx.db.unit() as session:
        rotated = write_broker_files(session, out, rotate=[INGEST_USER], hasher="python")
    assert [n.username for n in rotated.new] == [INGEST_USER]
    fresh = read_password_file(out / "password_file")[INGEST_USER]
    assert fresh != after[INGEST_USER] and verify_password(rotated.new[0].password, fresh)
    assert (out / "password_file").stat().st_mode & 0o777 == 0o640
    with ctx.db.unit() as session, pytest.raises(ValueError, match="no such broker login"):
        write_broker_files(session, out, rotate=["device-999999"], hasher="python")


def test_cli_shows_new_passwords_once(
    settings: Settings, ctx: Context, world: World, tmp_path: Path
) -> None:
    env = {"SANDAN_DATA_DIR": str(settings.data_dir)}
    if settings.database_url:
        env["SANDAN_DATABASE_URL"] = settings.database_url
    out, secrets_csv = tmp_path / "broker", tmp_path / "new.csv"
    runner = CliRunner()
    first = runner.invoke(
        cli,
        ["mqtt", "acl", "--out", str(out), "--credentials", str(secrets_csv), "--hasher", "python"],
        env=env,
    )
    assert first.exit_code == 0, first.output
    assert "3 logins (3 new, 0 kept, 0 removed)" in first.output
    rows = secrets_csv.read_text().splitlines()
    assert rows[0] == "username,password,device_id,company_id" and len(rows) == 4
    assert secrets_csv.stat().st_mode & 0o777 == 0o600
    password = rows[1].split(",")[1]
    assert password in first.output  # shown once, here
    second = runner.invoke(cli, ["mqtt", "acl", "--out", str(out), "--hasher", "python"], env=env)
    assert "3 logins (0 new, 3 kept, 0 removed)" in second.output
    assert password not in second.output
