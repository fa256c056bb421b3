"""What the commands tell at start-up: one line each for the database, the migrations and
the address served, and no warning (none about XDG_RUNTIME_DIR, which pgserver's
platformdirs gave every command on the embedded database)."""

import re
import signal
import subprocess
import time
from pathlib import Path

from sqlalchemy import make_url

from salescore.database_server import without_password
from tests.e2e.server_process import BIN, env_with, start_serving, stop

MIGRATED = re.compile(r"INFO salescore applied \d+ migrations, now at revision (\d{4})\n")
CURRENT = re.compile(r"INFO salescore database at revision \d{4}, 0 migrations applied\n")


def _embedded_env(data_dir: Path) -> dict[str, str]:
    env = env_with(data_dir=str(data_dir))
    env.pop("XDG_RUNTIME_DIR", None)
    return env


def _quiet(output: str) -> None:
    assert "Warning" not in output, output
    assert "XDG_RUNTIME_DIR" not in output, output
    assert "alembic" not in output and "pgserver" not in output, output


def _served(env: dict[str, str], *args: str) -> str:
    server = start_serving(env, *args)
    stop(server.process, signal.SIGINT)
    return server.output()


def test_serve_tells_the_database_the_migrations_and_the_address(data_dir: Path):
    env = _embedded_env(data_dir)
    first = _served(env)
    _quiet(first)
    assert f"INFO salescore database: embedded PostgreSQL at {data_dir.resolve()}/pg\n" in first
    assert MIGRATED.search(first), first
    port = re.search(r"INFO salescore serving http://127\.0\.0\.1:(\d+) \(docs at /docs\)\n",
                     first)
    assert port, first
    again = _served(env, "--processes", "2")
    _quiet(again)
    assert CURRENT.search(again), again
    assert re.search(r"serving http://127\.0\.0\.1:\d+ with 2 processes \(docs at /docs\)\n",
                     again), again


def test_a_configured_database_is_told_without_its_password(database_url: str):
    with_password = make_url(database_url).set(password="s3cret-db-pass")
    env = env_with(database_url=with_password.render_as_string(hide_password=False))
    migrated = subprocess.run([str(BIN), "migrate"], env=env, capture_output=True, text=True,
                              timeout=60, check=True)
    _quiet(migrated.stderr)
    assert "s3cret-db-pass" not in migrated.stderr
    assert f"INFO salescore database: {without_password(database_url)}\n" in migrated.stderr
    assert CURRENT.search(migrated.stderr), migrated.stderr


def test_migrate_and_the_worker_print_no_warning(data_dir: Path):
    env = _embedded_env(data_dir)
    migrated = subprocess.run([str(BIN), "migrate"], env=env, capture_output=True, text=True,
                              timeout=60, check=True)
    _quiet(migrated.stdout + migrated.stderr)
    assert MIGRATED.search(migrated.stderr), migrated.stderr
    worker = subprocess.Popen([str(BIN), "worker"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and worker.stdout:
            lines.append(worker.stdout.readline())
            if "worker started" in lines[-1] or worker.poll() is not None:
                break
    finally:
        worker.send_signal(signal.SIGINT)
        rest, _ = worker.communicate(timeout=30)
    output = "".join(lines) + rest
    _quiet(output)
    assert "INFO salescore database: embedded PostgreSQL at " in output
    assert CURRENT.search(output), output
    assert "worker started" in output
    assert worker.returncode == 0, output
