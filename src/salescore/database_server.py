"""Which PostgreSQL to use: the configured one, or the embedded server (pgserver) in the
data directory, shared by every salescore process on that directory and stopped when the
last of them exits. Also applies the Alembic migrations."""

import asyncio
import logging
from pathlib import Path
from typing import Any

import asyncpg
from alembic import command
from alembic.config import Config

from salescore.settings import Settings

log = logging.getLogger("salescore")
DATABASE = "salescore"
_handles: list[Any] = []


def embedded_url(data_dir: Path, database: str = DATABASE) -> str:
    """Start (or join) the embedded server and make sure `database` exists in it."""
    from pgserver.postgres_server import get_server

    data_dir.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir.resolve() / "pg", cleanup_mode="stop")
    _handles.append(server)
    socket_dir = server.get_postmaster_info().socket_dir
    asyncio.run(create_database(f"postgresql://postgres@/postgres?host={socket_dir}", database))
    return f"postgresql+asyncpg://postgres@/{database}?host={socket_dir}"


def release_embedded() -> None:
    """This process no longer uses the embedded server: the last salescore process on the
    data dir stops it, any other leaves it running for the commands still using it."""
    while _handles:
        _handles.pop().cleanup()


async def create_database(admin_dsn: str, database: str) -> None:
    connection = await asyncpg.connect(admin_dsn)
    try:
        exists = await connection.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            await connection.execute(f'CREATE DATABASE "{database}"')
    finally:
        await connection.close()


def database_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    return embedded_url(settings.data_dir)


def migrations_dir() -> Path:
    """`migrations/` of the source checkout, else of the working directory (the image)."""
    for candidate in (Path(__file__).resolve().parents[2] / "migrations",
                      Path.cwd() / "migrations"):
        if (candidate / "env.py").exists():
            return candidate
    raise FileNotFoundError("no migrations/ directory beside the sources or here")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["url"] = url
    return config


def migrate(url: str, revision: str = "head") -> None:
    """Bring the schema to `revision` (all migrations by default)."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)
