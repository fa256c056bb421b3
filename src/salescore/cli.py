"""The `salescore` command: serve, worker, migrate, openapi, create-organization, prune,
import."""

import argparse
import asyncio
import json
import logging
import os
import shutil
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salescore.database_server import database_url, migrate, release_embedded
from salescore.domain.errors import DomainError
from salescore.domain.integrations.imports import ImportFormat, ImportMode, ImportResource
from salescore.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI
    from uvicorn import Config

log = logging.getLogger("salescore")
WORKER_APP = "salescore.cli:worker_app"
# Tells the processes of `serve --processes N` whether to run the background worker too.
_IN_PROCESS_WORKER = "SALESCORE_SERVE_WITH_WORKER"


def _serve(settings: Settings, args: argparse.Namespace) -> None:
    """Serves until SIGTERM or Ctrl-C, then takes no new connections and gives the requests
    in flight `shutdown_grace_seconds` to finish before cancelling them. With
    `--processes` (or SALESCORE_PROCESSES) above 1, as many worker processes serve the one
    listening socket (see `_serve_processes`); with 1, this process serves alone. Each
    serving process also runs the background worker (webhook delivery, ...), unless
    `--no-worker`: then `salescore worker` processes must run beside it. Logs the
    database, the migrations applied and, once its socket is bound, the address."""
    from uvicorn import Server
    from uvicorn.config import STARTUP_FAILURE

    from salescore.api.app import create_app

    processes = settings.processes if args.processes is None else args.processes
    url = database_url(settings)
    migrate(url)
    host, port = args.host or settings.host, args.port or settings.port
    if processes > 1:
        os.environ[_IN_PROCESS_WORKER] = "0" if args.no_worker else "1"
        _serve_processes(settings, url, host=host, port=port, processes=processes)
        return
    config = _uvicorn_config(settings, create_app(settings, url, worker=not args.no_worker),
                             host=host, port=port)
    server = Server(config)
    listening = config.bind_socket()
    _log_serving(host, port, processes=1)
    server.run(sockets=[listening])
    if not server.started:
        raise SystemExit(STARTUP_FAILURE)


def _uvicorn_config(settings: Settings, app: "FastAPI | str", *, host: str, port: int,
                    **options: Any) -> "Config":
    """uvicorn's settings for `serve`: its protocol refuses request heads over the hard
    limits of api/request_heads.py with problem+json; its access log is off, as every
    request is logged once already, as JSON on `salescore.access` (api/metrics.py)."""
    from uvicorn import Config

    from salescore.api.request_heads import RequestHeads

    return Config(app, host=host, port=port, http=RequestHeads, log_level=settings.log_level,
                  access_log=False, proxy_headers=False,
                  timeout_graceful_shutdown=settings.shutdown_grace_seconds, **options)


def _log_serving(host: str, port: int, *, processes: int) -> None:
    address = f"[{host}]" if ":" in host else host
    across = "" if processes == 1 else f" with {processes} processes"
    log.info("serving http://%s:%d%s (docs at /docs)", address, port, across)


def _serve_processes(settings: Settings, url: str, *, host: str, port: int,
                     processes: int) -> None:
    """`processes` uvicorn workers on one socket bound here, each with its own app (its
    pool, caller cache and LISTEN connection, rate-limit buckets and login throttle).

    This process keeps the database: it started or joined the embedded server (`main`
    releases it), and the workers, which inherit its environment, get the URL as
    SALESCORE_DATABASE_URL, so none starts or registers a server of its own. The JWT key
    is made here, before any worker reads it, so all of them sign and check with the same
    one. SIGTERM or SIGINT here: uvicorn's supervisor sends SIGTERM to each worker, which
    stops taking connections, drains its requests within `shutdown_grace_seconds` and
    exits; then this returns, for an exit code 0. A worker that cannot start stops them
    all, with uvicorn's exit code for a failed start-up (3); one that dies later is
    replaced."""
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors import Multiprocess

    _ = settings.signing_secret  # generated now, if it is to be, not by racing workers
    os.environ["SALESCORE_DATABASE_URL"] = url
    _share_metrics(settings)
    config = _uvicorn_config(settings, WORKER_APP, host=host, port=port, factory=True,
                             workers=processes)

    class Supervisor(Multiprocess):
        def terminate_all(self) -> None:
            """Closes this process's copy of the socket first: the workers close theirs
            on SIGTERM, and a socket still open here would go on taking connections into
            its backlog, which no one would ever answer."""
            for listening in self.sockets:
                listening.close()
            super().terminate_all()

    supervisor = Supervisor(config, sockets=[config.bind_socket()])
    _log_serving(host, port, processes=processes)
    supervisor.run()
    if any(worker.exitcode == STARTUP_FAILURE for worker in supervisor.processes):
        raise SystemExit(STARTUP_FAILURE)


def _share_metrics(settings: Settings) -> None:
    """Each process of `serve --processes N` counts into files of one directory, which
    whichever process answers GET /metrics reads whole (prometheus-client's multiprocess
    mode): `<data dir>/metrics/`, emptied at each start, unless PROMETHEUS_MULTIPROC_DIR
    names another."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    shared = settings.data_dir / "metrics"
    shutil.rmtree(shared, ignore_errors=True)
    shared.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(shared)


def worker_app() -> "FastAPI":
    """The app of one `serve --processes N` worker, built in the worker from the settings
    of its environment, which must name the database (`serve` sets it): a worker never
    starts an embedded server. A failure here is a failed start-up (exit code 3), which
    stops `serve` rather than have the worker restarted to fail again."""
    from uvicorn.config import STARTUP_FAILURE

    from salescore.api.app import create_app

    try:
        settings = Settings()
        _configure_logging(settings)
        if not settings.database_url:
            raise RuntimeError("a worker needs SALESCORE_DATABASE_URL; `serve` sets it")
        return create_app(settings, settings.database_url,
                          worker=os.environ.get(_IN_PROCESS_WORKER, "1") == "1")
    except Exception as error:
        logging.getLogger("salescore").exception("the worker could not build its app")
        raise SystemExit(STARTUP_FAILURE) from error


def _worker(settings: Settings, args: argparse.Namespace) -> None:
    """Migrates, then runs the background loops (webhook delivery, ...) until SIGTERM or
    Ctrl-C; then lets the work in hand finish within `shutdown_grace_seconds`, gives
    back what is left (see workers/runner.py) and exits 0."""
    from salescore.api.v1.integrations.import_rows import ImportRowRules
    from salescore.workers.runner import run_worker

    url = database_url(settings)
    migrate(url)
    asyncio.run(run_worker(settings, url, import_rows=ImportRowRules()))


def _migrate(settings: Settings, args: argparse.Namespace) -> None:
    migrate(database_url(settings))


def openapi_text(settings: Settings) -> str:
    """The spec as committed in openapi/openapi.json (no database is touched)."""
    from salescore.api.app import create_app

    spec = create_app(settings, "postgresql+asyncpg://unused@localhost/unused").openapi()
    return json.dumps(spec, indent=2, sort_keys=True) + "\n"


def _openapi(settings: Settings, args: argparse.Namespace) -> None:
    text = openapi_text(settings.model_copy(update={"jwt_secret": "unused"}))
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(text)


def _create_organization(settings: Settings, args: argparse.Namespace) -> None:
    """The organization, its admin and API key, and unless `--empty` the starter setup of
    domain/sales/starter.py. An admin e-mail that a user of another organization has is
    refused unless `--allow-shared-email`."""
    from salescore.domain.access.organization import SharedEmail
    from salescore.domain.sales.starter import STARTER
    from salescore.repositories.database import make_engine, make_sessions
    from salescore.repositories.unit_of_work import UnitOfWork
    from salescore.services.access.organizations import create_organization

    url = database_url(settings)
    migrate(url)

    async def run() -> dict[str, object]:
        engine = make_engine(url, pool_size=1)
        try:
            made = await create_organization(
                UnitOfWork(make_sessions(engine)), name=args.name,
                admin_email=args.admin_email, admin_password=args.admin_password,
                currency=args.currency, starter=None if args.empty else STARTER,
                allow_shared_email=args.allow_shared_email)
        except SharedEmail as error:
            raise SharedEmail(f"{error.detail}; pass --allow-shared-email to share it "
                              "(logging in may then need client_id, the organization id), "
                              "or use another address") from None
        finally:
            await engine.dispose()
        return {"organization_id": made.organization.id, "user_id": made.admin_user_id,
                "api_key": made.api_key}

    print(json.dumps(asyncio.run(run())))


def _prune(settings: Settings, args: argparse.Namespace) -> None:
    from salescore.repositories.database import make_engine, make_sessions
    from salescore.repositories.unit_of_work import UnitOfWork
    from salescore.services.feed.events import prune_events
    from salescore.services.feed.idempotency import purge_keys

    url = database_url(settings)

    async def run() -> int:
        engine = make_engine(url, pool_size=1)
        now = datetime.now(UTC)
        try:
            uow = UnitOfWork(make_sessions(engine))
            await purge_keys(uow, now=now, ttl=timedelta(hours=settings.idempotency_ttl_hours))
            return await prune_events(uow, now=now,
                                      retention=timedelta(days=settings.event_retention_days))
        finally:
            await engine.dispose()

    print(json.dumps({"events_deleted": asyncio.run(run())}))


def _import(settings: Settings, args: argparse.Namespace) -> None:
    """Uploads a file to a running server, follows the import, exits with its outcome
    (see import_client.py for the codes)."""
    from salescore.import_client import ImportRequest, import_file, server_url

    api_key = args.api_key or os.environ.get("SALESCORE_API_KEY")
    if not api_key:
        print("salescore import: pass --api-key or set SALESCORE_API_KEY", file=sys.stderr)
        raise SystemExit(2)
    url = server_url(args.url or os.environ.get("SALESCORE_URL"), host=settings.host,
                     port=settings.port)
    request = ImportRequest(path=args.file, resource=args.resource, format=args.format,
                            mode=args.mode, validate_only=args.validate_only,
                            default_owner_id=args.default_owner_id)
    raise SystemExit(import_file(request, url=url, api_key=api_key))


def _at_least_one(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return number


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="salescore", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="migrate, then serve the API")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--processes", type=_at_least_one,
                       help="worker processes (default SALESCORE_PROCESSES, else 1)")
    serve.add_argument("--no-worker", action="store_true",
                       help="do not deliver webhooks or run other background work here "
                            "(run `salescore worker` for it)")
    serve.set_defaults(run=_serve)
    commands.add_parser(
        "worker", help="run the background work: webhook delivery, ..."
    ).set_defaults(run=_worker)
    commands.add_parser("migrate", help="apply the database migrations").set_defaults(
        run=_migrate)
    openapi = commands.add_parser("openapi", help="write the OpenAPI spec")
    openapi.add_argument("--output", default="openapi/openapi.json")
    openapi.set_defaults(run=_openapi)
    org = commands.add_parser("create-organization",
                              help="a new organization with an admin and an API key")
    org.add_argument("name")
    org.add_argument("--admin-email", required=True)
    org.add_argument("--admin-password", required=True)
    org.add_argument("--currency", default="NOK")
    org.add_argument("--empty", action="store_true",
                     help="no starter sales process, loss reasons or sources")
    org.add_argument("--allow-shared-email", action="store_true",
                     help="let the admin have an e-mail a user of another organization has")
    org.set_defaults(run=_create_organization)
    commands.add_parser(
        "prune", help="drop events past retention and expired idempotency keys"
    ).set_defaults(run=_prune)
    imports = commands.add_parser(
        "import", help="upload a CSV or NDJSON file to a running server and follow it")
    imports.add_argument("file", type=Path)
    imports.add_argument("--resource", required=True, choices=list(ImportResource))
    imports.add_argument("--mode", choices=list(ImportMode), default=ImportMode.PER_ROW)
    imports.add_argument("--format", choices=list(ImportFormat),
                         help="default: from the extension (.csv, .ndjson, .jsonl)")
    imports.add_argument("--validate-only", action="store_true",
                         help="check every row, write nothing")
    imports.add_argument("--default-owner-id", type=_at_least_one,
                         help="the owner of rows that name none (default: the caller)")
    imports.add_argument("--url", help="the server (default SALESCORE_URL, else "
                                       "http://SALESCORE_HOST:SALESCORE_PORT)")
    imports.add_argument("--api-key", help="an API key or token (default SALESCORE_API_KEY)")
    imports.set_defaults(run=_import)
    return root


def main(argv: list[str] | None = None) -> None:
    """Runs one command. SIGTERM (systemd, Docker, Kubernetes) stops it as Ctrl-C does, so
    `serve` drains its requests (uvicorn catches both while serving and raises the signal
    again once done; with `--processes`, uvicorn's supervisor catches them, stops the
    workers and returns), then ends as after Ctrl-C: exit code 0, the embedded server
    released."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    args = parser().parse_args(argv)
    settings = Settings()
    _configure_logging(settings)
    try:
        args.run(settings, args)
    except DomainError as error:
        print(json.dumps({"error": error.detail}), file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        pass
    finally:
        release_embedded()


def _configure_logging(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for noisy in ("pgserver", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
