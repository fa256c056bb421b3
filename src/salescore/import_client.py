"""`salescore import`: a client of the running API that uploads a file to POST /v1/imports,
follows the import to its end with a progress bar, prints the summary and writes the
failed rows next to the file.

Exit codes: 0 the import succeeded without a failed row; 1 rows failed, or the import
failed or was cancelled; 2 the request was refused or the server could not be reached;
130 Ctrl-C (a queued or running import is asked to cancel first)."""

import logging
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.text import Text

MEDIA_TYPES = {"csv": "text/csv", "ndjson": "application/x-ndjson"}
FORMAT_OF_SUFFIX = {".csv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson"}
ENDED = frozenset({"succeeded", "failed", "cancelled"})
POLL_SECONDS = 0.5
CHUNK_BYTES = 256 * 1024
SUCCEEDED, FAILED, REFUSED, INTERRUPTED = 0, 1, 2, 130


class Refused(Exception):
    """The server refused a request, or could not be reached: the message says why."""


@dataclass(frozen=True, slots=True)
class ImportRequest:
    path: Path
    resource: str
    format: str | None  # None: the file's extension says
    mode: str
    validate_only: bool
    default_owner_id: int | None

    def params(self) -> dict[str, str]:
        given = {"resource": self.resource, "mode": self.mode,
                 "validate_only": "true" if self.validate_only else "false"}
        if self.default_owner_id is not None:
            given["default_owner_id"] = str(self.default_owner_id)
        return given


def format_of(path: Path, given: str | None) -> str:
    """`given`, else the one the file's extension names."""
    if given is not None:
        return given
    found = FORMAT_OF_SUFFIX.get(path.suffix.lower())
    if found is None:
        raise Refused(f"{path.name}: cannot tell the format from its extension; name it "
                      ".csv, .ndjson or .jsonl, or pass --format csv|ndjson")
    return found


def server_url(given: str | None, *, host: str, port: int) -> str:
    """`given`, else where `salescore serve` with these settings listens."""
    if given:
        return given.rstrip("/")
    if host in {"", "0.0.0.0"}:
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def errors_path(path: Path) -> Path:
    """Where the failed rows of `path` go: beside it, as `<name>.errors.csv`."""
    return path.with_name(path.name + ".errors.csv")


def summary(job: dict[str, Any], seconds: float) -> str:
    rate = job["rows_processed"] / seconds if seconds > 0 else 0.0
    how = f"{job['mode']}, validate only: nothing written" if job["validate_only"] \
        else job["mode"]
    return (f"import {job['id']} of {job['resource']} ({how}) {job['status']}: "
            f"{job['rows_created']} created, {job['rows_updated']} updated, "
            f"{job['rows_unchanged']} unchanged, {job['rows_failed']} failed "
            f"in {seconds:.1f} s ({rate:,.0f} rows/s)")


def exit_code(job: dict[str, Any]) -> int:
    return SUCCEEDED if job["status"] == "succeeded" and not job["rows_failed"] else FAILED


def problem_text(response: httpx.Response) -> str:
    """An RFC 9457 problem (or any other error answer) as lines to read."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        text = response.text.strip()[:300]
        return f"{response.status_code} {response.reason_phrase}" + (f": {text}" if text else "")
    head = f"{response.status_code} {body.get('title') or response.reason_phrase}"
    if body.get("detail"):
        head += f": {body['detail']}"
    fields = [f"  {e.get('field') or '-'}: {e.get('message')}"
              for e in body.get("errors") or [] if isinstance(e, dict)]
    return "\n".join([head, *fields])


class RowsPerSecond(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        if speed is None and task.elapsed:  # too few samples for rich's estimate
            speed = task.completed / task.elapsed
        return Text("? rows/s" if speed is None else f"{speed:,.0f} rows/s",
                    style="progress.data.speed")


def import_file(request: ImportRequest, *, url: str, api_key: str,
                console: Console | None = None) -> int:
    """Runs one import to its end; the exit code."""
    console = console or Console(stderr=True)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per poll
    started = time.monotonic()
    client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {api_key}"},
                          timeout=60, transport=httpx.HTTPTransport(retries=2))
    job: dict[str, Any] | None = None
    try:
        job = _upload(client, request, console)
        job = _follow(client, job, console)
        print(summary(job, time.monotonic() - started))
        if job["error"]:
            print(f"the file could not be read: {job['error'].get('detail')}", file=sys.stderr)
        if job["rows_failed"]:
            written = errors_path(request.path)
            _write_errors(client, job["id"], written)
            print(f"failed rows ({job['rows_failed']}), each with its `error`: {written}",
                  file=sys.stderr)
        return exit_code(job)
    except (Refused, OSError) as error:
        print(f"salescore import: {error}", file=sys.stderr)
        return REFUSED
    except KeyboardInterrupt:
        if job is not None and job["status"] not in ENDED:
            _cancel(client, job["id"])
        else:
            print("interrupted" if job else "interrupted during the upload", file=sys.stderr)
        return INTERRUPTED
    finally:
        client.close()


def _upload(client: httpx.Client, request: ImportRequest, console: Console) -> dict[str, Any]:
    """POST the file, streamed from disk; the queued import. A retry after a broken
    connection carries the same Idempotency-Key, so it cannot queue the file twice."""
    media_type = MEDIA_TYPES[format_of(request.path, request.format)]
    if not request.path.is_file():
        raise Refused(f"{request.path}: no such file")
    size = request.path.stat().st_size
    headers = {"Content-Type": media_type, "Content-Length": str(size),
               "Idempotency-Key": str(uuid.uuid4())}
    with Progress(TextColumn("upload"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  TimeRemainingColumn(), console=console) as progress:
        task = progress.add_task("upload", total=size)
        for attempt in (1, 2):
            progress.reset(task)
            try:
                response = client.post("/v1/imports", params=request.params(),
                                       headers=headers,
                                       content=_chunks(request.path, progress, task))
                break
            except httpx.TransportError as error:
                if attempt == 2 or isinstance(error, httpx.ConnectError | httpx.ConnectTimeout):
                    raise Refused(f"cannot reach {client.base_url}: {error}") from None
    if response.status_code != 202:
        raise Refused(problem_text(response))
    job: dict[str, Any] = response.json()
    return job


def _chunks(path: Path, progress: Progress, task: Any) -> Iterator[bytes]:
    with path.open("rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            progress.advance(task, len(chunk))
            yield chunk


def _follow(client: httpx.Client, job: dict[str, Any], console: Console) -> dict[str, Any]:
    """Polls the import until it has ended, showing its rows as they are processed."""
    with Progress(TextColumn("{task.description:>9}"), BarColumn(), TaskProgressColumn(),
                  MofNCompleteColumn(), RowsPerSecond(), TimeRemainingColumn(),
                  console=console) as progress:
        task = progress.add_task(job["status"], total=job["rows_total"])
        while True:
            progress.update(task, description=job["status"], total=job["rows_total"],
                            completed=job["rows_processed"])
            if job["status"] in ENDED:
                return job
            time.sleep(POLL_SECONDS)
            job = _get(client, f"/v1/imports/{job['id']}")


def _get(client: httpx.Client, path: str) -> dict[str, Any]:
    try:
        response = client.get(path)
    except httpx.TransportError as error:
        raise Refused(f"cannot reach {client.base_url}: {error}") from None
    if response.status_code != 200:
        raise Refused(problem_text(response))
    found: dict[str, Any] = response.json()
    return found


def _write_errors(client: httpx.Client, import_id: int, path: Path) -> None:
    try:
        with client.stream("GET", f"/v1/imports/{import_id}/errors",
                           params={"format": "csv"}) as response:
            if response.status_code != 200:
                response.read()
                raise Refused(problem_text(response))
            with path.open("wb") as file:
                for chunk in response.iter_bytes():
                    file.write(chunk)
    except httpx.TransportError as error:
        raise Refused(f"cannot reach {client.base_url}: {error}") from None


def _cancel(client: httpx.Client, import_id: int) -> None:
    try:
        response = client.post(f"/v1/imports/{import_id}/cancel", timeout=10)
    except httpx.TransportError as error:
        print(f"interrupted; import {import_id} could not be cancelled: {error}",
              file=sys.stderr)
        return
    if response.status_code == 200:
        print(f"interrupted; import {import_id} is cancelled (a running one stops after "
              "the batch in hand)", file=sys.stderr)
    else:
        print(f"interrupted; import {import_id} was not cancelled: "
              f"{problem_text(response)}", file=sys.stderr)
