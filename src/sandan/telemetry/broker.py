"""Broker credentials and ACL for Mosquitto, generated from the registry.

`write_broker_files` writes into one directory:

- `password_file`: one `username:$7$…` line per login, Mosquitto's own PBKDF2-SHA512 format
  (`mosquitto_passwd` makes it when installed, else `hash_password` here; both verified
  against a real Mosquitto in the tests);
- `acl_file`: each device may publish only its own topics, the ingest login reads all;
- `mosquitto-sandan.conf`: the three lines that point Mosquitto at them.

Logins: every enabled device of protocol `mqtt` or `sparkplug` is **`device-<id>`**, and the
ingest workers share **`sandan-ingest`**. Device keys (`sdd_…`) are kept only as hashes, so a
broker password cannot be derived from them: each login gets its own random MQTT password,
shown once when it is first minted (or with `rotate`). The password file itself is the
record: a later run keeps the hashes of logins that still exist, mints passwords only for
new ones, and drops the logins of disabled or deleted devices.

Topics:

- `mqtt` device: write `sandan/v1/<company_id>/<device_id>/data`;
- `sparkplug` device with external_id `<group>/<edge node>[/<device>]`: write
  `spBv1.0/<group>/+/<edge node>/#` (NBIRTH, NDATA, NDEATH and its devices' DBIRTH, DDATA,
  DDEATH), read its commands (`spBv1.0/<group>/NCMD/<edge node>`,
  `spBv1.0/<group>/DCMD/<edge node>/#`) and host states (`spBv1.0/STATE/#`);
- `sandan-ingest`: read `#`, write `spBv1.0/#` (the Sparkplug host's STATE and rebirth
  requests).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from sqlalchemy.orm import Session

from sandan.core.clock import utcnow
from sandan.registry import service as registry

INGEST_USER = "sandan-ingest"
ITERATIONS = 101  # mosquitto_passwd's default for $7$ (PBKDF2-SHA512)
SALT_BYTES = 12
PASSWORD_FILE = "password_file"
ACL_FILE = "acl_file"
CONF_FILE = "mosquitto-sandan.conf"
Hasher = Literal["auto", "mosquitto_passwd", "python"]


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """A Mosquitto `$7$` hash: PBKDF2-HMAC-SHA512 over the password, base64 salt and digest."""
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, encoded: str) -> bool:
    """Whether a password matches a `$7$` hash (of ours or of mosquitto_passwd)."""
    parts = encoded.split("$")
    if len(parts) != 5 or parts[1] != "7":
        return False
    try:
        iterations, salt, digest = int(parts[2]), base64.b64decode(parts[3]), parts[4]
    except ValueError:
        return False
    again = hash_password(password, salt=salt, iterations=iterations)
    return hmac.compare_digest(again.split("$")[4], digest)


def read_password_file(path: Path) -> dict[str, str]:
    """username -> hash of an existing password file (missing file: empty)."""
    if not path.exists():
        return {}
    entries: dict[str, str] = {}
    for line in path.read_text().splitlines():
        user, sep, encoded = line.strip().partition(":")
        if sep and user and not user.startswith("#"):
            entries[user] = encoded
    return entries


def _hash_with_binary(binary: str, passwords: dict[str, str]) -> dict[str, str]:
    """Hash with `mosquitto_passwd -U` on a private temporary file (plain text never leaves
    a 0600 file that is deleted at once)."""
    with tempfile.TemporaryDirectory(prefix="sandan-mqtt-") as tmp:
        plain = Path(tmp) / "passwords"
        fd = os.open(plain, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.writelines(f"{user}:{pw}\n" for user, pw in passwords.items())
        subprocess.run(
            [binary, "-U", str(plain)], check=True, capture_output=True, text=True, timeout=120
        )
        hashed = read_password_file(plain)
    if set(hashed) != set(passwords) or not all(v.startswith("$7$") for v in hashed.values()):
        raise RuntimeError("mosquitto_passwd -U did not hash every entry")
    return hashed


def hash_passwords(passwords: dict[str, str], hasher: Hasher = "auto") -> dict[str, str]:
    """username -> `$7$` hash, by mosquitto_passwd when installed (or asked for)."""
    if not passwords:
        return {}
    binary = shutil.which("mosquitto_passwd") if hasher != "python" else None
    if hasher == "mosquitto_passwd" and binary is None:
        raise FileNotFoundError("mosquitto_passwd is not on the PATH")
    if binary is not None:
        return _hash_with_binary(binary, passwords)
    return {user: hash_password(pw) for user, pw in passwords.items()}


@dataclass
class BrokerLogin:
    """One broker login and what its ACL allows."""

    username: str
    device_id: int | None = None
    company_id: int | None = None
    note: str = ""
    read: list[str] = field(default_factory=list)
    write: list[str] = field(default_factory=list)


def device_username(device_id: int) -> str:
    return f"device-{device_id}"


def _sparkplug_topics(external_id: str) -> tuple[list[str], list[str]] | None:
    """(write, read) topics of a Sparkplug edge node, or None for a malformed external id."""
    parts = external_id.split("/")
    if len(parts) not in (2, 3) or any(
        not p or any(c in p for c in "+#$") or p != p.strip() for p in parts
    ):
        return None
    group, edge = parts[0], parts[1]
    write = [f"spBv1.0/{group}/+/{edge}/#"]
    read = [f"spBv1.0/{group}/NCMD/{edge}", f"spBv1.0/{group}/DCMD/{edge}/#", "spBv1.0/STATE/#"]
    return write, read


def broker_logins(session: Session) -> tuple[list[BrokerLogin], list[str]]:
    """The ingest login and one per enabled MQTT or Sparkplug device; and warnings for the
    devices that get none (a Sparkplug external id that is not `<group>/<edge>[/<device>]`)."""
    logins = [BrokerLogin(INGEST_USER, note="ingest workers", read=["#"], write=["spBv1.0/#"])]
    warnings: list[str] = []
    seen: set[int] = set()
    for device_id, company_id, *_ in registry.protocol_tag_rows(session, "mqtt"):
        if device_id in seen:
            continue
        seen.add(device_id)
        logins.append(
            BrokerLogin(
                device_username(device_id),
                device_id,
                company_id,
                note=f"company {company_id}, mqtt",
                write=[f"sandan/v1/{company_id}/{device_id}/data"],
            )
        )
    for device_id, company_id, external, *_ in registry.protocol_tag_rows(session, "sparkplug"):
        if device_id in seen:
            continue
        seen.add(device_id)
        topics = _sparkplug_topics(external or "")
        if topics is None:
            warnings.append(
                f"device {device_id}: sparkplug external_id {external!r} is not "
                "<group>/<edge node>[/<device>]; no broker login"
            )
            continue
        logins.append(
            BrokerLogin(
                device_username(device_id),
                device_id,
                company_id,
                note=f"company {company_id}, sparkplug {external}",
                write=topics[0],
                read=topics[1],
            )
        )
    return logins, warnings


def acl_text(logins: Iterable[BrokerLogin]) -> str:
    """The Mosquitto acl_file: per user, only the listed topics (nothing for anyone else)."""
    lines = [
        f"# Written by `sandan mqtt acl` at {utcnow().isoformat(timespec='seconds')}.",
        "# Do not edit: run the command again (and send Mosquitto SIGHUP) after registry changes.",
        "",
    ]
    for login in logins:
        lines.append(f"# {login.note}" if login.note else "#")
        lines.append(f"user {login.username}")
        lines += [f"topic read {t}" for t in login.read]
        lines += [f"topic write {t}" for t in login.write]
        lines.append("")
    return "\n".join(lines)


@dataclass
class NewPassword:
    """A password minted by this run; shown once, then only its hash exists."""

    username: str
    password: str
    device_id: int | None
    company_id: int | None


@dataclass
class BrokerFiles:
    """What a run wrote and changed."""

    directory: Path
    logins: int
    new: list[NewPassword]
    kept: int
    removed: list[str]
    warnings: list[str]


def _write(path: Path, text: str, mode: int) -> None:
    """Replace a file atomically (Mosquitto may re-read it at any SIGHUP)."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def write_broker_files(
    session: Session,
    directory: Path,
    *,
    rotate: Iterable[str] = (),
    hasher: Hasher = "auto",
) -> BrokerFiles:
    """Write password_file, acl_file and mosquitto-sandan.conf for the registry as it is.
    `rotate` names logins (`device-7`, `sandan-ingest`) that get a new password."""
    directory.mkdir(parents=True, exist_ok=True)
    logins, warnings = broker_logins(session)
    existing = read_password_file(directory / PASSWORD_FILE)
    renew = set(rotate)
    unknown = renew - {login.username for login in logins}
    if unknown:
        raise ValueError(f"no such broker login: {', '.join(sorted(unknown))}")
    minted = {
        login.username: secrets.token_urlsafe(24)
        for login in logins
        if login.username in renew or login.username not in existing
    }
    hashed = hash_passwords(minted, hasher)
    entries = {
        login.username: hashed.get(login.username) or existing[login.username] for login in logins
    }
    # 0640: Mosquitto reads these as its own user; give the files to its group (docs).
    _write(directory / PASSWORD_FILE, "".join(f"{u}:{h}\n" for u, h in entries.items()), 0o640)
    _write(directory / ACL_FILE, acl_text(logins), 0o640)
    conf = (
        "# Include from mosquitto.conf (or copy these lines); see docs/operations.md.\n"
        "allow_anonymous false\n"
        f"password_file {(directory / PASSWORD_FILE).resolve()}\n"
        f"acl_file {(directory / ACL_FILE).resolve()}\n"
    )
    _write(directory / CONF_FILE, conf, 0o644)
    by_name = {login.username: login for login in logins}
    return BrokerFiles(
        directory=directory,
        logins=len(logins),
        new=[
            NewPassword(name, pw, by_name[name].device_id, by_name[name].company_id)
            for name, pw in minted.items()
        ],
        kept=len(logins) - len(minted),
        removed=sorted(set(existing) - set(entries)),
        warnings=warnings,
    )
