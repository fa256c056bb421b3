"""`salescore import` as a real process against a real `salescore serve` (whose in-process
worker runs the imports): the summary, the file of failed rows, the exit codes."""

import asyncio
import csv
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.e2e.server_process import (
    BIN,
    Serving,
    create_organization,
    embedded_dsn,
    env_with,
    start_serving,
    stop,
    stop_orphan_postgres,
)


@dataclass
class Setup:
    data: Path
    env: dict[str, str]
    server: Serving
    api_key: str


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    data = tmp_path_factory.mktemp("import-cli") / "data"
    env = env_with(data_dir=str(data), log_level="warning", worker_poll_seconds="0.2",
                   shutdown_grace_seconds="1")
    server = start_serving(env)
    try:
        made = create_organization(env, "admin@import.test")
        yield Setup(data, env, server, str(made["api_key"]))
    finally:
        stop(server.process, signal.SIGINT)
        stop_orphan_postgres(data)


def importing(setup: Setup, file: Path, *args: str, api_key: str | None = None,
              **options: str) -> subprocess.Popen[str]:
    env = {**setup.env, "SALESCORE_API_KEY": api_key or setup.api_key, **options}
    return subprocess.Popen([str(BIN), "import", str(file), "--url", setup.server.base,
                             *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def run_import(setup: Setup, file: Path, *args: str,
               api_key: str | None = None) -> subprocess.CompletedProcess[str]:
    process = importing(setup, file, *args, api_key=api_key)
    out, err = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def names_like(setup: Setup, prefix: str) -> list[str]:
    async def run() -> list[str]:
        connection = await asyncpg.connect(embedded_dsn(setup.data))
        try:
            rows = await connection.fetch("SELECT name FROM customers WHERE name LIKE $1 "
                                          "ORDER BY name", prefix + "%")
        finally:
            await connection.close()
        return [row["name"] for row in rows]

    return asyncio.run(run())


def test_failed_rows_are_written_beside_the_file_and_exit_1(setup: Setup, tmp_path: Path):
    file = tmp_path / "mixed.csv"
    file.write_text("name,phone\nMixed Fjord AS,555\n,1\nMixed Nord AS,\n,2\n")
    done = run_import(setup, file, "--resource", "customers")
    assert done.returncode == 1, done.stderr
    assert "2 created, 0 updated, 0 unchanged, 2 failed" in done.stdout
    assert "rows/s" in done.stdout
    assert names_like(setup, "Mixed") == ["Mixed Fjord AS", "Mixed Nord AS"]
    written = tmp_path / "mixed.csv.errors.csv"
    assert str(written) in done.stderr
    rows = list(csv.reader(written.open()))
    assert rows[0] == ["name", "phone", "error"]
    assert [r[:2] for r in rows[1:]] == [["", "1"], ["", "2"]]
    assert all("name" in r[2] for r in rows[1:])


def test_a_clean_file_exits_0_and_writes_no_errors_file(setup: Setup, tmp_path: Path):
    file = tmp_path / "clean.ndjson"
    file.write_text('{"name": "Clean Fjord AS"}\n{"name": "Clean Nord AS"}\n')
    done = run_import(setup, file, "--resource", "customers")
    assert done.returncode == 0, done.stderr
    assert "succeeded: 2 created" in done.stdout
    assert not (tmp_path / "clean.ndjson.errors.csv").exists()
    assert names_like(setup, "Clean") == ["Clean Fjord AS", "Clean Nord AS"]


def test_validate_only_writes_no_record(setup: Setup, tmp_path: Path):
    file = tmp_path / "check.csv"
    file.write_text("name\nCheck Fjord AS\n\n")
    done = run_import(setup, file, "--resource", "customers", "--validate-only")
    assert "validate only: nothing written" in done.stdout
    assert "1 created" in done.stdout
    assert names_like(setup, "Check") == []


def test_a_refused_upload_exits_2_saying_why(setup: Setup, tmp_path: Path):
    file = tmp_path / "refused.csv"
    file.write_text("name\nRefused AS\n")
    done = run_import(setup, file, "--resource", "customers", api_key="sk_wrong")
    assert done.returncode == 2
    assert "401 Unauthorized" in done.stderr
    assert done.stdout == ""
    assert names_like(setup, "Refused") == []


def test_an_unknown_extension_or_an_unreachable_server_exits_2(setup: Setup, tmp_path: Path):
    file = tmp_path / "rows.txt"
    file.write_text("name\nTxt AS\n")
    done = run_import(setup, file, "--resource", "customers")
    assert done.returncode == 2 and "--format" in done.stderr
    done = subprocess.run([str(BIN), "import", str(file), "--resource", "customers",
                           "--format", "csv", "--url", "http://127.0.0.1:9"],
                          env={**setup.env, "SALESCORE_API_KEY": "k"}, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and "cannot reach" in done.stderr


def test_a_file_that_cannot_be_read_exits_1_saying_why(setup: Setup, tmp_path: Path):
    file = tmp_path / "broken.csv"
    file.write_text("name,colour\nBroken AS,red\n")
    done = run_import(setup, file, "--resource", "customers")
    assert done.returncode == 1
    assert " failed: " in done.stdout
    assert "could not be read" in done.stderr and "colour" in done.stderr


def test_ctrl_c_cancels_the_import_and_exits_130(setup: Setup, tmp_path: Path):
    file = tmp_path / "big.csv"
    file.write_text("name\n" + "".join(f"Big {n}\n" for n in range(200_000)))
    process = importing(setup, file, "--resource", "customers", "--validate-only")
    headers = {"Authorization": f"Bearer {setup.api_key}"}
    deadline = time.monotonic() + 60
    while True:
        assert time.monotonic() < deadline, "the import never ran"
        [newest] = httpx.get(f"{setup.server.base}/v1/imports", headers=headers,
                             params={"sort": "-id", "limit": 1}).json()["data"]
        if newest["validate_only"] and newest["status"] == "running":
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert f"import {newest['id']} is cancelled" in err
    deadline = time.monotonic() + 30
    while (job := httpx.get(f"{setup.server.base}/v1/imports/{newest['id']}",
                            headers=headers).json())["status"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert job["status"] == "cancelled"
