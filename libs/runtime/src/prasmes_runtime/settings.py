"""The one settings object. Every service reads its configuration through this class (or a subclass
adding its own fields), from the environment: DATABASE_URL, BUS, KAFKA_BOOTSTRAP_SERVERS, ..."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AwareDatetime, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

KAFKA_FETCH_MIN_BYTES = 16_384
KAFKA_FETCH_MAX_WAIT_MS = 100


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    service_name: str = "prasmes"
    var_dir: Path = Path("var")
    """Where local state lives on one machine: SQLite databases, the embedded event log, keys."""

    database_url: str = ""
    """Empty: a SQLite file var/<service>.db. `postgresql+asyncpg://...` for PostgreSQL."""
    migrate_on_start: bool = True
    """Migrate the database to the head revision at start (in the `all` and `worker` roles; `api` never migrates)."""

    role: Literal["all", "api", "worker"] = "all"
    """What this process of the service runs (ROLE). `all`: everything in one process (tests, single-process use).
    `api`: HTTP only — no migrations (it waits until the database is at the head revision), no relay, no consumers,
    no jobs; run as many as the cores allow (uvicorn --workers). `worker`: the outbox relay, the consumers and the
    periodic jobs, serving only /healthz, /readyz and /metrics; one per service (the embedded log allows one process
    per consumer group; on PostgreSQL the advisory lock keeps one relay active in any case)."""
    schema_wait_seconds: float = Field(default=120, gt=0)
    """How long an `api` process waits at start for the worker to migrate the database before it gives up."""

    bus: Literal["embedded", "kafka"] = "embedded"
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_partitions: int = 3
    kafka_retention_ms: int = Field(default=-1, ge=-1)
    """How long the topics the platform creates keep their records (KAFKA_RETENTION_MS; -1: for good, the default).
    The topics are the platform's history: partners replay them and statistics is rebuilt from their first offsets,
    so a topic that forgot its first week would rebuild figures without it. Applies to topics created from now on;
    an existing topic keeps its own `retention.ms` (kafka-configs.sh --alter changes it)."""
    kafka_fetch_min_bytes: int = Field(default=KAFKA_FETCH_MIN_BYTES, ge=1)
    kafka_fetch_max_wait_ms: int = Field(default=KAFKA_FETCH_MAX_WAIT_MS, ge=0, le=5_000)
    """A consumer's fetch waits at the broker until it holds KAFKA_FETCH_MIN_BYTES or KAFKA_FETCH_MAX_WAIT_MS passed.
    One byte (Kafka's default) answers each fetch with whatever came, a record or two under load: each consumer group
    then fetched and committed per record, and the broker's share of an account opening was 2.8 ms of CPU (1.5 ms with
    these defaults, `bench.hotpath --bus kafka`). The price: an event waits up to the maximum at each hop when little
    is happening, and an idle group fetches ten times a second instead of twice."""
    kafka_security_protocol: Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    """How the service reaches the brokers (KAFKA_SECURITY_PROTOCOL). `PLAINTEXT`: no authentication (one machine,
    tests). A SASL protocol signs in as KAFKA_SASL_USERNAME (the service's principal, `svc-<name>`, whose ACLs let it
    write only its own topics and read only what it consumes: `prasmes_devtools.kafka_access`); `SASL_SSL` over TLS."""
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256"] = "SCRAM-SHA-512"
    kafka_sasl_username: str = ""
    kafka_sasl_password: SecretStr | None = None
    """The principal's SCRAM password (KAFKA_SASL_PASSWORD; from the secret its KafkaUser wrote)."""
    kafka_ssl_cafile: Path | None = None
    """With `SASL_SSL`: the CA that signed the brokers' certificates (KAFKA_SSL_CAFILE); unset: the system's CAs."""
    event_log_path: Path | None = None
    """The embedded event log's SQLite file; default var/events.db."""

    relay_batch_size: int = 500
    relay_poll_interval: float = 0.5
    """Seconds an idle relay waits for a wake-up before it looks at the outbox anyway (and updates the lag metrics).
    Commits in the relay's own process wake it at once; on PostgreSQL every writer's NOTIFY does too."""
    relay_probe_interval: float = Field(default=0.025, gt=0)
    """On SQLite, the `worker` role's relay checks this often whether `api` processes (which cannot signal it)
    wrote outbox rows: one indexed `SELECT ... LIMIT 1`."""
    consumer_max_attempts: int = 3
    consumer_retry_backoff: float = 0.2
    consumer_group_suffix: str = ""
    """Appended to every consumer group's name (tests sharing one broker keep their groups apart)."""

    outbox_retention_hours: float = Field(default=7 * 24, gt=0)
    """Published outbox rows are deleted after this long (unpublished rows never are)."""
    inbox_retention_hours: float = Field(default=8 * 24, gt=0)
    """Inbox entries are forgotten after this long: keep it above the bus's retention (Kafka's default is 7 days),
    since an event can be redelivered only while the bus still holds it."""
    prune_interval: float = Field(default=3600, gt=0)
    """Seconds between two runs of the pruning jobs."""

    jwks_url: str = "http://127.0.0.1:8000/.well-known/jwks.json"
    jwt_issuer: str = "prasmes-identity"
    jwt_audience: str = "prasmes"
    identity_url: str = "http://127.0.0.1:8000"
    """The identity provider (the gateway): its user directory and its token endpoint (IDENTITY_URL)."""
    service_client_secret: SecretStr | None = None
    """This service's own credential at the identity provider (SERVICE_CLIENT_SECRET; its client id is the
    service's name): `prasmes_runtime.credentials.ServiceCredential` trades it for a `service` token. Unset: the
    service has no credential and cannot call the routes meant for services."""

    max_body_bytes: int = Field(default=11 * 1024 * 1024, gt=0)
    """A request body longer than this is refused with 413 as it arrives (a too-large Content-Length at once).
    A little above the gateway's 10 MiB, so that behind the gateway its answer comes first; a service taking
    bigger uploads raises it in its own settings."""
    metrics_token: SecretStr | None = None
    """The operators' scraper's bearer token for /metrics (METRICS_TOKEN; a long random value). Unset: /metrics
    answers only in dev mode, and is a 404 everywhere else."""

    dev_mode: bool = False
    clock_start: AwareDatetime | None = None
    """Tests and rehearsals only, and only with DEV_MODE=true (CLOCK_START, an ISO instant with an offset,
    `2025-10-10T20:00:00+03:00`): the service's clock starts at this instant when the process starts and runs at real
    speed (`prasmes_runtime.clock.OffsetClock`). Only the domain's time moves; tokens stay on real time."""
    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "json"
    traces_exporter: Literal["none", "console", "file", "otlp"] = "none"
    """Where this process's spans go (TRACES_EXPORTER). `otlp`: to an OpenTelemetry collector over OTLP/HTTP, at
    OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), the exporter's own standard variables, as
    are its headers, timeout and compression. Whatever the choice, every event carries a W3C `traceparent`."""
    traces_file: Path | None = None
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    """A listener of its own for Prometheus's scrape (METRICS_PORT): it serves /metrics and nothing else, with no
    token, so that a network policy, not a credential, keeps the public away, and the main port's /metrics answers
    404. One process per port: with it, run one uvicorn worker per container. Unset: /metrics on the main port,
    behind METRICS_TOKEN."""
    metrics_host: str = "0.0.0.0"  # the scrape comes from another pod; the network policy guards the port
    """The address the metrics listener binds (METRICS_HOST); 127.0.0.1 on one machine."""

    @model_validator(mode="after")
    def _clock_start_only_in_dev_mode(self) -> Settings:
        if self.clock_start is not None and not self.dev_mode:
            raise ValueError(
                "CLOCK_START is set but DEV_MODE is not true: a clock set by configuration is for tests and "
                "rehearsals only; unset CLOCK_START (or set DEV_MODE=true outside production)"
            )
        return self

    @model_validator(mode="after")
    def _sasl_needs_credentials(self) -> Settings:
        if self.kafka_security_protocol.startswith("SASL") and not (
            self.kafka_sasl_username and self.kafka_sasl_password and self.kafka_sasl_password.get_secret_value()
        ):
            raise ValueError(
                f"KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} signs in to Kafka: set KAFKA_SASL_USERNAME "
                "and KAFKA_SASL_PASSWORD (or use PLAINTEXT)"
            )
        return self

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url.replace("postgresql://", "postgresql+asyncpg://", 1)
        return f"sqlite+aiosqlite:///{self.var_dir / (self.service_name + '.db')}"

    def resolved_event_log_path(self) -> Path:
        return self.event_log_path or self.var_dir / "events.db"
