"""ASGI middleware: request ids, the size limits, and idempotent POSTs."""

import asyncio
import hashlib
import secrets
from datetime import timedelta
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from salescore.api.deps import authenticate
from salescore.api.errors import BodyTooLarge, problem
from salescore.api.state import AppState
from salescore.domain.errors import DomainError
from salescore.repositories.unit_of_work import UnitOfWork
from salescore.services.feed.idempotency import Claim, claim_key, finish_key

REPLAYED = "idempotent-replayed"
URL_TOO_LONG = "the request's URL is longer than the service accepts"
HEADERS_TOO_LARGE = "the request's header fields are larger than the service accepts"
_KEPT_HEADERS = {"content-type", "location", "etag"}
MAX_KEY_LENGTH = 255


class RequestContext:
    """Gives each request an id (`X-Request-ID`, taken from the caller when sane) and refuses
    a target (path and query, as sent) over `max_url` bytes with 414, header fields over
    `max_headers` bytes (each counted as sent: name, value, ": " and CRLF) with 431, and
    bodies over `max_body` bytes (or the limit `larger` gives its path), whether announced
    by Content-Length or streamed, with 413. Heads too large to reach the app at all are
    refused by the server's protocol (request_heads.py).

    A request the server cancels because it is stopping (still running when the SIGTERM
    grace period ends) is answered 503 problem+json with `Retry-After`, not the server's
    bare-text 500: its transaction was rolled back unless it had already committed, and an
    `Idempotency-Key` it carried is free for the retry. One whose answer had begun is cut
    off, as only a closed connection can tell the client then."""

    def __init__(self, app: ASGIApp, max_body: int,
                 larger: tuple[tuple[str, int], ...] = (), *, max_url: int,
                 max_headers: int) -> None:
        """`larger`: path prefixes whose requests may carry bodies up to their own limit."""
        self.app = app
        self.max_body = max_body
        self.larger = larger
        self.max_url = max_url
        self.max_headers = max_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given, length, header_bytes = _request_id_and_length(scope["headers"])
        request_id = given if 0 < len(given) <= 64 and given.isascii() else secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = request_id
        refusal = _head_refusal(scope, header_bytes, max_url=self.max_url,
                                max_headers=self.max_headers)
        if refusal is not None:
            await problem(*refusal, request=Request(scope), headers={
                "Connection": "close", "X-Request-ID": request_id})(scope, receive, send)
            return
        limit = next((size for prefix, size in self.larger
                      if scope["path"].startswith(prefix)), self.max_body)
        if length is not None and length.isdigit() and int(length) > limit:
            await problem(413, "the request body is larger than the service accepts",
                          request=Request(scope))(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge()
            return message

        answering = False

        async def send_with_id(message: Message) -> None:
            nonlocal answering
            if message["type"] == "http.response.start":
                answering = True
                message["headers"] = [*message.get("headers", []),
                                      (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_id)
        except asyncio.CancelledError:
            if not answering:
                await problem(503, "the service stopped before this request finished;"
                                   " send it again", request=Request(scope),
                              headers={"Retry-After": "5", "Connection": "close"},
                              )(scope, receive, send_with_id)
            raise


def _request_id_and_length(raw: list[tuple[bytes, bytes]]) -> tuple[str, str | None, int]:
    """`X-Request-ID` ("" if none) and `Content-Length`, the first of each as Starlette's
    `Headers.get` would give them, and the size of the header fields as sent, in one pass
    over the raw headers (their names come lower-cased, as ASGI requires)."""
    given: str | None = None
    length: str | None = None
    size = 0
    for name, value in raw:
        size += len(name) + len(value) + 4
        if name == b"x-request-id" and given is None:
            given = value.decode("latin-1")
        elif name == b"content-length" and length is None:
            length = value.decode("latin-1")
    return given or "", length, size


def _head_refusal(scope: Scope, header_bytes: int, *, max_url: int,
                  max_headers: int) -> tuple[int, str] | None:
    """414 for a target over `max_url` bytes, else 431 for header fields over
    `max_headers`; None for a head within both."""
    path: bytes = scope.get("raw_path") or scope["path"].encode()
    query: bytes = scope.get("query_string", b"")
    target = len(path) + (len(query) + 1 if query else 0)  # the "?" too
    if target > max_url:
        return 414, f"{URL_TOO_LONG}: at most {max_url} bytes of path and query"
    if header_bytes > max_headers:
        return 431, f"{HEADERS_TOO_LARGE}: at most {max_headers} bytes"
    return None


class Idempotency:
    """`Idempotency-Key` on a POST: the first answer is kept per caller and route and
    replayed for the caller's retry with the same body (see services/feed/idempotency.py
    for the rules). A credential that no longer works gets the route's own 401. The
    `streamed` paths, whose bodies are too large to hold, take the key themselves."""

    def __init__(self, app: ASGIApp, streamed: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.streamed = streamed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] != "POST"  # a lifespan has no headers
                or scope["path"] in self.streamed):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        key = headers.get("idempotency-key")
        if key is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if not 0 < len(key) <= MAX_KEY_LENGTH:
            await problem(422, "Idempotency-Key must have 1 to 255 characters",
                          request=request)(scope, receive, send)
            return
        state: AppState = scope["app"].state.salescore
        try:
            caller = await authenticate(state, headers.get("authorization"))
        except DomainError:
            await self.app(scope, receive, send)  # the route answers 401 itself
            return
        scope["state"]["caller"] = caller
        try:
            body = await _read_body(receive)
        except BodyTooLarge:
            await problem(413, "the request body is larger than the service accepts",
                          request=request)(scope, receive, send)
            return
        digest = hashlib.sha256(
            b"\n".join([scope["path"].encode(), scope.get("query_string", b""), body])).digest()
        uow = UnitOfWork(state.sessions)
        ttl = timedelta(hours=state.settings.idempotency_ttl_hours)
        route = f"POST {scope['path']}"
        claim, replay = await claim_key(uow, caller=caller, route=route, key=key,
                                        request_hash=digest, ttl=ttl)
        if claim is Claim.MISMATCH:
            await problem(422, "this Idempotency-Key was used with another request body",
                          request=request)(scope, receive, send)
            return
        if claim is Claim.IN_FLIGHT:
            await problem(409, "a request with this Idempotency-Key is still running",
                          request=request)(scope, receive, send)
            return
        if replay is not None:
            await _send_replay(send, replay.status_code, replay.headers, replay.body)
            return
        captured: dict[str, Any] = {"status": 500, "headers": {}, "body": bytearray()}

        async def replay_body() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = {
                    k.decode().lower(): v.decode() for k, v in message.get("headers", [])
                    if k.decode().lower() in _KEPT_HEADERS}
            elif message["type"] == "http.response.body":
                captured["body"].extend(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_body, capture)
        finally:
            await finish_key(uow, caller=caller, route=route, key=key,
                             status_code=captured["status"], headers=captured["headers"],
                             body=bytes(captured["body"]))


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _send_replay(send: Send, status: int, headers: dict[str, str], body: bytes) -> None:
    raw = [(k.encode(), v.encode()) for k, v in headers.items()]
    raw += [(REPLAYED.encode(), b"true"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


