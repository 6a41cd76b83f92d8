"""One settings object for the whole platform, read from SANDAN_* environment variables."""

from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob an operator can turn; passed explicitly, never imported as a global."""

    model_config = SettingsConfigDict(env_prefix="SANDAN_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path("sandan-data"), description="Where embedded data lives.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; SQLite under data_dir when unset."
    )
    secret_key: str | None = Field(
        default=None, description="Signs session cookies; generated into data_dir when unset."
    )
    bus_url: str = Field(default="memory://", description="memory:// or nats://host:4222")
    mqtt_url: str = Field(
        default="mqtt://127.0.0.1:1883",
        description="Broker for devices: mqtt://[user:password@]host[:1883], or "
        "mqtts://… (TLS, port 8883 by default).",
    )
    mqtt_ca_file: Path | None = Field(
        default=None,
        description="CA bundle (PEM) that signed the broker's certificate, for mqtts:// URLs; "
        "unset: the system trust store.",
    )
    mqtt_cert_file: Path | None = Field(
        default=None, description="Client certificate (PEM) for brokers that require mutual TLS."
    )
    mqtt_key_file: Path | None = Field(
        default=None,
        description="The unencrypted private key (PEM) of mqtt_cert_file; unset: in that file.",
    )
    mqtt_tls_insecure: bool = Field(
        default=False,
        description="Lab use only: do not check the broker's host name against its certificate "
        "(the chain is still checked); logged as a warning at every start.",
    )
    telemetry_url: str | None = Field(
        default=None,
        description="duckdb:///path or postgresql://…; a DuckDB file in data_dir when unset.",
    )
    simulate: bool = Field(
        default=False, description="Feed the platform from the built-in simulator (the demo)."
    )
    mqtt_ingest: bool = Field(
        default=False, description="Run an MQTT ingest worker inside `sandan serve`."
    )
    sparkplug_ingest: bool = Field(
        default=False,
        description="Run a Sparkplug B host application inside `sandan serve` (on mqtt_url).",
    )
    sparkplug_host_id: str = Field(
        default="sandan", description="The Sparkplug B host id of the in-server worker (STATE)."
    )
    opcua_ingest: bool = Field(
        default=False,
        description="Run the OPC UA ingest worker (the registry's opcua devices) inside serve.",
    )
    opcua_security_file: Path | None = Field(
        default=None,
        description="TOML or JSON file: OPC UA endpoint URL -> policy, mode, username, "
        "password_env or password (unset: every endpoint policy None, anonymous).",
    )
    opcua_cert: Path | None = Field(
        default=None,
        description="The OPC UA collector's certificate (PEM or DER; with opcua_key); unset: "
        "generated once into data_dir/opcua/pki/.",
    )
    opcua_key: Path | None = Field(
        default=None, description="The private key of opcua_cert (PEM or DER, unencrypted)."
    )
    opcua_trusted_dir: Path | None = Field(
        default=None,
        description="Trusted OPC UA server (or CA) certificates; unset: "
        "data_dir/opcua/pki/trusted.",
    )
    retention_raw_days: int | None = Field(
        default=None, ge=1, description="Delete raw readings older than this (unset: keep)."
    )
    retention_1m_days: int | None = Field(
        default=None, ge=1, description="Delete 1-minute rollups older than this (unset: keep)."
    )
    retention_1h_days: int | None = Field(
        default=None, ge=1, description="Delete 1-hour rollups older than this (unset: keep)."
    )
    retention_every_hours: float = Field(
        default=24.0, ge=0, description="How often `sandan serve` applies retention (0: never)."
    )
    sharing_fee_rate: float = Field(
        default=0.05, ge=0, lt=1, description="The platform's share of each data-sharing charge."
    )
    dsp_partners: str = Field(
        default="",
        description="Connectors of other complexes this one trusts, as 'base_url=ed25519:key' "
        "entries separated by commas (their keys: GET <base_url>/dsp/connector).",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    session_hours: int = Field(default=12, description="Lifetime of a web login.")
    login_max_failures: int = Field(default=5, description="Failures before throttling.")
    login_lockout_seconds: int = Field(default=300, description="Throttle after the failures.")
    api_token_days: int = Field(default=90, description="Default lifetime of an API token.")
    default_language: str = Field(default="ko", description="ko or en")
    log_json: bool = Field(default=False, description="structlog JSON lines instead of console.")
    plant_timezone: str = Field(
        default="Asia/Seoul", description="Local time of the plants, for shifts and days (OEE)."
    )
    shifts: str = Field(
        default="06:00,14:00,22:00",
        description="Shift start times, local; a production day begins with the first.",
    )
    downtime_min_idle_minutes: int = Field(
        default=5, ge=1, description="Idle time shorter than this is no downtime event."
    )
    benchmark_k: int = Field(
        default=5, ge=2, description="Companies a complex benchmark needs before it is shown."
    )
    benchmark_dominance_share: float = Field(
        default=0.6,
        gt=0,
        le=1,
        description="A benchmark is withheld when one company makes up more of its weight.",
    )
    benchmark_epsilon: float | None = Field(
        default=None,
        gt=0,
        description="Differential privacy: the epsilon one benchmark release spends (Laplace "
        "noise on the mean, no quartiles); unset: exact figures.",
    )
    benchmark_epsilon_total: float = Field(
        default=1.0, gt=0, description="The epsilon budget of each benchmark statistic and window."
    )
    frigate_mqtt_url: str | None = Field(
        default=None,
        description="Broker where Frigate publishes `frigate/events` (mqtt:// or mqtts://, with "
        "the SANDAN_MQTT_* TLS settings); unset: no CCTV listener.",
    )
    frigate_topic_prefix: str = Field(default="frigate", description="Frigate's MQTT prefix.")
    smtp_host: str | None = Field(
        default=None, description="Mail relay for alarm emails; unset: email channels fail."
    )
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_sender: str = Field(default="sandan@localhost", description="From: of alarm emails.")
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    water_evaluate_every_hours: float = Field(
        default=1.0, ge=0, description="How often the night flow of every DMA is judged (0: never)."
    )
    notify_interval_seconds: float = Field(
        default=2.0, gt=0, description="How often the notifier escalates and sends."
    )

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to an SQLite file in the data directory."""
        if self.database_url:
            url = self.database_url
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
            return url
        return f"sqlite:///{(self.data_dir / 'sandan.db').resolve()}"

    def resolved_secret_key(self) -> str:
        """The cookie-signing key; persisted in the data directory so restarts keep logins."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key

    def resolved_telemetry_path(self) -> Path:
        """The DuckDB file of the embedded telemetry store."""
        url = self.telemetry_url
        if url is None:
            return (self.data_dir / "telemetry.duckdb").resolve()
        if not url.startswith("duckdb:///"):
            raise ValueError("SANDAN_TELEMETRY_URL is not a duckdb:/// URL")
        return Path(url.removeprefix("duckdb:///"))

    def is_sqlite(self) -> bool:
        """Whether the relational store is the embedded SQLite file."""
        return self.resolved_database_url().startswith("sqlite")
