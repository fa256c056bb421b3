"""Sending one webhook message: the SSRF guard (through an injected resolver), the
connection pinned to the checked address, signatures, what is kept of an answer."""

import asyncio
import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from ipaddress import ip_address

import httpx
import pytest
from standardwebhooks import Webhook

from salescore import __version__
from salescore.services.integrations.guard import Address, Refused, Resolver, pin
from salescore.services.integrations.sending import Message, Sender, signed_headers
from tests.workers.receiver import Answer, Receiver, receiving

SECRET = "whsec_" + base64.b64encode(b"s" * 32).decode()
OLD = "whsec_" + base64.b64encode(b"o" * 32).decode()
MESSAGE = Message("123", b'{"id":123}', (SECRET,))
PUBLIC = "93.184.216.34"


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with receiving() as running:
        yield running


def resolving_to(*addresses: str) -> Resolver:
    async def resolve(host: str, port: int) -> list[Address]:
        return [ip_address(a) for a in addresses]

    return resolve


class Recording(httpx.AsyncBaseTransport):
    """A transport that answers `answer` and keeps what it was asked."""

    def __init__(self, answer: httpx.Response | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.answer = answer or httpx.Response(200, content=b"ok")

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.answer.status_code, headers=self.answer.headers,
                              content=self.answer.content)


REFUSED = [
    ("127.0.0.1", "a loopback address"), ("::1", "a loopback address"),
    ("10.1.2.3", "a private address"), ("192.168.0.10", "a private address"),
    ("172.16.5.4", "a private address"), ("fd12::1", "a private address"),
    ("169.254.1.1", "a link-local address"), ("fe80::1", "a link-local address"),
    ("169.254.169.254", "the cloud metadata address"),
    ("100.64.0.1", "a carrier-grade NAT address"),
    ("224.0.0.1", "a multicast address"), ("ff02::1", "a multicast address"),
    ("240.0.0.1", "a reserved address"), ("0.0.0.0", "an unspecified address"),
    ("::ffff:127.0.0.1", "an IPv4-mapped IPv6 address"),
]


@pytest.mark.parametrize(("address", "reason"), REFUSED)
async def test_a_refused_address_is_an_attempt_that_connects_nowhere(
        address: str, reason: str) -> None:
    transport = Recording()
    async with Sender(allow_private=False, resolver=resolving_to(address),
                      transport=transport) as sender:
        result = await sender.send("https://hooks.example.com/in", MESSAGE)
    assert result.error == f"refused: {reason}" and result.status_code is None
    assert transport.requests == [] and not result.succeeded


async def test_a_name_resolving_to_loopback_is_refused_and_not_contacted(
        receiver: Receiver) -> None:
    path = "/never"
    receiver.expect(path, [SECRET])
    url = f"https://receiver.test:{receiver.port}{path}"
    async with Sender(allow_private=False, resolver=resolving_to("127.0.0.1")) as sender:
        result = await sender.send(url, MESSAGE)
    assert result.error == "refused: a loopback address"
    assert receiver.received(path) == []


async def test_one_refused_address_among_public_ones_refuses_the_host() -> None:
    transport = Recording()
    async with Sender(allow_private=False, resolver=resolving_to(PUBLIC, "10.0.0.1"),
                      transport=transport) as sender:
        result = await sender.send("https://hooks.example.com/in", MESSAGE)
    assert result.error == "refused: a private address" and transport.requests == []


async def test_the_metadata_address_is_refused_even_where_private_networks_are_allowed(
        ) -> None:
    transport = Recording()
    async with Sender(allow_private=True, resolver=resolving_to("169.254.169.254"),
                      transport=transport) as sender:
        result = await sender.send("http://metadata.internal/latest", MESSAGE)
    assert result.error == "refused: the cloud metadata address" and transport.requests == []


async def test_http_is_refused_unless_private_networks_are_allowed() -> None:
    transport = Recording()
    async with Sender(allow_private=False, resolver=resolving_to(PUBLIC),
                      transport=transport) as sender:
        result = await sender.send("http://hooks.example.com/in", MESSAGE)
    assert result.error == "refused: an http:// URL (only https:// is allowed)"
    assert transport.requests == []


async def test_the_request_goes_to_the_checked_address_under_the_original_name() -> None:
    transport = Recording(httpx.Response(200, content=b"x" * 3000))
    async with Sender(allow_private=False, resolver=resolving_to(PUBLIC),
                      transport=transport) as sender:
        result = await sender.send("https://hooks.example.com:8443/in?x=1", MESSAGE)
    [request] = transport.requests
    assert str(request.url) == f"https://{PUBLIC}:8443/in?x=1"
    assert request.headers["host"] == "hooks.example.com:8443"
    assert request.extensions["sni_hostname"] == "hooks.example.com"
    assert request.headers["user-agent"] == f"salescore-webhooks/{__version__}"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] == "123" and request.content == MESSAGE.body
    assert result.succeeded and result.response_excerpt == "x" * 1024  # a public address


async def test_an_ipv6_address_is_put_in_brackets() -> None:
    pinned = await pin("https://hooks.example.com/in", resolver=resolving_to("2606:4700::1"),
                       allow_private=False)
    assert str(pinned.url) == "https://[2606:4700::1]/in"
    assert pinned.host_header == "hooks.example.com" and pinned.public
    literal = await pin("http://[::1]:9000/x", resolver=resolving_to(), allow_private=True)
    assert literal.host_header == "[::1]:9000" and literal.sni_hostname is None
    assert not literal.public


async def test_a_host_that_is_no_valid_address_is_refused() -> None:
    with pytest.raises(Refused):
        await pin("https://1.2.3.999/x", resolver=resolving_to(PUBLIC), allow_private=False)


async def test_a_redirect_is_not_followed(receiver: Receiver) -> None:
    path, elsewhere = "/redirecting", "/elsewhere"
    receiver.expect(path, [SECRET], lambda _: Answer(302, {"Location": elsewhere}))
    receiver.expect(elsewhere, [SECRET])
    async with Sender(allow_private=True) as sender:
        result = await sender.send(receiver.url(path), MESSAGE)
    assert result.status_code == 302 and not result.succeeded
    assert len(receiver.received(path)) == 1 and receiver.received(elsewhere) == []
    assert result.response_excerpt is None  # a private address: nothing of it is kept


async def test_a_name_is_resolved_once_and_sent_to_under_its_own_host_header(
        receiver: Receiver) -> None:
    path = "/named"
    receiver.expect(path, [SECRET], lambda _: Answer(429, {"Retry-After": "7"}))
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[Address]:
        asked.append(f"{host}:{port}")
        return [ip_address("127.0.0.1")]

    async with Sender(allow_private=True, resolver=resolve) as sender:
        result = await sender.send(f"http://receiver.test:{receiver.port}{path}", MESSAGE)
    [message] = receiver.received(path)
    assert message.headers["host"] == f"receiver.test:{receiver.port}"
    assert asked == [f"receiver.test:{receiver.port}"]
    assert result.status_code == 429 and result.retry_after == "7"


async def test_a_host_with_no_address_is_a_failed_attempt() -> None:
    async with Sender(allow_private=False, resolver=resolving_to()) as sender:
        result = await sender.send("https://nowhere.example.com/", MESSAGE)
    assert result.error == "nowhere.example.com has no address"


def test_every_secret_given_signs_and_each_signature_verifies() -> None:
    headers = signed_headers(Message("9", b'{"a":1}', (SECRET, OLD)), datetime.now(UTC))
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (SECRET, OLD):
        Webhook(secret).verify(b'{"a":1}', headers)


def test_the_timestamp_is_the_second_of_sending() -> None:
    now = datetime(2030, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    headers = signed_headers(MESSAGE, now)
    assert headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert headers["webhook-signature"] == Webhook(SECRET).sign(
        "123", now.replace(microsecond=0), MESSAGE.body)


class Holding(httpx.AsyncBaseTransport):
    """A transport that holds every request until let go, counting how many it holds."""

    def __init__(self) -> None:
        self.held = 0
        self.most = 0
        self.go = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.held += 1
        self.most = max(self.most, self.held)
        await self.go.wait()
        self.held -= 1
        return httpx.Response(200, content=b"ok")


async def test_no_more_attempts_run_at_once_than_the_concurrency() -> None:
    """Each attempt takes a client of its own (one connection each) and gives it back."""
    transport = Holding()
    async with Sender(allow_private=False, resolver=resolving_to(PUBLIC), concurrency=3,
                      transport=transport) as sender:
        sending = [asyncio.create_task(sender.send("https://erp.example.com/hook", MESSAGE))
                   for _ in range(8)]
        for _ in range(50):
            await asyncio.sleep(0.01)
        assert (transport.held, transport.most) == (3, 3)
        transport.go.set()
        results = await asyncio.gather(*sending)
    assert [r.status_code for r in results] == [200] * 8 and transport.most == 3
