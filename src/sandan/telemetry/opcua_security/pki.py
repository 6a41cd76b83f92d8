"""The collector's OPC UA certificates: its own application instance certificate, and which
server certificates it trusts.

OPC UA authenticates both ends of a secure channel with X.509 certificates. The collector's
own certificate comes from `SANDAN_OPCUA_CERT` / `SANDAN_OPCUA_KEY` or, when those are unset,
is generated once (self-signed, RSA 2048, SHA-256, the application URI in subjectAltName as
OPC UA Part 6 requires) into `<data_dir>/opcua/pki/` and reused on every restart, so a
server's trust list stays valid. A server certificate is trusted when it, or a CA that
issued it, is in the trusted directory (`SANDAN_OPCUA_TRUSTED_DIR`); one that is not is
copied into the rejected directory, so the operator can inspect it and move it over, as
OPC UA tools usually do. The trusted directory is read on every connect attempt, so a
certificate trusted while the collector runs is used at its next retry.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import structlog
from asyncua.crypto import cert_gen
from asyncua.crypto.truststore import basic_ca_validator
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_der_private_key,
    load_pem_private_key,
)
from cryptography.x509 import verification
from cryptography.x509.oid import ExtendedKeyUsageOID

__all__ = [
    "ApplicationCertificate",
    "SecurityConfigError",
    "TrustList",
    "application_certificate",
    "own_certificate",
]

log = structlog.get_logger(__name__)

GENERATED_DAYS = 5 * 365  # a renewal means re-trusting on every server; not too often


class SecurityConfigError(ValueError):
    """OPC UA security settings that cannot work; the message names the setting and field."""


@dataclass(frozen=True)
class ApplicationCertificate:
    """What the collector presents to servers: its certificate (DER), its key (PKCS#8 DER,
    kept in memory) and the application URI its certificate names."""

    cert_der: bytes
    key_der: bytes
    application_uri: str
    cert_path: Path

    def __repr__(self) -> str:  # never the key
        return f"ApplicationCertificate({self.application_uri!r}, {str(self.cert_path)!r})"


def application_certificate(
    cert: Path | None, key: Path | None, data_dir: Path
) -> ApplicationCertificate:
    """The configured certificate and key, or the generated pair in the data directory."""
    if (cert is None) != (key is None):
        raise SecurityConfigError(
            "SANDAN_OPCUA_CERT and SANDAN_OPCUA_KEY go together: set both, or neither to "
            "let Sandan generate its certificate"
        )
    if cert is not None and key is not None:
        return _load_pair(cert, key, "SANDAN_OPCUA_CERT", "SANDAN_OPCUA_KEY")
    pki = data_dir / "opcua" / "pki"
    host = socket.gethostname()
    return own_certificate(
        pki / "own" / "cert.der",
        pki / "private" / "key.pem",
        f"urn:{host}:sandan:opcua-collector",
        ExtendedKeyUsageOID.CLIENT_AUTH,
        host,
    )


def own_certificate(
    cert_path: Path, key_path: Path, uri: str, usage: x509.ObjectIdentifier, host: str
) -> ApplicationCertificate:
    """The self-signed pair at these paths, generated when missing or expired and otherwise
    reused as it is (its URI too), so whoever trusts it keeps trusting it."""
    if cert_path.exists() and key_path.exists():
        loaded = _load_pair(cert_path, key_path, str(cert_path), str(key_path))
        if _x509(loaded.cert_der).not_valid_after_utc > datetime.now(UTC):
            return loaded
        log.warning("opcua.own_certificate_expired", path=str(cert_path))
    return _generate(cert_path, key_path, uri, usage, host)


def _load_pair(cert: Path, key: Path, cert_name: str, key_name: str) -> ApplicationCertificate:
    try:
        certificate = _read_certificate(cert.read_bytes())
    except (OSError, ValueError) as exc:
        raise SecurityConfigError(
            f"{cert_name} ({cert}): not a readable certificate: {exc}"
        ) from exc
    try:
        data = key.read_bytes()
        private_key = (
            load_pem_private_key(data, None)
            if data.lstrip().startswith(b"-----")
            else load_der_private_key(data, None)
        )
    except (OSError, ValueError, TypeError) as exc:
        raise SecurityConfigError(
            f"{key_name} ({key}): not a readable, unencrypted private key: {exc}"
        ) from exc
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise SecurityConfigError(f"{key_name} ({key}): OPC UA needs an RSA key")
    if _public(private_key.public_key()) != _public(certificate.public_key()):
        raise SecurityConfigError(f"{key_name} ({key}): this key does not belong to {cert}")
    uris = _uris(certificate)
    if not uris:
        raise SecurityConfigError(
            f"{cert_name} ({cert}): no URI in subjectAltName; OPC UA requires the "
            "application URI there"
        )
    return ApplicationCertificate(
        cert_der=certificate.public_bytes(Encoding.DER),
        key_der=private_key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption()),
        application_uri=uris[0],
        cert_path=cert,
    )


def _generate(
    cert_path: Path, key_path: Path, uri: str, usage: x509.ObjectIdentifier, host: str
) -> ApplicationCertificate:
    key = cert_gen.generate_private_key()  # RSA 2048
    certificate = cert_gen.generate_self_signed_app_certificate(
        key,
        uri,
        {"organizationName": "Sandan"},
        [x509.UniformResourceIdentifier(uri), x509.DNSName(host)],
        [usage],
        days=GENERATED_DAYS,
    )  # signed with SHA-256
    cert_path.parent.mkdir(parents=True, exist_ok=True)
    key_path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    key_path.chmod(0o600)  # also when the file existed with wider rights
    der = certificate.public_bytes(Encoding.DER)
    cert_path.write_bytes(der)
    log.info("opcua.own_certificate_generated", path=str(cert_path), application_uri=uri)
    return ApplicationCertificate(
        cert_der=der,
        key_der=key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption()),
        application_uri=uri,
        cert_path=cert_path,
    )


class TrustList:
    """Decides whether a server certificate (chain) is trusted, from a directory of
    certificates: the certificate itself (a self-signed machine certificate) or its CA."""

    def __init__(self, trusted_dir: Path, rejected_dir: Path) -> None:
        self.trusted_dir = trusted_dir
        self.rejected_dir = rejected_dir

    def problem(self, chain_der: bytes) -> str | None:
        """None when trusted, else why not (in words for the operator)."""
        chain = split_chain(chain_der)
        if not chain:
            return "the server sent no certificate"
        leaf, now = chain[0], datetime.now(UTC)
        if not leaf.not_valid_before_utc <= now <= leaf.not_valid_after_utc:
            return (
                f"its validity ({leaf.not_valid_before_utc:%Y-%m-%d} to "
                f"{leaf.not_valid_after_utc:%Y-%m-%d}) does not include today"
            )
        anchors = self._anchors()
        if leaf in anchors:  # x509.Certificate compares by DER
            return None
        cas = [c for c in anchors if _is_ca(c)]
        if cas:
            policy = verification.ExtensionPolicy.permit_all().require_present(
                x509.BasicConstraints, verification.Criticality.AGNOSTIC, basic_ca_validator
            )
            verifier = (
                verification.PolicyBuilder()
                .store(verification.Store(cas))
                .extension_policies(
                    ca_policy=policy, ee_policy=verification.ExtensionPolicy.permit_all()
                )
                .build_client_verifier()
            )
            try:
                verifier.verify(leaf, chain[1:])
                return None
            except verification.VerificationError:
                pass
        return f"neither it nor its issuer is in {self.trusted_dir}"

    def reject(self, chain_der: bytes) -> Path | None:
        """Keep the refused certificate where the operator can review and trust it."""
        chain = split_chain(chain_der)
        if not chain:
            return None
        path = self.rejected_dir / f"{thumbprint(chain[0])}.der"
        try:
            self.rejected_dir.mkdir(parents=True, exist_ok=True)
            path.write_bytes(chain[0].public_bytes(Encoding.DER))
        except OSError:
            log.warning("opcua.reject_not_saved", path=str(path))
            return None
        return path

    def _anchors(self) -> list[x509.Certificate]:
        if not self.trusted_dir.is_dir():
            return []
        out: list[x509.Certificate] = []
        for path in sorted(self.trusted_dir.iterdir()):
            if path.suffix.lower() not in (".der", ".pem", ".crt", ".cer"):
                continue
            try:
                out.append(_read_certificate(path.read_bytes()))
            except (OSError, ValueError):
                log.warning("opcua.trusted_certificate_unreadable", path=str(path))
        return out


def split_chain(der: bytes | None) -> list[x509.Certificate]:
    """The certificates of an OPC UA certificate field (DER certificates, concatenated)."""
    out: list[x509.Certificate] = []
    offset = 0
    data = der or b""
    while offset + 4 <= len(data) and data[offset] == 0x30:
        first = data[offset + 1]
        if first < 0x80:
            length, header = first, 2
        else:
            n = first & 0x7F
            length, header = int.from_bytes(data[offset + 2 : offset + 2 + n], "big"), 2 + n
        end = offset + header + length
        out.append(x509.load_der_x509_certificate(data[offset:end]))
        offset = end
    return out


def thumbprint(certificate: x509.Certificate) -> str:
    """The SHA-1 thumbprint OPC UA tools show for a certificate (hex, upper case)."""
    return certificate.fingerprint(hashes.SHA1()).hex().upper()  # an identifier, not a signature


def describe(certificate: x509.Certificate) -> str:
    return f"'{certificate.subject.rfc4514_string()}' (SHA-1 {thumbprint(certificate)})"


def _read_certificate(data: bytes) -> x509.Certificate:
    if data.lstrip().startswith(b"-----"):
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)


def _x509(der: bytes) -> x509.Certificate:
    return x509.load_der_x509_certificate(der)


def _public(key: object) -> bytes:
    if not isinstance(key, rsa.RSAPublicKey):
        return b""
    return key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def _uris(certificate: x509.Certificate) -> list[str]:
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return list(san.value.get_values_for_type(x509.UniformResourceIdentifier))


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        ext = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        return False
    return ext.value.ca
