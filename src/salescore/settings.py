"""Settings, read from `SALESCORE_*` environment variables (the README lists them all)."""

import secrets
from functools import cached_property
from pathlib import Path

from pydantic import Field
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
    jwt_issuer: str = "salescore"
    jwt_audience: str = "salescore-api"
    token_ttl_seconds: int = Field(default=3600, gt=0)
    max_body_bytes: int = Field(default=1_048_576, gt=0)
    event_retention_days: int = Field(default=90, gt=0)
    idempotency_ttl_hours: int = Field(default=24, gt=0)
    db_pool_size: int = Field(default=32, gt=0)
    auth_cache_seconds: float = Field(
        default=30, ge=0,
        description="How long a process keeps a credential's caller; 0 disables the cache.",
    )
    log_level: str = "info"

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
