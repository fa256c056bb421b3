"""The e-mail loop: a queued quote e-mail handed to an SMTP server (one in this process,
aiosmtpd), or written to the outbox without one; retried by the schedule, then failed."""

import asyncio
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from fastapi import FastAPI
from httpx import AsyncClient

from salescore.settings import Settings
from salescore.workers.mail import mail_loop, send_due_emails, smtp_server
from tests.factories import Tenant
from tests.opportunity_factories import World, sql
from tests.quote_flow import make_draft, quote_world, send
from tests.workers.contexts import context_of

TO, CC = "kunde@bergen.test", "boss@bergen.test"


class Inbox:
    """An SMTP server's handler: keeps what it is given, refuses the `refused` addresses."""

    def __init__(self, refused: frozenset[str] = frozenset(), hold: float = 0) -> None:
        self.envelopes: list[Envelope] = []
        self.refused = refused
        self.hold = hold

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if address in self.refused:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        await asyncio.sleep(self.hold)
        self.envelopes.append(envelope)
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def smtp_on(handler: Inbox, **options: Any) -> Iterator[str]:
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{controller.port}"
    finally:
        controller.stop()


@pytest.fixture
def inbox() -> Inbox:
    return Inbox(refused=frozenset({"nobody@bergen.test"}))


@pytest.fixture
def smtp_url(inbox: Inbox) -> Iterator[str]:
    with smtp_on(inbox) as url:
        yield url


@pytest.fixture
async def world(app: FastAPI, tenant: Tenant) -> World:
    return await quote_world(app, tenant)


async def sent_by_email(client: AsyncClient, app: FastAPI, tenant: Tenant, world: World,
                        to: list[str], cc: list[str]) -> tuple[dict[str, Any], int]:
    draft = await make_draft(client, app, tenant, world)
    sent = await send(client, tenant, draft["id"], email={"to": to, "cc": cc})
    return sent, (await emails_of(client, tenant, sent))[0]["id"]


async def emails_of(client: AsyncClient, tenant: Tenant,
                    sent: dict[str, Any]) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/quotes/{sent['id']}/emails", headers=tenant.admin)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["data"]
    return found


def part(message: Message, content_type: str) -> bytes:
    found = next(p for p in message.walk() if p.get_content_type() == content_type)
    payload = found.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload


async def test_an_email_reaches_the_smtp_server_with_its_link_and_pdf(
        client: AsyncClient, app: FastAPI, settings: Settings, tenant: Tenant, world: World,
        inbox: Inbox, smtp_url: str):
    sent, email_id = await sent_by_email(client, app, tenant, world, [TO], [CC])
    context = context_of(app, settings, smtp_url=smtp_url, mail_from="quotes@seller.test")
    assert await send_due_emails(context, server=smtp_server(smtp_url)) >= 1
    [envelope] = [e for e in inbox.envelopes if sent["public_url"].encode() in
                  part(message_from_bytes(e.original_content or b""), "text/plain")]
    assert envelope.mail_from == "quotes@seller.test"
    assert envelope.rcpt_tos == [TO, CC]
    message = message_from_bytes(envelope.original_content or b"")
    assert message["Subject"].startswith(f"Quote {sent['number']} from ")
    assert (message["To"], message["Cc"]) == (TO, CC)
    assert part(message, "application/pdf").startswith(b"%PDF")
    page = await client.get(urlsplit(sent["public_url"]).path)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    [email] = await emails_of(client, tenant, sent)
    assert (email["status"], email["error"]) == ("sent", None) and email["sent_at"]
    assert await sql(app, "SELECT message IS NULL FROM quote_emails WHERE id = :id",
                     id=email_id) is True


async def test_without_an_smtp_server_the_message_lands_in_the_outbox(
        client: AsyncClient, app: FastAPI, settings: Settings, tenant: Tenant, world: World,
        tmp_path: Path):
    sent, email_id = await sent_by_email(client, app, tenant, world, [TO], [])
    await send_due_emails(context_of(app, settings, smtp_url=None, data_dir=tmp_path))
    written = tmp_path / "outbox" / f"{tenant.organization_id}-{email_id}.eml"
    message = message_from_bytes(written.read_bytes())
    assert sent["public_url"].encode() in part(message, "text/plain")
    assert part(message, "application/pdf").startswith(b"%PDF")
    assert [p.name for p in written.parent.iterdir() if p.name.startswith(".")] == []
    [email] = await emails_of(client, tenant, sent)
    assert email["status"] == "sent"


async def test_a_refusing_server_is_tried_by_the_schedule_then_the_email_fails(
        client: AsyncClient, app: FastAPI, settings: Settings, tenant: Tenant, world: World,
        smtp_url: str):
    sent, email_id = await sent_by_email(client, app, tenant, world,
                                         ["nobody@bergen.test"], [])
    context = context_of(app, settings, webhook_retry_schedule="0,60,600")
    server = smtp_server(smtp_url)
    start = datetime.now(UTC) + timedelta(seconds=1)

    async def attempt_at(seconds: int) -> tuple[int, str | None, str]:
        await send_due_emails(context, server=server, clock=lambda: start + timedelta(
            seconds=seconds))
        [email] = await emails_of(client, tenant, sent)
        attempts = await sql(app, "SELECT attempts FROM quote_emails WHERE id = :id",
                             id=email_id)
        return attempts, email["error"], email["status"]

    attempts, error, status = await attempt_at(0)
    assert (attempts, status) == (1, "queued") and error is not None and "550" in error
    assert await attempt_at(59) == (1, error, "queued")  # not due yet
    assert (await attempt_at(60))[::2] == (2, "queued")
    assert (await attempt_at(60 + 599))[::2] == (2, "queued")
    attempts, error, status = await attempt_at(60 + 600)
    assert (attempts, status) == (3, "failed") and "550" in (error or "")
    assert await sql(app, "SELECT message IS NULL FROM quote_emails WHERE id = :id",
                     id=email_id) is True
    assert await attempt_at(100_000) == (3, error, "failed")


async def test_an_unreachable_server_counts_as_a_failed_attempt(
        client: AsyncClient, app: FastAPI, settings: Settings, tenant: Tenant, world: World):
    sent, _ = await sent_by_email(client, app, tenant, world, [TO], [])
    closed = f"smtp://127.0.0.1:{free_port()}"
    context = context_of(app, settings, webhook_retry_schedule="0,60")
    await send_due_emails(context, server=smtp_server(closed))
    [email] = await emails_of(client, tenant, sent)
    assert email["status"] == "queued" and email["error"]


async def test_recipients_refused_beside_accepted_ones_are_noted_on_a_sent_email(
        client: AsyncClient, app: FastAPI, settings: Settings, tenant: Tenant, world: World,
        inbox: Inbox, smtp_url: str):
    sent, _ = await sent_by_email(client, app, tenant, world, [TO], ["nobody@bergen.test"])
    await send_due_emails(context_of(app, settings), server=smtp_server(smtp_url))
    [email] = await emails_of(client, tenant, sent)
    assert email["status"] == "sent"
    assert email["error"].startswith("refused: nobody@bergen.test (550")


async def test_a_password_is_never_sent_to_a_server_without_starttls(
        client: AsyncClient, app: FastAPI, settings: Settings, tenant: Tenant, world: World):
    """The loop runs until stopped; with credentials in the URL and a server that offers
    no STARTTLS, the attempt fails and the password never leaves in the clear."""
    logins: list[tuple[bytes, bytes]] = []

    def authenticate(server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                     data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password))
        return AuthResult(success=True)

    inbox = Inbox()
    with smtp_on(inbox, authenticator=authenticate, auth_require_tls=False) as url:
        sent, _ = await sent_by_email(client, app, tenant, world, [TO], [])
        with_login = url.replace("smtp://", "smtp://mailer%40seller:p%3Ass@")
        context = context_of(app, settings, smtp_url=with_login, worker_poll_seconds=0.05)
        stopping = asyncio.Event()
        loop = asyncio.create_task(mail_loop(context, stopping))
        for _ in range(200):
            if (await emails_of(client, tenant, sent))[0]["error"]:
                break
            await asyncio.sleep(0.05)
        stopping.set()
        await asyncio.wait_for(loop, 5)
        [email] = await emails_of(client, tenant, sent)
        assert email["status"] == "queued" and "STARTTLS" in email["error"].upper()
        assert logins == [] and inbox.envelopes == []


async def test_a_message_whose_sending_is_cancelled_is_put_back_uncounted(
        client: AsyncClient, app: FastAPI, settings: Settings, tenant: Tenant, world: World,
        tmp_path: Path):
    await send_due_emails(context_of(app, settings, data_dir=tmp_path))  # others' leftovers
    with smtp_on(Inbox(hold=3)) as url:
        sent, email_id = await sent_by_email(client, app, tenant, world, [TO], [])
        sending = asyncio.create_task(send_due_emails(context_of(app, settings),
                                                      server=smtp_server(url)))
        for _ in range(200):
            if await sql(app, "SELECT attempts FROM quote_emails WHERE id = :id", id=email_id):
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("the message was not taken")
        await asyncio.sleep(0.2)  # in the middle of the conversation with the server
        sending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sending
    assert await sql(app, "SELECT attempts = 0 AND next_attempt_at <= now() AND message IS "
                          "NOT NULL FROM quote_emails WHERE id = :id", id=email_id) is True
    assert (await emails_of(client, tenant, sent))[0]["status"] == "queued"


def test_the_smtp_url_names_the_server_ports_and_tls():
    plain = smtp_server("smtp://relay.local")
    assert (plain.hostname, plain.port, plain.username, plain.implicit_tls) == (
        "relay.local", 587, None, False)
    secure = smtp_server("smtps://u%20x:p%40w@mail.test")
    assert (secure.port, secure.username, secure.password, secure.implicit_tls) == (
        465, "u x", "p@w", True)
    assert smtp_server("smtp://mail.test:2525").port == 2525
    for bad in ("http://mail.test", "smtp://", "mail.test:25"):
        with pytest.raises(ValueError):
            smtp_server(bad)
