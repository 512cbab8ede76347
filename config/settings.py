"""One typed, frozen settings object, read from the environment once."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

KIB = 1024

#: Settings are read before logging is set up: a deprecation line then goes to stderr as
#: plain text (logging's last resort), the stream the JSON lines go to afterwards.
log = logging.getLogger("fluxa.config")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names every variable at fault."""


def _env(
    name: str,
    default: Any = None,
    *,
    parse: Callable[[str], Any] = str,
    formerly: str | None = None,
) -> Any:
    """A setting read from the variable `name` (or, deprecated, from its former name)."""
    return field(default=default, metadata={"env": name, "parse": parse, "formerly": formerly})


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("must be a positive integer")
    return value


def _sqs_message_size(raw: str) -> int:
    value = int(raw)
    if not 1024 <= value <= 1024 * 1024:  # what SQS's MaximumMessageSize allows
        raise ValueError("must be between 1024 and 1048576 (bytes)")
    return value


#: Per principal: 100 ingest requests a second (a batch carries up to 500 events), 50
#: queries a second, 20 journal requests a second. What one client can send without
#: taking the standalone from others (docs/reliability.md, "load and faults").
DEFAULT_RATE_LIMITS = "events.write=100/second;events.read=50/second;journal=20/second"


def _sqs_lease(raw: str) -> int:
    value = int(raw)
    if not 2 <= value <= 43200:  # SQS's visibility timeouts end at 12 h
        raise ValueError("must be between 2 and 43200 (seconds)")
    return value


def _names(raw: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in raw.split(",") if name.strip())
    if not names:
        raise ValueError("must name at least one (comma-separated)")
    return names


def _positive_float(raw: str) -> float:
    value = float(raw)
    if value <= 0:
        raise ValueError("must be a positive number")
    return value


def _non_negative_float(raw: str) -> float:
    value = float(raw)
    if not value >= 0:
        raise ValueError("must be 0 or more")
    return value


def _log_level(raw: str) -> str:
    level = raw.upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
    return level


def _database_url(raw: str) -> str:
    if not raw.startswith(("postgresql://", "postgresql+psycopg://")):
        raise ValueError("must be a postgresql+psycopg:// URL")
    return raw.replace("postgresql://", "postgresql+psycopg://", 1)


def _flag(raw: str) -> bool:
    if raw.lower() not in {"true", "false", "1", "0", "yes", "no"}:
        raise ValueError("must be true or false")
    return raw.lower() in {"true", "1", "yes"}


def with_password(url: str, password: str) -> str:
    """`url` with `password` for its user (a password kept apart, e.g. in Secrets Manager)."""
    parts = urlsplit(url)
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[-1]
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


def _broker_url(raw: str) -> str:
    if "://" not in raw:
        raise ValueError("must be a URL such as sqs:// or redis://host:6379/0")
    return raw


def _http_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError("must be an http(s):// URL")
    return raw.rstrip("/")


def _jwks_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme == "file" and parts.path:
        return raw
    return _http_url(raw)


@dataclass(frozen=True)
class Settings:
    """Everything a Fluxa process may be configured with (architecture §2).

    Optional connection settings are `None` when unset; a process that needs one
    calls `require(...)` at start-up so that it fails with the variable's name.
    """

    database_url: str | None = _env("FLUXA_DATABASE_URL", parse=_database_url)
    # Injected apart from the URL by the platform's secret store (ECS from Secrets Manager).
    database_password: str | None = _env("FLUXA_DATABASE_PASSWORD")
    #: A read replica (or Aurora reader) for the event queries; unset: they read the writer.
    database_reader_url: str | None = _env("FLUXA_DATABASE_READER_URL", parse=_database_url)
    broker_url: str | None = _env("FLUXA_BROKER_URL", parse=_broker_url)
    aws_endpoint_url: str | None = _env("FLUXA_AWS_ENDPOINT_URL", parse=_http_url)
    # Per-service overrides, for emulators that serve only one of SQS and S3.
    sqs_endpoint_override: str | None = _env("FLUXA_SQS_ENDPOINT_URL", parse=_http_url)
    s3_endpoint_override: str | None = _env("FLUXA_S3_ENDPOINT_URL", parse=_http_url)
    aws_region: str = _env("AWS_REGION", "us-east-1")
    payload_bucket: str = _env("FLUXA_PAYLOAD_BUCKET", "fluxa-payloads")
    image_bucket: str = _env("FLUXA_IMAGE_BUCKET", "fluxa-trade-images")
    auth_issuer: str | None = _env("FLUXA_AUTH_ISSUER")
    #: The app clients whose tokens the API accepts, comma-separated: a user pool has one for
    #: people signing in and one (or more) for machine clients' client credentials.
    auth_client_ids: tuple[str, ...] = _env("FLUXA_AUTH_AUDIENCE", (), parse=_names)
    #: Accept a declared payload hash of the pre-RFC 8785 form (answered with a Deprecation
    #: header); false refuses it with HashMismatch. For producers moving over.
    accept_legacy_payload_hash: bool = _env("FLUXA_ACCEPT_LEGACY_PAYLOAD_HASH", True, parse=_flag)
    auth_jwks_url: str | None = _env("FLUXA_AUTH_JWKS_URL", parse=_jwks_url)
    # Private key of the local development issuer (`fluxa standalone`, `fluxa token`).
    auth_dev_key_path: str | None = _env("FLUXA_AUTH_DEV_KEY_PATH")
    log_level: str = _env("FLUXA_LOG_LEVEL", "INFO", parse=_log_level)

    input_queue: str = _env("FLUXA_INPUT_QUEUE", "Fluxa-InputQueue")
    stats_queue: str = _env("FLUXA_STATS_QUEUE", "Fluxa-StatsQueue")
    maintenance_queue: str = _env("FLUXA_MAINTENANCE_QUEUE", "Fluxa-MaintenanceQueue")
    dead_letter_queue: str = _env("FLUXA_DLQ", "Fluxa-DLQ")
    stats_dead_letter_queue: str = _env("FLUXA_STATS_DLQ", "StatsDLQ")
    # When set, queue URLs are this prefix + "/" + name; otherwise they are
    # resolved once at start-up with GetQueueUrl (never ListQueues/CreateQueue).
    sqs_queue_url_prefix: str | None = _env("FLUXA_SQS_QUEUE_URL_PREFIX", parse=_http_url)
    sqs_visibility_timeout: int = _env("FLUXA_SQS_VISIBILITY_TIMEOUT", 900, parse=_positive_int)
    # How long a worker's received message stays hidden unless the worker renews it (it
    # does, every quarter of this, while it holds the message): a crashed worker's
    # messages come back this much later at most (broker/message_leases.py).
    sqs_lease_seconds: int = _env("FLUXA_SQS_LEASE_SECONDS", 60, parse=_sqs_lease)
    sqs_max_receive_count: int = _env("FLUXA_SQS_MAX_RECEIVE_COUNT", 5, parse=_positive_int)
    sqs_wait_time_seconds: int = _env("FLUXA_SQS_WAIT_SECONDS", 10, parse=int)
    sqs_max_message_bytes: int = _env(
        "FLUXA_SQS_MAX_MESSAGE_BYTES", 256 * KIB, parse=_sqs_message_size
    )
    claim_check_bytes: int = _env("FLUXA_CLAIM_CHECK_BYTES", 192 * KIB, parse=_positive_int)

    task_time_limit: int = _env("FLUXA_TASK_TIME_LIMIT", 300, parse=_positive_int)
    # Messages each worker process holds: 1 running + the rest waiting their turn, so the
    # next is there when a task ends (no receive round trip in between).
    worker_prefetch_multiplier: int = _env(
        "FLUXA_WORKER_PREFETCH_MULTIPLIER", 2, parse=_positive_int
    )
    retry_max_retries: int = _env("FLUXA_RETRY_MAX_RETRIES", 6, parse=int)
    retry_backoff_base: float = _env("FLUXA_RETRY_BACKOFF_BASE", 2.0, parse=_positive_float)
    retry_backoff_max: float = _env("FLUXA_RETRY_BACKOFF_MAX", 120.0, parse=_positive_float)

    #: One stats rebuild per user at most this often: the relay throttles (the first write
    #: of a quiet spell goes at once), it does not wait for a burst to end.
    stats_throttle_seconds: float = _env(
        "FLUXA_STATS_THROTTLE_SECONDS",
        1.0,
        parse=_positive_float,
        formerly="FLUXA_STATS_DEBOUNCE_SECONDS",
    )
    #: Days events are kept, by day of arrival (unset: forever); whole partitions go, and
    #: the archive's lifecycle rule in deploy/aws follows (fluxa.events.retention).
    events_retention_days: int | None = _env("FLUXA_EVENTS_RETENTION_DAYS", parse=_positive_int)
    #: Days the event and trade-write trails (what `fluxa trace` reads) are kept.
    trail_retention_days: int = _env("FLUXA_TRAIL_RETENTION_DAYS", 30, parse=_positive_int)
    stats_sweep_seconds: int = _env("FLUXA_STATS_SWEEP_SECONDS", 60, parse=_positive_int)
    image_orphan_grace_seconds: int = _env(
        "FLUXA_IMAGE_ORPHAN_GRACE_SECONDS", 24 * 3600, parse=_positive_int
    )

    # prometheus-client's own variable: with it, every process of a machine writes its
    # metrics there and one /metrics serves them all (workers included).
    metrics_dir: str | None = _env("PROMETHEUS_MULTIPROC_DIR")
    # CloudWatch Embedded Metric Format on the JSON log lines, for alarms without Prometheus.
    metrics_emf: bool = _env("FLUXA_METRICS_EMF", False, parse=_flag)
    metrics_namespace: str = _env("FLUXA_METRICS_NAMESPACE", "Fluxa")
    api_url: str | None = _env("FLUXA_API_URL", parse=_http_url)  # for `fluxa alarms`
    worker_heartbeat_file: str | None = _env("FLUXA_WORKER_HEARTBEAT_FILE")
    worker_metrics_port: int | None = _env("FLUXA_WORKER_METRICS_PORT", parse=_positive_int)

    max_body_bytes: int = _env("FLUXA_MAX_BODY_BYTES", 16 * KIB * KIB, parse=_positive_int)
    # Per-client limits (fluxa/ratelimit/policy.py has the syntax). Each API process of the
    # standalone counts in memory; production shares a store (rediss:// on ElastiCache).
    rate_limits: str = _env("FLUXA_RATE_LIMITS", DEFAULT_RATE_LIMITS)
    rate_limit_storage_url: str = _env("FLUXA_RATE_LIMIT_STORAGE_URL", "memory://")
    # A request body must arrive within this (408 after): a slow client costs the API a
    # connection, never a thread (api/request_gate.py).
    request_body_seconds: float = _env("FLUXA_REQUEST_BODY_SECONDS", 30.0, parse=_positive_float)
    idempotency_ttl_seconds: int = _env(
        "FLUXA_IDEMPOTENCY_TTL_SECONDS", 24 * 3600, parse=_positive_int
    )
    idempotency_lock_seconds: int = _env("FLUXA_IDEMPOTENCY_LOCK_SECONDS", 60, parse=_positive_int)
    enqueue_timeout_seconds: float = _env(
        "FLUXA_ENQUEUE_TIMEOUT_SECONDS", 10.0, parse=_positive_float
    )
    # How long a single event waits for others of concurrent requests to share its task
    # message (0: one message per request). Needs a threaded server (api/asgi.py).
    ingest_linger_seconds: float = _env(
        "FLUXA_INGEST_LINGER_SECONDS", 0.005, parse=_non_negative_float
    )

    def __post_init__(self) -> None:
        # A prefetched message waits at most for the tasks ahead of it, then runs.
        longest_hold = self.task_time_limit * self.worker_prefetch_multiplier + max(
            self.retry_backoff_max, self.stats_throttle_seconds
        )
        if self.sqs_visibility_timeout <= longest_hold:
            # A message held longer than its visibility timeout is delivered
            # again while the first copy still runs (Celery's SQS caveat).
            raise SettingsError(
                "FLUXA_SQS_VISIBILITY_TIMEOUT must exceed FLUXA_TASK_TIME_LIMIT ×"
                " FLUXA_WORKER_PREFETCH_MULTIPLIER + the longest countdown"
                " (FLUXA_RETRY_BACKOFF_MAX, FLUXA_STATS_THROTTLE_SECONDS): "
                f"{longest_hold:g}s, got {self.sqs_visibility_timeout}s"
            )

    @property
    def sqs_endpoint_url(self) -> str | None:
        """Where SQS is reached (None: AWS)."""
        return self.sqs_endpoint_override or self.aws_endpoint_url

    @property
    def s3_endpoint_url(self) -> str | None:
        """Where S3 is reached (None: AWS)."""
        return self.s3_endpoint_override or self.aws_endpoint_url

    def require(self, *names: str) -> None:
        """Raise `SettingsError` naming the variables of every unset attribute in `names`."""
        missing = [_env_name(name) for name in names if getattr(self, name) in (None, "", ())]
        if missing:
            raise SettingsError("missing setting: " + ", ".join(missing))

    def as_environ(self) -> dict[str, str]:
        """The settings as environment variables, for starting child processes."""
        env = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                env[f.metadata["env"]] = ",".join(value)
            elif value is not None:
                env[f.metadata["env"]] = str(value)
        return env


def _env_name(attribute: str) -> str:
    return next(f.metadata["env"] for f in fields(Settings) if f.name == attribute)


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Read every setting from `environ` (default: the process environment).

    All malformed values are reported at once, one line per variable.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    problems: list[str] = []
    for f in fields(Settings):
        name, formerly = f.metadata["env"], f.metadata["formerly"]
        raw = environ.get(name)
        if name == "AWS_REGION" and not raw:
            raw = environ.get("AWS_DEFAULT_REGION")
        if not raw and formerly and environ.get(formerly):
            raw = environ[formerly]
            log.warning(
                f"{formerly} is deprecated: set {name} instead",
                extra={"setting": name, "deprecated_setting": formerly},
            )
        if raw is None or raw == "":
            continue
        try:
            values[f.name] = f.metadata["parse"](raw.strip())
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
    if problems:
        raise SettingsError("invalid setting: " + "; ".join(problems))
    values.update(overrides)
    if values.get("database_password"):
        for url in ("database_url", "database_reader_url"):  # a replica has the same users
            if values.get(url):
                values[url] = with_password(values[url], values["database_password"])
    return Settings(**values)
