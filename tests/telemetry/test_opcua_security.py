"""OPC UA security: real asyncua servers on loopback that require a signed (and encrypted)
channel and a username/password; the collector's certificate, trust list and config file."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import shutil
import stat
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from asyncua import Node, Server, ua
from asyncua.common.utils import ServiceError
from asyncua.crypto import cert_gen
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.server.user_managers import UserManager
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from cryptography.x509.oid import ExtendedKeyUsageOID
from test_ingest_metrics import _get, _samples
from test_opcua import Sink, _start_machine
from test_opcua import _until as _until_within
from test_opcua_ingest import _latest
from test_sparkplug_ingest import registry_device
from typer.testing import CliRunner

from conftest import World, free_port
from sandan.cli import app as cli
from sandan.core.context import Context
from sandan.settings import Settings
from sandan.telemetry.duckdb_store import DuckDBStore
from sandan.telemetry.opcua import NodeBinding, OpcUaSource
from sandan.telemetry.opcua_security import (
    EndpointSecurity,
    SecurityConfigError,
    TrustList,
    load_opcua_security,
)
from sandan.telemetry.opcua_worker import OpcUaIngest
from sandan.telemetry.store import GOOD

USER, PASSWORD = "collector", "s3cret-press-7"
SERVER_URI = "urn:sandan:test:secure-press"
_until = functools.partial(_until_within, timeout=15.0)  # secured handshakes take longer
FAST = {
    "publishing_interval_ms": 50,
    "flush_ms": 50,
    "backoff_initial": 0.1,
    "backoff_max": 0.4,
    "request_timeout": 2.0,
}


# -- certificates and servers ---------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    cert: x509.Certificate
    key: rsa.RSAPrivateKey

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(Encoding.DER)

    @property
    def key_der(self) -> bytes:
        return self.key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())


def _server_pair(uri: str = SERVER_URI) -> Pair:
    key = cert_gen.generate_private_key()
    cert = cert_gen.generate_self_signed_app_certificate(
        key,
        uri,
        {},
        [x509.UniformResourceIdentifier(uri), x509.DNSName("localhost")],
        [ExtendedKeyUsageOID.SERVER_AUTH],
    )
    return Pair(cert, key)


def _plain_pair(days: int, start: datetime | None = None) -> Pair:
    """A certificate without extensions, valid `days` from `start` (default now)."""
    key = cert_gen.generate_private_key()
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "plain")])
    begin = start or datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(begin)
        .not_valid_after(begin + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    return Pair(cert, key)


@pytest.fixture(scope="module")
def server_pair() -> Pair:
    return _server_pair()


class _Users(UserManager):
    """One account, as a machine's server would have."""

    def get_user(
        self, iserver: Any, username: str | None = None, password: str | None = None, **_: Any
    ) -> User | None:
        return User(role=UserRole.User) if (username, password) == (USER, PASSWORD) else None


@dataclass
class SecureMachine:
    server: Server
    temp: Node
    endpoint: str
    client_certs: list[bytes] = field(default_factory=list)  # what each session presented


async def _start_secure(
    port: int,
    pair: Pair,
    policies: list[ua.SecurityPolicyType],
    *,
    refuse_clients: bool = False,
) -> SecureMachine:
    """A server that offers only these policies and accepts only the username token."""
    server = Server(user_manager=_Users())
    await server.init()
    endpoint = f"opc.tcp://127.0.0.1:{port}/press/"
    server.set_endpoint(endpoint)
    await server.set_application_uri(SERVER_URI)
    server.set_security_policy(policies)
    server.set_identity_tokens([ua.UserNameIdentityToken])
    await server.load_certificate(pair.der, "der")
    await server.load_private_key(pair.key_der, None, "der")
    idx = await server.register_namespace("urn:sandan:test:machine")
    folder = await server.nodes.objects.add_object(ua.NodeId("Machine", idx), "Machine")
    temp = await folder.add_variable(
        ua.NodeId("Temp", idx), "Temp", 20.5, varianttype=ua.VariantType.Double
    )
    machine = SecureMachine(server, temp, endpoint)

    async def check_client(cert: x509.Certificate, _app: ua.ApplicationDescription) -> None:
        machine.client_certs.append(cert.public_bytes(Encoding.DER))
        if refuse_clients:
            raise ServiceError(ua.StatusCodes.BadCertificateUntrusted)

    server.set_certificate_validator(check_client)
    await server.start()
    return machine


@pytest.fixture
async def secure_machine(server_pair: Pair) -> AsyncIterator[SecureMachine]:
    machine = await _start_secure(
        free_port(), server_pair, [ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt]
    )
    yield machine
    with contextlib.suppress(Exception):
        await machine.server.stop()


def _settings(tmp_path: Path, text: str, **extra: Any) -> Settings:
    path = tmp_path / "opcua-security.toml"
    path.write_text(text)
    return Settings(data_dir=tmp_path / "data", opcua_security_file=path, **extra)


def _secured(endpoint: str, *, policy: str = "Basic256Sha256", mode: str = "SignAndEncrypt") -> str:
    return (
        f'[endpoints."{endpoint}"]\npolicy = "{policy}"\nmode = "{mode}"\n'
        f'username = "{USER}"\npassword_env = "PRESS_PASSWORD"\n'
    )


def _trust(settings: Settings, pair: Pair) -> None:
    trusted = settings.data_dir / "opcua" / "pki" / "trusted"
    trusted.mkdir(parents=True, exist_ok=True)
    (trusted / "press.der").write_bytes(pair.der)


@contextlib.asynccontextmanager
async def _running(source: OpcUaSource) -> AsyncIterator[OpcUaSource]:
    task = asyncio.create_task(source.run())
    try:
        yield source
    finally:
        await source.stop()
        await asyncio.wait_for(task, 10)


def _source(
    endpoint: str,
    security: EndpointSecurity | None,
    sink: Sink,
    on_refused: Callable[[str], None] | None = None,
) -> OpcUaSource:
    return OpcUaSource(
        endpoint,
        [NodeBinding("ns=2;s=Temp", 1)],
        sink,
        security=security,
        on_refused=on_refused,
        **FAST,
    )


# -- connecting ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "mode", "server_policy"),
    [
        ("Basic256Sha256", "SignAndEncrypt", ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt),
        ("Aes128Sha256RsaOaep", "Sign", ua.SecurityPolicyType.Aes128Sha256RsaOaep_Sign),
        (
            "Aes256Sha256RsaPss",
            "SignAndEncrypt",
            ua.SecurityPolicyType.Aes256Sha256RsaPss_SignAndEncrypt,
        ),
    ],
    ids=[
        "Basic256Sha256-SignAndEncrypt",
        "Aes128Sha256RsaOaep-Sign",
        "Aes256Sha256RsaPss-SignAndEncrypt",
    ],
)
async def test_values_flow_with_the_right_password_and_a_trusted_server(
    tmp_path: Path,
    server_pair: Pair,
    monkeypatch: pytest.MonkeyPatch,
    policy: str,
    mode: str,
    server_policy: ua.SecurityPolicyType,
) -> None:
    machine = await _start_secure(free_port(), server_pair, [server_policy])
    try:
        monkeypatch.setenv("PRESS_PASSWORD", PASSWORD)
        settings = _settings(tmp_path, _secured(machine.endpoint, policy=policy, mode=mode))
        _trust(settings, server_pair)
        security = load_opcua_security(settings).for_endpoint(machine.endpoint)
        assert security is not None and (security.policy, security.mode) == (policy, mode)
        sink = Sink()
        async with _running(_source(machine.endpoint, security, sink)) as source:
            await _until(lambda: sink.has(1, 20.5))
            await machine.temp.write_value(61.25)
            await _until(lambda: sink.has(1, 61.25))
            assert source.connected and source.refusals == 0 and source.refused is None
        # the server saw the collector's own certificate on the secured session
        assert machine.client_certs
        assert machine.client_certs[-1] == security.certificate.cert_der  # type: ignore[union-attr]
    finally:
        await machine.server.stop()


async def test_a_wrong_password_is_refused_and_reported(
    tmp_path: Path,
    server_pair: Pair,
    secure_machine: SecureMachine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PRESS_PASSWORD", "not-the-password")
    settings = _settings(tmp_path, _secured(secure_machine.endpoint))
    _trust(settings, server_pair)
    security = load_opcua_security(settings).for_endpoint(secure_machine.endpoint)
    sink, refused = Sink(), list[str]()
    async with _running(_source(secure_machine.endpoint, security, sink, refused.append)) as source:
        await _until(lambda: source.refusals >= 2)  # refused, and refused again after backoff
        assert not source.connected
        assert source.refused == "user_rejected"
        assert refused[:2] == ["user_rejected", "user_rejected"]
        assert source.last_error is not None
        assert f"refused the user '{USER}'" in source.last_error
        assert "BadUserAccessDenied" in source.last_error
        assert secure_machine.endpoint in source.last_error  # which config entry to fix
    assert sink.rows() == []


async def test_the_server_refusing_our_certificate_is_named(
    tmp_path: Path, server_pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    machine = await _start_secure(
        free_port(),
        server_pair,
        [ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt],
        refuse_clients=True,
    )
    try:
        monkeypatch.setenv("PRESS_PASSWORD", PASSWORD)
        settings = _settings(tmp_path, _secured(machine.endpoint))
        _trust(settings, server_pair)
        security = load_opcua_security(settings).for_endpoint(machine.endpoint)
        sink = Sink()
        async with _running(_source(machine.endpoint, security, sink)) as source:
            await _until(lambda: source.refusals >= 1)
            assert source.refused == "client_certificate_rejected"
            assert "BadCertificateUntrusted" in (source.last_error or "")
            assert str(settings.data_dir / "opcua" / "pki" / "own" / "cert.der") in (
                source.last_error or ""
            )
        assert sink.rows() == []
    finally:
        await machine.server.stop()


async def test_no_fallback_to_policy_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that only offers policy None is refused when the file asks for security."""
    port = free_port()
    plain = await _start_machine(port)  # anonymous, policy None only
    endpoint = f"opc.tcp://127.0.0.1:{port}/sandan/"
    try:
        monkeypatch.setenv("PRESS_PASSWORD", PASSWORD)
        security = load_opcua_security(_settings(tmp_path, _secured(endpoint))).for_endpoint(
            endpoint
        )
        sink = Sink()
        async with _running(_source(endpoint, security, sink)) as source:
            await _until(lambda: source.refusals >= 1)
            assert source.refused == "no_matching_endpoint"
            assert "offers no Basic256Sha256/SignAndEncrypt endpoint" in (source.last_error or "")
            assert "None/None_" in (source.last_error or "")  # what it does offer
        assert sink.rows() == []
    finally:
        await plain.server.stop()


async def test_an_untrusted_server_is_refused_until_its_certificate_is_trusted(
    settings: Settings,
    ctx: Context,
    world: World,
    tmp_path: Path,
    server_pair: Pair,
    secure_machine: SecureMachine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Through the ingest worker: refused (counted in /metrics, the certificate kept in the
    rejected directory), then trusted by copying it over, without a restart: values flow."""
    endpoint = secure_machine.endpoint
    _, tags = registry_device(
        ctx, world, "opcua", endpoint, {"temp": {"source_address": "ns=2;s=Temp"}}
    )
    monkeypatch.setenv("PRESS_PASSWORD", PASSWORD)
    secured = _settings(tmp_path, _secured(endpoint)).opcua_security_file
    worker_settings = settings.model_copy(update={"opcua_security_file": secured})
    _trust(worker_settings, _server_pair("urn:sandan:test:another-press"))  # not this one
    store = DuckDBStore(tmp_path / "telemetry.duckdb")
    worker = OpcUaIngest(
        ctx.db,
        store,
        flush_ms=50,
        source_options=FAST,
        security=load_opcua_security(worker_settings),
        metrics=ctx.metrics,
    )
    task = asyncio.create_task(worker.run())
    try:
        await asyncio.wait_for(worker.ready.wait(), 10)
        _, source, _ = worker.sources[endpoint]
        await _until(lambda: source.refusals >= 1)
        assert source.refused == "untrusted_server_certificate"
        assert worker.stats.refusals["untrusted_server_certificate"] >= 1
        page = _samples(ctx.metrics.render().decode())
        refusals = "sandan_opcua_security_refusals_total"
        assert _get(page, refusals, reason="untrusted_server_certificate") >= 1
        assert _get(page, refusals, reason="user_rejected") == 0
        error = source.last_error or ""
        assert "is not trusted" in error and "SANDAN_OPCUA_TRUSTED_DIR" in error
        assert SERVER_URI in error  # the certificate's subject
        rejected = settings.data_dir / "opcua" / "pki" / "rejected"
        saved = list(rejected.glob("*.der"))
        assert [p.read_bytes() for p in saved] == [server_pair.der]
        assert _latest(store, tags["temp"]) is None

        # the operator reviews the rejected certificate and trusts it
        shutil.copy(saved[0], settings.data_dir / "opcua" / "pki" / "trusted")
        await _until(lambda: worker.connected == 1)
        await secure_machine.temp.write_value(33.5)
        await _until(lambda: _latest(store, tags["temp"]) == (33.5, GOOD))
        assert source.refused is None
    finally:
        await worker.stop()
        await asyncio.wait_for(task, 10)
        store.close()


async def test_the_generated_client_certificate_is_reused_across_restarts(
    tmp_path: Path,
    server_pair: Pair,
    secure_machine: SecureMachine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PRESS_PASSWORD", PASSWORD)
    settings = _settings(tmp_path, _secured(secure_machine.endpoint))
    _trust(settings, server_pair)
    presented = []
    for _restart in range(2):  # two starts of the collector on the same data directory
        security = load_opcua_security(settings).for_endpoint(secure_machine.endpoint)
        sink = Sink()
        async with _running(_source(secure_machine.endpoint, security, sink)):
            await _until(lambda sink=sink: sink.has(1, 20.5))  # type: ignore[misc]
        presented.append(secure_machine.client_certs[-1])
    assert presented[0] == presented[1]

    own = settings.data_dir / "opcua" / "pki"
    cert = x509.load_der_x509_certificate((own / "own" / "cert.der").read_bytes())
    assert cert.public_bytes(Encoding.DER) == presented[0]
    assert isinstance(cert.public_key(), rsa.RSAPublicKey) and cert.public_key().key_size == 2048
    assert isinstance(cert.signature_hash_algorithm, hashes.SHA256)
    assert cert.issuer == cert.subject  # self-signed
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    assert uris and uris[0].startswith("urn:") and uris[0].endswith(":sandan:opcua-collector")
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.CLIENT_AUTH in usage
    assert stat.S_IMODE(os.stat(own / "private" / "key.pem").st_mode) == 0o600


# -- the certificate and the trust list ------------------------------------------------------


def test_a_configured_certificate_is_used_with_its_application_uri(tmp_path: Path) -> None:
    pair = _server_pair("urn:plant:collector-1")
    cert, key = tmp_path / "collector.pem", tmp_path / "collector.key"
    cert.write_bytes(pair.cert.public_bytes(Encoding.PEM))
    key.write_bytes(pair.key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    endpoint = "opc.tcp://10.0.0.5:4840"
    settings = _settings(
        tmp_path,
        f'[endpoints."{endpoint}"]\npolicy = "Basic256Sha256"\n',
        opcua_cert=cert,
        opcua_key=key,
    )
    security = load_opcua_security(settings).for_endpoint(endpoint + "/")
    assert security is not None and security.certificate is not None
    assert security.mode == "SignAndEncrypt"  # the default mode of a secured policy
    assert security.certificate.application_uri == "urn:plant:collector-1"
    assert security.certificate.cert_der == pair.der
    assert not (settings.data_dir / "opcua" / "pki" / "own").exists()  # nothing generated


def test_certificate_settings_errors(tmp_path: Path) -> None:
    body = '[default]\npolicy = "Basic256Sha256"\n'
    with pytest.raises(SecurityConfigError, match="SANDAN_OPCUA_CERT and SANDAN_OPCUA_KEY"):
        load_opcua_security(_settings(tmp_path, body, opcua_cert=tmp_path / "c.pem"))
    # a certificate without the application URI in subjectAltName
    bare = _plain_pair(days=1)
    (tmp_path / "c.der").write_bytes(bare.der)
    (tmp_path / "k.der").write_bytes(bare.key_der)
    settings = _settings(
        tmp_path, body, opcua_cert=tmp_path / "c.der", opcua_key=tmp_path / "k.der"
    )
    with pytest.raises(SecurityConfigError, match=r"SANDAN_OPCUA_CERT .*no URI in subjectAltName"):
        load_opcua_security(settings)
    # a key of another certificate
    other = _server_pair()
    (tmp_path / "k.der").write_bytes(other.key_der)
    (tmp_path / "c.der").write_bytes(_server_pair().der)
    with pytest.raises(SecurityConfigError, match=r"SANDAN_OPCUA_KEY .*does not belong"):
        load_opcua_security(settings)


def test_the_trust_list_accepts_the_certificate_or_its_ca(tmp_path: Path) -> None:
    trusted, rejected = tmp_path / "trusted", tmp_path / "rejected"
    trust = TrustList(trusted, rejected)
    ca_key = cert_gen.generate_private_key()
    ca = cert_gen.generate_self_signed_app_certificate(ca_key, "Plant CA", {}, [], [])
    leaf_key = cert_gen.generate_private_key()
    csr = cert_gen.generate_app_certificate_signing_request(
        leaf_key,
        "urn:press",
        {},
        [x509.UniformResourceIdentifier("urn:press")],
        [ExtendedKeyUsageOID.SERVER_AUTH],
    )
    leaf = cert_gen.sign_certificate_request(csr, ca, ca_key).public_bytes(Encoding.DER)
    self_signed = _server_pair()
    expired = _plain_pair(days=1, start=datetime.now(UTC) - timedelta(days=3))

    assert "is in" in (trust.problem(leaf) or "")  # an empty (missing) directory trusts nothing
    trusted.mkdir()
    (trusted / "plant-ca.pem").write_bytes(ca.public_bytes(Encoding.PEM))
    assert trust.problem(leaf) is None  # issued by a trusted CA
    assert trust.problem(self_signed.der) is not None
    (trusted / "press.der").write_bytes(self_signed.der)
    assert trust.problem(self_signed.der) is None  # itself trusted
    (trusted / "old.der").write_bytes(expired.der)
    assert "does not include today" in (trust.problem(expired.der) or "")
    assert trust.problem(b"") == "the server sent no certificate"
    saved = trust.reject(leaf)
    assert saved is not None and saved.parent == rejected and saved.read_bytes() == leaf


# -- the security file -----------------------------------------------------------------------

URL = "opc.tcp://10.1.2.3:4840/"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (f'[endpoints."{URL}"]\nmode = "Sign"\n', f"endpoint '{URL}': field 'mode': only with"),
        (
            f'[endpoints."{URL}"]\npolicy = "Basic256Sha256"\nmode = "Encrypt"\n',
            f"endpoint '{URL}': field 'mode': Input should be 'Sign' or 'SignAndEncrypt'",
        ),
        (
            f'[endpoints."{URL}"]\npolicy = "Basic128Rsa15"\n',
            f"endpoint '{URL}': field 'policy': Input should be 'None', 'Basic256Sha256'",
        ),
        (
            f'[endpoints."{URL}"]\npolicy = "Basic256Sha256"\nuser = "x"\n',
            f"endpoint '{URL}': field 'user': Extra inputs are not permitted",
        ),
        (
            f'[endpoints."{URL}"]\npolicy = "Basic256Sha256"\nusername = "x"\n',
            f"endpoint '{URL}': field 'password': required with a username",
        ),
        (
            f'[endpoints."{URL}"]\npassword = "x"\n',
            f"endpoint '{URL}': field 'username': required with a password",
        ),
        (
            f'[endpoints."{URL}"]\nusername = "x"\npassword = "y"\npassword_env = "Z"\n',
            f"endpoint '{URL}': field 'password_env': give password or password_env, not both",
        ),
        (
            f'[endpoints."{URL}"]\nusername = "x"\npassword_env = "SANDAN_TEST_UNSET_VAR"\n',
            f"endpoint '{URL}': field 'password_env': the environment variable "
            "SANDAN_TEST_UNSET_VAR is not set",
        ),
        (
            '[endpoints."http://10.1.2.3/"]\npolicy = "Basic256Sha256"\n',
            "endpoint 'http://10.1.2.3/': field 'endpoint': not an opc.tcp://host:port URL",
        ),
        (
            f'[endpoints."{URL}"]\n[endpoints."OPC.TCP://10.1.2.3:4840"]\n',
            "endpoint 'OPC.TCP://10.1.2.3:4840': field 'endpoint': the same endpoint is listed",
        ),
        ('[default]\nmode = "Sign"\n', "[default]: field 'mode': only with"),
        ("[endpoint]\n", "field 'endpoint': Extra inputs are not permitted"),
        ("[endpoints\n", "not valid"),
    ],
)
def test_a_bad_security_file_names_the_endpoint_and_the_field(
    tmp_path: Path, body: str, expected: str
) -> None:
    with pytest.raises(SecurityConfigError) as caught:
        load_opcua_security(_settings(tmp_path, body), environ={})
    assert "SANDAN_OPCUA_SECURITY_FILE" in str(caught.value)
    assert expected in str(caught.value)


def test_every_problem_is_listed_and_json_works(tmp_path: Path) -> None:
    path = tmp_path / "security.json"
    path.write_text(
        '{"endpoints": {"opc.tcp://a:4840": {"policy": "None", "mode": "Sign"},'
        ' "opc.tcp://b:4840": {"username": "u"}}}'
    )
    with pytest.raises(SecurityConfigError) as caught:
        load_opcua_security(Settings(data_dir=tmp_path, opcua_security_file=path))
    assert "endpoint 'opc.tcp://a:4840': field 'mode'" in str(caught.value)
    assert "endpoint 'opc.tcp://b:4840': field 'password'" in str(caught.value)


def test_defaults_and_unlisted_endpoints(tmp_path: Path) -> None:
    body = (
        '[default]\npolicy = "Aes256Sha256RsaPss"\nmode = "Sign"\n'
        'username = "all"\npassword_env = "ALL_PASSWORD"\n'
        '[endpoints."opc.tcp://legacy:4840"]\npolicy = "None"\n'
    )
    security = load_opcua_security(_settings(tmp_path, body), environ={"ALL_PASSWORD": "pw"})
    other = security.for_endpoint("opc.tcp://press9:4840/x")
    assert other is not None and (other.policy, other.mode, other.username) == (
        "Aes256Sha256RsaPss",
        "Sign",
        "all",
    )
    assert other.password == "pw" and "pw" not in repr(other)
    legacy = security.for_endpoint("opc.tcp://LEGACY:4840/")
    assert legacy is not None and not legacy.secured and legacy.certificate is None
    # without a file nothing changes: policy None, anonymous, no certificate generated
    assert load_opcua_security(Settings(data_dir=tmp_path / "none")).for_endpoint(URL) is None
    assert not (tmp_path / "none").exists()


def test_the_ingest_command_stops_on_a_bad_security_file(tmp_path: Path) -> None:
    path = tmp_path / "security.toml"
    path.write_text(f'[endpoints."{URL}"]\npolicy = "Basic256Sha256"\nmode = "Encrypt"\n')
    env = {"SANDAN_DATA_DIR": str(tmp_path), "SANDAN_OPCUA_SECURITY_FILE": str(path)}
    result = CliRunner().invoke(cli, ["ingest", "opcua"], env=env)
    assert result.exit_code == 2, result.output
    output = " ".join(result.output.split())  # the console wraps long lines
    assert f"endpoint '{URL}': field 'mode'" in output
