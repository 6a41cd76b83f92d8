"""The wire of each channel: SMTP for email, an HTTP POST of JSON for webhooks. Blocking
calls with timeouts; the notifier runs them in a thread."""

from __future__ import annotations

import json
import smtplib
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any


@dataclass(frozen=True)
class SmtpConfig:
    """How to reach the mail relay."""

    host: str
    port: int = 25
    sender: str = "sandan@localhost"
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 10.0


class DeliveryError(Exception):
    """The channel refused or could not be reached; the message is retried later."""


def send_email(config: SmtpConfig, to: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    try:
        with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
            if config.starttls:
                smtp.starttls()
            if config.username:
                smtp.login(config.username, config.password or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        raise DeliveryError(f"SMTP {config.host}:{config.port}: {error}") from error


def post_webhook(url: str, payload: dict[str, Any], timeout: float = 10.0) -> None:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, ensure_ascii=False, default=str).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "sandan-notifier"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if not 200 <= response.status < 300:
                raise DeliveryError(f"webhook answered {response.status}")
    except urllib.error.HTTPError as error:
        raise DeliveryError(f"webhook answered {error.code}") from error
    except (OSError, urllib.error.URLError) as error:
        raise DeliveryError(f"webhook unreachable: {error}") from error
