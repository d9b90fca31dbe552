"""Process settings, read once from the environment.

Every knob is an environment variable so the same image runs on a laptop, in CI and in a
territory's own data centre; defaults are the embedded development set-up of ``make run``.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MAIN_SERVER = "main"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    unityplan_env: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    # Slow clients (graph/server/protocol.py): the request line and headers must arrive within
    # HTTP_HEADER_TIMEOUT_SECONDS of the connection opening (or of the previous response), the
    # body within HTTP_BODY_TIMEOUT_SECONDS of the headers; an idle keep-alive connection closes
    # after HTTP_KEEPALIVE_TIMEOUT_SECONDS.
    http_header_timeout_seconds: float = Field(default=10.0, gt=0)
    http_body_timeout_seconds: float = Field(default=30.0, gt=0)
    http_keepalive_timeout_seconds: int = Field(default=5, gt=0)
    # uvicorn worker processes; 0 = one per CPU core (throughput scales about linearly).
    workers: int = Field(default=1, ge=0)
    # Generation-0 GC threshold once serving (graph/server/runtime.py); 0 keeps CPython's
    # default (700). 150,000: a forum page keeps ~50,000 objects alive while it is built, so at
    # 10 concurrent pages 50,000 collected every few requests (11 ms of GC per request, against
    # 6 ms here; server CPU per request 53-56 ms against 59-64 ms, resident memory the same
    # 222 MiB: benchmarks/forums.py).
    gc_gen0_threshold: int = 150_000
    # The API's public base URL: what Open Badges credentials name as their issuer and status
    # list (``<PUBLIC_URL>/credentials/<territory>/issuer``); no trailing slash.
    public_url: str = "http://127.0.0.1:8000"

    # The main server holds `global` and, unless the registry says otherwise, new territories.
    database_url: str = "postgresql://postgres@127.0.0.1:5432/unityplan"
    # Further database servers by key: DATABASE_SERVERS='{"eu2": "postgresql://.../unityplan"}'.
    database_servers: dict[str, str] = Field(default_factory=dict)
    database_pool_size: int = 10
    database_pool_timeout: float = 10.0

    nats_url: str = "nats://127.0.0.1:4222"
    redis_url: str = "redis://127.0.0.1:6379/0"
    # Every key this process writes to Redis starts with it (tests use one of their own).
    redis_key_prefix: str = "unityplan:"
    # A pooled Redis connection idle this long is PINGed before reuse, and a command failing on a
    # dropped connection is retried once on a fresh one: after a Redis restart, stale connections
    # cost no request (graph/server/app.py ``redis_client``).
    redis_health_check_seconds: int = 10
    # How long Redis may vouch for a session ("alive, with these grants") before the next
    # request re-reads global.sessions and the role grants (graph/server/auth.py).
    session_cache_seconds: int = Field(default=60, gt=0)
    redis_socket_timeout_seconds: float = 2.0

    # --- identity and access (see README, "Accounts and tokens").
    # Ed25519 signing keys as JSON {"kid": "-----BEGIN PRIVATE KEY-----..."}; the newest kid in
    # JWT_ACTIVE_KID signs, every listed key verifies (rotation). Empty outside production: a
    # development key is generated (persisted at JWT_DEV_KEY_FILE in development, per process in
    # test) with a warning.
    jwt_private_keys: dict[str, str] = Field(default_factory=dict, repr=False)
    jwt_active_kid: str | None = None
    jwt_dev_key_file: str = ".run/jwt-dev-ed25519.pem"
    jwt_issuer: str = "unityplan-graph"
    jwt_audience: str = "unityplan"
    access_token_ttl_seconds: int = 600
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    # HMAC key of global.user_identities: links global rows to a territory's user without the
    # federation layer learning who the user is. Required in production; never logged.
    identity_hash_key: str = Field(default="", repr=False)
    # Login throttling (Redis): failures per window before the account / client IP is locked.
    login_max_failures_per_account: int = 5
    login_max_failures_per_ip: int = 30
    login_failure_window_seconds: int = 900
    # argon2id cost of new password hashes (domain/passwords.py): "standard" everywhere; "minimal"
    # (one pass over 8 KiB) is refused outside UNITYPLAN_ENV=test. The test suite registers
    # hundreds of accounts, and at the standard cost hashing was most of its run time.
    password_hashing: Literal["standard", "minimal"] = "standard"  # noqa: S105 (a cost name)
    invitation_default_ttl_seconds: int = 7 * 24 * 3600

    # --- the HTTP front door (README, "Limits and the front door"). None means the default of
    # UNITYPLAN_ENV (graph/server/policy.py): production shows introspection and "Did you mean"
    # suggestions only to authenticated callers, serves no GraphiQL, refuses queries over GET
    # and masks unexpected errors; development and test keep the first three on.
    introspection: Literal["all", "authenticated", "none"] | None = None
    field_suggestions: Literal["all", "authenticated", "none"] | None = None
    graphiql: bool | None = None
    queries_over_get: bool | None = None
    mask_errors: bool | None = None
    max_query_depth: int = Field(default=12, ge=1)
    max_aliases: int = Field(default=30, ge=0)
    max_directives: int = Field(default=20, ge=0)
    max_tokens: int = Field(default=2000, ge=1)
    max_document_bytes: int = Field(default=16_384, ge=1)
    max_body_bytes: int = Field(default=262_144, ge=1)
    max_query_cost: int = Field(default=50_000, ge=1)
    max_page_size: int = Field(default=100, ge=1, le=100)
    # GraphQL executions in flight per process (HTTP); past it an immediate 503 with
    # Retry-After (OVERLOADED) instead of a queue that grows until the pool times out. A read
    # holds one connection per server for its request: keep it at most the pool's 2 x
    # DATABASE_POOL_SIZE connections.
    max_in_flight: int = Field(default=20, ge=1)
    # 0: a JSON array body is refused; N: at most N operations per batch.
    batch_requests: int = Field(default=0, ge=0)
    # Browser origins allowed by CORS, JSON: CORS_ORIGINS='["https://app.example"]'.
    cors_origins: list[str] = Field(default_factory=list)
    # Trusted documents (graph/server/documents.py): off | allow | anonymous-registered-only |
    # registered-only; None: production anonymous-registered-only, elsewhere allow.
    trusted_documents: (
        Literal["off", "allow", "anonymous-registered-only", "registered-only"] | None
    ) = None
    # How queries execute (graph/level_execution.py): levels (a level of the selection at a time,
    # the standard executor for what it cannot answer exactly) | fields (graphql-core's own, one
    # field at a time: the switch back should a level ever answer differently).
    query_execution: Literal["levels", "fields"] = "levels"
    # Rate limits (graph/server/ratelimit.py): a Redis token bucket per authenticated caller,
    # else per client address; BURST requests at once, refilled at PER_SECOND.
    rate_limit: bool = True
    rate_limit_anonymous_per_second: float = Field(default=5.0, gt=0)
    rate_limit_anonymous_burst: int = Field(default=60, ge=1)
    rate_limit_authenticated_per_second: float = Field(default=20.0, gt=0)
    rate_limit_authenticated_burst: int = Field(default=200, ge=1)
    # Proxies whose X-Forwarded-For is believed, JSON: TRUSTED_PROXIES='["10.0.0.0/8"]'.
    trusted_proxies: list[str] = Field(default_factory=list)
    # WebSocket (graphql-transport-ws only; graph/server/websocket.py).
    ws_connection_init_timeout_seconds: float = Field(default=10.0, gt=0)
    ws_max_concurrent_operations: int = Field(default=20, ge=1)
    ws_max_operations_per_connection: int = Field(default=1000, ge=1)
    # permessage-deflate on WebSockets. Off: live events are small JSON messages, and compressing
    # each one per subscriber took about a quarter of the server's CPU in a fan-out
    # (benchmarks/subscriptions.py).
    ws_per_message_deflate: bool = False

    # --- events (events/: the outbox relay to NATS JetStream, live subscriptions).
    # Run the outbox relay in every API process; false when relays run alone (`unityplan relay`).
    # Any number of relays share the work without publishing an event twice.
    events_relay: bool = True
    # Seconds between sweeps of every outbox (commits wake the relay at once; this catches up).
    events_sweep_interval_seconds: float = Field(default=5.0, gt=0)
    # Stream retention (events/streams.py): max age, max bytes, de-duplication window.
    events_stream_max_age_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    events_stream_max_bytes: int = Field(default=1 << 30, ge=1 << 20)
    events_duplicate_window_seconds: int = Field(default=900, ge=1)
    # Events a live subscriber may have waiting; past it that subscriber alone is dropped.
    events_subscriber_queue_size: int = Field(default=256, ge=1)
    # Run the notifications consumer in every API process (events/notifier.py); false when
    # `unityplan notifier` processes run alone. Any number share one durable consumer.
    events_notifier: bool = True
    # Seconds between sweeps for pushes held by quiet hours that are now due.
    notifications_sweep_interval_seconds: float = Field(default=15.0, gt=0)

    # --- the scheduler (scheduler/: badge expiry, renewal notices, rule sweeps, other areas' jobs).
    # Run it in every API process; false when `unityplan scheduler` runs alone. Replicas are safe:
    # every job claims before it acts.
    scheduler: bool = True
    # Seconds between checks for due jobs (each job has its own interval).
    scheduler_tick_seconds: float = Field(default=5.0, gt=0)

    # --- files on IPFS (files/; README, "Files").
    # The node's RPC API (Kubo, or js-ipfs in development and tests).
    ipfs_url: str = "http://127.0.0.1:5001"
    # Every IPFS call ends within this; an add gets one more second per
    # IPFS_ADD_BYTES_PER_SECOND of the file.
    ipfs_timeout_seconds: float = Field(default=10.0, gt=0)
    ipfs_add_bytes_per_second: int = Field(default=5_000_000, ge=1)
    # Size limits per kind of file (domain/files.py), in bytes.
    file_max_image_bytes: int = Field(default=10_000_000, ge=1)
    file_max_document_bytes: int = Field(default=50_000_000, ge=1)
    file_max_video_bytes: int = Field(default=500_000_000, ge=1)
    file_max_archive_bytes: int = Field(default=100_000_000, ge=1)
    # Files per multipart request.
    upload_max_files: int = Field(default=1, ge=1)
    # Where uploads are spooled while they stream in (empty: <system temp dir>/unityplan-uploads).
    upload_temp_dir: str = ""
    # Bytes a person, and a territory, may store; 0: no quota.
    file_quota_user_bytes: int = Field(default=2_000_000_000, ge=0)
    file_quota_territory_bytes: int = Field(default=0, ge=0)
    # Images (files/images.py): more pixels than this is refused (a decompression bomb); a longer
    # side than this is scaled down.
    image_max_pixels: int = Field(default=40_000_000, ge=1)
    image_max_side: int = Field(default=4096, ge=64)
    # An uploaded file nothing references is deleted (and unpinned) this long after its upload.
    file_unreferenced_grace_seconds: int = Field(default=86_400, ge=0)
    # Seconds between the scheduler's collection passes (job files.collect; one pass by hand:
    # `unityplan files collect`).
    files_collect_interval_seconds: float = Field(default=600.0, gt=0)

    # --- observability (README, "Observability"; graph/observability).
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    # One JSON object per line (production, log shippers) or readable text (a terminal).
    log_format: Literal["json", "text"] = "json"
    # GET /metrics (Prometheus). With METRICS_TOKEN set it needs "Authorization: Bearer <token>".
    metrics_enabled: bool = True
    metrics_token: str = Field(default="", repr=False)
    # Distinct operation names with a label of their own; later names count as "other".
    metrics_max_operations: int = Field(default=200, ge=0)
    # Span exporter: none (tracing off, zero cost), console (stdout) or otlp (HTTP/protobuf to
    # OTEL_EXPORTER_OTLP_ENDPOINT, read by the exporter itself).
    otel_exporter: Literal["none", "console", "otlp"] = "none"
    otel_service_name: str = "unityplan-graph"

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("PUBLIC_URL must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            ipaddress.ip_network(entry.strip(), strict=False)  # ValueError names the bad entry
        return value

    @model_validator(mode="after")
    def _minimal_hashing_only_in_tests(self) -> Settings:
        if self.password_hashing != "standard" and self.unityplan_env != "test":  # noqa: S105
            raise ValueError("PASSWORD_HASHING=minimal is only for UNITYPLAN_ENV=test")
        return self

    @field_validator("database_servers")
    @classmethod
    def _main_is_reserved(cls, value: dict[str, str]) -> dict[str, str]:
        if MAIN_SERVER in value:
            raise ValueError(f"'{MAIN_SERVER}' is DATABASE_URL's key; name other servers otherwise")
        return value

    def identity_key(self) -> bytes:
        """The identity HMAC key; a fixed, clearly non-secret one outside production.

        Checked when the API starts (not here: `migrate` and the CLI's territory commands run
        without it).
        """
        if not self.identity_hash_key:
            if self.unityplan_env == "production":
                raise ValueError("IDENTITY_HASH_KEY must be set in production")
            return b"unityplan-development-identity-key"
        return self.identity_hash_key.encode()

    def servers(self) -> dict[str, str]:
        """Every database server by key, the main one included."""
        return {MAIN_SERVER: self.database_url, **self.database_servers}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
