"""Which PostgreSQL to use: the configured one, or the embedded server (pgserver) in the
data directory, shared by every salescore process on that directory and stopped when the
last of them exits. Also applies the Alembic migrations. Each says in one log line what it
used or did: the database (its URL without the password), the migrations applied.

Who uses the embedded server is kept in `<data dir>/pg-users.json`, under a lock: each
process adds itself (its pid and start time) when it starts or joins the server and takes
itself out when it releases it; the one that leaves no live user behind stops the server
(a fast shutdown). A process that was killed (`kill -9`, a crash) cannot take itself out,
so whoever reads the file drops the entries whose process is gone; the start time tells a
pid reused by another program from the process that wrote it. pgserver is asked only to
start or join the server, never to stop it: its own count keeps a killed process's pid
for ever, and the server would then outlive every command."""

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import psutil
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from salescore.settings import Settings

log = logging.getLogger("salescore")
DATABASE = "salescore"
STOP_TIMEOUT_SECONDS = 60
_handles: list[tuple[Path, Any]] = []


def embedded_url(data_dir: Path, database: str = DATABASE) -> str:
    """Start (or join) the embedded server and make sure `database` exists in it."""
    socket_dir = join_embedded(data_dir)
    asyncio.run(create_database(f"postgresql://postgres@/postgres?host={socket_dir}", database))
    return f"postgresql+asyncpg://postgres@/{database}?host={socket_dir}"


def join_embedded(data_dir: Path) -> str:
    """Start the embedded server of `data_dir`, or join it if it runs, as one more user of
    it until `release_embedded`; the directory of its socket."""
    _give_pgserver_a_runtime_dir()
    from pgserver.postgres_server import get_server

    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    with _users_of(data_dir) as users:
        server = get_server(data_dir / "pg", cleanup_mode=None)
        users.append(_this_process())
    _handles.append((data_dir, server))
    return str(server.get_postmaster_info().socket_dir)


def _give_pgserver_a_runtime_dir() -> None:
    """pgserver keeps its lock file (and the socket, when the data dir's path is too long
    for one) in the user's runtime directory, which platformdirs finds through
    XDG_RUNTIME_DIR and, where that is unset (a container, a service, cron), warns about
    before falling back to one in the temporary directory. Where it is unset it is set,
    for this process and the servers it starts, to such a directory of ours:
    `<tmp>/salescore-runtime-<uid>`, private (0700). One that is not ours is left alone,
    and platformdirs then says what is wrong with it."""
    if os.environ.get("XDG_RUNTIME_DIR"):
        return
    runtime = Path(tempfile.gettempdir()) / f"salescore-runtime-{os.geteuid()}"
    runtime.mkdir(mode=0o700, exist_ok=True)
    if not runtime.is_symlink() and runtime.stat().st_uid == os.geteuid():
        runtime.chmod(0o700)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)


def release_embedded() -> None:
    """This process no longer uses the embedded server: the last salescore process on the
    data dir stops it, any other leaves it running for the commands still using it."""
    while _handles:
        data_dir, server = _handles.pop()
        with _users_of(data_dir) as users:
            with contextlib.suppress(ValueError):
                users.remove(_this_process())
            server.cleanup()  # pgserver's own count; with no cleanup mode it stops nothing
            if not users:
                _stop(data_dir / "pg")


@contextlib.contextmanager
def _users_of(data_dir: Path) -> Iterator[list[list[float]]]:
    """The live users of the data dir's server, as `[pid, start time]`, held under the
    file lock for the block and written back after it."""
    listed = data_dir / "pg-users.json"
    with (data_dir / "pg-users.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            known = json.loads(listed.read_text()) if listed.exists() else []
            users = [user for user in known if _alive(user)]
            yield users
            listed.write_text(json.dumps(users))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _this_process() -> list[float]:
    me = psutil.Process()
    return [me.pid, me.create_time()]


def _alive(user: list[float]) -> bool:
    pid, started = user
    try:
        process = psutil.Process(int(pid))
        return bool(process.create_time() == started
                    and process.status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def _stop(pgdata: Path) -> None:
    """A fast shutdown (SIGINT) of the server running on `pgdata`, if one is: open
    sessions are rolled back, the server exits."""
    from pgserver.utils import PostmasterInfo

    running = PostmasterInfo.read_from_pgdata(pgdata)
    postmaster = None if running is None else running.process
    if postmaster is None:
        return
    with contextlib.suppress(psutil.NoSuchProcess):
        postmaster.send_signal(signal.SIGINT)
        try:
            postmaster.wait(timeout=STOP_TIMEOUT_SECONDS)
        except psutil.TimeoutExpired:
            log.warning("the embedded PostgreSQL did not stop within %s s; killing it",
                        STOP_TIMEOUT_SECONDS)
            postmaster.kill()


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
    """The configured database, else the embedded one (started or joined)."""
    if settings.database_url:
        log.info("database: %s", without_password(settings.database_url))
        return settings.database_url
    url = embedded_url(settings.data_dir)
    log.info("database: embedded PostgreSQL at %s", settings.data_dir.resolve() / "pg")
    return url


def without_password(url: str) -> str:
    """The URL as it may be shown: its password left out."""
    parts = make_url(url)
    return URL.create(parts.drivername, parts.username, None, parts.host, parts.port,
                      parts.database, parts.query).render_as_string(hide_password=False)


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
    config = alembic_config(url)
    before = asyncio.run(current_revision(url))
    command.upgrade(config, revision)
    after = asyncio.run(current_revision(url))
    applied = 0 if before == after else len(list(
        ScriptDirectory.from_config(config).iterate_revisions(after, before)))
    if applied:
        log.info("applied %d migration%s, now at revision %s", applied,
                 "" if applied == 1 else "s", after)
    else:
        log.info("database at revision %s, 0 migrations applied", after)


async def current_revision(url: str) -> str | None:
    """The schema's Alembic revision; None before the first migration."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision())
    finally:
        await engine.dispose()


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)
