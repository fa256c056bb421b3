"""Settings, read from `SALESCORE_*` environment variables (the README lists them all)."""

import base64
import contextlib
import os
import secrets
from functools import cached_property
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SALESCORE_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="postgresql+asyncpg://… URL; unset starts the embedded PostgreSQL.",
    )
    data_dir: Path = Field(default=Path(".salescore"), description="Embedded database, secrets.")
    host: str = "127.0.0.1"
    port: int = 8000
    jwt_secret: str | None = Field(
        default=None, description="HS256 key; unset: generated once into the data dir."
    )
    secrets_key: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9+/]{43}=$",
        description="Base64 of the 32-byte key provider secrets are encrypted under; unset: "
                    "generated once into the data dir.",
    )
    jwt_issuer: str = "salescore"
    jwt_audience: str = "salescore-api"
    token_ttl_seconds: int = Field(default=3600, gt=0)
    max_body_bytes: int = Field(default=1_048_576, gt=0)
    max_callback_body_bytes: int = Field(
        default=16_777_216, gt=0,
        description="The largest e-signature callback body (it may carry the signed PDF).",
    )
    import_max_bytes: int = Field(
        default=2 * 1024**3, gt=0, description="The largest import file (POST /v1/imports).")
    max_url_bytes: int = Field(
        default=8192, gt=0, le=65_535,
        description="The longest request target (path and query) served; longer: 414. "
                    "Over 65,535 bytes the server refuses it before the app sees it.")
    max_header_bytes: int = Field(
        default=16_384, gt=0, le=131_072,
        description="The largest header block (each field's name, value, \": \" and CRLF) "
                    "served; larger: 431. The server holds no head over 128 KiB.")
    public_url: str | None = Field(
        default=None,
        description="The base of public quote links; unset: http://<host>:<port> of serve.",
    )
    mail_from: str = Field(default="salescore@localhost",
                           description="The sender of the quote e-mails.")
    smtp_url: str | None = Field(
        default=None,
        description="smtp://user:pass@host:587 (STARTTLS) where the worker sends queued "
                    "e-mails; unset: written as .eml files into <data dir>/outbox/.",
    )
    webhook_allow_private_networks: bool = Field(
        default=False,
        description="Let webhook endpoints be http:// URLs and loopback or private "
                    "addresses (on-premise installs and tests).",
    )
    webhook_retry_schedule: str = Field(
        default="0,5,300,1800,7200,18000,36000,36000", pattern=r"^\d+(,\d+)*$",
        description="Seconds to wait before each delivery attempt, the first counted from "
                    "the event: one number per attempt.",
    )
    metrics_token: str | None = Field(
        default=None, description="When set, GET /metrics takes it as a bearer token.")
    worker_concurrency: int = Field(
        default=32, gt=0, description="HTTP calls a worker makes at once.")
    worker_poll_seconds: float = Field(
        default=1.0, gt=0,
        description="How often a worker looks for due work that no notification announced.")
    event_retention_days: int = Field(default=90, gt=0)
    idempotency_ttl_hours: int = Field(default=24, gt=0)
    db_pool_size: int = Field(default=32, gt=0)
    processes: int = Field(
        default=1, ge=1,
        description="Worker processes `serve` runs (`--processes` overrides); each has its "
                    "own pool, caller cache, rate-limit buckets and login throttle.",
    )
    auth_cache_seconds: float = Field(
        default=30, ge=0,
        description="How long a process keeps a credential's caller; 0 disables the cache.",
    )
    shutdown_grace_seconds: int = Field(
        default=8, ge=0,
        description="After SIGTERM or Ctrl-C, how long serve lets requests in flight finish; "
                    "8 s leaves time to stop the embedded database within docker stop's 10 s.",
    )
    rate_limit_per_minute: int = Field(
        default=600, ge=0,
        description="Requests a minute per credential (API key or token); 0: no limit.",
    )
    rate_limit_burst: int = Field(
        default=600, gt=0,
        description="Requests a credential may send at once after a quiet spell.",
    )
    rate_limit_unauthenticated_per_minute: int = Field(
        default=60, ge=0,
        description="Requests a minute per client address without a credential; 0: no limit.",
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or networks of proxies whose X-Forwarded-For "
                    "names the client.",
    )
    login_free_failures: int = Field(
        default=5, ge=0,
        description="Failed logins for one email before each further attempt must wait.",
    )
    login_lock_failures: int = Field(
        default=10, ge=0,
        description="Failed logins for one email that lock it (an address: ten times as "
                    "many); 0: no login throttling.",
    )
    login_lock_seconds: int = Field(default=900, gt=0, description="How long a lock lasts.")
    log_level: str = "info"

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted_proxies_are_addresses(cls, value: str) -> str:
        _networks(value)
        return value

    def retry_schedule(self) -> tuple[int, ...]:
        """The seconds before each delivery attempt."""
        return tuple(int(part) for part in self.webhook_retry_schedule.split(","))

    def public_base(self) -> str:
        """Where a customer's quote link starts."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def trusted_proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        return _networks(self.trusted_proxies)

    @cached_property
    def signing_secret(self) -> str:
        """The JWT key: the setting, else a random one kept in `<data_dir>/jwt-secret`."""
        if self.jwt_secret:
            return self.jwt_secret
        path = self.data_dir / "jwt-secret"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(48))
        return path.read_text().strip()

    def secrets_encryption_key(self) -> bytes:
        """The key provider secrets are encrypted under: the setting, else a random one kept
        in `<data_dir>/secrets-key` (made once, 0600, never replaced: losing it loses them)."""
        return self._secrets_encryption_key

    @cached_property
    def _secrets_encryption_key(self) -> bytes:
        if self.secrets_key:
            return base64.b64decode(self.secrets_key)
        path = self.data_dir / "secrets-key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fresh = path.with_name(f"secrets-key.{secrets.token_hex(8)}")
            with os.fdopen(os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600),
                           "w") as out:
                out.write(base64.b64encode(secrets.token_bytes(32)).decode("ascii"))
            try:
                with contextlib.suppress(FileExistsError):  # another process made it first
                    os.link(fresh, path)
            finally:
                fresh.unlink()
        return base64.b64decode(path.read_text().strip(), validate=True)


def _networks(addresses: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """`10.0.0.7, 10.1.0.0/16` as networks (an address is a network of one)."""
    return tuple(ip_network(part.strip(), strict=False)
                 for part in addresses.split(",") if part.strip())
