"""Broker URLs and TLS for every MQTT connection Sandan makes.

One parser (`Broker.parse`) for `mqtt://[user:password@]host[:port]` (plain TCP, port 1883)
and `mqtts://[user:password@]host[:port]` (TLS, port 8883), and one `ssl.SSLContext` factory
(`MqttTls.context`), used alike by the receive client of the ingest workers (`mqtt_wire`),
the simulator's publishers and the aiomqtt clients (Sparkplug host, Frigate listener).

Why here and not in a domain: telemetry, the simulator and safety all connect to brokers,
and `core` is what every domain may import.

The server's certificate is always checked against the CA bundle (`SANDAN_MQTT_CA_FILE`, or
the system trust store), and its name against the URL's host. Only an explicit
`SANDAN_MQTT_TLS_INSECURE=true` skips the name check (never the chain), with a warning each
time a context is made. Passwords never appear in `str()`, `repr()` or error messages.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

import structlog

if TYPE_CHECKING:
    from sandan.settings import Settings

log = structlog.get_logger(__name__)

PLAIN_SCHEMES = frozenset({"mqtt", "tcp"})
TLS_SCHEMES = frozenset({"mqtts", "ssl"})
PLAIN_PORT, TLS_PORT = 1883, 8883
NAME_MISMATCH = frozenset({62, 64})  # OpenSSL's X509_V_ERR_HOSTNAME_ / IP_ADDRESS_MISMATCH


class MqttConfigError(ValueError):
    """A broker URL or TLS setting that cannot work; the message names the setting."""


@dataclass(frozen=True)
class MqttTls:
    """How Sandan checks the broker and, for mutual TLS, who it is (`SANDAN_MQTT_*`)."""

    ca_file: Path | None = None  # None: the system trust store
    cert_file: Path | None = None  # a client certificate (PEM), for brokers that require one
    key_file: Path | None = None  # its unencrypted key; None: in cert_file
    insecure: bool = False  # lab use only: skip the hostname check (the chain is still checked)

    @classmethod
    def from_settings(cls, settings: Settings) -> MqttTls:
        return cls(
            ca_file=settings.mqtt_ca_file,
            cert_file=settings.mqtt_cert_file,
            key_file=settings.mqtt_key_file,
            insecure=settings.mqtt_tls_insecure,
        )

    @property
    def configured(self) -> bool:
        """Whether any TLS setting differs from the default."""
        return self != MqttTls()

    def context(self, broker: str = "") -> ssl.SSLContext:
        """A client context: CA bundle (or the system's), optional client certificate,
        certificates required, the hostname checked unless `insecure`."""
        if self.key_file is not None and self.cert_file is None:
            raise MqttConfigError("SANDAN_MQTT_KEY_FILE is set without SANDAN_MQTT_CERT_FILE")
        ca = _readable(self.ca_file, "SANDAN_MQTT_CA_FILE")
        try:
            ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca)
        except ssl.SSLError as exc:
            raise MqttConfigError(f"SANDAN_MQTT_CA_FILE {ca}: no PEM certificates ({exc})") from exc
        cert = _readable(self.cert_file, "SANDAN_MQTT_CERT_FILE")
        if cert is not None:
            key = _readable(self.key_file, "SANDAN_MQTT_KEY_FILE")
            try:
                ctx.load_cert_chain(cert, key)
            except ssl.SSLError as exc:
                raise MqttConfigError(
                    f"SANDAN_MQTT_CERT_FILE {cert} / SANDAN_MQTT_KEY_FILE {key}: not a PEM "
                    f"certificate and its unencrypted key ({exc.reason or exc})"
                ) from exc
        if self.insecure:
            ctx.check_hostname = False  # verify_mode stays CERT_REQUIRED
            log.warning(
                "mqtt.tls_insecure",
                broker=broker,
                warning="SANDAN_MQTT_TLS_INSECURE=true: the broker's certificate is NOT checked "
                "against its host name; anyone holding a certificate of this CA can pose as "
                "the broker. For lab use only.",
            )
        return ctx


def _readable(path: Path | None, setting: str) -> str | None:
    if path is None:
        return None
    if not path.is_file():
        raise MqttConfigError(f"{setting}: {path} is not a readable file")
    return str(path)


@dataclass(frozen=True)
class Broker:
    """Where to connect and as whom: a parsed broker URL (`tls` None: plain TCP)."""

    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: MqttTls | None = None

    @classmethod
    def parse(cls, url: str, tls: MqttTls | None = None) -> Broker:
        """`mqtt://` or `mqtts://[user:password@]host[:port]`; user and password may be
        percent-encoded. `tls` applies to an mqtts:// URL (default: system trust store)."""
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError as exc:
            raise MqttConfigError(f"bad MQTT URL: {exc}") from None
        scheme = parts.scheme.lower()
        if scheme not in PLAIN_SCHEMES | TLS_SCHEMES:
            raise MqttConfigError(
                f"bad MQTT URL scheme {scheme!r}: use mqtt://host[:1883] or mqtts://host[:8883]"
            )
        secure = scheme in TLS_SCHEMES
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=port or (TLS_PORT if secure else PLAIN_PORT),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
            tls=(tls or MqttTls()) if secure else None,
        )

    @classmethod
    def of(cls, url: str | Broker) -> Broker:
        """A broker from a URL (TLS defaults) or as given."""
        return url if isinstance(url, Broker) else cls.parse(url)

    @cached_property
    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context of this broker (made once), or None for plain TCP."""
        return None if self.tls is None else self.tls.context(str(self))

    @property
    def server_hostname(self) -> str | None:
        return self.host if self.tls is not None else None

    def __str__(self) -> str:
        """The URL without the password (safe to print and log)."""
        user = f"{quote(self.username, safe='')}@" if self.username else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{host}:{self.port}"

    def describe(self) -> str:
        """The URL without the password and how it is secured, for banners and logs."""
        if self.tls is None:
            return f"{self} (plain TCP, no TLS)"
        tls = self.tls
        notes = [f"CA {tls.ca_file}" if tls.ca_file else "system CAs"]
        if tls.cert_file:
            notes.append(f"client certificate {tls.cert_file}")
        if tls.insecure:
            notes.append("HOSTNAME NOT CHECKED (SANDAN_MQTT_TLS_INSECURE)")
        return f"{self} (TLS, {', '.join(notes)})"


def mqtt_broker(settings: Settings, url: str | None = None) -> Broker:
    """The broker at `url` (default `SANDAN_MQTT_URL`) with the TLS settings."""
    tls = MqttTls.from_settings(settings)
    broker = Broker.parse(url or settings.mqtt_url, tls)
    if broker.tls is None and tls.configured:
        log.warning(
            "mqtt.tls_settings_unused",
            broker=str(broker),
            warning="SANDAN_MQTT_CA_FILE/CERT_FILE/KEY_FILE/TLS_INSECURE are set but the URL is "
            "mqtt:// (plain TCP); use mqtts:// for TLS",
        )
    return broker


def tls_failure(exc: BaseException, where: str) -> str | None:
    """A TLS failure said plainly with what to change, or None when `exc` is no TLS error."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        if exc.verify_code in NAME_MISMATCH:
            hint = "use a host name or address the certificate's subjectAltName lists"
        else:
            hint = "SANDAN_MQTT_CA_FILE must name the CA that signed the broker's certificate"
        return f"TLS to {where}: the broker's certificate is refused: {exc.verify_message} ({hint})"
    if not isinstance(exc, ssl.SSLError):
        return None
    reason = exc.reason or str(exc)
    if "CERTIFICATE_REQUIRED" in reason or "HANDSHAKE_FAILURE" in reason:
        hint = "the broker may require a client certificate: SANDAN_MQTT_CERT_FILE and _KEY_FILE"
    elif "WRONG_VERSION_NUMBER" in reason or "RECORD_LAYER" in reason:
        hint = "is it a TLS listener? plain listeners take mqtt://"
    elif "UNKNOWN_CA" in reason or "BAD_CERTIFICATE" in reason:
        hint = "the broker does not trust our client certificate"
    else:
        hint = "see the broker's log"
    return f"TLS to {where} failed: {reason} ({hint})"


def connection_error(exc: BaseException, where: str) -> str:
    """Why connecting to `where` failed, a TLS failure said plainly (also when aiomqtt wrapped
    it in an MqttError, which keeps the ssl error as the exception's context)."""
    for cause in (exc, exc.__cause__, exc.__context__):
        if cause is not None and (text := tls_failure(cause, where)):
            return text
    return str(exc)
