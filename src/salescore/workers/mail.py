"""The e-mail loop: hands the queued quote e-mails over, one at a time, until none is due.

- With `SALESCORE_SMTP_URL`, through that server: `smtp://[user:pass@]host[:port]` (port
  587 by default) upgrades to TLS with STARTTLS whenever the server offers it, and sends in
  the clear to one that does not (a relay on the local network); `smtps://` (port 465 by
  default) speaks TLS from the start. User and password are percent-decoded and used only
  when given. The envelope is from `SALESCORE_MAIL_FROM`, to the message's To and Cc. A
  URL of another scheme, or without a host, fails the loop as it starts (logged).
- Without it, each message is written as `<data dir>/outbox/<organization>-<id>.eml`
  (whole or not at all: it is written beside, then renamed), so a local install works.
- A message is taken for at most `LEASE` (services/quotes/mail.py): a worker that dies
  with it lets it go then, the attempt counted; one cancelled while sending (stopped past
  its grace period) puts it back, uncounted, due at once (it may then reach its
  recipients twice: delivery is at least once). Success, failure and the retry schedule
  (`SALESCORE_WEBHOOK_RETRY_SCHEDULE`) are as domain/quotes/emails.py has them; a server
  that takes the message for some recipients and refuses others has sent it, and the
  refused ones are kept as its `error`.
- The loop looks for due messages every `worker_poll_seconds`; once `stopping` is set it
  finishes the message in hand and returns."""

import asyncio
import contextlib
import logging
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

import aiosmtplib

from salescore.domain.quotes.emails import OutgoingEmail
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.quotes.mail import (
    claim_email,
    email_failed,
    email_sent,
    release_email,
)
from salescore.settings import Settings
from salescore.workers.context import WorkerContext
from salescore.workers.scheduler import Clock, utc_now

log = logging.getLogger("salescore.mail")
LEASE = timedelta(minutes=10)
SMTP_TIMEOUT_SECONDS = 60.0
DEFAULT_PORTS = {"smtp": 587, "smtps": 465}


@dataclass(frozen=True, slots=True)
class SmtpServer:
    hostname: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool


def smtp_server(url: str) -> SmtpServer:
    """Where `SALESCORE_SMTP_URL` sends; ValueError for a URL that names no SMTP server."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError("SALESCORE_SMTP_URL must be smtp://[user:pass@]host[:port] or "
                         "smtps://...")
    return SmtpServer(hostname=parts.hostname, port=parts.port or DEFAULT_PORTS[parts.scheme],
                      username=unquote(parts.username) if parts.username else None,
                      password=unquote(parts.password) if parts.password else None,
                      implicit_tls=parts.scheme == "smtps")


async def hand_over(email: OutgoingEmail, settings: Settings,
                    server: SmtpServer | None) -> str | None:
    """Send the message, or write it to the outbox without a server; raises when that
    fails. Returns the recipients a server refused while taking it for the others."""
    if server is None:
        await asyncio.to_thread(_write_outbox, settings.data_dir / "outbox", email)
        return None
    refused, _ = await aiosmtplib.send(
        email.message, sender=settings.mail_from, recipients=list(email.recipients),
        hostname=server.hostname, port=server.port, username=server.username,
        password=server.password, use_tls=server.implicit_tls,
        start_tls=_start_tls(server), timeout=SMTP_TIMEOUT_SECONDS)
    if not refused:
        return None
    return "refused: " + "; ".join(f"{address} ({answer.code} {answer.message})"
                                   for address, answer in refused.items())


def _start_tls(server: SmtpServer) -> bool | None:
    """STARTTLS when the server offers it; required (a server that does not offer it
    fails the attempt) when there is a password to send, which never goes in the clear;
    not with smtps://, which is TLS from the start."""
    if server.implicit_tls:
        return False
    return True if server.password else None


def _write_outbox(outbox: Path, email: OutgoingEmail) -> None:
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / f"{email.organization_id}-{email.id}.eml"
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_bytes(email.message)
    os.replace(partial, path)


def _error_text(error: Exception) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


async def send_due_emails(context: WorkerContext, *, clock: Clock = utc_now,
                          server: SmtpServer | None = None,
                          stopping: asyncio.Event | None = None) -> int:
    """Hand over every message due now, one at a time, until none is due (or `stopping`
    is set); how many were tried."""
    tried = 0
    while stopping is None or not stopping.is_set():
        uow = UnitOfWork(context.sessions)
        email = await claim_email(uow, now=clock(), lease=LEASE)
        if email is None:
            return tried
        tried += 1
        try:
            note = await hand_over(email, context.settings, server)
        except asyncio.CancelledError:  # stopped past the grace period: put it back
            await release_email(uow, email, now=clock())
            raise
        except Exception as error:  # every failure is retried by the schedule
            again = await email_failed(uow, email, error=_error_text(error), now=clock(),
                                       schedule=context.settings.retry_schedule())
            log.warning("quote e-mail %s/%s failed (attempt %s), %s: %s",
                        email.organization_id, email.id, email.attempts,
                        f"again at {again.isoformat()}" if again else "given up", error)
        else:
            await email_sent(uow, email, now=clock(), note=note)
    return tried


async def mail_loop(context: WorkerContext, stopping: asyncio.Event, *,
                    clock: Clock = utc_now) -> None:
    """Send the due quote e-mails every `worker_poll_seconds` until `stopping` is set."""
    url = context.settings.smtp_url
    server = smtp_server(url) if url else None
    while not stopping.is_set():
        try:
            await send_due_emails(context, clock=clock, server=server, stopping=stopping)
        except Exception:  # the database away, say: try again at the next poll
            log.exception("the e-mail loop could not send the due e-mails")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), context.settings.worker_poll_seconds)
