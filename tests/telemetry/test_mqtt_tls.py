"""MQTT over TLS against a real Mosquitto with a CA of the test's own.

The test makes a CA, a server certificate for 127.0.0.1/localhost, one for another name, a
client certificate and a second (untrusted) CA with `cryptography`, and starts Mosquitto with
three TLS listeners: plain TLS, TLS requiring a client certificate, and TLS with the
wrong-name certificate. Every listener needs a login (the URL's user:password). Then: the JSON
worker stores what the simulator's publisher sends over TLS, the Sparkplug worker and host
client do the same, an untrusted or misnamed broker certificate is refused with a clear reason
and no data, and mutual TLS works with the client certificate and is refused without it.
"""

from __future__ import annotations

import asyncio
import getpass
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import orjson
import pytest
import structlog
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from typer.testing import CliRunner

from conftest import World, free_port, need_service
from sandan.cli import app as cli
from sandan.core.context import Context
from sandan.core.mqtt import Broker, MqttConfigError, MqttTls, mqtt_broker
from sandan.safety.cctv.listener import FrigateListener
from sandan.settings import Settings
from sandan.simulator.mqtt_client import connect, publish_packet
from sandan.simulator.publish import close_wire
from sandan.telemetry.broker import hash_password
from sandan.telemetry.duckdb_store import DuckDBStore
from sandan.telemetry.mqtt import MqttIngest
from sandan.telemetry.mqtt_wire import MqttWire, MqttWireError, open_wire, subscribe
from sandan.telemetry.sparkplug.client import SparkplugHostClient
from sandan.telemetry.sparkplug.host import DataBatch
from sandan.telemetry.sparkplug.worker import SparkplugIngest

INGEST_PASSWORD = "in:gest@p/ss"  # every URL-special character: percent-encoded in URLs
DEVICE_PASSWORD = "device-pass"


# --- a CA of the test's own -----------------------------------------------------------------

Key = ec.EllipticCurvePrivateKey


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(
    subject: str,
    key: Key,
    issuer: tuple[x509.Name, Key] | None = None,
    *,
    sans: list[x509.GeneralName] | None = None,
    usage: x509.ObjectIdentifier | None = None,
) -> x509.Certificate:
    """A CA certificate (no issuer: self-signed) or a leaf signed by `issuer`."""
    issuer_name, issuer_key = issuer or (_name(subject), key)
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False
        )
    )
    if issuer is None:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )  # fmt: skip
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write(directory: Path, stem: str, cert: x509.Certificate, key: Key) -> tuple[Path, Path]:
    cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass(frozen=True)
class Pki:
    ca: Path  # signed every certificate below
    server: tuple[Path, Path]  # 127.0.0.1, localhost
    misnamed: tuple[Path, Path]  # broker.other.example only
    client: tuple[Path, Path]  # the ingest worker's client certificate
    rogue_ca: Path  # a CA that signed nothing here


def make_pki(directory: Path) -> Pki:
    directory.mkdir(parents=True, exist_ok=True)

    def key() -> Key:
        return ec.generate_private_key(ec.SECP256R1())

    ca_key, rogue_key = key(), key()
    ca = _certificate("Sandan test CA", ca_key)
    issuer = (ca.subject, ca_key)
    local = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ]
    server_key, misnamed_key, client_key = key(), key(), key()
    server = _certificate(
        "broker", server_key, issuer, sans=local, usage=ExtendedKeyUsageOID.SERVER_AUTH
    )
    misnamed = _certificate(
        "broker.other.example",
        misnamed_key,
        issuer,
        sans=[x509.DNSName("broker.other.example")],
        usage=ExtendedKeyUsageOID.SERVER_AUTH,
    )
    client = _certificate(
        "sandan-ingest", client_key, issuer, usage=ExtendedKeyUsageOID.CLIENT_AUTH
    )
    ca_path = _write(directory, "ca", ca, ca_key)[0]
    rogue_path = _write(directory, "rogue-ca", _certificate("Rogue CA", rogue_key), rogue_key)[0]
    return Pki(
        ca=ca_path,
        server=_write(directory, "server", server, server_key),
        misnamed=_write(directory, "misnamed", misnamed, misnamed_key),
        client=_write(directory, "client", client, client_key),
        rogue_ca=rogue_path,
    )


# --- the broker -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TlsBroker:
    pki: Pki
    tls: int  # TLS, server certificate for 127.0.0.1
    mutual: int  # ... and a client certificate required
    misnamed: int  # TLS with a certificate for another name
    plain: int  # no TLS

    def url(self, port: int, user: str = "sandan-ingest", password: str = INGEST_PASSWORD) -> str:
        return f"mqtts://{user}:{quote(password, safe='')}@127.0.0.1:{port}"

    def device(self, port: int | None = None) -> Broker:
        """A device's login on a listener, trusting the test CA."""
        url = self.url(port or self.tls, "device", DEVICE_PASSWORD)
        return Broker.parse(url, MqttTls(ca_file=self.pki.ca))

    def trusted(self, port: int, **tls: object) -> Broker:
        """The ingest login on a listener, trusting the test CA (plus any other settings)."""
        return Broker.parse(self.url(port), MqttTls(ca_file=self.pki.ca, **tls))  # type: ignore[arg-type]


def _listener(port: int, ca: Path, cert: tuple[Path, Path], *extra: str) -> str:
    lines = [f"listener {port} 127.0.0.1", f"cafile {ca}", f"certfile {cert[0]}"]
    return "\n".join([*lines, f"keyfile {cert[1]}", *extra, ""])


@pytest.fixture(scope="module")
def tls_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsBroker]:
    """Mosquitto with three TLS listeners and a password file, for this module's tests."""
    if shutil.which("mosquitto") is None:
        need_service("the mosquitto binary is not installed")
    directory = tmp_path_factory.mktemp("mqtt-tls")
    pki = make_pki(directory / "pki")
    passwords = directory / "password_file"
    passwords.write_text(
        f"sandan-ingest:{hash_password(INGEST_PASSWORD)}\ndevice:{hash_password(DEVICE_PASSWORD)}\n"
    )
    broker = TlsBroker(pki, free_port(), free_port(), free_port(), free_port())
    conf = directory / "mosquitto.conf"
    conf.write_text(
        "per_listener_settings false\nallow_anonymous false\npersistence false\n"
        f"password_file {passwords}\n"
        # as root Mosquitto would switch to its own user, who cannot read pytest's tmp
        f"user {getpass.getuser()}\n"
        + _listener(broker.tls, pki.ca, pki.server)
        + _listener(broker.mutual, pki.ca, pki.server, "require_certificate true")
        + _listener(broker.misnamed, pki.ca, pki.misnamed)
        + f"listener {broker.plain} 127.0.0.1\n"
    )
    log = directory / "mosquitto.log"
    with log.open("wb") as out:
        process = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 20
        for port in (broker.tls, broker.mutual, broker.misnamed, broker.plain):
            while True:
                assert process.poll() is None, log.read_text()
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", port)) == 0:
                        break
                assert time.monotonic() < deadline, f"mosquitto did not start: {log.read_text()}"
                time.sleep(0.05)
        yield broker
    finally:
        process.terminate()
        process.wait(10)


# --- helpers --------------------------------------------------------------------------------


async def _until(check: Callable[[], bool], what: object = "", timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, f"timed out: {what}"
        await asyncio.sleep(0.05)


async def _publish_json(broker: Broker, topic: str, values: list[dict[str, object]]) -> None:
    """Publish at QoS 1 through the simulator's connection and wait for every PUBACK."""
    wire, pinger = await connect(broker, f"t-{uuid.uuid4().hex[:8]}")
    try:
        for body in values:
            wire.unacked += 1
            wire.send(publish_packet(topic, orjson.dumps(body), packet_id=wire.next_packet_id()))
        await _until(lambda: wire.unacked == 0, "PUBACKs")
    finally:
        await close_wire(wire, pinger)


def _readings(world: World, n: int) -> tuple[str, list[dict[str, object]]]:
    topic = f"sandan/v1/{world.companies['A']}/{world.devices['A']}/data"
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    return topic, [{"ts": now_ms - i, "values": {"spindle_speed": i}} for i in range(n)]


async def _stopped(worker: MqttIngest | FrigateListener, task: asyncio.Task[None]) -> None:
    await worker.stop()
    await asyncio.wait_for(task, 10)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DuckDBStore]:
    s = DuckDBStore(tmp_path / "telemetry.duckdb")
    yield s
    s.close()


# --- URLs and contexts ----------------------------------------------------------------------


def test_urls_ports_credentials_and_what_is_printed(tmp_path: Path) -> None:
    b = Broker.parse("mqtts://sandan-ingest:p%40ss%2Fw%3Ard@broker.example")
    assert (b.host, b.port, b.username, b.password) == (
        "broker.example", 8883, "sandan-ingest", "p@ss/w:rd",
    )  # fmt: skip
    assert b.tls == MqttTls() and b.server_hostname == "broker.example"
    assert Broker.parse("mqtt://broker.example").port == 1883
    assert Broker.parse("mqtt://broker.example").ssl_context is None
    assert Broker.parse("mqtts://h:9883").port == 9883
    for shown in (str(b), repr(b), b.describe()):
        assert "p@ss" not in shown and "p%40ss" not in shown
    assert str(b) == "mqtts://sandan-ingest@broker.example:8883"
    assert "system CAs" in b.describe()
    with pytest.raises(MqttConfigError, match="scheme 'http'") as refused:
        Broker.parse("http://u:secret@h")
    assert "secret" not in str(refused.value)
    with pytest.raises(MqttConfigError, match="SANDAN_MQTT_CA_FILE"):
        MqttTls(ca_file=tmp_path / "missing.pem").context()
    with pytest.raises(MqttConfigError, match="without SANDAN_MQTT_CERT_FILE"):
        MqttTls(key_file=tmp_path / "client.key").context()
    settings = Settings(
        data_dir=tmp_path,
        mqtt_url="mqtts://broker.example",
        mqtt_ca_file=tmp_path / "ca.pem",
        mqtt_tls_insecure=True,
    )
    from_settings = mqtt_broker(settings)
    assert from_settings.tls == MqttTls(ca_file=tmp_path / "ca.pem", insecure=True)
    assert "HOSTNAME NOT CHECKED" in from_settings.describe()
    assert mqtt_broker(settings, "mqtt://frigate.example").tls is None


# --- data over TLS --------------------------------------------------------------------------


async def test_the_json_worker_stores_readings_published_over_tls(
    ctx: Context, world: World, store: DuckDBStore, tls_broker: TlsBroker, tmp_path: Path
) -> None:
    """Settings to worker: mqtts:// with the login in the URL and the CA in
    SANDAN_MQTT_CA_FILE; the simulator's publisher sends over TLS too."""
    settings = Settings(
        data_dir=tmp_path, mqtt_url=tls_broker.url(tls_broker.tls), mqtt_ca_file=tls_broker.pki.ca
    )
    worker = MqttIngest(ctx.db, store, mqtt_broker(settings), flush_ms=50)
    task = asyncio.create_task(worker.run())
    try:
        await _until(worker.ready.is_set, worker.stats)
        topic, values = _readings(world, 3)
        await _publish_json(tls_broker.device(), topic, values)
        await _until(lambda: worker.stats.stored >= 3, worker.stats)
    finally:
        await _stopped(worker, task)
    assert store.count() == 3 and worker.stats.errors == 0


async def test_credentials_in_the_url_are_used_and_never_logged(
    ctx: Context, store: DuckDBStore, tls_broker: TlsBroker
) -> None:
    wrong = Broker.parse(
        tls_broker.url(tls_broker.tls, password="not-the-password"),
        MqttTls(ca_file=tls_broker.pki.ca),
    )
    worker = MqttIngest(ctx.db, store, wrong)
    with structlog.testing.capture_logs() as logs:
        task = asyncio.create_task(worker.run())
        try:
            await _until(lambda: worker.stats.errors >= 1, worker.stats)
        finally:
            await _stopped(worker, task)
    assert not worker.ready.is_set()
    # Mosquitto says 0x87 (not authorized) where MQTT 5 also allows 0x86 (bad password)
    assert "refused the connection (reason 0x8" in worker.stats.last_error
    assert "user" in worker.stats.last_error
    assert logs and all("not-the-password" not in str(event) for event in logs)
    assert any(event.get("broker") == str(wrong) for event in logs)


async def test_sparkplug_worker_and_host_client_over_tls(
    ctx: Context, world: World, store: DuckDBStore, tls_broker: TlsBroker
) -> None:
    """The Sparkplug ingest worker (the asyncio TLS connection, with its STATE will) and the
    aiomqtt host client both take an edge node's data over TLS."""
    from sparkplug_edge import EdgeNode, standard_metrics
    from test_sparkplug_ingest import _sparkplug_device

    group = f"tls-{uuid.uuid4().hex[:8]}"
    _, tags = _sparkplug_device(ctx, world, f"{group}/edge/pump")
    worker = SparkplugIngest(
        ctx.db, store, tls_broker.trusted(tls_broker.tls), host_id=f"h-{group}", groups=[group]
    )
    batches: list[DataBatch] = []

    async def on_batch(batch: DataBatch) -> None:
        batches.append(batch)

    task = asyncio.create_task(worker.run())
    try:
        await _until(worker.ready.is_set, worker.stats)
        host = SparkplugHostClient(
            tls_broker.trusted(tls_broker.tls), f"c-{group}", on_batch, groups=[group]
        )
        async with host:
            node = EdgeNode(tls_broker.device(), group, "edge", "pump", standard_metrics())
            async with node:
                await node.ddata({"Temperature": 42.5})
                temperature = tags["Temperature"]
                await _until(
                    lambda: (
                        store.latest([temperature]).to_pylist()[-1:] != []
                        and store.latest([temperature]).to_pylist()[0]["value"] == 42.5
                    ),
                    worker.stats,
                )
                await _until(lambda: any(len(b) for b in batches), host.stats)
    finally:
        await _stopped(worker, task)
    assert worker.stats.errors == 0 and host.stats.connections == 1


# --- refusals -------------------------------------------------------------------------------


async def _refused(ctx: Context, store: DuckDBStore, broker: Broker) -> MqttIngest:
    """Run a worker until its first failed connection; it must never have subscribed."""
    worker = MqttIngest(ctx.db, store, broker)
    task = asyncio.create_task(worker.run())
    try:
        await _until(lambda: worker.stats.errors >= 1, worker.stats)
    finally:
        await _stopped(worker, task)
    assert not worker.ready.is_set() and worker.stats.messages == 0
    return worker


async def test_an_untrusted_broker_certificate_is_refused_with_the_reason(
    ctx: Context, world: World, store: DuckDBStore, tls_broker: TlsBroker
) -> None:
    rogue = Broker.parse(tls_broker.url(tls_broker.tls), MqttTls(ca_file=tls_broker.pki.rogue_ca))
    worker = await _refused(ctx, store, rogue)
    assert "certificate is refused" in worker.stats.last_error
    assert "SANDAN_MQTT_CA_FILE" in worker.stats.last_error
    # the default trust store (the system's) does not know the test CA either
    system = await _refused(ctx, store, Broker.parse(tls_broker.url(tls_broker.tls)))
    assert "certificate is refused" in system.stats.last_error
    # ... and a device's data published meanwhile reached nobody here
    topic, values = _readings(world, 1)
    await _publish_json(tls_broker.device(), topic, values)
    assert store.count() == 0


async def test_the_host_name_is_checked_unless_explicitly_insecure(
    ctx: Context, store: DuckDBStore, tls_broker: TlsBroker
) -> None:
    """A certificate of the trusted CA for another name is refused; SANDAN_MQTT_TLS_INSECURE
    lets it through (the chain still checked) and says so loudly."""
    worker = await _refused(ctx, store, tls_broker.trusted(tls_broker.misnamed))
    assert "address mismatch" in worker.stats.last_error  # the URL's host is 127.0.0.1
    assert "subjectAltName" in worker.stats.last_error
    with structlog.testing.capture_logs() as logs:
        lab = MqttIngest(ctx.db, store, tls_broker.trusted(tls_broker.misnamed, insecure=True))
    assert [e["log_level"] for e in logs if e["event"] == "mqtt.tls_insecure"] == ["warning"]
    task = asyncio.create_task(lab.run())
    try:
        await _until(lab.ready.is_set, lab.stats)
    finally:
        await _stopped(lab, task)
    rogue = MqttTls(ca_file=tls_broker.pki.rogue_ca, insecure=True)
    chain = await _refused(ctx, store, Broker.parse(tls_broker.url(tls_broker.misnamed), rogue))
    assert "certificate is refused" in chain.stats.last_error


async def test_a_scheme_that_does_not_match_the_listener_says_so(
    ctx: Context, store: DuckDBStore, tls_broker: TlsBroker
) -> None:
    to_plain = tls_broker.trusted(tls_broker.plain)
    assert (
        "a plain listener? it takes mqtt://"
        in (await _refused(ctx, store, to_plain)).stats.last_error
    )
    to_tls = Broker.parse(tls_broker.url(tls_broker.tls).replace("mqtts://", "mqtt://", 1))
    assert (
        "if the listener is a TLS one, use mqtts://"
        in (await _refused(ctx, store, to_tls)).stats.last_error
    )


async def test_mutual_tls_with_the_client_certificate_and_without(
    ctx: Context, world: World, store: DuckDBStore, tls_broker: TlsBroker, tmp_path: Path
) -> None:
    cert, key = tls_broker.pki.client
    worker = await _refused(ctx, store, tls_broker.trusted(tls_broker.mutual))
    assert "certificate" in worker.stats.last_error.lower()
    with_cert = tls_broker.trusted(tls_broker.mutual, cert_file=cert, key_file=key)
    worker = MqttIngest(ctx.db, store, with_cert, flush_ms=50)
    task = asyncio.create_task(worker.run())
    try:
        await _until(worker.ready.is_set, worker.stats)
        topic, values = _readings(world, 2)
        await _publish_json(tls_broker.device(), topic, values)  # on the plain-TLS listener
        await _until(lambda: worker.stats.stored >= 2, worker.stats)
    finally:
        await _stopped(worker, task)
    # the Frigate listener (aiomqtt) takes the same settings
    frigate = FrigateListener(ctx.db, with_cert, tmp_path / "cctv")
    listening = asyncio.create_task(frigate.run())
    try:
        await _until(frigate.subscribed.is_set, "frigate listener subscribed")
    finally:
        await _stopped(frigate, listening)


def test_tls_on_uvloop_as_under_uvicorn(tls_broker: TlsBroker) -> None:
    """uvicorn runs the in-server workers on uvloop, whose TLS transports are its own."""
    import uvloop

    async def login(broker: Broker) -> MqttWire:
        return await open_wire(
            broker.host,
            broker.port,
            client_id=f"t-{uuid.uuid4().hex[:8]}",
            username=broker.username,
            password=broker.password,
            clean_start=True,
            session_expiry=0,
            tls=broker.ssl_context,
        )

    async def roundtrip() -> list[bytes]:
        topic = f"test/{uuid.uuid4().hex[:8]}"
        wire = await login(tls_broker.trusted(tls_broker.tls))
        await subscribe(wire, topic, 1)
        publisher, pinger = await connect(tls_broker.device(), f"t-{uuid.uuid4().hex[:8]}")
        publisher.send(publish_packet(topic, b"hello"))
        await close_wire(publisher, pinger)
        await asyncio.wait_for(wire.arrived.wait(), 10)
        messages, _ = wire.take()
        wire.close()
        with pytest.raises(MqttWireError, match="certificate"):
            await login(tls_broker.trusted(tls_broker.mutual))  # no client certificate
        return [payload for _, payload, _ in messages]

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        assert runner.run(roundtrip()) == [b"hello"]


# --- the command ----------------------------------------------------------------------------


def test_a_bad_tls_file_stops_the_command_naming_the_setting(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["ingest", "mqtt", "--url", "mqtts://u:secret@127.0.0.1", "--data-dir", str(tmp_path)],
        env={"SANDAN_MQTT_CA_FILE": str(tmp_path / "nope.pem")},
    )
    assert result.exit_code == 2, result.output
    assert "SANDAN_MQTT_CA_FILE" in result.output and "secret" not in result.output


async def test_the_ingest_command_over_tls(
    settings: Settings, world: World, tls_broker: TlsBroker
) -> None:
    """`sandan ingest mqtt --url mqtts://…` with SANDAN_MQTT_CA_FILE: the banner (printed
    once subscribed) shows the broker without the password; a reading is stored (counted on
    --metrics-port); SIGTERM stops it cleanly."""
    from test_ingest_metrics import _get, _samples

    env = {
        **os.environ,
        "SANDAN_DATA_DIR": str(settings.data_dir),
        "SANDAN_MQTT_CA_FILE": str(tls_broker.pki.ca),
    }
    if settings.database_url:
        env["SANDAN_DATABASE_URL"] = settings.database_url
    metrics = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from sandan.cli import main; main()",
        "ingest", "mqtt", "--url", tls_broker.url(tls_broker.tls), "--group", "",
        "--metrics-port", str(metrics),
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        lines = [await asyncio.wait_for(process.stdout.readline(), 60)]
        while b"MQTT ingest worker" not in lines[-1]:
            assert len(lines) < 10 and lines[-1], lines
            lines.append(await asyncio.wait_for(process.stdout.readline(), 60))
        banner = lines[-1].decode()
        assert f"mqtts://sandan-ingest@127.0.0.1:{tls_broker.tls} (TLS, CA" in banner, banner
        topic, values = _readings(world, 1)
        await _publish_json(tls_broker.device(), topic, values)

        def stored() -> float:
            url = f"http://127.0.0.1:{metrics}/metrics"
            with urllib.request.urlopen(url, timeout=5) as r:
                page = _samples(r.read().decode())
            return _get(page, "sandan_telemetry_readings_total", source="mqtt", outcome="stored")

        await _until(lambda: stored() >= 1, "a reading stored")
        process.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, out
    output = b"".join(lines) + out
    assert b"1 readings stored" in out, out
    assert INGEST_PASSWORD.encode() not in output
    assert quote(INGEST_PASSWORD, safe="").encode() not in output
