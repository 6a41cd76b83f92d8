"""Per-endpoint OPC UA security from an operator-managed file (`SANDAN_OPCUA_SECURITY_FILE`).

Passwords stay out of the registry tables (and out of its audit log and API): the file maps
an endpoint URL (a device's `external_id`) to its security policy, mode and user, TOML or
JSON by its suffix:

    [default]                       # optional: every endpoint not listed below
    policy = "Basic256Sha256"
    mode = "SignAndEncrypt"

    [endpoints."opc.tcp://10.1.2.3:4840/"]
    policy = "Aes256Sha256RsaPss"
    mode = "Sign"
    username = "sandan"
    password_env = "PRESS1_OPCUA_PASSWORD"   # or: password = "..."

An endpoint neither listed nor covered by `[default]` connects as before: policy None,
anonymous. The file is read once at start; every problem in it is a startup error naming
the endpoint and the field.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import structlog
from asyncua.crypto import security_policies
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sandan.settings import Settings
from sandan.telemetry.opcua_security.pki import (
    ApplicationCertificate,
    SecurityConfigError,
    TrustList,
    application_certificate,
)

__all__ = [
    "POLICIES",
    "EndpointSecurity",
    "ModeName",
    "OpcUaSecurity",
    "PolicyName",
    "endpoint_key",
    "load_opcua_security",
    "trusted_dir",
]

log = structlog.get_logger(__name__)

PolicyName = Literal["None", "Basic256Sha256", "Aes128Sha256RsaOaep", "Aes256Sha256RsaPss"]
ModeName = Literal["Sign", "SignAndEncrypt"]
# The policies asyncua implements that OPC UA has not deprecated (Basic128Rsa15 and
# Basic256 use SHA-1 and are left out on purpose).
POLICIES: dict[str, type[security_policies.SecurityPolicy]] = {
    "Basic256Sha256": security_policies.SecurityPolicyBasic256Sha256,
    "Aes128Sha256RsaOaep": security_policies.SecurityPolicyAes128Sha256RsaOaep,
    "Aes256Sha256RsaPss": security_policies.SecurityPolicyAes256Sha256RsaPss,
}
FILE_SETTING = "SANDAN_OPCUA_SECURITY_FILE"


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    policy: PolicyName = "None"
    mode: ModeName | None = None
    username: str | None = None
    password: str | None = None
    password_env: str | None = None


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    default: _Entry | None = None
    endpoints: dict[str, _Entry] = Field(default_factory=dict)


@dataclass(frozen=True)
class EndpointSecurity:
    """How to connect to one endpoint. `certificate` and `trust` are set when `secured`."""

    policy: PolicyName
    mode: ModeName | None
    username: str | None
    password: str | None = field(repr=False)
    certificate: ApplicationCertificate | None
    trust: TrustList | None
    configured_as: str  # where it is written, for messages

    @property
    def secured(self) -> bool:
        return self.policy != "None"


@dataclass(frozen=True)
class OpcUaSecurity:
    """The security of every configured endpoint; `for_endpoint` answers for any URL."""

    endpoints: Mapping[str, EndpointSecurity] = field(default_factory=dict)
    default: EndpointSecurity | None = None
    certificate: ApplicationCertificate | None = None

    def for_endpoint(self, url: str) -> EndpointSecurity | None:
        """None: policy None and anonymous, as without a security file."""
        return self.endpoints.get(endpoint_key(url), self.default)


def endpoint_key(url: str) -> str:
    """The same endpoint however it is spelled: scheme and host in lower case, no '/' at the
    end (`opc.tcp://Press1:4840/` is `opc.tcp://press1:4840`)."""
    parts = urlsplit(url.strip())
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def load_opcua_security(
    settings: Settings, environ: Mapping[str, str] | None = None
) -> OpcUaSecurity:
    """Read and check the security file; generate or load the client certificate if any
    endpoint needs it. Raises `SecurityConfigError` listing every problem."""
    path = settings.opcua_security_file
    if path is None:
        return OpcUaSecurity()
    parsed = _parse(path)
    env = os.environ if environ is None else environ
    problems: list[str] = []
    checked: dict[str, tuple[str, _Entry, str | None]] = {}
    if parsed.default is not None:
        checked[""] = (
            "[default]",
            parsed.default,
            _password(parsed.default, env, problems, "[default]"),
        )
    for url, entry in parsed.endpoints.items():
        where = f"endpoint '{url}'"
        key = endpoint_key(url)
        parts = urlsplit(url.strip())
        if parts.scheme.lower() != "opc.tcp" or not parts.hostname:
            problems.append(f"{where}: field 'endpoint': not an opc.tcp://host:port URL")
            continue
        if key in checked:
            problems.append(f"{where}: field 'endpoint': the same endpoint is listed twice")
            continue
        checked[key] = (f'[endpoints."{url}"]', entry, _password(entry, env, problems, where))
    if problems:
        raise SecurityConfigError(_message(path, problems))

    certificate = trust = None
    if any(entry.policy != "None" for _, entry, _ in checked.values()):
        certificate = application_certificate(
            settings.opcua_cert, settings.opcua_key, settings.data_dir
        )
        trust = TrustList(trusted_dir(settings), settings.data_dir / "opcua" / "pki" / "rejected")
        trust.trusted_dir.mkdir(parents=True, exist_ok=True)  # show where certificates go
    resolved: dict[str, EndpointSecurity] = {}
    for key, (where, entry, password) in checked.items():
        secured = entry.policy != "None"
        if entry.username and not secured:
            log.warning("opcua.password_without_encryption", endpoint=key or "[default]")
        resolved[key] = EndpointSecurity(
            policy=entry.policy,
            mode=(entry.mode or "SignAndEncrypt") if secured else None,
            username=entry.username,
            password=password,
            certificate=certificate if secured else None,
            trust=trust if secured else None,
            configured_as=f"{where} in {FILE_SETTING} ({path})",
        )
    default = resolved.pop("", None)
    return OpcUaSecurity(resolved, default, certificate)


def trusted_dir(settings: Settings) -> Path:
    """Where trusted server (and CA) certificates go: SANDAN_OPCUA_TRUSTED_DIR or the default."""
    return settings.opcua_trusted_dir or settings.data_dir / "opcua" / "pki" / "trusted"


def _parse(path: Path) -> _File:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SecurityConfigError(f"{FILE_SETTING} ({path}): cannot read it: {exc}") from exc
    try:
        raw: Any = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except ValueError as exc:  # both decoders' errors are ValueErrors
        raise SecurityConfigError(f"{FILE_SETTING} ({path}): not valid: {exc}") from exc
    try:
        return _File.model_validate(raw)
    except ValidationError as exc:
        raise SecurityConfigError(
            _message(path, [_where(e["loc"], e["msg"]) for e in exc.errors()])
        ) from exc


def _where(loc: tuple[int | str, ...], msg: str) -> str:
    if len(loc) >= 3 and loc[0] == "endpoints":
        return f"endpoint '{loc[1]}': field '{'.'.join(map(str, loc[2:]))}': {msg}"
    if len(loc) >= 2 and loc[0] == "default":
        return f"[default]: field '{'.'.join(map(str, loc[1:]))}': {msg}"
    return f"field '{'.'.join(map(str, loc))}': {msg}"


def _password(entry: _Entry, env: Mapping[str, str], problems: list[str], where: str) -> str | None:
    """The entry's password (from the environment if so configured); rules go to problems."""
    start = len(problems)
    if entry.policy == "None" and entry.mode is not None:
        problems.append(f"{where}: field 'mode': only with a policy other than None")
    if entry.password is not None and entry.password_env is not None:
        problems.append(f"{where}: field 'password_env': give password or password_env, not both")
    has_password = entry.password is not None or entry.password_env is not None
    if has_password and not entry.username:
        problems.append(f"{where}: field 'username': required with a password")
    if entry.username and not has_password:
        problems.append(f"{where}: field 'password': required with a username (or password_env)")
    password = entry.password
    if entry.password_env is not None:
        password = env.get(entry.password_env)
        if password is None:
            problems.append(
                f"{where}: field 'password_env': the environment variable "
                f"{entry.password_env} is not set"
            )
    return password if len(problems) == start else None


def _message(path: Path, problems: list[str]) -> str:
    return f"{FILE_SETTING} ({path}):\n" + "\n".join(f"  - {p}" for p in problems)
